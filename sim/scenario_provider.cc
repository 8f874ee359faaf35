// Scenario metrics as measurements: the point in force at a virtual time.
#include "sim/scenario_provider.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "sim/report.h"

namespace sluice::sim {

namespace {

// A number as Go's fmt prints a float64 (%v), as Argo's measurement values show it.
std::string goNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

}  // namespace

analysis::ProviderResult scenarioResult(const MetricPoint& point) {
  using analysis::Value;
  switch (point.kind) {
    case MetricPoint::Kind::Value:
    case MetricPoint::Kind::NaN: {
      const double v = point.values.empty() ? std::nan("") : point.values.front();
      return {Value::number(v), goNumber(v), {}, {}, {}, {}};
    }
    case MetricPoint::Kind::Values: {
      std::string text = "[";
      for (size_t i = 0; i < point.values.size(); ++i) text += (i ? " " : "") + goNumber(point.values[i]);
      return {Value::vector(point.values), text + "]", {}, {}, {}, {}};
    }
    case MetricPoint::Kind::Document:
      return analysis::resultFromJson(point.document);
    case MetricPoint::Kind::Empty:
    case MetricPoint::Kind::Error:
    case MetricPoint::Kind::Job:
      break;
  }
  return {Value::vector({}), "[]", {}, {}, {}, {}};
}

ScenarioProvider::ScenarioProvider(const std::map<std::string, std::vector<MetricPoint>>& metrics, Time epoch)
    : metrics_(metrics), epoch_(epoch) {}

Result<const MetricPoint*> ScenarioProvider::pointAt(const analysis::Metric& metric, Time at) const {
  const auto series = metrics_.find(metric.name);
  if (series == metrics_.end() || series->second.empty()) {
    return Error{"the scenario has no spec.metrics." + metric.name + " to answer metric \"" + metric.name +
                 "\""};
  }
  const Duration offset = at - epoch_;
  const auto& points = series->second;
  const auto after = std::upper_bound(points.begin(), points.end(), offset,
                                      [](Duration t, const MetricPoint& p) { return t < p.at; });
  if (after == points.begin()) {
    return Error{"spec.metrics." + metric.name + " has no point at or before " + formatSimTime(offset) +
                 " (its first is at " + formatSimTime(points.front().at) + ")"};
  }
  const MetricPoint& point = *(after - 1);
  const bool jobMetric = metric.provider.job.has_value();
  if (jobMetric != (point.kind == MetricPoint::Kind::Job)) {
    return Error{"spec.metrics." + metric.name + " at " + formatSimTime(point.at) +
                 (jobMetric ? " gives a value, but the metric runs a Job: give {job: {after, fails}}"
                            : " describes a Job, but the metric is not a job metric: give a value")};
  }
  return &point;
}

Result<analysis::ProviderResult> ScenarioProvider::measure(const analysis::Metric& metric, Time at) {
  auto point = pointAt(metric, at);
  if (!point) return Error{point.error()};
  if ((*point)->kind == MetricPoint::Kind::Error) return Error{(*point)->error};
  if ((*point)->kind != MetricPoint::Kind::Job) return scenarioResult(**point);
  // A Job starts; its outcome comes when it is due.
  analysis::ProviderResult r;
  r.phase = analysis::Phase::Running;
  r.resumeAt = at + (*point)->jobAfter;
  return r;
}

Result<analysis::ProviderResult> ScenarioProvider::resume(const analysis::Metric& metric,
                                                          const analysis::Measurement& inFlight, Time at) {
  // The Job behaves as the point in force when it started.
  const Time started = inFlight.startedAt.value_or(at);
  auto point = pointAt(metric, started);
  if (!point) return Error{point.error()};
  analysis::ProviderResult r;
  if ((*point)->kind != MetricPoint::Kind::Job) return Error{"no Job is running for metric " + metric.name};
  if (at < started + (*point)->jobAfter) {
    r.phase = analysis::Phase::Running;
    r.resumeAt = started + (*point)->jobAfter;
  } else if ((*point)->jobFails) {
    r.phase = analysis::Phase::Failed;
    r.message = "the Job failed (spec.metrics." + metric.name + ")";
  } else {
    r.phase = analysis::Phase::Successful;
  }
  return r;
}

}  // namespace sluice::sim
