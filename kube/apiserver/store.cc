// The SQLite log behind the API server: one `log` table, rows only ever appended (and, on compaction,
// superseded rows removed); an in-memory map of the latest rows serves current reads.
#include "kube/apiserver/store.h"

#include <sqlite3.h>

#include <map>
#include <mutex>
#include <shared_mutex>

namespace sluice::apiserver {
namespace {

StoreError ioError(sqlite3* db, const std::string& what) {
  return {StoreErrc::kIo, what + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory")};
}

// A prepared statement, finalised on destruction.
class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }
  bool prepare(sqlite3* db, const char* sql) {
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) == SQLITE_OK;
  }
  sqlite3_stmt* get() const { return stmt_; }
  void reset() const {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  void bindText(int i, std::string_view s) const {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
  }
  void bindBlob(int i, std::string_view s) const {
    sqlite3_bind_blob(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
  }
  void bindInt(int i, int64_t v) const { sqlite3_bind_int64(stmt_, i, v); }
  std::string text(int i) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, i));
    return p == nullptr ? std::string() : std::string(p, sqlite3_column_bytes(stmt_, i));
  }
  int64_t integer(int i) const { return sqlite3_column_int64(stmt_, i); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

struct Latest {
  int64_t revision = 0;
  int64_t createRevision = 0;
  std::string value;
};

// The smallest string greater than every string starting with `prefix` (empty: no upper bound).
std::string prefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) != 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

bool hasPrefix(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

// Closes the connection last: it is declared before the statements that use it.
struct Connection {
  sqlite3* db = nullptr;
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() { sqlite3_close(db); }
};

struct Store::Impl {
  Connection conn;
  sqlite3* db = nullptr;
  StoreOptions options;
  std::filesystem::path file;

  // Serialises writers, SQLite use and watch registration, so events reach watchers in revision order.
  mutable std::mutex writeMu;
  // Guards the in-memory state below for readers.
  mutable std::shared_mutex stateMu;
  std::map<std::string, Latest, std::less<>> latest;
  int64_t revision = 0;
  int64_t compacted = 0;
  int64_t writesSinceCompaction = 0;

  struct Watcher {
    std::string prefix;
    WatchCallback callback;
  };
  std::map<uint64_t, Watcher> watchers;
  uint64_t nextWatcherId = 1;

  Statement insert;
  Statement lastRow;


  StoreResult<int64_t> exec(const char* sql) const {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = std::string(sql) + ": " + (err != nullptr ? err : "failed");
      sqlite3_free(err);
      return StoreError{StoreErrc::kIo, message};
    }
    return int64_t{0};
  }

  // Appends one row; returns its revision. Caller holds writeMu.
  StoreResult<int64_t> append(std::string_view key, int64_t createRevision, int64_t prevRevision, bool deleted,
                              std::string_view value) {
    insert.reset();
    insert.bindText(1, key);
    insert.bindInt(2, createRevision);
    insert.bindInt(3, prevRevision);
    insert.bindInt(4, deleted ? 1 : 0);
    insert.bindBlob(5, value);
    int rc = sqlite3_step(insert.get());
    insert.reset();
    if (rc != SQLITE_DONE) return ioError(db, "writing " + std::string(key) + " to " + file.string());
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db));
  }

  void notify(const StoreEvent& event) {
    for (auto& [id, w] : watchers) {
      if (hasPrefix(event.key, w.prefix)) w.callback(event);
    }
  }

  void maybeCompact() {
    if (options.retainRevisions <= 0) return;
    if (++writesSinceCompaction < options.retainRevisions) return;
    writesSinceCompaction = 0;
    int64_t target = revision - options.retainRevisions;
    if (target > compacted) (void)compactLocked(target);
  }

  StoreResult<int64_t> compactLocked(int64_t target) {
    if (target <= compacted) return compacted;
    if (target > revision) target = revision;
    Statement del;
    if (!del.prepare(db,
                     "DELETE FROM log WHERE rev <= ?1 AND (deleted = 1 OR EXISTS (SELECT 1 FROM log n WHERE "
                     "n.key = log.key AND n.rev > log.rev AND n.rev <= ?1))")) {
      return ioError(db, "preparing compaction");
    }
    Statement meta;
    if (!meta.prepare(db, "INSERT OR REPLACE INTO meta(name, value) VALUES ('compacted', ?1)")) {
      return ioError(db, "preparing compaction");
    }
    auto b = exec("BEGIN IMMEDIATE");
    if (!b) return b;
    del.bindInt(1, target);
    meta.bindInt(1, target);
    if (sqlite3_step(del.get()) != SQLITE_DONE || sqlite3_step(meta.get()) != SQLITE_DONE) {
      auto err = ioError(db, "compacting " + file.string());
      (void)exec("ROLLBACK");
      return err;
    }
    auto c = exec("COMMIT");
    if (!c) return c;
    std::unique_lock lock(stateMu);
    compacted = target;
    return target;
  }
};

StoreWatch::~StoreWatch() { store_->unwatch(id_); }

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

StoreResult<std::unique_ptr<Store>> Store::open(const std::filesystem::path& file, StoreOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->file = file;
  int openRc = sqlite3_open_v2(file.c_str(), &impl->conn.db,
                               SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  impl->db = impl->conn.db;
  if (openRc != SQLITE_OK) {
    return ioError(impl->db, "opening " + file.string());
  }
  sqlite3_busy_timeout(impl->db, 30000);
  for (const char* sql : {
           "PRAGMA journal_mode=WAL",
           "PRAGMA synchronous=NORMAL",
           "CREATE TABLE IF NOT EXISTS log (rev INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, "
           "create_rev INTEGER NOT NULL, prev_rev INTEGER NOT NULL, deleted INTEGER NOT NULL, value BLOB NOT NULL)",
           // Two writers starting from the same row cannot both append: the optimistic lock in the data.
           "CREATE UNIQUE INDEX IF NOT EXISTS log_key_prev ON log (key, prev_rev)",
           "CREATE INDEX IF NOT EXISTS log_key_rev ON log (key, rev)",
           "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
       }) {
    auto r = impl->exec(sql);
    if (!r) return StoreError{StoreErrc::kIo, file.string() + ": " + r.error().message};
  }
  if (!impl->insert.prepare(impl->db,
                            "INSERT INTO log (key, create_rev, prev_rev, deleted, value) VALUES (?1, ?2, ?3, ?4, ?5)")) {
    return ioError(impl->db, "preparing writes on " + file.string());
  }
  if (!impl->lastRow.prepare(impl->db, "SELECT MAX(rev) FROM log WHERE key = ?1")) {
    return ioError(impl->db, "preparing writes on " + file.string());
  }
  {
    Statement s;
    if (!s.prepare(impl->db,
                   "SELECT key, rev, CASE create_rev WHEN 0 THEN rev ELSE create_rev END, value FROM log WHERE rev IN (SELECT MAX(rev) FROM log GROUP BY key) "
                   "AND deleted = 0")) {
      return ioError(impl->db, "reading " + file.string());
    }
    int rc = 0;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      impl->latest[s.text(0)] = Latest{s.integer(1), s.integer(2), s.text(3)};
    }
    if (rc != SQLITE_DONE) return ioError(impl->db, "reading " + file.string());
  }
  {
    Statement s;
    if (!s.prepare(impl->db, "SELECT seq FROM sqlite_sequence WHERE name = 'log'")) {
      return ioError(impl->db, "reading " + file.string());
    }
    if (sqlite3_step(s.get()) == SQLITE_ROW) impl->revision = s.integer(0);
  }
  {
    Statement s;
    if (!s.prepare(impl->db, "SELECT value FROM meta WHERE name = 'compacted'")) {
      return ioError(impl->db, "reading " + file.string());
    }
    if (sqlite3_step(s.get()) == SQLITE_ROW) impl->compacted = s.integer(0);
  }
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

int64_t Store::currentRevision() const {
  std::shared_lock lock(impl_->stateMu);
  return impl_->revision;
}

int64_t Store::compactedRevision() const {
  std::shared_lock lock(impl_->stateMu);
  return impl_->compacted;
}

StoreResult<StoredObject> Store::get(std::string_view key) const {
  std::shared_lock lock(impl_->stateMu);
  auto it = impl_->latest.find(key);
  if (it == impl_->latest.end()) return StoreError{StoreErrc::kNotFound, std::string(key) + " not found"};
  return StoredObject{it->first, it->second.value, it->second.revision, it->second.createRevision};
}

StoreResult<StoreList> Store::list(std::string_view prefix, std::string_view startAfter, std::size_t limit,
                                   int64_t revision) const {
  StoreList out;
  {
    std::shared_lock lock(impl_->stateMu);
    if (revision != 0 && revision <= impl_->compacted) {
      return StoreError{StoreErrc::kCompacted, "revision " + std::to_string(revision) + " has been compacted"};
    }
    if (revision == 0 || revision >= impl_->revision) {
      out.revision = impl_->revision;
      std::string from = startAfter.empty() ? std::string(prefix) : std::string(startAfter);
      auto it = impl_->latest.lower_bound(from);
      if (!startAfter.empty() && it != impl_->latest.end() && it->first == startAfter) ++it;
      for (; it != impl_->latest.end() && hasPrefix(it->first, prefix); ++it) {
        if (limit != 0 && out.items.size() == limit) {
          out.more = true;
          break;
        }
        out.items.push_back({it->first, it->second.value, it->second.revision, it->second.createRevision});
      }
      return out;
    }
  }
  // A past revision: read the history.
  std::lock_guard wlock(impl_->writeMu);
  Statement s;
  if (!s.prepare(impl_->db,
                 "SELECT l.key, l.rev, CASE l.create_rev WHEN 0 THEN l.rev ELSE l.create_rev END, l.value FROM log l WHERE l.rev IN (SELECT MAX(rev) FROM log "
                 "WHERE key >= ?1 AND (?2 = '' OR key < ?2) AND key > ?3 AND rev <= ?4 GROUP BY key) AND "
                 "l.deleted = 0 ORDER BY l.key LIMIT ?5")) {
    return ioError(impl_->db, "preparing a list");
  }
  std::string end = prefixEnd(prefix);
  s.bindText(1, prefix);
  s.bindText(2, end);
  s.bindText(3, startAfter);
  s.bindInt(4, revision);
  s.bindInt(5, limit == 0 ? -1 : static_cast<int64_t>(limit) + 1);
  int rc = 0;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    if (limit != 0 && out.items.size() == limit) {
      out.more = true;
      break;
    }
    out.items.push_back({s.text(0), s.text(3), s.integer(1), s.integer(2)});
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ioError(impl_->db, "listing " + std::string(prefix));
  out.revision = revision;
  return out;
}

StoreResult<StoredObject> Store::create(std::string_view key, std::string value) {
  std::lock_guard wlock(impl_->writeMu);
  int64_t prev = 0;
  {
    std::shared_lock lock(impl_->stateMu);
    if (impl_->latest.count(key) != 0) {
      return StoreError{StoreErrc::kAlreadyExists, std::string(key) + " already exists"};
    }
  }
  // A key deleted before has a tombstone; the new row follows it.
  impl_->lastRow.reset();
  impl_->lastRow.bindText(1, key);
  if (sqlite3_step(impl_->lastRow.get()) == SQLITE_ROW) prev = impl_->lastRow.integer(0);
  impl_->lastRow.reset();
  auto rev = impl_->append(key, 0, prev, false, value);
  if (!rev) return rev.error();
  // A create row stores create_rev 0, read back as its own revision.
  StoredObject obj{std::string(key), std::move(value), rev.value(), rev.value()};
  {
    std::unique_lock lock(impl_->stateMu);
    impl_->revision = obj.revision;
    impl_->latest[obj.key] = Latest{obj.revision, obj.createRevision, obj.value};
  }
  impl_->notify({StoreEvent::Type::kAdded, obj.key, obj.value, std::nullopt, obj.revision});
  impl_->maybeCompact();
  return obj;
}

StoreResult<StoredObject> Store::update(std::string_view key, std::string value, int64_t expectedRevision) {
  std::lock_guard wlock(impl_->writeMu);
  Latest current;
  {
    std::shared_lock lock(impl_->stateMu);
    auto it = impl_->latest.find(key);
    if (it == impl_->latest.end()) return StoreError{StoreErrc::kNotFound, std::string(key) + " not found"};
    current = it->second;
  }
  if (current.revision != expectedRevision) {
    return StoreError{StoreErrc::kConflict, std::string(key) + " is at revision " +
                                                std::to_string(current.revision) + ", not " +
                                                std::to_string(expectedRevision)};
  }
  auto rev = impl_->append(key, current.createRevision, current.revision, false, value);
  if (!rev) return rev.error();
  StoredObject obj{std::string(key), std::move(value), rev.value(), current.createRevision};
  {
    std::unique_lock lock(impl_->stateMu);
    impl_->revision = obj.revision;
    impl_->latest[obj.key] = Latest{obj.revision, obj.createRevision, obj.value};
  }
  impl_->notify({StoreEvent::Type::kModified, obj.key, obj.value, std::move(current.value), obj.revision});
  impl_->maybeCompact();
  return obj;
}

StoreResult<StoredObject> Store::remove(std::string_view key, int64_t expectedRevision) {
  std::lock_guard wlock(impl_->writeMu);
  Latest current;
  {
    std::shared_lock lock(impl_->stateMu);
    auto it = impl_->latest.find(key);
    if (it == impl_->latest.end()) return StoreError{StoreErrc::kNotFound, std::string(key) + " not found"};
    current = it->second;
  }
  if (expectedRevision != 0 && current.revision != expectedRevision) {
    return StoreError{StoreErrc::kConflict, std::string(key) + " is at revision " +
                                                std::to_string(current.revision) + ", not " +
                                                std::to_string(expectedRevision)};
  }
  auto rev = impl_->append(key, current.createRevision, current.revision, true, current.value);
  if (!rev) return rev.error();
  StoredObject obj{std::string(key), current.value, rev.value(), current.createRevision};
  {
    std::unique_lock lock(impl_->stateMu);
    impl_->revision = obj.revision;
    impl_->latest.erase(impl_->latest.find(key));
  }
  impl_->notify({StoreEvent::Type::kDeleted, obj.key, obj.value, std::move(current.value), obj.revision});
  impl_->maybeCompact();
  return obj;
}

StoreResult<int64_t> Store::compact(int64_t revision) {
  std::lock_guard wlock(impl_->writeMu);
  return impl_->compactLocked(revision);
}

StoreResult<std::unique_ptr<StoreWatch>> Store::watch(std::string prefix, int64_t fromRevision,
                                                      WatchCallback callback) {
  std::lock_guard wlock(impl_->writeMu);
  if (fromRevision < impl_->compacted) {
    return StoreError{StoreErrc::kCompacted, "too old resource version: " + std::to_string(fromRevision) + " (" +
                                                 std::to_string(impl_->compacted) + ")"};
  }
  if (fromRevision < impl_->revision) {
    Statement s;
    if (!s.prepare(impl_->db,
                   "SELECT l.rev, l.key, l.deleted, l.value, l.create_rev, p.value, p.deleted FROM log l LEFT JOIN "
                   "log p ON p.rev = l.prev_rev WHERE l.rev > ?1 AND l.key >= ?2 AND (?3 = '' OR l.key < ?3) "
                   "ORDER BY l.rev")) {
      return ioError(impl_->db, "preparing a watch replay");
    }
    std::string end = prefixEnd(prefix);
    s.bindInt(1, fromRevision);
    s.bindText(2, prefix);
    s.bindText(3, end);
    int rc = 0;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      StoreEvent e;
      e.revision = s.integer(0);
      e.key = s.text(1);
      e.value = s.text(3);
      bool prevLive = sqlite3_column_type(s.get(), 5) != SQLITE_NULL && s.integer(6) == 0;
      if (s.integer(2) != 0) {
        e.type = StoreEvent::Type::kDeleted;
        e.previous = e.value;
      } else if (s.integer(4) == 0 || !prevLive) {
        e.type = StoreEvent::Type::kAdded;
      } else {
        e.type = StoreEvent::Type::kModified;
        e.previous = s.text(5);
      }
      callback(e);
    }
    if (rc != SQLITE_DONE) return ioError(impl_->db, "replaying history for a watch");
  }
  uint64_t id = impl_->nextWatcherId++;
  impl_->watchers[id] = Impl::Watcher{std::move(prefix), std::move(callback)};
  return std::unique_ptr<StoreWatch>(new StoreWatch(this, id));
}

void Store::unwatch(uint64_t id) {
  std::lock_guard wlock(impl_->writeMu);
  impl_->watchers.erase(id);
}

}  // namespace sluice::apiserver
