// Pure evaluation of an AnalysisRun (docs/design.md §A.9-§A.11): from the run's spec, its status and `now`,
// which metrics to measure, the next status and when to look again. No I/O and no clock: the controller and
// the simulator call providers with what this asks for and feed the measurements back.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analysis/model.h"
#include "analysis/templating.h"
#include "base/result.h"
#include "base/time.h"

namespace sluice::analysis {

struct MetricToMeasure {
  Metric metric;        // with args substituted: ready for a provider
  bool resume = false;  // complete the in-flight measurement (its resumeAt has come) rather than start one
};

struct RunEvaluation {
  AnalysisRunStatus status;              // the next status
  std::vector<MetricToMeasure> measure;  // take these now, in spec order, then recordMeasurement each
  std::vector<std::string> terminate;  // metrics whose in-flight measurement must be ended (run terminating)
  std::optional<Time> nextCheck;       // evaluate again then (after recording any measurement taken now);
                                       // nullopt when nothing is scheduled (the run is complete)
};

// One evaluation pass. On the first call it sets startedAt, resolves the args (`secrets` gives the
// values of secretKeyRef args, by arg name) and templates every metric: an unresolved placeholder, a
// missing required arg or a metric invalid after templating ends the run in Error with a message
// naming it, secret values masked. Then:
// - each metric's phase follows §A.11: Pending before its first measurement, Running while one is in
//   flight; then failed > failureLimit (unless -1) -> Failed, inconclusive > inconclusiveLimit ->
//   Inconclusive, consecutiveError > consecutiveErrorLimit -> Error, each overriding the one before;
//   else consecutiveSuccessLimit reached -> Successful; else the effective count reached -> Successful
//   (with consecutiveSuccessLimit set and not reached: Inconclusive, or Failed when failureLimit is -1);
// - the run is terminating when spec.terminate is set or a metric that is not dry-run completed Failed,
//   Error or Inconclusive: nothing new is measured and every unfinished metric becomes Successful;
// - the run's phase is Running until every metric is complete (or it terminates), then the worst
//   non-dry-run metric phase (Successful < Running < Pending < Inconclusive < Error < Failed); dry-run
//   metrics are counted in dryRunSummary only; completedAt is set when the run completes;
// - each metric keeps its last 10 measurements, or the limit of the first measurementRetention entry
//   whose regex matches its name;
// - a metric is due at startedAt + initialDelay for its first measurement, then at the last one's
//   finishedAt + interval, or + 10 s after an Error whatever the interval.
// A completed run is returned unchanged with nothing to do. Deterministic; never throws.
RunEvaluation evaluateRun(const AnalysisRunSpec& spec, const AnalysisRunStatus& status, Time now,
                          const SecretValues& secrets = {});

// Records a measurement of `metricName` into `status`: phase Successful, Failed, Inconclusive or Error
// when finished (finishedAt defaults to `now`), or Running while in flight (a later record replaces it).
// Counters follow §A.11: Error does not add to count and adds to consecutiveError; any other result resets
// consecutiveError; only Successful adds to consecutiveSuccess. Secret values are masked in the message,
// value and metadata. Phases are assessed by the next evaluateRun. An error for a phase that is not a
// measurement's (Pending, none).
Status recordMeasurement(AnalysisRunStatus& status, const std::string& metricName, Measurement measurement,
                         Time now, const SecretValues& secrets = {});

}  // namespace sluice::analysis
