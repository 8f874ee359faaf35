// The decisions of the embedded cluster's Deployment and ReplicaSet controllers, as pure functions over
// counts: how maxSurge / maxUnavailable resolve, how far a rolling update may scale the new and old
// ReplicaSets, which old ReplicaSets history keeps, which pods a scale-down removes. The controllers in
// workloads.cc read the objects, call these, and write the results.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sluice::apiserver {

// An IntOrString (`3` or `"25%"`) scaled against `total`: percentages round up or down as asked. nullopt
// when the value is neither an integer nor a percent string.
std::optional<int> scaledIntOrPercent(const nlohmann::json& value, int total, bool roundUp);

struct Fenceposts {
  int maxSurge = 0;
  int maxUnavailable = 0;
  bool operator==(const Fenceposts&) const = default;
};

// maxSurge rounds up, maxUnavailable rounds down (the controller's fenceposts); when both come out 0 (a
// percentage of few replicas) maxUnavailable is 1 so that the rollout can move. Absent values are 25%.
Fenceposts resolveFenceposts(const nlohmann::json& maxSurge, const nlohmann::json& maxUnavailable,
                             int replicas);

// What a rolling update needs to know of one old ReplicaSet.
struct ReplicaSetState {
  int specReplicas = 0;
  int availableReplicas = 0;
};

// The new ReplicaSet's next spec.replicas under RollingUpdate: up to `replicas`, within the surge budget
// replicas + maxSurge - (pods all ReplicaSets ask for). Above `replicas` (a scale-down) it drops to it.
int rollingNewReplicas(int replicas, int maxSurge, int newSpecReplicas, int allSpecReplicas);

// The old ReplicaSets' next spec.replicas under RollingUpdate, `old` ordered oldest first. Unavailable
// pods of old ReplicaSets go first (they cost no availability), then available ones while the available
// pods of all ReplicaSets stay at or above replicas - maxUnavailable; nothing goes while the new
// ReplicaSet's own unavailable pods use up the budget.
std::vector<int> rollingOldReplicas(int replicas, int maxUnavailable, const std::vector<ReplicaSetState>& old,
                                    const ReplicaSetState& newRs);

// Recreate: the new ReplicaSet's spec.replicas, 0 until no old pod is left (`oldPods`: pods of old
// ReplicaSets that still exist), then `replicas`.
int recreateNewReplicas(int replicas, int oldPods);

// One old ReplicaSet as history cleanup sees it.
struct HistoryEntry {
  int64_t revision = 0;
  int specReplicas = 0;
  int statusReplicas = 0;
};

// Indexes (into `old`) of the old ReplicaSets to delete: those scaled to 0 with no pods left, lowest
// revision first, beyond the `limit` most recent kept.
std::vector<size_t> historyToDelete(const std::vector<HistoryEntry>& old, int limit);

// One pod as a ReplicaSet's scale-down ranks it.
struct PodRank {
  bool assigned = false;  // spec.nodeName set
  std::string phase;      // Pending, Running, Unknown...
  bool ready = false;
  int64_t readySince = 0;  // Unix seconds of the Ready condition's last transition
  int restarts = 0;
  int64_t created = 0;  // Unix seconds
};

// Indexes of the `count` pods to delete first: unassigned before assigned, Pending before Unknown before
// Running, not ready before ready, ready for less time before ready for longer, more restarts before
// fewer, newer before older.
std::vector<size_t> podsToDelete(const std::vector<PodRank>& pods, size_t count);

// Whether a ReplicaSet's counts say a Deployment's rollout is complete: every pod updated, available, and
// no old pod left.
struct DeploymentCounts {
  int replicas = 0;  // spec
  int statusReplicas = 0;
  int updatedReplicas = 0;
  int readyReplicas = 0;
  int availableReplicas = 0;
  bool operator==(const DeploymentCounts&) const = default;
};
bool deploymentComplete(const DeploymentCounts& c);
// Whether the rollout moved since `before`: more pods updated, ready or available, or fewer old pods.
bool deploymentProgressed(const DeploymentCounts& before, const DeploymentCounts& now);

}  // namespace sluice::apiserver
