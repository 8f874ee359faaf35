// Argo Rollouts' validation rules for a parsed Rollout, reported with field paths and source positions.
#pragma once

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

}  // namespace sluice::engine
