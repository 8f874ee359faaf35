// The event recorder: correlation key, bounded LRU cache, create or count-patch.
#include "kube/event_recorder.h"

#include <algorithm>
#include <chrono>
#include <list>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "base/time.h"

namespace sluice::kube {

using nlohmann::json;

namespace {

const ResourceRef kEventResource{"", "v1", "events", true, "Event"};

std::string field(const json& obj, const char* f) {
  if (!obj.is_object() || !obj.contains(f) || !obj[f].is_string()) return "";
  return obj[f].get<std::string>();
}

json involvedObjectOf(const json& obj) {
  const json meta = obj.is_object() && obj.contains("metadata") ? obj["metadata"] : json::object();
  json ref = {
      {"kind", field(obj, "kind")}, {"apiVersion", field(obj, "apiVersion")}, {"name", field(meta, "name")}};
  for (const char* f : {"namespace", "uid", "resourceVersion"}) {
    std::string v = field(meta, f);
    if (!v.empty()) ref[f] = v;
  }
  return ref;
}

}  // namespace

struct EventRecorder::Impl {
  struct Entry {
    std::string key, ns, name;
    int count = 0;
  };
  Impl(Client& c, EventSource s, std::size_t cap, const Clock& clk)
      : client(c), source(std::move(s)), capacity(cap), clock(clk) {}
  Client& client;
  EventSource source;
  std::size_t capacity;
  const Clock& clock;
  int64_t lastStamp = 0;  // the last Event name's suffix: names stay unique on a clock that stands still
  mutable std::mutex mu;
  std::list<Entry> lru;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> byKey;

  void remember(Entry e) {
    auto it = byKey.find(e.key);
    if (it != byKey.end()) lru.erase(it->second);
    lru.push_front(std::move(e));
    byKey[lru.front().key] = lru.begin();
    while (lru.size() > capacity) {
      byKey.erase(lru.back().key);
      lru.pop_back();
    }
  }
};

EventRecorder::EventRecorder(Client& client, EventSource source, std::size_t cacheSize, const Clock& clock)
    : impl_(std::make_unique<Impl>(client, std::move(source), std::max<std::size_t>(1, cacheSize), clock)) {}

EventRecorder::~EventRecorder() = default;

std::size_t EventRecorder::cached() const {
  std::lock_guard lock(impl_->mu);
  return impl_->lru.size();
}

ApiResult<json> EventRecorder::record(const json& object, const std::string& type, const std::string& reason,
                                      const std::string& message) {
  json involved = involvedObjectOf(object);
  std::string objName = involved["name"];
  if (objName.empty()) {
    return ApiError::client("event " + reason + ": the object has no metadata.name");
  }
  std::string ns = involved.value("namespace", "");
  if (ns.empty()) ns = "default";
  // client-go's aggregate key plus the message: source, involved object, type, reason, message.
  std::string key;
  for (const std::string& part :
       {impl_->source.component, impl_->source.host, involved.value("kind", ""),
        involved.value("apiVersion", ""), ns, objName, involved.value("uid", ""), type, reason, message}) {
    key += part;
    key += '\x1f';
  }
  std::lock_guard lock(impl_->mu);
  std::string now = formatRfc3339(toSeconds(impl_->clock.wallNow()));
  auto it = impl_->byKey.find(key);
  if (it != impl_->byKey.end()) {
    Impl::Entry entry = *it->second;
    json patch = {{"count", entry.count + 1}, {"lastTimestamp", now}};
    auto patched = impl_->client.patch(kEventResource, entry.ns, entry.name, PatchType::kMerge, patch);
    if (patched) {
      entry.count += 1;
      impl_->remember(entry);
      return patched;
    }
    if (!patched.error().isNotFound()) return patched;
    // The Event was deleted (or expired) meanwhile: start over with a new one.
  }
  int64_t stamp =
      std::chrono::duration_cast<std::chrono::nanoseconds>(impl_->clock.wallNow().time_since_epoch()).count();
  stamp = impl_->lastStamp = std::max(stamp, impl_->lastStamp + 1);
  std::ostringstream name;
  name << objName << "." << std::hex << stamp;
  json source = {{"component", impl_->source.component}};
  if (!impl_->source.host.empty()) source["host"] = impl_->source.host;
  json event = {{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", name.str()}, {"namespace", ns}}},
                {"involvedObject", involved},
                {"reason", reason},
                {"message", message},
                {"type", type},
                {"source", source},
                {"firstTimestamp", now},
                {"lastTimestamp", now},
                {"count", 1}};
  auto created = impl_->client.create(kEventResource, ns, event);
  if (!created) return created;
  impl_->remember({key, ns, name.str(), 1});
  return created;
}

}  // namespace sluice::kube
