// Read-your-writes over the watch caches (see recent_writes.h).
#include "controller/recent_writes.h"

#include <charconv>

#include "kube/informer.h"

namespace sluice::controller {

using nlohmann::json;

uint64_t resourceVersionOf(const json& obj) {
  const auto rv = obj.value(json::json_pointer("/metadata/resourceVersion"), std::string());
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), value);
  return ec == std::errc() && end == rv.data() + rv.size() ? value : 0;
}

bool RecentWrites::caughtUp(const Entry& entry, const std::optional<json>& cached) {
  if (!entry.object) return !cached;  // a delete: caught up once the cache lost it too
  return cached && resourceVersionOf(*cached) >= entry.resourceVersion;
}

void RecentWrites::sawDeleted(const json& obj) {
  const uint64_t rv = resourceVersionOf(obj);
  std::lock_guard lock(mu_);
  const auto it = entries_.find(kube::objectKey(obj));
  if (it == entries_.end() || (it->second.object && it->second.resourceVersion > rv)) return;
  entries_.erase(it);
}

void RecentWrites::wrote(const json& obj) {
  const uint64_t rv = resourceVersionOf(obj);
  if (rv == 0) return;  // nothing to compare with: trust the cache
  std::lock_guard lock(mu_);
  Entry& e = entries_[kube::objectKey(obj)];
  if (e.object && e.resourceVersion >= rv) return;
  e = Entry{obj, rv};
}

void RecentWrites::deleted(const std::string& key) {
  std::lock_guard lock(mu_);
  entries_[key] = Entry{std::nullopt, 0};
}

std::optional<json> RecentWrites::view(const std::string& key, std::optional<json> cached) {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return cached;
  if (caughtUp(it->second, cached)) {
    entries_.erase(it);
    return cached;
  }
  return it->second.object;
}

std::vector<json> RecentWrites::overlay(std::vector<json> cached,
                                        const std::function<bool(const json&)>& belongs) {
  std::lock_guard lock(mu_);
  if (entries_.empty()) return cached;
  std::vector<json> out;
  out.reserve(cached.size());
  std::map<std::string, bool> seen;
  for (auto& obj : cached) {
    const std::string key = kube::objectKey(obj);
    seen[key] = true;
    const auto it = entries_.find(key);
    if (it == entries_.end()) {
      out.push_back(std::move(obj));
      continue;
    }
    if (caughtUp(it->second, obj)) {
      entries_.erase(it);
      out.push_back(std::move(obj));
    } else if (it->second.object) {
      out.push_back(*it->second.object);
    }  // else: we deleted it; the cache has not seen that yet
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (seen.count(it->first) || !it->second.object || !belongs(*it->second.object)) {
      ++it;
      continue;
    }
    out.push_back(*it->second.object);
    ++it;
  }
  return out;
}

size_t RecentWrites::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace sluice::controller
