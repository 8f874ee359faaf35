// The API server's storage cost: writes per second through Store::create and through the registry's
// full create (JSON, metadata, validation), next to raw SQLite inserts into the same schema with the same
// durability settings (WAL, synchronous=NORMAL), so the ratio shows what the server adds.
// Budget: over 2,000 writes a second, within 2x of raw SQLite.
#include <benchmark/benchmark.h>
#include <string>

#include "bench/sqlite_baseline.h"
#include "kube/apiserver/registry.h"
#include "kube/apiserver/store.h"

namespace {

using sluice::bench::ScratchDir;

const std::string kValue(1024, 'x');

void BM_RawSqliteInsert(benchmark::State& state) {
  ScratchDir dir;
  sluice::bench::RawSqliteLog raw(dir.path / "raw.db");
  int64_t i = 0;
  for (auto _ : state) {
    if (!raw.insert("core/configmaps/default/cm-" + std::to_string(i++), kValue)) {
      state.SkipWithError("insert failed");
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawSqliteInsert)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_StoreCreate(benchmark::State& state) {
  ScratchDir dir;
  auto store = sluice::apiserver::Store::open(dir.path / "state.db");
  if (!store.ok()) std::abort();
  int64_t i = 0;
  for (auto _ : state) {
    auto r = store.value()->create("core/configmaps/default/cm-" + std::to_string(i++), kValue);
    if (!r.ok()) state.SkipWithError(r.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreCreate)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_RegistryCreateConfigMap(benchmark::State& state) {
  ScratchDir dir;
  auto store = sluice::apiserver::Store::open(dir.path / "state.db");
  if (!store.ok()) std::abort();
  auto reg = sluice::apiserver::Registry::open(*store.value());
  if (!reg.ok()) std::abort();
  auto type = reg.value()->find("", "v1", "configmaps");
  int64_t i = 0;
  for (auto _ : state) {
    nlohmann::json cm = {{"apiVersion", "v1"},
                         {"kind", "ConfigMap"},
                         {"metadata", {{"name", "cm-" + std::to_string(i++)}, {"labels", {{"app", "web"}}}}},
                         {"data", {{"payload", kValue}}}};
    auto r = reg.value()->create(*type, "default", std::move(cm), {});
    if (!r.ok()) state.SkipWithError(r.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RegistryCreateConfigMap)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
