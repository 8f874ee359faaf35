// The Traefik TraefikService router (see traefik.h).
#include "traffic/traefik.h"

#include <tuple>
#include <utility>

namespace sluice::traffic {

using nlohmann::json;

namespace {

const char* kTraefikService = "TraefikService";

const std::string& traefikServiceName(const engine::Rollout& rollout) {
  return rollout.spec.canary.trafficRouting->traefik->weightedTraefikServiceName;
}

// Whether `entry` of spec.weighted.services sends to the Kubernetes Service `service` (an entry of kind
// TraefikService names another TraefikService, whatever its name).
bool sendsTo(const json& entry, const std::string& service) {
  return entry.is_object() && entry.value("name", json()) == service &&
         entry.value("kind", json("Service")) != kTraefikService;
}

// The weight of the first entry for `service`, when it is a whole number; nullopt otherwise.
std::optional<int> weightOf(const json& services, const std::string& service) {
  for (const auto& entry : services) {
    if (!sendsTo(entry, service)) continue;
    const json weight = entry.value("weight", json());
    if (weight.is_number_integer()) return weight.get<int>();
    return std::nullopt;
  }
  return std::nullopt;
}

Error unsupportedStep(const std::string& step, const std::string& name) {
  return Error{step + " '" + name +
               "' is not supported by traefik: a weighted TraefikService splits by weight only (use the "
               "istio router or the argoproj-labs/gatewayAPI plugin, which Traefik also implements)"};
}

}  // namespace

Result<json> weightedTraefikServices(const engine::Rollout& rollout, const json& traefikService,
                                     const engine::SetTrafficWeight& weights) {
  const engine::CanaryStrategy& canary = rollout.spec.canary;
  const std::string name = "TraefikService `" + stringAt(traefikService, "/metadata/name") + "`";
  json services = jsonAt(traefikService, "/spec/weighted/services", json());
  if (!services.is_array()) return Error{name + " has no spec.weighted.services"};
  bool canaryFound = false;
  bool stableFound = false;
  for (auto& entry : services) {
    if (sendsTo(entry, canary.canaryService)) {
      entry["weight"] = weights.canaryWeight;
      canaryFound = true;
    } else if (sendsTo(entry, canary.stableService)) {
      entry["weight"] = weights.stableWeight;
      stableFound = true;
    }
  }
  const auto missing = [&name](const char* role, const std::string& service) {
    return Error{name + " has no entry for the " + role + " Service " + service +
                 " in spec.weighted.services"};
  };
  if (!canaryFound) return missing("canary", canary.canaryService);
  if (!stableFound) return missing("stable", canary.stableService);
  return services;
}

TraefikRouter::TraefikRouter(const engine::Rollout& rollout, std::string apiGroup)
    : rollout_(routedPart(rollout)), apiGroup_(std::move(apiGroup)) {}

Result<json> TraefikRouter::traefikService(const ObjectLookup& get) const {
  const std::string& name = traefikServiceName(rollout_);
  auto live = get(kTraefikService, name);
  if (!live)
    return Error{"TraefikService `" + name + "` (" + apiGroup_ +
                 "/v1alpha1) not found: trafficRouting.traefik.weightedTraefikServiceName names a "
                 "TraefikService of the Rollout's namespace, which Sluice does not create"};
  return std::move(*live);
}

Result<std::optional<engine::TrafficInForce>> TraefikRouter::inForce(const ObjectLookup& get) const {
  auto live = traefikService(get);
  if (!live) return Error{live.error()};
  const json services = jsonAt(*live, "/spec/weighted/services", json::array());
  const auto canaryWeight = weightOf(services, rollout_.spec.canary.canaryService);
  const auto stableWeight = weightOf(services, rollout_.spec.canary.stableService);
  return weightsReadBack(*this, get, *live, canaryWeight, stableWeight);
}

Result<Writes> TraefikRouter::setWeight(const ObjectLookup& get,
                                        const engine::SetTrafficWeight& weights) const {
  auto live = traefikService(get);
  if (!live) return Error{live.error()};
  auto services = weightedTraefikServices(rollout_, *live, weights);
  if (!services) return Error{services.error()};
  json patch = managedFieldsPatch(
      *live, json::object(),
      {{kCanaryHashAnnotation, weights.canaryHash}, {kStableHashAnnotation, weights.stableHash}});
  if (jsonAt(*live, "/spec/weighted/services", json()) != *services)
    patch["spec"]["weighted"]["services"] = std::move(*services);
  if (patch.empty()) return Writes{};
  return Writes{
      {ObjectWrite::Op::MergePatch, kTraefikService, traefikServiceName(rollout_), std::move(patch)}};
}

Result<Writes> TraefikRouter::setHeaderRoute(const ObjectLookup&,
                                             const engine::SetHeaderRouteStep& route) const {
  return unsupportedStep("setHeaderRoute", route.name);
}

Result<Writes> TraefikRouter::setMirrorRoute(const ObjectLookup&,
                                             const engine::SetMirrorRouteStep& route) const {
  return unsupportedStep("setMirrorRoute", route.name);
}

}  // namespace sluice::traffic
