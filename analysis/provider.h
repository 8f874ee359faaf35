// The seam between the pure analysis evaluation and the outside world: a Provider takes one measurement of
// a metric as of an evaluation time. The Prometheus and web providers (analysis/providers/) do real I/O;
// the simulator feeds a scenario's values through the same interface, so both run the same assessment.
#pragma once

#include <map>
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
};

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
};

}  // namespace sluice::analysis
