// Replica arithmetic of the canary (see replica_math.h).
#include "engine/replica_math.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace sluice::engine {
namespace {

int ceilDiv(long long a, long long b) { return static_cast<int>((a + b - 1) / b); }

}  // namespace

CanaryStableCounts approximateWeightedCounts(int replicas, int weight, int maxSurge) {
  if (replicas <= 0) return {};
  if (weight <= 0) return {0, replicas};
  if (weight >= 100) return {replicas, 0};
  const bool zeroAllowed = replicas == 1 && maxSurge == 0;
  std::vector<CanaryStableCounts> candidates;
  // Totals up to replicas + 1 (2^31 at most): counted in 64 bits; each count fits an int again since
  // 0 < weight < 100 splits the total in two.
  auto consider = [&](long long total) {
    const long long share = total * weight;
    for (int canary : {ceilDiv(share, 100), static_cast<int>(share / 100)}) {
      const int stable = static_cast<int>(total - canary);
      if (!zeroAllowed && (canary == 0 || stable == 0)) continue;
      candidates.push_back({canary, stable});
    }
  };
  consider(replicas);
  if (maxSurge > 0) consider(static_cast<long long>(replicas) + 1);
  if (candidates.empty()) return {0, replicas};  // only reachable with a single pod and no surge
  // Compare |canary/total - weight/100| exactly: |100*canary - weight*total| / total, cross-multiplied.
  auto better = [weight](const CanaryStableCounts& a, const CanaryStableCounts& b) {
    const long long totalA = static_cast<long long>(a.canary) + a.stable;
    const long long totalB = static_cast<long long>(b.canary) + b.stable;
    const long long deltaA = std::llabs(100LL * a.canary - weight * totalA) * totalB;
    const long long deltaB = std::llabs(100LL * b.canary - weight * totalB) * totalA;
    if (deltaA != deltaB) return deltaA < deltaB;
    return a.canary > b.canary;
  };
  return *std::min_element(candidates.begin(), candidates.end(), better);
}

CanaryStableCounts nextBasicCanaryCounts(const BasicCanaryScaling& in) {
  const CanaryStableCounts desired = approximateWeightedCounts(in.replicas, in.weight, in.maxSurge);
  CanaryStableCounts next{in.canary.specReplicas, in.stable.specReplicas};

  // In 64 bits: spec.replicas and the surge may each be near 2^31.
  long long scaleUp = static_cast<long long>(in.replicas) + in.maxSurge -
                      (static_cast<long long>(next.canary) + next.stable + in.oldSpecReplicas);
  if (scaleUp > 0 && next.stable < desired.stable) {
    const int grow = static_cast<int>(std::min<long long>(desired.stable - next.stable, scaleUp));
    next.stable += grow;
    scaleUp -= grow;
  }
  if (scaleUp > 0 && next.canary < desired.canary)
    next.canary += static_cast<int>(std::min<long long>(desired.canary - next.canary, scaleUp));

  if (in.oldSpecReplicas > 0) return next;  // older ReplicaSets drain before canary or stable shrink

  const int minAvailable = in.replicas - in.maxUnavailable;  // maxUnavailable is at most replicas
  // Shrinks `count` toward `target` while the pods still available stay at minAvailable or more.
  auto shrink = [minAvailable](int count, int target, int available, int otherAvailable) {
    if (count <= target) return count;
    const int availableNow = std::min(available, count);
    const int floor = std::min(availableNow, std::max(0, minAvailable - otherAvailable));
    return std::max(target, floor);
  };
  const int canaryAvailable = std::min(in.canary.available, next.canary);
  const int stableAvailable = std::min(in.stable.available, next.stable);
  if (desired.canary >= in.canary.specReplicas) {
    next.stable = shrink(next.stable, desired.stable, in.stable.available, canaryAvailable);
  } else {
    next.canary = shrink(next.canary, desired.canary, in.canary.available, stableAvailable);
  }
  return next;
}

int oldReplicaSetScaleDownBudget(int replicas, int maxUnavailable, int totalAvailable) {
  return std::max(0, totalAvailable - (replicas - maxUnavailable));
}

int canaryReplicasForWeight(int replicas, int weight, int maxWeight) {
  if (maxWeight <= 0 || weight <= 0) return 0;
  return std::min(replicas, ceilDiv(static_cast<long long>(replicas) * weight, maxWeight));
}

}  // namespace sluice::engine
