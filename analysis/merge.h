// Builds an AnalysisRun's spec from what a Rollout asks for (its RolloutAnalysis: template references,
// args, dryRun, measurementRetention) and the templates available. Pure: lookups come from the caller.
#pragma once

#include <functional>
#include <string>

#include "analysis/model.h"
#include "base/result.h"
#include "engine/rollout.h"

namespace sluice::analysis {

// The template named `name` (a ClusterAnalysisTemplate when `clusterScope`), or nullptr if there is none.
using TemplateLookup = std::function<const AnalysisTemplate*(const std::string& name, bool clusterScope)>;

// What the Rollout's valueFrom args resolve against.
struct ArgSources {
  std::string stablePodHash;  // podTemplateHashValue: Stable
  std::string latestPodHash;  // podTemplateHashValue: Latest
  // valueFrom.fieldRef.fieldPath read from the Rollout (metadata.labels['env'], spec.template...); an
  // error names what is missing. Unset: every fieldRef is an error.
  std::function<Result<std::string>(const std::string& fieldPath)> fieldRef;
};

// The run spec for `analysis`:
// - templates are resolved depth first, each template's own metrics before those of the templates it
//   nests; a template reached twice is taken once; a template that reaches itself is an error naming
//   the cycle; a missing template is an error naming it;
// - metrics keep the order written; the same metric name from two templates is an error naming both;
// - args are merged by name (the same arg with two different defaults is an error naming both templates);
//   the Rollout's args then override the defaults (value, podTemplateHashValue, fieldRef); Rollout args
//   that no template declares are dropped; template fieldRef args are resolved too. Required args left
//   without a value stay so: the run goes to Error naming them when it starts. secretKeyRef args are
//   left for the controller;
// - dryRun and measurementRetention: the Rollout's entries, then the templates', duplicates dropped;
//   the first entry whose regex matches a metric applies to it.
// Deterministic: the same inputs give the same spec.
Result<AnalysisRunSpec> mergeTemplates(const engine::RolloutAnalysis& analysis, const TemplateLookup& lookup,
                                       const ArgSources& sources);

}  // namespace sluice::analysis
