// The AnalysisRun's view, from the object to text (see analysis_run_view.h).
#include "cli/analysis_run_view.h"

#include <algorithm>

#include "cli/view_text.h"
#include "controller/resources.h"

namespace sluice::cli {

using nlohmann::json;
using view::integer;
using view::str;

namespace {

std::string argText(const json& arg) {
  const std::string name = str(arg, "/name");
  if (arg.contains("value")) return name + "=" + str(arg, "/value");
  if (const std::string secret = str(arg, "/valueFrom/secretKeyRef/name"); !secret.empty())
    return name + " from Secret " + secret + " key " + str(arg, "/valueFrom/secretKeyRef/key");
  if (const std::string field = str(arg, "/valueFrom/fieldRef/fieldPath"); !field.empty())
    return name + " from " + field;
  return name + " (no value)";
}

MeasurementView measurementView(const json& m) {
  MeasurementView v;
  v.phase = str(m, "/phase");
  v.health = view::phaseHealth(v.phase);
  const auto value = m.find("value");
  if (value != m.end() && !value->is_null())
    v.value = value->is_string() ? value->get<std::string>() : value->dump();
  v.startedAt = str(m, "/startedAt");
  v.finishedAt = str(m, "/finishedAt");
  v.message = str(m, "/message");
  return v;
}

MetricView metricView(const std::string& name, const json* result) {
  MetricView v;
  v.name = name;
  if (result != nullptr) {
    v.phase = str(*result, "/phase");
    v.message = str(*result, "/message");
    v.successful = static_cast<int>(integer(*result, "/successful"));
    v.failed = static_cast<int>(integer(*result, "/failed"));
    v.inconclusive = static_cast<int>(integer(*result, "/inconclusive"));
    v.error = static_cast<int>(integer(*result, "/error"));
    for (const json& m : view::items(*result, "/measurements")) {
      if (m.is_object()) v.measurements.push_back(measurementView(m));
    }
  }
  if (v.phase.empty()) v.phase = "Pending";
  v.health = view::phaseHealth(v.phase);
  return v;
}

}  // namespace

AnalysisRunDetailView buildAnalysisRunView(const json& run, Time now) {
  AnalysisRunDetailView v;
  v.name = str(run, "/metadata/name");
  v.ns = str(run, "/metadata/namespace");
  v.startedAt = str(run, "/status/startedAt");
  if (auto started = parseRfc3339(v.startedAt)) v.age = now - *started;
  v.phase = str(run, "/status/phase");
  if (v.phase.empty()) v.phase = "Pending";
  v.health = view::phaseHealth(v.phase);
  v.message = str(run, "/status/message");
  v.rollout = view::label(run, controller::kRolloutLabel);
  for (const json& arg : view::items(run, "/spec/args")) {
    if (arg.is_object()) v.args.push_back(argText(arg));
  }
  const json& results = view::items(run, "/status/metricResults");
  auto resultFor = [&results](const std::string& name) -> const json* {
    for (const json& r : results) {
      if (str(r, "/name") == name) return &r;
    }
    return nullptr;
  };
  for (const json& metric : view::items(run, "/spec/metrics")) {
    const std::string name = str(metric, "/name");
    v.metrics.push_back(metricView(name, resultFor(name)));
  }
  for (const json& r : results) {
    const std::string name = str(r, "/name");
    const bool known =
        std::any_of(v.metrics.begin(), v.metrics.end(), [&](const MetricView& m) { return m.name == name; });
    if (!known) v.metrics.push_back(metricView(name, &r));
  }
  return v;
}

std::string renderAnalysisRunView(const AnalysisRunDetailView& v, bool color) {
  std::string out;
  auto line = [&out](const std::string& key, const std::string& value) { view::headerLine(out, key, value); };
  line("Name:", v.name);
  line("Namespace:", v.ns);
  line("Status:", view::status(v.health, v.phase, color));
  if (!v.message.empty()) line("Message:", v.message);
  if (!v.rollout.empty()) line("Rollout:", v.rollout);
  if (!v.startedAt.empty()) line("Started:", v.startedAt + (v.age ? " (" + view::age(v.age) + " ago)" : ""));
  if (v.args.empty()) line("Args:", "<none>");
  for (std::size_t i = 0; i < v.args.size(); ++i) line(i == 0 ? "Args:" : "", v.args[i]);
  out += "\n";

  view::Columns table;
  table.add({"NAME", "KIND", "STATUS", "VALUE", "STARTED", "FINISHED", "INFO"});
  const auto statusCell = &view::Columns::statusCell;
  table.add({"α " + v.name, "AnalysisRun", statusCell(v.health, v.phase)});
  for (std::size_t i = 0; i < v.metrics.size(); ++i) {
    const MetricView& m = v.metrics[i];
    const bool lastMetric = i + 1 == v.metrics.size();
    std::string info = "✔ " + std::to_string(m.successful) + ",✖ " + std::to_string(m.failed);
    if (m.inconclusive > 0) info += ",⚠ " + std::to_string(m.inconclusive);
    if (m.error > 0) info += ",error " + std::to_string(m.error);
    if (!m.message.empty()) info += "  " + m.message;
    table.add({std::string(lastMetric ? "└──" : "├──") + m.name, "Metric", statusCell(m.health, m.phase), "",
               "", "", info});
    const std::string indent = lastMetric ? "   " : "│  ";
    for (std::size_t j = 0; j < m.measurements.size(); ++j) {
      const MeasurementView& meas = m.measurements[j];
      table.add({indent + (j + 1 == m.measurements.size() ? "└──" : "├──") + "#" + std::to_string(j + 1),
                 "Measurement", statusCell(meas.health, meas.phase.empty() ? "Running" : meas.phase),
                 meas.value, meas.startedAt, meas.finishedAt, meas.message});
    }
  }
  out += table.render(color);
  return out;
}

}  // namespace sluice::cli
