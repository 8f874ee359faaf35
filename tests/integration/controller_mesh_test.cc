// trafficRouting.istio, .smi, .traefik, .ambassador, .apisix and the Gateway API plugin end to end on the
// embedded API server. No mesh or gateway can be installed here, so their kinds are served from CRD fixtures
// (tests/data/mesh-crds/): what is checked is what the data plane would read, the objects the controller
// writes (weights, subset labels), against the fields Istio, SMI, Traefik, Ambassador, APISIX and Gateway API
// document (data_plane_mesh_test routes requests by them).
#include <catch2/catch.hpp>
#include <map>
#include <thread>

#include "controller/metrics.h"
#include "controller_env.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

const kube::ResourceRef kMeshVirtualServices{"networking.istio.io", "v1beta1", "virtualservices", true,
                                             "VirtualService"};
const kube::ResourceRef kMappings{"getambassador.io", "v2", "mappings", true, "Mapping"};
const kube::ResourceRef kDestinationRules{"networking.istio.io", "v1beta1", "destinationrules", true,
                                          "DestinationRule"};

void installIstioCrds(KubectlEnv& cluster) {
  cluster.installMeshCrds("istio.yaml", "virtualservices,destinationrules");
}

// The Rollout's stable and canary Services.
void applyServices(KubectlEnv& cluster) {
  for (const char* name : {"web-stable", "web-canary"}) {
    const json service = {
        {"apiVersion", "v1"},
        {"kind", "Service"},
        {"metadata", {{"name", name}, {"namespace", "default"}}},
        {"spec", {{"selector", {{"app", "web"}}}, {"ports", json::array({{{"port", 80}}})}}}};
    cluster.apply(std::string(name) + ".json", service);
  }
}

// Starts the controller on `env`'s cluster once the mesh CRD fixture `crds` serves `resources`, then applies
// the Rollout's stable and canary Services.
void startRouted(ControllerEnv& env, const std::string& crds, const std::string& resources) {
  env.cluster.installMeshCrds(crds, resources);
  env.startController();
  applyServices(env.cluster);
}

// Split by subset of the host "web", behind a route of another team's that Sluice leaves alone.
json subsetVirtualService() {
  return json::parse(R"({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"hosts": ["web"], "http": [
      {"name": "admin", "match": [{"uri": {"prefix": "/admin"}}], "route": [{"destination": {"host": "admin"}}]},
      {"name": "primary", "route": [
        {"destination": {"host": "web", "subset": "stable"}, "weight": 100},
        {"destination": {"host": "web", "subset": "canary"}, "weight": 0}]}]}})");
}

json destinationRule() {
  return json::parse(R"({"apiVersion": "networking.istio.io/v1beta1", "kind": "DestinationRule",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"host": "web", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}, "subsets": [
      {"name": "stable", "labels": {"app": "web"}},
      {"name": "canary", "labels": {"app": "web"}}]}})");
}

// Split by host: the stable and canary Services.
json hostVirtualService() {
  return json::parse(R"({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"hosts": ["web.example"], "http": [{"name": "primary", "route": [
        {"destination": {"host": "web-stable", "port": {"number": 80}}, "weight": 100},
        {"destination": {"host": "web-canary", "port": {"number": 80}}, "weight": 0}]}]}})");
}

// The Rollout "web" routed by `routing` (spec.strategy.canary.trafficRouting).
json routedRollout(const std::string& image, const json& routing) {
  json r = webRollout(image, 4,
                      json::parse(R"([{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}])"));
  json& canary = r["spec"]["strategy"]["canary"];
  canary["canaryService"] = "web-canary";
  canary["stableService"] = "web-stable";
  canary["trafficRouting"] = routing;
  canary["abortScaleDownDelaySeconds"] = 1;
  return r;
}

json istioRollout(const std::string& image, const json& istio) {
  return routedRollout(image, {{"istio", istio}});
}

json subsetRouting() {
  return json::parse(R"({"virtualService": {"name": "web", "routes": ["primary"]},
    "destinationRule": {"name": "web", "canarySubsetName": "canary", "stableSubsetName": "stable"}})");
}

json get(ControllerEnv& env, const kube::ResourceRef& ref, const std::string& name) {
  auto got = env.client->get(ref, "default", name);
  REQUIRE(got.ok());
  return *got;
}

// The weight of the destination of the "primary" route whose `key` (host or subset) is `value`.
int weightOf(const json& virtualService, const std::string& key, const std::string& value) {
  for (const auto& route : virtualService["spec"]["http"]) {
    if (route.value("name", "") != "primary") continue;
    for (const auto& d : route["route"])
      if (d["destination"].value(key, "") == value) return d.value("weight", 0);
  }
  return -1;
}

// The pod-template hash a DestinationRule subset selects.
std::string subsetHash(const json& rule, const std::string& subset) {
  for (const auto& s : rule["spec"]["subsets"])
    if (s.value("name", "") == subset)
      return s["labels"].value("sluice.dev/pod-template-hash", std::string("(none)"));
  return "(no subset)";
}

// Polls `read` until it equals `want` (every 50 ms, up to 20 s); returns the last value read.
template <typename Read, typename T>
auto settleTo(Read read, const T& want) {
  auto got = read();
  for (int i = 0; i < 400 && got != want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    got = read();
  }
  return got;
}

}  // namespace

TEST_CASE(
    "trafficRouting.istio by DestinationRule subset, on Istio's CRDs as fixtures (no Istio data plane): "
    "the subsets select the revisions and each step's weight is in the VirtualService",
    "[controller][e2e][traffic][istio]") {
  ControllerEnv env(std::chrono::milliseconds(500));
  startRouted(env, "istio.yaml", "virtualservices,destinationrules");
  env.cluster.apply("vs.json", subsetVirtualService());
  env.cluster.apply("dr.json", destinationRule());
  env.cluster.apply("v1.json", istioRollout("registry.example/web:v1", subsetRouting()));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  const std::string v1 = env.rollout("web")["status"].value("stableRS", "");
  REQUIRE(!v1.empty());

  // The first revision: both subsets select it, all traffic on the stable one.
  auto rule = [&] { return get(env, kDestinationRules, "web"); };
  auto vs = [&] { return get(env, kMeshVirtualServices, "web"); };
  CHECK(settleTo([&] { return subsetHash(rule(), "stable"); }, v1) == v1);
  CHECK(subsetHash(rule(), "canary") == v1);
  CHECK(weightOf(vs(), "subset", "stable") == 100);
  CHECK(weightOf(vs(), "subset", "canary") == 0);

  // v2: the canary subset selects the new revision before traffic moves, then 20% goes to it.
  env.cluster.apply("v2.json", istioRollout("registry.example/web:v2", subsetRouting()));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  const std::string v2 = env.rollout("web")["status"].value("currentPodHash", "");
  CHECK(v2 != v1);
  CHECK(subsetHash(rule(), "canary") == v2);
  CHECK(subsetHash(rule(), "stable") == v1);
  CHECK(weightOf(vs(), "subset", "canary") == 20);
  CHECK(weightOf(vs(), "subset", "stable") == 80);
  // What Sluice does not manage stays as it was: the other route, the subsets' own labels, the policy.
  CHECK(vs()["spec"]["http"][0] == subsetVirtualService()["spec"]["http"][0]);
  CHECK(rule()["spec"]["subsets"][0]["labels"]["app"] == "web");
  CHECK(rule()["spec"]["trafficPolicy"]["tls"]["mode"] == "ISTIO_MUTUAL");

  REQUIRE(env.cluster.plugin("promote web").exitCode == 0);
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 3; }));
  CHECK(weightOf(vs(), "subset", "canary") == 50);

  // Promoted: the stable subset selects v2 and takes all traffic back.
  REQUIRE(env.cluster.plugin("promote web").exitCode == 0);
  REQUIRE(env.waitRollout("web", [&](const json& r) {
    return phaseOf(r) == "Healthy" && r["status"].value("stableRS", "") == v2;
  }));
  CHECK(settleTo([&] { return weightOf(vs(), "subset", "stable"); }, 100) == 100);
  CHECK(weightOf(vs(), "subset", "canary") == 0);
  CHECK(subsetHash(rule(), "stable") == v2);
}

TEST_CASE(
    "trafficRouting.istio by host, on Istio's CRDs as fixtures (no Istio data plane): an abort puts all "
    "traffic back on the stable Service",
    "[controller][e2e][traffic][istio]") {
  ControllerEnv env(std::chrono::milliseconds(500));
  startRouted(env, "istio.yaml", "virtualservices,destinationrules");
  env.cluster.apply("vs.json", hostVirtualService());
  const json routing = json::parse(R"({"virtualServices": [{"name": "web", "routes": ["primary"]}]})");
  env.cluster.apply("v1.json", istioRollout("registry.example/web:v1", routing));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  env.cluster.apply("v2.json", istioRollout("registry.example/web:v2", routing));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  json vs = get(env, kMeshVirtualServices, "web");
  CHECK(weightOf(vs, "host", "web-canary") == 20);
  CHECK(weightOf(vs, "host", "web-stable") == 80);
  const std::string canaryRS = "web-" + env.rollout("web")["status"].value("currentPodHash", "");

  REQUIRE(env.cluster.plugin("abort web").exitCode == 0);
  REQUIRE(env.waitRollout("web", [&](const json& r) {
    auto rs = env.client->get(kReplicaSets, "default", canaryRS);
    return phaseOf(r) == "Degraded" && rs && (*rs)["spec"].value("replicas", -1) == 0;
  }));
  vs = get(env, kMeshVirtualServices, "web");
  CHECK(weightOf(vs, "host", "web-canary") == 0);
  CHECK(weightOf(vs, "host", "web-stable") == 100);
}

TEST_CASE(
    "a Rollout routed through Istio on a cluster without Istio's CRDs waits for them, and holds up neither "
    "the controller's start nor other Rollouts",
    "[controller][e2e][traffic][istio]") {
  controller::Metrics metrics;  // outlives the controller, which env stops
  ControllerEnv env(std::chrono::milliseconds(500));
  controller::ManagerOptions options;
  options.metrics = &metrics;
  env.startController(
      options);  // the caches sync: VirtualServices are not watched before a Rollout needs them

  applyServices(env.cluster);
  env.cluster.apply("web.json", istioRollout("registry.example/web:v1", subsetRouting()));
  json plain = webRollout("registry.example/plain:v1", 2, json::parse(R"([{"setWeight": 50}])"));
  plain["metadata"]["name"] = "plain";
  plain["spec"]["selector"]["matchLabels"]["app"] = "plain";
  plain["spec"]["template"]["metadata"]["labels"]["app"] = "plain";
  env.cluster.apply("plain.json", plain);
  REQUIRE(env.waitRollout("plain", [](const json& r) { return phaseOf(r) == "Healthy"; }));

  // Nothing was made for `web`, and its failed reconciles are counted (the log says why).
  kube::ListOptions selectWeb;
  selectWeb.labelSelector = "app=web";
  auto replicaSets = env.client->list(kReplicaSets, "default", selectWeb);
  REQUIRE(replicaSets.ok());
  CHECK((*replicaSets)["items"].empty());
  // The first reconcile waits up to 5 s for the VirtualServices' first list before it gives up.
  CHECK(waitUntil(
      [&] {
        return metrics.scrape().find("rollout_reconcile_error{namespace=\"default\",name=\"web\"}") !=
               std::string::npos;
      },
      std::chrono::seconds(20)));
  // The Rollout says why it waits.
  CHECK(env.waitRollout("web", [](const json& r) {
    return phaseOf(r) == "Progressing" && r.value(json::json_pointer("/status/message"), std::string())
                                                  .find("TrafficRoutingError: the VirtualServices") == 0;
  }));

  // Istio arrives: the CRDs, then the objects. The Rollout goes on without a restart of the controller.
  installIstioCrds(env.cluster);
  env.cluster.apply("vs.json", subsetVirtualService());
  env.cluster.apply("dr.json", destinationRule());
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  const std::string v1 = env.rollout("web")["status"].value("stableRS", "");
  CHECK(settleTo([&] { return subsetHash(get(env, kDestinationRules, "web"), "stable"); }, v1) == v1);
}

namespace {

const kube::ResourceRef kMeshHttpRoutes{"gateway.networking.k8s.io", "v1", "httproutes", true, "HTTPRoute"};

// The weight of the backend named `service` in a TrafficSplit's backends or an HTTPRoute rule's backendRefs.
int backendWeight(const json& backends, const char* nameKey, const std::string& service) {
  for (const auto& b : backends)
    if (b.value(nameKey, "") == service) return b.value("weight", -1);
  return -1;
}

// The first revision to Healthy, v2 paused at 20%, promoted to 50%, promoted to the end: `weights` reads the
// (canary, stable) weights from the routing object at each stop.
template <typename Weights>
void stepThrough(ControllerEnv& env, const json& routing, Weights weights) {
  env.cluster.apply("v1.json", routedRollout("registry.example/web:v1", routing));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  env.cluster.apply("v2.json", routedRollout("registry.example/web:v2", routing));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  CHECK(weights() == std::pair{20, 80});
  REQUIRE(env.cluster.plugin("promote web").exitCode == 0);
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 3; }));
  CHECK(weights() == std::pair{50, 50});
  REQUIRE(env.cluster.plugin("promote web").exitCode == 0);
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  CHECK(settleTo(weights, std::pair{0, 100}) == std::pair{0, 100});
}

}  // namespace

TEST_CASE(
    "trafficRouting.smi, on SMI's CRD as a fixture (no mesh): the Rollout's TrafficSplit carries each step's "
    "weight, at the version of --traffic-split-api-version (v1alpha1's quantities by default)",
    "[controller][e2e][traffic][smi]") {
  // "": the controller's default.
  const std::string flag = GENERATE(as<std::string>(), "", "v1alpha3");
  const std::string version = flag.empty() ? "v1alpha1" : flag;
  CAPTURE(version);
  const kube::ResourceRef trafficSplits{"split.smi-spec.io", version, "trafficsplits", true, "TrafficSplit"};
  ControllerEnv env(std::chrono::milliseconds(500));
  env.cluster.installMeshCrds("smi.yaml", "trafficsplits");
  controller::ManagerOptions options;
  if (!flag.empty()) options.router.trafficSplitVersion = flag;
  env.startController(options);
  applyServices(env.cluster);
  // A weight in the form of `version`: v1alpha1's a quantity string ("20"), the later ones' an integer;
  // -1 for any other form.
  auto weightIn = [&version](const json& backends, const std::string& service) {
    for (const auto& b : backends) {
      if (b.value("service", "") != service) continue;
      const json w = b.value("weight", json());
      if (version == "v1alpha1") {
        const std::string text = w.is_string() ? w.get<std::string>() : "";
        const bool whole = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        return whole ? std::stoi(text) : -1;
      }
      return w.is_number_integer() ? w.get<int>() : -1;
    }
    return -1;
  };
  auto weights = [&] {
    const json backends = get(env, trafficSplits, "web")["spec"]["backends"];
    return std::pair{weightIn(backends, "web-canary"), weightIn(backends, "web-stable")};
  };
  stepThrough(env, json::parse(R"({"smi": {}})"), weights);
  // Created by the controller, owned by the Rollout, the stable Service as its root.
  const json split = get(env, trafficSplits, "web");
  CHECK(split["apiVersion"] == "split.smi-spec.io/" + version);
  CHECK(split["spec"]["service"] == "web-stable");
  CHECK(split["metadata"]["ownerReferences"][0]["kind"] == "Rollout");
}

TEST_CASE(
    "trafficRouting.traefik on Traefik's CRDs as fixtures (no Traefik): the user's TraefikService carries "
    "each step's weight in the group of --traefik-api-group (traefik.containo.us by default)",
    "[controller][e2e][traffic][traefik]") {
  // "": the controller's default.
  const std::string flag = GENERATE(as<std::string>(), "", "traefik.io");
  const std::string group = flag.empty() ? "traefik.containo.us" : flag;
  CAPTURE(group);
  const kube::ResourceRef traefikServices{group, "v1alpha1", "traefikservices", true, "TraefikService"};
  ControllerEnv env(std::chrono::milliseconds(500));
  env.cluster.installMeshCrds("traefik.yaml",
                              "traefikservices.traefik.containo.us,traefikservices.traefik.io");
  controller::ManagerOptions options;
  if (!flag.empty()) options.router.traefikApiGroup = flag;
  env.startController(options);
  applyServices(env.cluster);
  // As Argo Rollouts' documentation has it: no weights, which the controller sets; and a service of the
  // user's beside them.
  const json user =
      json::parse(R"({"kind": "TraefikService", "metadata": {"name": "web-wrr", "namespace": "default"},
    "spec": {"weighted": {"services": [{"name": "web-stable", "port": 80}, {"name": "web-canary", "port": 80},
                                       {"name": "web-legacy", "port": 80, "weight": 1}]}}})");
  for (const char* g : {"traefik.containo.us", "traefik.io"}) {
    json object = user;
    object["apiVersion"] = std::string(g) + "/v1alpha1";
    // The group not watched holds the same TraefikService at other weights: it is not touched.
    if (g != group) object["spec"]["weighted"]["services"][0]["weight"] = 7;
    env.cluster.apply(std::string(g) + ".json", object);
  }
  auto weights = [&] {
    const json services = get(env, traefikServices, "web-wrr")["spec"]["weighted"]["services"];
    return std::pair{backendWeight(services, "name", "web-canary"),
                     backendWeight(services, "name", "web-stable")};
  };
  stepThrough(env, json::parse(R"({"traefik": {"weightedTraefikServiceName": "web-wrr"}})"), weights);
  const json live = get(env, traefikServices, "web-wrr");
  CHECK(live["spec"]["weighted"]["services"][2] == user["spec"]["weighted"]["services"][2]);
  CHECK_FALSE(live["metadata"].contains("ownerReferences"));
  const std::string other = group == "traefik.io" ? "traefik.containo.us" : "traefik.io";
  const json untouched =
      get(env, {other, "v1alpha1", "traefikservices", true, "TraefikService"}, "web-wrr")["spec"];
  CHECK(untouched["weighted"]["services"][0]["weight"] == 7);
  CHECK_FALSE(untouched["weighted"]["services"][1].contains("weight"));
}

TEST_CASE(
    "trafficRouting.ambassador on Ambassador's CRD as a fixture (no Ambassador): the canary Mapping made "
    "from the user's carries each step's weight and is deleted once the canary has none",
    "[controller][e2e][traffic][ambassador]") {
  ControllerEnv env(std::chrono::milliseconds(500));
  startRouted(env, "ambassador.yaml", "mappings.getambassador.io");
  const json base = json::parse(R"({"apiVersion": "getambassador.io/v2", "kind": "Mapping",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"prefix": "/web/", "rewrite": "/", "service": "web-stable:80"}})");
  env.cluster.apply("mapping.json", base);
  // The canary Mapping's weight, and the stable share Ambassador leaves the base; (0, 100) without one.
  json atTwenty;  // the canary Mapping at the first step
  auto weights = [&] {
    auto canary = env.client->get(kMappings, "default", "web-canary");
    if (!canary) return std::pair{0, 100};
    const int weight = (*canary)["spec"].value("weight", -1);
    if (weight == 20) atTwenty = *canary;
    return std::pair{weight, 100 - weight};
  };
  stepThrough(env, json::parse(R"({"ambassador": {"mappings": ["web"]}})"), weights);
  // A copy of the user's Mapping sending to the canary Service, owned by the Rollout.
  CHECK(atTwenty.value("spec", json()) ==
        json::parse(R"({"prefix": "/web/", "rewrite": "/", "service": "web-canary:80", "weight": 20})"));
  CHECK(atTwenty.value(json::json_pointer("/metadata/ownerReferences/0/name"), std::string()) == "web");
  CHECK(settleTo([&] { return env.client->get(kMappings, "default", "web-canary").ok(); }, false) == false);
  // The user's Mapping keeps its spec; only the hashes in force are annotated on it.
  const json live = get(env, kMappings, "web");
  CHECK(live["spec"] == base["spec"]);
  CHECK(live["metadata"]["annotations"].contains("sluice.dev/stable-hash"));
}

TEST_CASE(
    "trafficRouting.apisix on APISIX's CRD as a fixture (no APISIX): the user's ApisixRoute's backends "
    "carry each step's weight",
    "[controller][e2e][traffic][apisix]") {
  const kube::ResourceRef apisixRoutes{"apisix.apache.org", "v2", "apisixroutes", true, "ApisixRoute"};
  ControllerEnv env(std::chrono::milliseconds(500));
  startRouted(env, "apisix.yaml", "apisixroutes.apisix.apache.org");
  // As Argo Rollouts' example has it: no weights, which the controller sets.
  const json user = json::parse(R"({"apiVersion": "apisix.apache.org/v2", "kind": "ApisixRoute",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"ingressClassName": "apisix", "http": [{"name": "web", "match": {"paths": ["/*"]},
      "backends": [{"serviceName": "web-stable", "servicePort": 80}, {"serviceName": "web-canary", "servicePort": 80}]}]}})");
  env.cluster.apply("route.json", user);
  auto weights = [&] {
    const json backends = get(env, apisixRoutes, "web")["spec"]["http"][0]["backends"];
    return std::pair{backendWeight(backends, "serviceName", "web-canary"),
                     backendWeight(backends, "serviceName", "web-stable")};
  };
  stepThrough(env, json::parse(R"({"apisix": {"route": {"name": "web"}}})"), weights);
  const json live = get(env, apisixRoutes, "web");
  CHECK(live["spec"]["http"][0]["match"] == user["spec"]["http"][0]["match"]);
  CHECK(live["spec"]["ingressClassName"] == "apisix");
  CHECK_FALSE(live["metadata"].contains("ownerReferences"));
}

TEST_CASE(
    "trafficRouting.apisix header routes on APISIX's CRD as a fixture: the step's ApisixRoute sends the "
    "matching requests to the canary and is deleted when the rollout completes",
    "[controller][e2e][traffic][apisix]") {
  const kube::ResourceRef apisixRoutes{"apisix.apache.org", "v2", "apisixroutes", true, "ApisixRoute"};
  ControllerEnv env(std::chrono::milliseconds(500));
  startRouted(env, "apisix.yaml", "apisixroutes.apisix.apache.org");
  env.cluster.apply("route.json", json::parse(R"({"apiVersion": "apisix.apache.org/v2", "kind": "ApisixRoute",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"http": [{"name": "primary", "match": {"paths": ["/*"]}, "backends": [
      {"serviceName": "web-stable", "servicePort": 80}, {"serviceName": "web-canary", "servicePort": 80}]}]}})"));
  auto rolloutAt = [](const std::string& image) {
    json r = routedRollout(image, json::parse(R"({"apisix": {"route": {"name": "web", "rules": ["primary"]}},
                                                  "managedRoutes": [{"name": "web-beta"}]})"));
    r["spec"]["strategy"]["canary"]["steps"] = json::parse(R"([
      {"setHeaderRoute": {"name": "web-beta", "match": [{"headerName": "x-beta", "headerValue": {"exact": "yes"}}]}},
      {"pause": {}}, {"setWeight": 50}])");
    return r;
  };
  env.cluster.apply("v1.json", rolloutAt("registry.example/web:v1"));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  env.cluster.apply("v2.json", rolloutAt("registry.example/web:v2"));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  const json beta = get(env, apisixRoutes, "web-beta");
  CHECK(beta["spec"]["http"][0]["backends"] ==
        json::parse(R"([{"serviceName": "web-canary", "servicePort": 80, "weight": 100}])"));
  CHECK(beta["spec"]["http"][0]["match"]["exprs"][0]["value"] == "yes");
  CHECK(beta["metadata"]["ownerReferences"][0]["name"] == "web");
  REQUIRE(env.cluster.plugin("promote web").exitCode == 0);
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  CHECK(settleTo([&] { return env.client->get(apisixRoutes, "default", "web-beta").ok(); }, false) == false);
}

TEST_CASE(
    "the Gateway API plugin's router, on Gateway API's CRD as a fixture (no gateway): the HTTPRoute's "
    "backendRefs carry each step's weight",
    "[controller][e2e][traffic][gatewayapi]") {
  ControllerEnv env(std::chrono::milliseconds(500));
  startRouted(env, "gateway-api.yaml", "httproutes");
  env.cluster.apply("route.json", json::parse(R"({"apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "HTTPRoute", "metadata": {"name": "web", "namespace": "default"},
    "spec": {"parentRefs": [{"name": "shop-gateway"}], "hostnames": ["web.example"], "rules": [
      {"backendRefs": [{"name": "web-stable", "port": 80, "weight": 100},
                       {"name": "web-canary", "port": 80, "weight": 0}]}]}})"));
  auto weights = [&] {
    const json backends = get(env, kMeshHttpRoutes, "web")["spec"]["rules"][0]["backendRefs"];
    return std::pair{backendWeight(backends, "name", "web-canary"),
                     backendWeight(backends, "name", "web-stable")};
  };
  stepThrough(env, json::parse(R"({"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web"}}})"),
              weights);
  // The user's route otherwise as it was.
  const json route = get(env, kMeshHttpRoutes, "web");
  CHECK(route["spec"]["parentRefs"][0]["name"] == "shop-gateway");
  CHECK(route["spec"]["hostnames"][0] == "web.example");
}

TEST_CASE(
    "sluice controller --traffic-split-api-version v1alpha2: the process writes the TrafficSplit at "
    "v1alpha2, "
    "its weights integers",
    "[controller][e2e][traffic][smi]") {
  ControllerEnv env(std::chrono::milliseconds(500));
  env.cluster.installMeshCrds("smi.yaml", "trafficsplits");
  applyServices(env.cluster);
  ChildProcess controller(
      {SLUICE_BINARY, "controller", "--leader-elect=false", "--kubeconfig",
       env.cluster.server().kubeconfigPath().string(), "--metrics-addr", "127.0.0.1:0", "--health-addr",
       "127.0.0.1:0", "--webhook-addr", "127.0.0.1:0", "--traffic-split-api-version", "v1alpha2"},
      env.cluster.dir().path() / "controller.log");
  const json routing = json::parse(R"({"smi": {}})");
  env.cluster.apply("v1.json", routedRollout("registry.example/web:v1", routing));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  env.cluster.apply("v2.json", routedRollout("registry.example/web:v2", routing));
  INFO(controller.log());
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  // Integers: not the quantity strings of the default, v1alpha1.
  const kube::ResourceRef v1alpha2{"split.smi-spec.io", "v1alpha2", "trafficsplits", true, "TrafficSplit"};
  const json backends = get(env, v1alpha2, "web")["spec"]["backends"];
  CHECK(backends == json::parse(R"([{"service": "web-canary", "weight": 20},
                                    {"service": "web-stable", "weight": 80}])"));
}

TEST_CASE(
    "trafficRouting.istio with canary.pingPong: the VirtualService's weights go to the ping or the pong host "
    "as they swap roles at each promotion (Istio's CRDs as fixtures, no mesh)",
    "[controller][e2e][traffic][istio][pingpong]") {
  ControllerEnv env(std::chrono::milliseconds(500));
  installIstioCrds(env.cluster);
  env.startController();
  for (const char* name : {"web-ping", "web-pong"}) {
    env.cluster.apply(std::string(name) + ".json",
                      {{"apiVersion", "v1"},
                       {"kind", "Service"},
                       {"metadata", {{"name", name}, {"namespace", "default"}}},
                       {"spec", {{"selector", {{"app", "web"}}}, {"ports", json::array({{{"port", 80}}})}}}});
  }
  env.cluster.apply("vs.json", json::parse(R"({"apiVersion": "networking.istio.io/v1beta1",
    "kind": "VirtualService", "metadata": {"name": "web", "namespace": "default"},
    "spec": {"hosts": ["web.example"], "http": [{"name": "primary", "route": [
        {"destination": {"host": "web-ping"}, "weight": 100},
        {"destination": {"host": "web-pong"}, "weight": 0}]}]}})"));
  auto rollout = [](const std::string& image) {
    json r =
        routedRollout(image, {{"istio", {{"virtualService", {{"name", "web"}, {"routes", {"primary"}}}}}}});
    json& canary = r["spec"]["strategy"]["canary"];
    canary.erase("canaryService");
    canary.erase("stableService");
    canary["pingPong"] = {{"pingService", "web-ping"}, {"pongService", "web-pong"}};
    return r;
  };
  // "<host>=<weight> ..." in the route's order.
  auto weights = [&] {
    std::string out;
    const json vs = get(env, kMeshVirtualServices, "web");
    for (const auto& d : vs["spec"]["http"][0]["route"]) {
      if (!out.empty()) out += " ";
      out += d["destination"]["host"].get<std::string>() + "=" + std::to_string(d.value("weight", 0));
    }
    return out;
  };
  env.cluster.apply("v1.json", rollout("registry.example/web:v1"));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  env.cluster.apply("v2.json", rollout("registry.example/web:v2"));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  CHECK(weights() == "web-ping=80 web-pong=20");
  REQUIRE(env.cluster.plugin("promote --full web").exitCode == 0);
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  CHECK(env.rollout("web").value(json::json_pointer("/status/canary/stablePingPong"), std::string()) ==
        "pong");
  CHECK(settleTo(weights, std::string("web-ping=0 web-pong=100")) == "web-ping=0 web-pong=100");
  // The next revision goes out behind the ping host.
  env.cluster.apply("v3.json", rollout("registry.example/web:v3"));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  CHECK(weights() == "web-ping=20 web-pong=80");
}

namespace {

// The condition of `type` on a Rollout's status, or null.
json rolloutCondition(const json& rollout, const std::string& type) {
  for (const auto& c : rollout.value(json::json_pointer("/status/conditions"), json::array()))
    if (c.value("type", "") == type) return c;
  return nullptr;
}

}  // namespace

TEST_CASE(
    "a Rollout whose ambassador Mapping does not exist shows TrafficRoutingError on its status and an event "
    "naming the Mapping and makes nothing: once the Mapping is created the error clears and it rolls out",
    "[controller][e2e][traffic][ambassador][trafficerror]") {
  ControllerEnv env(std::chrono::milliseconds(500));
  startRouted(env, "ambassador.yaml", "mappings.getambassador.io");
  const json routing = json::parse(R"({"ambassador": {"mappings": ["web"]}})");
  env.cluster.apply("v1.json", routedRollout("registry.example/web:v1", routing));

  // Seen by `kubectl get`, `kubectl sluice get` and `status`: the condition, the phase and the message.
  REQUIRE(env.waitRollout(
      "web", [](const json& r) { return !rolloutCondition(r, "TrafficRoutingError").is_null(); }));
  const json failing = env.rollout("web");
  const json condition = rolloutCondition(failing, "TrafficRoutingError");
  CHECK(condition["status"] == "True");
  CHECK(condition["reason"] == "TrafficRoutingError");
  CHECK(condition["message"] == "Mapping `web` not found");
  CHECK(failing["status"]["phase"] == "Progressing");
  CHECK(failing["status"]["message"] == "TrafficRoutingError: Mapping `web` not found");
  CHECK(failing["status"]["observedGeneration"] ==
        std::to_string(failing["metadata"]["generation"].get<int>()));
  const auto shown = env.cluster.plugin("get rollout web");
  CHECK(shown.output.find("TrafficRoutingError: Mapping `web` not found") != std::string::npos);
  const auto status = env.cluster.plugin("status web --watch --timeout 1s");
  CHECK(status.exitCode == 2);  // still progressing when the wait ends: neither Healthy nor Degraded
  CHECK(status.output.find("Mapping `web` not found") != std::string::npos);
  // The Warning event, once, however many times the reconcile is retried.
  auto trafficEvents = [&] {
    auto all = env.client->listAll(kube::ResourceRef{"", "v1", "events", true, "Event"}, "default");
    REQUIRE(all.ok());
    json found = json::array();
    for (const auto& e : (*all)["items"])
      if (e.value("reason", "") == "TrafficRoutingError" && e["involvedObject"].value("name", "") == "web")
        found.push_back(e);
    return found;
  };
  REQUIRE(waitUntil([&] { return !trafficEvents().empty(); }, std::chrono::seconds(10)));
  const json events = trafficEvents();
  CHECK(events.size() == 1);
  CHECK(events[0]["type"] == "Warning");
  CHECK(events[0]["message"] == "Mapping `web` not found");
  CHECK(events[0].value("count", 1) == 1);
  // Nothing was decided on a world the controller could not read: no ReplicaSet, no Mapping.
  kube::ListOptions selectWeb;
  selectWeb.labelSelector = "app=web";
  auto replicaSets = env.client->list(kReplicaSets, "default", selectWeb);
  REQUIRE(replicaSets.ok());
  CHECK((*replicaSets)["items"].empty());
  CHECK_FALSE(env.client->get(kMappings, "default", "web-canary").ok());

  // The Mapping arrives: the next retry gets through, the condition goes, and the rollout goes on.
  env.cluster.apply("mapping.json", json::parse(R"({"apiVersion": "getambassador.io/v2", "kind": "Mapping",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"prefix": "/web/", "service": "web-stable:80"}})"));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  CHECK(rolloutCondition(env.rollout("web"), "TrafficRoutingError").is_null());
  CHECK(env.rollout("web")["status"].value("message", "") == "");
  env.cluster.apply("v2.json", routedRollout("registry.example/web:v2", routing));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  CHECK(get(env, kMappings, "web-canary")["spec"].value("weight", -1) == 20);
}

TEST_CASE(
    "a workloadRef Rollout whose ambassador Mapping does not exist: kubectl sluice status shows the "
    "TrafficRoutingError as soon as the controller wrote it",
    "[controller][e2e][traffic][ambassador][trafficerror]") {
  ControllerEnv env(std::chrono::milliseconds(500));
  startRouted(env, "ambassador.yaml", "mappings.getambassador.io");
  json deployment = webRollout("registry.example/web:v1", 2, json::array());
  deployment["apiVersion"] = "apps/v1";
  deployment["kind"] = "Deployment";
  deployment["spec"].erase("strategy");
  env.cluster.apply("deployment.json", deployment);
  json rollout = routedRollout("unused", json::parse(R"({"ambassador": {"mappings": ["web"]}})"));
  rollout["spec"].erase("template");
  rollout["spec"].erase("selector");
  rollout["spec"]["workloadRef"] = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}};
  env.cluster.apply("rollout.json", rollout);
  REQUIRE(env.waitRollout(
      "web", [](const json& r) { return !rolloutCondition(r, "TrafficRoutingError").is_null(); }));
  // The status speaks of this spec and of this Deployment: `status` believes it.
  const auto status = env.cluster.plugin("status web --watch --timeout 1s");
  CHECK(status.exitCode == 2);
  CHECK(status.output.find("Progressing - TrafficRoutingError: Mapping `web` not found") !=
        std::string::npos);
}

TEST_CASE(
    "an experiment step's weighted templates get their share through Istio by host or through SMI (CRDs as "
    "fixtures, no mesh) while the Experiment runs, then the stable has it back",
    "[controller][e2e][traffic][experiment]") {
  const std::string router = GENERATE(as<std::string>(), "istio", "smi");
  CAPTURE(router);
  const kube::ResourceRef trafficSplits{"split.smi-spec.io", "v1alpha1", "trafficsplits", true,
                                        "TrafficSplit"};
  const kube::ResourceRef services{"", "v1", "services", true, "Service"};
  ControllerEnv env(std::chrono::milliseconds(500));
  json routing = json::parse(R"({"smi": {}})");
  if (router == "istio") {
    startRouted(env, "istio.yaml", "virtualservices,destinationrules");
    env.cluster.apply("vs.json", hostVirtualService());
    routing = json::parse(R"({"istio": {"virtualServices": [{"name": "web", "routes": ["primary"]}]}})");
  } else {
    startRouted(env, "smi.yaml", "trafficsplits");
  }
  const auto rolloutOf = [&](const std::string& image) {
    json r = routedRollout(image, routing);
    // The templates' Services are made on the containers' ports.
    r["spec"]["template"]["spec"]["containers"][0]["ports"] = {{{"name", "http"}, {"containerPort", 8080}}};
    r["spec"]["strategy"]["canary"]["steps"] = json::parse(R"([{"setWeight": 20}, {"experiment": {
        "duration": "5s", "templates": [{"name": "baseline", "specRef": "stable", "weight": 10},
                                        {"name": "canary", "specRef": "canary", "weight": 15}]}},
      {"pause": {}}])");
    return r;
  };
  // Each destination's weight by Service, as the router's object has it.
  const auto shares = [&] {
    std::map<std::string, int> out;
    if (router == "istio") {
      const json route = get(env, kMeshVirtualServices, "web")["spec"]["http"][0]["route"];
      for (const auto& d : route) out[d["destination"].value("host", "")] = d.value("weight", 0);
    } else {
      const json backends = get(env, trafficSplits, "web")["spec"]["backends"];
      for (const auto& b : backends) out[b.value("service", "")] = std::stoi(b.value("weight", "-1"));
    }
    return out;
  };
  env.cluster.apply("v1.json", rolloutOf("registry.example/web:v1"));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  env.cluster.apply("v2.json", rolloutOf("registry.example/web:v2"));
  std::string experiment;
  REQUIRE(env.waitRollout("web", [&](const json& r) {
    experiment = r["status"]["canary"].value("currentExperiment", "");
    return !experiment.empty();
  }));
  const std::string baseline = experiment + "-baseline";
  const std::string canary = experiment + "-canary";
  const std::map<std::string, int> during = {
      {"web-canary", 20}, {"web-stable", 55}, {baseline, 10}, {canary, 15}};
  CHECK(settleTo(shares, during) == during);
  // The templates' Services select their pods, and the Rollout's status lists their shares as Argo's does.
  // (The status is written after the router's object, in the same pass.)
  const auto additionalOf = [](const json& r) {
    return r.value(json::json_pointer("/status/canary/weights/additional"), json::array());
  };
  REQUIRE(env.waitRollout("web", [&](const json& r) { return additionalOf(r).size() == 2; }));
  const json rollout = env.rollout("web");
  const json additional = additionalOf(rollout);
  CHECK(additional[0]["serviceName"] == baseline);
  CHECK(additional[0]["weight"] == 10);
  CHECK(additional[0]["podTemplateHash"] == rollout["status"]["stableRS"]);
  CHECK(additional[1]["serviceName"] == canary);
  CHECK(additional[1]["podTemplateHash"] == rollout["status"]["currentPodHash"]);
  CHECK(get(env, services, canary)["spec"]["selector"]["sluice.dev/pod-template-hash"] ==
        rollout["status"]["currentPodHash"]);

  // Its duration over: the step is done, the Services have no share left and go with the pods.
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 2; }));
  const std::map<std::string, int> after = {{"web-canary", 20}, {"web-stable", 80}};
  CHECK(settleTo(shares, after) == after);
  CHECK(additionalOf(env.rollout("web")).empty());
}
