// The APISIX router: the weights of the canary and stable backends in the rules of the user's ApisixRoute
// (golden files under tests/golden/traffic/, rewritten with SLUICE_UPDATE_GOLDEN=1), read back after the
// writes are applied, what it leaves alone, the header routes as ApisixRoutes of their own, and the errors:
// an ApisixRoute missing or without the rule or either backend, one of a header route's name not the
// Rollout's, mirror routes.
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "tests/unit/traffic/router_fixtures.h"
#include "traffic/apisix.h"

using namespace sluice;
using nlohmann::json;
using testing::Objects;

// A namespace of its own: the test files are compiled in batches (unity build).
namespace apisix_router_test {

namespace {

engine::Rollout rollout(const std::string& route = R"({"name": "web-route", "rules": ["web-rule"]})",
                        const std::string& extra = "") {
  return testing::routedRollout(R"("apisix": {"route": )" + route + "}" + extra);
}

const engine::SetTrafficWeight kTen{10, 90, "canaryhash", "stablehash"};

// The ApisixRoute as Argo Rollouts' example writes it (no weights yet), with a second rule of another team's
// and a plugin on the first.
json userApisixRoute() {
  return json::parse(R"({"apiVersion": "apisix.apache.org/v2", "kind": "ApisixRoute",
    "metadata": {"name": "web-route", "namespace": "shop"},
    "spec": {"ingressClassName": "apisix", "http": [
      {"name": "web-rule", "match": {"paths": ["/*"], "hosts": ["web.example"]},
       "plugins": [{"name": "cors", "enable": true}],
       "backends": [{"serviceName": "web-stable", "servicePort": 80},
                    {"serviceName": "web-canary", "servicePort": 80}]},
      {"name": "admin", "match": {"paths": ["/admin/*"]},
       "backends": [{"serviceName": "admin", "servicePort": 8080}]}]}})");
}

int weightIn(Objects& objects, const std::string& service) {
  for (const auto& backend : objects.at("ApisixRoute", "web-route")["spec"]["http"][0]["backends"])
    if (backend.value("serviceName", "") == service) return backend.value("weight", -1);
  return -1;
}

}  // namespace

TEST_CASE(
    "the APISIX router weights the canary and stable backends of the ApisixRoute's rules and reads them "
    "back in force",
    "[traffic][apisix]") {
  traffic::ApisixRouter router(rollout());
  Objects objects = Objects().add(userApisixRoute());
  auto before = router.inForce(objects.lookup());
  REQUIRE(before.ok());
  CHECK_FALSE(before->has_value());  // no weights yet: all on the stable

  testing::stepWeightsThrough(
      router, objects, {kTen, {60, 40, "canaryhash", "stablehash"}, {0, 100, "canaryhash", "canaryhash"}},
      "ApisixRoute", "web-route", "apisix-weight-patch", [&](const engine::SetTrafficWeight& weights) {
        CHECK(weightIn(objects, "web-canary") == weights.canaryWeight);
        CHECK(weightIn(objects, "web-stable") == weights.stableWeight);
      });
  // The rest is the user's: the other rule, the match and plugins, the ports; nothing owns the route.
  const json live = objects.at("ApisixRoute", "web-route");
  const json user = userApisixRoute();
  CHECK(live["spec"]["http"][1] == user["spec"]["http"][1]);
  CHECK(live["spec"]["http"][0]["plugins"] == user["spec"]["http"][0]["plugins"]);
  CHECK(live["spec"]["http"][0]["match"] == user["spec"]["http"][0]["match"]);
  CHECK(live["spec"]["ingressClassName"] == "apisix");
  CHECK_FALSE(live["metadata"].contains("ownerReferences"));
}

TEST_CASE("without route.rules the weights go in the rule named as the route", "[traffic][apisix]") {
  const engine::Rollout r = rollout(R"({"name": "web-route"})");
  CHECK(traffic::apisixRules(r) == std::vector<std::string>{"web-route"});
  json route = userApisixRoute();
  route["spec"]["http"][0]["name"] = "web-route";
  Objects objects = Objects().add(route);
  traffic::ApisixRouter router(r);
  auto writes = router.setWeight(objects.lookup(), kTen);
  REQUIRE(writes.ok());
  objects.apply(*writes);
  CHECK(weightIn(objects, "web-canary") == 10);
}

TEST_CASE("an ApisixRoute someone changed is not in force so the weight is written again",
          "[traffic][apisix]") {
  traffic::ApisixRouter router(rollout());
  struct Row {
    const char* name;
    std::function<void(json&)> edit;
  };
  const std::vector<Row> rows = {
      {"a weight removed", [](json& s) { s["spec"]["http"][0]["backends"][0].erase("weight"); }},
      {"a weight that is no integer", [](json& s) { s["spec"]["http"][0]["backends"][1]["weight"] = "10"; }},
      {"the hash annotations gone", [](json& s) { s["metadata"].erase("annotations"); }},
  };
  for (const auto& row : rows) {
    SECTION(row.name) {
      testing::checkWrittenAgainAfter(router, Objects().add(userApisixRoute()), "ApisixRoute", "web-route",
                                      row.edit);
    }
  }
}

TEST_CASE("an ApisixRoute that is missing or lacks the rule or a backend is an error naming it",
          "[traffic][apisix]") {
  struct Row {
    const char* name;
    std::function<void(Objects&)> setup;
    std::string error;
  };
  const std::vector<Row> rows = {
      {"no ApisixRoute", [](Objects&) {}, "ApisixRoute `web-route` not found"},
      {"no rule of that name",
       [](Objects& o) {
         json r = userApisixRoute();
         r["spec"]["http"][0]["name"] = "other";
         o.add(r);
       },
       "ApisixRoute `web-route` has no spec.http rule named web-rule"},
      {"no backend for the stable Service",
       [](Objects& o) {
         json r = userApisixRoute();
         r["spec"]["http"][0]["backends"].erase(0);
         o.add(r);
       },
       "ApisixRoute `web-route` has no backend for the stable Service web-stable in its spec.http rule "
       "web-rule"},
  };
  traffic::ApisixRouter router(rollout());
  for (const auto& row : rows) {
    SECTION(row.name) {
      Objects objects;
      row.setup(objects);
      testing::checkRefused(router, objects, row.error);
    }
  }
}

TEST_CASE(
    "a header route is an ApisixRoute of its own that sends the matching requests of the selected rules to "
    "the "
    "canary alone",
    "[traffic][apisix]") {
  const engine::Rollout r = rollout(R"({"name": "web-route", "rules": ["web-rule"]})",
                                    R"(, "managedRoutes": [{"name": "web-beta"}])");
  traffic::ApisixRouter router(r);
  Objects objects = Objects().add(userApisixRoute());
  const engine::SetHeaderRouteStep beta{"web-beta",
                                        {{"X-Beta", "exact", "yes"}, {"X-Tier", "prefix", "gold."}}};
  auto created = router.setHeaderRoute(objects.lookup(), beta);
  REQUIRE(created.ok());
  REQUIRE(created->size() == 1);
  CHECK((*created)[0].op == traffic::ObjectWrite::Op::Create);
  CHECK((*created)[0].name == "web-beta");
  testing::checkGolden("apisix-header-route", (*created)[0].body);
  const json& rule = (*created)[0].body["spec"]["http"][0];
  CHECK((*created)[0].body["spec"]["http"].size() == 1);  // the selected rule only
  CHECK(rule["priority"] == 1);
  CHECK(rule["backends"] ==
        json::parse(R"([{"serviceName": "web-canary", "servicePort": 80, "weight": 100}])"));
  CHECK(rule["match"]["paths"] == json::parse(R"(["/*"])"));  // still the route's paths and hosts
  CHECK(rule["match"]["exprs"] == json::parse(R"([
    {"subject": {"scope": "Header", "name": "X-Beta"}, "op": "Equal", "value": "yes"},
    {"subject": {"scope": "Header", "name": "X-Tier"}, "op": "RegexMatch", "value": "^gold\\..*"}])"));
  CHECK((*created)[0].body["metadata"]["ownerReferences"][0]["uid"] == "uid-web");
  objects.apply(*created);
  auto again = router.setHeaderRoute(objects.lookup(), beta);
  REQUIRE(again.ok());
  CHECK(again->empty());
  // Changed headers: one patch of the route's spec.
  auto changed = router.setHeaderRoute(objects.lookup(), {"web-beta", {{"X-Beta", "regex", "y.*"}}});
  REQUIRE(changed.ok());
  REQUIRE(changed->size() == 1);
  CHECK((*changed)[0].op == traffic::ObjectWrite::Op::MergePatch);
  objects.apply(*changed);
  CHECK(objects.at("ApisixRoute", "web-beta")["spec"]["http"][0]["match"]["exprs"][0]["op"] == "RegexMatch");
  // The user's route is untouched by all this.
  CHECK(objects.at("ApisixRoute", "web-route") == userApisixRoute());

  SECTION("a step without a match deletes it") {
    auto removed = router.setHeaderRoute(objects.lookup(), {"web-beta", {}});
    REQUIRE(removed.ok());
    REQUIRE(removed->size() == 1);
    CHECK((*removed)[0].op == traffic::ObjectWrite::Op::Delete);
    objects.apply(*removed);
    auto none = router.setHeaderRoute(objects.lookup(), {"web-beta", {}});
    REQUIRE(none.ok());
    CHECK(none->empty());
  }
  SECTION("removeManagedRoutes deletes it") {
    auto removed = router.removeManagedRoutes(objects.lookup());
    REQUIRE(removed.ok());
    objects.apply(*removed);
    CHECK(objects.byKey.count({"ApisixRoute", "web-beta"}) == 0);
    auto none = router.removeManagedRoutes(objects.lookup());
    REQUIRE(none.ok());
    CHECK(none->empty());
  }
}

TEST_CASE("an ApisixRoute of the header route's name that the Rollout does not control is not touched",
          "[traffic][apisix]") {
  const engine::Rollout r = rollout(R"({"name": "web-route", "rules": ["web-rule"]})",
                                    R"(, "managedRoutes": [{"name": "web-beta"}])");
  traffic::ApisixRouter router(r);
  json foreign = userApisixRoute();
  foreign["metadata"]["name"] = "web-beta";
  Objects objects = Objects().add(userApisixRoute()).add(foreign);
  auto writes = router.setHeaderRoute(objects.lookup(), {"web-beta", {{"X-Beta", "exact", "yes"}}});
  REQUIRE_FALSE(writes.ok());
  CHECK(writes.error() == "ApisixRoute `web-beta` exists and is not controlled by rollout web");
  auto removed = router.removeManagedRoutes(objects.lookup());
  REQUIRE(removed.ok());
  CHECK(removed->empty());
}

TEST_CASE("APISIX has no mirror routes and makeRouter picks APISIX alone", "[traffic][apisix]") {
  traffic::ApisixRouter router(rollout());
  const Objects objects = Objects().add(userApisixRoute());
  auto mirror = router.setMirrorRoute(objects.lookup(), {"mirror-all", 50, json::array()});
  REQUIRE_FALSE(mirror.ok());
  CHECK(mirror.error() ==
        "setMirrorRoute 'mirror-all' is not supported by apisix (use the istio router or the "
        "argoproj-labs/gatewayAPI plugin, which APISIX also implements)");
  auto made = traffic::makeRouter(rollout());
  REQUIRE(made.ok());
  REQUIRE(*made != nullptr);
  CHECK((*made)->kinds() == std::vector<std::string>{"ApisixRoute"});
}

}  // namespace apisix_router_test
