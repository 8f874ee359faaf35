// The objects the traffic routers read and write, one watch-fed cache per kind: Ingresses (ingress-nginx),
// Istio's VirtualServices and DestinationRules, SMI's TrafficSplits, Traefik's TraefikServices, Ambassador's
// Mappings, APISIX's ApisixRoutes, Gateway API's HTTPRoutes, App Mesh's VirtualServices, VirtualRouters and
// VirtualNodes. Ingresses are part of every cluster and are watched from the start. A kind that a CRD serves
// is watched from the first Rollout that routes through it, as Argo Rollouts does: a cluster without Istio
// never lists VirtualServices, and the controller's caches sync without them.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"
#include "controller/recent_writes.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "traffic/router_options.h"

namespace sluice::controller {

class TrafficObjects {
 public:
  // One kind's cache, and the writes of ours it may not show yet.
  struct Cache {
    Cache(kube::Client& client, const kube::ResourceRef& ref, kube::InformerOptions options)
        : resource(ref), informer(client, ref, std::move(options)) {}
    kube::ResourceRef resource;
    kube::Informer informer;
    RecentWrites writes;
  };
  // Called for every add, update and delete of any kind (a deletion after `writes` saw it), with the kind:
  // list items of the built-in kinds carry none.
  using Changed = std::function<void(const std::string& kind, const nlohmann::json& obj)>;

  // `router`: the versions and groups the routers write, which their kinds' caches watch (a TrafficSplit's
  // version, a TraefikService's group).
  TrafficObjects(kube::Client& client, kube::InformerOptions options, Changed changed,
                 const traffic::RouterOptions& router = {});
  ~TrafficObjects();
  TrafficObjects(const TrafficObjects&) = delete;
  TrafficObjects& operator=(const TrafficObjects&) = delete;

  // Starts the caches of the kinds every cluster serves (Ingress).
  void startCore();
  // The started caches, those of the core kinds first.
  std::vector<kube::Informer*> informers();
  // Whether the core caches have synced (the optional ones are waited for by the Rollouts that use them).
  bool coreSynced() const;

  // The cache of `kind` once it has synced, started now if it was not; the call that starts it waits up to
  // `wait` for the first list. An error when the kind is unknown, or its cache has not synced (with its
  // list's error: a kind whose CRD is not installed reads as such). Thread-safe.
  Result<Cache*> cache(const std::string& kind, std::chrono::milliseconds wait);

  // Stops every started cache.
  void stop();

 private:
  Cache& startLocked(const std::string& kind, const kube::ResourceRef& ref);

  kube::Client& client_;
  kube::InformerOptions options_;
  traffic::RouterOptions router_;
  Changed changed_;
  mutable std::mutex mu_;
  bool stopped_ = false;
  std::map<std::string, std::unique_ptr<Cache>> caches_;  // by kind
};

// Whether `rollout`'s trafficRouting names the object `name` of `kind` as one it routes through (a stable
// Ingress, a VirtualService, a DestinationRule, its TrafficSplit, its TraefikService, a Mapping or the canary
// Mapping made from it, its ApisixRoute, an HTTPRoute): a change to that object concerns the Rollout.
bool routesThrough(const nlohmann::json& rollout, const std::string& kind, const std::string& name);

}  // namespace sluice::controller
