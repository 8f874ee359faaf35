// The in-server controllers' cost: how fast the garbage collector deletes the dependents of a deleted
// owner (background cascade, dependents per second), and what the collector and the namespace controller
// watching every write take from the registry's create rate.
// Budget: over 500 dependents collected a second; the controllers add under 20% to the CPU of a create
// (their observers run on the writing thread).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>

#include "kube/apiserver/garbage_collector.h"
#include "kube/apiserver/namespace_controller.h"
#include "kube/apiserver/registry.h"
#include "kube/apiserver/store.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace sluice::apiserver;

// A fresh store and registry in a directory removed afterwards.
struct Cluster {
  fs::path dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<Registry> registry;
  std::shared_ptr<const ResourceType> configMaps;

  Cluster() {
    std::string pattern = (fs::temp_directory_path() / "sluice-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    dir = pattern;
    auto s = Store::open(dir / "state.db");
    if (!s.ok()) std::abort();
    store = std::move(s).value();
    auto r = Registry::open(*store);
    if (!r.ok()) std::abort();
    registry = std::move(r).value();
    configMaps = registry->find("", "v1", "configmaps");
  }
  ~Cluster() {
    registry.reset();
    store.reset();
    fs::remove_all(dir);
  }

  json create(const std::string& name, const json& owners = json::array()) {
    json cm = {{"metadata", {{"name", name}}}, {"data", {{"k", "v"}}}};
    if (!owners.empty()) cm["metadata"]["ownerReferences"] = owners;
    auto r = registry->create(*configMaps, "default", std::move(cm), {});
    if (!r.ok()) std::abort();
    return r.value();
  }
};

void BM_BackgroundCascade(benchmark::State& state) {
  Cluster c;
  auto gc = GarbageCollector::start(*c.registry);
  if (!gc.ok()) std::abort();
  const int64_t n = state.range(0);
  std::mutex mu;
  std::condition_variable cv;
  int64_t deleted = 0;
  auto watch =
      c.registry->watch(*c.configMaps, "default", {std::to_string(c.registry->currentRevision()), "", ""},
                        [&](const WatchEvent& e) {
                          if (e.type != "DELETED") return;
                          std::lock_guard lock(mu);
                          ++deleted;
                          cv.notify_all();
                        });
  if (!watch.ok()) std::abort();
  int64_t round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::string owner = "owner-" + std::to_string(round++);
    json o = c.create(owner);
    json ref = json::array({{{"apiVersion", "v1"},
                             {"kind", "ConfigMap"},
                             {"name", owner},
                             {"uid", o["metadata"]["uid"]},
                             {"blockOwnerDeletion", true}}});
    for (int64_t i = 0; i < n; ++i) c.create(owner + "-dep-" + std::to_string(i), ref);
    int64_t target = 0;
    {
      std::lock_guard lock(mu);
      target = deleted + n + 1;
    }
    state.ResumeTiming();
    DeleteOptions background;
    background.propagationPolicy = "Background";
    if (!c.registry->remove(*c.configMaps, "default", owner, background).ok()) std::abort();
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return deleted >= target; });
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_BackgroundCascade)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

// Creates through the registry, with (range 1) or without (range 0) both controllers watching.
void BM_CreateWithControllers(benchmark::State& state) {
  Cluster c;
  std::unique_ptr<GarbageCollector> gc;
  std::unique_ptr<NamespaceController> namespaces;
  if (state.range(0) == 1) {
    gc = std::move(GarbageCollector::start(*c.registry)).value();
    namespaces = std::move(NamespaceController::start(*c.registry)).value();
  }
  int64_t i = 0;
  for (auto _ : state) c.create("cm-" + std::to_string(i++));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CreateWithControllers)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
