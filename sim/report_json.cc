// The JSON report: what scripts, CI checks and the golden tests read.
#include "sim/report.h"

namespace sluice::sim {

namespace {

using nlohmann::json;

json replicas(const ReplicaCount& c) { return json{{"ready", c.ready}, {"desired", c.desired}}; }

json optionalSeconds(const std::optional<Duration>& d) { return d ? json(d->count()) : json(nullptr); }

}  // namespace

json toJson(const SimResult& result) {
  json out;
  out["rollout"] = result.rolloutName;
  out["steps"] = result.steps;
  out["trafficRouting"] = result.trafficRouted;
  if (result.blueGreen) out["strategy"] = "blueGreen";
  out["duration"] = result.duration.count();
  out["result"] = {{"phase", result.phase},
                   {"aborted", result.aborted},
                   {"endedAt", result.endedAt.count()},
                   {"message", result.message}};
  json timeline = json::array();
  const auto hash = [](const std::optional<std::string>& h) { return h ? json(*h) : json(nullptr); };
  for (const auto& row : result.timeline) {
    if (result.blueGreen) {
      timeline.push_back({{"t", row.t.count()},
                          {"active", hash(row.active)},
                          {"preview", hash(row.preview)},
                          {"activeReplicas", replicas(row.activeReplicas)},
                          {"previewReplicas", replicas(row.previewReplicas)},
                          {"phase", row.phase},
                          {"event", row.event.empty() ? json(nullptr) : json(row.event)},
                          {"message", row.message}});
      continue;
    }
    timeline.push_back({{"t", row.t.count()},
                        {"step", row.step ? json(*row.step) : json(nullptr)},
                        {"canaryWeight", row.canaryWeight},
                        {"stableWeight", row.stableWeight},
                        {"canaryReplicas", replicas(row.canary)},
                        {"stableReplicas", replicas(row.stable)},
                        {"phase", row.phase},
                        {"event", row.event.empty() ? json(nullptr) : json(row.event)},
                        {"message", row.message}});
  }
  out["timeline"] = std::move(timeline);
  json runs = json::array();
  for (const auto& run : result.analysisRuns) {
    json measurements = json::array();
    for (const auto& m : run.measurements) {
      measurements.push_back({{"metric", m.metric},
                              {"t", m.t.count()},
                              {"phase", m.phase},
                              {"value", m.value},
                              {"message", m.message}});
    }
    runs.push_back({{"name", run.name},
                    {"templates", run.templates},
                    {"step", run.step ? json(*run.step) : json(nullptr)},
                    {"startedAt", run.startedAt.count()},
                    {"endedAt", optionalSeconds(run.endedAt)},
                    {"phase", run.phase},
                    {"message", run.message},
                    {"scripted", run.scripted},
                    {"measurements", std::move(measurements)}});
  }
  out["analysisRuns"] = std::move(runs);
  json aborts = json::array();
  for (const auto& a : result.aborts) aborts.push_back({{"t", a.t.count()}, {"message", a.message}});
  out["aborts"] = std::move(aborts);
  return out;
}

}  // namespace sluice::sim
