// The controller's end-to-end environment: the embedded API server over HTTPS with the CRDs of crds/
// applied by the real kubectl, and the controller's manager running in-process against it with a client
// built from the server's kubeconfig, exactly as `sluice controller` builds it.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "analysis/providers/providers.h"
#include "controller/manager.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "kubectl_env.h"

namespace sluice::testing {

// The canary Rollout "web" in default that the controller tests run: `replicas` pods of `image` labelled
// app=web, stepping through `steps` (spec.strategy.canary.steps as JSON).
inline nlohmann::json webRollout(const std::string& image, int replicas, nlohmann::json steps) {
  nlohmann::json r = {
      {"apiVersion", "sluice.dev/v1alpha1"},
      {"kind", "Rollout"},
      {"metadata", {{"name", "web"}, {"namespace", "default"}}},
      {"spec",
       {{"replicas", replicas},
        {"selector", {{"matchLabels", {{"app", "web"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "web"}}}}},
          {"spec", {{"containers", nlohmann::json::array({{{"name", "web"}, {"image", image}}})}}}}},
        {"strategy", {{"canary", {{"steps", std::move(steps)}}}}}}},
  };
  return r;
}

// A Rollout's status.phase ("" before the controller wrote one) and status.currentStepIndex (-1).
inline std::string phaseOf(const nlohmann::json& r) {
  return r.value(nlohmann::json::json_pointer("/status/phase"), std::string());
}
inline int stepOf(const nlohmann::json& r) {
  return r.value(nlohmann::json::json_pointer("/status/currentStepIndex"), -1);
}

inline const kube::ResourceRef kReplicaSets{"apps", "v1", "replicasets", true, "ReplicaSet"};

class ControllerEnv {
 public:
  // `dataPlane`: the cluster also runs its simulated data plane (cluster.server().trafficMetricsPort()).
  explicit ControllerEnv(std::chrono::milliseconds podReadyAfter = std::chrono::milliseconds(1000),
                         bool dataPlane = false)
      : cluster(podReadyAfter, true, dataPlane) {
    cluster.ok("apply -k " + shellQuote(std::string(SLUICE_SOURCE_DIR) + "/crds"));
    // A CRD's resources are served as soon as it is stored; wait until discovery lists them.
    for (int i = 0; i < 50 && cluster.kubectl("get rollouts").exitCode != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    kube::KubeconfigOptions o;
    o.kubeconfigFlag = cluster.server().kubeconfigPath().string();
    auto config = kube::loadClientConfig(o);
    REQUIRE(config.ok());
    kube::ClientOptions options;
    options.userAgent = "sluice-controller";
    auto c = kube::Client::create(*config, options);
    REQUIRE(c.ok());
    client = std::move(*c);
    provider = analysis::makeProvider();
  }
  ~ControllerEnv() { stopController(); }

  void startController(controller::ManagerOptions options = {}) {
    options.leaderElect = false;
    manager = std::make_unique<controller::Manager>(*client, *provider, options);
    auto started = manager->start(std::chrono::seconds(30));
    INFO(started.error());
    REQUIRE(started.ok());
  }
  void stopController() {
    if (manager) manager->stop();
    manager.reset();
  }

  // The Rollout's JSON as the server has it now.
  nlohmann::json rollout(const std::string& name, const std::string& ns = "default") {
    kube::ResourceRef ref{"sluice.dev", "v1alpha1", "rollouts", true, "Rollout"};
    auto r = client->get(ref, ns, name);
    REQUIRE(r.ok());
    return *r;
  }

  // Polls until `done` holds for the Rollout (every 50 ms) or `timeout`; returns whether it held.
  template <typename Pred>
  bool waitRollout(const std::string& name, Pred done,
                   std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (done(rollout(name))) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  KubectlEnv cluster;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<analysis::Provider> provider;
  std::unique_ptr<controller::Manager> manager;
};

}  // namespace sluice::testing
