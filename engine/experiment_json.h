// The one place where Experiments cross between JSON and the typed model, in both directions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "base/diagnostics.h"
#include "base/result.h"
#include "base/source.h"
#include "engine/experiment.h"

namespace sluice::engine {

// Parses one Experiment (apiVersion sluice.dev/v1alpha1 or argoproj.io/v1alpha1, kind Experiment) with
// Argo's defaults, then checks Argo's rules (template names present and unique, analysis names unique, a
// selector per template matching its pod labels). Problems go to `diags` as parseRollout reports them;
// returns the Experiment when there was no error. Never throws. The status, if present, is parsed too.
std::optional<Experiment> parseExperiment(const nlohmann::json& object, const SourceMap& source,
                                          Diagnostics& diags);

// The whole object (apiVersion sluice.dev/v1alpha1, metadata's name, namespace, labels and annotations,
// spec; no status) as a Rollout's experiment step creates it. parseExperiment reads it back unchanged.
nlohmann::json experimentToJson(const Experiment& experiment);

// Status in Argo's shape (phase and times as strings; zero fields left out, a template's counts kept).
nlohmann::json experimentStatusToJson(const ExperimentStatus& status);
// The inverse of experimentStatusToJson. Unknown fields are ignored; a field of the wrong type is an error.
Result<ExperimentStatus> experimentStatusFromJson(const nlohmann::json& status);

struct CreateService;
// The Service `create` asks for in namespace `ns`, selecting its pods by their pod-template hash (no owner
// reference: the caller adds its own).
nlohmann::json serviceToJson(const CreateService& create, const std::string& ns);

}  // namespace sluice::engine
