// What people do to a running Rollout (promote, promote --full, abort, retry, pause, resume, restart), as the
// JSON merge patches kubectl sluice sends: one for the spec, one for the status subresource. The
// simulator applies the very same patches, so a simulated promote is a real one.
#pragma once

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/rollout.h"

namespace sluice::engine {

struct SteeringPatch {
  nlohmann::json spec = nullptr;    // merge patch for the main resource ({"spec": {...}}), or null
  nlohmann::json status = nullptr;  // merge patch for the status subresource ({"status": {...}}), or null
};

// promote: unpause spec.paused; clear pause conditions; or skip the current step (index+1);
// an inconclusive step: clear pauses and controllerPause and index+1. Error if fully promoted already.
Result<SteeringPatch> promotePatch(const Rollout& rollout);
// promote --full: status.promoteFull=true (when the current revision is not yet stable), spec.paused=false.
Result<SteeringPatch> promoteFullPatch(const Rollout& rollout);
// abort: status.abort=true.
Result<SteeringPatch> abortPatch(const Rollout& rollout);
// retry: status.abort=false. Error unless aborted.
Result<SteeringPatch> retryPatch(const Rollout& rollout);
// pause: spec.paused=true.
Result<SteeringPatch> pausePatch(const Rollout& rollout);
// resume: spec.paused=false.
Result<SteeringPatch> resumePatch(const Rollout& rollout);
// restart: spec.restartAt=restartAt (RFC 3339: the caller's now plus --in). The
// controller then restarts every pod created before that instant (see reconcileCanary).
Result<SteeringPatch> restartPatch(const Rollout& rollout, Time restartAt);

}  // namespace sluice::engine
