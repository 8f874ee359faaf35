// The embedded API server for client tests: started in-process on a free port in a temporary directory,
// with the ClientConfig its kubeconfig describes, and a restart on the same directory.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>

#include "kube/apiserver/server.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "tests/support/process.h"

namespace sluice::testing {

inline const kube::ResourceRef kConfigMaps{"", "v1", "configmaps", true, "ConfigMap"};
inline const kube::ResourceRef kDeployments{"apps", "v1", "deployments", true, "Deployment"};
inline const kube::ResourceRef kLeases{"coordination.k8s.io", "v1", "leases", true, "Lease"};
inline const kube::ResourceRef kEvents{"", "v1", "events", true, "Event"};

class KubeServer {
 public:
  // Unless `workloadControllers`, the client's tests see their own writes only: no workload controller
  // updates their Deployments.
  explicit KubeServer(apiserver::ServerOptions options = {}, bool workloadControllers = false)
      : dir_("sluice-kclient"), options_(options) {
    options_.dataDir = dir_ / "data";
    options_.workloadControllers = workloadControllers;
    start();
  }

  // Stops the server (open watches break) and starts it again on the same directory and port.
  void restart() {
    options_.port = server_->port();
    server_.reset();
    start();
  }
  void stop() {
    options_.port = server_->port();
    server_.reset();
  }
  void start() {
    auto s = apiserver::ApiServer::start(options_);
    INFO((s ? std::string() : s.error()));
    REQUIRE(s.ok());
    server_ = std::move(s).value();
  }

  // The connection its kubeconfig describes (server, CA, admin token).
  kube::ClientConfig config() const {
    kube::KubeconfigOptions o;
    o.kubeconfigFlag = server_->kubeconfigPath().string();
    auto c = kube::loadClientConfig(o);
    INFO((c ? std::string() : c.error()));
    REQUIRE(c.ok());
    return *c;
  }

  std::unique_ptr<kube::Client> client(kube::ClientOptions options = {}) const {
    auto c = kube::Client::create(config(), options);
    INFO((c ? std::string() : c.error()));
    REQUIRE(c.ok());
    return std::move(c).value();
  }

  apiserver::ApiServer& server() { return *server_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  apiserver::ServerOptions options_;
  std::unique_ptr<apiserver::ApiServer> server_;
};

}  // namespace sluice::testing
