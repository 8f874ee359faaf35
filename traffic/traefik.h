// Traefik (spec.strategy.canary.trafficRouting.traefik): the user's TraefikService
// `weightedTraefikServiceName`, a weighted round robin whose spec.weighted.services name the canary and
// stable Services. Sluice sets those two services' weights and nothing else: the TraefikService is not
// created, owned or deleted by the Rollout, and its other services, ports and sticky settings stay as they
// are.
#pragma once

#include <string>

#include "traffic/router.h"
#include "traffic/router_options.h"

namespace sluice::traffic {

// spec.weighted.services of `traefikService` (named `name` in messages) with each entry for the canary
// Service at the canary weight and each for the stable Service at the stable weight; other entries as they
// are. An entry names a Service unless its kind is TraefikService. An error names the TraefikService and
// what it lacks: spec.weighted.services, an entry for the canary Service or one for the stable Service.
Result<nlohmann::json> weightedTraefikServices(const engine::Rollout& rollout,
                                               const nlohmann::json& traefikService,
                                               const engine::SetTrafficWeight& weights);

class TraefikRouter final : public Router {
 public:
  // Keeps what it needs of `rollout` (not its pod template); `apiGroup` (one of kTraefikApiGroups) only
  // names where the TraefikService was looked for in messages. Precondition: trafficRouting.traefik is set.
  TraefikRouter(const engine::Rollout& rollout, std::string apiGroup = kDefaultTraefikApiGroup);

  std::vector<std::string> kinds() const override { return {"TraefikService"}; }
  // The canary and stable services' weights and the hash annotations Sluice writes on the TraefikService;
  // nullopt while a weight is missing (as the TraefikService is written before the first step) or the
  // services or annotations are not what setting those weights would make. An error: the TraefikService is
  // missing, or lacks the canary or the stable Service.
  Result<std::optional<engine::TrafficInForce>> inForce(const ObjectLookup& get) const override;
  // One merge patch of spec.weighted.services (the list whole, as a merge patch replaces lists) and of the
  // hash annotations (others kept); none when in force. Errors as inForce.
  Result<Writes> setWeight(const ObjectLookup& get, const engine::SetTrafficWeight& weights) const override;
  // A weighted TraefikService splits by weight only: header and mirror routes are errors (validation
  // refuses them before).
  Result<Writes> setHeaderRoute(const ObjectLookup& get,
                                const engine::SetHeaderRouteStep& route) const override;
  Result<Writes> setMirrorRoute(const ObjectLookup& get,
                                const engine::SetMirrorRouteStep& route) const override;
  // There are none to remove.
  Result<Writes> removeManagedRoutes(const ObjectLookup&) const override { return Writes{}; }

 private:
  // The live TraefikService, or an error naming it and the group it was looked for in.
  Result<nlohmann::json> traefikService(const ObjectLookup& get) const;

  engine::Rollout rollout_;
  std::string apiGroup_;
};

}  // namespace sluice::traffic
