// The Gateway API router (plugin argoproj-labs/gatewayAPI): HTTPRoute backendRefs weighted, header and
// mirror routes added as named rules and removed (golden files under tests/golden/traffic/, rewritten with
// SLUICE_UPDATE_GOLDEN=1), the weights read back after the writes are applied, the configuration and the
// errors.
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "tests/unit/traffic/router_fixtures.h"
#include "traffic/gateway_api.h"

using namespace sluice;
using nlohmann::json;
using testing::Objects;

// A namespace of its own: the test files are compiled in batches (unity build).
namespace gateway_api_router_test {

namespace {

// The Rollout "web" routed by the plugin with `config`, `extra` more fields of trafficRouting.
engine::Rollout rollout(const std::string& config, const std::string& extra = "") {
  return testing::routedRollout(R"("plugins": {"argoproj-labs/gatewayAPI": )" + config + "}" + extra);
}

const std::string kOneRoute = R"({"httpRoute": "web", "namespace": "shop"})";
const std::string kManagedRoutes = R"(, "managedRoutes": [{"name": "header-beta"}, {"name": "mirror-api"}])";

// An admin rule to another Service, the main rule split between stable and canary (two matches, a
// filter), and a static rule to the stable Service alone with no weight given.
json httpRoute(const std::string& name = "web") {
  json route = json::parse(R"({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
    "metadata": {"name": "web", "namespace": "shop", "annotations": {"team": "shop"}},
    "spec": {"parentRefs": [{"name": "shop-gateway"}], "hostnames": ["web.example"], "rules": [
      {"name": "admin", "matches": [{"path": {"type": "PathPrefix", "value": "/admin"}}],
       "backendRefs": [{"name": "admin", "port": 80}]},
      {"matches": [{"path": {"type": "PathPrefix", "value": "/api"},
                    "headers": [{"name": "x-beta", "type": "Exact", "value": "no"}]},
                   {"path": {"type": "Exact", "value": "/"}}],
       "filters": [{"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "X-Via", "value": "gw"}]}}],
       "backendRefs": [
         {"group": "", "kind": "Service", "name": "web-stable", "port": 80, "weight": 100},
         {"group": "", "kind": "Service", "name": "web-canary", "port": 8080, "weight": 0},
         {"kind": "ServiceImport", "group": "multicluster.x-k8s.io", "name": "web-canary", "port": 80, "weight": 7}]},
      {"matches": [{"path": {"type": "PathPrefix", "value": "/static"}}],
       "backendRefs": [{"name": "web-stable", "port": 80}]}]}})");
  route["metadata"]["name"] = name;
  return route;
}

const engine::SetTrafficWeight kThirty{30, 70, "canaryhash", "stablehash"};

}  // namespace

TEST_CASE(
    "setting a weight: every backendRef to the canary or stable Service, in every rule, other rules and "
    "backends untouched",
    "[traffic][gatewayapi]") {
  traffic::GatewayApiRouter router(rollout(kOneRoute), {{{"web", true}}});
  Objects objects = Objects().add(httpRoute());
  auto writes = router.setWeight(objects.lookup(), kThirty);
  REQUIRE(writes.ok());
  REQUIRE(writes->size() == 1);
  const traffic::ObjectWrite& write = (*writes)[0];
  CHECK(write.op == traffic::ObjectWrite::Op::MergePatch);
  CHECK(write.kind == "HTTPRoute");
  // spec.rules whole (a merge patch replaces lists) and the hashes, nothing else.
  CHECK(write.body["spec"].size() == 1);
  CHECK(write.body["metadata"]["annotations"] ==
        json({{"sluice.dev/canary-hash", "canaryhash"}, {"sluice.dev/stable-hash", "stablehash"}}));
  objects.apply(*writes);
  const json& route = objects.at("HTTPRoute", "web");
  testing::checkGolden("gateway-api-weight", route);
  const json& rules = route["spec"]["rules"];
  CHECK(rules[0] == httpRoute()["spec"]["rules"][0]);  // to another Service
  CHECK(rules[1]["backendRefs"][0]["weight"] == 70);
  CHECK(rules[1]["backendRefs"][1]["weight"] == 30);
  CHECK(rules[1]["backendRefs"][2]["weight"] == 7);  // a ServiceImport of the canary's name is not the canary
  CHECK(rules[2]["backendRefs"][0]["weight"] == 70);  // no weight given: it takes the stable's
  CHECK(route["metadata"]["annotations"]["team"] == "shop");
}

TEST_CASE("the backendRef weights set are read back in force, and setting them again writes nothing",
          "[traffic][gatewayapi]") {
  traffic::GatewayApiRouter router(rollout(kOneRoute), {{{"web", true}}});
  Objects objects = Objects().add(httpRoute());
  // Before Sluice wrote anything: no hashes, and the static rule's weight is Gateway API's default 1.
  auto before = router.inForce(objects.lookup());
  REQUIRE(before.ok());
  CHECK_FALSE(before->has_value());
  for (const auto& weights :
       {kThirty, engine::SetTrafficWeight{100, 0, "c2", "s2"}, engine::SetTrafficWeight{0, 100, "s2", "s2"},
        engine::SetTrafficWeight{300, 700, "c3", "s3"}}) {  // maxTrafficWeight 1000
    testing::setAndReadBack(router, objects, weights);
  }
  // Someone sets the static rule's weight by hand: not in force any more, so the weight is written again.
  objects.at("HTTPRoute", "web")["spec"]["rules"][2]["backendRefs"][0]["weight"] = 1;
  auto edited = router.inForce(objects.lookup());
  REQUIRE(edited.ok());
  CHECK_FALSE(edited->has_value());
}

TEST_CASE("several HTTPRoutes: each is written, and one that disagrees is not in force",
          "[traffic][gatewayapi]") {
  auto made = traffic::makeRouter(
      rollout(R"({"httpRoutes": [{"name": "web"}, {"name": "web-internal", "useHeaderRoutes": true}]})"));
  REQUIRE(made.ok());
  traffic::Router& router = **made;
  CHECK(router.kinds() == std::vector<std::string>{"HTTPRoute"});
  Objects objects = Objects().add(httpRoute()).add(httpRoute("web-internal"));
  auto writes = router.setWeight(objects.lookup(), kThirty);
  REQUIRE(writes.ok());
  REQUIRE(writes->size() == 2);
  CHECK((*writes)[0].name == "web");
  CHECK((*writes)[1].name == "web-internal");
  objects.apply(*writes);
  REQUIRE(router.inForce(objects.lookup())->has_value());

  objects.at("HTTPRoute", "web-internal")["spec"]["rules"][1]["backendRefs"][1]["weight"] = 50;
  auto mixed = router.inForce(objects.lookup());
  REQUIRE(mixed.ok());
  CHECK_FALSE(mixed->has_value());
  auto rewritten = router.setWeight(objects.lookup(), kThirty);
  REQUIRE(rewritten.ok());
  REQUIRE(rewritten->size() == 1);
  CHECK((*rewritten)[0].name == "web-internal");

  // Header routes go only where useHeaderRoutes is set (httpRoute has it; an entry of httpRoutes asks).
  auto header = router.setHeaderRoute(objects.lookup(), {"header-beta", {{"X-Beta", "exact", "yes"}}});
  REQUIRE(header.ok());
  REQUIRE(header->size() == 1);
  CHECK((*header)[0].name == "web-internal");
}

TEST_CASE("errors name the HTTPRoute and what it lacks", "[traffic][gatewayapi]") {
  struct Row {
    const char* name;
    std::function<void(Objects&)> edit;
    std::string error;
  };
  const auto backendRefs = [](Objects& o) -> json& {
    return o.at("HTTPRoute", "web")["spec"]["rules"][1]["backendRefs"];
  };
  const std::vector<Row> rows = {
      {"no backendRef to the canary Service", [&](Objects& o) { backendRefs(o).erase(1); },
       "HTTPRoute `web` has no backendRef to service web-canary"},
      {"no backendRef to the stable Service",
       [&](Objects& o) {
         auto& rules = o.at("HTTPRoute", "web")["spec"]["rules"];
         rules.erase(2);
         backendRefs(o).erase(0);
       },
       "HTTPRoute `web` has no backendRef to service web-stable"},
      {"the canary Service in another namespace is another Service",
       [&](Objects& o) { backendRefs(o)[1]["namespace"] = "other"; },
       "HTTPRoute `web` has no backendRef to service web-canary"},
      {"no HTTPRoute", [](Objects& o) { o.byKey.clear(); }, "HTTPRoute `web` not found"},
      {"spec.rules not a list", [](Objects& o) { o.at("HTTPRoute", "web")["spec"]["rules"] = "x"; },
       "HTTPRoute `web`: spec.rules must be a list"},
  };
  for (const auto& row : rows) {
    SECTION(row.name) {
      Objects objects = Objects().add(httpRoute());
      row.edit(objects);
      traffic::GatewayApiRouter router(rollout(kOneRoute), {{{"web", true}}});
      testing::checkRefused(router, objects, row.error);
    }
  }
}

TEST_CASE(
    "a header route is a named rule copying the split rule's matches with the headers added, to the "
    "canary only, it keeps all it matches on the canary and is removed again",
    "[traffic][gatewayapi]") {
  traffic::GatewayApiRouter router(rollout(kOneRoute, kManagedRoutes), {{{"web", true}}});
  Objects objects = Objects().add(httpRoute());
  objects.apply(*router.setWeight(objects.lookup(), kThirty));
  const json weighted = objects.at("HTTPRoute", "web");
  const engine::SetHeaderRouteStep step{
      "header-beta",
      {{"X-Beta", "exact", "yes"}, {"User-Agent", "regex", ".*Android.*"}, {"X-Tier", "prefix", "gold.v1"}}};
  auto writes = router.setHeaderRoute(objects.lookup(), step);
  REQUIRE(writes.ok());
  REQUIRE(writes->size() == 1);
  CHECK((*writes)[0].body.size() == 1);  // spec.rules only
  objects.apply(*writes);
  const json& rules = objects.at("HTTPRoute", "web")["spec"]["rules"];
  testing::checkGolden("gateway-api-header-route", rules);
  REQUIRE(rules.size() == 4);  // appended: the user's rules keep their places
  const json& added = rules[3];
  CHECK(added["name"] == "header-beta");
  CHECK(added["filters"] == weighted["spec"]["rules"][1]["filters"]);
  CHECK(added["backendRefs"] ==
        json::parse(
            R"([{"group": "", "kind": "Service", "name": "web-canary", "port": 8080, "weight": 100}])"));
  REQUIRE(added["matches"].size() == 2);
  CHECK(added["matches"][1]["path"] == json({{"type", "Exact"}, {"value", "/"}}));
  // The step's X-Beta replaces the rule's own x-beta match (a match holds each header once).
  CHECK(added["matches"][0]["headers"] == json::parse(R"([
      {"name": "X-Beta", "type": "Exact", "value": "yes"},
      {"name": "User-Agent", "type": "RegularExpression", "value": ".*Android.*"},
      {"name": "X-Tier", "type": "RegularExpression", "value": "gold\\.v1.*"}])"));

  auto again = router.setHeaderRoute(objects.lookup(), step);
  REQUIRE(again.ok());
  CHECK(again->empty());
  // All traffic back on the stable: the header route still sends what it matches to the canary.
  objects.apply(*router.setWeight(objects.lookup(), {0, 100, "canaryhash", "stablehash"}));
  CHECK(objects.at("HTTPRoute", "web")["spec"]["rules"][3]["backendRefs"][0]["weight"] == 100);
  CHECK(objects.at("HTTPRoute", "web")["spec"]["rules"][1]["backendRefs"][1]["weight"] == 0);
  REQUIRE(router.inForce(objects.lookup())->has_value());
  objects.apply(*router.setWeight(objects.lookup(), kThirty));

  testing::removeHeaderRoute(router, objects, "header-beta");
  CHECK(objects.at("HTTPRoute", "web") == weighted);
}

TEST_CASE("a split rule without matches gives the header route the default path match",
          "[traffic][gatewayapi]") {
  json route = httpRoute();
  route["spec"]["rules"][1].erase("matches");
  auto rules = traffic::rulesWithHeaderRoute(rollout(kOneRoute, kManagedRoutes), route,
                                             {"header-beta", {{"X-Beta", "exact", "yes"}}});
  REQUIRE(rules.ok());
  CHECK(rules->back()["matches"] == json::parse(R"([{"path": {"type": "PathPrefix", "value": "/"},
      "headers": [{"name": "X-Beta", "type": "Exact", "value": "yes"}]}])"));
}

TEST_CASE(
    "a mirror route is a named rule with the split rule's backends and a RequestMirror filter to the "
    "canary, and follows later weights",
    "[traffic][gatewayapi]") {
  traffic::GatewayApiRouter router(rollout(kOneRoute, kManagedRoutes), {{{"web", true}}});
  Objects objects = Objects().add(httpRoute());
  objects.apply(*router.setWeight(objects.lookup(), kThirty));
  const engine::SetMirrorRouteStep mirror{"mirror-api", 35, json::parse(R"([
      {"method": {"exact": "GET"}, "path": {"prefix": "/api"}},
      {"headers": {"X-Debug": {"exact": "1"}}}])")};
  auto writes = router.setMirrorRoute(objects.lookup(), mirror);
  REQUIRE(writes.ok());
  objects.apply(*writes);
  const json& rules = objects.at("HTTPRoute", "web")["spec"]["rules"];
  testing::checkGolden("gateway-api-mirror-route", rules);
  REQUIRE(rules.size() == 4);
  const json& added = rules[3];
  CHECK(added["name"] == "mirror-api");
  CHECK(added["matches"] == json::parse(R"([
      {"method": "GET", "path": {"type": "PathPrefix", "value": "/api"}},
      {"path": {"type": "PathPrefix", "value": "/"}, "headers": [{"name": "X-Debug", "type": "Exact", "value": "1"}]}])"));
  CHECK(added["filters"].back() == json::parse(R"({"type": "RequestMirror", "requestMirror":
      {"backendRef": {"group": "", "kind": "Service", "name": "web-canary", "port": 8080}, "percent": 35}})"));
  CHECK(added["backendRefs"] == rules[1]["backendRefs"]);

  objects.apply(*router.setWeight(objects.lookup(), {50, 50, "canaryhash", "stablehash"}));
  const json& after = objects.at("HTTPRoute", "web")["spec"]["rules"];
  CHECK(after[1]["backendRefs"][1]["weight"] == 50);
  CHECK(after[3]["backendRefs"] == after[1]["backendRefs"]);  // the mirror route follows the weights
  auto seen = router.inForce(objects.lookup());
  REQUIRE(seen.ok());
  REQUIRE(seen->has_value());
  CHECK(**seen == engine::TrafficInForce{50, 50, "canaryhash", "stablehash"});

  // Mirroring every request leaves percent out (CRDs before GEP-3171 would drop it and mirror all anyway).
  auto all = traffic::rulesWithMirrorRoute(rollout(kOneRoute, kManagedRoutes), objects.at("HTTPRoute", "web"),
                                           {"mirror-api", 100, mirror.match});
  REQUIRE(all.ok());
  CHECK_FALSE(all->back()["filters"].back()["requestMirror"].contains("percent"));
}

TEST_CASE("a managed rule whose name the API server dropped is an error, not a rule added on every reconcile",
          "[traffic][gatewayapi]") {
  traffic::GatewayApiRouter router(rollout(kOneRoute, kManagedRoutes), {{{"web", true}}});
  Objects objects = Objects().add(httpRoute());
  const engine::SetHeaderRouteStep step{"header-beta", {{"X-Beta", "exact", "yes"}}};
  objects.apply(*router.setHeaderRoute(objects.lookup(), step));
  objects.at("HTTPRoute", "web")["spec"]["rules"][3].erase(
      "name");  // as a CRD without rules[].name prunes it
  auto again = router.setHeaderRoute(objects.lookup(), step);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error() ==
        "HTTPRoute `web` holds the rule for managed route 'header-beta' without its name: its CRD drops "
        "spec.rules[].name (Gateway API v1.4 has it, or v1.2 in the experimental channel)");
}

TEST_CASE("header and mirror steps Gateway API cannot express are errors naming the step",
          "[traffic][gatewayapi]") {
  const auto r =
      rollout(kOneRoute, R"(, "managedRoutes": [{"name": "Header_Beta"}, {"name": "mirror-api"}])");
  traffic::GatewayApiRouter router(r, {{{"web", true}}});
  const Objects objects = Objects().add(httpRoute());
  struct Row {
    const char* name;
    std::function<Result<traffic::Writes>()> call;
    std::string error;
  };
  const std::vector<Row> rows = {
      {"a managed route name that is not a rule name",
       [&] {
         return router.setHeaderRoute(objects.lookup(), {"Header_Beta", {{"X-Beta", "exact", "yes"}}});
       },
       "managed route 'Header_Beta' cannot name an HTTPRoute rule: a rule name is lowercase letters, digits, "
       "'-' and '.', each dot-separated part starting and ending with a letter or digit, at most 253 "
       "characters"},
      {"a method matched by prefix",
       [&] {
         return router.setMirrorRoute(objects.lookup(),
                                      {"mirror-api", 100, json::parse(R"([{"method": {"prefix": "GE"}}])")});
       },
       "setMirrorRoute 'mirror-api' match[0].method: Gateway API matches a method exactly"},
      {"a match on something else",
       [&] {
         return router.setMirrorRoute(objects.lookup(),
                                      {"mirror-api", 100, json::parse(R"([{"host": {"exact": "x"}}])")});
       },
       "setMirrorRoute 'mirror-api' match[0].host is not a match of method, path or headers"},
      {"a header match of no known type",
       [&] {
         return router.setHeaderRoute(objects.lookup(), {"Header_Beta", {{"X-Beta", "suffix", "yes"}}});
       },
       "setHeaderRoute 'Header_Beta' match[0]: match type 'suffix' is not one of exact, regex or prefix"},
  };
  for (const auto& row : rows) {
    SECTION(row.name) {
      auto writes = row.call();
      REQUIRE_FALSE(writes.ok());
      CHECK(writes.error() == row.error);
    }
  }
}

TEST_CASE("the plugin configuration: HTTPRoutes in the Rollout's namespace, what is not supported is named",
          "[traffic][gatewayapi]") {
  const std::string at = R"(spec.strategy.canary.trafficRouting.plugins["argoproj-labs/gatewayAPI"])";
  struct Row {
    const char* name;
    std::string config;
    std::string error;  // empty: accepted
  };
  const std::vector<Row> rows = {
      {"httpRoute in the Rollout's namespace", kOneRoute, ""},
      {"httpRoutes without a namespace", R"({"httpRoutes": [{"name": "a"}, {"name": "b"}]})", ""},
      {"another namespace", R"({"httpRoute": "web", "namespace": "edge"})",
       at + ".namespace: HTTPRoutes in namespace edge are not supported; only the Rollout's own namespace "
            "(shop)"},
      {"no route", R"({"namespace": "shop"})", at + " names no HTTPRoute: set httpRoute or httpRoutes"},
      {"a GRPCRoute", R"({"grpcRoute": "web"})",
       at + ".grpcRoute is not supported yet: name HTTPRoutes in httpRoute or httpRoutes"},
      {"a route selector", R"({"httpRouteSelector": {"matchLabels": {"app": "web"}}})",
       at + ".httpRouteSelector is not supported yet: name HTTPRoutes in httpRoute or httpRoutes"},
      {"an entry without a name", R"({"httpRoutes": [{"useHeaderRoutes": true}]})",
       at + ".httpRoutes[0].name is required"},
      {"a route named twice", R"({"httpRoute": "web", "httpRoutes": [{"name": "web"}]})",
       at + ": HTTPRoute `web` is named twice"},
  };
  for (const auto& row : rows) {
    SECTION(row.name) {
      auto router = traffic::makeRouter(rollout(row.config));
      if (row.error.empty()) {
        REQUIRE(router.ok());
        REQUIRE(*router != nullptr);
      } else {
        REQUIRE_FALSE(router.ok());
        CHECK(router.error() == row.error);
      }
    }
  }
}

}  // namespace gateway_api_router_test
