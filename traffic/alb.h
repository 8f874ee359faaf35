// AWS Load Balancer Controller (spec.strategy.canary.trafficRouting.alb): on each of the user's Ingresses
// (ingress or ingresses), the annotation `<annotationPrefix>/actions.<rootService or stableService>` holds a
// forward action whose weighted target groups are the canary and the stable Service at servicePort, as Argo
// Rollouts writes it. The Ingress must have a rule whose backend is that action (the service name the
// action's, the port name use-annotation). Sluice writes that annotation and its hash annotations, nothing
// else: the Ingress is not created, owned or deleted by the Rollout. A header route is an action and a
// conditions annotation of the route's name, and a path to it at the head of each rule.
#pragma once

#include <string>

#include "traffic/router.h"

namespace sluice::traffic {

// `<annotationPrefix>/actions.<name>` and `<annotationPrefix>/conditions.<name>`.
std::string albActionAnnotation(const engine::AlbTrafficRouting& alb, const std::string& name);
std::string albConditionsAnnotation(const engine::AlbTrafficRouting& alb, const std::string& name);

// The forward action, as the annotation's string (compact JSON, keys in Argo's order): the target groups of
// `canaryService` at `canaryWeight`, of each `additional` Service at its weight, then of `stableService` at
// the rest (none when `stableService` is empty), at servicePort, with the stickiness config when it is
// enabled.
std::string albForwardAction(const engine::AlbTrafficRouting& alb, const std::string& canaryService,
                             int canaryWeight, const std::string& stableService, int stableWeight,
                             const std::vector<engine::WeightDestination>& additional = {});

class AlbRouter final : public Router {
 public:
  // Keeps what it needs of `rollout` (not its pod template). Precondition: trafficRouting.alb is set.
  explicit AlbRouter(const engine::Rollout& rollout);

  std::vector<std::string> kinds() const override { return {"Ingress"}; }
  // The weights of the first Ingress's action, its first target group's Service taken as the canary (Argo
  // writes the canary's first), and the hash annotations; nullopt while there is no action yet or the
  // Ingresses are not what setting those weights would make. An error: an Ingress is missing or has no
  // rule whose backend is the action.
  Result<std::optional<engine::TrafficInForce>> inForce(const ObjectLookup& get) const override;
  // One merge patch per Ingress of the action annotation and the hash annotations (the others kept), to
  // the Services `weights` names (or the spec's); none when in force. Errors as inForce.
  Result<Writes> setWeight(const ObjectLookup& get, const engine::SetTrafficWeight& weights) const override;
  // With a match: the route's action (all to the canary Service, the one the weights now send the canary
  // share to) and its http-header conditions (exact values), and a path `/*` to the action at the head of
  // each rule, paths ordered as managedRoutes; without: those taken away.
  Result<Writes> setHeaderRoute(const ObjectLookup& get,
                                const engine::SetHeaderRouteStep& route) const override;
  // ALB actions cannot mirror: an error (validation refuses the step before).
  Result<Writes> setMirrorRoute(const ObjectLookup& get,
                                const engine::SetMirrorRouteStep& route) const override;
  // Each managed route's annotations and path taken away.
  Result<Writes> removeManagedRoutes(const ObjectLookup& get) const override;

 private:
  // The live Ingress `name`, or an error naming it.
  Result<nlohmann::json> ingress(const ObjectLookup& get, const std::string& name) const;
  // rootService, or the stable Service.
  std::string actionName() const;
  // The header routes `names` set (with `route`'s match) or taken away on every Ingress.
  Result<Writes> changeRoutes(const ObjectLookup& get, const std::vector<std::string>& names,
                              const std::vector<engine::HeaderMatch>& match) const;

  engine::Rollout rollout_;
};

}  // namespace sluice::traffic
