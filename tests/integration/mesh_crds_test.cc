// The Istio, SMI, Gateway API, Traefik, Ambassador, APISIX and App Mesh CRD fixtures (tests/data/mesh-crds/)
// with the real kubectl against our API server: each installs, a valid object of each kind and version is
// stored, and a misspelled field, a wrong type, an unsupported enum value or an out-of-range number is
// refused with the field path named.
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/kubectl_env.h"

using nlohmann::json;
using sluice::testing::KubectlEnv;
using sluice::testing::shellQuote;

namespace {

struct Fixture {
  const char* file;
  const char* resources;  // what `kubectl get` serves once the fixture is installed
};

const std::vector<Fixture> kFixtures = {
    {"istio.yaml",
     "virtualservices.networking.istio.io,destinationrules.networking.istio.io,gateways.networking.istio.io"},
    {"smi.yaml", "trafficsplits.split.smi-spec.io"},
    {"gateway-api.yaml",
     "gatewayclasses.gateway.networking.k8s.io,gateways.gateway.networking.k8s.io,"
     "httproutes.gateway.networking.k8s.io"},
    {"traefik.yaml", "traefikservices.traefik.containo.us,traefikservices.traefik.io"},
    {"ambassador.yaml", "mappings.getambassador.io"},
    {"apisix.yaml", "apisixroutes.apisix.apache.org"},
    {"appmesh.yaml",
     "virtualservices.appmesh.k8s.aws,virtualrouters.appmesh.k8s.aws,virtualnodes.appmesh.k8s.aws,"
     "meshes.appmesh.k8s.aws"},
};

// Applies every fixture and waits until its kinds are served.
void installFixtures(const KubectlEnv& cluster) {
  for (const auto& f : kFixtures) {
    INFO(f.file);
    cluster.ok("apply -f " + shellQuote(std::string(SLUICE_SOURCE_DIR) + "/tests/data/mesh-crds/" + f.file));
    bool served = false;
    for (int i = 0; i < 50 && !served; ++i) {
      served = cluster.kubectl("get " + std::string(f.resources)).exitCode == 0;
      if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(served);
  }
}

// A valid object of each kind and served version, as its API's documentation shows them; in this order.
enum Example : size_t {
  kVirtualService,
  kVirtualServiceV1alpha3,
  kDestinationRule,
  kDestinationRuleV1alpha3,
  kTrafficSplitV1alpha1,
  kTrafficSplitV1alpha2,
  kTrafficSplitV1alpha3,
  kGatewayClass,
  kGateway,
  kHttpRoute,
  kHttpRouteV1beta1,
  kTraefikService,
  kTraefikServiceTraefikIo,
  kMapping,
  kMappingV3alpha1,
  kApisixRoute,
  kIstioGateway,
  kAppMeshMesh,
};
const std::vector<const char*> kValidObjects = {
    R"({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService", "metadata": {"name": "reviews"},
      "spec": {"hosts": ["reviews"], "gateways": ["mesh"], "http": [
        {"name": "canary", "match": [{"uri": {"prefix": "/v2"}, "headers": {"end-user": {"exact": "jason"}},
                                      "port": 9080, "ignoreUriCase": true}],
         "route": [{"destination": {"host": "reviews", "subset": "v1", "port": {"number": 9080}}, "weight": 90},
                   {"destination": {"host": "reviews", "subset": "v2"}, "weight": 10,
                    "headers": {"response": {"set": {"x-canary": "yes"}}}}],
         "mirror": {"host": "reviews-shadow"}, "mirrorPercentage": {"value": 12.5},
         "headers": {"request": {"add": {"x-from": "mesh"}, "remove": ["x-debug"]}},
         "timeout": "10s", "retries": {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx"},
         "fault": {"delay": {"percentage": {"value": 0.1}, "fixedDelay": "5s"}}}],
      "tls": [{"match": [{"port": 443, "sniHosts": ["reviews.example"]}],
               "route": [{"destination": {"host": "reviews"}, "weight": 100}]}],
      "tcp": [{"match": [{"port": 27017}], "route": [{"destination": {"host": "mongo", "port": {"number": 5555}}}]}]}})",
    R"({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService", "metadata": {"name": "old"},
      "spec": {"hosts": ["old"], "http": [{"route": [{"destination": {"host": "old"}}]}]}})",
    R"({"apiVersion": "networking.istio.io/v1beta1", "kind": "DestinationRule", "metadata": {"name": "reviews"},
      "spec": {"host": "reviews", "trafficPolicy": {"loadBalancer": {"simple": "LEAST_REQUEST"},
                                                    "tls": {"mode": "ISTIO_MUTUAL"}},
               "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                           {"name": "v2", "labels": {"version": "v2"},
                            "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 100}}}}]}})",
    R"({"apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule", "metadata": {"name": "old"},
      "spec": {"host": "old", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}})",
    R"({"apiVersion": "split.smi-spec.io/v1alpha1", "kind": "TrafficSplit", "metadata": {"name": "quantity"},
      "spec": {"service": "web", "backends": [{"service": "web-v1", "weight": "500m"},
                                              {"service": "web-v2", "weight": 1}]}})",
    R"({"apiVersion": "split.smi-spec.io/v1alpha2", "kind": "TrafficSplit", "metadata": {"name": "whole"},
      "spec": {"service": "web", "backends": [{"service": "web-v1", "weight": 80},
                                              {"service": "web-v2", "weight": 20}]}})",
    R"({"apiVersion": "split.smi-spec.io/v1alpha3", "kind": "TrafficSplit", "metadata": {"name": "matched"},
      "spec": {"service": "web", "matches": [{"kind": "HTTPRouteGroup", "name": "firefox-users"}],
               "backends": [{"service": "web-v2", "weight": 100}]}})",
    R"({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "shop"},
      "spec": {"controllerName": "example.net/gateway-controller", "description": "The shop's gateways"}})",
    R"({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "shop-gateway"},
      "spec": {"gatewayClassName": "shop", "listeners": [
        {"name": "http", "protocol": "HTTP", "port": 80, "allowedRoutes": {"namespaces": {"from": "All"}}},
        {"name": "https", "protocol": "HTTPS", "port": 443, "hostname": "*.shop.example",
         "tls": {"mode": "Terminate", "certificateRefs": [{"name": "shop-cert"}]}}]}})",
    R"({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "web"},
      "spec": {"parentRefs": [{"name": "shop-gateway", "sectionName": "http"}], "hostnames": ["web.shop.example"],
        "rules": [
          {"name": "beta", "matches": [{"path": {"type": "PathPrefix", "value": "/beta"},
                                        "headers": [{"name": "x-beta", "value": "1"}],
                                        "queryParams": [{"type": "Exact", "name": "beta", "value": "1"}],
                                        "method": "GET"}],
           "filters": [{"type": "RequestMirror",
                        "requestMirror": {"backendRef": {"name": "web-shadow", "port": 80}, "percent": 10}},
                       {"type": "RequestHeaderModifier",
                        "requestHeaderModifier": {"set": [{"name": "x-route", "value": "beta"}]}}],
           "backendRefs": [{"name": "web-canary", "port": 80, "weight": 1}]},
          {"backendRefs": [{"group": "", "kind": "Service", "name": "web-stable", "namespace": "default",
                            "port": 80, "weight": 90},
                           {"name": "web-canary", "port": 80, "weight": 10}],
           "timeouts": {"request": "10s"}}]}})",
    R"({"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "HTTPRoute", "metadata": {"name": "old"},
      "spec": {"parentRefs": [{"name": "shop-gateway"}], "rules": [{"backendRefs": [{"name": "old", "port": 80}]}]}})",
    R"({"apiVersion": "traefik.containo.us/v1alpha1", "kind": "TraefikService", "metadata": {"name": "wrr"},
      "spec": {"weighted": {"services": [{"name": "web-stable", "port": 80, "weight": 90},
                                         {"name": "web-canary", "port": "http", "weight": 10},
                                         {"name": "mirror", "kind": "TraefikService"}],
                            "sticky": {"cookie": {"name": "lb", "httpOnly": true}}}}})",
    R"({"apiVersion": "traefik.io/v1alpha1", "kind": "TraefikService", "metadata": {"name": "wrr"},
      "spec": {"weighted": {"services": [{"name": "web-stable", "port": 80}, {"name": "web-canary", "port": 80}]}}})",
    R"({"apiVersion": "getambassador.io/v2", "kind": "Mapping", "metadata": {"name": "web"},
      "spec": {"prefix": "/web/", "rewrite": "/", "service": "web-stable:80", "resolver": "endpoint",
               "timeout_ms": 3000}})",
    R"({"apiVersion": "getambassador.io/v3alpha1", "kind": "Mapping", "metadata": {"name": "web-v3"},
      "spec": {"hostname": "*", "prefix": "/web/", "service": "web-canary:80", "weight": 30}})",
    R"({"apiVersion": "apisix.apache.org/v2", "kind": "ApisixRoute", "metadata": {"name": "web"},
      "spec": {"ingressClassName": "apisix", "http": [
        {"name": "web", "match": {"paths": ["/*"], "methods": ["GET", "POST"], "hosts": ["web.example"]},
         "backends": [{"serviceName": "web-stable", "servicePort": 80, "weight": 90},
                      {"serviceName": "web-canary", "servicePort": "http", "weight": 10}]}]}})",
    R"({"apiVersion": "networking.istio.io/v1alpha3", "kind": "Gateway", "metadata": {"name": "web-gateway"},
      "spec": {"selector": {"istio": "ingressgateway"},
               "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]},
                           {"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["web.example"],
                            "tls": {"mode": "SIMPLE", "credentialName": "web-cert"}}]}})",
    R"({"apiVersion": "appmesh.k8s.aws/v1beta2", "kind": "Mesh", "metadata": {"name": "shop-mesh"},
      "spec": {"namespaceSelector": {"matchLabels": {"mesh": "shop-mesh"}}}})",
};

// `kubectl apply` of `object` (written to `file`), stdout and stderr together.
sluice::testing::CommandResult applyObject(const KubectlEnv& cluster, const std::string& file,
                                           const json& object) {
  return cluster.kubectl("apply -n default -f " + cluster.writeFile(file, object.dump()));
}

// Every field `declared` sets is in `actual` with that value (the server may add defaults beside them).
bool holds(const json& actual, const json& declared) {
  if (declared.is_array()) {
    if (!actual.is_array() || actual.size() != declared.size()) return false;
    for (size_t i = 0; i < declared.size(); ++i)
      if (!holds(actual[i], declared[i])) return false;
    return true;
  }
  if (!declared.is_object()) return actual == declared;
  if (!actual.is_object()) return false;
  for (const auto& [key, value] : declared.items())
    if (!actual.contains(key) || !holds(actual[key], value)) return false;
  return true;
}

struct Refusal {
  const char* what;
  const char* valid;                   // the object broken, from kValidObjects
  std::function<void(json&)> breakIt;  // the one change that makes it invalid
  std::vector<std::string> expected;   // in kubectl's output: the field path and the reason
};

// Renames `from` to `to` in the object `j`.
void rename(json& j, const std::string& from, const std::string& to) {
  j[to] = j[from];
  j.erase(from);
}

json& spec(json& j) { return j["spec"]; }

// `kubectl get` of the object's kind by KIND.GROUP and name: the object as stored, or the failure.
sluice::testing::CommandResult getObject(const KubectlEnv& cluster, const json& object, const char* output) {
  const std::string apiVersion = object["apiVersion"];
  return cluster.kubectl("get " + object["kind"].get<std::string>() + "." +
                         apiVersion.substr(0, apiVersion.find('/')) + " " +
                         shellQuote(object["metadata"]["name"]) + " -n default " + output);
}

}  // namespace

TEST_CASE("the mesh CRD fixtures install, and each kind and served version stores a documented example",
          "[integration][kubectl][mesh-crds]") {
  KubectlEnv cluster(std::chrono::milliseconds(500), false);
  installFixtures(cluster);
  const std::string crds = cluster.ok("get crd -o name");
  for (const char* crd :
       {"virtualservices.networking.istio.io", "destinationrules.networking.istio.io",
        "trafficsplits.split.smi-spec.io", "gatewayclasses.gateway.networking.k8s.io",
        "gateways.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io",
        "traefikservices.traefik.containo.us", "traefikservices.traefik.io", "mappings.getambassador.io",
        "apisixroutes.apisix.apache.org", "virtualservices.appmesh.k8s.aws", "virtualrouters.appmesh.k8s.aws",
        "virtualnodes.appmesh.k8s.aws", "gateways.networking.istio.io", "meshes.appmesh.k8s.aws"})
    CHECK_THAT(crds, Catch::Contains(std::string("customresourcedefinition.apiextensions.k8s.io/") + crd));

  for (size_t i = 0; i < kValidObjects.size(); ++i) {
    const json object = json::parse(kValidObjects[i]);
    const std::string kind = object["kind"];
    const std::string name = object["metadata"]["name"];
    INFO(object["apiVersion"].get<std::string>() << " " << kind << " " << name);
    auto r = applyObject(cluster, "valid-" + std::to_string(i) + ".json", object);
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    // Read back: every field as written.
    auto got = getObject(cluster, object, "-o json");
    REQUIRE(got.exitCode == 0);
    const json stored = json::parse(got.output);
    CHECK(holds(stored["spec"], object["spec"]));
  }
  CHECK(kValidObjects.size() == kAppMeshMesh + 1);
}

TEST_CASE("Gateway API's documented defaults are filled in on the HTTPRoute and Gateway fixtures",
          "[integration][kubectl][mesh-crds]") {
  KubectlEnv cluster(std::chrono::milliseconds(500), false);
  installFixtures(cluster);
  REQUIRE(applyObject(cluster, "route.json", json::parse(kValidObjects[kHttpRouteV1beta1])).exitCode == 0);
  const json route = cluster.getJson("httproutes.gateway.networking.k8s.io old -n default");
  // A bare parentRef is a Gateway, a bare backendRef a core Service of weight 1, a rule without matches
  // matches every path.
  CHECK(route["spec"]["parentRefs"][0] ==
        json::parse(R"({"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "shop-gateway"})"));
  CHECK(route["spec"]["rules"][0]["backendRefs"][0] ==
        json::parse(R"({"group": "", "kind": "Service", "name": "old", "port": 80, "weight": 1})"));
  CHECK(route["spec"]["rules"][0]["matches"] ==
        json::parse(R"([{"path": {"type": "PathPrefix", "value": "/"}}])"));

  REQUIRE(applyObject(cluster, "gateway.json", json::parse(kValidObjects[kGateway])).exitCode == 0);
  const json gateway = cluster.getJson("gateways.gateway.networking.k8s.io shop-gateway -n default");
  CHECK(gateway["spec"]["listeners"][1]["allowedRoutes"]["namespaces"]["from"] == "Same");
  CHECK(gateway["spec"]["listeners"][1]["tls"]["certificateRefs"][0]["kind"] == "Secret");
}

TEST_CASE(
    "the mesh CRD fixtures refuse a misspelled field, a wrong type, an unsupported value or a number out of "
    "range, naming the field path",
    "[integration][kubectl][mesh-crds]") {
  KubectlEnv cluster(std::chrono::milliseconds(500), false);
  installFixtures(cluster);
  const char* vs = kValidObjects[kVirtualService];
  const char* dr = kValidObjects[kDestinationRule];
  const char* tsQuantity = kValidObjects[kTrafficSplitV1alpha1];
  const char* tsWhole = kValidObjects[kTrafficSplitV1alpha2];
  const char* tsMatched = kValidObjects[kTrafficSplitV1alpha3];
  const char* gc = kValidObjects[kGatewayClass];
  const char* gw = kValidObjects[kGateway];
  const char* hr = kValidObjects[kHttpRoute];
  const char* wrr = kValidObjects[kTraefikService];
  const char* mapping = kValidObjects[kMapping];
  const char* apisixRoute = kValidObjects[kApisixRoute];
  const std::vector<Refusal> refusals = {
      // VirtualService
      {"misspelled route",
       vs,
       [](json& j) { rename(spec(j)["http"][0], "route", "rout"); },
       {"unknown field \"spec.http[0].rout\""}},
      {"misspelled tls match field",
       vs,
       [](json& j) { rename(spec(j)["tls"][0]["match"][0], "sniHosts", "sniHost"); },
       {"unknown field \"spec.tls[0].match[0].sniHost\""}},
      {"string weight",
       vs,
       [](json& j) { spec(j)["http"][0]["route"][0]["weight"] = "abc"; },
       {"spec.http[0].route[0].weight", "must be of type integer"}},
      {"negative weight",
       vs,
       [](json& j) { spec(j)["http"][0]["route"][1]["weight"] = -10; },
       {"spec.http[0].route[1].weight", "should be greater than or equal to 0"}},
      {"port as a string",
       vs,
       [](json& j) { spec(j)["tcp"][0]["match"][0]["port"] = "mongo"; },
       {"spec.tcp[0].match[0].port", "must be of type integer"}},
      {"mirrorPercentage as a string",
       vs,
       [](json& j) { spec(j)["http"][0]["mirrorPercentage"]["value"] = "12%"; },
       {"spec.http[0].mirrorPercentage.value", "must be of type number"}},
      {"route without destination",
       vs,
       [](json& j) { spec(j)["http"][0]["route"][0].erase("destination"); },
       {"spec.http[0].route[0].destination", "Required value"}},
      // DestinationRule
      {"misspelled subset labels",
       dr,
       [](json& j) { rename(spec(j)["subsets"][0], "labels", "label"); },
       {"unknown field \"spec.subsets[0].label\""}},
      {"label value not a string",
       dr,
       [](json& j) { spec(j)["subsets"][0]["labels"]["version"] = 1; },
       {"spec.subsets[0].labels[version]", "must be of type string"}},
      {"unsupported TLS mode",
       dr,
       [](json& j) { spec(j)["trafficPolicy"]["tls"]["mode"] = "MUTUAL_TLS"; },
       {"spec.trafficPolicy.tls.mode", "Unsupported value: \"MUTUAL_TLS\""}},
      // TrafficSplit
      {"v1alpha2 weight as a string",
       tsWhole,
       [](json& j) { spec(j)["backends"][0]["weight"] = "abc"; },
       {"spec.backends[0].weight", "must be of type integer"}},
      {"v1alpha2 weight as a quantity",
       tsWhole,
       [](json& j) { spec(j)["backends"][0]["weight"] = "500m"; },
       {"spec.backends[0].weight", "must be of type integer"}},
      {"v1alpha2 negative weight",
       tsWhole,
       [](json& j) { spec(j)["backends"][1]["weight"] = -1; },
       {"spec.backends[1].weight", "should be greater than or equal to 0"}},
      {"v1alpha1 weight not a quantity",
       tsQuantity,
       [](json& j) { spec(j)["backends"][0]["weight"] = "abc"; },
       {"spec.backends[0].weight"}},
      {"v1alpha2 has no matches",
       tsWhole,
       [](json& j) { spec(j)["matches"] = json::parse(R"([{"kind": "HTTPRouteGroup", "name": "x"}])"); },
       {"unknown field \"spec.matches\""}},
      {"v1alpha3 misspelled matches",
       tsMatched,
       [](json& j) { rename(spec(j), "matches", "match"); },
       {"unknown field \"spec.match\""}},
      {"backend without weight",
       tsWhole,
       [](json& j) { spec(j)["backends"][0].erase("weight"); },
       {"spec.backends[0].weight", "Required value"}},
      // GatewayClass
      {"misspelled parametersRef",
       gc,
       [](json& j) {
         spec(j)["parameterRef"] = json::parse(R"({"group": "", "kind": "ConfigMap", "name": "x"})");
       },
       {"unknown field \"spec.parameterRef\""}},
      {"controllerName without a path",
       gc,
       [](json& j) { spec(j)["controllerName"] = "gateway-controller"; },
       {"spec.controllerName", "should match"}},
      // Gateway
      {"misspelled allowedRoutes",
       gw,
       [](json& j) { rename(spec(j)["listeners"][0], "allowedRoutes", "allowedRoute"); },
       {"unknown field \"spec.listeners[0].allowedRoute\""}},
      {"port as a string",
       gw,
       [](json& j) { spec(j)["listeners"][0]["port"] = "http"; },
       {"spec.listeners[0].port", "must be of type integer"}},
      {"unsupported namespaces.from",
       gw,
       [](json& j) { spec(j)["listeners"][0]["allowedRoutes"]["namespaces"]["from"] = "Everywhere"; },
       {"spec.listeners[0].allowedRoutes.namespaces.from", "Unsupported value: \"Everywhere\""}},
      {"no listeners", gw, [](json& j) { spec(j).erase("listeners"); }, {"spec.listeners", "Required value"}},
      // HTTPRoute
      {"misspelled backendRefs",
       hr,
       [](json& j) { rename(spec(j)["rules"][1], "backendRefs", "backendRef"); },
       {"unknown field \"spec.rules[1].backendRef\""}},
      {"string weight",
       hr,
       [](json& j) { spec(j)["rules"][1]["backendRefs"][0]["weight"] = "abc"; },
       {"spec.rules[1].backendRefs[0].weight", "must be of type integer"}},
      {"weight above 1000000",
       hr,
       [](json& j) { spec(j)["rules"][1]["backendRefs"][0]["weight"] = 1000001; },
       {"spec.rules[1].backendRefs[0].weight", "should be less than or equal to 1000000"}},
      {"Ingress's path type",
       hr,
       [](json& j) { spec(j)["rules"][0]["matches"][0]["path"]["type"] = "Prefix"; },
       {"spec.rules[0].matches[0].path.type", "Unsupported value: \"Prefix\""}},
      {"unsupported method",
       hr,
       [](json& j) { spec(j)["rules"][0]["matches"][0]["method"] = "FETCH"; },
       {"spec.rules[0].matches[0].method", "Unsupported value: \"FETCH\""}},
      {"unsupported filter type",
       hr,
       [](json& j) { spec(j)["rules"][0]["filters"][0]["type"] = "Mirror"; },
       {"spec.rules[0].filters[0].type", "Unsupported value: \"Mirror\""}},
      {"mirror percent above 100",
       hr,
       [](json& j) { spec(j)["rules"][0]["filters"][0]["requestMirror"]["percent"] = 150; },
       {"spec.rules[0].filters[0].requestMirror.percent", "should be less than or equal to 100"}},
      {"port out of range",
       hr,
       [](json& j) { spec(j)["parentRefs"][0]["port"] = 70000; },
       {"spec.parentRefs[0].port", "should be less than or equal to 65535"}},
      {"hostname with a path",
       hr,
       [](json& j) { spec(j)["hostnames"][0] = "web.shop.example/path"; },
       {"spec.hostnames[0]", "should match"}},
      // TraefikService
      {"weight as a string",
       wrr,
       [](json& j) { spec(j)["weighted"]["services"][0]["weight"] = "90"; },
       {"spec.weighted.services[0].weight", "must be of type integer"}},
      {"service without a name",
       wrr,
       [](json& j) { spec(j)["weighted"]["services"][0].erase("name"); },
       {"spec.weighted.services[0].name", "Required value"}},
      // Mapping
      {"weight above 100",
       mapping,
       [](json& j) { spec(j)["weight"] = 101; },
       {"spec.weight", "should be less than or equal to 100"}},
      {"no service", mapping, [](json& j) { spec(j).erase("service"); }, {"spec.service", "Required value"}},
      // ApisixRoute
      {"weight as a string",
       apisixRoute,
       [](json& j) { spec(j)["http"][0]["backends"][0]["weight"] = "90"; },
       {"spec.http[0].backends[0].weight", "must be of type integer"}},
      {"backend without serviceName",
       apisixRoute,
       [](json& j) { spec(j)["http"][0]["backends"][0].erase("serviceName"); },
       {"spec.http[0].backends[0].serviceName", "Required value"}},
      // Istio's Gateway
      {"misspelled server field",
       kValidObjects[kIstioGateway],
       [](json& j) { rename(spec(j)["servers"][0], "hosts", "host"); },
       {"unknown field \"spec.servers[0].host\""}},
      {"port number as a string",
       kValidObjects[kIstioGateway],
       [](json& j) { spec(j)["servers"][0]["port"]["number"] = "eighty"; },
       {"spec.servers[0].port.number", "must be of type integer"}},
  };
  for (size_t i = 0; i < refusals.size(); ++i) {
    const Refusal& r = refusals[i];
    json object = json::parse(r.valid);
    r.breakIt(object);
    const std::string name = "refused-" + std::to_string(i);
    object["metadata"]["name"] = name;
    const std::string kind = object["kind"];
    INFO(kind << ": " << r.what << "\n" << object.dump());
    auto result = applyObject(cluster, name + ".json", object);
    INFO("kubectl apply:\n" << result.output);
    CHECK(result.exitCode != 0);
    for (const auto& e : r.expected) CHECK_THAT(result.output, Catch::Contains(e));
    // Nothing stored.
    CHECK(getObject(cluster, object, "").exitCode != 0);
  }
}
