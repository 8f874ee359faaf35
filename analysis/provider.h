// The seam between the pure analysis evaluation and the outside world: a Provider takes one measurement of
// a metric as of an evaluation time. The Prometheus and web providers (analysis/providers/) do real I/O;
// the simulator feeds a scenario's values through the same interface, so both run the same assessment.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "analysis/model.h"
#include "analysis/value.h"
#include "base/result.h"
#include "base/time.h"

namespace sluice::analysis {

// What a provider hands back for one successful measurement.
struct ProviderResult {
  Value value;       // `result` in successCondition and failureCondition (docs/design.md §A.13)
  std::string text;  // what the measurement's `value` field records, as Argo shows it ("0.99", "[0.99 0.98]")
  std::map<std::string, std::string> metadata;  // kept in the measurement (resolved query, warnings, ...)
  // Set by a provider that decides the phase itself, not through the metric's conditions (a Job: Running
  // while it runs, then Successful or Failed). Running leaves the measurement in flight: the provider is
  // asked to resume it at `resumeAt`, or at each evaluation when there is none.
  std::optional<Phase> phase;
  std::optional<Time> resumeAt;
  std::string message;  // the measurement's message with `phase` (why a Job failed)
};

// A JSON document (a web answer's first jsonPath match, or a scenario's value) as a measurement's result
// and the text it records, as Argo Rollouts records a web metric's: a number or bool as JSON, a string as
// itself, null as "null"; an object's members are read as result.name, a list holding more than numbers
// by a written index.
ProviderResult resultFromJson(const nlohmann::json& document);

class Provider {
 public:
  Provider() = default;
  Provider(const Provider&) = delete;
  Provider& operator=(const Provider&) = delete;
  virtual ~Provider() = default;

  // Takes one measurement of `metric` (arguments already substituted) as of evaluation time `at`. A
  // failure (unreachable address, timeout, HTTP status, PromQL error) is an error whose message a person
  // can act on; the caller records it as a measurement in phase Error. Never throws.
  virtual Result<ProviderResult> measure(const Metric& metric, Time at) = 0;

  // Goes on with a measurement this provider left in flight (ProviderResult::phase Running), given as
  // recorded (its metadata says what was started): its outcome, or Running again. A provider that never
  // leaves one in flight is never asked; by default that is an error. Never throws.
  virtual Result<ProviderResult> resume(const Metric& metric, const Measurement& /*inFlight*/, Time /*at*/) {
    return Error{"metric \"" + metric.name + "\": its provider left no measurement in flight to resume"};
  }

  // Ends a measurement left in flight because its run is terminating (a Job is deleted); `metric` as the
  // run's spec has it. The measurement is then Successful, as Argo records it; an error makes it an
  // Error. By default there is nothing to end. Never throws.
  virtual Status terminate(const Metric& /*metric*/, const Measurement& /*inFlight*/, Time /*at*/) {
    return {};
  }
};

}  // namespace sluice::analysis
