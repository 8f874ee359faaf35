// The merge patches of people's actions on a Rollout (docs/design.md §A.4), with errors a person can act on.
#include "engine/steering.h"

namespace sluice::engine {
namespace {

int stepCount(const Rollout& r) { return static_cast<int>(r.spec.canary.steps.size()); }

bool fullyPromoted(const Rollout& r) {
  return !r.status.stableRS.empty() && r.status.stableRS == r.status.currentPodHash &&
         r.status.currentStepIndex.value_or(0) >= stepCount(r);
}

bool inconclusiveStep(const Rollout& r) {
  const auto& run = r.status.canary.currentStepAnalysisRunStatus;
  return run && run->status == "Inconclusive";
}

nlohmann::json specPatch(bool paused) { return {{"spec", {{"paused", paused}}}}; }

}  // namespace

Result<SteeringPatch> promotePatch(const Rollout& r) {
  const RolloutStatus& s = r.status;
  const int index = s.currentStepIndex.value_or(0);
  SteeringPatch patch;
  if (r.spec.paused) patch.spec = specPatch(false);
  if (!s.pauseConditions.empty()) {
    if (inconclusiveStep(r) && index < stepCount(r)) {
      patch.status = {
          {"status",
           {{"pauseConditions", nullptr}, {"controllerPause", false}, {"currentStepIndex", index + 1}}}};
    } else {
      patch.status = {{"status", {{"pauseConditions", nullptr}}}};
    }
  } else if (!r.spec.paused && index < stepCount(r) && !fullyPromoted(r)) {
    patch.status = {{"status", {{"currentStepIndex", index + 1}}}};
  }
  if (patch.spec.is_null() && patch.status.is_null() && r.spec.isBlueGreen()) {
    return Error{"rollout " + r.metadata.name + " is not paused" +
                 (fullyPromoted(r) ? std::string(" (it is fully promoted)")
                                   : std::string(" (a blue-green Rollout switches once the new ReplicaSet is "
                                                 "available; promote --full skips its analysis)"))};
  }
  if (patch.spec.is_null() && patch.status.is_null()) {
    return Error{"rollout " + r.metadata.name + " is not paused and has no step to skip" +
                 (fullyPromoted(r) ? " (it is fully promoted)"
                                   : " (all steps are done; it promotes once the canary is available)")};
  }
  return patch;
}

Result<SteeringPatch> promoteFullPatch(const Rollout& r) {
  SteeringPatch patch;
  if (r.spec.paused) patch.spec = specPatch(false);
  if (r.status.currentPodHash != r.status.stableRS) patch.status = {{"status", {{"promoteFull", true}}}};
  if (patch.spec.is_null() && patch.status.is_null()) {
    return Error{"rollout " + r.metadata.name + " is already fully promoted"};
  }
  return patch;
}

Result<SteeringPatch> abortPatch(const Rollout& r) {
  if (r.status.abort) return Error{"rollout " + r.metadata.name + " is already aborted"};
  return SteeringPatch{nullptr, {{"status", {{"abort", true}}}}};
}

Result<SteeringPatch> retryPatch(const Rollout& r) {
  if (!r.status.abort)
    return Error{"rollout " + r.metadata.name + " is not aborted; only an aborted rollout can be retried"};
  return SteeringPatch{nullptr, {{"status", {{"abort", false}}}}};
}

Result<SteeringPatch> pausePatch(const Rollout& r) {
  if (r.spec.paused) return Error{"rollout " + r.metadata.name + " is already paused"};
  return SteeringPatch{specPatch(true), nullptr};
}

Result<SteeringPatch> resumePatch(const Rollout& r) {
  if (!r.spec.paused)
    return Error{"rollout " + r.metadata.name + " is not paused; use promote to go past a pause step"};
  return SteeringPatch{specPatch(false), nullptr};
}

Result<SteeringPatch> restartPatch(const Rollout& /*rollout: any Rollout can be restarted*/, Time restartAt) {
  return SteeringPatch{{{"spec", {{"restartAt", formatRfc3339(restartAt)}}}}, nullptr};
}

}  // namespace sluice::engine
