// The runner: where the simulation starts, when it stops, and how people's actions reach the engine.
#include <catch2/catch.hpp>

#include "engine/rollout_json.h"
#include "sim/simulator.h"

using namespace sluice;
using namespace sluice::sim;
using nlohmann::json;

namespace {

// A basic canary on 4 replicas: setWeight 25, an indefinite pause, setWeight 50, pause 10m.
json simulatedRollout() {
  return json::parse(R"({
    "apiVersion": "sluice.dev/v1alpha1", "kind": "Rollout",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
      "replicas": 4,
      "selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}},
                   "spec": {"containers": [{"name": "web", "image": "registry.example/web:v2"}]}},
      "strategy": {"canary": {"steps": [
        {"setWeight": 25}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": "10m"}}]}}
    }
  })");
}

RolloutInput input(const json& object = simulatedRollout()) {
  Diagnostics diags;
  auto rollout = engine::parseRollout(object, SourceMap(), diags);
  INFO(diags.format());
  REQUIRE(rollout);
  return RolloutInput{object, SourceMap(), *rollout, std::nullopt};
}

Scenario withActions(std::vector<std::pair<int, PersonAction::Kind>> actions,
                     int durationSeconds = 6 * 3600) {
  Scenario s;
  s.duration = Duration{durationSeconds};
  s.readiness = Duration{10};
  for (const auto& [at, kind] : actions) {
    PersonAction a;
    a.at = Duration{at};
    a.kind = kind;
    s.actions.push_back(a);
  }
  return s;
}

SimResult run(const Scenario& scenario, SimOptions options = {}) {
  auto result = simulate(input(), scenario, options);
  INFO((result ? std::string() : result.error()));
  REQUIRE(result);
  return *result;
}

const TimelineRow* findEvent(const SimResult& r, const std::string& event) {
  for (const auto& row : r.timeline) {
    if (row.event == event) return &row;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("an update starts from a fully promoted stable revision at full scale", "[sim][runner]") {
  const SimResult r = run(withActions({}));
  REQUIRE_FALSE(r.timeline.empty());
  const TimelineRow& first = r.timeline.front();
  CHECK(first.t == Duration{0});
  CHECK(first.event == "Update");
  CHECK(first.message == "new revision registry.example/web:v2 (stable registry.example/web:previous)");
  CHECK(first.phase == "Healthy");
  CHECK(first.stable == ReplicaCount{4, 4});
  CHECK(first.canaryWeight == 0);
}

TEST_CASE("an indefinite pause with no later action ends the simulation Paused", "[sim][runner]") {
  const SimResult r = run(withActions({}));
  CHECK(r.phase == "Paused");
  CHECK_FALSE(r.aborted);
  CHECK(r.endedAt < Duration{3600});
  CHECK(r.timeline.back().step == 1);
  CHECK(r.timeline.back().canaryWeight == 25);  // one of four pods
}

TEST_CASE("a promote by hand moves past the indefinite pause to Healthy", "[sim][runner]") {
  const SimResult r = run(withActions({{1800, PersonAction::Kind::Promote}}));
  CHECK(r.phase == "Healthy");
  const TimelineRow* promote = findEvent(r, "promote");
  REQUIRE(promote);
  CHECK(promote->t == Duration{1800});
  // Healthy after the 10m pause that follows, and not before.
  CHECK(r.endedAt >= Duration{1800 + 600});
  CHECK(r.timeline.back().canaryWeight == 0);
  CHECK(r.timeline.back().stable == ReplicaCount{4, 4});
}

TEST_CASE("an abort ends Degraded and a retry runs the steps again", "[sim][runner]") {
  const SimResult aborted = run(withActions({{600, PersonAction::Kind::Abort}}));
  CHECK(aborted.phase == "Degraded");
  CHECK(aborted.aborted);
  REQUIRE(aborted.aborts.size() == 1);
  CHECK(aborted.aborts[0].t == Duration{600});
  CHECK(aborted.timeline.back().canaryWeight == 0);

  const SimResult retried = run(withActions({{600, PersonAction::Kind::Abort},
                                             {1200, PersonAction::Kind::Retry},
                                             {2400, PersonAction::Kind::Promote}}));
  CHECK(retried.phase == "Healthy");
  CHECK_FALSE(retried.aborted);
  CHECK(retried.aborts.size() == 1);
}

TEST_CASE("an action the steering refuses is shown, not applied", "[sim][runner]") {
  const SimResult r = run(withActions({{300, PersonAction::Kind::Retry}}));
  const TimelineRow* retry = findEvent(r, "retry");
  REQUIRE(retry);
  CHECK(retry->message.rfind("refused: ", 0) == 0);
  CHECK(r.phase == "Paused");
}

TEST_CASE("a manual pause holds the rollout until resumed", "[sim][runner]") {
  const SimResult r = run(withActions({{1, PersonAction::Kind::Pause},
                                       {1200, PersonAction::Kind::Resume},
                                       {1800, PersonAction::Kind::Promote}}));
  CHECK(r.phase == "Healthy");
  // Nothing completes while manually paused: the first step completes after the resume.
  const TimelineRow* firstStep = findEvent(r, "RolloutStepCompleted");
  REQUIRE(firstStep);
  CHECK(firstStep->t >= Duration{1200});
}

TEST_CASE("the simulation stops at the scenario's duration", "[sim][runner]") {
  const SimResult r = run(withActions({{1800, PersonAction::Kind::Promote}}, 1900));
  CHECK(r.endedAt == Duration{1900});
  CHECK(r.phase != "Healthy");
}

TEST_CASE("an update action makes a new revision and restarts the steps", "[sim][runner]") {
  Scenario s = withActions({{1200, PersonAction::Kind::Update}, {2400, PersonAction::Kind::Promote}});
  s.actions[0].image = "registry.example/web:v3";
  const SimResult r = run(s);
  const TimelineRow* update = findEvent(r, "set image registry.example/web:v3");
  REQUIRE(update);
  CHECK(update->t == Duration{1200});
  bool restarted = false;
  for (const auto& row : r.timeline) restarted = restarted || (row.t >= Duration{1200} && row.step == 0);
  CHECK(restarted);
  CHECK(r.phase == "Healthy");
}

TEST_CASE("a first deploy (the --initial flag) goes to full scale at once, with no steps", "[sim][runner]") {
  SimOptions initial;
  initial.initial = true;
  const SimResult r = run(withActions({}), initial);
  CHECK(r.phase == "Healthy");
  CHECK(findEvent(r, "Update") == nullptr);
  CHECK(r.timeline.back().stable == ReplicaCount{4, 4});
  CHECK(r.endedAt == Duration{10});  // one readiness delay
}

TEST_CASE("the scenario's stable image is the one the update starts from", "[sim][runner]") {
  Scenario s = withActions({});
  s.stableImage = "registry.example/web:v1";
  const SimResult r = run(s);
  CHECK(r.timeline.front().message ==
        "new revision registry.example/web:v2 (stable registry.example/web:v1)");
}

TEST_CASE("a restart replaces the stable pods one at a time and waits for its restartAt", "[sim][runner]") {
  // Promoted by 1800 + 600; restarted at 3600 at once, then at 5400 with --in 10m (restartAt 6000).
  Scenario s = withActions({{1800, PersonAction::Kind::Promote},
                            {3600, PersonAction::Kind::Restart},
                            {5400, PersonAction::Kind::Restart}});
  s.actions[2].in = Duration{600};
  const SimResult r = run(s);
  CHECK(r.phase == "Healthy");
  std::vector<Duration> evictions, restarted;
  for (const auto& row : r.timeline) {
    if (row.event == "RestartingPods") {
      evictions.push_back(row.t);
      CHECK(row.message.find("Restarting 1 pod of ReplicaSet web-") == 0);
    }
    if (row.event == "RolloutRestarted") restarted.push_back(row.t);
    // maxUnavailable 25% of 4: never more than one of the four pods down.
    if (row.t >= Duration{3600}) CHECK(row.stable.ready >= 3);
    if (row.t > Duration{3600} && row.t < Duration{3630}) {
      CHECK(row.phase == "Progressing");
      if (row.event.empty()) CHECK(row.message == "rollout is restarting");
    }
  }
  // Four pods each time, one every 10 s (the readiness), the second restart not before its restartAt.
  const std::vector<Duration> expected = {Duration{3600}, Duration{3610}, Duration{3620}, Duration{3630},
                                          Duration{6000}, Duration{6010}, Duration{6020}, Duration{6030}};
  CHECK(evictions == expected);
  // Done once the last old pod is evicted (its replacement still starting), as Argo Rollouts does.
  CHECK(restarted == std::vector<Duration>{Duration{3630}, Duration{6030}});
  CHECK(r.timeline.back().stable == ReplicaCount{4, 4});
}

TEST_CASE("a workloadRef Rollout runs its Deployment's template, a first deploy scales the Deployment down",
          "[sim][workload]") {
  const std::string dir = std::string(SLUICE_SOURCE_DIR) + "/examples/workload-ref/";
  Diagnostics diags;
  auto input = loadSimInput({dir + "rollout.yaml", dir + "deployment.yaml"}, dir + "scenario.yaml", diags);
  INFO(diags.format());
  REQUIRE(input);
  REQUIRE(input->rollouts.front().workload.has_value());

  SimOptions initial;
  initial.initial = true;
  auto result = simulate(input->rollouts.front(), input->scenario, initial);
  INFO((result ? std::string() : result.error()));
  REQUIRE(result);
  std::vector<const TimelineRow*> scalings;
  const TimelineRow* update = nullptr;
  for (const auto& row : result->timeline) {
    if (row.event == "ScalingWorkload") scalings.push_back(&row);
    if (row.byPerson && row.message.find("cart:1.5") != std::string::npos) update = &row;
  }
  // The first revision's 4 pods are ready at 20s: the Deployment hands over all at once.
  REQUIRE(scalings.size() == 1);
  CHECK(scalings[0]->t == Duration{20});
  CHECK(scalings[0]->message == "Scaled Deployment cart from 4 to 0 (workloadRef.scaleDown: progressively)");
  // The image changed in the Deployment at 10m: the Rollout ran it as a canary through its steps.
  REQUIRE(update != nullptr);
  CHECK(update->t == Duration{600});
  bool canaryAt25 = false;
  for (const auto& row : result->timeline)
    canaryAt25 = canaryAt25 || (row.t > Duration{600} && row.canaryWeight == 25);
  CHECK(canaryAt25);
  CHECK(result->phase == "Healthy");
}

TEST_CASE("the simulator refuses a workloadRef Rollout given without its Deployment, naming the field",
          "[sim][workload]") {
  const std::string dir = std::string(SLUICE_SOURCE_DIR) + "/examples/workload-ref/";
  Diagnostics diags;
  auto input = loadSimInput({dir + "rollout.yaml"}, dir + "scenario.yaml", diags);
  CHECK_FALSE(input);
  bool found = false;
  for (const auto& d : diags.items()) {
    found = found || (d.path == "spec.workloadRef.name" && d.line == 15 &&
                      d.message.find("Deployment \"cart\" is not in the input files") != std::string::npos);
  }
  INFO(diags.format());
  CHECK(found);
}

TEST_CASE("minReadySeconds holds each step until the new pods have been ready that long",
          "[sim][runner][canary-semantics]") {
  struct Row {
    const char* behaviour;
    int minReadySeconds;
    int firstStepAt;  // pods ready after 10s, then available after minReadySeconds more
  };
  const Row rows[] = {{"without minReadySeconds the pods count once ready", 0, 10},
                      {"with 30s the step completes 30s after the pods are ready", 30, 40}};
  for (const auto& row : rows) {
    INFO(row.behaviour);
    json object = simulatedRollout();
    object["spec"]["minReadySeconds"] = row.minReadySeconds;
    auto result = simulate(input(object), withActions({}), {});
    REQUIRE(result);
    const TimelineRow* firstStep = findEvent(*result, "RolloutStepCompleted");
    REQUIRE(firstStep);
    CHECK(firstStep->t == Duration{row.firstStepAt});
    CHECK(firstStep->canary == ReplicaCount{1, 1});
  }
}

TEST_CASE("rollbackWindow: an update back to the previous revision skips the steps in the simulation",
          "[sim][runner][canary-semantics]") {
  struct Row {
    const char* behaviour;
    std::optional<int> window;
    std::string phase;
  };
  const Row rows[] = {{"without a window the steps run again and pause", std::nullopt, "Paused"},
                      {"within the window it is Healthy without a step", 1, "Healthy"}};
  for (const auto& row : rows) {
    INFO(row.behaviour);
    json object = simulatedRollout();
    if (row.window) object["spec"]["rollbackWindow"] = {{"revisions", *row.window}};
    Scenario scenario = withActions({{60, PersonAction::Kind::PromoteFull}});
    PersonAction back;
    back.at = Duration{600};
    back.kind = PersonAction::Kind::Update;
    back.image = "registry.example/web:previous";
    scenario.actions.push_back(back);
    auto result = simulate(input(object), scenario, {});
    REQUIRE(result);
    CHECK(result->phase == row.phase);
    int stepsAfterBack = 0;
    for (const auto& r : result->timeline) {
      if (r.t > Duration{600} && r.event == "RolloutStepCompleted") ++stepsAfterBack;
    }
    CHECK((stepsAfterBack == 0) == row.window.has_value());
  }
}
