// An informer, as client-go's: a reflector lists then watches one resource into a thread-safe local
// cache (keyed "namespace/name"), keeps indexes by namespace, label and owner, calls add/update/delete
// handlers, signals when the first list is in, and after a 410 Expired lists again and replaces the cache
// (deletes for objects that are gone).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kube/client.h"

namespace sluice::kube {

// Handlers run on the informer's threads, one event at a time (never two at once), after the cache has
// the change; they may read the informer (not stop it). Any may be empty.
struct InformerHandlers {
  std::function<void(const nlohmann::json& obj)> onAdd;
  std::function<void(const nlohmann::json& oldObj, const nlohmann::json& newObj)> onUpdate;
  std::function<void(const nlohmann::json& lastKnown)> onDelete;
};

struct InformerOptions {
  std::string ns;  // empty: all namespaces
  std::string labelSelector;
  std::string fieldSelector;
  int64_t pageSize = 500;  // list page size
  // Every period (once synced), each cached object is handed to onUpdate again with old == new, as
  // client-go's resync: a controller that missed acting on a state gets another chance. 0: never.
  std::chrono::milliseconds resyncPeriod{0};
};

// The cache key of an object: "namespace/name", or "name" for cluster-scoped ones.
std::string objectKey(const nlohmann::json& obj);

class Informer {
 public:
  // `client` must outlive the informer. Starts nothing.
  Informer(Client& client, ResourceRef resource, InformerOptions options = {});
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;
  // Stops it (as stop()).
  ~Informer();

  // Registers handlers; call before start(). Not thread-safe with start().
  void addHandlers(InformerHandlers handlers);
  // Starts the reflector thread. Call once.
  void start();
  // Ends the watch at once and joins the threads. Idempotent; thread-safe.
  void stop();

  // Whether the first full list is in the cache and its add notifications were handed to the handlers.
  // Thread-safe.
  bool hasSynced() const;
  // Blocks until hasSynced() or `timeout`; returns hasSynced().
  // Returns false at once when the informer is stopped.
  bool waitForSync(std::chrono::milliseconds timeout) const;

  // Cache reads: copies, thread-safe, never block on the network.
  std::optional<nlohmann::json> get(const std::string& key) const;
  std::vector<nlohmann::json> list() const;
  std::vector<nlohmann::json> byNamespace(const std::string& ns) const;
  std::vector<nlohmann::json> byLabel(const std::string& key, const std::string& value) const;
  std::vector<nlohmann::json> byOwner(const std::string& ownerUid) const;

  // How many full lists the reflector has made (1 after the first sync; more after 410 or errors).
  int lists() const;
  // The last error the reflector met (it keeps retrying), or empty.
  std::string lastError() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::kube
