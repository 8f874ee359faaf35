// Apache APISIX (spec.strategy.canary.trafficRouting.apisix): the user's ApisixRoute `route.name`, whose HTTP
// rules `route.rules` (default: the one named as the route) carry the canary and stable Services among their
// backends. Sluice sets those two backends' weights and nothing else: the ApisixRoute is not created, owned
// or deleted by the Rollout, and its other rules, backends and plugins stay as they are.
#pragma once

#include <string>
#include <vector>

#include "traffic/router.h"

namespace sluice::traffic {

inline constexpr const char* kApisixRouteGroup = "apisix.apache.org";

// The rules of the ApisixRoute the weights go in: route.rules, else the rule named as the route.
std::vector<std::string> apisixRules(const engine::Rollout& rollout);

// spec.http of `apisixRoute` (named `name` in messages) with, in each rule apisixRules() names, the backend
// of the canary Service at the canary weight and the backend of the stable Service at the stable weight;
// every other rule and backend as it is. An error names the ApisixRoute and what it lacks: spec.http, a
// rule, its backends, the canary or the stable Service among them.
Result<nlohmann::json> weightedApisixRules(const engine::Rollout& rollout, const nlohmann::json& apisixRoute,
                                           const engine::SetTrafficWeight& weights);

class ApisixRouter final : public Router {
 public:
  // Keeps what it needs of `rollout` (not its pod template). Precondition: trafficRouting.apisix is set.
  explicit ApisixRouter(const engine::Rollout& rollout);

  std::vector<std::string> kinds() const override { return {"ApisixRoute"}; }
  // The first rule's canary and stable weights and the hash annotations Sluice writes on the ApisixRoute;
  // nullopt while a weight is missing (as the route is written before the first step) or the rules or
  // annotations are not what setting those weights would make. An error as weightedApisixRules, or the
  // ApisixRoute missing.
  Result<std::optional<engine::TrafficInForce>> inForce(const ObjectLookup& get) const override;
  // One merge patch of spec.http (the list whole, as a merge patch replaces lists) and of the hash
  // annotations (others kept); none when in force. Errors as inForce.
  Result<Writes> setWeight(const ObjectLookup& get, const engine::SetTrafficWeight& weights) const override;
  // Not yet: header routes (Argo Rollouts' separate ApisixRoute per managed route) and mirror routes are
  // errors, which validation reports before.
  Result<Writes> setHeaderRoute(const ObjectLookup& get,
                                const engine::SetHeaderRouteStep& route) const override;
  Result<Writes> setMirrorRoute(const ObjectLookup& get,
                                const engine::SetMirrorRouteStep& route) const override;
  // There are none to remove.
  Result<Writes> removeManagedRoutes(const ObjectLookup&) const override { return Writes{}; }

 private:
  // The live ApisixRoute, or an error naming it.
  Result<nlohmann::json> apisixRoute(const ObjectLookup& get) const;

  engine::Rollout rollout_;
};

}  // namespace sluice::traffic
