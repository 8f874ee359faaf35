// The one place where AnalysisTemplates, ClusterAnalysisTemplates and AnalysisRuns cross between JSON and
// the typed model, in both directions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "analysis/model.h"
#include "base/diagnostics.h"
#include "base/result.h"
#include "base/source.h"

namespace sluice::analysis {

// Parses an AnalysisTemplate or a ClusterAnalysisTemplate (apiVersion sluice.dev/v1alpha1 or
// argoproj.io/v1alpha1), then validates it (validate.h). Every problem goes to `diags`, located through
// `source` (may be empty): errors for wrong types, bad values, unsupported providers and broken rules,
// warnings for unknown fields. Returns the template when there were no errors. Never throws.
std::optional<AnalysisTemplate> parseAnalysisTemplate(const nlohmann::json& object, const SourceMap& source,
                                                      Diagnostics& diags);

// Parses an AnalysisRun (spec validated like a template's, status read as a controller wrote it).
std::optional<AnalysisRun> parseAnalysisRun(const nlohmann::json& object, const SourceMap& source,
                                            Diagnostics& diags);

// One metric, as it appears in a template's or a run's spec. Fields at their zero value are left out.
nlohmann::json metricToJson(const Metric& metric);
// The inverse of metricToJson, with the same checks as a template's metric; errors joined with "; ".
Result<Metric> metricFromJson(const nlohmann::json& metric);

// A run's spec and status in the shape Argo Rollouts writes them (times RFC 3339, zero values left
// out). fromJson(toJson(x)) == x.
nlohmann::json runSpecToJson(const AnalysisRunSpec& spec);
Result<AnalysisRunSpec> runSpecFromJson(const nlohmann::json& spec);
nlohmann::json runStatusToJson(const AnalysisRunStatus& status);
// Unknown status fields are ignored (newer writers); a field of the wrong type is an error.
Result<AnalysisRunStatus> runStatusFromJson(const nlohmann::json& status);

}  // namespace sluice::analysis
