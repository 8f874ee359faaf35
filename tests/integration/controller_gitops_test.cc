// GitOps end to end through the manager, as `sluice controller` runs it: a real git repository holds a
// Rollout in a kustomize directory; the GitRepository reconciler fetches it into an artifact, the new
// artifact wakes the Kustomization that uses it, which applies the Rollout, and the Rollout reconcilers
// run its canary. Git is the source of truth, but an abort is not fought.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "controller_env.h"
#include "tests/support/git_repo.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

// The Rollout "web" as a file in git: 2 pods of `image`, a 50% step and then `pause`.
std::string rolloutYaml(const std::string& image, const std::string& pause) {
  return R"(apiVersion: sluice.dev/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: )" +
         image + R"(
  strategy:
    canary:
      steps:
      - setWeight: 50
      - pause: )" +
         pause + "\n";
}

const char* const kKustomizationFile = "resources:\n- rollout.yaml\n";

std::string gitOpsObjects(const std::string& url) {
  return R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "GitRepository",
   "metadata": {"name": "apps", "namespace": "default"},
   "spec": {"url": ")" +
         url + R"(", "interval": "10m", "ref": {"branch": "main"}}}
{"apiVersion": "sluice.dev/v1alpha1", "kind": "Kustomization",
   "metadata": {"name": "web", "namespace": "default"},
   "spec": {"sourceRef": {"kind": "GitRepository", "name": "apps"}, "path": "./apps/web",
            "interval": "10m", "prune": true, "targetNamespace": "default"}})";
}

// Asks the GitRepository to fetch now, as `sluice reconcile source git` will.
void fetchNow(KubectlEnv& cluster, int n) {
  cluster.ok("annotate gitrepository apps --overwrite reconcile.sluice.dev/requestedAt=fetch-" +
             std::to_string(n));
}

std::string gitopsImageOf(const json& r) {
  return r.value(json::json_pointer("/spec/template/spec/containers/0/image"), std::string());
}

}  // namespace

TEST_CASE(
    "GitOps: a Rollout committed to git is applied and a new image committed is canaried to Healthy, "
    "and an abort is not fought by the next apply",
    "[controller][gitops][e2e]") {
  TempDir dir;
  GitRepo repo(dir.path() / "repo");
  repo.commit({{"apps/web/rollout.yaml", rolloutYaml("registry.example/web:v1", "{duration: 1s}")},
               {"apps/web/kustomization.yaml", kKustomizationFile}},
              "web v1");

  ControllerEnv env;
  controller::ManagerOptions options;
  options.storagePath = (dir.path() / "storage").string();
  env.startController(options);
  env.cluster.ok("apply -f " + env.cluster.writeFile("gitops.json", gitOpsObjects(repo.fileUrl())));

  // Nothing was applied by hand: the Rollout comes from git, labelled as the Kustomization's.
  const bool applied = waitUntil([&] { return env.cluster.kubectl("get rollout web").exitCode == 0; },
                                 std::chrono::seconds(60));
  INFO(env.cluster.kubectl("get gitrepository apps -o yaml").output);
  INFO(env.cluster.kubectl("get kustomization web -o yaml").output);
  REQUIRE(applied);
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  json r = env.rollout("web");
  CHECK(r["metadata"]["labels"].value("kustomize.sluice.dev/name", "") == "web");
  const std::string v1 = r["status"].value("stableRS", "");
  REQUIRE_FALSE(v1.empty());

  // A commit with a new image: fetched, applied, and the canary runs to the end.
  const std::string commit2 = repo.commit(
      {{"apps/web/rollout.yaml", rolloutYaml("registry.example/web:v2", "{duration: 1s}")}}, "web v2");
  fetchNow(env.cluster, 1);
  REQUIRE(env.waitRollout(
      "web", [&](const json& x) { return gitopsImageOf(x) == "registry.example/web:v2"; },
      std::chrono::seconds(60)));
  bool sawCanary = false;
  REQUIRE(env.waitRollout("web", [&](const json& x) {
    sawCanary = sawCanary || stepOf(x) == 1;
    return phaseOf(x) == "Healthy" && x["status"].value("stableRS", "") != v1;
  }));
  CHECK(sawCanary);
  const json ks = env.cluster.getJson("kustomization web");
  CHECK(ks["status"].value("lastAppliedRevision", "") == "main@sha1:" + commit2);

  // v3 waits at an indefinite pause; a person aborts it. The next apply of the same spec changes
  // nothing, so the Rollout stays aborted until git changes it or someone retries.
  repo.commit({{"apps/web/rollout.yaml", rolloutYaml("registry.example/web:v3", "{}")}}, "web v3");
  fetchNow(env.cluster, 2);
  REQUIRE(env.waitRollout("web", [](const json& x) { return phaseOf(x) == "Paused"; }));
  auto aborted = env.cluster.plugin("abort web");
  INFO(aborted.output);
  REQUIRE(aborted.exitCode == 0);
  REQUIRE(env.waitRollout("web", [](const json& x) { return phaseOf(x) == "Degraded"; }));
  const int64_t abortedGeneration = env.rollout("web")["metadata"].value("generation", int64_t{0});
  // Another pass of the Kustomization (its object changed), with the artifact unchanged.
  env.cluster.ok("annotate kustomization web --overwrite example.com/touched=1");
  std::this_thread::sleep_for(std::chrono::seconds(3));
  r = env.rollout("web");
  CHECK(phaseOf(r) == "Degraded");
  CHECK(gitopsImageOf(r) == "registry.example/web:v3");
  CHECK(r["metadata"].value("generation", int64_t{0}) == abortedGeneration);  // the spec not written
  CHECK(r["status"].value("abort", false));
}
