// The run driver: plays one AnalysisRun over time against a Provider. It is the loop the simulator, the
// backtest and the controller share: evaluate, take the measurements asked for, assess, record.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/measurement.h"
#include "analysis/model.h"
#include "analysis/provider.h"
#include "analysis/run_evaluator.h"
#include "analysis/templating.h"
#include "base/time.h"

namespace sluice::analysis {

// One measurement as it was taken, kept whole even after measurement retention trimmed the status.
struct TakenMeasurement {
  std::string metric;
  Measurement measurement;
};

// Drives one run. Holds no clock: the caller says what time it is. Providers are called synchronously; a
// measurement usually starts and finishes at the same evaluation time, but one a provider leaves in flight
// (a Job still running: ProviderResult::phase Running) is resumed through the provider when it is due
// again, and ended through it when the run terminates. Not thread-safe; the provider must outlive the
// driver. Move-only.
class RunDriver {
 public:
  // `secrets`: the values of the spec's secretKeyRef args, by arg name (masked in every message).
  // `conditions`: a cache of compiled conditions to share with other runs driven from the same thread;
  // nullptr gives the run one of its own. `resumeFrom`: the run's status as last stored (a controller
  // that restarted, or that drives the run one pass at a time); the driver goes on from there, taking
  // no measurement again that the status already holds. history() holds only what this driver took.
  RunDriver(AnalysisRunSpec spec, Provider& provider, SecretValues secrets = {},
            std::shared_ptr<RunConditions> conditions = nullptr, AnalysisRunStatus resumeFrom = {});
  RunDriver(RunDriver&&) noexcept = default;
  RunDriver& operator=(RunDriver&&) = delete;
  RunDriver(const RunDriver&) = delete;
  RunDriver& operator=(const RunDriver&) = delete;
  ~RunDriver() = default;

  // One pass at `now`: runs evaluateRun, ends the in-flight measurements of a terminating run
  // (Provider::terminate: Successful, or Error when that fails), takes every measurement it asks for
  // through the provider with evaluation time `now` (Provider::resume for one in flight), assesses each
  // (measurement.h), records it, and evaluates again so the status reflects it. Returns when to call again
  // (always later than `now`), or nullopt once the run is complete. A provider error is an Error measurement,
  // never an exception. Blocks for as long as the provider does. Calling it before the returned time is
  // harmless: nothing is due, nothing is measured.
  std::optional<Time> advance(Time now);

  // Asks the run to stop (spec.terminate, as a Rollout does when it no longer needs the run). The next
  // advance completes it: metrics not yet decided become Successful (docs/design.md §A.11).
  void terminate() { spec_.terminate = true; }

  const AnalysisRunSpec& spec() const { return spec_; }
  const AnalysisRunStatus& status() const { return status_; }
  bool completed() const { return phaseCompleted(status_.phase); }
  // Every measurement finished, oldest first, secrets masked, never trimmed.
  const std::vector<TakenMeasurement>& history() const { return history_; }

 private:
  // Records one measurement of `metric`, and in history() once finished.
  void record(const std::string& metric, Measurement m, Time now);

  AnalysisRunSpec spec_;
  Provider* provider_;
  SecretValues secrets_;
  AnalysisRunStatus status_;
  std::shared_ptr<RunConditions> conditions_;
  std::vector<TakenMeasurement> history_;
};

}  // namespace sluice::analysis
