// The GitOps reconcilers' Events, as a person reads them with `kubectl get events` or `sluice events`: a
// new commit is announced by the GitRepository (NewArtifact) and the Kustomization (its change set), a bad
// commit by a Warning counted on one Event however often it is retried, and an interval that changes
// nothing records nothing.
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "controller_env.h"
#include "tests/support/git_repo.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace gitops_events_test {

std::string deploymentYaml(const std::string& image) {
  return R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: )" +
         image + "\n";
}

std::string objects(const std::string& url) {
  return R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "GitRepository",
   "metadata": {"name": "apps", "namespace": "default"},
   "spec": {"url": ")" +
         url + R"(", "interval": "10m", "ref": {"branch": "main"}}}
{"apiVersion": "sluice.dev/v1alpha1", "kind": "Kustomization",
   "metadata": {"name": "web", "namespace": "default"},
   "spec": {"sourceRef": {"kind": "GitRepository", "name": "apps"}, "path": "./apps/web",
            "interval": "10m", "retryInterval": "1s", "prune": true, "targetNamespace": "default"}})";
}

// The Events about `kind`/`name` in default, by Event name.
std::map<std::string, json> eventsOf(KubectlEnv& cluster, const std::string& kind, const std::string& name) {
  std::map<std::string, json> out;
  const json list = cluster.getJson("events -n default");
  for (const auto& e : list["items"]) {
    if (e.value(json::json_pointer("/involvedObject/kind"), std::string()) == kind &&
        e.value(json::json_pointer("/involvedObject/name"), std::string()) == name)
      out[e["metadata"].value("name", "")] = e;
  }
  return out;
}

// The first Event about `kind`/`name` with `reason` whose message holds `text`, or null.
json findEvent(KubectlEnv& cluster, const std::string& kind, const std::string& name,
               const std::string& reason, const std::string& text) {
  for (const auto& [n, e] : eventsOf(cluster, kind, name)) {
    if (e.value("reason", "") == reason && e.value("message", "").find(text) != std::string::npos) return e;
  }
  return nullptr;
}

json waitEvent(KubectlEnv& cluster, const std::string& kind, const std::string& name,
               const std::string& reason, const std::string& text) {
  json found;
  waitUntil(
      [&] {
        found = findEvent(cluster, kind, name, reason, text);
        return !found.is_null();
      },
      std::chrono::seconds(60));
  return found;
}

// Asks `what` ("gitrepository apps") for a pass now and waits until its status says it ran.
void reconcileNow(KubectlEnv& cluster, const std::string& what, const std::string& token) {
  cluster.ok("annotate " + what + " --overwrite reconcile.sluice.dev/requestedAt=" + token);
  const bool handled =
      waitUntil([&] { return cluster.getJson(what)["status"].value("lastHandledReconcileAt", "") == token; },
                std::chrono::seconds(30));
  REQUIRE(handled);
}

}  // namespace gitops_events_test

using namespace gitops_events_test;

TEST_CASE(
    "GitOps Events: a new commit gives NewArtifact and the change set, a bad commit one counted BuildFailed "
    "Warning, a no-drift interval no Event, and sluice events --for lists them",
    "[gitops][events]") {
  TempDir dir;
  GitRepo repo(dir.path() / "repo");
  repo.commit({{"apps/web/deployment.yaml", deploymentYaml("registry.example/web:v1")},
               {"apps/web/kustomization.yaml", "resources:\n- deployment.yaml\n"}},
              "web v1");

  ControllerEnv env;
  controller::ManagerOptions options;
  options.storagePath = (dir.path() / "storage").string();
  env.startController(options);
  KubectlEnv& cluster = env.cluster;
  cluster.ok("apply -f " + cluster.writeFile("gitops.json", objects(repo.fileUrl())));

  // The first revision: stored, then applied.
  json stored =
      waitEvent(cluster, "GitRepository", "apps", "NewArtifact", "stored artifact for commit 'web v1'");
  INFO(cluster.kubectl("get events -n default").output);
  REQUIRE_FALSE(stored.is_null());
  CHECK(stored.value("type", "") == "Normal");
  json created =
      waitEvent(cluster, "Kustomization", "web", "ReconciliationSucceeded", "Deployment/default/web created");
  REQUIRE_FALSE(created.is_null());
  CHECK(created.value("type", "") == "Normal");

  // A new commit: a new artifact, and the change set of the apply.
  repo.commit({{"apps/web/deployment.yaml", deploymentYaml("registry.example/web:v2")}}, "web v2");
  reconcileNow(cluster, "gitrepository apps", "fetch-1");
  stored = waitEvent(cluster, "GitRepository", "apps", "NewArtifact", "stored artifact for commit 'web v2'");
  INFO(cluster.kubectl("get gitrepository apps -o yaml").output);
  REQUIRE_FALSE(stored.is_null());
  json configured = waitEvent(cluster, "Kustomization", "web", "ReconciliationSucceeded",
                              "Deployment/default/web configured");
  REQUIRE_FALSE(configured.is_null());
  CHECK(configured.value("type", "") == "Normal");
  REQUIRE(waitUntil(
      [&] {
        return cluster.getJson("deployment web")
                   .value(json::json_pointer("/spec/template/spec/containers/0/image"), std::string()) ==
               "registry.example/web:v2";
      },
      std::chrono::seconds(30)));

  // A no-drift interval: neither a fetch that finds no new commit nor an apply that changes nothing
  // records an Event, or counts one again.
  const auto repoBefore = eventsOf(cluster, "GitRepository", "apps");
  const auto ksBefore = eventsOf(cluster, "Kustomization", "web");
  reconcileNow(cluster, "gitrepository apps", "fetch-2");
  reconcileNow(cluster, "kustomization web", "apply-1");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK(eventsOf(cluster, "GitRepository", "apps") == repoBefore);
  CHECK(eventsOf(cluster, "Kustomization", "web") == ksBefore);

  // A bad commit: a Warning BuildFailed, retried every second on the same Event (its count grows), and
  // what runs stays at v2.
  repo.commit({{"apps/web/kustomization.yaml", "resources:\n- deployment.yaml\n- missing.yaml\n"}}, "broken");
  reconcileNow(cluster, "gitrepository apps", "fetch-3");
  json failed = waitEvent(cluster, "Kustomization", "web", "BuildFailed", "missing.yaml");
  INFO(cluster.kubectl("get events -n default").output);
  REQUIRE_FALSE(failed.is_null());
  CHECK(failed.value("type", "") == "Warning");
  const std::string failedName = failed["metadata"].value("name", "");
  const bool counted = waitUntil(
      [&] {
        const auto now = eventsOf(cluster, "Kustomization", "web");
        const auto it = now.find(failedName);
        return it != now.end() && it->second.value("count", 0) >= 3;
      },
      std::chrono::seconds(30));
  CHECK(counted);
  int buildFailed = 0;
  for (const auto& [n, e] : eventsOf(cluster, "Kustomization", "web"))
    if (e.value("reason", "") == "BuildFailed") ++buildFailed;
  CHECK(buildFailed == 1);
  CHECK(cluster.getJson("deployment web")
            .value(json::json_pointer("/spec/template/spec/containers/0/image"), std::string()) ==
        "registry.example/web:v2");

  // sluice events --for Kustomization/web: its Events, none of the GitRepository's.
  auto listed = cluster.plugin("events --for Kustomization/web");
  INFO(listed.output);
  REQUIRE(listed.exitCode == 0);
  CHECK(listed.output.find("BuildFailed") != std::string::npos);
  CHECK(listed.output.find("Deployment/default/web configured") != std::string::npos);
  CHECK(listed.output.find("Kustomization/web") != std::string::npos);
  CHECK(listed.output.find("NewArtifact") == std::string::npos);
  auto all = cluster.plugin("events");
  INFO(all.output);
  CHECK(all.output.find("GitRepository/apps") != std::string::npos);
}
