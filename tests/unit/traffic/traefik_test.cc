// The Traefik router: the weights of the canary and stable Services in the user's TraefikService (golden
// files under tests/golden/traffic/, rewritten with SLUICE_UPDATE_GOLDEN=1), read back after the writes are
// applied, what it leaves alone, and the errors: a TraefikService missing or without either Service, header
// and mirror routes.
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "tests/unit/traffic/router_fixtures.h"
#include "traffic/traefik.h"

using namespace sluice;
using nlohmann::json;
using testing::Objects;

// A namespace of its own: the test files are compiled in batches (unity build).
namespace traefik_router_test {

namespace {

engine::Rollout rollout(const std::string& extra = "") {
  return testing::routedRollout(R"("traefik": {"weightedTraefikServiceName": "web-wrr"})" + extra);
}

const engine::SetTrafficWeight kTen{10, 90, "canaryhash", "stablehash"};

// The TraefikService as Argo Rollouts' documentation has users write it: no weights yet, a port on each, a
// sticky cookie and a third service of another team's.
json userTraefikService() {
  return json::parse(R"({"apiVersion": "traefik.containo.us/v1alpha1", "kind": "TraefikService",
    "metadata": {"name": "web-wrr", "namespace": "shop", "annotations": {"team": "web"}},
    "spec": {"weighted": {
      "services": [{"name": "web-stable", "port": 80}, {"name": "web-canary", "port": 80},
                   {"name": "web-legacy", "port": 8080, "weight": 5}],
      "sticky": {"cookie": {"name": "lb"}}}}})");
}

// The weight of the entry named `service` in the live TraefikService; -1 when it has none.
int weightIn(Objects& objects, const std::string& service) {
  for (const auto& entry : objects.at("TraefikService", "web-wrr")["spec"]["weighted"]["services"])
    if (entry.value("name", "") == service) return entry.value("weight", -1);
  return -1;
}

}  // namespace

TEST_CASE(
    "the Traefik router weights the canary and stable Services in the user's TraefikService and reads "
    "them back in force",
    "[traffic][traefik]") {
  traffic::TraefikRouter router(rollout());
  Objects objects = Objects().add(userTraefikService());
  // No weights yet: not set, all on the stable.
  auto before = router.inForce(objects.lookup());
  REQUIRE(before.ok());
  CHECK_FALSE(before->has_value());

  testing::stepWeightsThrough(router, objects,
                              {kTen,
                               {30, 70, "canaryhash", "stablehash"},
                               {100, 0, "canaryhash", "stablehash"},
                               {0, 100, "canaryhash", "canaryhash"}},
                              "TraefikService", "web-wrr", "traefik-weight-patch",
                              [&](const engine::SetTrafficWeight& weights) {
                                CHECK(weightIn(objects, "web-canary") == weights.canaryWeight);
                                CHECK(weightIn(objects, "web-stable") == weights.stableWeight);
                              });
  // What is not Sluice's is as the user wrote it: the other service and its weight, the ports, the sticky
  // cookie, the user's annotation; nothing owns the TraefikService.
  json live = objects.at("TraefikService", "web-wrr");
  const json user = userTraefikService();
  CHECK(live["spec"]["weighted"]["services"][2] == user["spec"]["weighted"]["services"][2]);
  CHECK(live["spec"]["weighted"]["services"][0]["port"] == 80);
  CHECK(live["spec"]["weighted"]["sticky"] == user["spec"]["weighted"]["sticky"]);
  CHECK(live["metadata"]["annotations"]["team"] == "web");
  CHECK_FALSE(live["metadata"].contains("ownerReferences"));
}

TEST_CASE("a TraefikService someone changed is not in force so the weight is written again",
          "[traffic][traefik]") {
  traffic::TraefikRouter router(rollout());
  struct Row {
    const char* name;
    std::function<void(json&)> edit;
  };
  const std::vector<Row> rows = {
      {"a weight removed", [](json& s) { s["spec"]["weighted"]["services"][0].erase("weight"); }},
      {"a weight that is no integer", [](json& s) { s["spec"]["weighted"]["services"][1]["weight"] = "10"; }},
      {"a second entry for the canary Service at another weight",
       [](json& s) {
         s["spec"]["weighted"]["services"].push_back({{"name", "web-canary"}, {"port", 81}, {"weight", 1}});
       }},
      {"the hash annotations gone",
       [](json& s) {
         s["metadata"]["annotations"] = {{"team", "web"}};
       }},
  };
  for (const auto& row : rows) {
    SECTION(row.name) {
      testing::checkWrittenAgainAfter(router, Objects().add(userTraefikService()), "TraefikService",
                                      "web-wrr", row.edit);
    }
  }
}

TEST_CASE("a weight someone else set is read as it is, and the next weight replaces it",
          "[traffic][traefik]") {
  traffic::TraefikRouter router(rollout());
  Objects objects = Objects().add(userTraefikService());
  auto set = router.setWeight(objects.lookup(), kTen);
  REQUIRE(set.ok());
  objects.apply(*set);
  objects.at("TraefikService", "web-wrr")["spec"]["weighted"]["services"][1]["weight"] = 50;
  auto seen = router.inForce(objects.lookup());
  REQUIRE(seen.ok());
  REQUIRE(seen->has_value());
  CHECK(**seen == engine::TrafficInForce{50, 90, "canaryhash", "stablehash"});
  auto writes = router.setWeight(objects.lookup(), kTen);
  REQUIRE(writes.ok());
  REQUIRE(writes->size() == 1);
  objects.apply(*writes);
  CHECK(weightIn(objects, "web-canary") == 10);
}

TEST_CASE(
    "a TraefikService that is missing or does not send to both Services is an error naming it and what it "
    "lacks",
    "[traffic][traefik]") {
  struct Row {
    const char* name;
    std::function<void(Objects&)> setup;
    std::string error;
  };
  const std::vector<Row> rows = {
      {"no TraefikService", [](Objects&) {},
       "TraefikService `web-wrr` (traefik.containo.us/v1alpha1) not found: "
       "trafficRouting.traefik.weightedTraefikServiceName names a TraefikService of the Rollout's namespace, "
       "which Sluice does not create"},
      {"a mirroring TraefikService",
       [](Objects& o) {
         json s = userTraefikService();
         s["spec"] = {{"mirroring", {{"name", "web-stable"}, {"port", 80}}}};
         o.add(s);
       },
       "TraefikService `web-wrr` has no spec.weighted.services"},
      {"no entry for the canary Service",
       [](Objects& o) {
         json s = userTraefikService();
         s["spec"]["weighted"]["services"].erase(1);
         o.add(s);
       },
       "TraefikService `web-wrr` has no entry for the canary Service web-canary in spec.weighted.services"},
      {"the stable Service's name on a TraefikService entry, which is not the Service",
       [](Objects& o) {
         json s = userTraefikService();
         s["spec"]["weighted"]["services"][0]["kind"] = "TraefikService";
         o.add(s);
       },
       "TraefikService `web-wrr` has no entry for the stable Service web-stable in spec.weighted.services"},
  };
  traffic::TraefikRouter router(rollout());
  for (const auto& row : rows) {
    SECTION(row.name) {
      Objects objects;
      row.setup(objects);
      testing::checkRefused(router, objects, row.error);
    }
  }
  // The group it was looked for in, as --traefik-api-group sets it.
  traffic::TraefikRouter newer(rollout(), "traefik.io");
  auto missing = newer.inForce(Objects().lookup());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().find("(traefik.io/v1alpha1) not found") != std::string::npos);
}

TEST_CASE("Traefik has no header or mirror routes: those steps are errors and there is nothing to remove",
          "[traffic][traefik]") {
  traffic::TraefikRouter router(rollout());
  const Objects objects = Objects().add(userTraefikService());
  auto header = router.setHeaderRoute(objects.lookup(), {"header-beta", {{"X-Beta", "exact", "yes"}}});
  REQUIRE_FALSE(header.ok());
  CHECK(header.error() ==
        "setHeaderRoute 'header-beta' is not supported by traefik: a weighted TraefikService splits by "
        "weight only (use the istio router or the argoproj-labs/gatewayAPI plugin, which Traefik also "
        "implements)");
  auto mirror = router.setMirrorRoute(objects.lookup(), {"mirror-all", 50, json::array()});
  REQUIRE_FALSE(mirror.ok());
  CHECK(mirror.error().starts_with("setMirrorRoute 'mirror-all' is not supported by traefik"));
  auto removed = router.removeManagedRoutes(objects.lookup());
  REQUIRE(removed.ok());
  CHECK(removed->empty());
}

TEST_CASE("makeRouter picks Traefik alone in the group of its options", "[traffic][traefik]") {
  auto router = traffic::makeRouter(rollout());
  REQUIRE(router.ok());
  REQUIRE(*router != nullptr);
  CHECK((*router)->kinds() == std::vector<std::string>{"TraefikService"});
  traffic::RouterOptions options;
  options.traefikApiGroup = "traefik.io";
  auto newer = traffic::makeRouter(rollout(), options);
  REQUIRE(newer.ok());
  auto missing = (*newer)->inForce(Objects().lookup());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().find("(traefik.io/v1alpha1)") != std::string::npos);
}

}  // namespace traefik_router_test
