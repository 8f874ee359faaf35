// Building blocks for the run evaluator tests: metrics from their limits, and a driver that plays a run
// through evaluateRun and recordMeasurement on a virtual clock.
#pragma once

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/run_evaluator.h"

namespace sluice::testing {

inline const Time kT0 = timeFromUnix(1'800'000'000);

// The fields of a metric that the run rules read; the rest get a valid web provider.
struct Limits {
  std::string interval;
  int count = 0;  // 0: not set
  std::optional<int> failureLimit;
  std::optional<int> inconclusiveLimit;
  std::optional<int> consecutiveErrorLimit;
  std::optional<int> consecutiveSuccessLimit;
  std::string initialDelay;
};

inline analysis::Metric metricWith(const std::string& name, const Limits& l) {
  analysis::Metric m;
  m.name = name;
  m.interval = l.interval;
  m.initialDelay = l.initialDelay;
  if (l.count > 0) m.count = analysis::IntOrString{l.count, ""};
  m.failureLimit = l.failureLimit;
  m.inconclusiveLimit = l.inconclusiveLimit;
  m.consecutiveErrorLimit = l.consecutiveErrorLimit;
  m.consecutiveSuccessLimit = l.consecutiveSuccessLimit;
  m.provider.web = analysis::WebMetric{};
  m.provider.web->url = "http://checks.local/" + name;
  return m;
}

// Plays a run: evaluate, record measurements, advance the clock.
struct RunDriver {
  analysis::AnalysisRunSpec spec;
  analysis::AnalysisRunStatus status;
  analysis::SecretValues secrets;
  Time now = kT0;
  analysis::RunEvaluation last;

  const analysis::RunEvaluation& evaluate() {
    last = analysis::evaluateRun(spec, status, now, secrets);
    status = last.status;
    return last;
  }
  void record(const std::string& metric, analysis::Phase phase, std::string message = "") {
    analysis::Measurement m;
    m.phase = phase;
    m.message = std::move(message);
    REQUIRE(analysis::recordMeasurement(status, metric, m, now, secrets).ok());
  }
  bool due(const std::string& metric) const {
    for (const auto& m : last.measure) {
      if (m.metric.name == metric) return true;
    }
    return false;
  }
  const analysis::MetricResult& result(const std::string& metric) const {
    const analysis::MetricResult* r = status.result(metric);
    REQUIRE(r != nullptr);
    return *r;
  }
};

}  // namespace sluice::testing
