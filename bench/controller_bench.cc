// The controller's figures on the embedded cluster: resident memory and CPU of a `sluice controller`
// process (its own process, so the API server's memory is not counted) with 1,000 and 10,000 settled
// Rollouts, and the rate at which 1,000 Rollouts updated at once become Healthy; the time from an
// AnalysisRun's Failed status write to the abort's stable-only writes; and the reconcile time of one Rollout.
// Budgets: under 256 MiB at 10,000 Rollouts; under 100 ms from Failed to stable-only.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "analysis/providers/providers.h"
#include "base/diagnostics.h"
#include "base/source.h"
#include "bench/bench_cluster.h"
#include "bench/process_stats.h"
#include "bench/sqlite_baseline.h"
#include "controller/manager.h"
#include "controller/resources.h"
#include "engine/rollout.h"
#include "engine/rollout_json.h"
#include "engine/steering.h"
#include "kube/apiserver/server.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "tests/support/process.h"
#include "tests/support/prometheus_harness.h"

namespace {

using nlohmann::json;
using sluice::bench::applyCrds;
using sluice::bench::clientFor;
using sluice::bench::cpuSeconds;
using sluice::bench::recordMemory;
using sluice::bench::rollout;
using sluice::bench::ScratchDir;
using sluice::bench::startAndWait;
using Clock = std::chrono::steady_clock;
namespace kube = sluice::kube;
namespace controller = sluice::controller;

// The controller's client rate limit in the process benchmarks. The default (40/s, burst 80) would make
// the setup of 10,000 Rollouts take most of an hour; the figures are about the controller, not the limit.
constexpr const char* kQps = "2000";
constexpr const char* kBurst = "4000";

[[noreturn]] void fail(const std::string& why) {
  std::cerr << "controller_bench: " << why << "\n";
  std::abort();
}

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

json imagePatch(const std::string& image) {
  return {{"spec",
           {{"template", {{"spec", {{"containers", json::array({{{"name", "web"}, {"image", image}}})}}}}}}}};
}

std::string field(const json& obj, const char* pointer) {
  const json v = obj.value(json::json_pointer(pointer), json());
  return v.is_string() ? v.get<std::string>() : v.is_null() ? std::string() : v.dump();
}

// Healthy on the revision of its current spec: the controller has seen this generation and promoted it.
bool settled(const json& r) {
  return field(r, "/status/phase") == "Healthy" &&
         field(r, "/status/observedGeneration") == field(r, "/metadata/generation") &&
         !field(r, "/status/stableRS").empty() &&
         field(r, "/status/stableRS") == field(r, "/status/currentPodHash");
}

// The namespace of the Rollout web-<i>: a hundred to a namespace, as a large cluster spreads them over
// teams. (The embedded cluster's ReplicaSet controller lists a namespace's pods, without an index, for every
// ReplicaSet it syncs, and resyncs them all every 30 s: thousands in one namespace would bury the
// measurement under the cluster's own work.)
std::string namespaceOf(int i) { return "bench-" + std::to_string(i / 100); }

// Creates or patches `count` Rollouts named web-<i> from 8 client threads.
void forEachRollout(kube::Client& client, int count,
                    const std::function<kube::ApiResult<json>(kube::Client&, int)>& write) {
  std::atomic<int> next{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        if (auto r = write(client, i); !r)
          fail("write of web-" + std::to_string(i) + ": " + r.error().describe());
      }
    });
  }
  for (auto& t : writers) t.join();
}

// ---- A controller process ------------------------------------------------------------------------------

// A thread that watches one resource in `ns` ("": all) from now on and hands every event to `handler`.
class Watcher {
 public:
  Watcher(kube::Client& client, const kube::ResourceRef& resource, std::function<void(const json&)> handler,
          std::string ns = "default")
      : thread_([this, &client, resource, handler = std::move(handler), ns = std::move(ns)] {
          kube::WatchOptions o;
          o.allowBookmarks = false;
          (void)client.watch(
              resource, ns, o,
              [&](const kube::WatchEvent& e) {
                handler(e.object);
                return !stop_.stopped();
              },
              &stop_);
        }) {}
  ~Watcher() {
    stop_.stop();
    thread_.join();
  }

 private:
  kube::WatchStop stop_;
  std::thread thread_;
};

// The latest state of every Rollout as a watch opened before they exist delivers it: the
// figures poll this, not the server, whose lists of thousands of Rollouts would cost it more than the
// controller's own traffic.
class LatestRollouts {
 public:
  explicit LatestRollouts(kube::Client& client)
      : watcher_(
            client, controller::rolloutsResource(),
            [this](const json& r) {
              std::lock_guard lock(mu_);
              byName_[field(r, "/metadata/namespace") + "/" + field(r, "/metadata/name")] = r;
            },
            "") {}
  std::size_t count(const std::function<bool(const json&)>& done) {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(
        std::count_if(byName_.begin(), byName_.end(), [&](const auto& kv) { return done(kv.second); }));
  }

 private:
  std::mutex mu_;
  std::map<std::string, json> byName_;
  Watcher watcher_;  // last: stopped before the map goes
};

// N Rollouts (replicas 1, one ReplicaSet and one pod each) created on `sluice cluster` and settled by a
// `sluice controller --leader-elect=false` process; its memory and CPU once settled and after a minute
// idle. With range(1) set, then every Rollout updated at once (a one-step plan) until all are Healthy on
// the new revision: Rollouts progressed per second.
void BM_ControllerProcess(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const bool rollAll = state.range(1) != 0;
  for (auto _ : state) {
    ScratchDir dir;
    auto cluster = startAndWait({SLUICE_BINARY, "cluster", "--data-dir", (dir.path / "data").string(),
                                 "--port", "0", "--pod-ready-after", "100ms"},
                                dir.path / "cluster.log", "export KUBECONFIG=");
    const auto kubeconfig = dir.path / "data" / "kubeconfig";
    auto client = clientFor(kubeconfig);
    applyCrds(dir, kubeconfig, *client);
    auto ctl = startAndWait(
        {SLUICE_BINARY, "controller", "--kubeconfig", kubeconfig.string(), "--leader-elect=false",
         "--metrics-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0", "--qps", kQps, "--burst", kBurst},
        dir.path / "controller.log", "caches synced");
    const pid_t pid = ctl->pid();
    recordMemory(state, pid, "empty");

    for (int n = 0; n * 100 < count; ++n) {
      const json ns = {
          {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", namespaceOf(n * 100)}}}};
      if (!client->create({"", "v1", "namespaces", false, "Namespace"}, "", ns)) fail("namespace");
    }
    LatestRollouts latest(*client);
    const json steps = json::parse(R"([{"setWeight": 50}])");
    const auto created = Clock::now();
    forEachRollout(*client, count, [&](kube::Client& c, int i) {
      return c.create(
          controller::rolloutsResource(), namespaceOf(i),
          rollout("web-" + std::to_string(i), "registry.example/web:v1", 1, steps, namespaceOf(i)));
    });
    const auto timeout = std::chrono::seconds(count <= 1000 ? 600 : 3000);
    std::size_t healthy = 0;
    while ((healthy = latest.count(settled)) < static_cast<std::size_t>(count) &&
           Clock::now() - created < timeout)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    state.counters["settled"] = static_cast<double>(healthy);
    state.counters["settle_s"] = secondsSince(created);
    if (healthy < static_cast<std::size_t>(count)) {
      std::cerr << "only " << healthy << " of " << count << " Rollouts settled within " << timeout.count()
                << " s\n";
    }
    recordMemory(state, pid, "settled");
    const double cpuSettled = cpuSeconds(pid);
    state.counters["settled_cpu_s"] = cpuSettled;
    std::this_thread::sleep_for(std::chrono::seconds(60));
    recordMemory(state, pid, "idle60s");
    const double cpuIdled = cpuSeconds(pid);
    state.counters["idle60s_cpu_s"] = cpuIdled - cpuSettled;

    if (rollAll) {
      const auto updated = Clock::now();
      forEachRollout(*client, count, [&](kube::Client& c, int i) {
        return c.patch(controller::rolloutsResource(), namespaceOf(i), "web-" + std::to_string(i),
                       kube::PatchType::kMerge, imagePatch("registry.example/web:v2"));
      });
      state.counters["update_writes_s"] = secondsSince(updated);
      auto onV2 = [](const json& r) {
        return settled(r) &&
               r["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/web:v2";
      };
      while ((healthy = latest.count(onV2)) < static_cast<std::size_t>(count) &&
             Clock::now() - updated < std::chrono::seconds(600))
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const double took = secondsSince(updated);
      state.counters["rolled"] = static_cast<double>(healthy);
      state.counters["roll_s"] = took;
      state.counters["rolled_per_s"] = static_cast<double>(healthy) / took;
      state.counters["rolled_cpu_s"] = cpuSeconds(pid) - cpuIdled;
      recordMemory(state, pid, "rolled");
    }
    ctl->stop();
    cluster->stop();
  }
}
BENCHMARK(BM_ControllerProcess)
    ->ArgNames({"rollouts", "rollAll"})
    ->Args({1000, 1})
    ->Args({10000, 0})
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);

// ---- The controller in-process ---------------------------------------------------------------------------

// The embedded API server in-process with the CRDs applied, and the controller's manager running against
// it, as `sluice controller` builds it.
struct InProcess {
  ScratchDir dir;
  std::unique_ptr<sluice::apiserver::ApiServer> server;
  std::unique_ptr<kube::Client> client;  // the bench's
  std::unique_ptr<kube::Client> controllerClient;
  std::unique_ptr<sluice::analysis::Provider> provider;
  std::unique_ptr<controller::Manager> manager;

  explicit InProcess(controller::ManagerOptions options) {
    sluice::apiserver::ServerOptions so;
    so.dataDir = dir.path / "data";
    so.podReadyAfter = std::chrono::milliseconds(100);
    auto s = sluice::apiserver::ApiServer::start(so);
    if (!s) fail(s.error());
    server = std::move(s).value();
    client = clientFor(server->kubeconfigPath());
    applyCrds(dir, server->kubeconfigPath(), *client);
    kube::KubeconfigOptions o;
    o.kubeconfigFlag = server->kubeconfigPath().string();
    kube::ClientOptions co;
    co.userAgent = "sluice-controller";
    auto c = kube::Client::create(*kube::loadClientConfig(o), co);
    if (!c) fail(c.error());
    controllerClient = std::move(c).value();
    provider = sluice::analysis::makeProvider();
    options.leaderElect = false;
    manager = std::make_unique<controller::Manager>(*controllerClient, *provider, options);
    if (auto started = manager->start(std::chrono::seconds(30)); !started) fail(started.error());
  }
  ~InProcess() { manager->stop(); }

  json get(const std::string& name) {
    auto r = client->get(controller::rolloutsResource(), "default", name);
    if (!r) fail(r.error().describe());
    return *r;
  }
  // The Services <name>-stable and <name>-canary, both selecting app=<name>.
  void createServices(const std::string& name) {
    for (const char* role : {"stable", "canary"}) {
      json svc = {{"apiVersion", "v1"},
                  {"kind", "Service"},
                  {"metadata", {{"name", name + "-" + role}, {"namespace", "default"}}},
                  {"spec", {{"selector", {{"app", name}}}, {"ports", json::array({{{"port", 80}}})}}}};
      if (!client->create(controller::servicesResource(), "default", svc)) fail("service");
    }
  }
  bool waitRollout(const std::string& name, const std::function<bool(const json&)>& done,
                   std::chrono::seconds timeout = std::chrono::seconds(60)) {
    return sluice::testing::waitUntil([&] { return done(get(name)); }, timeout);
  }
};

// Reconcile durations of one Rollout (a four-step canary of 4 replicas), over five updates from the
// update to Healthy: p50 and p99 of every Rollout reconcile, as the manager's workers timed them.
void BM_RolloutReconcileOneRollout(benchmark::State& state) {
  std::mutex mu;
  std::vector<double> micros;
  controller::ManagerOptions options;
  options.onReconcile = [&](const std::string& queue, Clock::duration d) {
    if (queue != "rollouts") return;
    std::lock_guard lock(mu);
    micros.push_back(std::chrono::duration<double, std::micro>(d).count());
  };
  InProcess env(options);
  const json steps = json::parse(R"([{"setWeight": 25}, {"pause": {"duration": "1s"}}, {"setWeight": 50},
                                     {"pause": {"duration": "1s"}}])");
  for (auto _ : state) {
    if (!env.client->create(controller::rolloutsResource(), "default", rollout("web", "web:v0", 4, steps)))
      fail("create");
    if (!env.waitRollout("web", settled)) fail("web:v0 did not settle");
    {
      std::lock_guard lock(mu);
      micros.clear();
    }
    for (int v = 1; v <= 5; ++v) {
      const std::string image = "web:v" + std::to_string(v);
      if (!env.client->patch(controller::rolloutsResource(), "default", "web", kube::PatchType::kMerge,
                             imagePatch(image)))
        fail("patch");
      if (!env.waitRollout("web", [&](const json& r) {
            return settled(r) && r["spec"]["template"]["spec"]["containers"][0]["image"] == image;
          }))
        fail(image + " did not settle");
    }
    std::lock_guard lock(mu);
    state.counters["reconciles"] = static_cast<double>(micros.size());
    state.counters["p50_us"] = percentile(micros, 0.5);
    state.counters["p99_us"] = percentile(micros, 0.99);
    state.counters["max_us"] = percentile(micros, 1.0);
  }
}
BENCHMARK(BM_RolloutReconcileOneRollout)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

// What a watch saw of one aborting Rollout, each at the instant the event arrived here.
struct AbortSeen {
  std::mutex mu;
  std::string name, stableHash;
  int replicas = 0;  // the Rollout's size
  // Failed seen; the stable ReplicaSet back at full size, then all of it available; the canary at 0;
  // the canary Service back on the stable hash.
  std::optional<Clock::time_point> failed, stableUp, stableReady, canaryZero, serviceBack;
  bool stableDown = false, canaryUp = false, serviceMoved = false;

  void onRun(const json& run) {
    std::lock_guard lock(mu);
    if (field(run, "/metadata/labels/sluice.dev~1rollout") == name &&
        field(run, "/status/phase") == "Failed" && !failed)
      failed = Clock::now();
  }
};

std::string hashOf(const json& obj, const char* where) {
  return obj.value(json::json_pointer(where), json::object())
      .value(sluice::engine::kPodTemplateHashLabel, "");
}

// The time from an AnalysisRun's Failed status to the abort's stable-only writes, each as a watch here saw
// it arrive (all ride the same watch path, so its delivery time mostly cancels). The run fails on a real
// measurement: Prometheus answers vector(1) and the condition wants under 0.05. At setWeight 50 of 2
// replicas the stable runs 1 pod, so the abort first scales the stable back to 2, and scales the canary to
// 0 only once that pod is available (the cluster's pod readiness, 100 ms here, is not controller time):
// controller time = (Failed -> stable scaled up) + (stable available -> canary scaled to 0). The canary
// Service's selector back on the stable hash is timed too. Five Rollouts, each updated once.
void BM_AbortAfterFailedAnalysis(benchmark::State& state) {
  sluice::testing::PrometheusHarness prometheus(sluice::testing::PrometheusOptions{});
  InProcess env(controller::ManagerOptions{});
  json tmpl = json::parse(R"json({
    "apiVersion": "sluice.dev/v1alpha1", "kind": "AnalysisTemplate",
    "metadata": {"name": "always-fails", "namespace": "default"},
    "spec": {"metrics": [{"name": "error-rate", "interval": "1s", "count": 1, "failureLimit": 0,
                          "successCondition": "result[0] < 0.05",
                          "provider": {"prometheus": {"query": "vector(1)"}}}]}
  })json");
  tmpl["spec"]["metrics"][0]["provider"]["prometheus"]["address"] = prometheus.address();
  if (!env.client->create(controller::analysisTemplatesResource(), "default", tmpl)) fail("template");
  const json steps =
      json::parse(R"([{"setWeight": 50}, {"analysis": {"templates": [{"templateName": "always-fails"}]}}])");
  constexpr int kRuns = 5;
  for (auto _ : state) {
    std::vector<double> firstWrites, toService, toCanaryZero, afterStableReady, controllerTime;
    for (int i = 0; i < kRuns; ++i) {
      const std::string name = "abort-" + std::to_string(i);
      env.createServices(name);
      json r = rollout(name, "web:v1", 2, steps);
      r["spec"]["strategy"]["canary"]["canaryService"] = name + "-canary";
      r["spec"]["strategy"]["canary"]["stableService"] = name + "-stable";
      if (!env.client->create(controller::rolloutsResource(), "default", r)) fail("create " + name);
      if (!env.waitRollout(name, settled)) fail(name + " did not settle on v1");

      AbortSeen seen;
      seen.name = name;
      seen.replicas = 2;
      seen.stableHash = field(env.get(name), "/status/stableRS");
      auto rsHandler = [&](const json& rs) {
        std::lock_guard lock(seen.mu);
        if (field(rs, "/metadata/ownerReferences/0/name") != name) return;
        const int replicas = rs["spec"].value("replicas", 0);
        if (hashOf(rs, "/metadata/labels") == seen.stableHash) {
          if (replicas < seen.replicas) seen.stableDown = true;
          if (replicas == seen.replicas && seen.stableDown && seen.failed && !seen.stableUp)
            seen.stableUp = Clock::now();
          if (seen.stableUp && !seen.stableReady &&
              rs.value(json::json_pointer("/status/availableReplicas"), 0) == seen.replicas)
            seen.stableReady = Clock::now();
          return;
        }
        if (replicas > 0) seen.canaryUp = true;
        if (replicas == 0 && seen.canaryUp && seen.failed && !seen.canaryZero) seen.canaryZero = Clock::now();
      };
      auto svcHandler = [&](const json& svc) {
        std::lock_guard lock(seen.mu);
        if (field(svc, "/metadata/name") != name + "-canary") return;
        const std::string hash = hashOf(svc, "/spec/selector");
        if (!hash.empty() && hash != seen.stableHash) seen.serviceMoved = true;
        if (hash == seen.stableHash && seen.serviceMoved && seen.failed && !seen.serviceBack)
          seen.serviceBack = Clock::now();
      };
      {
        Watcher runs(*env.client, controller::analysisRunsResource(), [&](const json& o) { seen.onRun(o); });
        Watcher sets(*env.client, controller::replicaSetsResource(), rsHandler);
        Watcher services(*env.client, controller::servicesResource(), svcHandler);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the watches are open
        if (!env.client->patch(controller::rolloutsResource(), "default", name, kube::PatchType::kMerge,
                               imagePatch("web:v2")))
          fail("patch " + name);
        if (!sluice::testing::waitUntil(
                [&] {
                  std::lock_guard lock(seen.mu);
                  return seen.canaryZero && seen.stableUp && seen.stableReady &&
                         (seen.serviceBack || !seen.serviceMoved);
                },
                std::chrono::seconds(60)))
          fail(name + ": no abort seen: " + env.get(name)["status"].dump());
      }
      std::lock_guard lock(seen.mu);
      auto ms = [&](Clock::time_point t) {
        return std::chrono::duration<double, std::milli>(t - *seen.failed).count();
      };
      const double firstWrite = std::min(ms(*seen.stableUp), seen.serviceBack ? ms(*seen.serviceBack) : 1e9);
      firstWrites.push_back(firstWrite);
      toCanaryZero.push_back(ms(*seen.canaryZero));
      afterStableReady.push_back(ms(*seen.canaryZero) - ms(*seen.stableReady));
      if (seen.serviceBack) toService.push_back(ms(*seen.serviceBack));
      controllerTime.push_back(ms(*seen.stableUp) + ms(*seen.canaryZero) - ms(*seen.stableReady));
    }
    state.counters["runs"] = kRuns;
    state.counters["first_write_median_ms"] = percentile(firstWrites, 0.5);
    state.counters["service_median_ms"] = toService.empty() ? -1 : percentile(toService, 0.5);
    state.counters["canary_zero_median_ms"] = percentile(toCanaryZero, 0.5);
    state.counters["canary_zero_after_stable_ready_median_ms"] = percentile(afterStableReady, 0.5);
    state.counters["controller_median_ms"] = percentile(controllerTime, 0.5);
    state.counters["controller_max_ms"] = percentile(controllerTime, 1.0);
  }
}
BENCHMARK(BM_AbortAfterFailedAnalysis)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

// The time from a step's start to its weight in force in the routing object: Rollouts behind
// ingress-nginx with a fixed canary scale (setCanaryScale: no pod has to start between the steps),
// promoted out of each indefinite pause by the plugin's own patch. Timed from the promote's status write
// (when it returned here) to the canary Ingress's canary-weight at the next step's value, as a watch here
// saw it: the controller's watch delivery, its reconcile and the Ingress patch, and one watch delivery
// back. Nine steps (10% to 90%) of five Rollouts.
void BM_StepStartToWeightInForce(benchmark::State& state) {
  InProcess env(controller::ManagerOptions{});
  const kube::ResourceRef ingresses{"networking.k8s.io", "v1", "ingresses", true, "Ingress"};
  json steps = json::array({{{"setCanaryScale", {{"replicas", 1}}}}});
  for (int w = 10; w <= 90; w += 10) {
    steps.push_back({{"setWeight", w}});
    steps.push_back({{"pause", json::object()}});
  }
  constexpr int kRollouts = 5;
  for (auto _ : state) {
    std::vector<double> millis;
    for (int i = 0; i < kRollouts; ++i) {
      const std::string name = "routed-" + std::to_string(i);
      env.createServices(name);
      json ingress = {
          {"apiVersion", "networking.k8s.io/v1"},
          {"kind", "Ingress"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"rules", json::array({{{"host", name + ".example"},
                                    {"http",
                                     {{"paths", json::array({{{"path", "/"},
                                                              {"pathType", "Prefix"},
                                                              {"backend",
                                                               {{"service",
                                                                 {{"name", name + "-stable"},
                                                                  {"port", {{"number", 80}}}}}}}}})}}}}})}}}};
      if (!env.client->create(ingresses, "default", ingress)) fail("ingress");
      json r = rollout(name, "web:v1", 2, steps);
      json& canary = r["spec"]["strategy"]["canary"];
      canary["canaryService"] = name + "-canary";
      canary["stableService"] = name + "-stable";
      canary["trafficRouting"] = {{"nginx", {{"stableIngress", name}}}};
      if (!env.client->create(controller::rolloutsResource(), "default", r)) fail("create " + name);
      if (!env.waitRollout(name, settled)) fail(name + " did not settle on v1");

      std::mutex mu;
      std::map<int, Clock::time_point> weightSeen;  // canary-weight -> when a watch here first saw it
      Watcher watch(*env.client, ingresses, [&](const json& o) {
        if (field(o, "/metadata/name") != name + "-" + name + "-canary") return;
        const std::string w = field(o, "/metadata/annotations/nginx.ingress.kubernetes.io~1canary-weight");
        if (w.empty()) return;
        std::lock_guard lock(mu);
        weightSeen.emplace(std::stoi(w), Clock::now());
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the watch is open
      if (!env.client->patch(controller::rolloutsResource(), "default", name, kube::PatchType::kMerge,
                             imagePatch("web:v2")))
        fail("patch " + name);
      for (int w = 10; w < 90; w += 10) {
        const int pauseIndex = 2 * (w / 10);  // the pause after setWeight w
        if (!env.waitRollout(name, [&](const json& ro) {
              return field(ro, "/status/phase") == "Paused" &&
                     field(ro, "/status/currentStepIndex") == std::to_string(pauseIndex);
            }))
          fail(name + " did not pause after setWeight " + std::to_string(w));
        sluice::Diagnostics diags;
        auto typed = sluice::engine::parseRollout(env.get(name), sluice::SourceMap{}, diags);
        if (!typed) fail("parse " + name);
        auto promote = sluice::engine::promotePatch(*typed);
        if (!promote || promote->status.is_null()) fail("no promote patch for " + name);
        if (!env.client->patch(controller::rolloutsResource(), "default", name, kube::PatchType::kMerge,
                               promote->status, {}, "status"))
          fail("promote " + name);
        const auto promoted = Clock::now();
        if (!sluice::testing::waitUntil(
                [&] {
                  std::lock_guard lock(mu);
                  return weightSeen.count(w + 10) > 0;
                },
                std::chrono::seconds(30)))
          fail(name + ": weight " + std::to_string(w + 10) + " never in force");
        std::lock_guard lock(mu);
        millis.push_back(std::chrono::duration<double, std::milli>(weightSeen[w + 10] - promoted).count());
      }
    }
    state.counters["steps"] = static_cast<double>(millis.size());
    state.counters["median_ms"] = percentile(millis, 0.5);
    state.counters["p90_ms"] = percentile(millis, 0.9);
    state.counters["max_ms"] = percentile(millis, 1.0);
  }
}
BENCHMARK(BM_StepStartToWeightInForce)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
