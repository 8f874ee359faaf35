// The informer's reflector loop (list, replace, watch, relist on 410) and its indexed cache.
#include "kube/informer.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace sluice::kube {

using nlohmann::json;

std::string objectKey(const json& obj) {
  if (!obj.is_object() || !obj.contains("metadata") || !obj["metadata"].is_object()) return "";
  const json& m = obj["metadata"];
  std::string name = m.contains("name") && m["name"].is_string() ? m["name"].get<std::string>() : "";
  std::string ns =
      m.contains("namespace") && m["namespace"].is_string() ? m["namespace"].get<std::string>() : "";
  return ns.empty() ? name : ns + "/" + name;
}

namespace {

// The index values an object is filed under, each prefixed by its index: "ns:", "label:", "owner:".
std::vector<std::string> indexValues(const json& obj) {
  std::vector<std::string> out;
  const json& m = obj["metadata"];
  if (m.contains("namespace") && m["namespace"].is_string())
    out.push_back("ns:" + m["namespace"].get<std::string>());
  if (m.contains("labels") && m["labels"].is_object()) {
    for (const auto& [k, v] : m["labels"].items()) {
      if (v.is_string()) out.push_back("label:" + k + "=" + v.get<std::string>());
    }
  }
  if (m.contains("ownerReferences") && m["ownerReferences"].is_array()) {
    for (const auto& o : m["ownerReferences"]) {
      if (o.is_object() && o.contains("uid") && o["uid"].is_string()) {
        out.push_back("owner:" + o["uid"].get<std::string>());
      }
    }
  }
  return out;
}

std::string resourceVersionOf(const json& obj) {
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) return "";
  return obj["metadata"].value("resourceVersion", "");
}

// A cached object, kept packed: a parsed JSON tree costs five to ten times the object's serialised size
// (a map node and a string per field), which at ten thousand Rollouts is most of the controller's memory.
// Reads unpack a copy, which they made anyway. MessagePack round-trips every JSON value exactly.
struct Entry {
  std::vector<std::uint8_t> packed;
  std::vector<std::string> indexed;  // its index values, so that unindexing needs no unpacking
  std::string resourceVersion;

  explicit Entry(const json& obj)
      : packed(json::to_msgpack(obj)), indexed(indexValues(obj)), resourceVersion(resourceVersionOf(obj)) {}
  json object() const { return json::from_msgpack(packed); }
};

}  // namespace

struct Informer::Impl {
  Client& client;
  ResourceRef resource;
  InformerOptions options;
  std::vector<InformerHandlers> handlers;

  mutable std::mutex mu;
  mutable std::condition_variable syncedCv;
  std::map<std::string, Entry> items;
  std::map<std::string, std::set<std::string>> index;  // index value -> keys
  bool synced = false;
  int listCount = 0;
  std::string error;

  WatchStop stopFlag;
  std::thread thread;
  std::thread resyncThread;
  bool started = false;
  // Held while the cache changes and its handlers run, so that events and resyncs are handed over one at
  // a time and a resync sees a state the handlers have already seen.
  std::mutex dispatchMu;
  std::condition_variable stopCv;  // wakes the resync thread on stop (with mu)

  Impl(Client& c, ResourceRef r, InformerOptions o)
      : client(c), resource(std::move(r)), options(std::move(o)) {}

  // Requires mu.
  void unindex(const std::string& key, const Entry& entry) {
    for (const auto& v : entry.indexed) {
      auto it = index.find(v);
      if (it == index.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) index.erase(it);
    }
  }
  // Requires mu.
  void put(const std::string& key, const json& obj) {
    auto it = items.find(key);
    if (it != items.end()) {
      unindex(key, it->second);
      it->second = Entry(obj);
    } else {
      it = items.emplace(key, Entry(obj)).first;
    }
    for (const auto& v : it->second.indexed) index[v].insert(key);
  }

  void notifyAdd(const json& obj) {
    for (const auto& h : handlers) {
      if (h.onAdd) h.onAdd(obj);
    }
  }
  void notifyUpdate(const json& oldObj, const json& newObj) {
    for (const auto& h : handlers) {
      if (h.onUpdate) h.onUpdate(oldObj, newObj);
    }
  }
  void notifyDelete(const json& obj) {
    for (const auto& h : handlers) {
      if (h.onDelete) h.onDelete(obj);
    }
  }

  // One event into the cache, then to the handlers.
  void apply(const std::string& type, const json& obj) {
    std::string key = objectKey(obj);
    if (key.empty()) return;
    std::lock_guard dispatch(dispatchMu);
    std::optional<json> old;
    {
      std::lock_guard lock(mu);
      auto it = items.find(key);
      if (it != items.end()) old = it->second.object();
      if (type == "DELETED") {
        if (it != items.end()) {
          unindex(key, it->second);
          items.erase(it);
        }
      } else {
        put(key, obj);
      }
    }
    if (type == "DELETED") {
      // The event's object, as client-go hands it over: the object's final state at its deletion's
      // resourceVersion, which the cache's copy (its last update) may be older than.
      notifyDelete(obj);
    } else if (old) {
      notifyUpdate(*old, obj);
    } else {
      notifyAdd(obj);
    }
  }

  // Replaces the cache with a full list (packed as it arrived), as client-go's Replace: adds and updates
  // for what is listed (an unchanged resourceVersion is no update), deletes for what is gone. Handlers get
  // the objects unpacked one at a time.
  void replace(const std::map<std::string, Entry>& fresh) {
    std::lock_guard dispatch(dispatchMu);
    std::vector<Entry> gone;
    std::vector<const Entry*> added;
    std::vector<std::pair<Entry, const Entry*>> changed;
    {
      std::lock_guard lock(mu);
      for (auto it = items.begin(); it != items.end();) {
        if (fresh.count(it->first) == 0) {
          unindex(it->first, it->second);
          gone.push_back(std::move(it->second));
          it = items.erase(it);
        } else {
          ++it;
        }
      }
      for (const auto& [key, entry] : fresh) {
        auto it = items.find(key);
        if (it == items.end()) {
          added.push_back(&entry);
          it = items.emplace(key, entry).first;
        } else if (it->second.resourceVersion != entry.resourceVersion) {
          unindex(key, it->second);
          changed.emplace_back(std::move(it->second), &entry);
          it->second = entry;
        } else {
          continue;
        }
        for (const auto& v : it->second.indexed) index[v].insert(key);
      }
      ++listCount;
    }
    for (const auto& entry : gone) notifyDelete(entry.object());
    for (const Entry* entry : added) notifyAdd(entry->object());
    for (const auto& [old, now] : changed) notifyUpdate(old.object(), now->object());
    // Synced only once the handlers have seen the first list, so that a caller waiting for sync can
    // rely on every listed object having been handed to them.
    {
      std::lock_guard lock(mu);
      synced = true;
    }
    syncedCv.notify_all();
  }

  void setError(const std::string& e) {
    std::lock_guard lock(mu);
    error = e;
  }

  void sleepUnlessStopped(std::chrono::milliseconds d) {
    for (auto slept = std::chrono::milliseconds(0); slept < d && !stopFlag.stopped();
         slept += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // Hands every cached object to onUpdate(obj, obj) each resync period until stopped.
  void resyncLoop() {
    const auto period = options.resyncPeriod;
    for (;;) {
      {
        std::unique_lock lock(mu);
        if (stopCv.wait_for(lock, period, [this] { return stopFlag.stopped(); })) return;
        if (!synced) continue;
      }
      std::lock_guard dispatch(dispatchMu);
      std::vector<std::string> keys;
      {
        std::lock_guard lock(mu);
        keys.reserve(items.size());
        for (const auto& [key, entry] : items) keys.push_back(key);
      }
      // One object unpacked at a time: a resync never holds the whole cache unpacked.
      for (const auto& key : keys) {
        std::optional<json> obj;
        {
          std::lock_guard lock(mu);
          auto it = items.find(key);
          if (it != items.end()) obj = it->second.object();
        }
        if (obj) notifyUpdate(*obj, *obj);
      }
    }
  }

  void run() {
    int failures = 0;
    while (!stopFlag.stopped()) {
      ListOptions lo;
      lo.labelSelector = options.labelSelector;
      lo.fieldSelector = options.fieldSelector;
      lo.limit = options.pageSize;
      lo.cancel = &stopFlag.cancellation();
      // Each page is packed as it arrives: a list of ten thousand objects is never held as one tree.
      std::map<std::string, Entry> fresh;
      auto listed = client.listPages(resource, options.ns, lo, [&fresh](json& page) {
        if (!page.contains("items") || !page["items"].is_array()) return;
        for (const auto& item : page["items"]) {
          std::string key = objectKey(item);
          if (!key.empty()) fresh.insert_or_assign(key, Entry(item));
        }
      });
      if (!listed) {
        setError(listed.error().describe());
        sleepUnlessStopped(std::chrono::milliseconds(std::min(100 << std::min(failures++, 5), 3200)));
        continue;
      }
      failures = 0;
      replace(fresh);
      WatchOptions wo;
      wo.resourceVersion = *listed;
      wo.labelSelector = options.labelSelector;
      wo.fieldSelector = options.fieldSelector;
      wo.allowBookmarks = true;
      wo.reconnect = true;
      auto watched = client.watch(
          resource, options.ns, wo,
          [this](const WatchEvent& e) {
            apply(e.type, e.object);
            return true;
          },
          &stopFlag);
      if (!watched) {
        // 410 Expired or another stream error: list again (a fresh snapshot replaces the cache).
        setError(watched.error().describe());
        if (!watched.error().isExpired()) sleepUnlessStopped(std::chrono::milliseconds(200));
      }
    }
  }
};

Informer::Informer(Client& client, ResourceRef resource, InformerOptions options)
    : impl_(std::make_unique<Impl>(client, std::move(resource), std::move(options))) {}

Informer::~Informer() { stop(); }

void Informer::addHandlers(InformerHandlers handlers) { impl_->handlers.push_back(std::move(handlers)); }

void Informer::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->thread = std::thread([this] { impl_->run(); });
  if (impl_->options.resyncPeriod.count() > 0)
    impl_->resyncThread = std::thread([this] { impl_->resyncLoop(); });
}

void Informer::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopFlag.stop();
  }
  impl_->stopCv.notify_all();
  impl_->syncedCv.notify_all();
  for (std::thread* t : {&impl_->thread, &impl_->resyncThread}) {
    if (t->joinable() && t->get_id() != std::this_thread::get_id()) t->join();
  }
}

bool Informer::hasSynced() const {
  std::lock_guard lock(impl_->mu);
  return impl_->synced;
}

bool Informer::waitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  // A stop ends the wait: the cache will not sync any more.
  impl_->syncedCv.wait_for(lock, timeout, [this] { return impl_->synced || impl_->stopFlag.stopped(); });
  return impl_->synced;
}

namespace {
// Unpacks copies of packed objects (taken under the lock) after the lock is released.
std::vector<json> unpack(const std::vector<std::vector<std::uint8_t>>& packed) {
  std::vector<json> out;
  out.reserve(packed.size());
  for (const auto& p : packed) out.push_back(json::from_msgpack(p));
  return out;
}
}  // namespace

std::optional<json> Informer::get(const std::string& key) const {
  std::vector<std::uint8_t> packed;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->items.find(key);
    if (it == impl_->items.end()) return std::nullopt;
    packed = it->second.packed;
  }
  return json::from_msgpack(packed);
}

std::vector<json> Informer::list() const {
  std::vector<std::vector<std::uint8_t>> packed;
  {
    std::lock_guard lock(impl_->mu);
    packed.reserve(impl_->items.size());
    for (const auto& [k, v] : impl_->items) packed.push_back(v.packed);
  }
  return unpack(packed);
}

namespace {
std::vector<json> lookup(std::mutex& mu, const std::map<std::string, std::set<std::string>>& index,
                         const std::map<std::string, Entry>& items, const std::string& value) {
  std::vector<std::vector<std::uint8_t>> packed;
  {
    std::lock_guard lock(mu);
    auto it = index.find(value);
    if (it == index.end()) return {};
    for (const auto& key : it->second) {
      auto obj = items.find(key);
      if (obj != items.end()) packed.push_back(obj->second.packed);
    }
  }
  return unpack(packed);
}
}  // namespace

std::vector<json> Informer::byNamespace(const std::string& ns) const {
  return lookup(impl_->mu, impl_->index, impl_->items, "ns:" + ns);
}

std::vector<json> Informer::byLabel(const std::string& key, const std::string& value) const {
  return lookup(impl_->mu, impl_->index, impl_->items, "label:" + key + "=" + value);
}

std::vector<json> Informer::byOwner(const std::string& ownerUid) const {
  return lookup(impl_->mu, impl_->index, impl_->items, "owner:" + ownerUid);
}

int Informer::lists() const {
  std::lock_guard lock(impl_->mu);
  return impl_->listCount;
}

std::string Informer::lastError() const {
  std::lock_guard lock(impl_->mu);
  return impl_->error;
}

}  // namespace sluice::kube
