// canary.pingPong: the ping and pong Services take the canary and the stable roles in turn, through the
// engine's decisions in a fake world: which one each weight goes to, which selector moves and when, and
// status.canary.stablePingPong.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "engine/canary.h"
#include "engine/rollout_json.h"
#include "engine/steering.h"
#include "tests/unit/engine/test_world.h"

using namespace sluice;
using namespace sluice::engine;
using namespace sluice::engine::testing;

// A namespace of its own: the test files are compiled in batches (unity build).
namespace pingpong_test {

namespace {

Rollout pingPongRollout() {
  RolloutBuilder b;
  b.replicas(4).setWeight(20).pause().setWeight(60).pause(30);
  Rollout r = b.build();
  r.spec.canary.pingPong = PingPongServices{"web-ping", "web-pong"};
  TrafficRouting tr;
  tr.alb = AlbTrafficRouting{};
  tr.alb->ingresses = {"web"};
  tr.alb->servicePort = 80;
  tr.alb->rootService = "web-root";
  r.spec.canary.trafficRouting = tr;
  return r;
}

// Each weight set, as "<canary service>=<weight>/<stable service>=<weight>".
std::vector<std::string> weightsSet(const FakeWorld& w) {
  std::vector<std::string> out;
  for (const auto& a : w.actions) {
    if (const auto* t = std::get_if<SetTrafficWeight>(&a))
      out.push_back(t->canaryService + "=" + std::to_string(t->canaryWeight) + "/" + t->stableService + "=" +
                    std::to_string(t->stableWeight));
  }
  return out;
}

// Checks, action by action, that no Service's selector moves while the weights in force send it traffic:
// the selector of a Service that carries requests changes only once its weight is 0.
struct SelectorWatch {
  std::map<std::string, int> weightOf;  // Service -> the weight in force through it
  std::vector<std::string> moves;       // "<service>-><hash>", in order

  void watch(FakeWorld& w) {
    w.afterCall = [this](const Rollout&, const Decision& d) {
      for (const auto& a : d.actions) {
        if (const auto* sel = std::get_if<SetServiceSelector>(&a)) {
          INFO("the selector of " << sel->service << " moves while it carries " << weightOf[sel->service]);
          CHECK(weightOf[sel->service] == 0);
          moves.push_back(sel->service + "->" + sel->podTemplateHash);
        }
      }
      for (const auto& a : d.actions) {
        if (const auto* t = std::get_if<SetTrafficWeight>(&a)) {
          weightOf[t->canaryService] = t->canaryWeight;
          weightOf[t->stableService] = t->stableWeight;
        }
      }
    };
  }
};

// Runs the update to `image` through its steps and its promotion.
void rollThrough(FakeWorld& w, const std::string& image) {
  w.newImage(image);
  w.settle();
  REQUIRE(w.rollout.status.currentStepIndex == 1);  // paused after setWeight 20
  w.steer(promotePatch(w.rollout));
  w.settle();
  INFO(summary(w.rollout.status));
  REQUIRE(w.rollout.status.currentStepIndex == 3);  // the timed pause after setWeight 60
  w.runFor(Duration{60});
  REQUIRE(w.rollout.status.phase == "Healthy");
}

}  // namespace

TEST_CASE("pingPong makes the ping Service stable at the first deploy", "[engine][pingpong]") {
  FakeWorld w(pingPongRollout());
  w.settle();
  const std::string v1 = podTemplateHash(w.rollout.spec.podTemplate);
  CHECK(w.rollout.status.phase == "Healthy");
  CHECK(w.rollout.status.canary.stablePingPong == "ping");
  CHECK(w.observed.serviceSelectors["web-ping"] == v1);
  REQUIRE(w.rollout.status.canary.weights.has_value());
  CHECK(w.rollout.status.canary.weights->stable.serviceName == "web-ping");
  CHECK(w.rollout.status.canary.weights->canary.serviceName == "web-pong");
}

TEST_CASE(
    "pingPong rolls out behind the canary Service and makes it stable without moving a selector under "
    "traffic",
    "[engine][pingpong]") {
  FakeWorld w(pingPongRollout());
  w.settle();
  const std::string v1 = podTemplateHash(w.rollout.spec.podTemplate);
  w.actions.clear();
  SelectorWatch selectors;
  selectors.watch(w);

  rollThrough(w, "web:2");
  const std::string v2 = podTemplateHash(w.rollout.spec.podTemplate);
  // The pong Service carried the canary's share up to all of it, then took the stable role as it was.
  CHECK(w.rollout.status.canary.stablePingPong == "pong");
  CHECK(w.rollout.status.stableRS == v2);
  CHECK(w.observed.serviceSelectors["web-pong"] == v2);
  const auto set = weightsSet(w);
  CHECK(std::find(set.begin(), set.end(), "web-pong=20/web-ping=80") != set.end());
  CHECK(std::find(set.begin(), set.end(), "web-pong=60/web-ping=40") != set.end());
  CHECK(std::find(set.begin(), set.end(), "web-pong=100/web-ping=0") != set.end());
  REQUIRE_FALSE(set.empty());
  CHECK(set.back() == "web-ping=0/web-pong=100");
  CHECK(std::count(selectors.moves.begin(), selectors.moves.end(), "web-pong->" + v2) == 1);
  CHECK(std::count(selectors.moves.begin(), selectors.moves.end(), "web-ping->" + v1) == 0);
  REQUIRE(w.rollout.status.canary.weights.has_value());
  CHECK(w.rollout.status.canary.weights->stable == WeightDestination{100, "web-pong", v2});

  // The next update goes out behind the ping Service, which becomes stable in turn.
  w.actions.clear();
  rollThrough(w, "web:3");
  const std::string v3 = podTemplateHash(w.rollout.spec.podTemplate);
  CHECK(w.rollout.status.canary.stablePingPong == "ping");
  CHECK(w.observed.serviceSelectors["web-ping"] == v3);
  const auto again = weightsSet(w);
  CHECK(std::find(again.begin(), again.end(), "web-ping=20/web-pong=80") != again.end());
  REQUIRE_FALSE(again.empty());
  CHECK(again.back() == "web-pong=0/web-ping=100");
}

TEST_CASE("pingPong aborted keeps the stable Service and its role", "[engine][pingpong]") {
  FakeWorld w(pingPongRollout());
  w.settle();
  const std::string v1 = podTemplateHash(w.rollout.spec.podTemplate);
  SelectorWatch selectors;
  selectors.watch(w);
  w.newImage("web:2");
  w.settle();
  REQUIRE(w.rollout.status.currentStepIndex == 1);
  w.actions.clear();
  w.steer(abortPatch(w.rollout));
  w.settle();
  CHECK(w.rollout.status.canary.stablePingPong == "ping");
  CHECK(w.rollout.status.stableRS == v1);
  CHECK(w.observed.serviceSelectors["web-ping"] == v1);
  const auto set = weightsSet(w);
  REQUIRE_FALSE(set.empty());
  CHECK(set.back() == "web-pong=0/web-ping=100");
}

TEST_CASE("pingPong leaves canaryService and stableService set beside it following the revisions",
          "[engine][pingpong]") {
  Rollout r = pingPongRollout();
  r.spec.canary.canaryService = "web-canary";
  r.spec.canary.stableService = "web-stable";
  FakeWorld w(r);
  w.settle();
  const std::string v1 = podTemplateHash(w.rollout.spec.podTemplate);
  CHECK(w.observed.serviceSelectors["web-stable"] == v1);
  w.newImage("web:2");
  w.settle();
  const std::string v2 = podTemplateHash(w.rollout.spec.podTemplate);
  REQUIRE(w.rollout.status.currentStepIndex == 1);
  CHECK(w.observed.serviceSelectors["web-canary"] == v2);
  CHECK(w.observed.serviceSelectors["web-stable"] == v1);
  // The weights go to the ping-pong Services alone.
  for (const auto& set : weightsSet(w)) CHECK(set.find("web-canary") == std::string::npos);
  w.steer(promoteFullPatch(w.rollout));
  w.runFor(Duration{60});
  REQUIRE(w.rollout.status.phase == "Healthy");
  CHECK(w.observed.serviceSelectors["web-stable"] == v2);
}

TEST_CASE("status.canary.stablePingPong is read and written as Argo Rollouts names it",
          "[engine][pingpong]") {
  RolloutStatus status;
  status.canary.stablePingPong = "pong";
  const nlohmann::json j = statusToJson(status);
  CHECK(j["canary"]["stablePingPong"] == "pong");
  Rollout r = pingPongRollout();
  r.status = status;
  CHECK(canaryRoleService(r.spec.canary, r.status) == "web-ping");
  CHECK(stableRoleService(r.spec.canary, r.status) == "web-pong");
  r.status.canary.stablePingPong.clear();  // before the first promotion, as Argo reads it
  CHECK(stableRoleService(r.spec.canary, r.status) == "web-pong");
}

}  // namespace pingpong_test
