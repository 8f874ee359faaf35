// The embedded API server's storage: an append-only log in SQLite (WAL), as kine keeps etcd's model. One
// global, strictly increasing revision numbers every write; the latest row of a key is the object.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sluice::apiserver {

// Why a store operation failed. kIo means SQLite failed; the message says how.
enum class StoreErrc { kNotFound, kAlreadyExists, kConflict, kCompacted, kIo };

struct StoreError {
  StoreErrc code;
  std::string message;
};

// A value or a StoreError.
template <typename T>
class [[nodiscard]] StoreResult {
 public:
  StoreResult(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  StoreResult(StoreError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  const StoreError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, StoreError> v_;
};

// One stored object: its key, its bytes (opaque to the store), the revision of its last write and the
// revision that created it.
struct StoredObject {
  std::string key;
  std::string value;
  int64_t revision = 0;
  int64_t createRevision = 0;
};

// One change, as watchers see it. For kDeleted, `value` is the object's last state and `revision` the
// deletion's. `previous` is the state before the change (empty for kAdded).
struct StoreEvent {
  enum class Type { kAdded, kModified, kDeleted };
  Type type = Type::kAdded;
  std::string key;
  std::string value;
  std::optional<std::string> previous;
  int64_t revision = 0;
};

// One page of a list: the objects in key order, the revision it was read at, and whether more follow.
struct StoreList {
  std::vector<StoredObject> items;
  int64_t revision = 0;
  bool more = false;
};

struct StoreOptions {
  // Compaction keeps at least this many revisions of history; it runs on its own every
  // `retainRevisions` writes. 0 turns automatic compaction off (compact() still works).
  int64_t retainRevisions = 10000;
};

class Store;

// A live watch: while it exists, its callback receives every event after its start revision. Destroying it
// unregisters the callback (waits for a delivery in progress to finish).
class StoreWatch {
 public:
  StoreWatch(const StoreWatch&) = delete;
  StoreWatch& operator=(const StoreWatch&) = delete;
  ~StoreWatch();

 private:
  friend class Store;
  StoreWatch(Store* store, uint64_t id) : store_(store), id_(id) {}
  Store* store_;
  uint64_t id_;
};

// Thread-safe. Writes are serialised and each is one SQLite transaction, durable across a process crash
// once the call returns (WAL, synchronous=NORMAL). Reads of the current state come from memory and never
// wait for SQLite.
class Store {
 public:
  using WatchCallback = std::function<void(const StoreEvent&)>;

  // Opens (creating if needed) the database file. Errors name the file and SQLite's message. Blocks.
  static StoreResult<std::unique_ptr<Store>> open(const std::filesystem::path& file,
                                                  StoreOptions options = {});
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  // The revision of the latest write (0 for an empty store).
  int64_t currentRevision() const;
  // Revisions at or below this one have been compacted away (0 = nothing compacted).
  int64_t compactedRevision() const;

  // The current object under `key`, or kNotFound.
  StoreResult<StoredObject> get(std::string_view key) const;

  // Objects whose key starts with `prefix` and sorts after `startAfter` (empty: from the start), at most
  // `limit` (0: all), as of `revision` (0: now). A past revision at or below the compacted one is
  // kCompacted; one above the current revision is read as now.
  StoreResult<StoreList> list(std::string_view prefix, std::string_view startAfter = {}, std::size_t limit = 0,
                              int64_t revision = 0) const;

  // Writes a new object; kAlreadyExists if the key holds one. Returns it with its revision.
  StoreResult<StoredObject> create(std::string_view key, std::string value);

  // Replaces the object if its revision is still `expectedRevision` (compare-and-swap): kNotFound when
  // absent, kConflict when it changed meanwhile. Returns the new state.
  StoreResult<StoredObject> update(std::string_view key, std::string value, int64_t expectedRevision);

  // Deletes the object if its revision is still `expectedRevision` (0: whatever it is). Returns its last
  // state with the deletion's revision.
  StoreResult<StoredObject> remove(std::string_view key, int64_t expectedRevision = 0);

  // Drops the history at or below `revision` that later rows superseded (and deleted objects' rows).
  // Watches and lists from there on are kCompacted.
  StoreResult<int64_t> compact(int64_t revision);

  // Delivers, through `callback`, every event with revision > `fromRevision` whose key starts with
  // `prefix`: first the replay from history (synchronously, inside this call), then live events as writes
  // commit, in revision order, with no gap. kCompacted when `fromRevision` is older than the history kept.
  // The callback runs on the writing thread while writes wait: it must be quick and must not call back
  // into the store.
  StoreResult<std::unique_ptr<StoreWatch>> watch(std::string prefix, int64_t fromRevision, WatchCallback callback);

 private:
  friend class StoreWatch;
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  void unwatch(uint64_t id);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::apiserver
