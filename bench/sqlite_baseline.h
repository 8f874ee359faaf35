// What the API server benchmarks compare against: a scratch directory per run, and raw SQLite inserts into
// the store's log schema with the store's durability settings (WAL, synchronous=NORMAL).
#pragma once

#include <sqlite3.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace sluice::bench {

// A fresh directory for one benchmark run, removed afterwards.
struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() { std::filesystem::remove_all(path); }
};

// One prepared INSERT into a log table shaped as the store's, each in its own implicit transaction.
class RawSqliteLog {
 public:
  explicit RawSqliteLog(const std::filesystem::path& file) {
    sqlite3_open(file.c_str(), &db_);
    sqlite3_exec(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nullptr, nullptr, nullptr);
    sqlite3_exec(
        db_,
        "CREATE TABLE log (rev INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, create_rev INTEGER "
        "NOT NULL, prev_rev INTEGER NOT NULL, deleted INTEGER NOT NULL, value BLOB NOT NULL);"
        "CREATE UNIQUE INDEX log_key_prev ON log (key, prev_rev); CREATE INDEX log_key_rev ON log (key, "
        "rev);",
        nullptr, nullptr, nullptr);
    sqlite3_prepare_v2(db_,
                       "INSERT INTO log (key, create_rev, prev_rev, deleted, value) VALUES (?1, 0, 0, 0, ?2)",
                       -1, &stmt_, nullptr);
  }
  RawSqliteLog(const RawSqliteLog&) = delete;
  RawSqliteLog& operator=(const RawSqliteLog&) = delete;
  ~RawSqliteLog() {
    sqlite3_finalize(stmt_);
    sqlite3_close(db_);
  }

  // False when SQLite refused the row.
  bool insert(const std::string& key, const std::string& value) {
    sqlite3_bind_text(stmt_, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_blob(stmt_, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    bool ok = sqlite3_step(stmt_) == SQLITE_DONE;
    sqlite3_reset(stmt_);
    return ok;
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace sluice::bench
