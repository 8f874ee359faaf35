// A kubectl conformance environment: our API server started in-process on a free port with its own data
// directory, and the real kubectl run against it with its own KUBECONFIG and cache directory.
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "kube/apiserver/server.h"
#include "tests/support/process.h"

namespace sluice::testing {

// Shell-quotes one argument.
inline std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// The condition of `type` in an object's status.conditions; an empty object while there is none (also
// before the object has a status at all).
inline nlohmann::json conditionOf(const nlohmann::json& object, const std::string& type) {
  const auto status = object.find("status");
  if (status == object.end() || !status->is_object()) return nlohmann::json::object();
  for (const auto& c : status->value("conditions", nlohmann::json::array()))
    if (c.is_object() && c.value("type", "") == type) return c;
  return nlohmann::json::object();
}

// Fails the test unless the kubectl on PATH is 1.27 or newer (the first with the OpenAPI v3 field
// validation check the server relies on).
inline void requireKubectl() {
  auto v = runCommand("kubectl version --client -o json 2>/dev/null");
  INFO("kubectl version --client: " << v.output);
  REQUIRE(v.exitCode == 0);
  auto j = nlohmann::json::parse(v.output, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  std::string minor = j["clientVersion"].value("minor", "0");
  int m = std::atoi(minor.c_str());
  INFO("these tests need kubectl 1.27 or later; found " << j["clientVersion"].value("gitVersion", "?"));
  REQUIRE((j["clientVersion"].value("major", "0") == "1" && m >= 27));
}

class KubectlEnv {
 public:
  // `podReadyAfter`: the workload controllers' delay before a new pod is ready. Without
  // `workloadControllers`, Deployments and ReplicaSets keep the status a test writes and get no pods.
  // `dataPlane`: also run the simulated data plane, its /metrics on a free port
  // (server().trafficMetricsPort()).
  explicit KubectlEnv(std::chrono::milliseconds podReadyAfter = std::chrono::milliseconds(2000),
                      bool workloadControllers = true, bool dataPlane = false)
      : dir_("sluice-kubectl"),
        podReadyAfter_(podReadyAfter),
        workloadControllers_(workloadControllers),
        dataPlane_(dataPlane) {
    requireKubectl();
    start();
  }

  void start() {
    apiserver::ServerOptions options;
    options.dataDir = dir_ / "data";
    options.podReadyAfter = podReadyAfter_;
    options.workloadControllers = workloadControllers_;
    if (dataPlane_) options.trafficMetricsAddress = "127.0.0.1:0";
    auto s = apiserver::ApiServer::start(options);
    INFO((s ? std::string() : s.error()));
    REQUIRE(s.ok());
    server_ = std::move(s).value();
  }
  void restart() {
    stop();
    start();
  }
  // Stops the server (its data directory stays) until start().
  void stop() { server_.reset(); }

  apiserver::ApiServer& server() { return *server_; }
  const TempDir& dir() const { return dir_; }

  // The environment prefix every kubectl here runs with.
  std::string envPrefix() const {
    return "KUBECONFIG=" + shellQuote(server_->kubeconfigPath().string()) +
           " KUBECACHEDIR=" + shellQuote((dir_ / "cache").string()) +
           " HOME=" + shellQuote(dir_.path().string());
  }

  // Runs `kubectl ARGS` (ARGS already shell-quoted as needed); stdout and stderr together.
  CommandResult kubectl(const std::string& args) const {
    return runCommand(envPrefix() + " kubectl " + args + " 2>&1");
  }

  // Runs `kubectl sluice ARGS` through kubectl's plugin dispatch: the built sluice binary is on PATH as
  // kubectl-sluice (a symlink, as an installation makes it); stdout and stderr together.
  CommandResult plugin(const std::string& args) const {
    const auto bin = dir_ / "plugin-bin";
    if (!std::filesystem::exists(bin / "kubectl-sluice")) {
      std::filesystem::create_directories(bin);
      std::filesystem::create_symlink(SLUICE_BINARY, bin / "kubectl-sluice");
    }
    return runCommand(envPrefix() + " PATH=" + shellQuote(bin.string()) + ":\"$PATH\" kubectl sluice " +
                      args + " 2>&1");
  }

  // Runs kubectl and requires exit 0; returns its output.
  std::string ok(const std::string& args) const {
    auto r = kubectl(args);
    INFO("kubectl " << args << "\n" << r.output);
    REQUIRE(r.exitCode == 0);
    return r.output;
  }

  // `kubectl apply -f` of `obj`, written to `file` under the test's directory.
  void apply(const std::string& file, const nlohmann::json& obj) const {
    ok("apply -f " + writeFile(file, obj.dump()));
  }

  // Applies the fixture tests/data/mesh-crds/`file` (another project's CRDs, no controller behind them) and
  // waits until `resources` are served.
  void installMeshCrds(const std::string& file, const std::string& resources) const {
    ok("apply -f " + shellQuote(std::string(SLUICE_SOURCE_DIR) + "/tests/data/mesh-crds/" + file));
    REQUIRE(waitUntil([&] { return kubectl("get " + resources).exitCode == 0; }, std::chrono::seconds(10)));
  }

  // `kubectl patch WHAT --subresource=status` with a merge patch setting `status`; requires exit 0.
  void patchStatus(const std::string& what, const nlohmann::json& status) const {
    ok("patch " + what + " --subresource=status --type merge -p " +
       shellQuote(nlohmann::json{{"status", status}}.dump()));
  }

  // `kubectl get ARGS -o json`, parsed.
  nlohmann::json getJson(const std::string& args) const {
    auto r = runCommand(envPrefix() + " kubectl get " + args + " -o json 2>/dev/null");
    INFO("kubectl get " << args << " -o json\n" << r.output);
    REQUIRE(r.exitCode == 0);
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    return j;
  }

  // `kubectl create -f` of a ConfigMap with these literal data entries (a JSON body).
  void createConfigMap(const std::string& name, const std::map<std::string, std::string>& data,
                       const std::string& ns = "default") const {
    nlohmann::json cm = {
        {"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", data}};
    ok("create -n " + ns + " -f " + writeFile("cm-" + name + ".json", cm.dump()));
  }

  void createNamespace(const std::string& name) const {
    nlohmann::json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
    ok("create -f " + writeFile("ns-" + name + ".json", ns.dump()));
  }

  // Writes a file under the test's directory and returns its path.
  std::string writeFile(const std::string& name, const std::string& content) const {
    auto p = dir_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << content;
    return p.string();
  }

 private:
  TempDir dir_;
  std::chrono::milliseconds podReadyAfter_;
  bool workloadControllers_ = true;
  bool dataPlane_ = false;
  std::unique_ptr<apiserver::ApiServer> server_;
};

}  // namespace sluice::testing
