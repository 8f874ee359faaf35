// The plugin's read-only views as a person runs them: the wall time of a cold `kubectl-sluice get rollout
// NAME` process (exec to exit) against a `sluice cluster` process on loopback, with a canary paused
// mid-rollout by a `sluice controller` process, and of `kubectl-sluice get rollouts -A` with 1,000
// Rollouts. Budget: under 50 ms for `get rollout` (docs/design.md). Each figure is the median of 20 runs.
#include <benchmark/benchmark.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <algorithm>
#include <atomic>
#include <iostream>
#include <thread>

#include "bench/bench_cluster.h"
#include "controller/resources.h"
#include "kube/client.h"
#include "tests/support/process.h"

extern char** environ;

namespace {

using nlohmann::json;
using sluice::bench::applyCrds;
using sluice::bench::clientFor;
using sluice::bench::rollout;
using sluice::bench::ScratchDir;
using Clock = std::chrono::steady_clock;
namespace kube = sluice::kube;
namespace controller = sluice::controller;

constexpr int kRuns = 20;

[[noreturn]] void fail(const std::string& why) {
  std::cerr << "plugin_get_bench: " << why << "\n";
  std::abort();
}

std::string field(const json& obj, const char* pointer) {
  const json v = obj.value(json::json_pointer(pointer), json());
  return v.is_string() ? v.get<std::string>() : v.is_null() ? std::string() : v.dump();
}

// A `sluice cluster` process with the CRDs applied by the real kubectl, and a client to it.
struct Cluster {
  ScratchDir dir;
  std::unique_ptr<sluice::testing::ChildProcess> process;
  std::filesystem::path kubeconfig;
  std::unique_ptr<kube::Client> client;

  Cluster() {
    process = std::make_unique<sluice::testing::ChildProcess>(
        std::vector<std::string>{SLUICE_BINARY, "cluster", "--data-dir", (dir.path / "data").string(),
                                 "--port", "0", "--pod-ready-after", "100ms"},
        dir.path / "cluster.log");
    if (!sluice::testing::waitUntil(
            [&] { return process->log().find("export KUBECONFIG=") != std::string::npos; },
            std::chrono::seconds(60)))
      fail("sluice cluster did not start:\n" + process->log());
    kubeconfig = dir.path / "data" / "kubeconfig";
    client = clientFor(kubeconfig);
    applyCrds(dir, kubeconfig, *client);
  }

  bool rolloutIs(const std::string& name, const std::function<bool(const json&)>& done) {
    auto r = client->get(controller::rolloutsResource(), "default", name);
    return r.ok() && done(*r);
  }
};

struct Runs {
  std::vector<double> wall;  // seconds, sorted
  std::vector<double> cpu;   // the process's user + system seconds, sorted: less sensitive to a busy machine
};

// `kubectl-sluice ARGS` run `kRuns` times as a fresh process (stdout to /dev/null), each exit status
// checked.
Runs timeRuns(const Cluster& cluster, const std::vector<std::string>& args) {
  // The plugin as kubectl runs it: argv[0] kubectl-sluice, KUBECONFIG in the environment.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string(*e).rfind("KUBECONFIG=", 0) != 0) env.emplace_back(*e);
  }
  env.push_back("KUBECONFIG=" + cluster.kubeconfig.string());
  std::vector<std::string> argv = {"kubectl-sluice"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto pointers = [](std::vector<std::string>& v) {
    std::vector<char*> p;
    for (auto& s : v) p.push_back(s.data());
    p.push_back(nullptr);
    return p;
  };
  auto argvp = pointers(argv);
  auto envp = pointers(env);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  Runs runs;
  for (int i = 0; i < kRuns; ++i) {
    const auto start = Clock::now();
    pid_t pid = 0;
    if (posix_spawn(&pid, SLUICE_BINARY, &actions, nullptr, argvp.data(), envp.data()) != 0) fail("spawn");
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    runs.wall.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    auto secs = [](const timeval& t) {
      return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    runs.cpu.push_back(secs(usage.ru_utime) + secs(usage.ru_stime));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("kubectl-sluice " + args.front() + " failed");
  }
  posix_spawn_file_actions_destroy(&actions);
  std::sort(runs.wall.begin(), runs.wall.end());
  std::sort(runs.cpu.begin(), runs.cpu.end());
  return runs;
}

void report(benchmark::State& state, const Runs& runs) {
  const auto& wall = runs.wall;
  state.SetIterationTime(wall[wall.size() / 2]);
  state.counters["median_ms"] = wall[wall.size() / 2] * 1e3;
  state.counters["min_ms"] = wall.front() * 1e3;
  state.counters["p90_ms"] = wall[wall.size() * 9 / 10] * 1e3;
  state.counters["cpu_median_ms"] = runs.cpu[runs.cpu.size() / 2] * 1e3;
}

// `get rollout web`: a canary of 4 pods paused at 25% (two ReplicaSets, four pods) by the controller.
void BM_GetRolloutCold(benchmark::State& state) {
  for (auto _ : state) {
    Cluster cluster;
    sluice::testing::ChildProcess ctl(
        {SLUICE_BINARY, "controller", "--kubeconfig", cluster.kubeconfig.string(), "--leader-elect=false",
         "--metrics-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0"},
        cluster.dir.path / "controller.log");
    const json steps = json::parse(R"([{"setWeight": 25}, {"pause": {}}])");
    auto write = [&](const std::string& image) {
      const json desired = rollout("web", image, 4, steps);
      auto written = cluster.client->get(controller::rolloutsResource(), "default", "web").ok()
                         ? cluster.client->patch(controller::rolloutsResource(), "default", "web",
                                                 kube::PatchType::kMerge, {{"spec", desired["spec"]}})
                         : cluster.client->create(controller::rolloutsResource(), "default", desired);
      if (!written) fail("write web: " + written.error().describe());
    };
    write("registry.example/web:v1");
    if (!sluice::testing::waitUntil(
            [&] {
              return cluster.rolloutIs("web",
                                       [](const json& r) { return field(r, "/status/phase") == "Healthy"; });
            },
            std::chrono::seconds(60)))
      fail("web never Healthy:\n" + ctl.log());
    write("registry.example/web:v2");
    if (!sluice::testing::waitUntil(
            [&] {
              return cluster.rolloutIs("web", [](const json& r) {
                return field(r, "/status/phase") == "Paused" && field(r, "/status/availableReplicas") == "4";
              });
            },
            std::chrono::seconds(60)))
      fail("web never paused at 25%:\n" + ctl.log());
    report(state, timeRuns(cluster, {"get", "rollout", "web"}));
  }
}
BENCHMARK(BM_GetRolloutCold)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);

// `get rollouts -A` over 1,000 Rollouts in 10 namespaces, each with a controller-like status.
void BM_ListRollouts1000(benchmark::State& state) {
  constexpr int kCount = 1000;
  for (auto _ : state) {
    Cluster cluster;
    for (int n = 0; n < 10; ++n) {
      const json ns = {
          {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "team-" + std::to_string(n)}}}};
      if (!cluster.client->create({"", "v1", "namespaces", false, "Namespace"}, "", ns)) fail("namespace");
    }
    const json steps =
        json::parse(R"([{"setWeight": 25}, {"pause": {"duration": "1m"}}, {"setWeight": 50}])");
    const json status = {{"status",
                          {{"phase", "Healthy"},
                           {"currentStepIndex", 3},
                           {"observedGeneration", "1"},
                           {"stableRS", "abc"},
                           {"currentPodHash", "abc"},
                           {"replicas", 3},
                           {"updatedReplicas", 3},
                           {"readyReplicas", 3},
                           {"availableReplicas", 3}}}};
    std::atomic<int> next{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 8; ++t) {
      writers.emplace_back([&] {
        for (int i = next++; i < kCount; i = next++) {
          const std::string ns = "team-" + std::to_string(i % 10), name = "app-" + std::to_string(i);
          if (!cluster.client->create(controller::rolloutsResource(), ns,
                                      rollout(name, "registry.example/app:v1", 3, steps, ns)) ||
              !cluster.client->patch(controller::rolloutsResource(), ns, name, kube::PatchType::kMerge,
                                     status, {}, "status"))
            fail("write " + ns + "/" + name);
        }
      });
    }
    for (auto& t : writers) t.join();
    report(state, timeRuns(cluster, {"get", "rollouts", "-A"}));
  }
}
BENCHMARK(BM_ListRollouts1000)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
