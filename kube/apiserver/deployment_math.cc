// The pure scaling decisions of the embedded cluster's workload controllers (see deployment_math.h).
#include "kube/apiserver/deployment_math.h"

#include <algorithm>
#include <numeric>
#include <tuple>

#include "base/int_or_percent.h"

namespace sluice::apiserver {

std::optional<int> scaledIntOrPercent(const nlohmann::json& value, int total, bool roundUp) {
  auto parsed = IntOrPercent::fromJson(value);
  if (!parsed) return std::nullopt;
  return parsed->resolve(total, roundUp);
}

Fenceposts resolveFenceposts(const nlohmann::json& maxSurge, const nlohmann::json& maxUnavailable,
                             int replicas) {
  const nlohmann::json byDefault = "25%";
  Fenceposts f;
  f.maxSurge = scaledIntOrPercent(maxSurge.is_null() ? byDefault : maxSurge, replicas, true).value_or(0);
  f.maxUnavailable =
      scaledIntOrPercent(maxUnavailable.is_null() ? byDefault : maxUnavailable, replicas, false).value_or(0);
  if (f.maxSurge == 0 && f.maxUnavailable == 0) f.maxUnavailable = 1;
  return f;
}

int rollingNewReplicas(int replicas, int maxSurge, int newSpecReplicas, int allSpecReplicas) {
  if (newSpecReplicas >= replicas) return replicas;
  const int maxTotal = replicas + maxSurge;
  if (allSpecReplicas >= maxTotal) return newSpecReplicas;
  return newSpecReplicas + std::min(maxTotal - allSpecReplicas, replicas - newSpecReplicas);
}

std::vector<int> rollingOldReplicas(int replicas, int maxUnavailable, const std::vector<ReplicaSetState>& old,
                                    const ReplicaSetState& newRs) {
  std::vector<int> next;
  next.reserve(old.size());
  int oldSpec = 0;
  int allAvailable = newRs.availableReplicas;
  for (const auto& rs : old) {
    next.push_back(rs.specReplicas);
    oldSpec += rs.specReplicas;
    allAvailable += rs.availableReplicas;
  }
  if (oldSpec == 0) return next;
  const int minAvailable = replicas - maxUnavailable;
  const int newUnavailable = std::max(0, newRs.specReplicas - newRs.availableReplicas);
  int budget = oldSpec + newRs.specReplicas - minAvailable - newUnavailable;
  if (budget <= 0) return next;
  // Unhealthy pods first: removing them costs no availability.
  for (size_t i = 0; i < old.size() && budget > 0; ++i) {
    const int unhealthy = std::max(0, next[i] - old[i].availableReplicas);
    const int take = std::min(unhealthy, budget);
    next[i] -= take;
    budget -= take;
  }
  // Then available pods, keeping minAvailable across all ReplicaSets.
  int spare = std::min(budget, allAvailable - minAvailable);
  for (size_t i = 0; i < old.size() && spare > 0; ++i) {
    const int take = std::min(next[i], spare);
    next[i] -= take;
    spare -= take;
  }
  return next;
}

int recreateNewReplicas(int replicas, int oldPods) { return oldPods > 0 ? 0 : replicas; }

std::vector<size_t> historyToDelete(const std::vector<HistoryEntry>& old, int limit) {
  std::vector<size_t> cleanable;
  for (size_t i = 0; i < old.size(); ++i) {
    if (old[i].specReplicas == 0 && old[i].statusReplicas == 0) cleanable.push_back(i);
  }
  const int excess = static_cast<int>(cleanable.size()) - std::max(0, limit);
  if (excess <= 0) return {};
  std::stable_sort(cleanable.begin(), cleanable.end(),
                   [&](size_t a, size_t b) { return old[a].revision < old[b].revision; });
  cleanable.resize(static_cast<size_t>(excess));
  return cleanable;
}

namespace {

int phaseRank(const std::string& phase) {
  if (phase == "Pending") return 0;
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 3;
}

}  // namespace

std::vector<size_t> podsToDelete(const std::vector<PodRank>& pods, size_t count) {
  std::vector<size_t> order(pods.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Ascending keys put the pod to delete first; negated values invert "more/longer/newer first".
  auto key = [&](size_t i) {
    const auto& p = pods[i];
    return std::make_tuple(p.assigned, phaseRank(p.phase), p.ready, p.ready ? -p.readySince : 0, -p.restarts,
                           -p.created);
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  order.resize(std::min(count, order.size()));
  return order;
}

bool deploymentComplete(const DeploymentCounts& c) {
  return c.updatedReplicas == c.replicas && c.availableReplicas == c.replicas &&
         c.statusReplicas == c.replicas;
}

bool deploymentProgressed(const DeploymentCounts& before, const DeploymentCounts& now) {
  const int oldBefore = before.statusReplicas - before.updatedReplicas;
  const int oldNow = now.statusReplicas - now.updatedReplicas;
  return now.updatedReplicas > before.updatedReplicas || oldNow < oldBefore ||
         now.readyReplicas > before.readyReplicas || now.availableReplicas > before.availableReplicas;
}

}  // namespace sluice::apiserver
