// What the benchmarks against the embedded cluster share: the canary Rollout they create, a client with no
// rate limit of its own, and the CRDs applied with the real kubectl.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/sqlite_baseline.h"
#include "controller/resources.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "tests/support/process.h"

namespace sluice::bench {

[[noreturn]] inline void benchFail(const std::string& why) {
  std::cerr << "bench: " << why << "\n";
  std::abort();
}

// A canary Rollout `name` in `ns`: `replicas` pods of `image` labelled app=<name>, stepping through
// `steps`.
inline nlohmann::json rollout(const std::string& name, const std::string& image, int replicas,
                              nlohmann::json steps, const std::string& ns = "default") {
  return {{"apiVersion", "sluice.dev/v1alpha1"},
          {"kind", "Rollout"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec", {{"containers", nlohmann::json::array({{{"name", "web"}, {"image", image}}})}}}}},
            {"strategy", {{"canary", {{"steps", std::move(steps)}}}}}}}};
}

inline std::unique_ptr<kube::Client> clientFor(const std::filesystem::path& kubeconfig) {
  kube::KubeconfigOptions o;
  o.kubeconfigFlag = kubeconfig.string();
  auto config = kube::loadClientConfig(o);
  if (!config) benchFail(config.error());
  kube::ClientOptions options;
  options.qps = 1e9;  // the bench's own requests are not what is measured
  options.burst = 1 << 30;
  auto c = kube::Client::create(*config, options);
  if (!c) benchFail(c.error());
  return std::move(c).value();
}

// The CRDs of crds/ applied with the real kubectl, and served (discovery lists them) before returning.
inline void applyCrds(const ScratchDir& dir, const std::filesystem::path& kubeconfig, kube::Client& client) {
  const std::string env = "KUBECONFIG=" + kubeconfig.string() +
                          " KUBECACHEDIR=" + (dir.path / "cache").string() + " HOME=" + dir.path.string();
  auto r = sluice::testing::runCommand(env + " kubectl apply -k " + SLUICE_SOURCE_DIR "/crds 2>&1");
  if (r.exitCode != 0) benchFail("kubectl apply -k crds: " + r.output);
  if (!sluice::testing::waitUntil([&] { return client.list(controller::rolloutsResource(), "default").ok(); },
                                  std::chrono::seconds(10)))
    benchFail("the Rollout CRD is not served");
}

}  // namespace sluice::bench
