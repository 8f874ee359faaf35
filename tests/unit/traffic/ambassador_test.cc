// The Ambassador router: the canary Mapping made from each of the user's Mappings (golden files under
// tests/golden/traffic/, rewritten with SLUICE_UPDATE_GOLDEN=1), created, patched and deleted at weight 0,
// the weights read back with the hashes kept on the base Mappings, and the errors: a base Mapping missing or
// weighted, a canary Mapping another owner controls, header and mirror routes.
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "tests/unit/traffic/router_fixtures.h"
#include "traffic/ambassador.h"

using namespace sluice;
using nlohmann::json;
using testing::Objects;

// A namespace of its own: the test files are compiled in batches (unity build).
namespace ambassador_router_test {

namespace {

engine::Rollout rollout(const std::string& mappings = R"(["web-mapping"])", const std::string& extra = "") {
  return testing::routedRollout(R"("ambassador": {"mappings": )" + mappings + "}" + extra);
}

const engine::SetTrafficWeight kTen{10, 90, "canaryhash", "stablehash"};

// A base Mapping as Argo Rollouts' documentation shows one: a prefix, a rewrite, the stable Service with its
// port, an endpoint resolver.
json baseMapping(const std::string& name = "web-mapping", const std::string& service = "web-stable:80") {
  return {{"apiVersion", "getambassador.io/v2"},
          {"kind", "Mapping"},
          {"metadata", {{"name", name}, {"namespace", "shop"}, {"annotations", {{"team", "web"}}}}},
          {"spec", {{"prefix", "/web/"}, {"rewrite", "/"}, {"service", service}, {"resolver", "endpoint"}}}};
}

}  // namespace

TEST_CASE(
    "the canary Mapping copies its base and sends to the canary Service at the canary weight and is owned by "
    "the "
    "Rollout",
    "[traffic][ambassador]") {
  const json canary = traffic::desiredCanaryMapping(rollout(), baseMapping(), 10);
  testing::checkGolden("ambassador-canary-mapping", canary);
  CHECK(canary["metadata"]["name"] == "web-mapping-canary");
  CHECK(canary["spec"]["service"] == "web-canary:80");
  CHECK(canary["spec"]["weight"] == 10);
  CHECK(canary["spec"]["prefix"] == "/web/");
  CHECK(canary["metadata"]["ownerReferences"][0]["uid"] == "uid-web");
  CHECK_FALSE(canary["metadata"].contains("annotations"));  // the base's are the user's

  struct Row {
    const char* name;
    std::string base;
    std::string canary;
  };
  const std::vector<Row> rows = {
      {"a bare Service", "web-stable", "web-canary"},
      {"with a port", "web-stable:8080", "web-canary:8080"},
      {"a namespaced name with a port: the port kept, the name the canary Service's", "web-stable.shop:80",
       "web-canary:80"},
      {"a named port is no port", "web-stable:http", "web-canary"},
  };
  for (const auto& row : rows) {
    SECTION(row.name) {
      CHECK(traffic::desiredCanaryMapping(rollout(), baseMapping("web-mapping", row.base),
                                          5)["spec"]["service"] == row.canary);
    }
  }
  CHECK(traffic::canaryMappingName(std::string(300, 'm')) == std::string(246, 'm') + "-canary");
}

TEST_CASE(
    "setting a weight creates one canary Mapping per base Mapping then patches its weight then deletes it at "
    "0 "
    "and each reads back in force",
    "[traffic][ambassador]") {
  traffic::AmbassadorRouter router(rollout(R"(["web-mapping", "web-api"])"));
  Objects objects = Objects().add(baseMapping()).add(baseMapping("web-api", "web-stable:9090"));
  // No hashes recorded yet: not in force.
  auto before = router.inForce(objects.lookup());
  REQUIRE(before.ok());
  CHECK_FALSE(before->has_value());

  // Weight 0 on a fresh Rollout: the hashes go on the bases, no canary Mapping is made.
  const engine::SetTrafficWeight zero{0, 100, "stablehash", "stablehash"};
  auto first = router.setWeight(objects.lookup(), zero);
  REQUIRE(first.ok());
  REQUIRE(first->size() == 2);
  for (const auto& w : *first) CHECK(w.op == traffic::ObjectWrite::Op::MergePatch);
  testing::setAndReadBack(router, objects, zero);
  CHECK(objects.byKey.count({"Mapping", "web-mapping-canary"}) == 0);

  auto created = router.setWeight(objects.lookup(), kTen);
  REQUIRE(created.ok());
  REQUIRE(created->size() == 4);  // per base: its annotations, then its canary Mapping
  CHECK((*created)[1].op == traffic::ObjectWrite::Op::Create);
  CHECK((*created)[1].name == "web-mapping-canary");
  CHECK((*created)[3].name == "web-api-canary");
  CHECK((*created)[3].body["spec"]["service"] == "web-canary:9090");
  testing::setAndReadBack(router, objects, kTen);

  auto patched = router.setWeight(objects.lookup(), {30, 70, "canaryhash", "stablehash"});
  REQUIRE(patched.ok());
  REQUIRE(patched->size() == 2);  // the canary Mappings' weights only
  testing::checkGolden("ambassador-weight-patch", (*patched)[0].body);
  CHECK((*patched)[0].body == json::parse(R"({"spec": {"weight": 30}})"));
  testing::setAndReadBack(router, objects, {30, 70, "canaryhash", "stablehash"});

  // Promoted, then back to 0: the canary Mappings go (a Mapping of weight 0 would share the traffic).
  auto removed = router.setWeight(objects.lookup(), {0, 100, "canaryhash", "canaryhash"});
  REQUIRE(removed.ok());
  REQUIRE(removed->size() == 4);
  CHECK((*removed)[1].op == traffic::ObjectWrite::Op::Delete);
  CHECK((*removed)[1].name == "web-mapping-canary");
  testing::setAndReadBack(router, objects, {0, 100, "canaryhash", "canaryhash"});
  CHECK(objects.byKey.size() == 2);
  // The bases keep what is the user's.
  CHECK(objects.at("Mapping", "web-mapping")["spec"] == baseMapping()["spec"]);
  CHECK(objects.at("Mapping", "web-mapping")["metadata"]["annotations"]["team"] == "web");
}

TEST_CASE("a canary Mapping that is no longer its base's copy is not in force so it is written again",
          "[traffic][ambassador]") {
  traffic::AmbassadorRouter router(rollout());
  struct Row {
    const char* name;
    std::function<void(Objects&)> edit;
  };
  const std::vector<Row> rows = {
      {"the base's prefix changed",
       [](Objects& o) { o.at("Mapping", "web-mapping")["spec"]["prefix"] = "/w/"; }},
      {"the canary's service changed",
       [](Objects& o) { o.at("Mapping", "web-mapping-canary")["spec"]["service"] = "elsewhere"; }},
      {"the hash annotations gone",
       [](Objects& o) {
         o.at("Mapping", "web-mapping")["metadata"]["annotations"] = {{"team", "web"}};
       }},
      {"the canary's weight not a number",
       [](Objects& o) { o.at("Mapping", "web-mapping-canary")["spec"]["weight"] = "10"; }},
  };
  for (const auto& row : rows) {
    SECTION(row.name) {
      Objects objects = Objects().add(baseMapping());
      testing::setAndReadBack(router, objects, kTen);
      row.edit(objects);
      auto seen = router.inForce(objects.lookup());
      REQUIRE(seen.ok());
      CHECK_FALSE(seen->has_value());
      testing::setAndReadBack(router, objects, kTen);
    }
  }
}

TEST_CASE("the Ambassador router's errors name the Mapping and what is wrong with it",
          "[traffic][ambassador]") {
  struct Row {
    const char* name;
    std::function<void(Objects&)> setup;
    std::string error;
  };
  const std::vector<Row> rows = {
      {"no base Mapping", [](Objects&) {}, "Mapping `web-mapping` not found"},
      {"a base Mapping with a weight",
       [](Objects& o) {
         json base = baseMapping();
         base["spec"]["weight"] = 100;
         o.add(base);
       },
       "Mapping `web-mapping` sets spec.weight: the base Mapping must set none, Ambassador giving it the "
       "traffic its canary Mapping does not take"},
      {"a canary Mapping another owner controls",
       [](Objects& o) {
         json canary = traffic::desiredCanaryMapping(rollout(), baseMapping(), 10);
         canary["metadata"]["ownerReferences"][0]["uid"] = "uid-other";
         o.add(baseMapping()).add(canary);
       },
       "Mapping `web-mapping-canary` exists and is not controlled by rollout web"},
  };
  traffic::AmbassadorRouter router(rollout());
  for (const auto& row : rows) {
    SECTION(row.name) {
      Objects objects;
      row.setup(objects);
      testing::checkRefused(router, objects, row.error);
    }
  }
}

TEST_CASE("a canary Mapping with no owner as Argo Rollouts makes them is taken over",
          "[traffic][ambassador]") {
  const engine::Rollout r = rollout();
  traffic::AmbassadorRouter router(r);
  json argos = traffic::desiredCanaryMapping(r, baseMapping(), 10);
  argos["metadata"].erase("ownerReferences");
  Objects objects = Objects().add(baseMapping()).add(argos);
  auto writes = router.setWeight(objects.lookup(), kTen);
  REQUIRE(writes.ok());
  REQUIRE(writes->size() == 2);
  CHECK((*writes)[1].body ==
        json{{"metadata", {{"ownerReferences", json::array({traffic::ownerReference(r)})}}}});
  testing::setAndReadBack(router, objects, kTen);
}

TEST_CASE("Ambassador has no header or mirror routes and makeRouter picks it alone",
          "[traffic][ambassador]") {
  traffic::AmbassadorRouter router(rollout());
  const Objects objects = Objects().add(baseMapping());
  auto header = router.setHeaderRoute(objects.lookup(), {"header-beta", {{"X-Beta", "exact", "yes"}}});
  REQUIRE_FALSE(header.ok());
  CHECK(header.error() ==
        "setHeaderRoute 'header-beta' is not supported by ambassador: a canary Mapping splits by weight only "
        "(use the istio router or the argoproj-labs/gatewayAPI plugin)");
  auto mirror = router.setMirrorRoute(objects.lookup(), {"mirror-all", 50, json::array()});
  REQUIRE_FALSE(mirror.ok());
  CHECK(mirror.error().starts_with("setMirrorRoute 'mirror-all' is not supported by ambassador"));

  auto made = traffic::makeRouter(rollout());
  REQUIRE(made.ok());
  REQUIRE(*made != nullptr);
  CHECK((*made)->kinds() == std::vector<std::string>{"Mapping"});
}

}  // namespace ambassador_router_test
