// The plugin's tools around the verbs: `version` with the leading controller's version, and completion
// (kubectl's plugin completion through kubectl_complete-sluice, and the bash script) with rollout names
// from the cluster.
#include <catch2/catch.hpp>

#include "base/version.h"
#include "controller_env.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

TEST_CASE("kubectl sluice version names the version of the controller that leads", "[plugin][e2e]") {
  ControllerEnv env;
  // No controller has led yet: the client's version, and why the controller's is unknown.
  auto alone = env.cluster.plugin("version --controller-namespace default");
  INFO(alone.output);
  CHECK(alone.exitCode == 0);
  CHECK(alone.output.find(std::string("sluice ") + SLUICE_VERSION + "\n") == 0);
  CHECK(alone.output.find("controller: unknown (Error from server (NotFound): leases.coordination.k8s.io "
                          "\"sluice-controller\" not found)") != std::string::npos);

  controller::ManagerOptions options;
  options.leaderElect = true;
  options.leaseNamespace = "default";
  options.identity = "controller-a";
  env.manager = std::make_unique<controller::Manager>(*env.client, *env.provider, options);
  REQUIRE(env.manager->start(std::chrono::seconds(30)).ok());
  REQUIRE(waitUntil([&] { return env.cluster.kubectl("get lease sluice-controller").exitCode == 0; },
                    std::chrono::seconds(20)));
  auto led = env.cluster.plugin("version --controller-namespace default");
  INFO(led.output);
  CHECK(led.output == std::string("sluice ") + SLUICE_VERSION + "\ncontroller " + SLUICE_VERSION +
                          " (leader controller-a)\n");
  // --client contacts no cluster.
  CHECK(env.cluster.plugin("version --client --kubeconfig /nonexistent").output ==
        std::string("sluice ") + SLUICE_VERSION + "\n");
}

TEST_CASE("kubectl completes `kubectl sluice` verbs, flags and rollout names through the plugin",
          "[plugin][e2e]") {
  ControllerEnv env;
  env.cluster.createNamespace("shop");
  for (const char* name : {"web", "worker"}) {
    json r = webRollout("registry.example/web:v1", 1, json::array());
    r["metadata"]["name"] = name;
    r["metadata"]["namespace"] = "shop";
    env.cluster.ok("apply -f " + env.cluster.writeFile(std::string(name) + ".json", r.dump()));
  }
  // kubectl runs kubectl_complete-sluice (a link to the binary) with the words after `sluice`.
  const auto bin = env.cluster.dir() / "plugin-bin";
  env.cluster.plugin("version --client");  // creates the plugin directory
  std::filesystem::create_symlink(SLUICE_BINARY, bin / "kubectl_complete-sluice");
  auto kubectlComplete = [&](const std::string& words) {
    // kubectl reports on stderr how it dispatched; only stdout is the answer.
    auto r = runCommand("(" + env.cluster.envPrefix() + " PATH=" + shellQuote(bin.string()) +
                        ":\"$PATH\" kubectl __complete sluice " + words + " 2>/dev/null)");
    INFO("kubectl __complete sluice " << words << "\n" << r.output);
    REQUIRE(r.exitCode == 0);
    return r.output;
  };
  CHECK(kubectlComplete("pro") == "promote\n:4\n");
  CHECK(kubectlComplete("retry ''") == "rollout\n:4\n");
  CHECK(kubectlComplete("promote -n shop w") == "web\nworker\n:4\n");
  CHECK(kubectlComplete("promote --namespace=shop wo") == "worker\n:4\n");
  CHECK(kubectlComplete("abort -n ''").find("shop\n") != std::string::npos);
  CHECK(kubectlComplete("promote web --fu") == "--full\n:4\n");
  // lint takes files: the shell's file completion stays on.
  CHECK(kubectlComplete("lint ''") == ":0\n");

  // The bash script asks the same binary.
  const std::string script = env.cluster.writeFile(
      "complete.bash", runCommand(std::string(SLUICE_BINARY) + " completion bash").output);
  auto bash = runCommand(env.cluster.envPrefix() + " bash -c " +
                         shellQuote("PATH=" + bin.string() + ":$PATH; source " + script +
                                    "; COMP_WORDS=(kubectl-sluice status -n shop we); COMP_CWORD=4; "
                                    "_sluice_complete; printf '%s\\n' \"${COMPREPLY[@]}\""));
  INFO(bash.output);
  CHECK(bash.output == "web\n");
}
