// Apache APISIX (spec.strategy.canary.trafficRouting.apisix): the user's ApisixRoute `route.name`, whose HTTP
// rules `route.rules` (default: the one named as the route) carry the canary and stable Services among their
// backends. Sluice sets those two backends' weights and nothing else: the ApisixRoute is not created, owned
// or deleted by the Rollout, and its other rules, backends and plugins stay as they are. A setHeaderRoute
// step is, as in Argo Rollouts, an ApisixRoute of its own named after the managed route and owned by the
// Rollout: the selected rules at a higher priority, matching the headers too, sending only to the canary
// Service.
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

// The ApisixRoute of the header route `step` (with a match) made from `apisixRoute` (the user's, as it is
// now), owned by `rollout`: its spec without stream routes, spec.http the rules apisixRules() names, each
// with its priority one above the user's, the step's headers added to its match.exprs (exact as Equal, regex
// as RegexMatch, prefix as a RegexMatch of the escaped prefix) and only its canary backends, at weight 100.
// An error as weightedApisixRules.
Result<nlohmann::json> desiredApisixHeaderRoute(const engine::Rollout& rollout,
                                                const nlohmann::json& apisixRoute,
                                                const engine::SetHeaderRouteStep& step);

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
  // Creates the header route's ApisixRoute, merge-patches it to what desiredApisixHeaderRoute makes, or,
  // for a step without a match, deletes it; none when it is so already. An error: an ApisixRoute of the
  // step's name the Rollout does not control, or as desiredApisixHeaderRoute.
  Result<Writes> setHeaderRoute(const ObjectLookup& get,
                                const engine::SetHeaderRouteStep& route) const override;
  // Mirror routes are errors (validation refuses them before).
  Result<Writes> setMirrorRoute(const ObjectLookup& get,
                                const engine::SetMirrorRouteStep& route) const override;
  // Deletes the ApisixRoutes of the managed routes that the Rollout controls.
  Result<Writes> removeManagedRoutes(const ObjectLookup& get) const override;

 private:
  // The live ApisixRoute, or an error naming it.
  Result<nlohmann::json> apisixRoute(const ObjectLookup& get) const;
  // The live ApisixRoute of the managed route `name`; nullopt when there is none; an error when the
  // Rollout does not control it.
  Result<std::optional<nlohmann::json>> ownHeaderRoute(const ObjectLookup& get,
                                                       const std::string& name) const;

  engine::Rollout rollout_;
};

}  // namespace sluice::traffic
