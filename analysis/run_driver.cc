// The run driver: evaluateRun, the provider, the assessment and recordMeasurement, in that order.
#include "analysis/run_driver.h"

#include <exception>

namespace sluice::analysis {

RunDriver::RunDriver(AnalysisRunSpec spec, Provider& provider, SecretValues secrets,
                     std::shared_ptr<RunConditions> conditions, AnalysisRunStatus resumeFrom)
    : spec_(std::move(spec)),
      provider_(&provider),
      secrets_(std::move(secrets)),
      status_(std::move(resumeFrom)),
      conditions_(conditions ? std::move(conditions) : std::make_shared<RunConditions>()) {}

std::optional<Time> RunDriver::advance(Time now) {
  if (completed()) return std::nullopt;
  RunEvaluation eval = evaluateRun(spec_, status_, now, secrets_);
  status_ = std::move(eval.status);
  if (!eval.measure.empty()) {
    for (const MetricToMeasure& due : eval.measure) {
      Result<ProviderResult> outcome = Error{"no measurement"};
      try {
        outcome = provider_->measure(due.metric, now);
      } catch (const std::exception& e) {
        // Providers promise not to throw; one that does still only errors this measurement.
        outcome = Error{std::string("provider failed: ") + e.what()};
      }
      Measurement m = conditions_->forMetric(due.metric).assess(outcome, now, now);
      // recordMeasurement only rejects phases a measurement cannot have; assess never gives one.
      (void)recordMeasurement(status_, due.metric.name, std::move(m), now, secrets_);
      history_.push_back({due.metric.name, status_.result(due.metric.name)->measurements.back()});
    }
    eval = evaluateRun(spec_, status_, now, secrets_);
    status_ = std::move(eval.status);
  }
  if (completed()) return std::nullopt;
  std::optional<Time> next = eval.nextCheck;
  // Something due again at once (a zero interval) waits for the next second, the clock's resolution.
  if (!eval.measure.empty() || (next && *next <= now)) next = now + Duration{1};
  return next;
}

}  // namespace sluice::analysis
