// AWS App Mesh (spec.strategy.canary.trafficRouting.appMesh), on its Kubernetes kinds at
// appmesh.k8s.aws/v1beta2: the user's VirtualService names its VirtualRouter
// (spec.provider.virtualRouter.virtualRouterRef); in that router's routes (those `routes` names, or all of
// them) Sluice sets the weights of the weighted targets that are the canary and the stable VirtualNode, and
// points each VirtualNode's spec.podSelector at its revision's pod-template hash, as Argo Rollouts does.
// Nothing is created, owned or deleted by the Rollout.
#pragma once

#include <string>

#include "traffic/router.h"

namespace sluice::traffic {

// The key App Mesh's VirtualService is looked up and cached by: Istio's kind has the same name.
inline constexpr const char* kAppMeshVirtualService = "VirtualService.appmesh.k8s.aws";

// The hashes a VirtualNode's podSelector takes before there is a revision for it, as Argo Rollouts writes
// them: App Mesh refuses two VirtualNodes with the same podSelector, so a canary at the stable's revision
// selects none.
inline constexpr const char* kAppMeshStablePlaceholder = "stable-hash";
inline constexpr const char* kAppMeshCanaryPlaceholder = "canary-hash";

class AppMeshRouter final : public Router {
 public:
  // Keeps what it needs of `rollout` (not its pod template). Precondition: trafficRouting.appMesh is set.
  explicit AppMeshRouter(const engine::Rollout& rollout);

  std::vector<std::string> kinds() const override {
    return {kAppMeshVirtualService, "VirtualRouter", "VirtualNode"};
  }
  // The canary and stable targets' weights in the first route the Rollout weights, and the hash
  // annotations on the VirtualRouter; nullopt while they are not set or the routes, the VirtualNodes or the
  // annotations are not what setting those weights would make. An error: an object is missing or unusable
  // (said with its name and field).
  Result<std::optional<engine::TrafficInForce>> inForce(const ObjectLookup& get) const override;
  // A merge patch of the VirtualRouter's spec.routes (the list whole) and hash annotations, and one of each
  // VirtualNode's podSelector whose hash changes; none when in force. Errors as inForce.
  Result<Writes> setWeight(const ObjectLookup& get, const engine::SetTrafficWeight& weights) const override;
  // App Mesh routes are not changed by steps: header and mirror routes are errors (validation refuses them
  // before).
  Result<Writes> setHeaderRoute(const ObjectLookup& get,
                                const engine::SetHeaderRouteStep& route) const override;
  Result<Writes> setMirrorRoute(const ObjectLookup& get,
                                const engine::SetMirrorRouteStep& route) const override;
  // There are none to remove.
  Result<Writes> removeManagedRoutes(const ObjectLookup&) const override { return Writes{}; }

 private:
  // The live VirtualRouter behind the VirtualService, or an error naming what is missing.
  Result<nlohmann::json> virtualRouter(const ObjectLookup& get) const;

  engine::Rollout rollout_;
};

}  // namespace sluice::traffic
