// Choosing a Rollout's router (see router.h).
#include "traffic/router.h"

#include <algorithm>
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

namespace {

// Several routers at once, as Argo Rollouts runs them (an ALB in front of an Istio mesh, say): every write
// goes to each, in the order of the trafficRouting fields, and the weights are in force when all of them
// have them.
class MultiRouter final : public Router {
 public:
  explicit MultiRouter(std::vector<std::unique_ptr<Router>> routers) : routers_(std::move(routers)) {}

  std::vector<std::string> kinds() const override {
    std::vector<std::string> out;
    for (const auto& r : routers_) {
      for (auto& kind : r->kinds())
        if (std::find(out.begin(), out.end(), kind) == out.end()) out.push_back(std::move(kind));
    }
    return out;
  }

  // The routers' common split; when they differ (a write reached some of them only), a split no pass asks
  // for (no hashes), so the weights are written again, each weight the highest any router gives, so that
  // no Service is taken for quiet while one router still sends it traffic.
  Result<std::optional<engine::TrafficInForce>> inForce(const ObjectLookup& get) const override {
    std::vector<std::optional<engine::TrafficInForce>> seen;
    for (const auto& r : routers_) {
      auto weights = r->inForce(get);
      if (!weights) return Error{weights.error()};
      seen.push_back(std::move(*weights));
    }
    if (std::all_of(seen.begin(), seen.end(), [&](const auto& w) { return w == seen.front(); }))
      return seen.front();
    engine::TrafficInForce merged{0, 0, "", ""};
    for (const auto& w : seen) {
      const engine::TrafficInForce split =
          w.value_or(engine::TrafficInForce{});  // none set: all on the stable
      merged.canaryWeight = std::max(merged.canaryWeight, split.canaryWeight);
      merged.stableWeight = std::max(merged.stableWeight, split.stableWeight);
    }
    return std::optional<engine::TrafficInForce>(merged);
  }

  Result<Writes> setWeight(const ObjectLookup& get, const engine::SetTrafficWeight& weights) const override {
    return each([&](const Router& r) { return r.setWeight(get, weights); });
  }
  Result<Writes> setHeaderRoute(const ObjectLookup& get,
                                const engine::SetHeaderRouteStep& route) const override {
    return each([&](const Router& r) { return r.setHeaderRoute(get, route); });
  }
  Result<Writes> setMirrorRoute(const ObjectLookup& get,
                                const engine::SetMirrorRouteStep& route) const override {
    return each([&](const Router& r) { return r.setMirrorRoute(get, route); });
  }
  Result<Writes> removeManagedRoutes(const ObjectLookup& get) const override {
    return each([&](const Router& r) { return r.removeManagedRoutes(get); });
  }

 private:
  // The writes of `write` on every router, in order; the first error stops it.
  template <typename Write>
  Result<Writes> each(Write write) const {
    Writes all;
    for (const auto& r : routers_) {
      auto writes = write(*r);
      if (!writes) return Error{writes.error()};
      for (auto& w : *writes) all.push_back(std::move(w));
    }
    return all;
  }

  std::vector<std::unique_ptr<Router>> routers_;
};

}  // namespace

Result<std::unique_ptr<Router>> makeRouter(const engine::Rollout& rollout, const RouterOptions& options) {
  const auto& routing = rollout.spec.canary.trafficRouting;
  if (!routing) return std::unique_ptr<Router>();
  std::vector<std::unique_ptr<Router>> routers;
  if (routing->nginx) routers.push_back(std::make_unique<NginxRouter>(rollout));
  if (routing->istio) routers.push_back(std::make_unique<IstioRouter>(rollout));
  if (routing->smi) routers.push_back(std::make_unique<SmiRouter>(rollout, options.trafficSplitVersion));
  if (routing->traefik) routers.push_back(std::make_unique<TraefikRouter>(rollout, options.traefikApiGroup));
  if (routing->ambassador) routers.push_back(std::make_unique<AmbassadorRouter>(rollout));
  if (routing->apisix) routers.push_back(std::make_unique<ApisixRouter>(rollout));
  if (routing->alb) routers.push_back(std::make_unique<AlbRouter>(rollout));
  if (routing->appMesh) routers.push_back(std::make_unique<AppMeshRouter>(rollout));
  if (!routing->plugins.empty()) {
    auto config = parseGatewayApiConfig(rollout, routing->plugins.begin()->second);
    if (!config) return Error{config.error()};
    routers.push_back(std::make_unique<GatewayApiRouter>(rollout, std::move(*config)));
  }
  if (routers.empty())
    return Error{
        "spec.strategy.canary.trafficRouting names no traffic router (nginx, istio, smi, traefik, "
        "ambassador, apisix, alb, appMesh or plugins)"};
  if (routers.size() == 1) return std::move(routers.front());
  return std::unique_ptr<Router>(std::make_unique<MultiRouter>(std::move(routers)));
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
