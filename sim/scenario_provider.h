// The simulator's metric provider: a scenario's `metrics`, by metric name, over virtual time. It stands
// where Prometheus or a web endpoint stands in the controller, behind the same analysis::Provider.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "analysis/provider.h"
#include "sim/scenario.h"

namespace sluice::sim {

// The result `value` gives, as conditions see it and as a measurement records it: a number is a scalar
// ("0.99"), a list a vector ("[0.99 0.98]"), nan a scalar NaN ("NaN"), `empty: true` an empty vector
// ("[]"), the way Prometheus scalars and instant vectors reach conditions (docs/design.md §A.13).
analysis::ProviderResult scenarioResult(const MetricPoint& point);

class ScenarioProvider : public analysis::Provider {
 public:
  // `metrics`: the scenario's series by metric name, sorted by `at` (as parseScenario leaves them);
  // `epoch`: the instant virtual time 0s stands for. Both must outlive the provider.
  ScenarioProvider(const std::map<std::string, std::vector<MetricPoint>>& metrics, Time epoch);

  // The point in force at `at` for the metric's name: the last one whose `at` is not later. An `error`
  // point is an Error measurement with its text. Errors: the scenario has no series for the metric, or
  // `at` is before its first point. Pure; never blocks.
  Result<analysis::ProviderResult> measure(const analysis::Metric& metric, Time at) override;

  // A job metric (provider.job) needs Job points (`{job: {after, fails}}`), any other metric value
  // points. measure() starts a Job, Running until `after` past its start; resume() then ends it as the
  // point in force at its start says: Successful, or Failed when it fails. A terminated Job just stops.
  Result<analysis::ProviderResult> resume(const analysis::Metric& metric,
                                          const analysis::Measurement& inFlight, Time at) override;

 private:
  // The point in force at `at` for the metric, of the kind the metric needs.
  Result<const MetricPoint*> pointAt(const analysis::Metric& metric, Time at) const;

  const std::map<std::string, std::vector<MetricPoint>>& metrics_;
  Time epoch_;
};

}  // namespace sluice::sim
