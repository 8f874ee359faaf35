// Argo Rollouts' validation rules for a parsed Rollout, reported with field paths and source positions.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/diagnostics.h"
#include "base/source.h"
#include "engine/rollout.h"

namespace sluice::engine {

// Adds one diagnostic per broken rule to `diags` (all of them, not just the first). `source` locates the
// field paths; it may be empty.
void validateRollout(const Rollout& rollout, const SourceMap& source, Diagnostics& diags);

// The rules on spec.template and spec.selector alone, for a Rollout whose template was filled from its
// workloadRef (engine/workload.h) after validateRollout passed over it.
void validateResolvedTemplate(const Rollout& rollout, Diagnostics& diags);

// Kubernetes' rules on a pod template (`podTemplate`, at the field path `path`): at least one container,
// container names unique across containers and init containers, every resource amount a quantity >= 0, no
// request above its limit, no ephemeral containers on create. Each broken rule goes to `error`.
using PodTemplateError = std::function<void(const std::string& path, std::string message)>;
void checkPodTemplate(const nlohmann::json& podTemplate, const std::string& path,
                      const PodTemplateError& error);

}  // namespace sluice::engine
