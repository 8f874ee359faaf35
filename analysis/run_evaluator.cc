// The run rules of docs/design.md §A.9-§A.11, as data in and data out.
#include "analysis/run_evaluator.h"

#include <algorithm>

#include "analysis/validate.h"
#include "base/json_fields.h"

namespace sluice::analysis {

namespace {

// A metric of the spec after templating, with what the rules need about it.
struct PlannedMetric {
  Metric metric;
  MetricTiming timing;
  bool dryRun = false;
  int retention = kDefaultMeasurementRetention;
};

struct Assessment {
  Phase phase = Phase::Unset;
  std::string message;  // why a limit ended the metric
};

bool matchesAny(const std::vector<std::string>& patterns, const std::string& name) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const auto& p) { return metricNameMatches(p, name); });
}

int retentionFor(const std::vector<MeasurementRetention>& entries, const std::string& name) {
  for (const auto& e : entries) {
    // The last measurement decides when the next is due, so at least one is always kept.
    if (metricNameMatches(e.metricName, name)) return std::max(e.limit, 1);
  }
  return kDefaultMeasurementRetention;
}

// The metrics of `spec` templated with its args, or the message the run errors with.
Result<std::vector<PlannedMetric>> planMetrics(const AnalysisRunSpec& spec, const SecretValues& secrets) {
  auto args = resolveArgs(spec.args, secrets);
  if (!args) return Error{args.error()};
  AnalysisRunSpec resolved = spec;
  for (auto& m : resolved.metrics) {
    auto r = resolveMetric(m, *args);
    if (!r) return Error{r.error()};
    m = std::move(*r);
  }
  Diagnostics diags;
  validateRunSpec(resolved, SourceMap(), diags);
  if (diags.hasErrors())
    return Error{maskSecrets("analysis spec invalid: " + json_fields::joinErrors(diags), args->secrets)};
  std::vector<PlannedMetric> out;
  for (auto& m : resolved.metrics) {
    auto timing = metricTiming(m);
    if (!timing) return Error{maskSecrets("metric \"" + m.name + "\": " + timing.error(), args->secrets)};
    const bool dryRun = matchesAny(spec.dryRun, m.name);
    const int retention = retentionFor(spec.measurementRetention, m.name);
    out.push_back(PlannedMetric{std::move(m), *timing, dryRun, retention});
  }
  return out;
}

bool failedRun(Phase p) { return p == Phase::Failed || p == Phase::Error || p == Phase::Inconclusive; }

bool isTerminating(const AnalysisRunSpec& spec, const AnalysisRunStatus& s) {
  if (spec.terminate) return true;
  return std::any_of(s.metricResults.begin(), s.metricResults.end(),
                     [](const MetricResult& r) { return !r.dryRun && failedRun(r.phase); });
}

std::string limitMessage(const char* what, int n, const char* limitName, int limit) {
  return std::string(what) + " (" + std::to_string(n) + ") > " + limitName + " (" + std::to_string(limit) +
         ")";
}

Assessment assessMetric(const PlannedMetric& pm, const MetricResult& r, bool terminating) {
  if (phaseCompleted(r.phase)) return {r.phase, r.message};
  if (r.measurements.empty()) return {terminating ? Phase::Successful : Phase::Pending, ""};
  if (!phaseCompleted(r.measurements.back().phase)) return {Phase::Running, ""};
  const Metric& m = pm.metric;
  Assessment a;
  const int failureLimit = m.failureLimitOrDefault();
  if (failureLimit >= 0 && r.failed > failureLimit) {
    a = {Phase::Failed, limitMessage("failed", r.failed, "failureLimit", failureLimit)};
  }
  if (r.inconclusive > m.inconclusiveLimitOrDefault()) {
    a = {Phase::Inconclusive,
         limitMessage("inconclusive", r.inconclusive, "inconclusiveLimit", m.inconclusiveLimitOrDefault())};
  }
  if (r.consecutiveError > m.consecutiveErrorLimitOrDefault()) {
    a = {Phase::Error, limitMessage("consecutiveErrors", r.consecutiveError, "consecutiveErrorLimit",
                                    m.consecutiveErrorLimitOrDefault())};
    if (!r.message.empty()) a.message += ": " + r.message;
  }
  if (a.phase != Phase::Unset) return a;
  const int successLimit = m.consecutiveSuccessLimitOrDefault();
  if (successLimit > 0 && r.consecutiveSuccess >= successLimit) return {Phase::Successful, ""};
  if (pm.timing.effectiveCount && r.count >= *pm.timing.effectiveCount) {
    if (successLimit > 0) {
      const std::string why = "consecutiveSuccess (" + std::to_string(r.consecutiveSuccess) +
                              ") < consecutiveSuccessLimit (" + std::to_string(successLimit) +
                              ") after count (" + std::to_string(r.count) + ")";
      return {failureLimit == -1 ? Phase::Failed : Phase::Inconclusive, why};
    }
    return {Phase::Successful, ""};
  }
  return {terminating ? Phase::Successful : Phase::Running, ""};
}

void countPhase(RunSummary& summary, Phase p) {
  ++summary.count;
  summary.successful += p == Phase::Successful;
  summary.failed += p == Phase::Failed;
  summary.inconclusive += p == Phase::Inconclusive;
  summary.error += p == Phase::Error;
}

// Assesses every metric and the run; returns the run's phase and message.
std::pair<Phase, std::string> assessRun(const std::vector<PlannedMetric>& plan, AnalysisRunStatus& s,
                                        bool terminating, bool terminateAsked) {
  Phase worst = Phase::Unset;
  std::string worstMessage = terminateAsked ? "Run Terminated" : "";
  bool everythingCompleted = true;
  RunSummary runSummary;
  RunSummary dryRunSummary;
  for (const auto& pm : plan) {
    MetricResult& r = *s.result(pm.metric.name);
    const Phase before = r.phase;
    Assessment a = assessMetric(pm, r, terminating);
    r.phase = a.phase;
    if (!phaseCompleted(before) && phaseCompleted(a.phase) && !a.message.empty()) {
      r.message = pm.dryRun ? "Dry-Run: " + a.message : a.message;
    }
    if (!phaseCompleted(r.phase)) everythingCompleted = false;
    if (pm.dryRun) {
      countPhase(dryRunSummary, r.phase);
      continue;
    }
    countPhase(runSummary, r.phase);
    if (worst == Phase::Unset || phaseSeverity(r.phase) > phaseSeverity(worst)) {
      worst = r.phase;
      if (!r.message.empty()) {
        worstMessage = "Metric \"" + r.name + "\" assessed " + phaseName(r.phase) + " due to " + r.message;
      }
    }
  }
  s.runSummary = runSummary;
  s.dryRunSummary = dryRunSummary.count > 0 ? std::optional(dryRunSummary) : std::nullopt;
  if (terminating) return {worst == Phase::Unset ? Phase::Successful : worst, worstMessage};
  if (!everythingCompleted || worst == Phase::Unset) return {Phase::Running, ""};
  return {worst, worstMessage};
}

void trimMeasurements(const std::vector<PlannedMetric>& plan, AnalysisRunStatus& s) {
  for (const auto& pm : plan) {
    auto& list = s.result(pm.metric.name)->measurements;
    if (list.size() > static_cast<size_t>(pm.retention)) {
      list.erase(list.begin(), list.end() - pm.retention);
    }
  }
}

// When the metric is next due, given its last measurement; nullopt when it never is again.
std::optional<Time> dueAt(const PlannedMetric& pm, const MetricResult& r, Time startedAt) {
  if (r.measurements.empty()) return startedAt + pm.timing.initialDelay.value_or(Duration{0});
  const Measurement& last = r.measurements.back();
  if (!last.finishedAt) return last.resumeAt;  // in flight: resumed when the provider asked
  if (last.phase == Phase::Error) return *last.finishedAt + kErrorRetryInterval;
  if (!pm.timing.interval) return std::nullopt;
  return *last.finishedAt + *pm.timing.interval;
}

}  // namespace

RunEvaluation evaluateRun(const AnalysisRunSpec& spec, const AnalysisRunStatus& status, Time now,
                          const SecretValues& secrets) {
  RunEvaluation out{status, {}, {}, std::nullopt};
  AnalysisRunStatus& s = out.status;
  if (phaseCompleted(s.phase)) return out;
  if (!s.startedAt) s.startedAt = now;

  auto plan = planMetrics(spec, secrets);
  if (!plan) {
    s.phase = Phase::Error;
    s.message = plan.error();
    s.completedAt = now;
    return out;
  }
  for (const auto& pm : *plan) {
    MetricResult* r = s.result(pm.metric.name);
    if (!r) {
      s.metricResults.push_back(MetricResult{});
      r = &s.metricResults.back();
      r->name = pm.metric.name;
      r->phase = Phase::Pending;
    }
    r->dryRun = pm.dryRun;
  }

  bool terminating = isTerminating(spec, s);
  auto [phase, message] = assessRun(*plan, s, terminating, spec.terminate);
  if (!terminating && isTerminating(spec, s)) {
    // A metric just failed: the rest stop now, not one evaluation later.
    terminating = true;
    std::tie(phase, message) = assessRun(*plan, s, terminating, spec.terminate);
  }
  s.phase = phase;
  s.message = maskSecrets(message, secretValues(secrets));
  trimMeasurements(*plan, s);
  for (const auto& pm : *plan) {
    const MetricResult& r = *s.result(pm.metric.name);
    if (terminating && !r.measurements.empty() && !r.measurements.back().finishedAt) {
      out.terminate.push_back(pm.metric.name);
    }
  }
  if (phaseCompleted(s.phase)) {
    s.completedAt = now;
    return out;
  }
  if (terminating) return out;

  for (const auto& pm : *plan) {
    const MetricResult& r = *s.result(pm.metric.name);
    if (phaseCompleted(r.phase)) continue;
    const bool inFlight = !r.measurements.empty() && !r.measurements.back().finishedAt;
    const std::optional<Time> due = dueAt(pm, r, *s.startedAt);
    if (inFlight && !due) {
      out.measure.push_back({pm.metric, true});
    } else if (due && *due <= now) {
      out.measure.push_back({pm.metric, inFlight});
    } else if (due && (!out.nextCheck || *due < *out.nextCheck)) {
      out.nextCheck = *due;
    }
  }
  return out;
}

Status recordMeasurement(AnalysisRunStatus& status, const std::string& metricName, Measurement m, Time now,
                         const SecretValues& secrets) {
  if (m.phase == Phase::Unset || m.phase == Phase::Pending) {
    return Error{
        std::string(
            "a measurement's phase must be Running, Successful, Failed, Inconclusive or Error, got \"") +
        phaseName(m.phase) + "\""};
  }
  const std::vector<std::string> masked = secretValues(secrets);
  m.message = maskSecrets(std::move(m.message), masked);
  m.value = maskSecrets(std::move(m.value), masked);
  for (auto& [key, value] : m.metadata) value = maskSecrets(std::move(value), masked);

  MetricResult* r = status.result(metricName);
  if (!r) {
    status.metricResults.push_back(MetricResult{});
    r = &status.metricResults.back();
    r->name = metricName;
    r->phase = Phase::Pending;
  }
  const bool replacesInFlight = !r->measurements.empty() && !r->measurements.back().finishedAt;
  if (replacesInFlight && !m.startedAt) m.startedAt = r->measurements.back().startedAt;
  if (!m.startedAt) m.startedAt = now;
  if (phaseCompleted(m.phase)) {
    if (!m.finishedAt) m.finishedAt = now;
    switch (m.phase) {
      case Phase::Successful:
        ++r->successful;
        ++r->count;
        ++r->consecutiveSuccess;
        r->consecutiveError = 0;
        break;
      case Phase::Failed:
        ++r->failed;
        ++r->count;
        r->consecutiveSuccess = 0;
        r->consecutiveError = 0;
        break;
      case Phase::Inconclusive:
        ++r->inconclusive;
        ++r->count;
        r->consecutiveSuccess = 0;
        r->consecutiveError = 0;
        break;
      default:  // Error
        ++r->error;
        ++r->consecutiveError;
        r->consecutiveSuccess = 0;
        break;
    }
    // The metric carries its last error, so a run that ends in Error says why.
    r->message = m.phase == Phase::Error ? m.message : "";
  } else {
    m.finishedAt.reset();
  }
  if (replacesInFlight) {
    r->measurements.back() = std::move(m);
  } else {
    r->measurements.push_back(std::move(m));
  }
  return {};
}

}  // namespace sluice::analysis
