// The AWS App Mesh router (see appmesh.h).
#include "traffic/appmesh.h"

#include <algorithm>
#include <utility>

namespace sluice::traffic {

using nlohmann::json;

namespace {

const char* kVirtualRouter = "VirtualRouter";
const char* kVirtualNode = "VirtualNode";
// The route kinds whose action App Mesh weights.
const char* kRouteTypes[] = {"httpRoute", "tcpRoute", "http2Route", "grpcRoute"};

const engine::AppMeshTrafficRouting& meshOf(const engine::Rollout& rollout) {
  return *rollout.spec.canary.trafficRouting->appMesh;
}

// The weighted targets of each route the Rollout weights, by the route's path in messages; an error names the
// route that is not usable.
struct WeightedRoute {
  std::string name;
  json* targets;
};

// A route of the VirtualRouter (spec.routes[<index>]) without weighted targets to set: without a route type
// (`type` null) or with one whose action has none.
Error unusableRoute(const std::string& routerName, size_t index, const char* type) {
  const std::string path = "spec.routes[" + std::to_string(index) + "]";
  if (!type)
    return Error{"VirtualRouter `" + routerName + "`: " + path +
                 " has no httpRoute, tcpRoute, http2Route or grpcRoute to weight"};
  return Error{"VirtualRouter `" + routerName + "`: " + path + "." + type +
               ".action.weightedTargets is missing or not a list"};
}

// "VirtualRouter `<name>`<what>".
Error routerError(const std::string& routerName, const std::string& what) {
  return Error{"VirtualRouter `" + routerName + "`" + what};
}

Result<std::vector<WeightedRoute>> weightedRoutes(const engine::AppMeshTrafficRouting& mesh,
                                                  const std::string& routerName, json& routes) {
  if (!routes.is_array() || routes.empty()) return routerError(routerName, " has no spec.routes");
  std::vector<WeightedRoute> out;
  for (size_t i = 0; i < routes.size(); ++i) {
    json& route = routes[i];
    const std::string name = stringAt(route, "/name");
    if (!mesh.routes.empty() && std::find(mesh.routes.begin(), mesh.routes.end(), name) == mesh.routes.end())
      continue;
    json* targets = nullptr;
    const char* found = nullptr;
    for (const char* type : kRouteTypes) {
      if (!route.is_object() || !route.contains(type)) continue;
      found = type;
      json& action = route[type]["action"];
      if (action.is_object() && action.contains("weightedTargets") && action["weightedTargets"].is_array())
        targets = &action["weightedTargets"];
      break;
    }
    if (!targets) return unusableRoute(routerName, i, found);
    out.push_back({name, targets});
  }
  const auto missing = std::find_if(mesh.routes.begin(), mesh.routes.end(), [&](const std::string& wanted) {
    return std::none_of(out.begin(), out.end(), [&](const WeightedRoute& r) { return r.name == wanted; });
  });
  if (missing != mesh.routes.end())
    return routerError(
        routerName, " has no route named `" + *missing + "` (trafficRouting.appMesh.virtualService.routes)");
  return out;
}

// The target of `targets` that is the VirtualNode `node` of `ns` (a target without a namespace is in the
// Rollout's); nullptr when there is none.
json* targetOf(json& targets, const std::string& node, const std::string& ns) {
  for (auto& target : targets) {
    const std::string targetNs = stringAt(target, "/virtualNodeRef/namespace");
    if (stringAt(target, "/virtualNodeRef/name") == node && (targetNs.empty() || targetNs == ns))
      return &target;
  }
  return nullptr;
}

std::optional<int> weightOf(const json* target) {
  const json weight = target ? target->value("weight", json()) : json();
  if (!weight.is_number_integer()) return std::nullopt;
  return weight.get<int>();
}

Error unsupportedStep(const std::string& step, const std::string& name) {
  return Error{
      step + " '" + name +
      "' is not supported by appMesh: its routes are the user's and are weighted only (use the istio "
      "router)"};
}

}  // namespace

AppMeshRouter::AppMeshRouter(const engine::Rollout& rollout) : rollout_(routedPart(rollout)) {}

Result<json> AppMeshRouter::virtualRouter(const ObjectLookup& get) const {
  const std::string& serviceName = meshOf(rollout_).virtualService;
  auto service = get(kAppMeshVirtualService, serviceName);
  if (!service)
    return Error{
        "VirtualService `" + serviceName +
        "` (appmesh.k8s.aws/v1beta2) not found: trafficRouting.appMesh.virtualService names one of the "
        "Rollout's namespace, which Sluice does not create"};
  const std::string routerName = stringAt(*service, "/spec/provider/virtualRouter/virtualRouterRef/name");
  if (routerName.empty())
    return Error{"VirtualService `" + serviceName +
                 "` is not provided by a VirtualRouter (spec.provider.virtualRouter.virtualRouterRef): App "
                 "Mesh weights targets in a VirtualRouter's routes"};
  auto router = get(kVirtualRouter, routerName);
  if (!router)
    return Error{"VirtualRouter `" + routerName + "` of the VirtualService `" + serviceName + "` not found"};
  return std::move(*router);
}

Result<std::optional<engine::TrafficInForce>> AppMeshRouter::inForce(const ObjectLookup& get) const {
  auto router = virtualRouter(get);
  if (!router) return Error{router.error()};
  const auto& mesh = meshOf(rollout_);
  json routes = jsonAt(*router, "/spec/routes", json());
  auto weighted = weightedRoutes(mesh, stringAt(*router, "/metadata/name"), routes);
  if (!weighted) return Error{weighted.error()};
  std::optional<int> canaryWeight;
  std::optional<int> stableWeight;
  for (auto& route : *weighted) {
    const json* canary = targetOf(*route.targets, mesh.canaryVirtualNode, rollout_.metadata.ns);
    const json* stable = targetOf(*route.targets, mesh.stableVirtualNode, rollout_.metadata.ns);
    if (!canary || !stable) continue;
    canaryWeight = weightOf(canary);
    stableWeight = weightOf(stable);
    break;
  }
  return weightsReadBack(*this, get, *router, canaryWeight, stableWeight);
}

Result<Writes> AppMeshRouter::setWeight(const ObjectLookup& get,
                                        const engine::SetTrafficWeight& weights) const {
  auto router = virtualRouter(get);
  if (!router) return Error{router.error()};
  const auto& mesh = meshOf(rollout_);
  const std::string routerName = stringAt(*router, "/metadata/name");
  json routes = jsonAt(*router, "/spec/routes", json());
  auto weighted = weightedRoutes(mesh, routerName, routes);
  if (!weighted) return Error{weighted.error()};
  // Without `routes`, the routes that send to neither VirtualNode are another's, left alone (as Argo does).
  int weightedCount = 0;
  for (auto& route : *weighted) {
    json* canary = targetOf(*route.targets, mesh.canaryVirtualNode, rollout_.metadata.ns);
    json* stable = targetOf(*route.targets, mesh.stableVirtualNode, rollout_.metadata.ns);
    if (!canary && !stable && mesh.routes.empty()) continue;
    if (!canary || !stable)
      return Error{"VirtualRouter `" + routerName + "`: route `" + route.name +
                   "` has no weighted target for the VirtualNode `" +
                   (canary ? mesh.stableVirtualNode : mesh.canaryVirtualNode) + "`"};
    (*canary)["weight"] = weights.canaryWeight;
    (*stable)["weight"] = weights.stableWeight;
    ++weightedCount;
  }
  if (weightedCount == 0)
    return Error{"VirtualRouter `" + routerName +
                 "` has no route whose weighted targets are the VirtualNodes `" + mesh.canaryVirtualNode +
                 "` and `" + mesh.stableVirtualNode + "`"};
  Writes writes;
  json patch = managedFieldsPatch(
      *router, {{"routes", routes}},
      {{kCanaryHashAnnotation, weights.canaryHash}, {kStableHashAnnotation, weights.stableHash}});
  if (!patch.empty())
    writes.push_back({ObjectWrite::Op::MergePatch, kVirtualRouter, routerName, std::move(patch)});
  // Each VirtualNode selects its revision's pods.
  const std::string stableHash = weights.stableHash.empty() ? kAppMeshStablePlaceholder : weights.stableHash;
  const std::string canaryHash = weights.canaryHash.empty() || weights.canaryHash == weights.stableHash
                                     ? kAppMeshCanaryPlaceholder
                                     : weights.canaryHash;
  for (const auto& [node, hash] :
       {std::pair{&mesh.stableVirtualNode, stableHash}, std::pair{&mesh.canaryVirtualNode, canaryHash}}) {
    auto live = get(kVirtualNode, *node);
    if (!live)
      return Error{
          "VirtualNode `" + *node +
          "` not found: trafficRouting.appMesh.virtualNodeGroup names one of the Rollout's namespace"};
    const json labels = jsonAt(*live, "/spec/podSelector/matchLabels", json::object());
    if (labels.is_object() && labels.value(engine::kPodTemplateHashLabel, json()) == hash) continue;
    json selector = {{"spec", {{"podSelector", {{"matchLabels", {{engine::kPodTemplateHashLabel, hash}}}}}}}};
    writes.push_back({ObjectWrite::Op::MergePatch, kVirtualNode, *node, std::move(selector)});
  }
  return writes;
}

Result<Writes> AppMeshRouter::setHeaderRoute(const ObjectLookup&,
                                             const engine::SetHeaderRouteStep& route) const {
  return unsupportedStep("setHeaderRoute", route.name);
}

Result<Writes> AppMeshRouter::setMirrorRoute(const ObjectLookup&,
                                             const engine::SetMirrorRouteStep& route) const {
  return unsupportedStep("setMirrorRoute", route.name);
}

}  // namespace sluice::traffic
