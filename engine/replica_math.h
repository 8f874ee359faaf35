// Replica arithmetic of the canary: for a basic canary the split of pods is the split of traffic, moved
// within the maxSurge / maxUnavailable budgets; with traffic routing the canary is sized from the weight.
#pragma once

namespace sluice::engine {

struct CanaryStableCounts {
  int canary = 0;
  int stable = 0;
  bool operator==(const CanaryStableCounts&) const = default;
};

// The pod split closest to `weight` percent of `replicas`. Candidates are the floor and ceiling of the
// canary share with `replicas` pods in total and, when maxSurge > 0, with one pod more. For
// 0 < weight < 100 neither side may be 0 unless there is a single pod and no surge. Ties go to the larger
// canary. 10 replicas at 41% -> 4/6; 1 replica at 5% with surge -> 1/1.
CanaryStableCounts approximateWeightedCounts(int replicas, int weight, int maxSurge);

// What one ReplicaSet has now.
struct ReplicaSetCounts {
  int specReplicas = 0;  // asked for
  int available = 0;
};

struct BasicCanaryScaling {
  int replicas = 0;  // spec.replicas
  int weight = 0;    // desired canary weight, 0..100
  int maxSurge = 0;  // resolved
  int maxUnavailable = 0;  // resolved (the caller forces 1 when both are 0)
  ReplicaSetCounts canary;
  ReplicaSetCounts stable;
  int oldSpecReplicas = 0;  // spec.replicas summed over all other ReplicaSets
};

// The next spec.replicas of canary and stable: one move toward approximateWeightedCounts. Scale-up spends
// the surge budget (replicas + maxSurge - all pods asked for), stable first; scale-down waits until older
// ReplicaSets are at 0 and never takes the available pods below replicas - maxUnavailable (unavailable
// pods of the shrinking side go first, for free).
CanaryStableCounts nextBasicCanaryCounts(const BasicCanaryScaling& in);

// How many pods of old ReplicaSets may go now: their unavailable pods, plus available pods beyond
// replicas - maxUnavailable across everything. `totalAvailable` counts all ReplicaSets.
int oldReplicaSetScaleDownBudget(int replicas, int maxUnavailable, int totalAvailable);

// Traffic-routed canary size for `weight` out of `maxWeight`: ceil(replicas * weight / maxWeight).
int canaryReplicasForWeight(int replicas, int weight, int maxWeight);

}  // namespace sluice::engine
