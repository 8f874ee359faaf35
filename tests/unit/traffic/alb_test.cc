// The ALB router: the forward action annotation on the user's Ingresses (golden files under
// tests/golden/traffic/, rewritten with SLUICE_UPDATE_GOLDEN=1), read back after the writes are applied,
// Argo Rollouts' own annotation taken as it is, the ping-pong Services, header routes, and the errors: an
// Ingress missing or without a rule to the action, mirror routes.
#include <catch2/catch.hpp>
#include <string>

#include "tests/unit/traffic/router_fixtures.h"
#include "traffic/alb.h"

using namespace sluice;
using nlohmann::json;
using testing::Objects;

// A namespace of its own: the test files are compiled in batches (unity build).
namespace alb_router_test {

namespace {

engine::Rollout rollout(const std::string& alb = R"("ingress": "web", "servicePort": 80)",
                        const std::string& extra = "") {
  return testing::routedRollout(R"("alb": {)" + alb + "}" + extra);
}

const engine::SetTrafficWeight kTen{10, 90, "canaryhash", "stablehash"};

// The Ingress as Argo Rollouts' documentation has users write it: a rule to the action (the stable Service
// with the port name use-annotation), a second path of another team's, and an annotation of its own.
json userIngress(const std::string& name = "web", const std::string& action = "web-stable") {
  return json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
    "metadata": {"name": ")" +
                     name + R"(", "namespace": "shop",
                 "annotations": {"kubernetes.io/ingress.class": "alb"}},
    "spec": {"rules": [{"http": {"paths": [
      {"path": "/*", "pathType": "ImplementationSpecific",
       "backend": {"service": {"name": ")" +
                     action + R"(", "port": {"name": "use-annotation"}}}},
      {"path": "/legacy", "pathType": "Prefix",
       "backend": {"service": {"name": "legacy", "port": {"number": 8080}}}}]}}]}})");
}

std::string actionOn(Objects& objects, const std::string& key, const std::string& ingress = "web") {
  return objects.at("Ingress", ingress)["metadata"]["annotations"].value(key, "");
}

}  // namespace

TEST_CASE("the ALB router writes the forward action on the user's Ingress and reads the weights back",
          "[traffic][alb]") {
  traffic::AlbRouter router(rollout());
  Objects objects = Objects().add(userIngress());
  auto before = router.inForce(objects.lookup());
  REQUIRE(before.ok());
  CHECK_FALSE(before->has_value());

  testing::stepWeightsThrough(router, objects,
                              {kTen,
                               {30, 70, "canaryhash", "stablehash"},
                               {100, 0, "canaryhash", "stablehash"},
                               {0, 100, "canaryhash", "canaryhash"}},
                              "Ingress", "web", "alb-weight-patch", [](const engine::SetTrafficWeight&) {});
  // The user's rules and annotations stay as they were.
  CHECK(objects.at("Ingress", "web")["spec"] == userIngress()["spec"]);
  CHECK(actionOn(objects, "kubernetes.io/ingress.class") == "alb");
}

TEST_CASE("the ALB action is the JSON Argo Rollouts writes so an Ingress it annotated needs no rewrite",
          "[traffic][alb]") {
  // As Argo's Go structs marshal it: canary first, the port a string, the stickiness last.
  const std::string argo =
      R"({"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-canary","ServicePort":"80",)"
      R"("Weight":10},{"ServiceName":"web-stable","ServicePort":"80","Weight":90}],)"
      R"("TargetGroupStickinessConfig":{"Enabled":true,"DurationSeconds":3600}}})";
  traffic::AlbRouter router(rollout(
      R"("ingress": "web", "servicePort": 80, "stickinessConfig": {"enabled": true, "durationSeconds": 3600})"));
  json ingress = userIngress();
  ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/actions.web-stable"] = argo;
  Objects objects = Objects().add(ingress);
  auto writes = router.setWeight(objects.lookup(), kTen);
  REQUIRE(writes.ok());
  REQUIRE(writes->size() == 1);
  // Only Sluice's hash annotations are new.
  CHECK((*writes)[0].body == json{{"metadata",
                                   {{"annotations",
                                     {{traffic::kCanaryHashAnnotation, "canaryhash"},
                                      {traffic::kStableHashAnnotation, "stablehash"}}}}}});
  // Without Sluice's hash annotations the weights are not known to split any revision: not in force.
  auto seen = router.inForce(objects.lookup());
  REQUIRE(seen.ok());
  CHECK_FALSE(seen->has_value());
}

TEST_CASE("the ALB router names the action after rootService under the annotation prefix on every Ingress",
          "[traffic][alb]") {
  traffic::AlbRouter router(rollout(R"("ingresses": ["web", "web-internal"], "servicePort": 8443,
    "rootService": "web-root", "annotationPrefix": "custom.alb.ingress.kubernetes.io")"));
  Objects objects =
      Objects().add(userIngress("web", "web-root")).add(userIngress("web-internal", "web-root"));
  auto writes = router.setWeight(objects.lookup(), kTen);
  REQUIRE(writes.ok());
  REQUIRE(writes->size() == 2);
  objects.apply(*writes);
  const std::string key = "custom.alb.ingress.kubernetes.io/actions.web-root";
  CHECK(
      actionOn(objects, key) ==
      R"({"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-canary","ServicePort":"8443",)"
      R"("Weight":10},{"ServiceName":"web-stable","ServicePort":"8443","Weight":90}]}})");
  CHECK(actionOn(objects, key, "web-internal") == actionOn(objects, key));
  auto seen = router.inForce(objects.lookup());
  REQUIRE(seen.ok());
  CHECK(seen->has_value());

  SECTION("an Ingress that someone changed is not in force until it is set again") {
    objects.at("Ingress", "web-internal")["metadata"]["annotations"][key] = "{}";
    auto changed = router.inForce(objects.lookup());
    REQUIRE(changed.ok());
    CHECK_FALSE(changed->has_value());
    auto fix = router.setWeight(objects.lookup(), kTen);
    REQUIRE(fix.ok());
    REQUIRE(fix->size() == 1);
    CHECK((*fix)[0].name == "web-internal");
  }
}

TEST_CASE("the ALB router sends the weights to the Services the engine names in their roles",
          "[traffic][alb]") {
  engine::Rollout r = rollout(R"("ingress": "web", "servicePort": 80, "rootService": "web-root")");
  r.spec.canary.pingPong = engine::PingPongServices{"web-ping", "web-pong"};
  traffic::AlbRouter router(r);
  Objects objects = Objects().add(userIngress("web", "web-root"));
  const engine::SetTrafficWeight pongCanary{60, 40, "v2", "v1", "web-pong", "web-ping"};
  auto writes = router.setWeight(objects.lookup(), pongCanary);
  REQUIRE(writes.ok());
  objects.apply(*writes);
  CHECK(actionOn(objects, "alb.ingress.kubernetes.io/actions.web-root") ==
        R"({"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-pong","ServicePort":"80",)"
        R"("Weight":60},{"ServiceName":"web-ping","ServicePort":"80","Weight":40}]}})");
  auto seen = router.inForce(objects.lookup());
  REQUIRE(seen.ok());
  REQUIRE(seen->has_value());
  CHECK(**seen == engine::TrafficInForce{60, 40, "v2", "v1"});
  // At promotion the roles swap: the pong Service keeps all the traffic as the stable one.
  const engine::SetTrafficWeight promoted{0, 100, "v2", "v2", "web-ping", "web-pong"};
  auto swap = router.setWeight(objects.lookup(), promoted);
  REQUIRE(swap.ok());
  objects.apply(*swap);
  auto after = router.inForce(objects.lookup());
  REQUIRE(after.ok());
  REQUIRE(after->has_value());
  CHECK(**after == engine::TrafficInForce{0, 100, "v2", "v2"});
}

TEST_CASE("the ALB router says which Ingress is missing or lacks a rule to the action", "[traffic][alb]") {
  traffic::AlbRouter router(rollout());
  SECTION("missing") {
    Objects none;
    auto seen = router.inForce(none.lookup());
    REQUIRE_FALSE(seen.ok());
    CHECK_THAT(seen.error(), Catch::Contains("Ingress `web` not found"));
  }
  SECTION("no rule whose backend is the action") {
    Objects objects = Objects().add(userIngress("web", "web-other"));
    auto writes = router.setWeight(objects.lookup(), kTen);
    REQUIRE_FALSE(writes.ok());
    CHECK_THAT(writes.error(),
               Catch::Contains("Ingress `web` has no rule whose backend is the service `web-stable`"));
    auto seen = router.inForce(objects.lookup());
    REQUIRE_FALSE(seen.ok());
  }
  SECTION("mirror routes") {
    Objects objects = Objects().add(userIngress());
    auto mirrored = router.setMirrorRoute(objects.lookup(), {"mirror", 50, json::array()});
    REQUIRE_FALSE(mirrored.ok());
    CHECK_THAT(mirrored.error(), Catch::Contains("not supported by alb"));
  }
}

TEST_CASE("the ALB router adds a header route as an action with conditions and a path ahead of the others",
          "[traffic][alb]") {
  traffic::AlbRouter router(
      rollout(R"("ingress": "web", "servicePort": 80)", R"(, "managedRoutes": [{"name": "canary-header"}])"));
  Objects objects = Objects().add(userIngress());
  auto weights = router.setWeight(objects.lookup(), kTen);
  REQUIRE(weights.ok());
  objects.apply(*weights);
  const json before = objects.at("Ingress", "web");
  auto writes = router.setHeaderRoute(objects.lookup(), {"canary-header", {{"x-canary", "exact", "yes"}}});
  REQUIRE(writes.ok());
  REQUIRE(writes->size() == 1);
  testing::checkGolden("alb-header-route-patch", (*writes)[0].body);
  objects.apply(*writes);
  const json& ingress = objects.at("Ingress", "web");
  CHECK(ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/conditions.canary-header"] ==
        R"([{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"x-canary","values":["yes"]}}])");
  CHECK(
      ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/actions.canary-header"] ==
      R"({"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"web-canary","ServicePort":"80",)"
      R"("Weight":100}]}})");
  const json& paths = ingress["spec"]["rules"][0]["http"]["paths"];
  REQUIRE(paths.size() == 3);
  CHECK(paths[0]["backend"]["service"]["name"] == "canary-header");
  CHECK(paths[0]["backend"]["service"]["port"]["name"] == "use-annotation");
  auto again = router.setHeaderRoute(objects.lookup(), {"canary-header", {{"x-canary", "exact", "yes"}}});
  REQUIRE(again.ok());
  CHECK(again->empty());
  // The weights are still in force beside the route.
  auto seen = router.inForce(objects.lookup());
  REQUIRE(seen.ok());
  CHECK(seen->has_value());

  testing::removeHeaderRoute(router, objects, "canary-header");
  CHECK(objects.at("Ingress", "web") == before);
}

TEST_CASE("makeRouter picks ALB, alone or beside another router", "[traffic][alb]") {
  auto made = traffic::makeRouter(rollout());
  REQUIRE(made.ok());
  CHECK(dynamic_cast<traffic::AlbRouter*>(made->get()) != nullptr);
  auto both = traffic::makeRouter(
      rollout(R"("ingress": "web", "servicePort": 80)", R"(, "smi": {"rootService": "web"})"));
  REQUIRE(both.ok());
  CHECK(dynamic_cast<traffic::AlbRouter*>(both->get()) == nullptr);  // both of them, not ALB alone
}

}  // namespace alb_router_test
