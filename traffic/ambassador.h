// Ambassador / Emissary-ingress (spec.strategy.canary.trafficRouting.ambassador): for each of the user's
// Mappings named in `mappings`, a canary Mapping `<mapping>-canary` made from it, sending to the canary
// Service at the canary weight; Ambassador gives the base Mapping, which sets no weight, the rest. The canary
// Mapping is owned by the Rollout and deleted when the canary weight is 0 (a Mapping of weight 0 would
// share the traffic instead). The pod-template hashes the weights were set for are annotations on the base
// Mappings, which outlast the canary ones.
#pragma once

#include <string>

#include "traffic/router.h"
#include "traffic/router_options.h"

namespace sluice::traffic {

// `<mapping>-canary`, the base name cut to 246 characters first, as Argo Rollouts names it.
std::string canaryMappingName(const std::string& mapping);

// The canary Mapping for `base` (the user's Mapping as it is now) at `canaryWeight`, owned by `rollout`: the
// base's apiVersion and spec, spec.service the canary Service (with the base's port, when its service ends
// in `:<number>`), spec.weight the canary weight.
nlohmann::json desiredCanaryMapping(const engine::Rollout& rollout, const nlohmann::json& base,
                                    int canaryWeight);

class AmbassadorRouter final : public Router {
 public:
  // Keeps what it needs of `rollout` (not its pod template). Precondition: trafficRouting.ambassador is set.
  explicit AmbassadorRouter(const engine::Rollout& rollout);

  std::vector<std::string> kinds() const override { return {"Mapping"}; }
  // The canary Mappings' weight (0 where there is none) and the base Mappings' hash annotations; nullopt
  // while the Mappings disagree or are not what setting those weights would make (a canary Mapping that is
  // no longer a copy of its base, as when the base changed). An error as setWeight.
  Result<std::optional<engine::TrafficInForce>> inForce(const ObjectLookup& get) const override;
  // Per base Mapping: a merge patch of its hash annotations (others kept), then the canary Mapping created,
  // merge-patched to its base's copy, or deleted at weight 0; none when in force. An error: a base Mapping
  // missing or setting a weight itself, or a canary Mapping of that name another owner controls (one with no
  // controller, as Argo Rollouts makes them, is taken over).
  Result<Writes> setWeight(const ObjectLookup& get, const engine::SetTrafficWeight& weights) const override;
  // A Mapping splits by weight only: header and mirror routes are errors (validation refuses them before).
  Result<Writes> setHeaderRoute(const ObjectLookup& get,
                                const engine::SetHeaderRouteStep& route) const override;
  Result<Writes> setMirrorRoute(const ObjectLookup& get,
                                const engine::SetMirrorRouteStep& route) const override;
  // There are none to remove.
  Result<Writes> removeManagedRoutes(const ObjectLookup&) const override { return Writes{}; }

 private:
  engine::Rollout rollout_;
};

}  // namespace sluice::traffic
