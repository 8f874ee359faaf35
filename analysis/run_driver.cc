// The run driver: evaluateRun, the provider, the assessment and recordMeasurement, in that order.
#include "analysis/run_driver.h"

#include <algorithm>
#include <exception>

namespace sluice::analysis {

namespace {

// The provider's answer, an exception from it being this measurement's error (providers promise not to
// throw; one that does still only errors this measurement).
template <typename Call>
auto guarded(Call call) -> decltype(call()) {
  try {
    return call();
  } catch (const std::exception& e) {
    return Error{std::string("provider failed: ") + e.what()};
  }
}

}  // namespace

RunDriver::RunDriver(AnalysisRunSpec spec, Provider& provider, SecretValues secrets,
                     std::shared_ptr<RunConditions> conditions, AnalysisRunStatus resumeFrom)
    : spec_(std::move(spec)),
      provider_(&provider),
      secrets_(std::move(secrets)),
      status_(std::move(resumeFrom)),
      conditions_(conditions ? std::move(conditions) : std::make_shared<RunConditions>()) {}

void RunDriver::record(const std::string& metric, Measurement m, Time now) {
  const bool finished = phaseCompleted(m.phase);
  // recordMeasurement only rejects phases a measurement cannot have; assess never gives one.
  (void)recordMeasurement(status_, metric, std::move(m), now, secrets_);
  if (finished) history_.push_back({metric, status_.result(metric)->measurements.back()});
}

std::optional<Time> RunDriver::advance(Time now) {
  if (completed()) return std::nullopt;
  RunEvaluation eval = evaluateRun(spec_, status_, now, secrets_);
  status_ = std::move(eval.status);
  if (!eval.measure.empty() || !eval.terminate.empty()) {
    // A terminating run's measurements still in flight end through the provider (a Job is deleted).
    for (const std::string& name : eval.terminate) {
      const auto metric = std::find_if(spec_.metrics.begin(), spec_.metrics.end(),
                                       [&name](const Metric& m) { return m.name == name; });
      const Measurement inFlight = status_.result(name)->measurements.back();
      Status ended = metric == spec_.metrics.end()
                         ? Status{}
                         : guarded([&]() { return provider_->terminate(*metric, inFlight, now); });
      Measurement m = inFlight;
      m.phase = ended ? Phase::Successful : Phase::Error;
      m.message = ended ? "" : ended.error();
      m.finishedAt = now;
      m.resumeAt.reset();
      record(name, std::move(m), now);
    }
    for (const MetricToMeasure& due : eval.measure) {
      const MetricResult* r = status_.result(due.metric.name);
      const Measurement* inFlight =
          due.resume && r && !r->measurements.empty() ? &r->measurements.back() : nullptr;
      Result<ProviderResult> outcome =
          inFlight ? guarded([&]() { return provider_->resume(due.metric, *inFlight, now); })
                   : guarded([&]() { return provider_->measure(due.metric, now); });
      const Time startedAt = inFlight && inFlight->startedAt ? *inFlight->startedAt : now;
      Measurement m = conditions_->forMetric(due.metric).assess(outcome, startedAt, now);
      // An error while resuming keeps what the provider recorded when it started (the Job's name).
      if (inFlight && !outcome) m.metadata = inFlight->metadata;
      record(due.metric.name, std::move(m), now);
    }
    eval = evaluateRun(spec_, status_, now, secrets_);
    status_ = std::move(eval.status);
  }
  if (completed()) return std::nullopt;
  std::optional<Time> next = eval.nextCheck;
  // Something due again at once (a zero interval, a measurement in flight with no time to resume it)
  // waits for the next second, the clock's resolution.
  if (!eval.measure.empty() || !eval.terminate.empty() || (next && *next <= now)) next = now + Duration{1};
  return next;
}

}  // namespace sluice::analysis
