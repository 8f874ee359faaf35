// The one place where Rollouts cross between JSON and the typed model, in both directions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "base/diagnostics.h"
#include "base/json_fields.h"
#include "base/result.h"
#include "base/source.h"
#include "engine/rollout.h"

namespace sluice::engine {

// Parses one Rollout object (apiVersion sluice.dev/v1alpha1 or argoproj.io/v1alpha1, kind Rollout) with
// Argo Rollouts' defaults filled in, then validates it (validate.h). Every problem is added to `diags`,
// located through `source` (an empty SourceMap is fine for objects from the API server): errors for
// wrong types, bad values and broken rules, warnings for unknown fields. Returns the Rollout when there
// were no errors, nullopt otherwise. Never throws. The status, if present, is parsed too.
std::optional<Rollout> parseRollout(const nlohmann::json& object, const SourceMap& source,
                                    Diagnostics& diags);

// Pieces of a Rollout's analysis that the Experiment kind shares (engine/experiment_json.cc): an args list
// (name, value, valueFrom.podTemplateHashValue or valueFrom.fieldRef) at `path`, and the options every run
// of an analysis gets (dryRun, measurementRetention, analysisRunMetadata) from the object `o` reads.
void readAnalysisArgs(json_fields::Reporter& r, const nlohmann::json& list, const std::string& path,
                      std::vector<AnalysisArg>& out);
void readAnalysisRunOptions(json_fields::ObjectReader& o, RolloutAnalysis& analysis);
// An experiment template's `service` (name, ports), the same in an Experiment and in an experiment step.
void readExperimentService(json_fields::ObjectReader& o, ExperimentService& service);
// Status conditions (any kind's) read from a list, and written in Argo's shape.
void readConditions(json_fields::Reporter& r, const nlohmann::json& list, const std::string& path,
                    std::vector<Condition>& out);
nlohmann::json conditionsToJson(const std::vector<Condition>& conditions);

// Status, in the shape Argo Rollouts writes it (observedGeneration a string, times RFC 3339). Fields at
// their zero value are left out, so a merge patch built from two of these diffs cleanly.
nlohmann::json statusToJson(const RolloutStatus& status);
// The inverse of statusToJson. Unknown fields are ignored; a field of the wrong type is an error.
Result<RolloutStatus> statusFromJson(const nlohmann::json& status);

// Ephemeral metadata as the annotation sluice.dev/ephemeral-metadata holds it:
// {"labels":{...},"annotations":{...}}, empty maps left out. Reading gives nullopt for text that is not
// such an object (a hand-edited annotation counts as none).
std::string podMetadataToJson(const PodMetadata& metadata);
std::optional<PodMetadata> podMetadataFromJson(const std::string& text);

}  // namespace sluice::engine
