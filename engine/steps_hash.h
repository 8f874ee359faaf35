// The hashes a Rollout's status carries: the pod-template hash (status.currentPodHash, ReplicaSet names;
// shared with the embedded cluster, so it lives in base/) and the steps hash (status.currentStepHash).
#pragma once

#include <string>
#include <vector>

#include "base/pod_template_hash.h"
#include "engine/rollout.h"

namespace sluice::engine {

using sluice::podTemplateHash;

// The hash of the steps (status.currentStepHash); a change to the steps restarts them.
std::string stepsHash(const std::vector<CanaryStep>& steps);

}  // namespace sluice::engine
