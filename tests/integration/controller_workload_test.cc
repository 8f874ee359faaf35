// spec.workloadRef end to end: a Rollout that takes over a Deployment on the embedded API server. The
// controller reads the pod template from the Deployment (watched, so a Deployment that arrives late or
// changes wakes the Rollout), scales the Deployment down as scaleDown says, and runs each new template
// of the Deployment as a canary; kubectl sluice steers it as any Rollout.
#include <catch2/catch.hpp>

#include "controller_env.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

std::string messageOf(const json& r) { return r.value(json::json_pointer("/status/message"), std::string()); }

// The Deployment "web": the Rollout "web" of the other tests as an apps/v1 Deployment.
json workloadDeployment(const std::string& image, int replicas) {
  json d = webRollout(image, replicas, json::array());
  d["apiVersion"] = "apps/v1";
  d["kind"] = "Deployment";
  d["spec"].erase("strategy");
  return d;
}

// The Rollout "web" of 3 replicas on Deployment "web", with no selector or template of its own.
json workloadRollout(const std::string& scaleDown) {
  json r = webRollout("unused", 3, json::array({{{"setWeight", 34}}, {{"pause", json::object()}}}));
  r["spec"].erase("template");
  r["spec"].erase("selector");
  r["spec"]["workloadRef"] = {
      {"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}, {"scaleDown", scaleDown}};
  return r;
}

// The images of the Rollout's ReplicaSets (those with the Rollout's pod-template-hash label), by name.
std::map<std::string, std::string> rolloutReplicaSetImages(ControllerEnv& env) {
  std::map<std::string, std::string> out;
  const json list = env.cluster.getJson("rs -l sluice.dev/pod-template-hash");
  for (const auto& rs : list["items"])
    out[rs["metadata"]["name"]] = rs["spec"]["template"]["spec"]["containers"][0]["image"];
  return out;
}

// Waits until `done` holds for the Rollout "web"; on a timeout fails showing it and its Deployment.
template <typename Pred>
void requireRollout(ControllerEnv& env, Pred done) {
  const bool held = env.waitRollout("web", done);
  if (held) return;
  INFO("the Rollout: " << env.rollout("web").dump());
  INFO("the Deployment: " << env.cluster.getJson("deployment web").dump());
  INFO(env.cluster.ok("get rs --show-labels"));
  FAIL("the Rollout did not get there in time");
}

}  // namespace

TEST_CASE("a workloadRef Rollout takes over its Deployment: template, scale-down, updates and steering",
          "[controller][e2e][workload]") {
  ControllerEnv env(std::chrono::milliseconds(1000));
  env.startController();

  // The Rollout before its Deployment: InvalidSpec, saying what is missing.
  env.cluster.ok("apply -f " +
                 env.cluster.writeFile("rollout.json", workloadRollout("progressively").dump()));
  requireRollout(env, [](const json& r) {
    return phaseOf(r) == "Degraded" &&
           messageOf(r) ==
               "InvalidSpec: spec.workloadRef: Deployment \"web\" not found in namespace \"default\"";
  });

  // The Deployment arrives (its 3 pods serving): the Rollout wakes, runs the Deployment's template, and
  // the Deployment steps aside as the Rollout's pods become available.
  env.cluster.ok("apply -f " + env.cluster.writeFile(
                                   "deploy.json", workloadDeployment("registry.example/web:v1", 3).dump()));
  requireRollout(env, [](const json& r) { return phaseOf(r) == "Healthy"; });
  json deploy = env.cluster.getJson("deployment web");
  CHECK(deploy["spec"]["replicas"] == 0);
  json rollout = env.rollout("web");
  CHECK(rollout["status"]["workloadObservedGeneration"] ==
        std::to_string(deploy["metadata"]["generation"].get<int64_t>()));
  CHECK(rollout["status"]["selector"] == "app=web");
  CHECK(rollout["status"]["availableReplicas"] == 3);
  CHECK_FALSE(rollout["spec"].contains("template"));  // the controller wrote no template into the spec
  auto images = rolloutReplicaSetImages(env);
  REQUIRE(images.size() == 1);
  CHECK(images.begin()->second == "registry.example/web:v1");
  const std::string stableHash = rollout["status"]["stableRS"];

  // The image changes in the Deployment, as a GitOps tool or kubectl would: a canary of the new template,
  // paused at its indefinite pause, and the Deployment stays at 0. While no controller has seen the change,
  // kubectl sluice status does not take the Healthy status of the old template for the new one.
  env.stopController();
  env.cluster.ok("set image deployment/web web=registry.example/web:v2");
  auto stale = env.cluster.plugin("status web --watch=false");
  CHECK(stale.output == "Progressing - waiting for rollout spec update to be observed\n");
  env.startController();
  requireRollout(env, [&](const json& r) {
    return phaseOf(r) == "Paused" && r["status"].value("currentStepIndex", -1) == 1 &&
           r["status"].value("currentPodHash", "") != stableHash;
  });
  images = rolloutReplicaSetImages(env);
  CHECK(images.size() == 2);
  bool v2 = false;
  for (const auto& [name, image] : images) v2 = v2 || image == "registry.example/web:v2";
  CHECK(v2);
  CHECK(env.cluster.getJson("deployment web")["spec"]["replicas"] == 0);

  // kubectl sluice promotes it like any Rollout.
  auto promoted = env.cluster.plugin("promote web");
  INFO(promoted.output);
  REQUIRE(promoted.exitCode == 0);
  requireRollout(env, [&](const json& r) {
    return phaseOf(r) == "Healthy" && r["status"].value("stableRS", "") != stableHash;
  });
  CHECK(env.cluster.getJson("deployment web")["spec"]["replicas"] == 0);
  const std::string v2Hash = env.rollout("web")["status"]["stableRS"];

  // kubectl sluice set image and undo change the template where it is kept: in the Deployment.
  auto setImage = env.cluster.plugin("set image web web=registry.example/web:v3");
  INFO(setImage.output);
  REQUIRE(setImage.exitCode == 0);
  const json::json_pointer image("/spec/template/spec/containers/0/image");
  CHECK(env.cluster.getJson("deployment web")[image] == "registry.example/web:v3");
  requireRollout(env, [&](const json& r) {
    return phaseOf(r) == "Paused" && r["status"].value("currentPodHash", "") != v2Hash;
  });
  auto undo = env.cluster.plugin("undo web");
  INFO(undo.output);
  REQUIRE(undo.exitCode == 0);
  CHECK(env.cluster.getJson("deployment web")[image] == "registry.example/web:v2");
  // Back to the stable template: the steps are skipped, as for any Rollout.
  requireRollout(env, [&](const json& r) {
    return phaseOf(r) == "Healthy" && r["status"].value("currentPodHash", "") == v2Hash;
  });
  CHECK_FALSE(env.rollout("web")["spec"].contains("template"));
}
