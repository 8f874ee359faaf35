// Argo Rollouts' rules for metrics (docs/design.md §A.9), checked on the typed model after parsing and again
// on a merged run spec, reported with field paths and source positions.
#pragma once

#include "analysis/model.h"
#include "base/diagnostics.h"
#include "base/source.h"

namespace sluice::analysis {

// Adds one diagnostic per broken rule under `spec.` (all of them). `source` may be empty. dryRun and
// measurementRetention names are regexes that must compile and, unless the template nests others whose
// metrics are not known here, match one of its metrics.
void validateTemplateSpec(const AnalysisTemplateSpec& spec, const SourceMap& source, Diagnostics& diags);
void validateRunSpec(const AnalysisRunSpec& spec, const SourceMap& source, Diagnostics& diags);

// What can be known of a template's or run's metrics before it is templated: every successCondition and
// failureCondition compiles once the args that have a value are substituted (one still holding a
// placeholder is only checked against the length limit), and, when `argsKnown` (the spec nests no other
// templates, whose args would join its own), every {{args.NAME}} in a metric names one of `args`. Errors
// under `spec.metrics[i]`, the compiler's column in the message.
void validateConditionsAndArgs(const std::vector<Metric>& metrics, const std::vector<Argument>& args,
                               bool argsKnown, const SourceMap& source, Diagnostics& diags);

// Whether the regex `pattern` (a dryRun or measurementRetention metricName) matches somewhere in `name`,
// as Go's regexp.MatchString does; an invalid pattern matches nothing.
bool metricNameMatches(const std::string& pattern, const std::string& name);

}  // namespace sluice::analysis
