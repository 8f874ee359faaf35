// ingress-nginx (spec.strategy.canary.trafficRouting.nginx): for each stable Ingress, a canary Ingress
// `<rollout>-<stable>-canary` built from it (the rules that send to the stable Service, pointed at the canary
// Service; TLS and class copied), with ingress-nginx's canary annotations carrying the weight. The canary
// Ingress is owned by the Rollout; annotations on it that Sluice does not manage are left as they are.
#pragma once

#include <string>

#include "traffic/router.h"

namespace sluice::traffic {

// `<rollout>-<stableIngress>-canary`, its first part cut so the whole stays within 253 characters.
std::string canaryIngressName(const std::string& rollout, const std::string& stableIngress);

// The canary Ingress wanted for `stable` (the stable Ingress as it is now) at `weights`, owned by `rollout`.
// An error when no rule of `stable` sends to the stable Service.
Result<nlohmann::json> desiredCanaryIngress(const engine::Rollout& rollout, const nlohmann::json& stable,
                                            const engine::SetTrafficWeight& weights);

class NginxRouter final : public Router {
 public:
  // Keeps what it needs of `rollout` (not its pod template).
  explicit NginxRouter(const engine::Rollout& rollout);

  std::vector<std::string> kinds() const override { return {"Ingress"}; }
  Result<std::optional<engine::TrafficInForce>> inForce(const ObjectLookup& get) const override;
  Result<Writes> setWeight(const ObjectLookup& get, const engine::SetTrafficWeight& weights) const override;
  // Header and mirror routes are not nginx's (validation refuses them with nginx alone, as Argo does:
  // header-based canary routing on nginx is canary-by-header in additionalIngressAnnotations).
  Result<Writes> setHeaderRoute(const ObjectLookup&, const engine::SetHeaderRouteStep&) const override {
    return Writes{};
  }
  Result<Writes> setMirrorRoute(const ObjectLookup&, const engine::SetMirrorRouteStep&) const override {
    return Writes{};
  }
  Result<Writes> removeManagedRoutes(const ObjectLookup&) const override { return Writes{}; }

 private:
  // Whether `live`, the canary Ingress of `stableName`, is what that stable Ingress implies at `seen`.
  bool matchesStable(const ObjectLookup& get, const std::string& stableName, const nlohmann::json& live,
                     const engine::TrafficInForce& seen) const;

  engine::Rollout rollout_;
};

}  // namespace sluice::traffic
