// The App Mesh router: the weights of the canary and stable VirtualNodes in the routes of the VirtualRouter
// behind the user's VirtualService, and the VirtualNodes' podSelectors (golden files under
// tests/golden/traffic/, rewritten with SLUICE_UPDATE_GOLDEN=1), read back after the writes are applied, the
// routes a Rollout names, and the errors: an object missing, a VirtualService without a VirtualRouter, a
// route without the VirtualNodes, header routes.
#include <catch2/catch.hpp>
#include <string>

#include "tests/unit/traffic/router_fixtures.h"
#include "traffic/appmesh.h"

using namespace sluice;
using nlohmann::json;
using testing::Objects;

// A namespace of its own: the test files are compiled in batches (unity build).
namespace appmesh_router_test {

namespace {

engine::Rollout meshRollout(const std::string& routes = "") {
  return testing::routedRollout(R"("appMesh": {"virtualService": {"name": "web")" + routes + R"(},
    "virtualNodeGroup": {"canaryVirtualNodeRef": {"name": "web-canary-vn"},
                         "stableVirtualNodeRef": {"name": "web-stable-vn"}}})");
}

const engine::SetTrafficWeight kMeshTen{10, 90, "canaryhash", "stablehash"};

// The objects of App Mesh's guide: the VirtualService provided by a VirtualRouter whose HTTP route weights
// the two VirtualNodes (and a TCP route of another team's), each VirtualNode selecting the app's pods.
Objects meshObjects() {
  Objects objects;
  objects.add(json::parse(R"({"apiVersion": "appmesh.k8s.aws/v1beta2", "kind": "VirtualService",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"awsName": "web.shop.svc.cluster.local",
             "provider": {"virtualRouter": {"virtualRouterRef": {"name": "web-router"}}}}})"));
  objects.add(json::parse(R"({"apiVersion": "appmesh.k8s.aws/v1beta2", "kind": "VirtualRouter",
    "metadata": {"name": "web-router", "namespace": "shop"},
    "spec": {"listeners": [{"portMapping": {"port": 80, "protocol": "http"}}],
             "routes": [
               {"name": "primary", "httpRoute": {"match": {"prefix": "/"}, "action": {"weightedTargets": [
                 {"virtualNodeRef": {"name": "web-canary-vn"}, "weight": 0},
                 {"virtualNodeRef": {"name": "web-stable-vn"}, "weight": 100}]}}},
               {"name": "legacy", "tcpRoute": {"action": {"weightedTargets": [
                 {"virtualNodeRef": {"name": "legacy-vn"}, "weight": 1}]}}}]}})"));
  for (const char* node : {"web-canary-vn", "web-stable-vn"}) {
    objects.add(json::parse(R"({"apiVersion": "appmesh.k8s.aws/v1beta2", "kind": "VirtualNode",
      "metadata": {"name": ")" +
                            std::string(node) + R"(", "namespace": "shop"},
      "spec": {"podSelector": {"matchLabels": {"app": "web"}},
               "listeners": [{"portMapping": {"port": 80, "protocol": "http"}}]}})"));
  }
  // The kind's key is not its name: Istio's has that name.
  const json service = objects.at("VirtualService", "web");
  objects.byKey.erase({"VirtualService", "web"});
  objects.byKey[{traffic::kAppMeshVirtualService, "web"}] = service;
  return objects;
}

json targetsOf(Objects& objects, size_t route, const char* type = "httpRoute") {
  return objects.at("VirtualRouter",
                    "web-router")["spec"]["routes"][route][type]["action"]["weightedTargets"];
}

std::string selectedBy(Objects& objects, const std::string& node) {
  return objects.at("VirtualNode", node)["spec"]["podSelector"]["matchLabels"].value(
      engine::kPodTemplateHashLabel, "");
}

}  // namespace

TEST_CASE("the App Mesh router weights the VirtualNodes in the VirtualRouter's route and reads them back",
          "[traffic][appmesh]") {
  traffic::AppMeshRouter router(meshRollout());
  Objects objects = meshObjects();
  auto before = router.inForce(objects.lookup());
  REQUIRE(before.ok());
  CHECK_FALSE(before->has_value());

  for (const auto& weights : {kMeshTen, engine::SetTrafficWeight{50, 50, "canaryhash", "stablehash"},
                              engine::SetTrafficWeight{100, 0, "canaryhash", "stablehash"},
                              engine::SetTrafficWeight{0, 100, "canaryhash", "canaryhash"}}) {
    auto writes = router.setWeight(objects.lookup(), weights);
    REQUIRE(writes.ok());
    REQUIRE_FALSE(writes->empty());
    CHECK((*writes)[0].kind == "VirtualRouter");
    if (weights.canaryWeight == 10) {
      REQUIRE(writes->size() == 3);
      json all = json::array();
      for (const auto& w : *writes) all.push_back({{"kind", w.kind}, {"name", w.name}, {"patch", w.body}});
      testing::checkGolden("appmesh-weight-patches", all);
    }
    testing::setAndReadBack(router, objects, weights);
    CHECK(targetsOf(objects, 0)[0]["weight"] == weights.canaryWeight);
    CHECK(targetsOf(objects, 0)[1]["weight"] == weights.stableWeight);
  }
  // Promoted: both revisions are one, and App Mesh refuses two VirtualNodes with one podSelector.
  CHECK(selectedBy(objects, "web-stable-vn") == "canaryhash");
  CHECK(selectedBy(objects, "web-canary-vn") == traffic::kAppMeshCanaryPlaceholder);
  // The other route and the rest of the VirtualNodes stay as they were.
  CHECK(targetsOf(objects, 1, "tcpRoute")[0]["weight"] == 1);
  CHECK(objects.at("VirtualNode", "web-canary-vn")["spec"]["podSelector"]["matchLabels"]["app"] == "web");
}

TEST_CASE("the App Mesh router weights only the routes the Rollout names", "[traffic][appmesh]") {
  Objects objects = meshObjects();
  SECTION("a named route") {
    traffic::AppMeshRouter router(meshRollout(R"(, "routes": ["primary"])"));
    auto writes = router.setWeight(objects.lookup(), kMeshTen);
    REQUIRE(writes.ok());
    objects.apply(*writes);
    CHECK(targetsOf(objects, 0)[0]["weight"] == 10);
  }
  SECTION("a route that is not there") {
    traffic::AppMeshRouter router(meshRollout(R"(, "routes": ["canary"])"));
    auto writes = router.setWeight(objects.lookup(), kMeshTen);
    REQUIRE_FALSE(writes.ok());
    CHECK_THAT(writes.error(), Catch::Contains("VirtualRouter `web-router` has no route named `canary`"));
  }
  SECTION("every route, one of them with the stable VirtualNode alone") {
    traffic::AppMeshRouter router(meshRollout());
    json& routes = objects.at("VirtualRouter", "web-router")["spec"]["routes"];
    routes[1]["tcpRoute"]["action"]["weightedTargets"][0]["virtualNodeRef"]["name"] = "web-stable-vn";
    auto writes = router.setWeight(objects.lookup(), kMeshTen);
    REQUIRE_FALSE(writes.ok());
    CHECK_THAT(writes.error(),
               Catch::Contains("route `legacy` has no weighted target for the VirtualNode `web-canary-vn`"));
  }
}

TEST_CASE("the App Mesh router says which object is missing or unusable", "[traffic][appmesh]") {
  traffic::AppMeshRouter router(meshRollout());
  Objects objects = meshObjects();
  SECTION("the VirtualService") {
    objects.byKey.erase({traffic::kAppMeshVirtualService, "web"});
    auto seen = router.inForce(objects.lookup());
    REQUIRE_FALSE(seen.ok());
    CHECK_THAT(seen.error(), Catch::Contains("VirtualService `web` (appmesh.k8s.aws/v1beta2) not found"));
  }
  SECTION("a VirtualService provided by a VirtualNode") {
    objects.at(traffic::kAppMeshVirtualService, "web")["spec"]["provider"] =
        json::parse(R"({"virtualNode": {"virtualNodeRef": {"name": "web-stable-vn"}}})");
    auto seen = router.inForce(objects.lookup());
    REQUIRE_FALSE(seen.ok());
    CHECK_THAT(seen.error(), Catch::Contains("is not provided by a VirtualRouter"));
  }
  SECTION("a VirtualNode") {
    objects.byKey.erase({"VirtualNode", "web-canary-vn"});
    auto writes = router.setWeight(objects.lookup(), kMeshTen);
    REQUIRE_FALSE(writes.ok());
    CHECK_THAT(writes.error(), Catch::Contains("VirtualNode `web-canary-vn` not found"));
  }
  SECTION("header routes") {
    auto route = router.setHeaderRoute(objects.lookup(), {"hr", {}});
    REQUIRE_FALSE(route.ok());
    CHECK_THAT(route.error(), Catch::Contains("not supported by appMesh"));
  }
}

TEST_CASE("makeRouter picks App Mesh alone", "[traffic][appmesh]") {
  auto made = traffic::makeRouter(meshRollout());
  REQUIRE(made.ok());
  CHECK(dynamic_cast<traffic::AppMeshRouter*>(made->get()) != nullptr);
  const auto kinds = (*made)->kinds();
  CHECK(std::find(kinds.begin(), kinds.end(), "VirtualService") == kinds.end());  // Istio's kind
}

}  // namespace appmesh_router_test
