// Crash-only: the real `sluice controller` process SIGKILLed at random instants of a six-step canary
// with an analysis step, and restarted each time, ends where an uninterrupted run ends, having recorded
// every step once and in order, with one AnalysisRun and no ReplicaSet left behind.
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <thread>

#include "controller_env.h"
#include "engine/rollout.h"
#include "tests/support/process.h"
#include "tests/support/prometheus_harness.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

json sixStepRollout(const std::string& image) {
  return webRollout(image, 3, json::parse(R"([
    {"setWeight": 34}, {"pause": {"duration": "2s"}}, {"setWeight": 67},
    {"analysis": {"templates": [{"templateName": "ok"}]}}, {"setWeight": 100}, {"pause": {"duration": "2s"}}
  ])"));
}

json okTemplate(const std::string& prometheus) {
  json t = json::parse(R"({
    "apiVersion": "sluice.dev/v1alpha1", "kind": "AnalysisTemplate",
    "metadata": {"name": "ok", "namespace": "default"},
    "spec": {"metrics": [{"name": "errors", "interval": "1s", "count": 3, "successCondition": "result[0] < 0.05",
                          "provider": {"prometheus": {"query": "sluice_crash_error_rate"}}}]}
  })");
  t["spec"]["metrics"][0]["provider"]["prometheus"]["address"] = prometheus;
  return t;
}

struct Outcome {
  std::vector<int> steps;  // currentStepIndex as it changed, polled every 20 ms
  std::string phase;
  int analysisRuns = 0;
  std::string runPhase;
  std::vector<int> replicaSets;  // spec.replicas of the Rollout's ReplicaSets, sorted
};

// Runs the update from v1 to v2 with the controller as a child process, killing and restarting it at
// `kills` (seconds after the update); returns what was seen.
Outcome runUpdate(const std::vector<double>& kills) {
  const int exporterPort = freeLoopbackPort();
  prometheus::Exposer exposer("127.0.0.1:" + std::to_string(exporterPort));
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildGauge()
      .Name("sluice_crash_error_rate")
      .Help("5xx ratio")
      .Register(*registry)
      .Add({})
      .Set(0.01);
  exposer.RegisterCollectable(registry);
  PrometheusOptions options;
  options.scrapeTargets = {"127.0.0.1:" + std::to_string(exporterPort)};
  PrometheusHarness prometheus(options);

  ControllerEnv env(std::chrono::milliseconds(500));
  const std::string kubeconfig = env.cluster.server().kubeconfigPath().string();
  auto start = [&](int n) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{SLUICE_BINARY, "controller", "--leader-elect=false", "--kubeconfig",
                                 kubeconfig, "--metrics-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0",
                                 "--webhook-addr", "127.0.0.1:0"},
        env.cluster.dir().path() / ("controller-" + std::to_string(n) + ".log"));
  };
  int started = 0;
  auto controller = start(started++);
  env.cluster.ok("apply -f " + env.cluster.writeFile("t.json", okTemplate(prometheus.address()).dump()));
  env.cluster.ok("apply -f " + env.cluster.writeFile("v1.json", sixStepRollout("web:v1").dump()));
  REQUIRE(env.waitRollout(
      "web", [](const json& r) { return r.value(json::json_pointer("/status/phase"), "") == "Healthy"; }));
  const std::string v1 = env.rollout("web")["status"].value("stableRS", "");

  Outcome out;
  std::atomic<bool> watching{true};
  std::thread watcher([&] {
    int last = -2;
    while (watching) {
      const json r = env.rollout("web");
      if (r["status"].value("currentPodHash", "") != v1) {
        const int step = r.value(json::json_pointer("/status/currentStepIndex"), -1);
        if (step != last) out.steps.push_back(last = step);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  env.cluster.ok("apply -f " + env.cluster.writeFile("v2.json", sixStepRollout("web:v2").dump()));
  const auto t0 = std::chrono::steady_clock::now();
  for (double at : kills) {
    std::this_thread::sleep_until(
        t0 + std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::duration<double>(at)));
    controller->kill(SIGKILL);
    controller = start(started++);
  }
  const bool done = env.waitRollout(
      "web",
      [&](const json& r) {
        return r.value(json::json_pointer("/status/phase"), "") == "Healthy" &&
               r["status"].value("stableRS", "") != v1;
      },
      std::chrono::seconds(90));
  watching = false;
  watcher.join();
  INFO(controller->log());
  REQUIRE(done);
  // Let the old ReplicaSet's scale-down land.
  waitUntil(
      [&] {
        const json sets = env.cluster.getJson("replicasets -n default");
        return std::any_of(sets["items"].begin(), sets["items"].end(),
                           [](const json& rs) { return rs["spec"].value("replicas", -1) == 0; });
      },
      std::chrono::seconds(20));
  const json r = env.rollout("web");
  out.phase = r["status"].value("phase", "");
  const json runs = env.cluster.getJson("analysisruns -n default");
  out.analysisRuns = static_cast<int>(runs["items"].size());
  if (!runs["items"].empty()) out.runPhase = runs["items"][0]["status"].value("phase", "");
  const json sets = env.cluster.getJson("replicasets -n default");
  for (const auto& rs : sets["items"]) out.replicaSets.push_back(rs["spec"].value("replicas", -1));
  std::sort(out.replicaSets.begin(), out.replicaSets.end());
  controller->stop();
  return out;
}

}  // namespace

TEST_CASE("a controller killed at 20 random instants of a canary ends as an uninterrupted one",
          "[controller][e2e][crash]") {
  const Outcome calm = runUpdate({});
  INFO("uninterrupted steps seen: " << json(calm.steps).dump());
  CHECK(calm.phase == "Healthy");
  CHECK(calm.analysisRuns == 1);
  CHECK(calm.runPhase == "Successful");
  CHECK(calm.replicaSets == std::vector<int>{0, 3});

  std::mt19937 random(std::random_device{}());
  std::uniform_real_distribution<double> instant(0.0, 9.0);
  std::vector<double> kills(20);
  for (auto& k : kills) k = instant(random);
  std::sort(kills.begin(), kills.end());
  INFO("kills at " << json(kills).dump());
  const Outcome crashed = runUpdate(kills);
  INFO("steps seen with kills: " << json(crashed.steps).dump());
  CHECK(crashed.phase == calm.phase);
  CHECK(crashed.analysisRuns == 1);
  CHECK(crashed.runPhase == "Successful");
  CHECK(crashed.replicaSets == calm.replicaSets);
  // Every step recorded once, in order: the index never goes back and ends at the last step.
  CHECK(std::is_sorted(crashed.steps.begin(), crashed.steps.end()));
  CHECK(std::adjacent_find(crashed.steps.begin(), crashed.steps.end()) == crashed.steps.end());
  REQUIRE_FALSE(crashed.steps.empty());
  CHECK(crashed.steps.back() == 6);
}
