// The ingress-nginx router (see nginx.h).
#include "traffic/nginx.h"

#include <charconv>

#include "kube/owners.h"
#include "kube/patch.h"

namespace sluice::traffic {

using nlohmann::json;

namespace {

const char* kIngressClassAnnotation = "kubernetes.io/ingress.class";

std::string annotationKey(const engine::NginxTrafficRouting& nginx, const std::string& name) {
  return nginx.annotationPrefix + "/" + name;
}

// The annotations Sluice manages on a canary Ingress, as they should be now.
json managedAnnotations(const engine::Rollout& rollout, const engine::SetTrafficWeight& weights) {
  const engine::TrafficRouting& routing = *rollout.spec.canary.trafficRouting;
  const engine::NginxTrafficRouting& nginx = *routing.nginx;
  json out = json::object();
  // additionalIngressAnnotations take the prefix unless they carry it; canaryIngressAnnotations are verbatim
  // and win; the canary ones are always Sluice's.
  for (const auto& [key, value] : nginx.additionalIngressAnnotations) {
    out[key.rfind(nginx.annotationPrefix + "/", 0) == 0 ? key : annotationKey(nginx, key)] = value;
  }
  for (const auto& [key, value] : nginx.canaryIngressAnnotations) out[key] = value;
  out[annotationKey(nginx, "canary")] = "true";
  out[annotationKey(nginx, "canary-weight")] = std::to_string(weights.canaryWeight);
  if (routing.maxTrafficWeight)
    out[annotationKey(nginx, "canary-weight-total")] = std::to_string(*routing.maxTrafficWeight);
  out[kCanaryHashAnnotation] = weights.canaryHash;
  out[kStableHashAnnotation] = weights.stableHash;
  return out;
}

std::optional<int> parseWeight(const json& value) {
  if (!value.is_string()) return std::nullopt;
  const std::string& text = value.get_ref<const std::string&>();
  int weight = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), weight);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return weight;
}

}  // namespace

std::string canaryIngressName(const std::string& rollout, const std::string& stableIngress) {
  constexpr size_t kMaxName = 253;
  const std::string suffix = "-canary";
  std::string prefix = rollout + "-" + stableIngress;
  if (prefix.size() > kMaxName - suffix.size()) prefix.resize(kMaxName - suffix.size());
  return prefix + suffix;
}

Result<json> desiredCanaryIngress(const engine::Rollout& rollout, const json& stable,
                                  const engine::SetTrafficWeight& weights) {
  const engine::CanaryStrategy& canary = rollout.spec.canary;
  const std::string stableName = stable.value(json::json_pointer("/metadata/name"), std::string());
  const json stableSpec = stable.value("spec", json::object());
  json rules = json::array();
  for (const auto& rule : stableSpec.value("rules", json::array())) {
    json copy = rule;
    bool usesStable = false;
    json* paths = copy.contains("http") ? &copy["http"]["paths"] : nullptr;
    if (paths && paths->is_array()) {
      for (auto& path : *paths) {
        json* service = path.contains("backend") ? &path["backend"]["service"] : nullptr;
        if (service && service->is_object() && service->value("name", "") == canary.stableService) {
          (*service)["name"] = canary.canaryService;
          usesStable = true;
        }
      }
    }
    if (usesStable) rules.push_back(std::move(copy));
  }
  if (rules.empty()) {
    return Error{"ingress `" + stableName + "` has no rules using service " + canary.stableService +
                 " backend"};
  }
  json spec = {{"rules", std::move(rules)}};
  if (stableSpec.contains("tls")) spec["tls"] = stableSpec["tls"];
  if (stableSpec.contains("ingressClassName")) spec["ingressClassName"] = stableSpec["ingressClassName"];
  json annotations = managedAnnotations(rollout, weights);
  const json stableAnnotations = stable.value(json::json_pointer("/metadata/annotations"), json::object());
  if (stableAnnotations.is_object() && stableAnnotations.contains(kIngressClassAnnotation))
    annotations[kIngressClassAnnotation] = stableAnnotations[kIngressClassAnnotation];
  return json{{"apiVersion", "networking.k8s.io/v1"},
              {"kind", "Ingress"},
              {"metadata",
               {{"name", canaryIngressName(rollout.metadata.name, stableName)},
                {"namespace", rollout.metadata.ns},
                {"annotations", std::move(annotations)},
                {"ownerReferences", json::array({ownerReference(rollout)})}}},
              {"spec", std::move(spec)}};
}

NginxRouter::NginxRouter(const engine::Rollout& rollout) : rollout_(routedPart(rollout)) {}

bool NginxRouter::matchesStable(const ObjectLookup& get, const std::string& stableName, const json& live,
                                const engine::TrafficInForce& seen) const {
  const auto stable = get("Ingress", stableName);
  if (!stable) return false;
  auto desired = desiredCanaryIngress(
      rollout_, *stable,
      engine::SetTrafficWeight{seen.canaryWeight, seen.stableWeight, seen.canaryHash, seen.stableHash});
  if (!desired) return false;
  if (live.value("spec", json::object()) != (*desired)["spec"]) return false;
  const json annotations = live.value(json::json_pointer("/metadata/annotations"), json::object());
  for (const auto& [key, value] : (*desired)["metadata"]["annotations"].items()) {
    if (!annotations.contains(key) || annotations[key] != value) return false;
  }
  return true;
}

Result<std::optional<engine::TrafficInForce>> NginxRouter::inForce(const ObjectLookup& get) const {
  const engine::TrafficRouting& routing = *rollout_.spec.canary.trafficRouting;
  const engine::NginxTrafficRouting& nginx = *routing.nginx;
  std::optional<engine::TrafficInForce> agreed;
  for (const auto& stable : nginx.stableIngresses) {
    const auto ingress = get("Ingress", canaryIngressName(rollout_.metadata.name, stable));
    if (!ingress) return std::optional<engine::TrafficInForce>();  // not set yet: all on the stable
    const json annotations = ingress->value(json::json_pointer("/metadata/annotations"), json::object());
    engine::TrafficInForce seen;
    const auto weight = parseWeight(annotations.value(annotationKey(nginx, "canary-weight"), json()));
    seen.canaryWeight = weight.value_or(0);
    seen.stableWeight = routing.maxWeight() - seen.canaryWeight;
    seen.canaryHash = annotations.value(kCanaryHashAnnotation, "");
    seen.stableHash = annotations.value(kStableHashAnnotation, "");
    // Several stable Ingresses must agree; one that does not is reported as unset, so it is written again.
    if (!weight || (agreed && !(*agreed == seen))) return std::optional<engine::TrafficInForce>();
    // So is a canary Ingress that is not what its stable Ingress implies now (the stable one changed, or
    // someone edited the canary): the weight is set again, which rebuilds it.
    if (!matchesStable(get, stable, *ingress, seen)) return std::optional<engine::TrafficInForce>();
    agreed = seen;
  }
  return agreed;
}

Result<Writes> NginxRouter::setWeight(const ObjectLookup& get,
                                      const engine::SetTrafficWeight& weights) const {
  const engine::NginxTrafficRouting& nginx = *rollout_.spec.canary.trafficRouting->nginx;
  Writes writes;
  for (const auto& stableName : nginx.stableIngresses) {
    const auto stable = get("Ingress", stableName);
    if (!stable) return Error{"ingress `" + stableName + "` not found"};
    auto desired = desiredCanaryIngress(rollout_, *stable, weights);
    if (!desired) return Error{desired.error()};
    const std::string name = (*desired)["metadata"]["name"];
    const auto live = get("Ingress", name);
    if (!live) {
      writes.push_back({ObjectWrite::Op::Create, "Ingress", name, std::move(*desired)});
      continue;
    }
    const bool takeOver = !kube::controlledBy(*live, rollout_.metadata.uid);
    if (takeOver && !madeByArgoFor(*live, rollout_))
      return Error{"ingress `" + name + "` exists and is not controlled by rollout " +
                   rollout_.metadata.name};
    // Only what Sluice manages: the spec, and its own annotations (others' annotations are kept, and an
    // annotation it no longer wants, such as canary-weight-total, is removed).
    json liveAnnotations = live->value(json::json_pointer("/metadata/annotations"), json::object());
    if (!liveAnnotations.is_object()) liveAnnotations = json::object();
    json wantedAnnotations = liveAnnotations;
    wantedAnnotations.erase(annotationKey(nginx, "canary-weight-total"));
    for (const auto& [key, value] : (*desired)["metadata"]["annotations"].items())
      wantedAnnotations[key] = value;
    json patch = json::object();
    const json annotationPatch = kube::mergePatchBetween(liveAnnotations, wantedAnnotations);
    if (!annotationPatch.empty()) patch["metadata"]["annotations"] = annotationPatch;
    const json specPatch = kube::mergePatchBetween(live->value("spec", json::object()), (*desired)["spec"]);
    if (!specPatch.empty()) patch["spec"] = specPatch;
    if (takeOver) patch["metadata"]["ownerReferences"] = json::array({ownerReference(rollout_)});
    if (!patch.empty()) writes.push_back({ObjectWrite::Op::MergePatch, "Ingress", name, std::move(patch)});
  }
  return writes;
}

}  // namespace sluice::traffic
