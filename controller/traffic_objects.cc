// The routers' objects, cached per kind (see traffic_objects.h).
#include "controller/traffic_objects.h"

#include <utility>

#include "traffic/ambassador.h"
#include "traffic/apisix.h"
#include "traffic/appmesh.h"

namespace sluice::controller {

using nlohmann::json;

namespace {

struct Kind {
  kube::ResourceRef resource;
  bool core;  // served by every cluster: watched from the start
};

// Istio's networking API at v1beta1: served by every Istio release since 1.5, beside v1alpha3 (Argo's
// default) and, since 1.22, v1. SMI's TrafficSplit at the version the SMI router writes (the controller's
// --traffic-split-api-version, which replaces the default here). Gateway API's HTTPRoute at v1, its standard
// channel since Gateway API 1.0. Traefik's TraefikService at v1alpha1 in the group of --traefik-api-group
// (which replaces the default here). Ambassador's Mapping at the version of --ambassador-api-version.
// APISIX's ApisixRoute at apisix.apache.org/v2, Argo Rollouts' default, served since APISIX Ingress 1.3.
// App Mesh's VirtualService (cached under its own key: Istio's kind has its name), VirtualRouter and
// VirtualNode at appmesh.k8s.aws/v1beta2, the version Argo Rollouts works with.
const std::map<std::string, Kind>& kinds() {
  static const std::map<std::string, Kind> k = {
      {"Mapping", {{"getambassador.io", "v2", "mappings", true, "Mapping"}, false}},
      {"ApisixRoute", {{traffic::kApisixRouteGroup, "v2", "apisixroutes", true, "ApisixRoute"}, false}},
      {"TraefikService",
       {{traffic::kDefaultTraefikApiGroup, "v1alpha1", "traefikservices", true, "TraefikService"}, false}},
      {"TrafficSplit",
       {{"split.smi-spec.io", traffic::kDefaultTrafficSplitVersion, "trafficsplits", true, "TrafficSplit"},
        false}},
      {"HTTPRoute", {{"gateway.networking.k8s.io", "v1", "httproutes", true, "HTTPRoute"}, false}},
      {"Ingress", {{"networking.k8s.io", "v1", "ingresses", true, "Ingress"}, true}},
      {traffic::kAppMeshVirtualService,
       {{"appmesh.k8s.aws", "v1beta2", "virtualservices", true, "VirtualService"}, false}},
      {"VirtualRouter", {{"appmesh.k8s.aws", "v1beta2", "virtualrouters", true, "VirtualRouter"}, false}},
      {"VirtualNode", {{"appmesh.k8s.aws", "v1beta2", "virtualnodes", true, "VirtualNode"}, false}},
      {"VirtualService",
       {{"networking.istio.io", "v1beta1", "virtualservices", true, "VirtualService"}, false}},
      {"DestinationRule",
       {{"networking.istio.io", "v1beta1", "destinationrules", true, "DestinationRule"}, false}},
  };
  return k;
}

}  // namespace

TrafficObjects::TrafficObjects(kube::Client& client, kube::InformerOptions options, Changed changed,
                               const traffic::RouterOptions& router)
    : client_(client), options_(std::move(options)), router_(router), changed_(std::move(changed)) {}

TrafficObjects::~TrafficObjects() { stop(); }

TrafficObjects::Cache& TrafficObjects::startLocked(const std::string& kind,
                                                   const kube::ResourceRef& resource) {
  auto& slot = caches_[kind];
  if (slot) return *slot;
  slot = std::make_unique<Cache>(client_, resource, options_);
  Cache& c = *slot;
  auto changed = [kind, f = changed_](const json& obj) { f(kind, obj); };
  c.informer.addHandlers({changed, [changed](const json&, const json& obj) { changed(obj); },
                          [&writes = c.writes, changed](const json& obj) {
                            writes.sawDeleted(obj);
                            changed(obj);
                          }});
  c.informer.start();
  return c;
}

void TrafficObjects::startCore() {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  for (const auto& [kind, k] : kinds()) {
    if (k.core) startLocked(kind, k.resource);
  }
}

std::vector<kube::Informer*> TrafficObjects::informers() {
  std::lock_guard lock(mu_);
  std::vector<kube::Informer*> out;
  for (const auto& [kind, k] : kinds()) {
    if (auto it = caches_.find(kind); it != caches_.end() && k.core) out.push_back(&it->second->informer);
  }
  for (const auto& [kind, k] : kinds()) {
    if (auto it = caches_.find(kind); it != caches_.end() && !k.core) out.push_back(&it->second->informer);
  }
  return out;
}

bool TrafficObjects::coreSynced() const {
  std::lock_guard lock(mu_);
  for (const auto& [kind, k] : kinds()) {
    if (!k.core) continue;
    const auto it = caches_.find(kind);
    if (it == caches_.end() || !it->second->informer.hasSynced()) return false;
  }
  return true;
}

Result<TrafficObjects::Cache*> TrafficObjects::cache(const std::string& kind,
                                                     std::chrono::milliseconds wait) {
  const auto known = kinds().find(kind);
  if (known == kinds().end()) return Error{"no router writes " + kind + "s"};
  kube::ResourceRef r = known->second.resource;
  if (kind == "TrafficSplit") r.version = router_.trafficSplitVersion;
  if (kind == "TraefikService") r.group = router_.traefikApiGroup;
  if (kind == "Mapping")
    r.version = router_.ambassadorVersion.substr(router_.ambassadorVersion.find('/') + 1);
  Cache* c = nullptr;
  bool first = false;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return Error{"the controller is stopping"};
    first = caches_.count(kind) == 0;
    c = &startLocked(kind, r);
  }
  // Only the use that started the cache waits for its first list (outside the lock: other kinds stay
  // usable meanwhile); later ones do not, so that a kind the cluster does not serve costs a Rollout's
  // retries no worker time. A cache is never removed before stop(), which comes after the workers are done.
  if (first ? c->informer.waitForSync(wait) : c->informer.hasSynced()) return c;
  std::string message = "the " + kind + "s (" + r.group + "/" + r.version + ") are not cached yet";
  if (const std::string why = c->informer.lastError(); !why.empty()) {
    message += ": listing them failed: " + why;
    if (!known->second.core) message += " (is the CRD of " + r.resource + "." + r.group + " installed?)";
  }
  return Error{message};
}

void TrafficObjects::stop() {
  std::vector<Cache*> started;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    for (auto& [kind, c] : caches_) started.push_back(c.get());
  }
  for (Cache* c : started) c->informer.stop();
}

bool routesThrough(const json& rollout, const std::string& kind, const std::string& name) {
  const json routing = rollout.value(json::json_pointer("/spec/strategy/canary/trafficRouting"), json());
  if (!routing.is_object()) return false;
  auto named = [&name](const json& obj, const char* key) {
    return obj.is_object() && obj.contains(key) && (*obj.find(key)) == name;
  };
  if (kind == "Ingress") {
    const json alb = routing.value("alb", json());
    if (alb.is_object()) {
      if (named(alb, "ingress")) return true;
      for (const auto& s : alb.value("ingresses", json::array()))
        if (s == name) return true;
      return false;
    }
    const json nginx = routing.value("nginx", json());
    if (!nginx.is_object()) return false;
    if (named(nginx, "stableIngress")) return true;
    for (const auto& s : nginx.value("stableIngresses", json::array()))
      if (s == name) return true;
    return false;
  }
  if (kind == "TrafficSplit") {
    const json smi = routing.value("smi", json());
    if (!smi.is_object()) return false;
    const std::string split = smi.value("trafficSplitName", "");
    return (split.empty() ? rollout.value(json::json_pointer("/metadata/name"), std::string()) : split) ==
           name;
  }
  if (kind == "TraefikService") {
    return named(routing.value("traefik", json()), "weightedTraefikServiceName");
  }
  if (kind == "ApisixRoute") return named(routing.value(json::json_pointer("/apisix/route"), json()), "name");
  if (kind == "Mapping") {
    // A base Mapping, or the canary Mapping made from it.
    for (const auto& base : routing.value(json::json_pointer("/ambassador/mappings"), json::array()))
      if (base == name || (base.is_string() && traffic::canaryMappingName(base.get<std::string>()) == name))
        return true;
    return false;
  }
  if (kind == "HTTPRoute") {
    const json gateway = routing.value(json::json_pointer("/plugins/argoproj-labs~1gatewayAPI"), json());
    if (!gateway.is_object()) return false;
    if (named(gateway, "httpRoute")) return true;
    for (const auto& route : gateway.value("httpRoutes", json::array()))
      if (named(route, "name")) return true;
    return false;
  }
  if (kind == traffic::kAppMeshVirtualService || kind == "VirtualRouter" || kind == "VirtualNode") {
    // The VirtualRouter has the name its VirtualService gives it: any change to one wakes the Rollouts routed
    // through App Mesh (a namespace has few).
    const json mesh = routing.value("appMesh", json());
    if (!mesh.is_object()) return false;
    if (kind == traffic::kAppMeshVirtualService) return named(mesh.value("virtualService", json()), "name");
    if (kind == "VirtualRouter") return true;
    const json group = mesh.value("virtualNodeGroup", json());
    return group.is_object() && (named(group.value("canaryVirtualNodeRef", json()), "name") ||
                                 named(group.value("stableVirtualNodeRef", json()), "name"));
  }
  const json istio = routing.value("istio", json());
  if (!istio.is_object()) return false;
  if (kind == "VirtualService") {
    if (named(istio.value("virtualService", json()), "name")) return true;
    for (const auto& vs : istio.value("virtualServices", json::array()))
      if (named(vs, "name")) return true;
    return false;
  }
  if (kind == "DestinationRule") return named(istio.value("destinationRule", json()), "name");
  return false;
}

}  // namespace sluice::controller
