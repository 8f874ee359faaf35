// Traffic routers: each puts the canary's share of requests on the objects of one data plane (ingress-nginx's
// canary Ingress, ...) and reads back the share in force. Routers are pure: they read live objects through a
// lookup and return the writes that bring them to what the engine asked for. The caller (the controller's
// KubeWorld) does the reading from its caches and the writing through the API, so a router is tested with
// golden files and no cluster, and a write it asks for is retried like any other action.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/canary.h"
#include "traffic/router_options.h"

namespace sluice::traffic {

// The annotations a router writes on the object carrying the weight (nginx's canary Ingress, Istio's
// VirtualServices without a DestinationRule): the pod-template hashes the weight was set for, so that the
// weight read back says which revisions it splits.
inline constexpr const char* kCanaryHashAnnotation = "sluice.dev/canary-hash";
inline constexpr const char* kStableHashAnnotation = "sluice.dev/stable-hash";

// A live object of the Rollout's namespace by kind ("Ingress", ...) and name; nullopt when there is none.
using ObjectLookup =
    std::function<std::optional<nlohmann::json>(const std::string& kind, const std::string& name)>;

// One write a router asks for, in the Rollout's namespace. A Delete of an object that is gone already is
// done.
struct ObjectWrite {
  enum class Op { Create, MergePatch, Delete };
  Op op = Op::MergePatch;
  std::string kind;  // "Ingress", ...: the caller maps it to its API resource
  std::string name;
  nlohmann::json body;  // the object to create, or the JSON merge patch; none to delete
};

using Writes = std::vector<ObjectWrite>;

class Router {
 public:
  Router() = default;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;
  virtual ~Router() = default;

  // The kinds of object this router reads and writes ("Ingress", ...).
  virtual std::vector<std::string> kinds() const = 0;
  // The weights in force, read back from the routing objects; nullopt when none is set yet (all traffic on
  // the stable). An error: an object the Rollout names is missing or unusable (said with its name).
  virtual Result<std::optional<engine::TrafficInForce>> inForce(const ObjectLookup& get) const = 0;
  // The writes that put `weights` in force; none when they are in force already.
  virtual Result<Writes> setWeight(const ObjectLookup& get,
                                   const engine::SetTrafficWeight& weights) const = 0;
  virtual Result<Writes> setHeaderRoute(const ObjectLookup& get,
                                        const engine::SetHeaderRouteStep& route) const = 0;
  virtual Result<Writes> setMirrorRoute(const ObjectLookup& get,
                                        const engine::SetMirrorRouteStep& route) const = 0;
  virtual Result<Writes> removeManagedRoutes(const ObjectLookup& get) const = 0;
};

// The router for the Rollout's spec.strategy.canary.trafficRouting, or an error naming what is not
// supported yet; nullptr without traffic routing. `options`: the versions it writes at.
Result<std::unique_ptr<Router>> makeRouter(const engine::Rollout& rollout, const RouterOptions& options = {});

// What a router keeps of `rollout`: its name, namespace and uid, the canary and stable Services and the
// traffic routing (not the pod template or the steps).
engine::Rollout routedPart(const engine::Rollout& rollout);

class Router;

// The weights in force on `live`, the one object that carries both weights and the hash annotations
// (Traefik's TraefikService, APISIX's ApisixRoute, ALB's first Ingress): nullopt while either weight is unset
// (once a write of none is known to be possible) or while setting what was read would still write something.
// `canaryService` and `stableService`: the Services the weights were read from, when the router reads the
// roles from the object (ALB with pingPong); empty: the spec's.
// `additional`: the other Services' shares read (an experiment step's templates').
Result<std::optional<engine::TrafficInForce>> weightsReadBack(
    const Router& router, const ObjectLookup& get, const nlohmann::json& live,
    std::optional<int> canaryWeight, std::optional<int> stableWeight, const std::string& canaryService = {},
    const std::string& stableService = {}, std::vector<engine::WeightDestination> additional = {});

// The weights that put `seen` in force again, to `canaryService` and `stableService` when given.
engine::SetTrafficWeight settingOf(const engine::TrafficInForce& seen, const std::string& canaryService = {},
                                   const std::string& stableService = {});

// The owner reference a router puts on the objects it creates: the Rollout, as their controller.
nlohmann::json ownerReference(const engine::Rollout& rollout);
// Whether `live`, an object this Rollout's router makes (a canary Ingress, a TrafficSplit) that another
// owner controls, is the one Argo Rollouts made for the Rollout of the same name (its controller an
// argoproj.io Rollout of that name): after a move over from Argo the router takes it over, its next write
// setting the owner, instead of refusing it.
bool madeByArgoFor(const nlohmann::json& live, const engine::Rollout& rollout);

// The value at the JSON pointer `pointer` in `obj`, or `fallback` when there is none.
nlohmann::json jsonAt(const nlohmann::json& obj, const std::string& pointer, const nlohmann::json& fallback);

// The string at `pointer` in `obj`; "" when there is none or it is not a string.
std::string stringAt(const nlohmann::json& obj, const std::string& pointer);

// `text` matched literally inside a regular expression (RE2, PCRE and ECMAScript alike).
std::string escapeRegex(const std::string& text);

// The string annotation `key` of `object`; "" when it has none.
std::string annotationOf(const nlohmann::json& object, const std::string& key);

// The JSON merge patch that sets, on `live`, each member of `spec` (spec.<key> replaced whole: a merge patch
// replaces lists, and the routers own the lists they write) and each of `annotations` (the others kept);
// empty when nothing changes.
nlohmann::json managedFieldsPatch(const nlohmann::json& live, const nlohmann::json& spec,
                                  const nlohmann::json& annotations);

}  // namespace sluice::traffic
