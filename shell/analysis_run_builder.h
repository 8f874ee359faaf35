// How an AnalysisRun is built from what the engine asks for: the templates merged (analysis/merge.h)
// with the Rollout's args, valueFrom resolved against the Rollout object and its status. The simulator
// and the controller build runs only through here, so a run is the same in both.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "analysis/merge.h"
#include "analysis/model.h"
#include "base/result.h"
#include "engine/canary.h"

namespace sluice::shell {

// The value of a valueFrom.fieldRef path in the Rollout object: metadata.labels['env'] and
// metadata.annotations['x'] as the downward API writes them, other paths as dotted fields. An error
// names what is missing.
Result<std::string> fieldRefValue(const nlohmann::json& rolloutObject, const std::string& path);

// What a Rollout's args resolve against: `stableHash` for podTemplateHashValue Stable, `latestHash` for
// Latest, fieldRef against `rolloutObject` (which must outlive the result).
analysis::ArgSources argSources(const nlohmann::json& rolloutObject, std::string stableHash,
                                std::string latestHash);

// The spec of the run `create` asks for. `stableHash`: the stable pod-template hash in the decision's
// status (the run is built as the decision stands, before its status is written).
Result<analysis::AnalysisRunSpec> buildAnalysisRun(const engine::CreateAnalysisRun& create,
                                                   const nlohmann::json& rolloutObject,
                                                   const std::string& stableHash,
                                                   const analysis::TemplateLookup& lookup);

}  // namespace sluice::shell
