// trafficRouting.alb and .appMesh end to end on the embedded API server (no AWS controller; App Mesh's kinds
// from the CRD fixture tests/data/mesh-crds/appmesh.yaml): the user's Ingress carries each step's weights in
// the forward action the AWS Load Balancer Controller reads, with canary.pingPong the ping and pong Services
// swap roles at each promotion, and the user's VirtualRouter weights the VirtualNodes, which select the
// revisions.
#include <catch2/catch.hpp>
#include <thread>

#include "controller_env.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

const kube::ResourceRef kAlbIngresses{"networking.k8s.io", "v1", "ingresses", true, "Ingress"};
const kube::ResourceRef kAlbServices{"", "v1", "services", true, "Service"};

void applyAlbServices(KubectlEnv& cluster, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const json service = {
        {"apiVersion", "v1"},
        {"kind", "Service"},
        {"metadata", {{"name", name}, {"namespace", "default"}}},
        {"spec", {{"selector", {{"app", "web"}}}, {"ports", json::array({{{"port", 80}}})}}}};
    cluster.apply(std::string(name) + ".json", service);
  }
}

// The Ingress as Argo Rollouts' documentation has users write it: its rule's backend is the action.
json albIngress(const std::string& action) {
  return json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
    "metadata": {"name": "web", "namespace": "default", "annotations": {"kubernetes.io/ingress.class": "alb"}},
    "spec": {"rules": [{"http": {"paths": [{"path": "/*", "pathType": "ImplementationSpecific",
      "backend": {"service": {"name": ")" +
                     action + R"(", "port": {"name": "use-annotation"}}}}]}}]}})");
}

json albRollout(const std::string& image, bool pingPong) {
  json r = webRollout(image, 4,
                      json::parse(R"([{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}])"));
  json& canary = r["spec"]["strategy"]["canary"];
  if (pingPong) {
    canary["pingPong"] = {{"pingService", "web-ping"}, {"pongService", "web-pong"}};
    canary["trafficRouting"] = {
        {"alb", {{"ingress", "web"}, {"servicePort", 80}, {"rootService", "web-root"}}}};
  } else {
    canary["canaryService"] = "web-canary";
    canary["stableService"] = "web-stable";
    canary["trafficRouting"] = {{"alb", {{"ingress", "web"}, {"servicePort", 80}}}};
  }
  canary["abortScaleDownDelaySeconds"] = 1;
  return r;
}

// The action's target groups as "<service>=<weight>", in order ("" while there is none).
std::string albTargetGroups(ControllerEnv& env, const std::string& action) {
  auto got = env.client->get(kAlbIngresses, "default", "web");
  REQUIRE(got.ok());
  const std::string text = got->value(json::json_pointer("/metadata/annotations"), json::object())
                               .value("alb.ingress.kubernetes.io/actions." + action, "");
  if (text.empty()) return "";
  std::string out;
  const json forward = json::parse(text);
  for (const auto& tg : forward["ForwardConfig"]["TargetGroups"]) {
    if (!out.empty()) out += " ";
    out += tg["ServiceName"].get<std::string>() + "=" + std::to_string(tg["Weight"].get<int>());
    CHECK(tg["ServicePort"] == "80");
  }
  return out;
}

std::string selectedHash(ControllerEnv& env, const std::string& service) {
  auto got = env.client->get(kAlbServices, "default", service);
  REQUIRE(got.ok());
  return got->value(json::json_pointer("/spec/selector"), json::object())
      .value("sluice.dev/pod-template-hash", "");
}

// Polls `read` until it equals `want` (every 50 ms, up to 20 s); returns the last value read.
template <typename Read>
std::string albSettleTo(Read read, const std::string& want) {
  std::string got = read();
  for (int i = 0; i < 400 && got != want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    got = read();
  }
  return got;
}

}  // namespace

TEST_CASE(
    "trafficRouting.alb: the user's Ingress carries each step's weights in the forward action the AWS Load "
    "Balancer Controller reads",
    "[controller][e2e][traffic][alb]") {
  ControllerEnv env(std::chrono::milliseconds(500));
  env.startController();
  applyAlbServices(env.cluster, {"web-stable", "web-canary"});
  env.cluster.apply("ingress.json", albIngress("web-stable"));
  auto groups = [&] { return albTargetGroups(env, "web-stable"); };
  env.cluster.apply("v1.json", albRollout("registry.example/web:v1", false));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  env.cluster.apply("v2.json", albRollout("registry.example/web:v2", false));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  CHECK(groups() == "web-canary=20 web-stable=80");
  REQUIRE(env.cluster.plugin("promote web").exitCode == 0);
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 3; }));
  CHECK(groups() == "web-canary=50 web-stable=50");
  REQUIRE(env.cluster.plugin("promote web").exitCode == 0);
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  CHECK(albSettleTo(groups, "web-canary=0 web-stable=100") == "web-canary=0 web-stable=100");
  // The user's rule is as it was: the Ingress is theirs.
  auto live = env.client->get(kAlbIngresses, "default", "web");
  REQUIRE(live.ok());
  CHECK((*live)["spec"] == albIngress("web-stable")["spec"]);
  CHECK_FALSE((*live)["metadata"].contains("ownerReferences"));
}

TEST_CASE(
    "trafficRouting.alb with canary.pingPong: each revision goes out behind the Service the stable one is "
    "not behind, which becomes the stable one at the promotion",
    "[controller][e2e][traffic][alb][pingpong]") {
  ControllerEnv env(std::chrono::milliseconds(500));
  env.startController();
  applyAlbServices(env.cluster, {"web-ping", "web-pong", "web-root"});
  env.cluster.apply("ingress.json", albIngress("web-root"));
  auto groups = [&] { return albTargetGroups(env, "web-root"); };
  auto stablePingPong = [&] {
    return env.rollout("web").value(json::json_pointer("/status/canary/stablePingPong"), std::string());
  };
  env.cluster.apply("v1.json", albRollout("registry.example/web:v1", true));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  CHECK(stablePingPong() == "ping");
  const std::string v1 = selectedHash(env, "web-ping");
  CHECK_FALSE(v1.empty());

  env.cluster.apply("v2.json", albRollout("registry.example/web:v2", true));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  CHECK(groups() == "web-pong=20 web-ping=80");
  const std::string v2 = selectedHash(env, "web-pong");
  CHECK(v2 != v1);
  CHECK(selectedHash(env, "web-ping") == v1);
  REQUIRE(env.cluster.plugin("promote web").exitCode == 0);
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 3; }));
  CHECK(groups() == "web-pong=50 web-ping=50");
  REQUIRE(env.cluster.plugin("promote web").exitCode == 0);
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  // The pong Service, selecting v2 all along, is the stable one now and carries all the traffic.
  CHECK(stablePingPong() == "pong");
  CHECK(albSettleTo(groups, "web-ping=0 web-pong=100") == "web-ping=0 web-pong=100");
  CHECK(selectedHash(env, "web-pong") == v2);

  // The next revision goes out behind the ping Service.
  env.cluster.apply("v3.json", albRollout("registry.example/web:v3", true));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  CHECK(groups() == "web-ping=20 web-pong=80");
  CHECK(selectedHash(env, "web-pong") == v2);
  CHECK(selectedHash(env, "web-ping") != v2);
}

TEST_CASE(
    "trafficRouting.appMesh on App Mesh's CRDs as fixtures (no App Mesh): the VirtualRouter behind the "
    "VirtualService carries each step's weights and the VirtualNodes select the revisions",
    "[controller][e2e][traffic][appmesh]") {
  const kube::ResourceRef routers{"appmesh.k8s.aws", "v1beta2", "virtualrouters", true, "VirtualRouter"};
  const kube::ResourceRef nodes{"appmesh.k8s.aws", "v1beta2", "virtualnodes", true, "VirtualNode"};
  ControllerEnv env(std::chrono::milliseconds(500));
  env.cluster.installMeshCrds(
      "appmesh.yaml",
      "virtualservices.appmesh.k8s.aws,virtualrouters.appmesh.k8s.aws,virtualnodes.appmesh.k8s.aws");
  env.startController();
  applyAlbServices(env.cluster, {"web-stable", "web-canary"});
  env.cluster.apply("vs.json",
                    json::parse(R"({"apiVersion": "appmesh.k8s.aws/v1beta2", "kind": "VirtualService",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"awsName": "web.default.svc.cluster.local",
             "provider": {"virtualRouter": {"virtualRouterRef": {"name": "web-router"}}}}})"));
  env.cluster.apply("vr.json",
                    json::parse(R"({"apiVersion": "appmesh.k8s.aws/v1beta2", "kind": "VirtualRouter",
    "metadata": {"name": "web-router", "namespace": "default"},
    "spec": {"listeners": [{"portMapping": {"port": 80, "protocol": "http"}}], "routes": [
      {"name": "primary", "httpRoute": {"match": {"prefix": "/"}, "action": {"weightedTargets": [
        {"virtualNodeRef": {"name": "web-canary-vn"}, "weight": 0},
        {"virtualNodeRef": {"name": "web-stable-vn"}, "weight": 100}]}}}]}})"));
  for (const char* node : {"web-canary-vn", "web-stable-vn"}) {
    env.cluster.apply(std::string(node) + ".json",
                      json::parse(R"({"apiVersion": "appmesh.k8s.aws/v1beta2", "kind": "VirtualNode",
      "metadata": {"name": ")" + std::string(node) +
                                  R"(", "namespace": "default"},
      "spec": {"podSelector": {"matchLabels": {"app": "web"}}}})"));
  }
  auto meshRollout = [](const std::string& image) {
    json r = albRollout(image, false);
    r["spec"]["strategy"]["canary"]["trafficRouting"] = json::parse(R"({"appMesh": {
      "virtualService": {"name": "web", "routes": ["primary"]},
      "virtualNodeGroup": {"canaryVirtualNodeRef": {"name": "web-canary-vn"},
                           "stableVirtualNodeRef": {"name": "web-stable-vn"}}}})");
    return r;
  };
  auto weights = [&] {
    auto got = env.client->get(routers, "default", "web-router");
    REQUIRE(got.ok());
    std::string out;
    for (const auto& t : (*got)["spec"]["routes"][0]["httpRoute"]["action"]["weightedTargets"])
      out += (out.empty() ? "" : " ") + t["virtualNodeRef"]["name"].get<std::string>() + "=" +
             std::to_string(t["weight"].get<int>());
    return out;
  };
  auto selected = [&](const std::string& node) {
    auto got = env.client->get(nodes, "default", node);
    REQUIRE(got.ok());
    return (*got)["spec"]["podSelector"]["matchLabels"].value("sluice.dev/pod-template-hash", std::string());
  };
  env.cluster.apply("v1.json", meshRollout("registry.example/web:v1"));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  const std::string v1 = env.rollout("web")["status"].value("stableRS", "");
  CHECK(albSettleTo([&] { return selected("web-stable-vn"); }, v1) == v1);
  env.cluster.apply("v2.json", meshRollout("registry.example/web:v2"));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  CHECK(weights() == "web-canary-vn=20 web-stable-vn=80");
  const std::string v2 = env.rollout("web")["status"].value("currentPodHash", "");
  CHECK(selected("web-canary-vn") == v2);
  CHECK(selected("web-stable-vn") == v1);
  REQUIRE(env.cluster.plugin("promote web").exitCode == 0);
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 3; }));
  CHECK(weights() == "web-canary-vn=50 web-stable-vn=50");
  REQUIRE(env.cluster.plugin("promote web").exitCode == 0);
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  CHECK(albSettleTo(weights, "web-canary-vn=0 web-stable-vn=100") == "web-canary-vn=0 web-stable-vn=100");
  CHECK(selected("web-stable-vn") == v2);
  CHECK(selected("web-canary-vn") == "canary-hash");
}
