// The simulator runs experiment steps: the step's Experiment is settled in virtual time by the shell the
// controller's Experiment reconciler runs, its pods become ready as the scenario says, its analyses end as
// the scenario scripts them, and its phase moves the Rollout on or aborts it.
#include <catch2/catch.hpp>

#include "engine/rollout_json.h"
#include "sim/simulator.h"

using namespace sluice;
using namespace sluice::sim;
using nlohmann::json;

namespace {

// web on 4 replicas: an experiment step (baseline and canary, an analysis of template "compare", 5m),
// then setWeight 50.
json experimentStepRollout() {
  return json::parse(R"({
    "apiVersion": "sluice.dev/v1alpha1", "kind": "Rollout",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
      "replicas": 4,
      "selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}},
                   "spec": {"containers": [{"name": "web", "image": "registry.example/web:v2"}]}},
      "strategy": {"canary": {"steps": [
        {"experiment": {"duration": "5m",
                        "templates": [{"name": "baseline", "specRef": "stable"},
                                      {"name": "canary", "specRef": "canary"}],
                        "analyses": [{"name": "compare", "templateName": "compare"}]}},
        {"setWeight": 50}]}}
    }
  })");
}

SimResult simulateExperimentStep(const std::string& outcome) {
  const json object = experimentStepRollout();
  Diagnostics diags;
  auto rollout = engine::parseRollout(object, SourceMap(), diags);
  INFO(diags.format());
  REQUIRE(rollout);
  Scenario s;
  s.duration = Duration{3600};
  s.readiness = Duration{10};
  s.analysisRuns["compare"] = AnalysisOutcome{outcome, Duration{60}, "compared", ""};
  auto result = simulate(RolloutInput{object, SourceMap(), *rollout, std::nullopt}, s, SimOptions{});
  INFO((result ? std::string() : result.error()));
  REQUIRE(result);
  return *result;
}

const TimelineRow* eventRow(const SimResult& r, const std::string& event) {
  for (const auto& row : r.timeline) {
    if (row.event == event) return &row;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the simulator runs an experiment step for its duration and goes on", "[sim][experiment]") {
  const SimResult r = simulateExperimentStep("Successful");
  CHECK(r.phase == "Healthy");
  const TimelineRow* created = eventRow(r, "ExperimentCreated");
  REQUIRE(created);
  CHECK(created->t == Duration{0});
  // Its pods are ready 10s in; the 5m count from then, so the step completes at 310s.
  const TimelineRow* stepDone = eventRow(r, "RolloutStepCompleted");
  REQUIRE(stepDone);
  CHECK(stepDone->t == Duration{310});
  // The analysis the Experiment ran is in the report, scripted as the scenario says.
  bool compared = false;
  for (const auto& run : r.analysisRuns) compared = compared || (run.phase == "Successful" && run.scripted);
  CHECK(compared);
}

TEST_CASE("the simulator aborts the update when the experiment's analysis fails", "[sim][experiment]") {
  const SimResult r = simulateExperimentStep("Failed");
  CHECK(r.aborted);
  CHECK(r.phase == "Degraded");
  const TimelineRow* aborted = eventRow(r, "RolloutAborted");
  REQUIRE(aborted);
  // The run fails 60s after it started, which was when the Experiment's pods were ready (10s).
  CHECK(aborted->t == Duration{70});
  CHECK_THAT(aborted->message, Catch::Contains("Experiment"));
}
