// The Istio router: VirtualService routes weighted by host or by DestinationRule subset, the subsets pointed
// at the hashes, header and mirror routes placed and removed (golden files under tests/golden/traffic/,
// rewritten with SLUICE_UPDATE_GOLDEN=1), the errors, and the weights read back after the writes applied.
#include <catch2/catch.hpp>
#include <functional>
#include <map>

#include "tests/unit/traffic/router_fixtures.h"
#include "traffic/istio.h"

using namespace sluice;
using nlohmann::json;

// A namespace of its own: the test files are compiled in batches (unity build).
namespace istio_router_test {

namespace {

// The Rollout "web" routed by `istio` (trafficRouting.istio), `extra` more fields of trafficRouting.
engine::Rollout rollout(const std::string& istio, const std::string& extra = "") {
  return testing::routedRollout(R"("istio": )" + istio + extra);
}

const std::string kHostLevel = R"({"virtualService": {"name": "web", "routes": ["primary"]}})";
const std::string kSubsetLevel = R"({"virtualService": {"name": "web"},
    "destinationRule": {"name": "web-dr", "canarySubsetName": "canary", "stableSubsetName": "stable",
                        "additionalSubsetNames": ["preview"]}})";
const std::string kManagedRoutes = R"(, "managedRoutes": [{"name": "header-beta"}, {"name": "mirror-all"}])";

// Split by host: the stable by its full name, the canary by its short one, and a stray destination.
json hostVirtualService() {
  return json::parse(R"({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
    "metadata": {"name": "web", "namespace": "shop", "annotations": {"team": "shop"}},
    "spec": {"hosts": ["web.example"], "gateways": ["shop-gateway"], "http": [
      {"name": "admin", "match": [{"uri": {"prefix": "/admin"}}], "route": [{"destination": {"host": "admin"}}]},
      {"name": "primary", "route": [
        {"destination": {"host": "web-stable.shop.svc.cluster.local", "port": {"number": 80}}, "weight": 100},
        {"destination": {"host": "web-canary", "port": {"number": 80}}, "weight": 0},
        {"destination": {"host": "legacy", "port": {"number": 80}}, "weight": 0}]}]}})");
}

// Split by subset, with the additional subset "preview" at 10 and a stray subset "old".
json subsetVirtualService() {
  return json::parse(R"({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"hosts": ["web"], "http": [{"route": [
      {"destination": {"host": "web", "subset": "stable", "port": {"number": 8080}}, "weight": 90},
      {"destination": {"host": "web", "subset": "canary", "port": {"number": 8080}}, "weight": 0},
      {"destination": {"host": "web", "subset": "preview", "port": {"number": 8080}}, "weight": 10},
      {"destination": {"host": "web", "subset": "old", "port": {"number": 8080}}, "weight": 0}]}]}})");
}

json destinationRule() {
  return json::parse(R"({"apiVersion": "networking.istio.io/v1beta1", "kind": "DestinationRule",
    "metadata": {"name": "web-dr", "namespace": "shop"},
    "spec": {"host": "web", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}, "subsets": [
      {"name": "stable", "labels": {"app": "web"}},
      {"name": "canary", "labels": {"app": "web"}},
      {"name": "preview", "labels": {"app": "web", "track": "preview"}},
      {"name": "old", "labels": {"version": "v0"}}]}})");
}

using testing::Objects;

Objects hostObjects() { return Objects().add(hostVirtualService()); }
Objects subsetObjects() { return Objects().add(subsetVirtualService()).add(destinationRule()); }

const engine::SetTrafficWeight kThirty{30, 70, "canaryhash", "stablehash"};

}  // namespace

TEST_CASE("host-level split: canary and stable destinations weighted by short host name, others removed",
          "[traffic][istio]") {
  traffic::IstioRouter router(rollout(kHostLevel));
  Objects objects = hostObjects();
  auto writes = router.setWeight(objects.lookup(), kThirty);
  REQUIRE(writes.ok());
  REQUIRE(writes->size() == 1);
  const traffic::ObjectWrite& write = (*writes)[0];
  CHECK(write.kind == "VirtualService");
  CHECK(write.name == "web");
  // spec.http as a whole list (a merge patch replaces lists), the hashes as annotations, nothing else.
  CHECK(write.body["spec"].size() == 1);
  CHECK(write.body["spec"]["http"].size() == 2);
  CHECK(write.body["metadata"]["annotations"] ==
        json({{"sluice.dev/canary-hash", "canaryhash"}, {"sluice.dev/stable-hash", "stablehash"}}));
  objects.apply(*writes);
  const json& vs = objects.at("VirtualService", "web");
  testing::checkGolden("istio-host-level", vs);
  const json& primary = vs["spec"]["http"][1]["route"];
  REQUIRE(primary.size() == 2);  // the stray "legacy" destination is gone
  CHECK(primary[0]["weight"] == 70);
  CHECK(primary[1]["weight"] == 30);
  CHECK(vs["spec"]["http"][0] == hostVirtualService()["spec"]["http"][0]);  // "admin" is not selected
  CHECK(vs["metadata"]["annotations"]["team"] == "shop");
}

TEST_CASE(
    "subset-level split: additional subsets keep their weight (taken from the stable one), the "
    "DestinationRule's "
    "canary and stable subsets point at the hashes, its other subsets stay",
    "[traffic][istio]") {
  traffic::IstioRouter router(rollout(kSubsetLevel));
  Objects objects = subsetObjects();
  auto writes = router.setWeight(objects.lookup(), kThirty);
  REQUIRE(writes.ok());
  REQUIRE(writes->size() == 2);
  CHECK((*writes)[0].kind == "DestinationRule");  // the subsets are pointed before traffic moves
  CHECK((*writes)[1].kind == "VirtualService");
  CHECK_FALSE((*writes)[1].body.contains("metadata"));  // the hashes live on the subsets
  objects.apply(*writes);
  const json& vs = objects.at("VirtualService", "web");
  const json& dr = objects.at("DestinationRule", "web-dr");
  testing::checkGolden("istio-subset-level-virtualservice", vs);
  testing::checkGolden("istio-subset-level-destinationrule", dr);
  const json& route = vs["spec"]["http"][0]["route"];
  REQUIRE(route.size() == 3);  // "old" is not the Rollout's: removed from the route
  CHECK(route[0]["weight"] == 60);
  CHECK(route[1]["weight"] == 30);
  CHECK(route[2]["weight"] == 10);
  CHECK(dr["metadata"]["annotations"]["sluice.dev/managed-by-rollouts"] == "web");
  CHECK(dr["spec"]["subsets"][0]["labels"] ==
        json({{"app", "web"}, {"sluice.dev/pod-template-hash", "stablehash"}}));
  CHECK(dr["spec"]["subsets"][1]["labels"]["sluice.dev/pod-template-hash"] == "canaryhash");
  CHECK(dr["spec"]["subsets"][2] == destinationRule()["spec"]["subsets"][2]);
  CHECK(dr["spec"]["subsets"][3] == destinationRule()["spec"]["subsets"][3]);
  CHECK(dr["spec"]["trafficPolicy"] == destinationRule()["spec"]["trafficPolicy"]);
}

TEST_CASE("the weights set are read back in force, and setting them again writes nothing",
          "[traffic][istio]") {
  struct Row {
    const char* name;
    std::string istio;
    Objects objects;
  };
  const std::vector<Row> rows = {{"host-level", kHostLevel, hostObjects()},
                                 {"subset-level", kSubsetLevel, subsetObjects()}};
  for (const auto& row : rows) {
    SECTION(row.name) {
      traffic::IstioRouter router(rollout(row.istio));
      Objects objects = row.objects;
      // Before Sluice wrote anything: a stray destination and no hashes, so not in force.
      auto before = router.inForce(objects.lookup());
      REQUIRE(before.ok());
      CHECK_FALSE(before->has_value());
      for (const auto& weights : {kThirty, engine::SetTrafficWeight{100, 0, "c2", "s2"},
                                  engine::SetTrafficWeight{0, 100, "s2", "s2"}}) {
        testing::setAndReadBack(router, objects, weights);
      }
      // Someone puts a destination back: read as a share the engine did not ask for, so the weights are
      // written again, without it.
      json& vs = objects.at("VirtualService", "web");
      json& route = vs["spec"]["http"].back()["route"];
      route.push_back({{"destination", {{"host", "legacy.other.svc.cluster.local"}}}, {"weight", 0}});
      const engine::SetTrafficWeight last{0, 100, "s2", "s2"};
      auto edited = router.inForce(objects.lookup());
      REQUIRE(edited.ok());
      REQUIRE(edited->has_value());
      CHECK((*edited)->additional == std::vector<engine::WeightDestination>{{0, "legacy", ""}});
      CHECK(**edited != engine::splitOf(last));
      testing::setAndReadBack(router, objects, last);
      for (const auto& d : objects.at("VirtualService", "web")["spec"]["http"].back()["route"])
        CHECK(d["destination"]["host"] != "legacy.other.svc.cluster.local");
    }
  }
}

TEST_CASE("with maxTrafficWeight the destinations carry weights out of it, as Argo Rollouts writes them",
          "[traffic][istio]") {
  traffic::IstioRouter router(rollout(kHostLevel, R"(, "maxTrafficWeight": 1000)"));
  Objects objects = hostObjects();
  testing::setAndReadBack(router, objects, {200, 800, "canaryhash", "stablehash"});
  const json route = objects.at("VirtualService", "web")["spec"]["http"][1]["route"];
  REQUIRE(route.size() == 2);
  CHECK(route[0]["weight"] == 800);
  CHECK(route[1]["weight"] == 200);
  testing::setAndReadBack(router, objects, {1000, 0, "canaryhash", "stablehash"});
}

TEST_CASE("ping-pong by host: the weights follow the Services' roles, which swap at each promotion",
          "[traffic][istio][pingpong]") {
  Diagnostics diags;
  const auto r = engine::parseRollout(json::parse(R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "Rollout",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "w"}]}},
      "strategy": {"canary": {"pingPong": {"pingService": "ping", "pongService": "pong"},
        "trafficRouting": {"istio": {"virtualService": {"name": "web", "routes": ["primary"]}}},
        "steps": [{"setWeight": 30}]}}}})"),
                                      SourceMap(), diags);
  INFO(diags.format());
  REQUIRE(r);
  REQUIRE(diags.empty());
  traffic::IstioRouter router(*r);
  Objects objects = Objects().add(json::parse(R"({"apiVersion": "networking.istio.io/v1beta1",
    "kind": "VirtualService", "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"hosts": ["web"], "http": [{"name": "primary", "route": [
      {"destination": {"host": "ping"}, "weight": 100}, {"destination": {"host": "pong"}, "weight": 0}]}]}})"));
  auto weightOf = [&](const std::string& host) {
    for (const auto& d : objects.at("VirtualService", "web")["spec"]["http"][0]["route"])
      if (d["destination"]["host"] == host) return d["weight"].get<int>();
    return -1;
  };
  // ping stable, pong the canary at 30.
  testing::setAndReadBack(router, objects, {30, 70, "c1", "s1", "pong", "ping"});
  CHECK(weightOf("pong") == 30);
  CHECK(weightOf("ping") == 70);
  CHECK(objects.at("VirtualService", "web")["metadata"]["annotations"]["sluice.dev/canary-service"] ==
        "pong");
  // Promoted: pong is stable, ping takes the next canary.
  testing::setAndReadBack(router, objects, {0, 100, "c1", "c1", "ping", "pong"});
  CHECK(weightOf("pong") == 100);
  CHECK(weightOf("ping") == 0);
  testing::setAndReadBack(router, objects, {20, 80, "c2", "c1", "ping", "pong"});
  CHECK(weightOf("ping") == 20);
  // Read back without the engine's names, the roles come from the VirtualService.
  auto seen = router.inForce(objects.lookup());
  REQUIRE(seen.ok());
  REQUIRE(seen->has_value());
  CHECK(**seen == engine::TrafficInForce{20, 80, "c2", "c1"});
}

TEST_CASE("several VirtualServices: each is written, and one that disagrees is not in force",
          "[traffic][istio]") {
  traffic::IstioRouter router(rollout(R"({"virtualServices": [{"name": "web", "routes": ["primary"]},
                                                             {"name": "web-internal"}]})"));
  json internal = hostVirtualService();
  internal["metadata"]["name"] = "web-internal";
  internal["spec"]["http"].erase(0);
  internal["spec"]["http"][0].erase("name");
  Objects objects = hostObjects().add(internal);
  auto writes = router.setWeight(objects.lookup(), kThirty);
  REQUIRE(writes.ok());
  REQUIRE(writes->size() == 2);
  CHECK((*writes)[1].name == "web-internal");
  objects.apply(*writes);
  REQUIRE(router.inForce(objects.lookup())->has_value());

  objects.at("VirtualService", "web-internal")["spec"]["http"][0]["route"][1]["weight"] = 50;
  auto mixed = router.inForce(objects.lookup());
  REQUIRE(mixed.ok());
  CHECK_FALSE(mixed->has_value());
  auto rewritten = router.setWeight(objects.lookup(), kThirty);
  REQUIRE(rewritten.ok());
  REQUIRE(rewritten->size() == 1);
  CHECK((*rewritten)[0].name == "web-internal");
}

TEST_CASE("errors name the object and are worded as Argo Rollouts words them", "[traffic][istio]") {
  struct Row {
    const char* name;
    std::string istio;
    std::function<void(Objects&)> edit;
    std::string error;
  };
  auto dropDestination = [](size_t route, size_t index) {
    return [=](Objects& o) { o.at("VirtualService", "web")["spec"]["http"][route]["route"].erase(index); };
  };
  const std::vector<Row> rows = {
      {"no canary host", kHostLevel, dropDestination(1, 1),
       "VirtualService `web` spec.http[1]: Canary Service 'web-canary' not found in route"},
      {"no stable host", kHostLevel, dropDestination(1, 0),
       "VirtualService `web` spec.http[1]: Stable Service 'web-stable' not found in route"},
      {"no canary subset", kSubsetLevel, dropDestination(0, 1),
       "VirtualService `web` spec.http[0]: Canary DestinationRule subset 'canary' not found in route"},
      {"no stable subset", kSubsetLevel, dropDestination(0, 0),
       "VirtualService `web` spec.http[0]: Stable DestinationRule subset 'stable' not found in route"},
      {"a named route that does not exist", R"({"virtualService": {"name": "web", "routes": ["main"]}})",
       [](Objects&) {}, "HTTP Route 'main' is not found in VirtualService `web`"},
      {"no route named and two to choose from", R"({"virtualService": {"name": "web"}})", [](Objects&) {},
       "VirtualService `web` must have exactly one HTTP route besides the managed routes when "
       "spec.strategy.canary.trafficRouting.istio names no routes, found 2"},
      {"no VirtualService", kHostLevel, [](Objects& o) { o.byKey.clear(); },
       "VirtualService `web` not found"},
      {"no DestinationRule", kSubsetLevel,
       [](Objects& o) {
         o.byKey.erase({"DestinationRule", "web-dr"});
       },
       "DestinationRule `web-dr` not found"},
      {"no canary subset in the DestinationRule", kSubsetLevel,
       [](Objects& o) { o.at("DestinationRule", "web-dr")["spec"]["subsets"].erase(1); },
       "DestinationRule `web-dr`: subset 'canary' not found in spec.subsets"},
      {"spec.http not a list", kHostLevel,
       [](Objects& o) { o.at("VirtualService", "web")["spec"]["http"] = "x"; },
       "VirtualService `web`: spec.http must be a list"},
  };
  for (const auto& row : rows) {
    SECTION(row.name) {
      Objects objects = row.istio == kSubsetLevel ? subsetObjects() : hostObjects();
      row.edit(objects);
      traffic::IstioRouter router(rollout(row.istio));
      testing::checkRefused(router, objects, row.error);
    }
  }
}

TEST_CASE("a header route goes before all others, to the canary with its port, and is removed again",
          "[traffic][istio]") {
  traffic::IstioRouter router(rollout(kHostLevel, kManagedRoutes));
  Objects objects = hostObjects();
  const json original = objects.at("VirtualService", "web");
  const engine::SetHeaderRouteStep step{
      "header-beta",
      {{"X-Beta", "exact", "yes"}, {"User-Agent", "regex", ".*Android.*"}, {"X-Tier", "prefix", "gold"}}};
  auto writes = router.setHeaderRoute(objects.lookup(), step);
  REQUIRE(writes.ok());
  REQUIRE(writes->size() == 1);
  CHECK((*writes)[0].body.size() == 1);  // spec.http only
  objects.apply(*writes);
  const json& http = objects.at("VirtualService", "web")["spec"]["http"];
  testing::checkGolden("istio-header-route", http);
  REQUIRE(http.size() == 3);
  CHECK(http[0]["name"] == "header-beta");
  CHECK(http[0]["route"] ==
        json::parse(R"([{"destination": {"host": "web-canary", "port": {"number": 80}}, "weight": 100}])"));
  CHECK(http[1] == original["spec"]["http"][0]);

  auto again = router.setHeaderRoute(objects.lookup(), step);
  REQUIRE(again.ok());
  CHECK(again->empty());

  testing::removeHeaderRoute(router, objects, "header-beta");
  CHECK(objects.at("VirtualService", "web") == original);
}

TEST_CASE("a mirror route copies the weighted route, mirrors to the canary subset, and follows later weights",
          "[traffic][istio]") {
  traffic::IstioRouter router(rollout(kSubsetLevel, kManagedRoutes));
  Objects objects = subsetObjects();
  objects.apply(*router.setWeight(objects.lookup(), kThirty));
  engine::SetMirrorRouteStep mirror{"mirror-all", 35, json::parse(R"([
      {"method": {"exact": "GET"}, "path": {"prefix": "/api"}},
      {"headers": {"X-Debug": {"exact": "1"}}}])")};
  auto writes = router.setMirrorRoute(objects.lookup(), mirror);
  REQUIRE(writes.ok());
  objects.apply(*writes);
  // Then a header route: it goes first, as managedRoutes lists it first.
  objects.apply(*router.setHeaderRoute(objects.lookup(), {"header-beta", {{"X-Beta", "exact", "yes"}}}));
  const json& http = objects.at("VirtualService", "web")["spec"]["http"];
  testing::checkGolden("istio-mirror-route", http);
  REQUIRE(http.size() == 3);
  CHECK(http[0]["name"] == "header-beta");
  CHECK(http[0]["route"][0]["destination"] ==
        json::parse(R"({"host": "web", "subset": "canary", "port": {"number": 8080}})"));
  CHECK(http[1]["name"] == "mirror-all");
  CHECK(http[1]["match"][0]["uri"] == json({{"prefix", "/api"}}));
  CHECK(http[1]["mirror"] == json::parse(R"({"host": "web", "subset": "canary", "port": {"number": 8080}})"));
  CHECK(http[1]["mirrorPercentage"]["value"] == 35);
  CHECK(http[1]["route"] == http[2]["route"]);

  // Without routes named, the managed routes do not count: the weighted route is still the only other one.
  objects.apply(*router.setWeight(objects.lookup(), {50, 50, "canaryhash", "stablehash"}));
  const json& after = objects.at("VirtualService", "web")["spec"]["http"];
  CHECK(after[2]["route"][1]["weight"] == 50);
  CHECK(after[1]["route"] == after[2]["route"]);  // the mirror route follows the weights
  CHECK(after[0]["route"][0]["weight"] == 100);   // the header route sends all it matches to the canary
  REQUIRE(router.inForce(objects.lookup())->has_value());
  CHECK(**router.inForce(objects.lookup()) == engine::TrafficInForce{50, 50, "canaryhash", "stablehash"});
}

TEST_CASE("makeRouter picks Istio alone", "[traffic][istio]") {
  auto router = traffic::makeRouter(rollout(kSubsetLevel));
  REQUIRE(router.ok());
  REQUIRE(*router != nullptr);
  CHECK((*router)->kinds() == std::vector<std::string>{"VirtualService", "DestinationRule"});
}

namespace {

// TLS routes for web.example and admin.example on 443, TCP routes on 5432 and 6379.
json tlsTcpVirtualService() {
  json vs = hostVirtualService();
  const json split = json::parse(R"([
      {"destination": {"host": "web-stable", "port": {"number": 443}}, "weight": 100},
      {"destination": {"host": "web-canary", "port": {"number": 443}}, "weight": 0}])");
  vs["spec"]["tls"] = json::array(
      {{{"match", json::parse(R"([{"port": 443, "sniHosts": ["web.example", "www.web.example"]}])")},
        {"route", split}},
       {{"match", json::parse(R"([{"port": 443, "sniHosts": ["admin.example"]}])")},
        {"route", json::parse(R"([{"destination": {"host": "admin"}}])")}}});
  vs["spec"]["tcp"] = json::array({{{"match", json::parse(R"([{"port": 6379}])")},
                                    {"route", json::parse(R"([{"destination": {"host": "redis"}}])")}},
                                   {{"match", json::parse(R"([{"port": 5432}])")}, {"route", split}}});
  return vs;
}

}  // namespace

TEST_CASE(
    "TLS routes are selected by port and SNI hosts, TCP routes by port, and weighted as HTTP routes are",
    "[traffic][istio]") {
  const json original = tlsTcpVirtualService();
  SECTION("with HTTP routes") {
    traffic::IstioRouter router(rollout(R"({"virtualService": {"name": "web", "routes": ["primary"],
        "tlsRoutes": [{"port": 443, "sniHosts": ["web.example"]}], "tcpRoutes": [{"port": 5432}]}})"));
    Objects objects = Objects().add(original);
    auto writes = router.setWeight(objects.lookup(), kThirty);
    REQUIRE(writes.ok());
    REQUIRE(writes->size() == 1);
    CHECK((*writes)[0].body["spec"].size() == 3);  // http, tls and tcp, each a whole list
    objects.apply(*writes);
    const json& spec = objects.at("VirtualService", "web")["spec"];
    CHECK(spec["http"][1]["route"][1]["weight"] == 30);
    CHECK(spec["tls"][0]["route"][0]["weight"] == 70);
    CHECK(spec["tls"][0]["route"][1]["weight"] == 30);
    CHECK(spec["tls"][1] == original["spec"]["tls"][1]);
    CHECK(spec["tcp"][0] == original["spec"]["tcp"][0]);
    CHECK(spec["tcp"][1]["route"][1]["weight"] == 30);
    CHECK(**router.inForce(objects.lookup()) == engine::TrafficInForce{30, 70, "canaryhash", "stablehash"});
    CHECK(router.setWeight(objects.lookup(), kThirty)->empty());
  }
  SECTION("with TLS routes alone: the HTTP routes are not the Rollout's, and the weight is read from TLS") {
    traffic::IstioRouter router(
        rollout(R"({"virtualService": {"name": "web", "tlsRoutes": [{"port": 443}]}})"));
    Objects objects = Objects().add(original);
    // Port 443 alone selects both TLS routes, and "admin" has neither the canary nor the stable.
    auto refused = router.setWeight(objects.lookup(), kThirty);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error() ==
          "VirtualService `web` spec.tls[1]: Canary Service 'web-canary' not found in route");
    objects.at("VirtualService", "web")["spec"]["tls"].erase(1);
    auto writes = router.setWeight(objects.lookup(), kThirty);
    REQUIRE(writes.ok());
    REQUIRE(writes->size() == 1);
    CHECK_FALSE((*writes)[0].body["spec"].contains("http"));
    objects.apply(*writes);
    CHECK(**router.inForce(objects.lookup()) == engine::TrafficInForce{30, 70, "canaryhash", "stablehash"});
  }
  SECTION("HTTP routes named on a VirtualService of TLS routes alone are passed over, as Argo's e2e has it") {
    traffic::IstioRouter router(rollout(R"({"virtualService": {"name": "web", "routes": ["primary"],
        "tlsRoutes": [{"port": 443, "sniHosts": ["web.example"]}]}})"));
    json tlsOnly = original;
    tlsOnly["spec"].erase("http");
    Objects objects = Objects().add(tlsOnly);
    testing::setAndReadBack(router, objects, kThirty);
    CHECK(objects.at("VirtualService", "web")["spec"]["tls"][0]["route"][1]["weight"] == 30);
    CHECK_FALSE(objects.at("VirtualService", "web")["spec"].contains("http"));
    // With an HTTP section, a named route that is not there is still an error.
    tlsOnly["spec"]["http"] = json::array();
    auto refused = router.setWeight(Objects().add(tlsOnly).lookup(), kThirty);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error() == "HTTP Route 'primary' is not found in VirtualService `web`");
  }
  SECTION("a TLS or TCP route named and not there") {
    for (const auto& [istio, error] : std::vector<std::pair<std::string, std::string>>{
             {R"({"virtualService": {"name": "web", "tlsRoutes": [{"sniHosts": ["shop.example"]}]}})",
              "No matching TLS routes found in VirtualService `web` for tlsRoutes[0]"},
             {R"({"virtualService": {"name": "web", "tcpRoutes": [{"port": 5432}, {"port": 3306}]}})",
              "No matching TCP routes found in VirtualService `web` for tcpRoutes[1]"}}) {
      traffic::IstioRouter router(rollout(istio));
      auto writes = router.setWeight(Objects().add(original).lookup(), kThirty);
      REQUIRE_FALSE(writes.ok());
      CHECK(writes.error() == error);
    }
  }
}

TEST_CASE("a VirtualService with no HTTP routes has no managed route to remove", "[traffic][istio]") {
  traffic::IstioRouter router(rollout(kHostLevel, kManagedRoutes));
  json bare = hostVirtualService();
  bare["spec"].erase("http");
  auto writes = router.removeManagedRoutes(Objects().add(bare).lookup());
  REQUIRE(writes.ok());
  CHECK(writes->empty());
}

TEST_CASE("a header route is removed even when no weighted route is usable any more", "[traffic][istio]") {
  traffic::IstioRouter router(rollout(kHostLevel, kManagedRoutes));
  json vs = hostVirtualService();
  vs["spec"]["http"][1]["route"].erase(1);  // no canary destination: the weighted route is not usable
  vs["spec"]["http"].insert(
      vs["spec"]["http"].begin(),
      json::parse(R"({"name": "header-beta", "route": [{"destination": {"host": "web-canary"}}]})"));
  Objects objects = Objects().add(vs);
  auto adding = router.setHeaderRoute(objects.lookup(), {"header-beta", {{"X-Beta", "exact", "yes"}}});
  REQUIRE_FALSE(adding.ok());
  CHECK(adding.error() ==
        "VirtualService `web` spec.http[2]: Canary Service 'web-canary' not found in route");
  auto removing = router.setHeaderRoute(objects.lookup(), {"header-beta", {}});
  REQUIRE(removing.ok());
  objects.apply(*removing);
  CHECK(objects.at("VirtualService", "web")["spec"]["http"].size() == 2);
  auto mirror = router.setMirrorRoute(objects.lookup(), {"mirror-all", 100, json::array()});
  REQUIRE(mirror.ok());
  CHECK(mirror->empty());  // nothing to remove
}

TEST_CASE("a hash not known yet takes the label off its subset instead of writing an empty one",
          "[traffic][istio]") {
  traffic::IstioRouter router(rollout(kSubsetLevel));
  Objects objects = subsetObjects();
  objects.apply(*router.setWeight(objects.lookup(), kThirty));
  objects.apply(*router.setWeight(objects.lookup(), {0, 100, "", "stablehash"}));
  const json& subsets = objects.at("DestinationRule", "web-dr")["spec"]["subsets"];
  CHECK(subsets[1]["labels"] == json({{"app", "web"}}));
  CHECK(subsets[0]["labels"]["sluice.dev/pod-template-hash"] == "stablehash");
  CHECK(**router.inForce(objects.lookup()) == engine::TrafficInForce{0, 100, "", "stablehash"});
}

}  // namespace istio_router_test
