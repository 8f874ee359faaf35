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

TEST_CASE("a Rollout's experiment step reads as Argo writes it and refuses weight by name", "[experiment]") {
  const auto load = [](const std::string& weight, Diagnostics& diags) {
    nlohmann::json r = nlohmann::json::parse(R"({
      "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "web"},
      "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}},
        "strategy": {"canary": {"steps": [{"experiment": {
          "duration": "1h",
          "templates": [{"name": "baseline", "specRef": "stable"}, {"name": "canary", "specRef": "canary"}],
          "analyses": [{"name": "mann-whitney", "templateName": "mann-whitney",
                        "args": [{"name": "baseline-hash", "value": "{{templates.baseline.podTemplateHash}}"}]}]
        }}]}}}
    })");
    if (!weight.empty())
      r["spec"]["strategy"]["canary"]["steps"][0]["experiment"]["templates"][1]["weight"] = 5;
    return parseRollout(r, SourceMap(), diags);
  };
  Diagnostics ok;
  auto rollout = load("", ok);
  INFO(ok.format());
  REQUIRE(rollout);
  const auto* step = std::get_if<ExperimentStep>(&rollout->spec.canary.steps[0].action);
  REQUIRE(step);
  CHECK(step->duration == Duration{3600});
  CHECK(step->templates[1].specRef == "canary");
  CHECK(describeStep(rollout->spec.canary.steps[0]) == "experiment: baseline,canary");

  Diagnostics refused;
  CHECK_FALSE(load("5", refused));
  bool named = false;
  for (const auto& d : refused.items())
    named = named || d.path == "spec.strategy.canary.steps[0].experiment.templates[1].weight";
  INFO(refused.format());
  CHECK(named);
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
