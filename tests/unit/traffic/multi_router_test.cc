// Several routers at once, as Argo Rollouts runs them (its e2e test has an ALB in front of an Istio mesh):
// every write goes to each, and the weights are in force only when all of them have them.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "base/source.h"
#include "engine/rollout_json.h"
#include "tests/unit/traffic/router_fixtures.h"

using namespace sluice;
using nlohmann::json;
using testing::Objects;

// A namespace of its own: the test files are compiled in batches (unity build).
namespace multi_router_test {

namespace {

int albCanaryWeight(Objects& objects) {
  const json action = json::parse(objects.at("Ingress", "web")["metadata"]["annotations"].value(
      "alb.ingress.kubernetes.io/actions.web-stable", "{}"));
  return action["ForwardConfig"]["TargetGroups"][0].value("Weight", -1);
}

int istioCanaryWeight(Objects& objects) {
  return objects.at("VirtualService", "web")["spec"]["http"][0]["route"][1].value("weight", -1);
}

}  // namespace

TEST_CASE("ALB and Istio together: each step's weight goes to both, in force once both have it",
          "[traffic][multi]") {
  const engine::Rollout rollout = testing::routedRollout(
      R"("alb": {"ingress": "web", "servicePort": 80},
         "istio": {"virtualService": {"name": "web", "routes": ["primary"]}})");
  auto router = traffic::makeRouter(rollout);
  REQUIRE(router.ok());
  REQUIRE(*router != nullptr);
  CHECK((*router)->kinds() == std::vector<std::string>{"VirtualService", "DestinationRule", "Ingress"});
  Objects objects = Objects().add(testing::albActionIngress()).add(testing::hostSplitVirtualService());
  const engine::SetTrafficWeight twenty{20, 80, "c2", "s1"};
  testing::setAndReadBack(**router, objects, twenty);
  CHECK(albCanaryWeight(objects) == 20);
  CHECK(istioCanaryWeight(objects) == 20);

  // A write that reached one of them only: not in force, so the next pass writes again; the Services are
  // not taken for quiet meanwhile (each weight the highest either sends).
  const engine::SetTrafficWeight fifty{50, 50, "c2", "s1"};
  auto halfway = traffic::makeRouter(
      testing::routedRollout(R"("istio": {"virtualService": {"name": "web", "routes": ["primary"]}})"));
  REQUIRE(halfway.ok());
  objects.apply(*(*halfway)->setWeight(objects.lookup(), fifty));
  auto seen = (*router)->inForce(objects.lookup());
  REQUIRE(seen.ok());
  REQUIRE(seen->has_value());
  CHECK(**seen != engine::splitOf(fifty));
  CHECK(**seen != engine::splitOf(twenty));
  CHECK((*seen)->canaryWeight == 50);
  CHECK((*seen)->stableWeight == 80);
  testing::setAndReadBack(**router, objects, fifty);
  CHECK(albCanaryWeight(objects) == 50);

  // An object one of them needs is missing: the error names it.
  Objects noIngress = Objects().add(testing::hostSplitVirtualService());
  auto refused = (*router)->setWeight(noIngress.lookup(), twenty);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().find("Ingress `web` not found") != std::string::npos);
}

TEST_CASE(
    "ALB and Istio with pingPong beside canaryService and stableService: ALB sends to the ping and pong "
    "Services, Istio to the canary and stable ones (Argo's albmesh e2e)",
    "[traffic][multi][pingpong]") {
  Diagnostics diags;
  const auto rollout =
      engine::parseRollout(json::parse(R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "Rollout",
    "metadata": {"name": "web", "namespace": "shop", "uid": "uid-web"},
    "spec": {"selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "w"}]}},
      "strategy": {"canary": {"canaryService": "web-canary", "stableService": "web-stable",
        "pingPong": {"pingService": "web-ping", "pongService": "web-pong"},
        "trafficRouting": {"alb": {"ingress": "web", "rootService": "web-root", "servicePort": 80},
                           "istio": {"virtualService": {"name": "web", "routes": ["primary"]}}},
        "steps": [{"setWeight": 25}]}}}})"),
                           SourceMap(), diags);
  INFO(diags.format());
  REQUIRE(rollout);
  auto router = traffic::makeRouter(*rollout);
  REQUIRE(router.ok());
  Objects objects =
      Objects().add(testing::albActionIngress("web-root")).add(testing::hostSplitVirtualService());
  // The engine names the ping and pong Services in their roles: pong the canary before the first promotion.
  testing::setAndReadBack(**router, objects, {25, 75, "c2", "s1", "web-pong", "web-ping"});
  const json action = json::parse(objects.at("Ingress", "web")["metadata"]["annotations"].value(
      "alb.ingress.kubernetes.io/actions.web-root", "{}"));
  CHECK(action["ForwardConfig"]["TargetGroups"][0]["ServiceName"] == "web-pong");
  CHECK(action["ForwardConfig"]["TargetGroups"][0]["Weight"] == 25);
  CHECK(action["ForwardConfig"]["TargetGroups"][1]["ServiceName"] == "web-ping");
  const json route = objects.at("VirtualService", "web")["spec"]["http"][0]["route"];
  CHECK(route[0]["destination"]["host"] == "web-stable");
  CHECK(route[0]["weight"] == 75);
  CHECK(route[1]["destination"]["host"] == "web-canary");
  CHECK(route[1]["weight"] == 25);
}

}  // namespace multi_router_test
