// The canary experiment step, through the Rollout fake world: the Experiment it creates (Argo's name, the
// stable and canary templates), and what its phase does to the update.
#include <catch2/catch.hpp>

#include "base/pod_template_hash.h"
#include "engine/rollout_json.h"
#include "tests/unit/engine/test_world.h"

using namespace sluice;
using namespace sluice::engine;
using namespace sluice::engine::testing;
using analysis::Phase;

namespace {

ExperimentStep stepOfTwoTemplates() {
  ExperimentStep step;
  step.duration = Duration{300};
  ExperimentStepTemplate baseline;
  baseline.name = "baseline";
  baseline.specRef = "stable";
  ExperimentStepTemplate canary;
  canary.name = "canary";
  canary.specRef = "canary";
  canary.replicas = 2;
  canary.metadata.labels = {{"variant", "canary"}};
  step.templates = {baseline, canary};
  ExperimentStepAnalysis compare;
  compare.name = "compare";
  compare.templateName = "mann-whitney";
  compare.args = {{"stable-hash", std::nullopt, "Stable", std::nullopt},
                  {"canary-hash", std::nullopt, "Latest", std::nullopt}};
  step.analyses = {compare};
  return step;
}

// web at revision 1 (web:1) updated to web:2, settled at the experiment step.
FakeWorld atExperimentStep() {
  Rollout r = RolloutBuilder().replicas(3).build();
  r.spec.canary.steps.push_back({stepOfTwoTemplates()});
  r.spec.canary.steps.push_back({SetWeightStep{50}});
  FakeWorld w(r);
  w.settle();
  REQUIRE(w.rollout.status.phase == "Healthy");
  w.newImage("web:2");
  w.settle();
  return w;
}

std::string experimentStepHash(const FakeWorld& w) { return podTemplateHash(w.rollout.spec.podTemplate); }

}  // namespace

TEST_CASE("an experiment step creates an Experiment of the stable and canary templates", "[experiment]") {
  FakeWorld w = atExperimentStep();
  REQUIRE(w.createdExperiments.size() == 1);
  const Experiment& ex = w.createdExperiments[0];
  const std::string stable = w.rollout.status.stableRS;
  CHECK(ex.metadata.name == "web-" + experimentStepHash(w) + "-2-0");
  CHECK(ex.metadata.labels.at(kPodTemplateHashLabel) == experimentStepHash(w));
  CHECK(ex.spec.duration == Duration{300});
  REQUIRE(ex.spec.templates.size() == 2);
  CHECK(ex.spec.templates[0].podTemplate["spec"]["containers"][0]["image"] == "web:1");
  CHECK(ex.spec.templates[0].replicas == 1);
  CHECK(ex.spec.templates[1].podTemplate["spec"]["containers"][0]["image"] == "web:2");
  CHECK(ex.spec.templates[1].replicas == 2);
  CHECK(ex.spec.templates[1].podTemplate["metadata"]["labels"]["variant"] == "canary");
  CHECK(ex.spec.templates[1].selector["matchLabels"]["variant"] == "canary");
  CHECK(ex.spec.templates[1].selector["matchLabels"]["app"] == "web");
  REQUIRE(ex.spec.analyses.size() == 1);
  CHECK(ex.spec.analyses[0].args[0].value == stable);
  CHECK(ex.spec.analyses[0].args[1].value == experimentStepHash(w));
  CHECK_FALSE(ex.spec.analyses[0].args[1].podTemplateHashValue);
  // The step waits on it.
  CHECK(w.rollout.status.currentStepIndex == 0);
  CHECK(w.rollout.status.canary.currentExperiment == ex.metadata.name);
  CHECK(w.hasEvent("ExperimentCreated", ex.metadata.name));
}

TEST_CASE("a Successful Experiment completes its step", "[experiment]") {
  FakeWorld w = atExperimentStep();
  const std::string name = w.createdExperiments.at(0).metadata.name;
  w.experiment(name)->phase = Phase::Successful;
  w.settle();
  CHECK(w.rollout.status.currentStepIndex >= 1);
  CHECK(w.rollout.status.canary.currentExperiment.empty());
  CHECK(w.createdExperiments.size() == 1);
}

TEST_CASE("a Failed or Error Experiment aborts the update", "[experiment]") {
  for (const Phase phase : {Phase::Failed, Phase::Error}) {
    CAPTURE(analysis::phaseName(phase));
    FakeWorld w = atExperimentStep();
    const std::string name = w.createdExperiments.at(0).metadata.name;
    w.experiment(name)->phase = phase;
    w.experiment(name)->message = "Metric \"latency\" assessed Failed";
    w.settle();
    CHECK(w.rollout.status.abort);
    CHECK(w.rollout.status.phase == "Degraded");
    CHECK(w.hasEvent("RolloutAborted", "Experiment '" + name + "'"));
    CHECK(w.experiment(name)->terminate);
  }
}

TEST_CASE("an Inconclusive Experiment pauses the update until a person resumes it", "[experiment]") {
  FakeWorld w = atExperimentStep();
  const std::string name = w.createdExperiments.at(0).metadata.name;
  w.experiment(name)->phase = Phase::Inconclusive;
  w.settle();
  CHECK(w.rollout.status.pausedFor(kPauseReasonInconclusiveExperiment));
  CHECK(w.rollout.status.currentStepIndex == 0);
  CHECK(w.rollout.status.phase == "Paused");
  // Resumed: the pause conditions go, the step counts as passed.
  w.rollout.status.pauseConditions.clear();
  w.settle();
  CHECK(w.rollout.status.currentStepIndex >= 1);
}

TEST_CASE("a new revision during an experiment step terminates its Experiment", "[experiment]") {
  FakeWorld w = atExperimentStep();
  const std::string first = w.createdExperiments.at(0).metadata.name;
  w.newImage("web:3");
  w.settle();
  CHECK(w.experiment(first)->terminate);
  REQUIRE(w.createdExperiments.size() == 2);
  CHECK(w.createdExperiments[1].metadata.name == "web-" + experimentStepHash(w) + "-3-0");
}

TEST_CASE("promote --full terminates the running Experiment", "[experiment]") {
  FakeWorld w = atExperimentStep();
  const std::string name = w.createdExperiments.at(0).metadata.name;
  w.rollout.status.promoteFull = true;
  w.settle();
  CHECK(w.experiment(name)->terminate);
  CHECK(w.rollout.status.stableRS == experimentStepHash(w));
}

TEST_CASE("a Rollout's experiment step reads as Argo writes it and checks its templates' weights",
          "[experiment]") {
  // The step's second template gets `weight` under `routing` (no trafficRouting when null); the containers
  // declare a port unless `ports` is false.
  const auto load = [](std::optional<int> weight, const nlohmann::json& routing, Diagnostics& diags,
                       bool ports = true) {
    nlohmann::json r = nlohmann::json::parse(R"({
      "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "web"},
      "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}},
        "strategy": {"canary": {"canaryService": "web-canary", "stableService": "web-stable",
          "steps": [{"setWeight": 30}, {"experiment": {
          "duration": "1h",
          "templates": [{"name": "baseline", "specRef": "stable"}, {"name": "canary", "specRef": "canary"}],
          "analyses": [{"name": "mann-whitney", "templateName": "mann-whitney",
                        "args": [{"name": "baseline-hash", "value": "{{templates.baseline.podTemplateHash}}"}]}]
        }}]}}}
    })");
    nlohmann::json& canary = r["spec"]["strategy"]["canary"];
    if (!routing.is_null()) canary["trafficRouting"] = routing;
    if (weight) canary["steps"][1]["experiment"]["templates"][1]["weight"] = *weight;
    if (ports) r["spec"]["template"]["spec"]["containers"][0]["ports"] = {{{"containerPort", 8080}}};
    return parseRollout(r, SourceMap(), diags);
  };
  const nlohmann::json istio = {{"istio", {{"virtualService", {{"name", "web"}}}}}};
  Diagnostics ok;
  auto rollout = load(std::nullopt, nullptr, ok);
  INFO(ok.format());
  REQUIRE(rollout);
  const auto* step = std::get_if<ExperimentStep>(&rollout->spec.canary.steps[1].action);
  REQUIRE(step);
  CHECK(step->duration == Duration{3600});
  CHECK(step->templates[1].specRef == "canary");
  CHECK(describeStep(rollout->spec.canary.steps[1]) == "experiment: baseline,canary");

  for (const auto& routing : {istio, nlohmann::json{{"smi", nlohmann::json::object()}},
                              nlohmann::json{{"alb", {{"ingress", "web"}, {"servicePort", 80}}}}}) {
    Diagnostics routed;
    auto weighted = load(20, routing, routed);
    INFO(routed.format());
    REQUIRE(weighted);
    CHECK(std::get<ExperimentStep>(weighted->spec.canary.steps[1].action).templates[1].weight == 20);
  }

  const std::string at = "spec.strategy.canary.steps[1].experiment.templates[1].weight";
  const auto refusedAt = [&](std::optional<int> weight, const nlohmann::json& routing,
                             const std::string& path, const std::string& words) {
    Diagnostics refused;
    CHECK_FALSE(load(weight, routing, refused));
    bool named = false;
    for (const auto& d : refused.items())
      named = named || (d.path == path && d.message.find(words) != std::string::npos);
    INFO(refused.format());
    CHECK(named);
  };
  refusedAt(20, nullptr, at, "needs trafficRouting");
  refusedAt(20, {{"nginx", {{"stableIngress", "web"}}}}, at, "only supported with the smi, alb and istio");
  refusedAt(-5, istio, at, "must be between 0 and 100");
  // No port to make the template's Service on.
  Diagnostics noPorts;
  CHECK_FALSE(load(20, istio, noPorts, false));
  CHECK_THAT(noPorts.format(), Catch::Contains("templates[1].weight") && Catch::Contains("declares none"));
  // With the canary's 30 of the step before: 30 + 80 is more than all of the traffic.
  refusedAt(80, istio, "spec.strategy.canary.steps[1].experiment.templates", "add up to 110, more than 100");
}

TEST_CASE("an experiment step's weighted templates get their share of the traffic while the Experiment runs",
          "[experiment]") {
  Rollout r = RolloutBuilder().replicas(4).nginx().build();
  r.spec.canary.trafficRouting = TrafficRouting{};
  r.spec.canary.trafficRouting->smi = SmiTrafficRouting{};
  ExperimentStep step = stepOfTwoTemplates();
  step.templates[0].weight = 10;
  step.templates[1].weight = 15;
  r.spec.canary.steps = {{SetWeightStep{20}}, {step}, {PauseStep{}}};
  FakeWorld w(r);
  w.experimentPhase = Phase::Pending;
  w.settle();
  w.newImage("web:2");
  w.settle();
  REQUIRE(w.createdExperiments.size() == 1);
  const Experiment& ex = w.createdExperiments[0];
  // Each weighted template gets a Service to route through, named as the Experiment names it.
  for (const auto& t : ex.spec.templates) CHECK(t.service.has_value());
  const std::string name = ex.metadata.name;
  // Pending (its templates not available yet): no share.
  REQUIRE(w.observed.trafficWeights);
  CHECK(w.observed.trafficWeights->canaryWeight == 20);
  CHECK(w.observed.trafficWeights->stableWeight == 80);
  CHECK(w.observed.trafficWeights->additional.empty());

  // Running, its Services known from its status: the stable gives up the templates' shares.
  ExperimentView* view = w.experiment(name);
  for (const auto& [templateName, hash] : {std::pair{"canary", "h2"}, std::pair{"baseline", "h1"}}) {
    TemplateStatus s;
    s.name = templateName;
    s.serviceName = name + "-" + templateName;
    s.podTemplateHash = hash;
    view->templates.push_back(s);
  }
  view->phase = Phase::Running;
  w.settle();
  const auto* set = std::get_if<SetTrafficWeight>(&w.actions.back());
  REQUIRE(set);
  CHECK(set->canaryWeight == 20);
  CHECK(set->stableWeight == 55);
  REQUIRE(set->additional.size() == 2);
  CHECK(set->additional[0] == WeightDestination{10, name + "-baseline", "h1"});
  CHECK(set->additional[1] == WeightDestination{15, name + "-canary", "h2"});
  REQUIRE(w.rollout.status.canary.weights);
  CHECK(w.rollout.status.canary.weights->stable.weight == 55);
  CHECK(w.rollout.status.canary.weights->additional == set->additional);
  CHECK(w.rollout.status.currentStepIndex == 1);
  // Written and read back as Argo's status.canary.weights.additional.
  const nlohmann::json written = statusToJson(w.rollout.status);
  CHECK(written["canary"]["weights"]["additional"][1]["serviceName"] == name + "-canary");
  CHECK(written["canary"]["weights"]["additional"][1]["weight"] == 15);

  // Done: the shares go back to the stable, and the update goes on to the pause.
  view->phase = Phase::Successful;
  w.settle();
  CHECK(w.rollout.status.currentStepIndex == 2);
  REQUIRE(w.observed.trafficWeights);
  CHECK(w.observed.trafficWeights->stableWeight == 80);
  CHECK(w.observed.trafficWeights->additional.empty());
  CHECK(w.rollout.status.canary.weights->additional.empty());
}

TEST_CASE("retry after an Experiment failed runs the step with a new Experiment", "[experiment]") {
  FakeWorld w = atExperimentStep();
  const std::string first = w.createdExperiments.at(0).metadata.name;
  w.experiment(first)->phase = Phase::Failed;
  w.settle();
  REQUIRE(w.rollout.status.abort);
  w.rollout.status.abort = false;  // kubectl sluice retry rollout
  w.settle();
  REQUIRE(w.createdExperiments.size() == 2);
  CHECK(w.createdExperiments[1].metadata.name == first + "-1");
  CHECK(w.rollout.status.canary.currentExperiment == first + "-1");
  CHECK_FALSE(w.rollout.status.abort);
}

TEST_CASE("finished Experiments beyond the history limits are deleted", "[experiment]") {
  FakeWorld w = atExperimentStep();
  w.rollout.spec.successfulRunHistoryLimit = 0;
  const std::string name = w.createdExperiments.at(0).metadata.name;
  w.experiment(name)->phase = Phase::Successful;
  w.settle();
  CHECK(w.rollout.status.currentStepIndex >= 1);
  CHECK(w.experiment(name) == nullptr);
  CHECK(w.createdExperiments.size() == 1);
}
