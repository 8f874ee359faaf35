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
      return {Value::number(v), goNumber(v), {}};
    }
    case MetricPoint::Kind::Values: {
      std::string text = "[";
      for (size_t i = 0; i < point.values.size(); ++i) text += (i ? " " : "") + goNumber(point.values[i]);
      return {Value::vector(point.values), text + "]", {}};
    }
    case MetricPoint::Kind::Empty:
    case MetricPoint::Kind::Error:
      break;
  }
  return {Value::vector({}), "[]", {}};
}

ScenarioProvider::ScenarioProvider(const std::map<std::string, std::vector<MetricPoint>>& metrics, Time epoch)
    : metrics_(metrics), epoch_(epoch) {}

Result<analysis::ProviderResult> ScenarioProvider::measure(const analysis::Metric& metric, Time at) {
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
  if (point.kind == MetricPoint::Kind::Error) return Error{point.error};
  return scenarioResult(point);
}

}  // namespace sluice::sim
