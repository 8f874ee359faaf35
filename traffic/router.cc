// Choosing a Rollout's router (see router.h).
#include "traffic/router.h"

#include <string_view>

#include "kube/patch.h"
#include "traffic/alb.h"
#include "traffic/ambassador.h"
#include "traffic/apisix.h"
#include "traffic/appmesh.h"
#include "traffic/gateway_api.h"
#include "traffic/istio.h"
#include "traffic/nginx.h"
#include "traffic/smi.h"
#include "traffic/traefik.h"

namespace sluice::traffic {

Result<std::unique_ptr<Router>> makeRouter(const engine::Rollout& rollout, const RouterOptions& options) {
  const auto& routing = rollout.spec.canary.trafficRouting;
  if (!routing) return std::unique_ptr<Router>();
  const int routers =
      static_cast<int>(routing->nginx.has_value()) + static_cast<int>(routing->istio.has_value()) +
      static_cast<int>(routing->smi.has_value()) + static_cast<int>(routing->traefik.has_value()) +
      static_cast<int>(routing->ambassador.has_value()) + static_cast<int>(routing->apisix.has_value()) +
      static_cast<int>(routing->alb.has_value()) + static_cast<int>(routing->appMesh.has_value()) +
      static_cast<int>(!routing->plugins.empty());
  if (routers > 1) {
    std::string which = routing->istio        ? "istio with others"
                        : routing->nginx      ? "nginx with others"
                        : routing->smi        ? "smi with others"
                        : routing->traefik    ? "traefik with others"
                        : routing->ambassador ? "ambassador with others"
                        : routing->apisix     ? "apisix with others"
                        : routing->alb        ? "alb with others"
                                              : "appMesh with a plugin";
    return Error{
        "traffic routing with " + which +
        " (spec.strategy.canary.trafficRouting) is not supported yet; the routers are nginx, istio, smi, "
        "traefik, ambassador, apisix, alb, appMesh and the plugin " +
        kGatewayApiPlugin + ", one at a time"};
  }
  if (routing->nginx) return std::unique_ptr<Router>(std::make_unique<NginxRouter>(rollout));
  if (routing->istio) return std::unique_ptr<Router>(std::make_unique<IstioRouter>(rollout));
  if (routing->smi)
    return std::unique_ptr<Router>(std::make_unique<SmiRouter>(rollout, options.trafficSplitVersion));
  if (routing->traefik)
    return std::unique_ptr<Router>(std::make_unique<TraefikRouter>(rollout, options.traefikApiGroup));
  if (routing->ambassador) return std::unique_ptr<Router>(std::make_unique<AmbassadorRouter>(rollout));
  if (routing->apisix) return std::unique_ptr<Router>(std::make_unique<ApisixRouter>(rollout));
  if (routing->alb) return std::unique_ptr<Router>(std::make_unique<AlbRouter>(rollout));
  if (routing->appMesh) return std::unique_ptr<Router>(std::make_unique<AppMeshRouter>(rollout));
  if (routing->plugins.empty())
    return Error{
        "spec.strategy.canary.trafficRouting names no traffic router (nginx, istio, smi, traefik, "
        "ambassador, apisix, alb, appMesh or plugins)"};
  auto config = parseGatewayApiConfig(rollout, routing->plugins.begin()->second);
  if (!config) return Error{config.error()};
  return std::unique_ptr<Router>(std::make_unique<GatewayApiRouter>(rollout, std::move(*config)));
}

engine::Rollout routedPart(const engine::Rollout& rollout) {
  engine::Rollout kept;
  kept.apiVersion = rollout.apiVersion;
  kept.metadata = rollout.metadata;
  kept.spec.canary.canaryService = rollout.spec.canary.canaryService;
  kept.spec.canary.stableService = rollout.spec.canary.stableService;
  kept.spec.canary.pingPong = rollout.spec.canary.pingPong;
  kept.spec.canary.trafficRouting = rollout.spec.canary.trafficRouting;
  return kept;
}

nlohmann::json ownerReference(const engine::Rollout& rollout) {
  return {{"apiVersion", engine::kApiVersion}, {"kind", "Rollout"},  {"name", rollout.metadata.name},
          {"uid", rollout.metadata.uid},       {"controller", true}, {"blockOwnerDeletion", true}};
}

Result<std::optional<engine::TrafficInForce>> weightsReadBack(
    const Router& router, const ObjectLookup& get, const nlohmann::json& live,
    std::optional<int> canaryWeight, std::optional<int> stableWeight, const std::string& canaryService,
    const std::string& stableService, std::vector<engine::WeightDestination> additional) {
  if (!canaryWeight || !stableWeight) {
    // Not set yet (all on the stable), unless what the weights go to is missing.
    auto writes = router.setWeight(get, {0, 100, "", ""});
    if (!writes) return Error{writes.error()};
    return std::optional<engine::TrafficInForce>();
  }
  const engine::TrafficInForce seen{*canaryWeight, *stableWeight, annotationOf(live, kCanaryHashAnnotation),
                                    annotationOf(live, kStableHashAnnotation), std::move(additional)};
  auto writes = router.setWeight(get, settingOf(seen, canaryService, stableService));
  if (!writes) return Error{writes.error()};
  if (!writes->empty()) return std::optional<engine::TrafficInForce>();
  return std::optional<engine::TrafficInForce>(seen);
}

engine::SetTrafficWeight settingOf(const engine::TrafficInForce& seen, const std::string& canaryService,
                                   const std::string& stableService) {
  return {seen.canaryWeight, seen.stableWeight, seen.canaryHash, seen.stableHash,
          canaryService,     stableService,     seen.additional};
}

bool madeByArgoFor(const nlohmann::json& live, const engine::Rollout& rollout) {
  const nlohmann::json owners = jsonAt(live, "/metadata/ownerReferences", nlohmann::json::array());
  for (const auto& owner : owners.is_array() ? owners : nlohmann::json::array()) {
    if (!owner.is_object() || !owner.value("controller", false)) continue;
    return owner.value("apiVersion", "").starts_with("argoproj.io/") &&
           owner.value("kind", "") == "Rollout" && owner.value("name", "") == rollout.metadata.name;
  }
  return false;
}

nlohmann::json jsonAt(const nlohmann::json& obj, const std::string& pointer, const nlohmann::json& fallback) {
  const nlohmann::json::json_pointer ptr(pointer);
  return obj.contains(ptr) ? obj.at(ptr) : fallback;
}

std::string stringAt(const nlohmann::json& obj, const std::string& pointer) {
  const nlohmann::json value = jsonAt(obj, pointer, nlohmann::json());
  return value.is_string() ? value.get<std::string>() : std::string();
}

std::string escapeRegex(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (std::string_view(R"(\^$.|?*+()[]{})").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string annotationOf(const nlohmann::json& object, const std::string& key) {
  const nlohmann::json annotations = jsonAt(object, "/metadata/annotations", nlohmann::json::object());
  const auto it = annotations.is_object() ? annotations.find(key) : annotations.end();
  return it != annotations.end() && it->is_string() ? it->get<std::string>() : std::string();
}

nlohmann::json managedFieldsPatch(const nlohmann::json& live, const nlohmann::json& spec,
                                  const nlohmann::json& annotations) {
  using nlohmann::json;
  json patch = json::object();
  json liveAnnotations = jsonAt(live, "/metadata/annotations", json::object());
  if (!liveAnnotations.is_object()) liveAnnotations = json::object();
  json wantedAnnotations = liveAnnotations;
  for (const auto& [key, annotation] : annotations.items()) wantedAnnotations[key] = annotation;
  const json annotationPatch = kube::mergePatchBetween(liveAnnotations, wantedAnnotations);
  if (!annotationPatch.empty()) patch["metadata"]["annotations"] = annotationPatch;
  for (const auto& [key, value] : spec.items()) {
    // A list that is not there reads as empty, as the routers read it.
    if (jsonAt(live, "/spec/" + key, json::array()) != value) patch["spec"][key] = value;
  }
  return patch;
}

}  // namespace sluice::traffic
