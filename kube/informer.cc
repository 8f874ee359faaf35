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

}  // namespace

struct Informer::Impl {
  Client& client;
  ResourceRef resource;
  InformerOptions options;
  std::vector<InformerHandlers> handlers;

  mutable std::mutex mu;
  mutable std::condition_variable syncedCv;
  std::map<std::string, json> items;
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
  void unindex(const std::string& key, const json& obj) {
    for (const auto& v : indexValues(obj)) {
      auto it = index.find(v);
      if (it == index.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) index.erase(it);
    }
  }
  // Requires mu.
  void put(const std::string& key, const json& obj) {
    auto it = items.find(key);
    if (it != items.end()) unindex(key, it->second);
    items[key] = obj;
    for (const auto& v : indexValues(obj)) index[v].insert(key);
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
      if (it != items.end()) old = it->second;
      if (type == "DELETED") {
        if (old) unindex(key, *old);
        items.erase(key);
      } else {
        put(key, obj);
      }
    }
    if (type == "DELETED") {
      notifyDelete(old ? *old : obj);
    } else if (old) {
      notifyUpdate(*old, obj);
    } else {
      notifyAdd(obj);
    }
  }

  // Replaces the cache with a full list, as client-go's Replace: adds and updates for what is listed
  // (an unchanged resourceVersion is no update), deletes for what is gone.
  void replace(const json& listed) {
    std::lock_guard dispatch(dispatchMu);
    std::map<std::string, json> fresh;
    if (listed.contains("items") && listed["items"].is_array()) {
      for (const auto& item : listed["items"]) {
        std::string key = objectKey(item);
        if (!key.empty()) fresh[key] = item;
      }
    }
    std::vector<json> gone;
    std::vector<json> added;
    std::vector<std::pair<json, json>> changed;
    {
      std::lock_guard lock(mu);
      for (auto it = items.begin(); it != items.end();) {
        if (fresh.count(it->first) == 0) {
          unindex(it->first, it->second);
          gone.push_back(it->second);
          it = items.erase(it);
        } else {
          ++it;
        }
      }
      for (const auto& [key, obj] : fresh) {
        auto it = items.find(key);
        if (it == items.end()) {
          added.push_back(obj);
        } else if (resourceVersionOf(it->second) != resourceVersionOf(obj)) {
          changed.emplace_back(it->second, obj);
        } else {
          continue;
        }
        put(key, obj);
      }
      ++listCount;
    }
    for (const auto& obj : gone) notifyDelete(obj);
    for (const auto& obj : added) notifyAdd(obj);
    for (const auto& [o, n] : changed) notifyUpdate(o, n);
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
      std::vector<json> snapshot;
      {
        std::lock_guard lock(mu);
        snapshot.reserve(items.size());
        for (const auto& [key, obj] : items) snapshot.push_back(obj);
      }
      for (const auto& obj : snapshot) notifyUpdate(obj, obj);
    }
  }

  void run() {
    int failures = 0;
    while (!stopFlag.stopped()) {
      ListOptions lo;
      lo.labelSelector = options.labelSelector;
      lo.fieldSelector = options.fieldSelector;
      lo.limit = options.pageSize;
      auto listed = client.listAll(resource, options.ns, lo);
      if (!listed) {
        setError(listed.error().describe());
        sleepUnlessStopped(std::chrono::milliseconds(std::min(100 << std::min(failures++, 5), 3200)));
        continue;
      }
      failures = 0;
      replace(*listed);
      WatchOptions wo;
      wo.resourceVersion =
          listed->contains("metadata") ? (*listed)["metadata"].value("resourceVersion", "") : "";
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

std::optional<json> Informer::get(const std::string& key) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->items.find(key);
  if (it == impl_->items.end()) return std::nullopt;
  return it->second;
}

std::vector<json> Informer::list() const {
  std::lock_guard lock(impl_->mu);
  std::vector<json> out;
  out.reserve(impl_->items.size());
  for (const auto& [k, v] : impl_->items) out.push_back(v);
  return out;
}

namespace {
std::vector<json> lookup(const std::map<std::string, std::set<std::string>>& index,
                         const std::map<std::string, json>& items, const std::string& value) {
  std::vector<json> out;
  auto it = index.find(value);
  if (it == index.end()) return out;
  for (const auto& key : it->second) {
    auto obj = items.find(key);
    if (obj != items.end()) out.push_back(obj->second);
  }
  return out;
}
}  // namespace

std::vector<json> Informer::byNamespace(const std::string& ns) const {
  std::lock_guard lock(impl_->mu);
  return lookup(impl_->index, impl_->items, "ns:" + ns);
}

std::vector<json> Informer::byLabel(const std::string& key, const std::string& value) const {
  std::lock_guard lock(impl_->mu);
  return lookup(impl_->index, impl_->items, "label:" + key + "=" + value);
}

std::vector<json> Informer::byOwner(const std::string& ownerUid) const {
  std::lock_guard lock(impl_->mu);
  return lookup(impl_->index, impl_->items, "owner:" + ownerUid);
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
