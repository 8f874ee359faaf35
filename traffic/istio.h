// Istio (spec.strategy.canary.trafficRouting.istio): the canary's share set as destination weights in the
// VirtualServices' HTTP routes, by host or by DestinationRule subset (whose labels Sluice points at the
// pod-template hashes), and the managed header and mirror routes placed before every other route.
#pragma once

#include <string>

#include "traffic/router.h"

namespace sluice::traffic {

// On a DestinationRule whose subsets Sluice manages: the name of the Rollout managing them.
inline constexpr const char* kManagedByRolloutsAnnotation = "sluice.dev/managed-by-rollouts";

// The builders below take an object as it is now and return the part of it Sluice manages, as it should
// be; IstioRouter diffs that against the live object. An error names the object and the route or subset.

// The routes of `virtualService` that `config` selects, at `weights`, as the lists to write by spec key
// ("http", "tls", "tcp"): HTTP routes named in `routes` (else the only HTTP route that is not a managed one,
// unless only TLS or TCP routes are named), TLS routes by port and SNI hosts, TCP routes by port; in each,
// the canary destination at the canary weight, the stable one at the stable weight less the weights of
// additionalSubsetNames (which keep theirs), every other destination removed. The managed mirror routes
// follow the weights too.
Result<nlohmann::json> weightedRoutes(const engine::Rollout& rollout,
                                      const engine::IstioVirtualService& config,
                                      const nlohmann::json& virtualService,
                                      const engine::SetTrafficWeight& weights);

// spec.subsets of `destinationRule` with the canary and stable subsets labelled with the canary and stable
// hashes (sluice.dev/pod-template-hash); other subsets as they are.
Result<nlohmann::json> hashedSubsets(const engine::Rollout& rollout, const nlohmann::json& destinationRule,
                                     const engine::SetTrafficWeight& weights);

// spec.http of `virtualService` with the header route of `step` (or, when the step has no match, without
// it): requests matching any of the headers go 100% to the canary destination of the first selected route.
Result<nlohmann::json> httpRoutesWithHeaderRoute(const engine::Rollout& rollout,
                                                 const engine::IstioVirtualService& config,
                                                 const nlohmann::json& virtualService,
                                                 const engine::SetHeaderRouteStep& step);

// spec.http of `virtualService` with the mirror route of `step` (or, when the step has no match, without
// it): the first selected route's destinations, mirrored to its canary destination at step.percentage.
Result<nlohmann::json> httpRoutesWithMirrorRoute(const engine::Rollout& rollout,
                                                 const engine::IstioVirtualService& config,
                                                 const nlohmann::json& virtualService,
                                                 const engine::SetMirrorRouteStep& step);

class IstioRouter final : public Router {
 public:
  // Keeps what it needs of `rollout` (not its pod template). Precondition: trafficRouting.istio is set.
  explicit IstioRouter(const engine::Rollout& rollout);

  std::vector<std::string> kinds() const override { return {"VirtualService", "DestinationRule"}; }
  // The weights of the first selected route (HTTP, else TLS, else TCP) of the first VirtualService, with the
  // hashes of the DestinationRule's subsets (subset-level) or of the annotations Sluice writes on the
  // VirtualServices (host-level); nullopt when any selected route or object is not what setting those weights
  // would make.
  Result<std::optional<engine::TrafficInForce>> inForce(const ObjectLookup& get) const override;
  // The DestinationRule's merge patch first (the subsets point at the hashes before traffic moves), then one
  // per VirtualService that changes.
  Result<Writes> setWeight(const ObjectLookup& get, const engine::SetTrafficWeight& weights) const override;
  Result<Writes> setHeaderRoute(const ObjectLookup& get,
                                const engine::SetHeaderRouteStep& route) const override;
  Result<Writes> setMirrorRoute(const ObjectLookup& get,
                                const engine::SetMirrorRouteStep& route) const override;
  Result<Writes> removeManagedRoutes(const ObjectLookup& get) const override;

 private:
  engine::Rollout rollout_;
};

}  // namespace sluice::traffic
