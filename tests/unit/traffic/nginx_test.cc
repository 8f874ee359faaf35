// The ingress-nginx router: the canary Ingress built from the stable one (golden files under
// tests/golden/traffic/, rewritten with SLUICE_UPDATE_GOLDEN=1), the writes that keep other controllers'
// annotations, and the weights read back.
#include <catch2/catch.hpp>
#include <map>

#include "tests/unit/traffic/router_fixtures.h"
#include "traffic/nginx.h"

using namespace sluice;
using nlohmann::json;

// A namespace of its own: the test files are compiled in batches (unity build).
namespace nginx_router_test {

namespace {

// The Rollout "web" routed by `nginx` (trafficRouting.nginx), `extra` more fields of trafficRouting.
engine::Rollout rollout(const std::string& nginx, const std::string& extra = "") {
  return testing::routedRollout(R"("nginx": )" + nginx + extra);
}

json stableIngress() {
  return json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
    "metadata": {"name": "web", "namespace": "shop",
                 "annotations": {"kubernetes.io/ingress.class": "nginx", "team": "shop"}},
    "spec": {"ingressClassName": "nginx",
      "tls": [{"hosts": ["web.example"], "secretName": "web-tls"}],
      "rules": [
        {"host": "web.example", "http": {"paths": [
          {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web-stable", "port": {"number": 80}}}},
          {"path": "/static", "pathType": "Prefix", "backend": {"service": {"name": "cdn", "port": {"number": 80}}}}]}},
        {"host": "admin.example", "http": {"paths": [
          {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "admin", "port": {"number": 80}}}}]}}]}})");
}

const engine::SetTrafficWeight kTen{10, 90, "canaryhash", "stablehash"};

// A lookup over a fixed set of Ingresses, by name.
traffic::ObjectLookup lookupOf(std::map<std::string, json> objects) {
  return [objects = std::move(objects)](const std::string& kind,
                                        const std::string& name) -> std::optional<json> {
    if (kind != "Ingress") return std::nullopt;
    const auto it = objects.find(name);
    if (it == objects.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST_CASE("the canary Ingress is the stable one's rules to the stable Service, pointed at the canary Service",
          "[traffic][nginx]") {
  auto desired = traffic::desiredCanaryIngress(rollout(R"({"stableIngress": "web"})"), stableIngress(), kTen);
  REQUIRE(desired.ok());
  testing::checkGolden("nginx-canary-ingress", *desired);
  // Only the rule sending to web-stable, and in it only that path rewritten; TLS and class copied.
  CHECK((*desired)["spec"]["rules"].size() == 1);
  CHECK((*desired)["metadata"]["name"] == "web-web-canary");
  CHECK((*desired)["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"] == "10");
  CHECK_FALSE((*desired)["metadata"]["annotations"].contains("team"));
}

TEST_CASE(
    "the canary Ingress's annotations: additional ones prefixed, canary ones verbatim and winning, the "
    "weight total with maxTrafficWeight, a custom prefix",
    "[traffic][nginx]") {
  const auto r = rollout(R"({"stableIngress": "web", "annotationPrefix": "custom.nginx",
      "additionalIngressAnnotations": {"canary-by-header": "X-Canary", "custom.nginx/canary-by-cookie": "beta"},
      "canaryIngressAnnotations": {"custom.nginx/canary-by-header": "X-Override", "example.com/owner": "web"}})",
                         R"(, "maxTrafficWeight": 1000)");
  auto desired = traffic::desiredCanaryIngress(r, stableIngress(), {100, 900, "c", "s"});
  REQUIRE(desired.ok());
  testing::checkGolden("nginx-annotations", *desired);
  const json& a = (*desired)["metadata"]["annotations"];
  CHECK(a["custom.nginx/canary-by-header"] == "X-Override");
  CHECK(a["custom.nginx/canary-by-cookie"] == "beta");
  CHECK(a["custom.nginx/canary-weight-total"] == "1000");
  CHECK(a["custom.nginx/canary-weight"] == "100");
}

TEST_CASE("a stable Ingress with no rule to the stable Service is an error naming both", "[traffic][nginx]") {
  json stable = stableIngress();
  stable["spec"]["rules"].erase(0);
  auto desired = traffic::desiredCanaryIngress(rollout(R"({"stableIngress": "web"})"), stable, kTen);
  REQUIRE_FALSE(desired.ok());
  CHECK(desired.error() == "ingress `web` has no rules using service web-stable backend");

  traffic::NginxRouter router(rollout(R"({"stableIngress": "web"})"));
  auto missing = router.setWeight(lookupOf({}), kTen);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error() == "ingress `web` not found");
}

TEST_CASE("setting a weight creates the canary Ingress, then patches only what Sluice manages",
          "[traffic][nginx]") {
  const auto r = rollout(R"({"stableIngresses": ["web", "api"]})", R"(, "maxTrafficWeight": 100)");
  traffic::NginxRouter router(r);
  json api = stableIngress();
  api["metadata"]["name"] = "api";
  auto first = router.setWeight(lookupOf({{"web", stableIngress()}, {"api", api}}), kTen);
  REQUIRE(first.ok());
  REQUIRE(first->size() == 2);  // one canary Ingress per stable Ingress
  CHECK((*first)[0].op == traffic::ObjectWrite::Op::Create);
  CHECK((*first)[1].name == "web-api-canary");

  // The live canary Ingress carries another controller's annotation and an older weight.
  json live = (*first)[0].body;
  live["metadata"]["annotations"]["other.controller/seen"] = "yes";
  live["metadata"]["resourceVersion"] = "7";
  json liveApi = (*first)[1].body;
  auto lookup = lookupOf(
      {{"web", stableIngress()}, {"api", api}, {"web-web-canary", live}, {"web-api-canary", liveApi}});
  auto again = router.setWeight(lookup, kTen);
  REQUIRE(again.ok());
  CHECK(again->empty());  // in force already: nothing to write

  // Now without maxTrafficWeight and at 30%: the weight changes, the total goes, the foreign one stays.
  traffic::NginxRouter without(rollout(R"({"stableIngresses": ["web", "api"]})"));
  auto thirty = without.setWeight(lookup, {30, 70, "canaryhash", "stablehash"});
  REQUIRE(thirty.ok());
  REQUIRE(thirty->size() == 2);
  const traffic::ObjectWrite& patch = (*thirty)[0];
  CHECK(patch.op == traffic::ObjectWrite::Op::MergePatch);
  testing::checkGolden("nginx-weight-patch", patch.body);
  CHECK(patch.body["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"] == "30");
  CHECK(patch.body["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight-total"].is_null());
  CHECK_FALSE(patch.body["metadata"]["annotations"].contains("other.controller/seen"));
  CHECK_FALSE(patch.body.contains("spec"));

  // A canary Ingress of the same name that the Rollout does not control is not taken over.
  json foreign = live;
  foreign["metadata"]["ownerReferences"] = json::array();
  auto refused = without.setWeight(
      lookupOf({{"web", stableIngress()}, {"api", api}, {"web-web-canary", foreign}}), kTen);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error() == "ingress `web-web-canary` exists and is not controlled by rollout web");

  // One Argo Rollouts made for the Rollout of this name (moved over from Argo) is taken over in the write.
  json argos = live;
  argos["metadata"]["ownerReferences"] = testing::argoOwnerReferences("web");
  auto takenOver = without.setWeight(
      lookupOf(
          {{"web", stableIngress()}, {"api", api}, {"web-web-canary", argos}, {"web-api-canary", liveApi}}),
      kTen);
  REQUIRE(takenOver.ok());
  REQUIRE(takenOver->size() == 2);
  CHECK((*takenOver)[0].name == "web-web-canary");
  CHECK((*takenOver)[0].body["metadata"]["ownerReferences"] == json::array({traffic::ownerReference(r)}));
  CHECK_FALSE((*takenOver)[1].body["metadata"].contains("ownerReferences"));  // already the Rollout's
  // Argo's for another Rollout is not.
  argos["metadata"]["ownerReferences"][0]["name"] = "shop";
  auto others =
      without.setWeight(lookupOf({{"web", stableIngress()}, {"api", api}, {"web-web-canary", argos}}), kTen);
  REQUIRE_FALSE(others.ok());
}

TEST_CASE("the weights in force are read back from the canary Ingresses", "[traffic][nginx]") {
  const auto r = rollout(R"({"stableIngresses": ["web", "api"]})");
  traffic::NginxRouter router(r);
  json api = stableIngress();
  api["metadata"]["name"] = "api";
  CHECK_FALSE(router.inForce(lookupOf({{"web", stableIngress()}, {"api", api}}))->has_value());  // none yet

  const json webCanary = *traffic::desiredCanaryIngress(r, stableIngress(), kTen);
  const json apiCanary = *traffic::desiredCanaryIngress(r, api, kTen);
  std::map<std::string, json> objects = {
      {"web", stableIngress()}, {"api", api}, {"web-web-canary", webCanary}, {"web-api-canary", apiCanary}};
  auto both = router.inForce(lookupOf(objects));
  REQUIRE(both.ok());
  REQUIRE(both->has_value());
  CHECK(**both == engine::TrafficInForce{10, 90, "canaryhash", "stablehash"});

  // Two canary Ingresses at different weights: not in force, so the weight is written again.
  auto mixed = objects;
  mixed["web-api-canary"] = *traffic::desiredCanaryIngress(r, api, {30, 70, "canaryhash", "stablehash"});
  CHECK_FALSE(router.inForce(lookupOf(mixed))->has_value());

  // The stable Ingress gained a path: the canary Ingress no longer matches it, so the weight is not in
  // force, and setting it again rebuilds the canary's rules.
  auto changed = objects;
  changed["web"]["spec"]["rules"][0]["http"]["paths"].push_back(
      {{"path", "/v2"}, {"pathType", "Prefix"}, {"backend", {{"service", {{"name", "web-stable"}}}}}});
  CHECK_FALSE(router.inForce(lookupOf(changed))->has_value());
  auto rebuilt = router.setWeight(lookupOf(changed), kTen);
  REQUIRE(rebuilt.ok());
  REQUIRE(rebuilt->size() == 1);
  CHECK((*rebuilt)[0].name == "web-web-canary");
  CHECK((*rebuilt)[0].body["spec"]["rules"][0]["http"]["paths"][2]["backend"]["service"]["name"] ==
        "web-canary");
}

TEST_CASE("the canary Ingress name is cut to 253 characters", "[traffic][nginx]") {
  const std::string name = traffic::canaryIngressName(std::string(200, 'r'), std::string(100, 'i'));
  CHECK(name.size() == 253);
  CHECK(name.substr(246) == "-canary");
  CHECK(traffic::canaryIngressName("web", "shop") == "web-shop-canary");
}

}  // namespace nginx_router_test
