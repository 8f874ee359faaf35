// The API server's storage cost: writes per second through Store::create and through the registry's
// full create (JSON, metadata, validation), next to raw SQLite inserts into the same schema with the same
// durability settings (WAL, synchronous=NORMAL), so the ratio shows what the server adds.
// Budget: over 2,000 writes a second, within 2x of raw SQLite.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "kube/apiserver/registry.h"
#include "kube/apiserver/store.h"

namespace {

namespace fs = std::filesystem;

// A fresh directory for one benchmark run, removed afterwards.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "sluice-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path = pattern;
  }
  ~ScratchDir() { fs::remove_all(path); }
};

const std::string kValue(1024, 'x');

void BM_RawSqliteInsert(benchmark::State& state) {
  ScratchDir dir;
  sqlite3* db = nullptr;
  sqlite3_open((dir.path / "raw.db").c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nullptr, nullptr, nullptr);
  sqlite3_exec(
      db,
      "CREATE TABLE log (rev INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, create_rev INTEGER NOT "
      "NULL, prev_rev INTEGER NOT NULL, deleted INTEGER NOT NULL, value BLOB NOT NULL);"
      "CREATE UNIQUE INDEX log_key_prev ON log (key, prev_rev); CREATE INDEX log_key_rev ON log (key, rev);",
      nullptr, nullptr, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO log (key, create_rev, prev_rev, deleted, value) VALUES (?1, 0, 0, 0, ?2)",
                     -1, &stmt, nullptr);
  int64_t i = 0;
  for (auto _ : state) {
    std::string key = "core/configmaps/default/cm-" + std::to_string(i++);
    sqlite3_bind_text(stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 2, kValue.data(), static_cast<int>(kValue.size()), SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_DONE) state.SkipWithError("insert failed");
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
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
