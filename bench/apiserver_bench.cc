// The embedded API server over HTTPS on loopback, as clients see it: ConfigMap creates and gets per second
// from 1, 4 and 8 client threads (each its own kept-alive client) next to raw SQLite inserts of the same
// bytes; watch delivery latency from a write to its event at 100 concurrent watchers; and the resident
// memory of a `sluice cluster` process empty, holding 10,000 ConfigMaps of about 1 KiB, and restarted on
// that directory. Budgets: over 2,000 writes a second; watch delivery p99 under 10 ms.
#include <benchmark/benchmark.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "bench/sqlite_baseline.h"
#include "kube/apiserver/server.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "tests/support/process.h"

namespace {

using nlohmann::json;
using sluice::bench::ScratchDir;

const sluice::kube::ResourceRef kConfigMaps{"", "v1", "configmaps", true, "ConfigMap"};
const std::string kPayload(1024, 'x');

json configMap(const std::string& name, const std::string& ns = "default") {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app", "web"}}}}},
          {"data", {{"payload", kPayload}}}};
}

sluice::kube::ClientConfig configFor(const std::filesystem::path& kubeconfig) {
  sluice::kube::KubeconfigOptions o;
  o.kubeconfigFlag = kubeconfig.string();
  auto c = sluice::kube::loadClientConfig(o);
  if (!c) {
    std::cerr << c.error() << "\n";
    std::abort();
  }
  return *c;
}

std::unique_ptr<sluice::kube::Client> clientFor(const sluice::kube::ClientConfig& config) {
  sluice::kube::ClientOptions options;
  options.qps = 1e9;  // measure the server, not the client's rate limit
  options.burst = 1 << 30;
  auto c = sluice::kube::Client::create(config, options);
  if (!c) std::abort();
  return std::move(c).value();
}

// One in-process server for the whole run: the benchmarks add objects under fresh names.
struct SharedServer {
  ScratchDir dir;
  std::unique_ptr<sluice::apiserver::ApiServer> server;
  sluice::kube::ClientConfig config;
  SharedServer() {
    sluice::apiserver::ServerOptions options;
    options.dataDir = dir.path / "data";
    auto s = sluice::apiserver::ApiServer::start(options);
    if (!s) {
      std::cerr << s.error() << "\n";
      std::abort();
    }
    server = std::move(s).value();
    config = configFor(server->kubeconfigPath());
    if (!clientFor(config)->create(kConfigMaps, "default", configMap("read-me")).ok()) std::abort();
  }
};

SharedServer& sharedServer() {
  static SharedServer s;
  return s;
}

std::atomic<int64_t> nextName{0};

// The bytes the server stores for one of these ConfigMaps, inserted straight into SQLite.
void BM_RawSqliteInsertSameBytes(benchmark::State& state) {
  ScratchDir dir;
  sluice::bench::RawSqliteLog raw(dir.path / "raw.db");
  json cm = configMap("cm-0");
  cm["metadata"]["uid"] = "8f6c1f4e-3b7a-4d2c-9e1f-0a2b3c4d5e6f";
  cm["metadata"]["resourceVersion"] = "123456";
  cm["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z";
  const std::string bytes = cm.dump();
  int64_t i = 0;
  for (auto _ : state) {
    if (!raw.insert("core/configmaps/default/cm-" + std::to_string(i++), bytes)) {
      state.SkipWithError("insert failed");
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_RawSqliteInsertSameBytes)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_HttpsCreate(benchmark::State& state) {
  auto& shared = sharedServer();
  auto client = clientFor(shared.config);
  // The first request opens the kept-alive connection; not part of the rate.
  (void)client->get(kConfigMaps, "default", "read-me");
  for (auto _ : state) {
    auto r = client->create(kConfigMaps, "default", configMap("cm-" + std::to_string(nextName++)));
    if (!r) state.SkipWithError(r.error().describe().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HttpsCreate)->Unit(benchmark::kMicrosecond)->UseRealTime()->Threads(1)->Threads(4)->Threads(8);

void BM_HttpsGet(benchmark::State& state) {
  auto& shared = sharedServer();
  auto client = clientFor(shared.config);
  (void)client->get(kConfigMaps, "default", "read-me");
  for (auto _ : state) {
    auto r = client->get(kConfigMaps, "default", "read-me");
    if (!r) state.SkipWithError(r.error().describe().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HttpsGet)->Unit(benchmark::kMicrosecond)->UseRealTime()->Threads(1)->Threads(4)->Threads(8);

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// 100 watchers on the ConfigMaps of one namespace; each write carries its start time in an annotation and
// every watcher notes how long its event took to arrive. Writes are spaced so that the figure is delivery
// latency, not queueing behind a burst.
void BM_WatchDelivery100(benchmark::State& state) {
  constexpr int kWatchers = 100;
  constexpr int kWrites = 100;
  auto& shared = sharedServer();
  auto writer = clientFor(shared.config);
  const std::string ns = "watch-bench-" + std::to_string(nextName++);
  if (!writer->create({"", "v1", "namespaces", false, "Namespace"}, "", {{"metadata", {{"name", ns}}}})) {
    state.SkipWithError("namespace");
    return;
  }
  for (auto _ : state) {
    std::mutex mu;
    std::vector<double> latenciesUs;
    std::atomic<int> ready{0};
    std::atomic<int> received{0};
    sluice::kube::WatchStop stop;
    std::vector<std::thread> watchers;
    auto start = writer->list(kConfigMaps, ns);
    if (!start) std::abort();
    const std::string fromRv = (*start)["metadata"]["resourceVersion"];
    for (int w = 0; w < kWatchers; ++w) {
      watchers.emplace_back([&] {
        auto c = clientFor(shared.config);
        sluice::kube::WatchOptions wo;
        wo.resourceVersion = fromRv;
        wo.allowBookmarks = false;
        bool counted = false;
        std::vector<double> mine;
        (void)c->watch(
            kConfigMaps, ns, wo,
            [&](const sluice::kube::WatchEvent& e) {
              int64_t at = nowNs();
              if (!counted) {
                counted = true;
                ++ready;
              }
              if (!e.object.contains("metadata")) return !stop.stopped();
              const auto& meta = e.object["metadata"];
              if (meta.contains("annotations") && meta["annotations"].contains("sent-ns")) {
                int64_t sent = std::stoll(meta["annotations"]["sent-ns"].get<std::string>());
                if (sent > 0) mine.push_back(static_cast<double>(at - sent) / 1000.0);
                ++received;
              }
              return !stop.stopped();
            },
            &stop);
        std::lock_guard lock(mu);
        latenciesUs.insert(latenciesUs.end(), mine.begin(), mine.end());
      });
    }
    // A first write that every watcher sees marks them all connected.
    json warm = configMap("warm", ns);
    warm["metadata"]["annotations"] = {{"sent-ns", "0"}};
    if (!writer->create(kConfigMaps, ns, warm)) std::abort();
    while (ready.load() < kWatchers) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (int i = 0; i < kWrites; ++i) {
      json cm = configMap("cm-" + std::to_string(i), ns);
      cm["metadata"]["annotations"] = {{"sent-ns", std::to_string(nowNs())}};
      if (!writer->create(kConfigMaps, ns, cm)) std::abort();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (received.load() < kWatchers * (kWrites + 1) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop.stop();
    // A last write wakes the watchers so they notice the stop at once.
    (void)writer->create(kConfigMaps, ns, configMap("wake", ns));
    for (auto& t : watchers) t.join();
    state.counters["p50_us"] = percentile(latenciesUs, 0.5);
    state.counters["p99_us"] = percentile(latenciesUs, 0.99);
    state.counters["max_us"] = percentile(latenciesUs, 1.0);
    state.counters["events"] = static_cast<double>(latenciesUs.size());
    for (const char* name : {"warm", "wake"}) (void)writer->remove(kConfigMaps, ns, name);
    for (int i = 0; i < kWrites; ++i) (void)writer->remove(kConfigMaps, ns, "cm-" + std::to_string(i));
  }
}
BENCHMARK(BM_WatchDelivery100)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

long vmRssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

std::unique_ptr<sluice::testing::ChildProcess> startCluster(const ScratchDir& dir, int run) {
  auto p = std::make_unique<sluice::testing::ChildProcess>(
      std::vector<std::string>{SLUICE_BINARY, "cluster", "--data-dir", (dir.path / "data").string(), "--port",
                               "0"},
      dir.path / ("server" + std::to_string(run) + ".log"));
  if (!sluice::testing::waitUntil([&] { return p->log().find("export KUBECONFIG=") != std::string::npos; },
                                  std::chrono::seconds(60))) {
    std::cerr << p->log();
    std::abort();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  return p;
}

// Resident memory of the server process (KiB): empty, with 10,000 ConfigMaps of ~1 KiB written over
// HTTPS by 8 clients, and restarted on that directory (after a full list, as an informer would do).
void BM_ClusterResidentMemory(benchmark::State& state) {
  constexpr int kObjects = 10000;
  for (auto _ : state) {
    ScratchDir dir;
    auto server = startCluster(dir, 0);
    state.counters["empty_KiB"] = static_cast<double>(vmRssKiB(server->pid()));
    auto config = configFor(dir.path / "data" / "kubeconfig");
    std::atomic<int> next{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 8; ++t) {
      writers.emplace_back([&] {
        auto c = clientFor(config);
        for (int i = next++; i < kObjects; i = next++) {
          if (!c->create(kConfigMaps, "default", configMap("cm-" + std::to_string(i)))) std::abort();
        }
      });
    }
    for (auto& t : writers) t.join();
    state.counters["loaded_KiB"] = static_cast<double>(vmRssKiB(server->pid()));
    server->kill(SIGTERM);
    sluice::testing::waitUntil([&] { return !server->running(); }, std::chrono::seconds(10));
    server = startCluster(dir, 1);
    state.counters["restarted_KiB"] = static_cast<double>(vmRssKiB(server->pid()));
    auto listed = clientFor(configFor(dir.path / "data" / "kubeconfig"))->listAll(kConfigMaps, "default");
    if (!listed || (*listed)["items"].size() != kObjects) std::abort();
    state.counters["restarted_listed_KiB"] = static_cast<double>(vmRssKiB(server->pid()));
  }
}
BENCHMARK(BM_ClusterResidentMemory)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
