// The canary state machine, driven end to end through a fake world: plans, people's actions, analysis.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <set>

#include "analysis/model.h"
#include "engine/canary.h"
#include "engine/steering.h"
#include "tests/unit/engine/test_world.h"

using namespace sluice;
using namespace sluice::engine;
using namespace sluice::engine::testing;

namespace {

template <typename T>
std::vector<T> actionsOf(const std::vector<Action>& actions) {
  std::vector<T> out;
  for (const auto& a : actions) {
    if (const auto* x = std::get_if<T>(&a)) out.push_back(*x);
  }
  return out;
}

// A world with the first revision deployed and settled.
FakeWorld deployed(const Rollout& r) {
  FakeWorld w(r);
  w.settle();
  REQUIRE(w.rollout.status.phase == "Healthy");
  w.actions.clear();
  w.events.clear();
  w.weights.clear();
  return w;
}

std::string hashOf(const FakeWorld& w) { return podTemplateHash(w.rollout.spec.podTemplate); }

}  // namespace

TEST_CASE("podTemplateHash is stable across runs and machines", "[engine][hash]") {
  const nlohmann::json tmpl = {{"spec", {{"containers", {{{"name", "web"}, {"image", "web:1"}}}}}}};
  CHECK(podTemplateHash(tmpl) == "9mkc87dnzv");  // SHA-256 of the canonical dump, base 27
  CHECK(podTemplateHash(tmpl).size() == 10);
  CHECK(podTemplateHash(tmpl, 1) != podTemplateHash(tmpl));
  CHECK(podTemplateHash(nlohmann::json::parse(
            R"({"spec":{"containers":[{"image":"web:1","name":"web"}]}})")) == podTemplateHash(tmpl));
  for (char c : podTemplateHash(tmpl, 7))
    CHECK(std::string("bcdfghjklmnpqrstvwxz2456789").find(c) != std::string::npos);
}

TEST_CASE("podTemplateHash gives different templates different names", "[engine][hash]") {
  // 100,000 templates differing in one image tag, each with collision counts 0 and 1: 200,000 names, all
  // distinct. (The first encoding spread 32 bits over ten letters so poorly that it had a few thousand
  // names, and web:v2 and web:v3 shared one at collision count 1: an update went unnoticed.)
  std::set<std::string> names;
  for (int i = 0; i < 100000; ++i) {
    const nlohmann::json tmpl = {
        {"metadata", {{"labels", {{"app", "web"}}}}},
        {"spec", {{"containers", {{{"image", "web:v" + std::to_string(i)}, {"name", "web"}}}}}}};
    names.insert(podTemplateHash(tmpl, 0));
    names.insert(podTemplateHash(tmpl, 1));
  }
  CHECK(names.size() == 200000);
}

TEST_CASE("stepsHash changes with any step field", "[engine][hash]") {
  const auto a = RolloutBuilder().setWeight(20).pause(60).build().spec.canary.steps;
  const auto b = RolloutBuilder().setWeight(20).pause(61).build().spec.canary.steps;
  const auto c = RolloutBuilder().setWeight(25).pause(60).build().spec.canary.steps;
  CHECK(stepsHash(a) == stepsHash(a));
  CHECK(stepsHash(a) != stepsHash(b));
  CHECK(stepsHash(a) != stepsHash(c));
}

TEST_CASE("initial deploy goes straight to stable and Healthy", "[engine][canary]") {
  FakeWorld w(RolloutBuilder().replicas(3).setWeight(20).pause().build());
  w.call();
  const auto creates = actionsOf<CreateReplicaSet>(w.last.actions);
  REQUIRE(creates.size() == 1);
  CHECK(creates[0].name == "web-" + hashOf(w));
  CHECK(creates[0].replicas == 3);
  CHECK(creates[0].revision == 1);
  CHECK(w.rollout.status.stableRS == hashOf(w));
  CHECK(w.rollout.status.currentStepIndex == 2);
  w.settle();
  CHECK(w.rollout.status.phase == "Healthy");
  CHECK(w.rollout.status.availableReplicas == 3);
  CHECK(w.condition("Healthy")->status == "True");
  CHECK(w.condition("Completed")->status == "True");
  CHECK(w.condition("Progressing")->reason == "NewReplicaSetAvailable");
  CHECK(w.rollout.status.observedGeneration == "1");
  CHECK(w.rollout.status.selector == "app=web");
  CHECK_FALSE(w.last.requeueAfter.has_value());
  CHECK(w.last.actions.empty());
  CHECK(actionsOf<CreateAnalysisRun>(w.actions).empty());
}

TEST_CASE("initial deploy without steps leaves the step index unset", "[engine][canary]") {
  FakeWorld w(RolloutBuilder().replicas(2).build());
  w.settle();
  CHECK_FALSE(w.rollout.status.currentStepIndex.has_value());
  CHECK(w.rollout.status.phase == "Healthy");
}

TEST_CASE("a created ReplicaSet whose status write was lost is adopted, not created again",
          "[engine][canary]") {
  FakeWorld w(RolloutBuilder().replicas(2).build());
  const Decision first = reconcileCanary(w.rollout, w.observed, w.now);
  for (const auto& a : first.actions) w.apply(a);  // carried out, status not written
  const Decision second = reconcileCanary(w.rollout, w.observed, w.now);
  CHECK(actionsOf<CreateReplicaSet>(second.actions).empty());
  CHECK(second.status.stableRS == hashOf(w));
}

TEST_CASE("basic canary runs its steps with pods as the traffic split", "[engine][canary][basic]") {
  FakeWorld w = deployed(RolloutBuilder().replicas(10).setWeight(20).pause(60).setWeight(50).pause().build());
  const std::string stable = hashOf(w);
  w.newImage("web:2");
  const std::string canary = hashOf(w);
  w.settle();
  CHECK(w.rollout.status.currentStepIndex == 1);
  CHECK(w.specReplicasOf(canary) == 2);
  CHECK(w.specReplicasOf(stable) == 8);
  CHECK(w.rollout.status.phase == "Paused");
  CHECK(w.rollout.status.pausedFor(kPauseReasonCanaryPauseStep));
  CHECK(w.last.requeueAfter == Duration{60});
  CHECK(w.hasEvent("RolloutStepCompleted", "Rollout step 1/4 completed (setWeight: 20)"));
  CHECK(w.hasEvent("ScalingReplicaSet", "Scaled up ReplicaSet web-" + canary + " (revision 2) from 0 to 2"));

  w.runFor(Duration{60});
  CHECK(w.rollout.status.currentStepIndex == 3);
  CHECK(w.specReplicasOf(canary) == 5);
  CHECK(w.specReplicasOf(stable) == 5);
  CHECK(w.rollout.status.message == kPauseReasonCanaryPauseStep);

  w.steer(promotePatch(w.rollout));
  w.settle();
  CHECK(w.rollout.status.stableRS == canary);
  CHECK(w.rollout.status.phase == "Healthy");
  CHECK(w.specReplicasOf(canary) == 10);
  CHECK(w.specReplicasOf(stable) == 0);
  CHECK(w.hasEvent("RolloutCompleted", "Rollout completed update to revision 2 (" + canary + ")"));
  CHECK(w.hasEvent("RolloutResumed"));
}

TEST_CASE("traffic-routed canary moves weights only once the canary pods are up",
          "[engine][canary][traffic]") {
  FakeWorld w = deployed(RolloutBuilder().replicas(4).nginx().setWeight(25).pause(30).setWeight(60).build());
  const std::string stable = hashOf(w);
  w.readyAfterCalls = 2;
  w.newImage("web:2");
  const std::string canary = hashOf(w);
  w.call();  // creates the canary: weight must not move before its pods are available
  CHECK(w.weights == std::vector<int>{0});
  w.settle();
  CHECK(w.specReplicasOf(stable) == 4);
  CHECK(w.specReplicasOf(canary) == 1);
  CHECK(w.rollout.status.canary.weights->canary.weight == 25);
  CHECK(w.rollout.status.canary.weights->stable.weight == 75);
  CHECK(w.observed.serviceSelectors["web-canary"] == canary);
  CHECK(w.observed.serviceSelectors["web-stable"] == stable);
  w.runFor(Duration{30});
  CHECK(w.rollout.status.stableRS == canary);
  // All traffic reaches the new pods before the stable Service switches to them, and stays on the canary
  // (100 again, now recorded against the new stable hash) until the stable Service selects them; then
  // the canary share goes back to 0.
  CHECK(w.weights == std::vector<int>{0, 25, 60, 100, 100, 0});
  CHECK(w.observed.serviceSelectors["web-stable"] == canary);
  CHECK(w.rollout.status.canary.weights->stable.podTemplateHash == canary);
  // The old stable keeps its pods for scaleDownDelaySeconds, then goes.
  CHECK(w.specReplicasOf(stable) == 4);
  CHECK(w.rsByHash(stable)->scaleDownDeadline.has_value());
  w.runFor(Duration{30});
  CHECK(w.specReplicasOf(stable) == 0);
  CHECK(w.rollout.status.phase == "Healthy");
  CHECK_FALSE(w.last.requeueAfter.has_value());
}

TEST_CASE("canary scaleDownDelayRevisionLimit bounds the old stables left waiting out their delay",
          "[engine][canary][traffic]") {
  struct Row {
    const char* rule;
    std::optional<int> limit;
    std::vector<int> oldSizes;  // revisions 1 and 2 right after revision 3 is promoted
  };
  const Row rows[] = {{"without a limit every old stable waits out its delay", std::nullopt, {4, 4}},
                      {"a limit of 1 keeps only the newest old stable up", 1, {0, 4}},
                      {"a limit of 0 scales old stables down at once", 0, {0, 0}}};
  for (const Row& row : rows) {
    SECTION(row.rule) {
      Rollout r = RolloutBuilder().replicas(4).nginx().setWeight(50).build();
      r.spec.canary.scaleDownDelaySeconds = 600;
      r.spec.canary.scaleDownDelayRevisionLimit = row.limit;
      FakeWorld w = deployed(r);
      const std::string first = hashOf(w);
      w.newImage("web:2");
      const std::string second = hashOf(w);
      w.settle();
      REQUIRE(w.rollout.status.stableRS == second);
      w.newImage("web:3");
      w.settle();
      REQUIRE(w.rollout.status.stableRS == hashOf(w));
      CHECK(std::vector<int>{w.specReplicasOf(first), w.specReplicasOf(second)} == row.oldSizes);
      // Those left up still go when their delay is over.
      w.runFor(Duration{600});
      CHECK(std::vector<int>{w.specReplicasOf(first), w.specReplicasOf(second)} == std::vector<int>{0, 0});
    }
  }
}

TEST_CASE("setCanaryScale sizes the canary apart from its weight until matchTrafficWeight",
          "[engine][canary][traffic]") {
  FakeWorld w = deployed(RolloutBuilder()
                             .replicas(10)
                             .nginx()
                             .canaryScale(3, std::nullopt)
                             .setWeight(10)
                             .pause()
                             .canaryScale({}, {}, true)
                             .setWeight(40)
                             .pause()
                             .build());
  w.newImage("web:2");
  const std::string canary = hashOf(w);
  w.settle();
  CHECK(w.rollout.status.currentStepIndex == 2);
  CHECK(w.specReplicasOf(canary) == 3);
  CHECK(w.rollout.status.canary.weights->canary.weight == 10);
  w.steer(promotePatch(w.rollout));
  w.settle();
  CHECK(w.rollout.status.currentStepIndex == 5);
  CHECK(w.specReplicasOf(canary) == 4);
  CHECK(w.rollout.status.canary.weights->canary.weight == 40);
}

TEST_CASE("header and mirror routes are set when their step is reached", "[engine][canary][traffic]") {
  FakeWorld w = deployed(
      RolloutBuilder().replicas(2).nginx().setWeight(10).headerRoute("canary-header").pause().build());
  w.rollout.spec.canary.trafficRouting->managedRoutes = {"canary-header"};
  w.newImage("web:2");
  w.settle();
  const auto routes = actionsOf<SetHeaderRoute>(w.actions);
  REQUIRE(routes.size() == 1);
  CHECK(routes[0].route.name == "canary-header");
  CHECK(w.rollout.status.currentStepIndex == 2);
  w.steer(promotePatch(w.rollout));
  w.settle();
  CHECK(actionsOf<RemoveManagedRoutes>(w.actions).size() >= 1);
}

TEST_CASE("a pause with a setCanaryScale and a header route beside it does all three, the pause deciding",
          "[engine][canary][traffic]") {
  Rollout r = RolloutBuilder().replicas(10).nginx().setWeight(10).pause().build();
  r.spec.canary.trafficRouting->managedRoutes = {"canary-header"};
  // As Argo Rollouts' APISIX e2e writes it: {pause: {}, setCanaryScale: {replicas: 3}, setHeaderRoute: ...}.
  r.spec.canary.steps[1].alongside = {SetCanaryScaleStep{3, std::nullopt, false},
                                      SetHeaderRouteStep{"canary-header", {{"x-canary", "exact", "yes"}}}};
  FakeWorld w = deployed(r);
  w.newImage("web:2");
  const std::string canary = hashOf(w);
  w.settle();
  // On the pause: the canary has the 3 pods setCanaryScale asks for, not the 1 of its 10% weight, and the
  // header route is in place; the step waits for a promote.
  CHECK(w.rollout.status.currentStepIndex == 1);
  CHECK(w.rollout.status.phase == "Paused");
  CHECK(w.specReplicasOf(canary) == 3);
  CHECK(w.rollout.status.canary.weights->canary.weight == 10);
  const auto routes = actionsOf<SetHeaderRoute>(w.actions);
  REQUIRE_FALSE(routes.empty());
  CHECK(routes.back().route.name == "canary-header");
  w.steer(promotePatch(w.rollout));
  w.settle();
  CHECK(w.rollout.status.stableRS == canary);
  CHECK(w.specReplicasOf(canary) == 10);
}

TEST_CASE("a new revision mid-rollout restarts the steps and drops the old canary", "[engine][canary]") {
  SECTION("traffic routing: the old canary goes at once") {
    FakeWorld w = deployed(RolloutBuilder().replicas(4).nginx().setWeight(50).pause().build());
    w.newImage("web:2");
    w.settle();
    const std::string first = hashOf(w);
    REQUIRE(w.rollout.status.currentStepIndex == 1);
    w.newImage("web:3");
    const std::string second = hashOf(w);
    w.call();
    CHECK(w.specReplicasOf(first) == 0);
    CHECK(w.rollout.status.currentStepIndex == 0);
    CHECK(w.rollout.status.currentPodHash == second);
    CHECK(w.rollout.status.pauseConditions.empty());
    w.settle();
    CHECK(w.rollout.status.currentStepIndex == 1);
    CHECK(w.specReplicasOf(second) == 2);
    CHECK(w.rollout.status.canary.weights->canary.podTemplateHash == second);
    CHECK(w.rollout.status.canary.weights->canary.weight == 50);
  }
  SECTION("basic canary: the old canary drains within maxUnavailable") {
    FakeWorld w = deployed(RolloutBuilder().replicas(4).setWeight(50).pause().build());
    const std::string stable = hashOf(w);
    w.newImage("web:2");
    w.settle();
    const std::string first = hashOf(w);
    w.newImage("web:3");
    const std::string second = hashOf(w);
    w.settle();
    CHECK(w.specReplicasOf(first) == 0);
    CHECK(w.specReplicasOf(second) == 2);
    CHECK(w.specReplicasOf(stable) == 2);
    CHECK(w.rollout.status.currentStepIndex == 1);
  }
  SECTION("a change of steps alone restarts them too") {
    FakeWorld w = deployed(RolloutBuilder().replicas(4).setWeight(50).pause().build());
    w.newImage("web:2");
    w.settle();
    REQUIRE(w.rollout.status.currentStepIndex == 1);
    w.rollout.spec.canary.steps.insert(w.rollout.spec.canary.steps.begin(), {SetWeightStep{25}});
    w.call();
    CHECK(w.rollout.status.currentStepIndex == 0);
    CHECK(w.rollout.status.currentStepHash == stepsHash(w.rollout.spec.canary.steps));
  }
}

TEST_CASE("going back to the stable template fast-tracks to the end", "[engine][canary]") {
  FakeWorld w = deployed(RolloutBuilder().replicas(4).nginx().setWeight(50).pause().setWeight(80).build());
  const std::string stable = hashOf(w);
  w.newImage("web:2");
  w.settle();
  const std::string canary = hashOf(w);
  w.events.clear();
  w.newImage("web:1");
  w.settle();
  CHECK(w.rollout.status.currentPodHash == stable);
  CHECK(w.rollout.status.currentStepIndex == 3);
  CHECK(w.rollout.status.phase == "Healthy");
  CHECK(w.specReplicasOf(canary) == 0);
  CHECK(w.rollout.status.canary.weights->canary.weight == 0);
  CHECK_FALSE(w.hasEvent("RolloutStepCompleted"));
}

TEST_CASE("abort returns traffic to stable, then retry starts again", "[engine][canary][abort]") {
  FakeWorld w =
      deployed(RolloutBuilder().replicas(4).nginx().setWeight(50).analysis("smoke").pause().build());
  const std::string stable = hashOf(w);
  w.runPhase = [](AnalysisRunType, std::optional<int>) { return analysis::Phase::Running; };
  w.newImage("web:2");
  const std::string canary = hashOf(w);
  w.settle();
  REQUIRE(w.rollout.status.currentStepIndex == 1);
  const std::string firstRun = "web-" + canary + "-2-1";
  REQUIRE(w.run(firstRun) != nullptr);

  w.steer(abortPatch(w.rollout));
  w.settle();
  CHECK(w.rollout.status.phase == "Degraded");
  CHECK(w.rollout.status.abortedAt == w.now);
  CHECK(w.rollout.status.canary.weights->canary.weight == 0);
  CHECK(w.observed.serviceSelectors["web-canary"] == stable);
  CHECK(w.run(firstRun)->terminated);
  CHECK(w.condition("Progressing")->status == "False");
  CHECK(w.condition("Progressing")->reason == "RolloutAborted");
  CHECK(w.condition("Progressing")->message == "Rollout aborted update to revision 2");
  CHECK(w.hasEvent("RolloutAborted"));
  // abortScaleDownDelaySeconds (30 by default) keeps the canary for a while.
  CHECK(w.specReplicasOf(canary) == 2);
  CHECK(w.last.requeueAfter == Duration{30});
  w.runFor(Duration{30});
  CHECK(w.specReplicasOf(canary) == 0);
  CHECK(w.rollout.status.phase == "Degraded");
  CHECK_FALSE(w.last.requeueAfter.has_value());

  w.steer(retryPatch(w.rollout));
  w.call();
  CHECK(w.condition("Progressing")->reason == "RolloutRetry");
  CHECK(w.rollout.status.currentStepIndex == 0);
  w.settle();
  CHECK(w.rollout.status.currentStepIndex == 1);
  CHECK(w.run(firstRun + ".1") != nullptr);
  CHECK(w.specReplicasOf(canary) == 2);
  CHECK_FALSE(w.rsByHash(canary)->scaleDownDeadline.has_value());
}

TEST_CASE("abort of a basic canary scales the canary down at once", "[engine][canary][abort]") {
  FakeWorld w = deployed(RolloutBuilder().replicas(10).setWeight(30).pause().build());
  const std::string stable = hashOf(w);
  w.newImage("web:2");
  w.settle();
  const std::string canary = hashOf(w);
  REQUIRE(w.specReplicasOf(canary) == 3);
  w.steer(abortPatch(w.rollout));
  w.settle();
  CHECK(w.specReplicasOf(canary) == 0);
  CHECK(w.specReplicasOf(stable) == 10);
  CHECK(w.rollout.status.phase == "Degraded");
}

TEST_CASE("abortScaleDownDelaySeconds 0 keeps the aborted canary up", "[engine][canary][abort]") {
  auto r = RolloutBuilder().replicas(4).nginx().setWeight(50).pause().build();
  r.spec.canary.abortScaleDownDelaySeconds = 0;
  FakeWorld w = deployed(r);
  w.newImage("web:2");
  w.settle();
  w.steer(abortPatch(w.rollout));
  w.runFor(Duration{3600});
  CHECK(w.specReplicasOf(hashOf(w)) == 2);
  CHECK_FALSE(w.last.requeueAfter.has_value());
}

TEST_CASE("an abort of a fully promoted rollout is cleared", "[engine][canary][abort]") {
  FakeWorld w = deployed(RolloutBuilder().replicas(2).setWeight(50).build());
  w.rollout.status.abort = true;
  w.settle();
  CHECK_FALSE(w.rollout.status.abort);
  CHECK(w.rollout.status.phase == "Healthy");
}

TEST_CASE("step analysis results drive the rollout", "[engine][canary][analysis]") {
  struct Row {
    const char* behaviour;
    const char* phase;
    const char* wantPhase;
    int wantIndex;
  };
  const Row rows[] = {
      {"Successful completes the step", "Successful", "Paused", 2},
      {"Failed aborts", "Failed", "Degraded", 0},
      {"Error aborts", "Error", "Degraded", 0},
      {"Inconclusive pauses", "Inconclusive", "Paused", 1},
      {"Running waits", "Running", "Progressing", 1},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    FakeWorld w = deployed(RolloutBuilder().replicas(2).setWeight(50).analysis("smoke").pause().build());
    const analysis::Phase phase = *analysis::phaseFromName(row.phase);
    w.runPhase = [phase](AnalysisRunType, std::optional<int>) { return phase; };
    w.newImage("web:2");
    w.settle();
    CHECK(w.rollout.status.phase == row.wantPhase);
    CHECK(w.rollout.status.currentStepIndex == row.wantIndex);
    CHECK(actionsOf<CreateAnalysisRun>(w.actions).size() == 1);
  }
}

TEST_CASE("a failed step analysis names the run's message in the abort", "[engine][canary][analysis]") {
  FakeWorld w = deployed(RolloutBuilder().replicas(2).setWeight(50).analysis("smoke").build());
  w.runPhase = [](AnalysisRunType, std::optional<int>) { return analysis::Phase::Running; };
  w.newImage("web:2");
  w.settle();
  auto& run = w.observed.analysisRuns.back();
  run.phase = analysis::Phase::Failed;
  run.message = "metric success-rate assessed Failed";
  w.settle();
  CHECK(w.condition("Progressing")->message ==
        "Rollout aborted update to revision 2: Step-based analysis phase failed: metric success-rate "
        "assessed Failed");
  CHECK(w.rollout.status.canary.currentStepAnalysisRunStatus->status == "Failed");
  CHECK(w.rollout.status.phase == "Degraded");
}

TEST_CASE("an inconclusive step analysis waits for promote, which moves on", "[engine][canary][analysis]") {
  FakeWorld w =
      deployed(RolloutBuilder().replicas(2).nginx().setWeight(50).analysis("smoke").setWeight(100).build());
  w.runPhase = [](AnalysisRunType, std::optional<int>) { return analysis::Phase::Inconclusive; };
  w.newImage("web:2");
  w.settle();
  CHECK(w.rollout.status.pausedFor(kPauseReasonInconclusiveAnalysis));
  CHECK(w.rollout.status.phase == "Paused");
  CHECK(w.rollout.status.message == kPauseReasonInconclusiveAnalysis);
  w.steer(promotePatch(w.rollout));
  w.settle();
  CHECK(w.rollout.status.phase == "Healthy");
  CHECK(w.rollout.status.stableRS == hashOf(w));
}

TEST_CASE("an AnalysisRun created but not recorded is adopted, not repeated", "[engine][canary][analysis]") {
  FakeWorld w = deployed(RolloutBuilder().replicas(2).setWeight(50).analysis("smoke").build());
  w.runPhase = [](AnalysisRunType, std::optional<int>) { return analysis::Phase::Running; };
  w.newImage("web:2");
  w.settle();
  REQUIRE(w.observed.analysisRuns.size() == 1);
  w.rollout.status.canary.currentStepAnalysisRunStatus.reset();
  const Decision d = reconcileCanary(w.rollout, w.observed, w.now);
  CHECK(actionsOf<CreateAnalysisRun>(d.actions).empty());
  CHECK(d.status.canary.currentStepAnalysisRunStatus->name == w.observed.analysisRuns[0].name);
}

TEST_CASE("background analysis runs from its starting step until promotion", "[engine][canary][analysis]") {
  SECTION("started at startingStep and terminated on promotion") {
    FakeWorld w = deployed(
        RolloutBuilder().replicas(2).setWeight(20).pause().setWeight(60).backgroundAnalysis("bg", 1).build());
    w.runPhase = [](AnalysisRunType, std::optional<int>) { return analysis::Phase::Running; };
    w.newImage("web:2");
    w.settle();
    const auto runs = actionsOf<CreateAnalysisRun>(w.actions);
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].type == AnalysisRunType::Background);
    CHECK(runs[0].name == "web-" + hashOf(w) + "-2");
    w.steer(promotePatch(w.rollout));
    w.settle();
    CHECK(w.rollout.status.phase == "Healthy");
    CHECK(w.observed.analysisRuns[0].terminated);
  }
  SECTION("a failed background run aborts") {
    FakeWorld w =
        deployed(RolloutBuilder().replicas(2).setWeight(20).pause().backgroundAnalysis("bg").build());
    w.runPhase = [](AnalysisRunType, std::optional<int>) { return analysis::Phase::Error; };
    w.newImage("web:2");
    w.settle();
    CHECK(w.rollout.status.phase == "Degraded");
    CHECK(w.condition("Progressing")->message.find("Background analysis phase error") != std::string::npos);
  }
  SECTION("an inconclusive background run pauses; promote starts a fresh run") {
    FakeWorld w =
        deployed(RolloutBuilder().replicas(2).setWeight(20).pause(600).backgroundAnalysis("bg").build());
    w.runPhase = [](AnalysisRunType, std::optional<int>) { return analysis::Phase::Inconclusive; };
    w.newImage("web:2");
    w.settle();
    CHECK(w.rollout.status.pausedFor(kPauseReasonInconclusiveAnalysis));
    w.runPhase = [](AnalysisRunType, std::optional<int>) { return analysis::Phase::Running; };
    w.steer(promotePatch(w.rollout));
    w.settle();
    CHECK_FALSE(w.rollout.status.pausedFor(kPauseReasonInconclusiveAnalysis));
    CHECK(actionsOf<CreateAnalysisRun>(w.actions).size() == 2);
    CHECK(w.observed.analysisRuns[0].terminated);
    CHECK_FALSE(w.observed.analysisRuns[1].terminated);
  }
}

TEST_CASE("spec.paused halts the steps and resume continues", "[engine][canary][people]") {
  FakeWorld w = deployed(RolloutBuilder().replicas(4).setWeight(25).setWeight(50).build());
  w.steer(pausePatch(w.rollout));
  w.newImage("web:2");
  w.settle();
  CHECK(w.rollout.status.phase == "Paused");
  CHECK(w.rollout.status.message == "manually paused");
  CHECK(w.rollout.status.currentStepIndex == 0);
  CHECK(w.hasEvent("RolloutPaused", "manually paused"));
  w.steer(resumePatch(w.rollout));
  w.settle();
  CHECK(w.rollout.status.phase == "Healthy");
}

TEST_CASE("promote --full skips the remaining steps", "[engine][canary][people]") {
  FakeWorld w =
      deployed(RolloutBuilder().replicas(4).nginx().setWeight(25).pause().setWeight(50).pause().build());
  w.newImage("web:2");
  w.settle();
  REQUIRE(w.rollout.status.currentStepIndex == 1);
  w.steer(promoteFullPatch(w.rollout));
  w.settle();
  CHECK(w.rollout.status.stableRS == hashOf(w));
  CHECK(w.rollout.status.phase == "Healthy");
  CHECK_FALSE(w.rollout.status.promoteFull);
  CHECK(w.hasEvent("RolloutCompleted", "Full promotion requested"));
}

TEST_CASE("the progress deadline degrades a stuck rollout, and aborts it when asked",
          "[engine][canary][deadline]") {
  for (bool abortOnTimeout : {false, true}) {
    INFO("progressDeadlineAbort " << abortOnTimeout);
    auto r = RolloutBuilder().replicas(2).setWeight(50).pause().build();
    r.spec.progressDeadlineSeconds = 120;
    r.spec.progressDeadlineAbort = abortOnTimeout;
    FakeWorld w = deployed(r);
    w.readyAfterCalls = -1;  // the canary's pods never become available
    w.newImage("web:2");
    w.settle();
    CHECK(w.last.requeueAfter == Duration{121});
    w.now += Duration{121};
    w.settle();
    CHECK(w.rollout.status.phase == "Degraded");
    if (abortOnTimeout) {
      CHECK(w.rollout.status.abort);
      CHECK(w.condition("Progressing")
                ->message.find("ReplicaSet web-" + hashOf(w) + " has timed out progressing") !=
            std::string::npos);
    } else {
      CHECK_FALSE(w.rollout.status.abort);
      CHECK(w.condition("Progressing")->reason == "ProgressDeadlineExceeded");
      CHECK_FALSE(w.last.requeueAfter.has_value());
    }
  }
}

TEST_CASE("the progress deadline does not count while paused", "[engine][canary][deadline]") {
  auto r = RolloutBuilder().replicas(2).setWeight(50).pause().setWeight(100).build();
  r.spec.progressDeadlineSeconds = 60;
  FakeWorld w = deployed(r);
  w.newImage("web:2");
  w.settle();
  REQUIRE(w.rollout.status.phase == "Paused");
  CHECK_FALSE(w.last.requeueAfter.has_value());
  w.now += Duration{3600};
  w.settle();
  CHECK(w.rollout.status.phase == "Paused");
  w.steer(promotePatch(w.rollout));
  w.settle();
  CHECK(w.rollout.status.phase == "Healthy");
}

TEST_CASE("old ReplicaSets beyond revisionHistoryLimit are deleted", "[engine][canary]") {
  auto r = RolloutBuilder().replicas(1).build();
  r.spec.revisionHistoryLimit = 1;
  FakeWorld w = deployed(r);
  for (const char* image : {"web:2", "web:3", "web:4"}) {
    w.newImage(image);
    w.settle();
  }
  CHECK(actionsOf<DeleteReplicaSet>(w.actions).size() == 2);
  CHECK(w.observed.replicaSets.size() == 2);
}

TEST_CASE("finished AnalysisRuns beyond spec.analysis's history limits are deleted, the oldest first",
          "[engine][canary][analysis]") {
  auto r = RolloutBuilder().replicas(1).setWeight(50).analysis("smoke").build();
  r.spec.successfulRunHistoryLimit = 2;
  r.spec.unsuccessfulRunHistoryLimit = 0;
  FakeWorld w = deployed(r);
  // Five revisions: runs pass for the 2nd, 3rd and 4th, fail for the 5th and 6th (each then aborted).
  int revision = 1;
  for (const char* image : {"web:2", "web:3", "web:4", "web:5", "web:6"}) {
    ++revision;
    const bool pass = revision <= 4;
    w.runPhase = [pass](AnalysisRunType, std::optional<int>) {
      return pass ? analysis::Phase::Successful : analysis::Phase::Failed;
    };
    w.newImage(image);
    w.settle();
    w.now += Duration{60};  // each revision's run a minute after the one before
  }
  // Kept: the two newest successful runs (revisions 3 and 4), and 6's failed run, which the aborted
  // Rollout's status names (a run in use is not history); deleted: 2's (the oldest successful) and 5's.
  const auto deleted = actionsOf<DeleteAnalysisRun>(w.actions);
  REQUIRE(deleted.size() == 2);
  CHECK(deleted[0].name.find("-2-") != std::string::npos);
  CHECK(deleted[1].name.find("-5-") != std::string::npos);
  CHECK(w.observed.analysisRuns.size() == 3);
}

TEST_CASE("a canary of 2^31-1 replicas keeps its counts in range (no arithmetic overflow)",
          "[engine][canary][basic]") {
  constexpr int kMax = std::numeric_limits<int>::max();
  FakeWorld w = deployed(RolloutBuilder().replicas(kMax).setWeight(50).pause().build());
  const std::string stable = hashOf(w);
  CHECK(w.specReplicasOf(stable) == kMax);
  w.newImage("web:2");
  const std::string canary = hashOf(w);
  w.settle();
  CHECK(w.rollout.status.phase == "Paused");
  // Half each, within the default 25% surge: nothing negative, nothing past the surge.
  const long long canaryCount = w.specReplicasOf(canary), stableCount = w.specReplicasOf(stable);
  CHECK(canaryCount > 0);
  CHECK(stableCount > 0);
  CHECK(canaryCount + stableCount >= kMax);
  CHECK(canaryCount + stableCount <= kMax + static_cast<long long>(std::ceil(kMax * 0.25)));
  w.steer(promotePatch(w.rollout));
  w.settle();
  CHECK(w.rollout.status.phase == "Healthy");
  CHECK(w.specReplicasOf(canary) == kMax);
  CHECK(w.specReplicasOf(stable) == 0);
}

namespace {

// Replays every action a routed Rollout's world carried out, in order, and checks the rule that keeps a
// switch free of 5xx: a Service that selects a revision changes selection only while the weight in force
// on it is 0, and the canary's weight rises above 0 only while the canary Service selects the canary's pods.
// `start`: the world as the scenario began (its actions are those since).
void checkSwitchOrder(const FakeWorld& w, const Observed& start) {
  std::map<std::string, std::string> selected = start.serviceSelectors;  // as the actions left them
  std::optional<TrafficInForce> weights = start.trafficWeights;
  REQUIRE(!selected["web-stable"].empty());
  for (size_t i = 0; i < w.actions.size(); ++i) {
    const Action& a = w.actions[i];
    INFO("action #" << i);
    if (const auto* sel = std::get_if<SetServiceSelector>(&a)) {
      const std::string before = selected[sel->service];
      if (!before.empty()) {
        const bool canary = sel->service == "web-canary";
        const int onIt = !weights ? (canary ? 0 : 100)
                         : canary ? weights->canaryWeight
                                  : weights->stableWeight;
        INFO(sel->service << " moved from " << before << " to " << sel->podTemplateHash << " carrying "
                          << onIt << "% of the traffic");
        CHECK(onIt == 0);
      }
      selected[sel->service] = sel->podTemplateHash;
    } else if (const auto* set = std::get_if<SetTrafficWeight>(&a)) {
      if (set->canaryWeight > 0) {
        INFO("canary weight " << set->canaryWeight << " for " << set->canaryHash
                              << " while web-canary selects " << selected["web-canary"]);
        CHECK(selected["web-canary"] == set->canaryHash);
      }
      weights = splitOf(*set);
    }
  }
}

}  // namespace

TEST_CASE("with traffic routing, no Service changes selection under traffic: update, promotion, abort",
          "[engine][canary][traffic]") {
  SECTION("an update promoted to the end") {
    FakeWorld w = deployed(RolloutBuilder().replicas(4).nginx().setWeight(30).pause().setWeight(70).build());
    const Observed start = w.observed;
    w.newImage("web:2");
    w.settle();
    w.steer(promotePatch(w.rollout));
    w.settle();
    REQUIRE(w.rollout.status.phase == "Healthy");
    REQUIRE(w.rollout.status.stableRS == hashOf(w));
    CHECK(w.observed.serviceSelectors["web-stable"] == hashOf(w));
    CHECK(w.observed.trafficWeights->canaryWeight == 0);  // all back on the stable Service, now the new pods
    checkSwitchOrder(w, start);
  }
  SECTION("an abort, then a retry and promote --full") {
    FakeWorld w = deployed(RolloutBuilder().replicas(4).nginx().setWeight(50).pause().build());
    const Observed start = w.observed;
    const std::string stable = hashOf(w);
    w.newImage("web:2");
    w.settle();
    w.steer(abortPatch(w.rollout));
    w.settle();
    CHECK(w.observed.serviceSelectors["web-canary"] == stable);
    w.steer(retryPatch(w.rollout));
    w.settle();
    w.steer(promoteFullPatch(w.rollout));
    w.settle();
    CHECK(w.rollout.status.phase == "Healthy");
    checkSwitchOrder(w, start);
  }
  SECTION("a new revision in the middle of the steps") {
    FakeWorld w = deployed(RolloutBuilder().replicas(4).nginx().setWeight(40).pause().build());
    const Observed start = w.observed;
    w.newImage("web:2");
    w.settle();
    w.newImage("web:3");
    w.settle();
    CHECK(w.observed.serviceSelectors["web-canary"] == hashOf(w));
    CHECK(w.observed.trafficWeights->canaryWeight == 40);
    checkSwitchOrder(w, start);
  }
}
