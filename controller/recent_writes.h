// What this controller wrote that the watch-fed caches may not show yet. A reconcile reads the caches
// through it, so the pass after a write (in the same reconcile, or the next one, woken by another event
// before the watch delivered ours) sees the write and does not make it twice: no second ReplicaSet, no
// second AnalysisRun, no step recorded twice. An entry goes once the cache holds the object at the same
// resourceVersion or a later one (resourceVersions compared as integers, as the API server issues them).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sluice::controller {

class RecentWrites {
 public:
  // `obj` as the server answered a create, update or patch of it.
  void wrote(const nlohmann::json& obj);
  // The object with this key ("namespace/name") was deleted.
  void deleted(const std::string& key);
  // A watch delivered the deletion of `obj` (as it last was): a write of ours older than that deletion is
  // forgotten, so a deleted object does not live on in our view; a newer one (the object made again
  // since) is kept.
  void sawDeleted(const nlohmann::json& obj);

  // The freshest view of one object, given what the cache holds (nullopt: not cached); nullopt when
  // it is known deleted, or neither side has it.
  std::optional<nlohmann::json> view(const std::string& key, std::optional<nlohmann::json> cached);

  // The freshest view of a set of cached objects: each replaced by our write when ours is newer, those
  // we deleted removed, and those we wrote that the cache lacks added when `belongs` says they are part of
  // the set.
  std::vector<nlohmann::json> overlay(std::vector<nlohmann::json> cached,
                                      const std::function<bool(const nlohmann::json&)>& belongs);

  size_t size() const;

 private:
  struct Entry {
    std::optional<nlohmann::json> object;  // nullopt: deleted
    uint64_t resourceVersion = 0;
  };
  // Whether the cache caught up with `entry` (it holds `cached` at that version or later, or a delete
  // was seen through).
  static bool caughtUp(const Entry& entry, const std::optional<nlohmann::json>& cached);

  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

// The resourceVersion of `obj` as an integer; 0 when it has none or it is not a number.
uint64_t resourceVersionOf(const nlohmann::json& obj);

}  // namespace sluice::controller
