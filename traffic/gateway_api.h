// Gateway API (trafficRouting.plugins["argoproj-labs/gatewayAPI"], the configuration Argo Rollouts' plugin
// reads): the canary's share set as backendRef weights in the rules of the Rollout's HTTPRoutes, and the
// header and mirror routes as rules Sluice adds, each named after its managed route (spec.rules[].name).
#pragma once

#include <string>
#include <vector>

#include "traffic/router.h"

namespace sluice::traffic {

inline constexpr const char* kGatewayApiPlugin = engine::kGatewayApiRouterPlugin;

// One HTTPRoute the plugin configuration names.
struct GatewayApiHttpRoute {
  std::string name;
  // Whether setHeaderRoute adds its rule here: true for `httpRoute`, as given (default false) for an entry
  // of `httpRoutes`, as the plugin has it.
  bool useHeaderRoutes = false;
};

struct GatewayApiConfig {
  std::vector<GatewayApiHttpRoute> httpRoutes;  // `httpRoute` first, then `httpRoutes`
};

// The plugin configuration `config` of `rollout`, or an error naming the field (its path under
// spec.strategy.canary.trafficRouting.plugins): no HTTPRoute named, a route kind or selector Sluice does not
// support yet, a `namespace` other than the Rollout's.
Result<GatewayApiConfig> parseGatewayApiConfig(const engine::Rollout& rollout, const nlohmann::json& config);

// The builders take an HTTPRoute as it is now and return its spec.rules as they should be; an error names
// the HTTPRoute and what is missing from it.

// Every backendRef to the canary Service at the canary weight and every one to the stable Service at the
// stable weight, in every rule but the header routes Sluice added (whose only backend is the canary). An
// error when no rule has a backendRef to the canary Service, or none to the stable one.
Result<nlohmann::json> weightedRules(const engine::Rollout& rollout, const nlohmann::json& httpRoute,
                                     const engine::SetTrafficWeight& weights);

// The rules with the header route of `step` appended (or, when the step has no match, without it): a copy
// of the first rule sending to both Services, named step.name, each of its matches with the step's headers
// added (a prefix match as a regular expression), sending only to the canary Service.
Result<nlohmann::json> rulesWithHeaderRoute(const engine::Rollout& rollout, const nlohmann::json& httpRoute,
                                            const engine::SetHeaderRouteStep& step);

// The rules with the mirror route of `step` appended (or, when the step has no match, without it): a copy of
// the first rule sending to both Services, named step.name, matching the step's matches, with a
// RequestMirror filter to the canary Service at step.percentage; its backendRefs follow later weights.
Result<nlohmann::json> rulesWithMirrorRoute(const engine::Rollout& rollout, const nlohmann::json& httpRoute,
                                            const engine::SetMirrorRouteStep& step);

class GatewayApiRouter final : public Router {
 public:
  // Keeps what it needs of `rollout` (not its pod template). `config` is what parseGatewayApiConfig gave.
  GatewayApiRouter(const engine::Rollout& rollout, GatewayApiConfig config);

  std::vector<std::string> kinds() const override { return {"HTTPRoute"}; }
  // The canary and stable backendRef weights of the first HTTPRoute, with the hash annotations Sluice writes
  // on it; nullopt when any HTTPRoute is not what setting those weights would make.
  Result<std::optional<engine::TrafficInForce>> inForce(const ObjectLookup& get) const override;
  // One merge patch per HTTPRoute that changes: spec.rules whole (a merge patch replaces lists) and the
  // hash annotations.
  Result<Writes> setWeight(const ObjectLookup& get, const engine::SetTrafficWeight& weights) const override;
  // On each HTTPRoute with useHeaderRoutes.
  Result<Writes> setHeaderRoute(const ObjectLookup& get,
                                const engine::SetHeaderRouteStep& route) const override;
  // On every HTTPRoute.
  Result<Writes> setMirrorRoute(const ObjectLookup& get,
                                const engine::SetMirrorRouteStep& route) const override;
  // Removes the rules named after a managed route from every HTTPRoute.
  Result<Writes> removeManagedRoutes(const ObjectLookup& get) const override;

 private:
  // The HTTPRoutes' names: all, or those with useHeaderRoutes.
  std::vector<std::string> routeNames(bool headerRoutesOnly) const;

  engine::Rollout rollout_;
  GatewayApiConfig config_;
};

}  // namespace sluice::traffic
