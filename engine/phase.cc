// The rollout's phase and message from spec and status (docs/design.md §A.8, first match wins).
#include "engine/phase.h"

namespace sluice::engine {

PhaseAndMessage calculatePhase(const RolloutSpec& spec, const RolloutStatus& status) {
  for (const auto& c : status.conditions) {
    if (c.type == "InvalidSpec" && c.status == "True") return {"Degraded", "InvalidSpec: " + c.message};
  }
  for (const auto& c : status.conditions) {
    if (c.reason == "RolloutAborted" || c.reason == "ProgressDeadlineExceeded") {
      return {"Degraded", c.reason + ": " + c.message};
    }
  }
  if (spec.paused) return {"Paused", "manually paused"};
  if (!status.pauseConditions.empty()) return {"Paused", status.pauseConditions.front().reason};
  if (restartPending(spec, status)) return {"Progressing", "rollout is restarting"};
  if (status.updatedReplicas < spec.replicas) return {"Progressing", "more replicas need to be updated"};
  if (status.availableReplicas < status.updatedReplicas) {
    return {"Progressing", "updated replicas are still becoming available"};
  }
  if (spec.isBlueGreen()) {
    if (status.blueGreen.activeSelector != status.currentPodHash)
      return {"Progressing", "active service cutover pending"};
    if (status.stableRS != status.currentPodHash)
      return {"Progressing", "waiting for post-promotion verification to complete"};
    return {"Healthy", ""};
  }
  const bool basicCanary = !spec.canary.trafficRouting.has_value();
  if (basicCanary && status.replicas > status.updatedReplicas) {
    return {"Progressing", "old replicas are pending termination"};
  }
  if (status.stableRS != status.currentPodHash) return {"Progressing", "waiting for all steps to complete"};
  return {"Healthy", ""};
}

PhaseAndMessage calculatePhase(const Rollout& rollout, const Observed& /*observed: the status sums it*/) {
  return calculatePhase(rollout.spec, rollout.status);
}

}  // namespace sluice::engine
