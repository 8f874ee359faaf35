// Accessors and small rules of the analysis model that need no JSON.
#include "analysis/model.h"

#include <charconv>

namespace sluice::analysis {

Result<int> IntOrString::resolve() const {
  if (number) return *number;
  int n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return Error{"must be a whole number, got \"" + text + "\""};
  }
  return n;
}

Result<MetricTiming> metricTiming(const Metric& metric) {
  MetricTiming timing;
  if (!metric.interval.empty()) {
    auto d = parseDuration(metric.interval);
    if (!d) return Error{"interval: " + d.error()};
    timing.interval = *d;
  }
  if (!metric.initialDelay.empty()) {
    auto d = parseDuration(metric.initialDelay);
    if (!d) return Error{"initialDelay: " + d.error()};
    timing.initialDelay = *d;
  }
  int count = 0;
  if (metric.count) {
    auto c = metric.count->resolve();
    if (!c) return Error{"count: " + c.error()};
    count = *c;
  }
  if (count > 0) {
    timing.effectiveCount = count;
  } else if (!timing.interval) {
    timing.effectiveCount = 1;
  }
  return timing;
}

Result<Phase> phaseFromName(std::string_view name) {
  for (Phase p : {Phase::Unset, Phase::Pending, Phase::Running, Phase::Successful, Phase::Failed,
                  Phase::Error, Phase::Inconclusive}) {
    if (name == phaseName(p)) return p;
  }
  return Error{"must be one of Pending, Running, Successful, Failed, Error, Inconclusive, got \"" +
               std::string(name) + "\""};
}

const MetricResult* AnalysisRunStatus::result(const std::string& metricName) const {
  for (const auto& r : metricResults) {
    if (r.name == metricName) return &r;
  }
  return nullptr;
}

MetricResult* AnalysisRunStatus::result(const std::string& metricName) {
  for (auto& r : metricResults) {
    if (r.name == metricName) return &r;
  }
  return nullptr;
}

}  // namespace sluice::analysis
