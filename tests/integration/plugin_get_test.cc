// `kubectl sluice get ...` end to end: the real kubectl finds the built binary on PATH as the plugin
// `kubectl-sluice` and runs it against the embedded API server, with the controller moving a canary.
// `get rollout -w` runs in a pseudo-terminal and must redraw as soon as another client promotes.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>

#include "base/source.h"
#include "controller/resources.h"
#include "controller_env.h"
#include "engine/rollout_json.h"
#include "engine/steering.h"
#include "tests/support/http_peer.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

std::string field(const json& r, const char* pointer) {
  return r.value(json::json_pointer(pointer), std::string());
}

// A directory holding `kubectl-sluice`, a link to the built binary, put first on kubectl's PATH.
class PluginPath {
 public:
  PluginPath() : dir_("sluice-plugin") {
    std::filesystem::create_symlink(SLUICE_BINARY, dir_ / "kubectl-sluice");
  }
  std::string prefix(const KubectlEnv& cluster) const {
    const char* path = std::getenv("PATH");
    return cluster.envPrefix() + " PATH=" + shellQuote(dir_.path().string() + ":" + (path ? path : ""));
  }

 private:
  TempDir dir_;
};

// `kubectl sluice ARGS` through the real kubectl; stdout and stderr together.
CommandResult plugin(const KubectlEnv& cluster, const PluginPath& path, const std::string& args) {
  return runCommand(path.prefix(cluster) + " kubectl sluice " + args + " 2>&1");
}

// A command run on a pseudo-terminal, as a person's shell runs it: isatty() is true for it and Ctrl-C
// written to the terminal reaches it as SIGINT.
class PtyCommand {
 public:
  explicit PtyCommand(const std::string& shellCommand) {
    pid_ = forkpty(&fd_, nullptr, nullptr, nullptr);
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      execl("/bin/sh", "sh", "-c", ("exec " + shellCommand).c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  PtyCommand(const PtyCommand&) = delete;
  PtyCommand& operator=(const PtyCommand&) = delete;
  ~PtyCommand() {
    if (!exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(fd_);
  }

  // Reads what the command prints until `done(output)` holds or `timeout` passes; returns done's value.
  template <typename Pred>
  bool readUntil(Pred done, milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!done(output_)) {
      const auto left = std::chrono::duration_cast<milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) return done(output_);  // the command ended
      output_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  void type(const std::string& keys) {
    REQUIRE(write(fd_, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
  }
  // Waits for the exit (up to `timeout`); its exit status, or -1 when it did not end in time.
  int waitExit(milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      readUntil([](const std::string&) { return false; }, milliseconds(20));  // keep the terminal drained
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
    }
    return -1;
  }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  bool exited_ = false;
  std::string output_;
};

json canaryRollout(const std::string& image) {
  return webRollout(image, 4,
                    json::parse(R"([{"setWeight": 25}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}])"));
}

// The canary "web" Healthy on v1, then updated to v2 and settled at its first pause (25%, every pod
// available). Returns the pod-template hashes of v1 and v2.
std::pair<std::string, std::string> updateToFirstPause(ControllerEnv& env) {
  env.cluster.ok("apply -f " +
                 env.cluster.writeFile("v1.json", canaryRollout("registry.example/web:v1").dump()));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  const std::string v1 = field(env.rollout("web"), "/status/stableRS");
  env.cluster.ok("apply -f " +
                 env.cluster.writeFile("v2.json", canaryRollout("registry.example/web:v2").dump()));
  REQUIRE(env.waitRollout("web", [&](const json& r) {
    return phaseOf(r) == "Paused" && stepOf(r) == 1 && r["status"].value("availableReplicas", 0) == 4;
  }));
  const std::string v2 = field(env.rollout("web"), "/status/currentPodHash");
  REQUIRE(v2 != v1);
  return {v1, v2};
}

// An AnalysisRun of the Rollout's canary revision, as the controller labels its own: two measurements a
// second apart of a web metric answered by `peer`.
json analysisRun(const std::string& podHash, const std::string& url) {
  return {
      {"apiVersion", "sluice.dev/v1alpha1"},
      {"kind", "AnalysisRun"},
      {"metadata",
       {{"name", "web-check"},
        {"namespace", "default"},
        {"labels", {{"sluice.dev/rollout", "web"}, {"sluice.dev/pod-template-hash", podHash}}}}},
      {"spec",
       {{"args", json::array({{{"name", "service"}, {"value", "web-canary"}}})},
        {"metrics", json::array({{{"name", "error-rate"},
                                  {"count", 2},
                                  {"interval", "1s"},
                                  {"successCondition", "result < 0.05"},
                                  {"provider", {{"web", {{"url", url}, {"jsonPath", "{$.ratio}"}}}}}}})}}}};
}

// The last frame of a watch's output (a terminal's frames each start by clearing the screen).
std::string lastFrame(const std::string& output) {
  const auto at = output.rfind("\033[2J");
  return at == std::string::npos ? output : output.substr(at);
}

bool showsStep(const std::string& text, const std::string& step) {
  return std::regex_search(text, std::regex("Step:\\s+" + step + "\\s"));
}

}  // namespace

TEST_CASE("kubectl sluice get shows a canary mid-rollout, its table, its analysis and what is missing",
          "[plugin][get][e2e]") {
  ControllerEnv env(milliseconds(500));
  env.startController();
  const PluginPath path;
  const auto [v1, v2] = updateToFirstPause(env);

  HttpPeer peer([](const PeerRequest&) {
    PeerReply reply;
    reply.body = R"({"ratio": 0.01})";
    return reply;
  });
  env.cluster.ok("create -f " +
                 env.cluster.writeFile("ar.json", analysisRun(v2, peer.url("/metrics")).dump()));
  REQUIRE(waitUntil(
      [&] {
        auto run = env.client->get(controller::analysisRunsResource(), "default", "web-check");
        return run.ok() && field(*run, "/status/phase") == "Successful";
      },
      milliseconds(30000)));

  SECTION("get rollout: the step, both weights, both ReplicaSets with their roles and pods, the run") {
    auto r = plugin(env.cluster, path, "get rollout web");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    CHECK(std::regex_search(r.output, std::regex("Status:\\s+॥ Paused")));
    CHECK(showsStep(r.output, "1/4"));
    CHECK(std::regex_search(r.output, std::regex("SetWeight:\\s+25\\n")));
    CHECK(std::regex_search(r.output, std::regex("ActualWeight:\\s+25\\n")));
    CHECK(r.output.find("registry.example/web:v1 (stable)") != std::string::npos);
    CHECK(r.output.find("registry.example/web:v2 (canary)") != std::string::npos);
    CHECK(std::regex_search(r.output,
                            std::regex("⧉ web-" + v2 + "\\s+ReplicaSet\\s+✔ Healthy\\s+\\S+\\s+canary")));
    CHECK(std::regex_search(r.output,
                            std::regex("⧉ web-" + v1 + "\\s+ReplicaSet\\s+✔ Healthy\\s+\\S+\\s+stable")));
    // One canary pod and three stable ones, each ready.
    auto count = [&](const std::string& pattern) {
      const std::regex re(pattern);
      return std::distance(std::sregex_iterator(r.output.begin(), r.output.end(), re),
                           std::sregex_iterator());
    };
    CHECK(count("□ web-" + v2 + "-\\w+\\s+Pod\\s+✔ Running\\s+\\S+\\s+ready:1/1") == 1);
    CHECK(count("□ web-" + v1 + "-\\w+\\s+Pod\\s+✔ Running\\s+\\S+\\s+ready:1/1") == 3);
    CHECK(std::regex_search(r.output,
                            std::regex("α web-check\\s+AnalysisRun\\s+✔ Successful\\s+\\S+\\s+✔ 2,✖ 0")));
    // Not a terminal: no colour codes.
    CHECK(r.output.find('\033') == std::string::npos);
  }

  SECTION("get rollouts -A: one table across namespaces, sorted") {
    env.cluster.createNamespace("team-b");
    json api = webRollout("registry.example/api:v1", 1, json::array());
    api["metadata"] = {{"name", "api"}, {"namespace", "team-b"}};
    env.cluster.ok("apply -f " + env.cluster.writeFile("api.json", api.dump()));
    REQUIRE(env.cluster.kubectl("get ro api -n team-b").exitCode == 0);
    auto r = plugin(env.cluster, path, "list rollouts -A");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    CHECK(std::regex_search(
        r.output, std::regex("^NAMESPACE\\s+NAME\\s+STRATEGY\\s+STATUS\\s+STEP\\s+SET-WEIGHT\\s+READY\\s+"
                             "DESIRED\\s+UP-TO-DATE\\s+AVAILABLE\\n")));
    CHECK(std::regex_search(
        r.output, std::regex("\\ndefault\\s+web\\s+Canary\\s+Paused\\s+1/4\\s+25\\s+4/4\\s+4\\s+1\\s+4\\n")));
    CHECK(std::regex_search(r.output, std::regex("\\nteam-b\\s+api\\s+Canary\\s+")));
    CHECK(r.output.find("default") < r.output.find("team-b"));
    auto one = plugin(env.cluster, path, "get ro");
    INFO(one.output);
    CHECK(one.exitCode == 0);
    CHECK(one.output.find("NAMESPACE") == std::string::npos);
    CHECK(one.output.find("team-b") == std::string::npos);
    auto none = plugin(env.cluster, path, "get rollouts -n empty");
    CHECK(none.exitCode == 0);
    CHECK(none.output == "No resources found in empty namespace.\n");
  }

  SECTION("get analysisrun: phase, args and every measurement") {
    auto r = plugin(env.cluster, path, "get ar web-check");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    CHECK(std::regex_search(r.output, std::regex("Status:\\s+✔ Successful")));
    CHECK(std::regex_search(r.output, std::regex("Args:\\s+service=web-canary")));
    CHECK(std::regex_search(r.output, std::regex("error-rate\\s+Metric\\s+✔ Successful\\s+✔ 2,✖ 0")));
    CHECK(std::regex_search(r.output,
                            std::regex("#1\\s+Measurement\\s+✔ Successful\\s+0.01\\s+\\S+Z\\s+\\S+Z")));
    CHECK(std::regex_search(r.output,
                            std::regex("#2\\s+Measurement\\s+✔ Successful\\s+0.01\\s+\\S+Z\\s+\\S+Z")));
  }

  SECTION("a missing object: kubectl's NotFound sentence and exit 1") {
    for (const char* args : {"get rollout nope", "get ar nope"}) {
      auto r = plugin(env.cluster, path, args);
      INFO(args << "\n" << r.output);
      CHECK(r.exitCode == 1);
      const std::string kind =
          std::string(args).find(" ar ") != std::string::npos ? "analysisruns" : "rollouts";
      CHECK(r.output == "Error from server (NotFound): " + kind + ".sluice.dev \"nope\" not found\n");
    }
  }
}

TEST_CASE("kubectl sluice get rollout -w on a terminal redraws as soon as another client promotes",
          "[plugin][get][e2e][watch]") {
  ControllerEnv env(milliseconds(500));
  env.startController();
  const PluginPath path;
  updateToFirstPause(env);

  PtyCommand watch("env " + path.prefix(env.cluster) + " kubectl sluice get rollout web -w --timeout 60s");
  const bool first = watch.readUntil([](const std::string& out) { return showsStep(lastFrame(out), "1/4"); },
                                     milliseconds(10000));
  INFO(watch.output());
  REQUIRE(first);
  // On a terminal: each frame clears the screen, and the status is coloured.
  CHECK(watch.output().find("\033[H\033[2J") != std::string::npos);
  CHECK(watch.output().find("\033[36m॥ Paused\033[0m") != std::string::npos);

  // Another client promotes: the pause's condition is cleared and the controller moves to step 2, 50%.
  auto current = env.client->get(controller::rolloutsResource(), "default", "web");
  REQUIRE(current.ok());
  Diagnostics diags;
  auto parsed = engine::parseRollout(*current, SourceMap(), diags);
  REQUIRE(parsed);
  auto promote = engine::promotePatch(*parsed);
  REQUIRE(promote.ok());
  const auto promotedAt = std::chrono::steady_clock::now();
  REQUIRE(env.client
              ->patch(controller::rolloutsResource(), "default", "web", kube::PatchType::kMerge,
                      promote->status, {}, "status")
              .ok());
  const bool promoted = watch.readUntil(
      [](const std::string& out) { return showsStep(lastFrame(out), "2/4"); }, milliseconds(10000));
  const auto shownAfter =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - promotedAt);
  INFO(watch.output());
  REQUIRE(promoted);
  // The controller's reconcile and the watch events, not a polling interval: well under a second.
  CHECK(shownAfter < milliseconds(1000));
  // Then the canary grows to half the pods, and the tree follows without being asked.
  REQUIRE(watch.readUntil(
      [](const std::string& out) {
        return std::regex_search(lastFrame(out), std::regex("ActualWeight:\\s+50"));
      },
      milliseconds(15000)));

  // Ctrl-C ends the watch with exit 0.
  watch.type("\x03");
  CHECK(watch.waitExit(milliseconds(5000)) == 0);
}

TEST_CASE("kubectl sluice get rollout -w stops at --timeout with exit 0", "[plugin][get][e2e][watch]") {
  ControllerEnv env(milliseconds(500));
  env.startController();
  const PluginPath path;
  env.cluster.ok("apply -f " +
                 env.cluster.writeFile("v1.json", canaryRollout("registry.example/web:v1").dump()));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  const auto start = std::chrono::steady_clock::now();
  auto r = plugin(env.cluster, path, "get rollout web -w --timeout 2s");
  const auto took = std::chrono::steady_clock::now() - start;
  INFO(r.output);
  CHECK(r.exitCode == 0);
  CHECK(std::regex_search(r.output, std::regex("Status:\\s+✔ Healthy")));
  CHECK(took >= std::chrono::seconds(2));
  CHECK(took < std::chrono::seconds(10));
}
