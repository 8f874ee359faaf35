// Canary semantics held to Argo Rollouts' (reference §1.2, §2, §3): minReadySeconds, rollbackWindow,
// replicaProgressThreshold, the revision of a reused ReplicaSet, dynamicStableScale on abort, the canary
// Service's timing and status.selector. Each a table of behaviours a user would notice.
#include <catch2/catch.hpp>

#include "engine/canary.h"
#include "engine/steering.h"
#include "tests/unit/engine/rollout_test_manifests.h"
#include "tests/unit/engine/test_world.h"

using namespace sluice;
using namespace sluice::engine;
using namespace sluice::engine::testing;
using namespace sluice::testing;

namespace {

std::string semanticsHash(const FakeWorld& w) { return podTemplateHash(w.rollout.spec.podTemplate); }

// A world with the first revision deployed and settled, its history cleared.
FakeWorld semanticsDeployed(const Rollout& r) {
  FakeWorld w(r);
  w.settle();
  REQUIRE(w.rollout.status.phase == "Healthy");
  w.actions.clear();
  w.events.clear();
  w.weights.clear();
  return w;
}

// A minute later, runs `image` through to Healthy with promote --full.
void semanticsPromoted(FakeWorld& w, const std::string& image) {
  w.now += Duration{60};
  w.newImage(image);
  w.settle();
  if (w.rollout.status.phase != "Healthy") {
    w.steer(promoteFullPatch(w.rollout));
    w.settle();
  }
  REQUIRE(w.rollout.status.phase == "Healthy");
  REQUIRE(w.rollout.status.stableRS == semanticsHash(w));
}

std::vector<ScaleReplicaSet> semanticsScales(const std::vector<Action>& actions) {
  std::vector<ScaleReplicaSet> out;
  for (const auto& a : actions) {
    if (const auto* s = std::get_if<ScaleReplicaSet>(&a)) out.push_back(*s);
  }
  return out;
}

}  // namespace

TEST_CASE("replicaProgressThreshold: the available pods a desired size needs", "[canary-semantics]") {
  using Type = ReplicaProgressThreshold::Type;
  struct Row {
    const char* behaviour;
    Type type;
    int value;
    int desired;
    int needed;
  };
  const Row rows[] = {
      {"80 percent of 5 is 4 (Argo: 4/5 = 80% meets 80%)", Type::Percent, 80, 5, 4},
      {"a percentage rounds up: 50 percent of 5 is 3", Type::Percent, 50, 5, 3},
      {"100 percent is every pod", Type::Percent, 100, 7, 7},
      {"a pod count below the desired size", Type::Pods, 2, 5, 2},
      {"a pod count above the desired size is held to it", Type::Pods, 9, 5, 5},
      {"nothing is needed of a ReplicaSet meant to have none", Type::Percent, 80, 0, 0},
      {"a percentage of 2^31-1 pods does not overflow", Type::Percent, 50, 2147483647, 1073741824},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    CHECK(ReplicaProgressThreshold{row.type, row.value}.availableNeeded(row.desired) == row.needed);
  }
}

TEST_CASE("replicaProgressThreshold is read and a bad one is an error at its field", "[canary-semantics]") {
  const Loaded ok = loadRollout(withCanary("replicaProgressThreshold: {type: Pods, value: 3}\n"));
  INFO(ok.diags.format());
  REQUIRE(ok.rollout);
  CHECK(ok.diags.warningCount() == 0);
  REQUIRE(ok.rollout->spec.canary.replicaProgressThreshold);
  CHECK(ok.rollout->spec.canary.replicaProgressThreshold->type == ReplicaProgressThreshold::Type::Pods);
  CHECK(ok.rollout->spec.canary.replicaProgressThreshold->value == 3);

  const std::string path = "spec.strategy.canary.replicaProgressThreshold";
  const DiagnosticCase rows[] = {
      {"an unknown type", withCanary("replicaProgressThreshold: {type: Pod, value: 3}\n"), path + ".type",
       "must be Percent or Pods, got \"Pod\"", 15},
      {"no type", withCanary("replicaProgressThreshold: {value: 3}\n"), path + ".type", "is required", 15},
      {"no value", withCanary("replicaProgressThreshold: {type: Percent}\n"), path + ".value", "is required",
       15},
      {"a percentage above 100", withCanary("replicaProgressThreshold: {type: Percent, value: 120}\n"),
       path + ".value", "must be between 1 and 100, got 120", 15},
      {"zero pods", withCanary("replicaProgressThreshold: {type: Pods, value: 0}\n"), path + ".value",
       "must be at least 1, got 0", 15},
  };
  for (const auto& row : rows) checkDiagnosticCase(row);
}

TEST_CASE("replicaProgressThreshold: a step and the promotion go on with part of the canary available",
          "[canary-semantics]") {
  struct Row {
    const char* behaviour;
    std::optional<ReplicaProgressThreshold> threshold;
    int available;  // of the 5 canary pods setWeight 50 asks for
    bool stepDone;
  };
  using Type = ReplicaProgressThreshold::Type;
  const Row rows[] = {
      {"without a threshold every canary pod must be available", std::nullopt, 4, false},
      {"80 percent met by 4 of 5", ReplicaProgressThreshold{Type::Percent, 80}, 4, true},
      {"80 percent not met by 3 of 5", ReplicaProgressThreshold{Type::Percent, 80}, 3, false},
      {"3 pods met by 3 of 5", ReplicaProgressThreshold{Type::Pods, 3}, 3, true},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    Rollout r = RolloutBuilder().replicas(10).nginx().setWeight(50).pause().build();
    r.spec.canary.replicaProgressThreshold = row.threshold;
    FakeWorld w = semanticsDeployed(r);
    w.readyAfterCalls = -1;  // the canary's pods become available only as the row says
    w.newImage("web:2");
    w.settle();
    ReplicaSetView* canary = w.rsByHash(semanticsHash(w));
    REQUIRE(canary != nullptr);
    REQUIRE(canary->specReplicas == 5);
    canary->readyReplicas = canary->availableReplicas = row.available;
    w.settle();
    CHECK((w.rollout.status.currentStepIndex == 1) == row.stepDone);
    CHECK((w.rollout.status.canary.weights->canary.weight == 50) == row.stepDone);
  }

  SECTION("promotion needs the threshold of spec.replicas available") {
    Rollout r = RolloutBuilder().replicas(10).nginx().setWeight(50).pause().build();
    r.spec.canary.replicaProgressThreshold = ReplicaProgressThreshold{Type::Percent, 80};
    FakeWorld w = semanticsDeployed(r);
    w.readyAfterCalls = -1;
    w.newImage("web:2");
    w.settle();
    w.steer(promoteFullPatch(w.rollout));
    w.settle();
    ReplicaSetView* canary = w.rsByHash(semanticsHash(w));
    REQUIRE(canary != nullptr);
    REQUIRE(canary->specReplicas == 10);
    canary->readyReplicas = canary->availableReplicas = 7;
    w.settle();
    CHECK(w.rollout.status.stableRS != semanticsHash(w));
    canary->readyReplicas = canary->availableReplicas = 8;
    w.settle();
    CHECK(w.rollout.status.stableRS == semanticsHash(w));
  }
}

TEST_CASE("minReadySeconds: the engine counts available pods and the new ReplicaSet takes a new value",
          "[canary-semantics]") {
  SECTION("ready pods not yet available for minReadySeconds do not complete a step") {
    Rollout r = RolloutBuilder().replicas(4).setWeight(50).pause().build();
    r.spec.minReadySeconds = 30;
    FakeWorld w = semanticsDeployed(r);
    w.readyAfterCalls = -1;
    w.newImage("web:2");
    w.settle();
    ReplicaSetView* canary = w.rsByHash(semanticsHash(w));
    REQUIRE(canary != nullptr);
    CHECK(canary->minReadySeconds == 30);  // created with the Rollout's
    canary->readyReplicas = canary->specReplicas;
    w.settle();
    CHECK(w.rollout.status.currentStepIndex == 0);
    CHECK(w.rollout.status.readyReplicas > w.rollout.status.availableReplicas);
    canary->availableReplicas = canary->specReplicas;
    w.settle();
    CHECK(w.rollout.status.currentStepIndex == 1);
  }
  SECTION("a changed minReadySeconds reaches the new ReplicaSet only, at its size") {
    FakeWorld w = semanticsDeployed(RolloutBuilder().replicas(4).setWeight(50).pause().build());
    const std::string stable = semanticsHash(w);
    w.newImage("web:2");
    w.settle();
    w.actions.clear();
    w.rollout.spec.minReadySeconds = 20;
    w.rollout.metadata.generation++;
    w.settle();
    const auto scales = semanticsScales(w.actions);
    REQUIRE(scales.size() == 1);
    CHECK(scales[0].name == "web-" + semanticsHash(w));
    CHECK(scales[0].minReadySeconds == 20);
    CHECK(scales[0].replicas == 2);
    CHECK_FALSE(scales[0].revision.has_value());
    CHECK(w.rsByHash(stable)->minReadySeconds == 0);
  }
}

TEST_CASE("rollbackWindow: going back to a recent revision skips the steps", "[canary-semantics]") {
  struct Row {
    const char* behaviour;
    std::optional<int> window;
    const char* backTo;
    bool fastTrack;
  };
  // Revisions web:1, web:2, web:3 deployed a minute apart; web:3 is stable. A background analysis runs on
  // every update but a rollback within the window, which also skips the steps' analysis.
  const Row rows[] = {
      {"no window: the steps run again", std::nullopt, "web:2", false},
      {"the previous revision is within a window of 1", 1, "web:2", true},
      {"two back is outside a window of 1", 1, "web:1", false},
      {"two back is within a window of 2", 2, "web:1", true},
      {"a new template is never a rollback", 5, "web:4", false},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    Rollout r = RolloutBuilder().replicas(4).setWeight(50).pause().backgroundAnalysis("bg").build();
    r.spec.rollbackWindowRevisions = row.window;
    FakeWorld w = semanticsDeployed(r);
    semanticsPromoted(w, "web:2");
    semanticsPromoted(w, "web:3");
    w.events.clear();
    w.actions.clear();
    w.now += Duration{60};
    w.newImage(row.backTo);
    w.settle();
    const auto runs = std::count_if(w.actions.begin(), w.actions.end(), [](const Action& a) {
      return std::holds_alternative<CreateAnalysisRun>(a);
    });
    CHECK((runs == 0) == row.fastTrack);
    if (row.fastTrack) {
      CHECK(w.rollout.status.currentStepIndex == 2);
      CHECK(w.rollout.status.phase == "Healthy");
      CHECK(w.rollout.status.stableRS == semanticsHash(w));
      CHECK_FALSE(w.hasEvent("RolloutStepCompleted"));
      CHECK(w.hasEvent("RolloutCompleted", "Rollback within window"));
    } else {
      CHECK(w.rollout.status.currentStepIndex == 1);
      CHECK(w.rollout.status.phase == "Paused");
    }
  }
}

TEST_CASE("rollbackWindow: a pass whose status write was lost decides the same again", "[canary-semantics]") {
  Rollout r = RolloutBuilder().replicas(4).setWeight(50).pause().build();
  r.spec.rollbackWindowRevisions = 1;
  FakeWorld w = semanticsDeployed(r);
  semanticsPromoted(w, "web:2");
  w.now += Duration{60};
  w.newImage("web:1");
  const RolloutStatus written = w.rollout.status;
  w.call();
  REQUIRE(w.rollout.status.currentStepIndex == 2);
  w.rollout.status = written;  // the status write never reached the server; the ReplicaSet writes did
  w.settle();
  CHECK(w.rollout.status.currentStepIndex == 2);
  CHECK(w.rollout.status.phase == "Healthy");
  CHECK(w.rsByHash(semanticsHash(w))->revision == 3);
}

TEST_CASE("a reused older ReplicaSet gets the new revision", "[canary-semantics]") {
  FakeWorld w = semanticsDeployed(RolloutBuilder().replicas(4).setWeight(50).pause().build());
  const std::string first = semanticsHash(w);
  semanticsPromoted(w, "web:2");
  REQUIRE(w.rsByHash(first)->revision == 1);
  w.events.clear();
  w.newImage("web:1");
  w.call();
  CHECK(w.hasEvent("RolloutUpdated", "Rollout updated to revision 3"));
  CHECK(w.rsByHash(first)->revision == 3);
  w.settle();
  CHECK(w.rsByHash(first)->revision == 3);
  // Once it has the revision, nothing rewrites it again.
  w.actions.clear();
  w.settle();
  CHECK(semanticsScales(w.actions).empty());
}

TEST_CASE("dynamicStableScale: an abort moves the weight back only as far as the stable can carry",
          "[canary-semantics]") {
  Rollout r = RolloutBuilder().replicas(10).nginx().setWeight(20).setWeight(80).pause().build();
  r.spec.canary.dynamicStableScale = true;
  FakeWorld w = semanticsDeployed(r);
  const std::string stable = semanticsHash(w);
  w.newImage("web:2");
  w.settle();
  REQUIRE(w.rollout.status.currentStepIndex == 2);
  REQUIRE(w.observed.trafficWeights->canaryWeight == 80);
  REQUIRE(w.specReplicasOf(stable) == 2);

  w.readyAfterCalls = -1;  // the stable's new pods come up only as the rows say
  w.steer(abortPatch(w.rollout));
  w.settle();
  CHECK(w.specReplicasOf(stable) == 10);  // the stable is asked back to full size at once
  struct Row {
    const char* behaviour;
    int stableAvailable;
    int weight;
    const char* canaryServiceSelects;
  };
  const std::string canary = semanticsHash(w);
  const Row rows[] = {
      {"2 stable pods carry no more than they had: the weight stays", 2, 80, "canary"},
      {"8 stable pods carry 80 percent: back to the earlier setWeight 20", 8, 20, "canary"},
      {"10 stable pods carry it all: the weight goes to 0", 10, 0, "stable"},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    ReplicaSetView* s = w.rsByHash(stable);
    s->readyReplicas = s->availableReplicas = row.stableAvailable;
    w.settle();
    CHECK(w.observed.trafficWeights->canaryWeight == row.weight);
    CHECK(w.observed.serviceSelectors["web-canary"] ==
          (std::string(row.canaryServiceSelects) == "stable" ? stable : canary));
  }
  CHECK(w.rollout.status.phase == "Degraded");

  SECTION("without dynamicStableScale the weight goes to 0 at once") {
    Rollout plain = RolloutBuilder().replicas(10).nginx().setWeight(20).setWeight(80).pause().build();
    FakeWorld p = semanticsDeployed(plain);
    p.newImage("web:2");
    p.settle();
    p.steer(abortPatch(p.rollout));
    p.call();
    CHECK(p.weights.back() == 0);
  }
}

TEST_CASE("the canary Service selects the new pods once one of them is available", "[canary-semantics]") {
  FakeWorld w = semanticsDeployed(RolloutBuilder().replicas(4).nginx().setWeight(50).pause().build());
  const std::string stable = semanticsHash(w);
  w.readyAfterCalls = -1;
  w.newImage("web:2");
  const std::string canary = semanticsHash(w);
  w.settle();
  CHECK(w.observed.serviceSelectors["web-canary"] != canary);
  CHECK(w.observed.trafficWeights->canaryWeight == 0);
  ReplicaSetView* rs = w.rsByHash(canary);
  rs->readyReplicas = rs->availableReplicas = 1;
  w.settle();
  CHECK(w.observed.serviceSelectors["web-canary"] == canary);
  CHECK(w.observed.trafficWeights->canaryWeight == 0);  // the weight still waits for both pods
  rs->readyReplicas = rs->availableReplicas = 2;
  w.settle();
  CHECK(w.observed.trafficWeights->canaryWeight == 50);
  CHECK(w.observed.serviceSelectors["web-stable"] == stable);
}

TEST_CASE("status.selector is the selector as Kubernetes prints it", "[canary-semantics]") {
  struct Row {
    const char* behaviour;
    nlohmann::json selector;
    std::string printed;
  };
  const Row rows[] = {
      {"matchLabels in key order",
       {{"matchLabels", {{"tier", "web"}, {"app", "shop"}}}},
       "app=shop,tier=web"},
      {"an In expression with sorted values",
       {{"matchExpressions", {{{"key", "env"}, {"operator", "In"}, {"values", {"prod", "canary"}}}}}},
       "env in (canary,prod)"},
      {"every operator, ordered by key with matchLabels",
       {{"matchLabels", {{"app", "web"}}},
        {"matchExpressions",
         {{{"key", "zone"}, {"operator", "NotIn"}, {"values", {"b", "a"}}},
          {{"key", "legacy"}, {"operator", "DoesNotExist"}},
          {{"key", "beta"}, {"operator", "Exists"}}}}},
       "app=web,beta,!legacy,zone notin (a,b)"},
      {"an empty selector", nlohmann::json::object(), ""},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    Rollout r = RolloutBuilder().build();
    r.spec.selector = row.selector;
    FakeWorld w(r);
    w.settle();
    CHECK(w.rollout.status.selector == row.printed);
  }
}

TEST_CASE("an abort returns to the stable pods even while spec.paused (a deliberate difference)",
          "[canary-semantics]") {
  struct Row {
    const char* behaviour;
    bool trafficRouted;
  };
  const Row rows[] = {{"basic canary: the pods are the traffic", false},
                      {"traffic-routed: the canary goes after abortScaleDownDelaySeconds", true}};
  for (const auto& row : rows) {
    INFO(row.behaviour);
    RolloutBuilder b;
    b.replicas(4).setWeight(50).pause();
    if (row.trafficRouted) b.nginx();
    FakeWorld w = semanticsDeployed(b.build());
    const std::string stable = semanticsHash(w);
    w.newImage("web:2");
    w.settle();
    const std::string canary = semanticsHash(w);
    REQUIRE(w.specReplicasOf(canary) == 2);
    w.steer(pausePatch(w.rollout));
    w.steer(abortPatch(w.rollout));
    w.runFor(Duration{60});
    CHECK(w.rollout.spec.paused);
    CHECK(w.rollout.status.phase == "Degraded");
    CHECK(w.specReplicasOf(canary) == 0);
    CHECK(w.specReplicasOf(stable) == 4);
  }
}
