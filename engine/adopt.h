// Moving over from Argo Rollouts without a redeploy: how the engine knows that a ReplicaSet Argo Rollouts
// made runs the Rollout's pod template. Argo names its revisions by a hash Sluice cannot compute again, so
// the template itself is compared.
#pragma once

#include <nlohmann/json_fwd.hpp>

namespace sluice::engine {

// Whether a ReplicaSet's pod template (`live`, as stored) is the Rollout's (`desired`): equal once the
// hash labels (Sluice's and Argo's) and empty values (null, {}, []) are set aside, the metadata exactly,
// and in the spec a field the Rollout leaves out that the ReplicaSet has at the value the API server fills
// in (restartPolicy Always, a container's terminationMessagePath, a port's protocol TCP, ...) counts as
// left out.
bool sameTemplate(const nlohmann::json& live, const nlohmann::json& desired);

}  // namespace sluice::engine
