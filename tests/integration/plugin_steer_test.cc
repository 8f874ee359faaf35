// `kubectl sluice` steering a Rollout the controller runs: the real kubectl dispatches to the plugin, each
// verb's patch lands in the stored object, its one line and exit status are what a person or a CI job
// reads, and the controller carries the change out.
#include <catch2/catch.hpp>

#include "base/time.h"
#include "controller_env.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

// Four pods, two pauses a person has to promote.
json pausedRollout(const std::string& image) {
  return webRollout(image, 4, json::parse(R"([
    {"setWeight": 25}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}
  ])"));
}

std::string imageOf(const json& r) {
  return r.value(json::json_pointer("/spec/template/spec/containers/0/image"), std::string());
}
bool healthy(const json& r) {
  return phaseOf(r) == "Healthy" &&
         r["status"].value("stableRS", "") == r["status"].value("currentPodHash", "x");
}

// The environment of these tests: the controller running, "web" Healthy on v1, then updated to v2 and
// waiting in its first indefinite pause (step 1).
struct SteeringEnv {
  ControllerEnv env{std::chrono::milliseconds(300)};

  SteeringEnv() {
    env.startController();
    apply(pausedRollout("registry.example/web:v1"));
    REQUIRE(env.waitRollout("web", healthy));
    apply(pausedRollout("registry.example/web:v2"));
    REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  }
  void apply(const json& rollout) {
    env.cluster.ok("apply -f " + env.cluster.writeFile("web.json", rollout.dump()));
  }
  // `kubectl sluice ARGS`, requiring `exitCode`; returns the output.
  std::string plugin(const std::string& args, int exitCode = 0) {
    auto r = env.cluster.plugin(args);
    INFO("kubectl sluice " << args << "\n" << r.output);
    REQUIRE(r.exitCode == exitCode);
    return r.output;
  }
};

}  // namespace

TEST_CASE("kubectl sluice promote ends a pause, promote --full finishes the rollout", "[plugin][e2e]") {
  SteeringEnv s;
  CHECK(s.plugin("promote web") == "rollout 'web' promoted\n");
  // The patch cleared the pause condition; the controller moved on to the next pause.
  REQUIRE(s.env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 3; }));

  CHECK(s.plugin("promote web --full") == "rollout 'web' fully promoted\n");
  REQUIRE(s.env.waitRollout("web", healthy));
  CHECK(s.env.rollout("web")["status"].value("promoteFull", false) == false);  // reset once promoted

  // Nothing left to promote: the verb says why and changes nothing.
  const std::string before = s.env.rollout("web")["metadata"].value("resourceVersion", "");
  const std::string out = s.plugin("promote web", 1);
  CHECK(out.find("error: rollout web is not paused and has no step to skip (it is fully promoted)") !=
        std::string::npos);
  CHECK(s.env.rollout("web")["metadata"].value("resourceVersion", "") == before);
}

TEST_CASE("kubectl sluice abort sends the canary back, status says Degraded, retry runs the steps again",
          "[plugin][e2e]") {
  SteeringEnv s;
  CHECK(s.plugin("abort web") == "rollout 'web' aborted\n");
  CHECK(s.env.rollout("web")["status"].value("abort", false));
  REQUIRE(s.env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Degraded"; }));
  const std::string degraded = s.plugin("status web", 1);
  CHECK(degraded.rfind("Degraded - ", 0) == 0);
  CHECK(s.plugin("abort web", 1).find("error: rollout web is already aborted") != std::string::npos);

  CHECK(s.plugin("retry rollout web") == "rollout 'web' retried\n");
  CHECK_FALSE(s.env.rollout("web")["status"].value("abort", false));
  REQUIRE(s.env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  CHECK(s.plugin("retry rollout web", 1).find("error: ") != std::string::npos);
}

TEST_CASE("kubectl sluice pause and resume set spec.paused, and the phase follows", "[plugin][e2e]") {
  SteeringEnv s;
  CHECK(s.plugin("promote web") == "rollout 'web' promoted\n");
  REQUIRE(s.env.waitRollout("web", [](const json& r) { return stepOf(r) == 3; }));
  CHECK(s.plugin("pause web") == "rollout 'web' paused\n");
  CHECK(s.env.rollout("web")["spec"].value("paused", false));
  CHECK(s.plugin("status web") == "Paused - manually paused\n");
  CHECK(s.plugin("resume web") == "rollout 'web' resumed\n");
  CHECK(s.env.rollout("web")["spec"].value("paused", true) == false);
}

TEST_CASE(
    "kubectl sluice restart sets spec.restartAt, now or --in later, and the controller replaces the pods",
    "[plugin][e2e]") {
  SteeringEnv s;
  CHECK(s.plugin("promote web --full") == "rollout 'web' fully promoted\n");
  REQUIRE(s.env.waitRollout("web", healthy));
  auto restartAt = [&] {
    auto t = parseRfc3339(s.env.rollout("web")["spec"].value("restartAt", ""));
    REQUIRE(t.ok());
    return *t;
  };
  const Time before = toSeconds(std::chrono::system_clock::now());
  CHECK(s.plugin("restart web --in 1h") == "rollout 'web' restarts in 1h\n");
  CHECK(restartAt() >= before + std::chrono::hours(1));
  CHECK(restartAt() <= toSeconds(std::chrono::system_clock::now()) + std::chrono::hours(1));

  CHECK(s.plugin("restart web") == "rollout 'web' restarts\n");
  const Time at = restartAt();
  CHECK(at >= before);
  CHECK(at <= toSeconds(std::chrono::system_clock::now()));
  REQUIRE(s.env.waitRollout("web", [&](const json& r) {
    return healthy(r) && r["status"].value("restartedAt", "") == formatRfc3339(at);
  }));
  CHECK(s.plugin("restart web --in soon", 2).find("error: --in: ") == 0);
}

TEST_CASE("kubectl sluice set image starts a new revision, undo goes back to an earlier one",
          "[plugin][e2e]") {
  SteeringEnv s;
  CHECK(s.plugin("promote web --full") == "rollout 'web' fully promoted\n");
  REQUIRE(s.env.waitRollout("web", healthy));
  const std::string v2 = s.env.rollout("web")["status"].value("stableRS", "");

  CHECK(s.plugin("set image web web=registry.example/web:v3") == "rollout \"web\" image updated\n");
  CHECK(imageOf(s.env.rollout("web")) == "registry.example/web:v3");
  REQUIRE(s.env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  CHECK(s.plugin("set image web sidecar=x:1", 1) == "error: unable to find container named \"sidecar\"\n");

  // Back to the previous revision (v2, the stable one): the template is v2's again, and the controller
  // finds v2's ReplicaSet instead of a new one.
  CHECK(s.plugin("undo web") == "rollout 'web' rolled back to revision 2\n");
  CHECK(imageOf(s.env.rollout("web")) == "registry.example/web:v2");
  REQUIRE(
      s.env.waitRollout("web", [&](const json& r) { return healthy(r) && r["status"]["stableRS"] == v2; }));

  // To a named revision: v1 is revision 1. As in Argo, a reused ReplicaSet takes the next revision: v2's
  // became 4 above, and v1's becomes 5 once the controller has found it.
  CHECK(s.plugin("undo web --to-revision 1") == "rollout 'web' rolled back to revision 1\n");
  CHECK(imageOf(s.env.rollout("web")) == "registry.example/web:v1");
  REQUIRE(s.env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 1; }));
  CHECK(s.plugin("undo web --to-revision 5") ==
        "rollout 'web' skipped rollback (current template already matches revision 5)\n");
  CHECK(s.plugin("undo web --to-revision 1", 1) == "error: unable to find specified revision 1 in history\n");
  CHECK(s.plugin("undo web --to-revision 9", 1) == "error: unable to find specified revision 9 in history\n");
}

TEST_CASE("kubectl sluice status --watch: exit 0 when Healthy, 1 when aborted, 2 on timeout",
          "[plugin][e2e]") {
  SteeringEnv s;
  // Paused indefinitely: the wait times out.
  auto timedOut = s.env.cluster.plugin("status web --watch --timeout 1500ms");
  INFO(timedOut.output);
  CHECK(timedOut.exitCode == 2);
  CHECK(timedOut.output.find("Paused - ") == 0);
  CHECK(timedOut.output.find("error: rollout web did not become Healthy within 1500ms") != std::string::npos);

  // Promoted by another client while the watch waits: it follows the rollout to Healthy.
  s.env.cluster.ok(
      "patch rollout web --subresource status --type merge -p '{\"status\":{\"promoteFull\":true}}'");
  auto healthyRun = s.env.cluster.plugin("status web --watch --timeout 60s");
  INFO(healthyRun.output);
  CHECK(healthyRun.exitCode == 0);
  REQUIRE(healthyRun.output.size() >= 8);
  CHECK(healthyRun.output.substr(healthyRun.output.size() - 8) == "Healthy\n");

  // An update aborted mid-watch: exit 1.
  s.apply(pausedRollout("registry.example/web:v3"));
  REQUIRE(s.env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Paused"; }));
  std::thread aborter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    s.env.cluster.kubectl(
        "patch rollout web --subresource status --type merge -p '{\"status\":{\"abort\":true}}'");
  });
  auto aborted = s.env.cluster.plugin("status web --watch --timeout 60s");
  aborter.join();
  INFO(aborted.output);
  CHECK(aborted.exitCode == 1);
  CHECK(aborted.output.find("Degraded - ") != std::string::npos);
}

TEST_CASE("kubectl sluice on a missing rollout answers in kubectl's words, in the namespace asked",
          "[plugin][e2e]") {
  ControllerEnv env;
  env.cluster.createNamespace("shop");
  for (const char* verb : {"promote", "abort", "pause", "resume", "status", "undo", "retry rollout"}) {
    auto r = env.cluster.plugin(std::string(verb) + " nope -n shop");
    INFO(verb << ": " << r.output);
    CHECK(r.exitCode == (std::string(verb) == "status" ? 2 : 1));
    CHECK(r.output == "Error from server (NotFound): rollouts.sluice.dev \"nope\" not found\n");
  }
  // A rollout in another namespace is found with -n, not without.
  json web = pausedRollout("registry.example/web:v1");
  web["metadata"]["namespace"] = "shop";
  env.cluster.ok("apply -f " + env.cluster.writeFile("shop.json", web.dump()));
  CHECK(env.cluster.plugin("pause web -n shop").output == "rollout 'web' paused\n");
  CHECK(env.cluster.plugin("pause web").exitCode == 1);
}

TEST_CASE("kubectl sluice finds its cluster as kubectl does: KUBECONFIG merged, --context, its namespace",
          "[plugin][e2e]") {
  ControllerEnv env;
  env.cluster.createNamespace("shop");
  json web = pausedRollout("registry.example/web:v1");
  web["metadata"]["namespace"] = "shop";
  env.cluster.ok("apply -f " + env.cluster.writeFile("shop.json", web.dump()));
  // A second kubeconfig first in KUBECONFIG adds the context "shop" (namespace shop) on the cluster and
  // user the server's kubeconfig defines: the files are merged, as kubectl merges them.
  auto config = kube::loadKubeconfigFiles({env.cluster.server().kubeconfigPath().string()}, false);
  REQUIRE(config.ok());
  const auto& [name, context] = *config->contexts.begin();
  const std::string extra = env.cluster.writeFile(
      "extra-kubeconfig", "apiVersion: v1\nkind: Config\ncontexts:\n- name: shop\n  context:\n    cluster: " +
                              context.cluster + "\n    user: " + context.user + "\n    namespace: shop\n");
  const std::string kubeconfig =
      "KUBECONFIG=" + shellQuote(extra + ":" + env.cluster.server().kubeconfigPath().string());
  auto run = [&](const std::string& args) {
    const auto bin = env.cluster.dir() / "plugin-bin";
    env.cluster.plugin("version --client");  // creates the plugin directory
    return runCommand(env.cluster.envPrefix() + " " + kubeconfig + " PATH=" + shellQuote(bin.string()) +
                      ":\"$PATH\" kubectl sluice " + args);
  };
  CHECK(run("pause web --context shop").output == "rollout 'web' paused\n");
  CHECK(run("resume web").output == "Error from server (NotFound): rollouts.sluice.dev \"web\" not found\n");
  CHECK(run("resume web --context shop -n default").exitCode == 1);  // -n wins over the context's
  CHECK(run("resume web --context " + name + " -n shop").output == "rollout 'web' resumed\n");
  auto unknown = run("pause web --context nope");
  CHECK(unknown.exitCode == 1);
  CHECK(unknown.output == "error: context was not found for specified context: nope\n");
}
