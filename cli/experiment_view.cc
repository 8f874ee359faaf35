// The Experiment's view, from the object to text (see experiment_view.h).
#include "cli/experiment_view.h"

namespace sluice::cli {

using nlohmann::json;
using view::integer;
using view::str;

namespace {

// A template's status as the plugin's health: a finished template whose pods went is neutral.
Health templateHealth(const ExperimentTemplateView& t) {
  if (t.status == "Successful" && t.replicas == 0) return Health::kNeutral;
  if (t.status == "Progressing" || t.status == "Pending") return Health::kProgressing;
  if (t.status == "Running") return Health::kOk;  // all its pods available
  return view::phaseHealth(t.status);
}

}  // namespace

ExperimentDetailView buildExperimentView(const json& ex, Time now) {
  ExperimentDetailView v;
  v.name = str(ex, "/metadata/name");
  v.ns = str(ex, "/metadata/namespace");
  v.phase = str(ex, "/status/phase");
  if (v.phase.empty()) v.phase = "Pending";
  v.health = view::phaseHealth(v.phase);
  v.message = str(ex, "/status/message");
  for (const auto& ref : view::items(ex, "/metadata/ownerReferences")) {
    if (ref.is_object() && ref.value("kind", "") == "Rollout" && ref.value("controller", false))
      v.rollout = ref.value("name", "");
  }
  const json duration = ex.value(json::json_pointer("/spec/duration"), json());
  if (duration.is_string()) v.duration = duration.get<std::string>();
  if (duration.is_number_integer()) v.duration = formatDuration(Duration{duration.get<int64_t>()});
  v.availableAt = str(ex, "/status/availableAt");
  v.age = view::ageOf(ex, now);
  v.terminate = ex.value(json::json_pointer("/spec/terminate"), false) == true;
  const json& statuses = view::items(ex, "/status/templateStatuses");
  for (const auto& t : view::items(ex, "/spec/templates")) {
    ExperimentTemplateView tv;
    tv.name = str(t, "/name");
    tv.replicaSet = v.name + "-" + tv.name;
    tv.desired = static_cast<int>(integer(t, "/replicas", 1));
    tv.status = "Pending";
    for (const auto& s : statuses) {
      if (str(s, "/name") != tv.name) continue;
      if (const std::string status = str(s, "/status"); !status.empty()) tv.status = status;
      tv.replicas = static_cast<int>(integer(s, "/replicas"));
      tv.ready = static_cast<int>(integer(s, "/readyReplicas"));
      tv.available = static_cast<int>(integer(s, "/availableReplicas"));
      tv.message = str(s, "/message");
    }
    tv.health = templateHealth(tv);
    v.templates.push_back(std::move(tv));
  }
  const json& runs = view::items(ex, "/status/analysisRuns");
  for (const auto& a : view::items(ex, "/spec/analyses")) {
    ExperimentAnalysisView av;
    av.name = str(a, "/name");
    av.phase = "Pending";
    for (const auto& r : runs) {
      if (str(r, "/name") != av.name) continue;
      av.analysisRun = str(r, "/analysisRun");
      if (const std::string phase = str(r, "/phase"); !phase.empty()) av.phase = phase;
      av.message = str(r, "/message");
    }
    av.health = view::phaseHealth(av.phase);
    v.analyses.push_back(std::move(av));
  }
  return v;
}

std::string renderExperimentView(const ExperimentDetailView& v, bool color) {
  std::string out;
  auto line = [&out](const std::string& key, const std::string& value) { view::headerLine(out, key, value); };
  line("Name:", v.name);
  line("Namespace:", v.ns);
  line("Status:", view::status(v.health, v.phase, color) + (v.terminate ? " (terminated)" : ""));
  if (!v.message.empty()) line("Message:", v.message);
  if (!v.rollout.empty()) line("Rollout:", v.rollout);
  line("Duration:", v.duration.empty() ? "<until its analyses end or it is terminated>" : v.duration);
  if (!v.availableAt.empty()) line("Available:", v.availableAt);
  out += "\n";

  view::Columns table;
  table.add({"NAME", "KIND", "STATUS", "AGE", "INFO"});
  const auto statusCell = &view::Columns::statusCell;
  table.add({"Σ " + v.name, "Experiment", statusCell(v.health, v.phase), view::age(v.age)});
  const std::size_t rows = v.templates.size() + v.analyses.size();
  std::size_t row = 0;
  for (const auto& t : v.templates) {
    const bool last = ++row == rows;
    std::string info = "template " + t.name + ", ready " + std::to_string(t.ready) + "/" +
                       std::to_string(t.replicas == 0 && t.status != "Progressing" ? 0 : t.desired);
    if (!t.message.empty()) info += "  " + t.message;
    table.add({std::string(last ? "└──" : "├──") + "⧉ " + t.replicaSet, "ReplicaSet",
               statusCell(t.health, t.health == Health::kNeutral ? "ScaledDown" : t.status), "", info});
  }
  for (const auto& a : v.analyses) {
    const bool last = ++row == rows;
    std::string info = "analysis " + a.name;
    if (!a.message.empty()) info += "  " + a.message;
    table.add(
        {std::string(last ? "└──" : "├──") + "α " + (a.analysisRun.empty() ? "(not started)" : a.analysisRun),
         "AnalysisRun", statusCell(a.health, a.phase), "", info});
  }
  out += table.render(color);
  return out;
}

}  // namespace sluice::cli
