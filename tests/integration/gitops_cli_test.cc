// The GitOps CLI end to end: the controller runs GitOps against the embedded cluster from a real git
// repository, and `kubectl sluice` (the built binary found by the real kubectl as its plugin) reads,
// reconciles, suspends, resumes, builds, diffs and draws what it applied.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "controller_env.h"
#include "tests/support/git_repo.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace gitops_cli_test {

// apps/web: a ConfigMap with `color` and a Secret with `password` (base64 in data).
std::string webConfigMap(const std::string& color) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  color: " + color + "\n";
}
std::string webSecret(const std::string& base64Password) {
  return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-secret\ntype: Opaque\ndata:\n  password: " +
         base64Password + "\n";
}
const char* const kWebKustomization = "resources:\n- configmap.yaml\n- secret.yaml\n";

// clusters/dev: the Kustomization "web" (applied by "root", so the tree nests it).
const char* const kWebKustomizationObject = R"(apiVersion: sluice.dev/v1alpha1
kind: Kustomization
metadata:
  name: web
  namespace: default
spec:
  sourceRef: {kind: GitRepository, name: apps}
  path: ./apps/web
  interval: 10m
  prune: true
)";

// base64 of "secret-value-1" and "secret-value-2".
const char* const kPassword1 = "c2VjcmV0LXZhbHVlLTE=";
const char* const kPassword2 = "c2VjcmV0LXZhbHVlLTI=";

std::string sourceAndRoot(const std::string& url) {
  return R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "GitRepository",
   "metadata": {"name": "apps", "namespace": "default"},
   "spec": {"url": ")" +
         url + R"(", "interval": "10m", "ref": {"branch": "main"}}}
{"apiVersion": "sluice.dev/v1alpha1", "kind": "Kustomization",
   "metadata": {"name": "root", "namespace": "default"},
   "spec": {"sourceRef": {"kind": "GitRepository", "name": "apps"}, "path": "./clusters/dev",
            "interval": "10m", "prune": true}})";
}

std::string readyOf(const json& obj) { return conditionOf(obj, "Ready").value("status", ""); }

std::string colorOf(KubectlEnv& cluster) {
  return cluster.getJson("configmap web-config").value(json::json_pointer("/data/color"), std::string());
}

}  // namespace gitops_cli_test

using namespace gitops_cli_test;

TEST_CASE(
    "GitOps CLI: get, tree, build, diff exit codes with Secrets masked, reconcile --with-source, "
    "suspend and resume",
    "[gitops-cli][e2e]") {
  TempDir dir;
  GitRepo repo(dir.path() / "repo");
  const std::string commit1 = repo.commit({{"apps/web/configmap.yaml", webConfigMap("blue")},
                                           {"apps/web/secret.yaml", webSecret(kPassword1)},
                                           {"apps/web/kustomization.yaml", kWebKustomization},
                                           {"clusters/dev/web.yaml", kWebKustomizationObject}},
                                          "web blue");
  const std::string revision1 = "main@sha1:" + commit1;

  ControllerEnv env;
  controller::ManagerOptions options;
  options.storagePath = (dir.path() / "storage").string();
  env.startController(options);
  KubectlEnv& cluster = env.cluster;
  cluster.ok("apply -f " + cluster.writeFile("gitops.json", sourceAndRoot(repo.fileUrl())));
  const bool applied = waitUntil(
      [&] {
        auto r = cluster.kubectl("get kustomization web -o json");
        if (r.exitCode != 0) return false;
        const json k = json::parse(r.output, nullptr, false);
        return readyOf(k) == "True" &&
               k.value("status", json::object()).value("lastAppliedRevision", "") == revision1;
      },
      std::chrono::seconds(60));
  INFO(cluster.kubectl("get kustomizations -o yaml").output);
  REQUIRE(applied);
  REQUIRE(colorOf(cluster) == "blue");

  // get: flux's columns, NAMESPACE only with -A.
  auto ks = cluster.plugin("get kustomizations");
  INFO(ks.output);
  REQUIRE(ks.exitCode == 0);
  CHECK(std::regex_search(ks.output, std::regex("^NAME +REVISION +SUSPENDED +READY +MESSAGE\n")));
  CHECK(std::regex_search(
      ks.output, std::regex("\nweb +" + revision1 + " +False +True +Applied revision: " + revision1 + "\n")));
  CHECK(std::regex_search(ks.output, std::regex("\nroot +" + revision1 + " +False +True ")));
  auto all = cluster.plugin("get ks -A");
  INFO(all.output);
  CHECK(std::regex_search(all.output, std::regex("^NAMESPACE +NAME +REVISION +SUSPENDED +READY +MESSAGE\n")));
  CHECK(std::regex_search(all.output, std::regex("\ndefault +web +" + revision1 + " +False +True ")));
  auto sources = cluster.plugin("get sources git");
  INFO(sources.output);
  REQUIRE(sources.exitCode == 0);
  CHECK(std::regex_search(sources.output, std::regex("\napps +" + revision1 + " +False +True ")));

  // tree: the nested Kustomization expanded under the root's inventory.
  auto tree = cluster.plugin("tree kustomization root");
  INFO(tree.output);
  REQUIRE(tree.exitCode == 0);
  CHECK(tree.output ==
        "Kustomization/default/root\n"
        "└── Kustomization/default/web\n"
        "    ├── ConfigMap/default/web-config\n"
        "    └── Secret/default/web-secret\n");

  // build: the local directory's objects as YAML, labelled as the controller labels them.
  const std::string local = (repo.dir() / "apps" / "web").string();
  auto build = cluster.plugin("build kustomization web --path " + shellQuote(local));
  INFO(build.output);
  REQUIRE(build.exitCode == 0);
  CHECK(build.output.find("kind: ConfigMap") != std::string::npos);
  CHECK(build.output.find("name: web-config") != std::string::npos);
  CHECK(build.output.find("color: blue") != std::string::npos);
  CHECK(build.output.find("kind: Secret") != std::string::npos);
  CHECK(build.output.find("kustomize.sluice.dev/name: web") != std::string::npos);

  // diff: nothing changed locally (exit 0), then a local edit of each (exit 1, the Secret masked), and a
  // path that is not there (exit 2).
  auto same = cluster.plugin("diff kustomization web --path " + shellQuote(local));
  INFO(same.output);
  CHECK(same.exitCode == 0);
  CHECK(same.output.find("►") == std::string::npos);
  std::ofstream(repo.dir() / "apps/web/configmap.yaml") << webConfigMap("green");
  std::ofstream(repo.dir() / "apps/web/secret.yaml") << webSecret(kPassword2);
  auto changed = cluster.plugin("diff kustomization web --path " + shellQuote(local));
  INFO(changed.output);
  CHECK(changed.exitCode == 1);
  CHECK(changed.output.find(
            "► ConfigMap/default/web-config drifted\n  data.color\n    - blue\n    + green\n") !=
        std::string::npos);
  CHECK(changed.output.find("► Secret/default/web-secret drifted\n  data.password\n    - *** (before)\n"
                            "    + *** (after)\n") != std::string::npos);
  for (const char* secret : {kPassword1, kPassword2, "c2VjcmV0", "secret-value"})
    CHECK(changed.output.find(secret) == std::string::npos);
  auto bad = cluster.plugin("diff kustomization web --path " + shellQuote(local + "/missing"));
  INFO(bad.output);
  CHECK(bad.exitCode == 2);

  // reconcile --with-source: the local change committed is fetched and applied, and the command says so.
  const std::string commit2 = repo.commit(
      {{"apps/web/configmap.yaml", webConfigMap("green")}, {"apps/web/secret.yaml", webSecret(kPassword2)}},
      "web green");
  auto reconciled = cluster.plugin("reconcile kustomization web --with-source --timeout 60s");
  INFO(reconciled.output);
  CHECK(reconciled.exitCode == 0);
  CHECK(reconciled.output.find("fetched revision main@sha1:" + commit2) != std::string::npos);
  CHECK(reconciled.output.find("applied revision main@sha1:" + commit2) != std::string::npos);
  CHECK(colorOf(cluster) == "green");
  auto after = cluster.plugin("diff kustomization web --path " + shellQuote(local));
  INFO(after.output);
  CHECK(after.exitCode == 0);

  // A bad commit: the reconcile it asks for fails, the command exits non-zero with the reason, and what
  // the last good revision applied stays.
  repo.commit({{"apps/web/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n"}},
              "broken");
  auto failed = cluster.plugin("reconcile kustomization web --with-source --timeout 60s");
  INFO(failed.output);
  CHECK(failed.exitCode != 0);
  CHECK(failed.output.find("✗") != std::string::npos);
  CHECK(colorOf(cluster) == "green");
  CHECK(readyOf(cluster.getJson("kustomization web")) == "False");

  // suspend: spec.suspend set, the controller leaves the Kustomization alone (a fixed commit fetched is
  // not applied), a reconcile is refused, and `get -w` shows the row change.
  std::string watched;
  // (SIGTERM: a command started in the background of a script ignores SIGINT.)
  std::thread watcher(
      [&] { watched = cluster.plugin("get kustomizations -w 2>&1 & sleep 8; kill -TERM $!; wait").output; });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto suspended = cluster.plugin("suspend kustomization web");
  INFO(suspended.output);
  CHECK(suspended.exitCode == 0);
  CHECK(cluster.getJson("kustomization web")["spec"].value("suspend", false));
  watcher.join();
  INFO(watched);
  CHECK(std::regex_search(watched, std::regex("\nweb +\\S+ +False +False ")));
  CHECK(std::regex_search(watched, std::regex("\nweb +\\S+ +True +False ")));
  const std::string commit4 = repo.commit({{"apps/web/configmap.yaml", webConfigMap("red")}}, "web red");
  auto fetched = cluster.plugin("reconcile source git apps --timeout 60s");
  INFO(fetched.output);
  CHECK(fetched.exitCode == 0);
  CHECK(fetched.output.find("fetched revision main@sha1:" + commit4) != std::string::npos);
  auto refused = cluster.plugin("reconcile kustomization web");
  INFO(refused.output);
  CHECK(refused.exitCode != 0);
  CHECK(refused.output.find("suspended") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  CHECK(colorOf(cluster) == "green");

  // resume: spec.suspend cleared, the new revision applied and waited for.
  auto resumed = cluster.plugin("resume kustomization web --timeout 60s");
  INFO(resumed.output);
  CHECK(resumed.exitCode == 0);
  CHECK(resumed.output.find("applied revision main@sha1:" + commit4) != std::string::npos);
  CHECK_FALSE(cluster.getJson("kustomization web")["spec"].value("suspend", false));
  CHECK(colorOf(cluster) == "red");

  // events: the GitOps reconcilers record none yet; the command answers without failing.
  auto events = cluster.plugin("events --for Kustomization/web");
  INFO(events.output);
  CHECK(events.exitCode == 0);
}
