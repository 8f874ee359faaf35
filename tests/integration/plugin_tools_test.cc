// The plugin's tools around the verbs: `version` with the leading controller's version, and completion
// (kubectl's plugin completion through kubectl_complete-sluice, and the bash script) with rollout names
// from the cluster.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "base/source.h"
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

  // The zsh script, run by zsh with its completion builtins stood in for (they work only inside a
  // completion widget): the same words give the same candidates.
  const std::string zshScript = env.cluster.writeFile(
      "complete.zsh", runCommand(std::string(SLUICE_BINARY) + " completion zsh").output);
  auto zsh = runCommand(env.cluster.envPrefix() + " zsh -f -c " +
                        shellQuote("PATH=" + bin.string() +
                                   ":$PATH; compdef() { :; }; "
                                   "compadd() { [[ $1 == -a ]] && print -l -- ${(P)2}; }; "
                                   "_files() { print FILES; }; source " +
                                   zshScript +
                                   "; words=(kubectl-sluice status -n shop we); CURRENT=5; _sluice_complete; "
                                   "words=(sluice lint ''); CURRENT=3; _sluice_complete"));
  INFO(zsh.output);
  CHECK(zsh.output == "web\nFILES\n");
}

TEST_CASE("kubectl sluice gives up on a server that does not answer after --request-timeout", "[plugin]") {
  // A socket that listens and never accepts: the connection is made (the kernel's backlog), the TLS
  // handshake never answered.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 16) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  TempDir dir("sluice-timeout");
  const std::string kubeconfig = (dir / "kubeconfig").string();
  std::ofstream(kubeconfig)
      << "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
         "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:"
      << ntohs(addr.sin_port)
      << "', insecure-skip-tls-verify: true}}]\n"
         "contexts: [{name: c, context: {cluster: k, user: u}}]\nusers: [{name: u, user: {}}]\n";
  const auto began = std::chrono::steady_clock::now();
  auto r = runCommand(std::string(SLUICE_BINARY) + " promote web --request-timeout 1s --kubeconfig " +
                      shellQuote(kubeconfig));
  const auto took = std::chrono::steady_clock::now() - began;
  ::close(fd);
  INFO(r.output);
  CHECK(r.exitCode == 1);
  CHECK(r.output.rfind("Unable to connect to the server: ", 0) == 0);
  // Three attempts of a second each and their backoff, not the default of no limit.
  CHECK(took < std::chrono::seconds(8));
  auto bad = runCommand(std::string(SLUICE_BINARY) + " promote web --request-timeout soon --kubeconfig " +
                        shellQuote(kubeconfig));
  CHECK(bad.exitCode == 1);
  CHECK(bad.output.find("--request-timeout") != std::string::npos);
}

TEST_CASE("kubectl sluice lint and sim work offline through the plugin, as sluice lint and sim", "[plugin]") {
  KubectlEnv cluster(std::chrono::milliseconds(1000), false);
  const std::string dir = std::string(SLUICE_SOURCE_DIR) + "/examples/basic-canary";
  auto lint = cluster.plugin("lint " + shellQuote(dir));
  INFO(lint.output);
  CHECK(lint.exitCode == 0);
  CHECK(lint.output.find("0 errors, 0 warnings in 2 files") != std::string::npos);
  auto direct = runCommand(std::string(SLUICE_BINARY) + " sim " + shellQuote(dir + "/rollout.yaml") +
                           " --scenario " + shellQuote(dir + "/scenario.yaml") + " --output json");
  auto plugin = cluster.plugin("sim " + shellQuote(dir + "/rollout.yaml") + " --scenario " +
                               shellQuote(dir + "/scenario.yaml") + " --output json");
  CHECK(plugin.exitCode == 0);
  CHECK(plugin.output == direct.output);
  CHECK(nlohmann::json::parse(plugin.output, nullptr, false)["result"].value("phase", "") == "Healthy");
  // A bad file: the same located error and exit status as sluice lint.
  const std::string bad = cluster.writeFile("bad.yaml",
                                            "apiVersion: sluice.dev/v1alpha1\nkind: Rollout\n"
                                            "metadata: {name: x}\nspec: {replicas: -1}\n");
  auto badLint = cluster.plugin("lint " + shellQuote(bad));
  CHECK(badLint.exitCode == 1);
  CHECK(badLint.output.find(bad + ":4:") != std::string::npos);
}

// krew's rules for a manifest it installs with --manifest and --archive: the checks of its validation
// (name, a "v"-prefixed semantic version, a platform matching this machine, a sha256 of the archive, a
// bin among the files copied), then what krew does with it: unpack, copy `files`, and run `bin` as
// kubectl-sluice. krew itself cannot be installed here (it is no Debian package), so these are its
// documented rules, checked one by one.
TEST_CASE("the krew package: a manifest krew accepts, and an archive whose binary runs as kubectl-sluice",
          "[plugin]") {
  TempDir dir("sluice-krew");
  auto packaged = runCommand(std::string(SLUICE_SOURCE_DIR) + "/scripts/krew-package.sh " +
                             shellQuote(SLUICE_BINARY) + " " + shellQuote((dir / "out").string()));
  INFO(packaged.output);
  REQUIRE(packaged.exitCode == 0);
  auto loaded = loadYamlFile((dir / "out" / "plugin.yaml").string());
  REQUIRE(loaded.ok());
  REQUIRE(loaded->size() == 1);
  const json manifest = (*loaded)[0].json;
  CHECK(manifest["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2");
  CHECK(manifest["kind"] == "Plugin");
  CHECK(manifest["metadata"]["name"] == "sluice");
  CHECK(manifest["spec"]["version"] == std::string("v") + SLUICE_VERSION);
  CHECK_FALSE(manifest["spec"].value("shortDescription", "").empty());
  REQUIRE(manifest["spec"]["platforms"].size() == 1);
  const json platform = manifest["spec"]["platforms"][0];
  CHECK(platform["selector"]["matchLabels"]["os"] == "linux");
  const std::string archive = (dir / "out").string() + "/sluice-linux-" +
                              platform["selector"]["matchLabels"]["arch"].get<std::string>() + ".tar.gz";
  CHECK(platform["uri"] == "file://" + archive);
  auto sha = runCommand("sha256sum " + shellQuote(archive) + " | cut -d' ' -f1");
  CHECK(platform["sha256"].get<std::string>() + "\n" == sha.output);

  // Unpacked and copied as krew copies `files`, `bin` runs as the plugin.
  const auto installed = dir / "installed";
  std::filesystem::create_directories(installed / "unpacked");
  REQUIRE(
      runCommand("tar -xzf " + shellQuote(archive) + " -C " + shellQuote((installed / "unpacked").string()))
          .exitCode == 0);
  for (const auto& file : platform["files"]) {
    CHECK(std::filesystem::exists(installed / "unpacked" / file["from"].get<std::string>()));
  }
  const auto bin = installed / "unpacked" / platform["bin"].get<std::string>();
  std::filesystem::create_directories(installed / "bin");
  std::filesystem::create_symlink(bin, installed / "bin" / "kubectl-sluice");
  auto run = runCommand("PATH=" + shellQuote((installed / "bin").string()) +
                        ":\"$PATH\" kubectl sluice version --client");
  CHECK(run.output == std::string("sluice ") + SLUICE_VERSION + "\n");
  // Packaging twice gives the same archive: a published sha256 stays true.
  REQUIRE(runCommand(std::string(SLUICE_SOURCE_DIR) + "/scripts/krew-package.sh " +
                     shellQuote(SLUICE_BINARY) + " " + shellQuote((dir / "again").string()))
              .exitCode == 0);
  auto again = runCommand("sha256sum " + shellQuote((dir / "again").string()) +
                          "/sluice-linux-*.tar.gz | cut -d' ' -f1");
  CHECK(again.output == sha.output);
}
