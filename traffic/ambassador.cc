// The Ambassador canary Mapping router (see ambassador.h).
#include "traffic/ambassador.h"

#include <charconv>

#include "kube/owners.h"
#include "kube/patch.h"

namespace sluice::traffic {

using nlohmann::json;

namespace {

const char* kMapping = "Mapping";

const std::vector<std::string>& baseMappings(const engine::Rollout& rollout) {
  return rollout.spec.canary.trafficRouting->ambassador->mappings;
}

// The canary Service as the base Mapping's service names its Service: with its port when the base's ends in
// `:<number>` ("web-stable:80", "http://web-stable.shop:8080"), bare otherwise.
std::string canaryServiceFor(const std::string& baseService, const std::string& canaryService) {
  const size_t colon = baseService.rfind(':');
  if (colon == std::string::npos || colon + 1 == baseService.size()) return canaryService;
  const std::string port = baseService.substr(colon + 1);
  int value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size()) return canaryService;
  return canaryService + ":" + port;
}

// The weight a Mapping sets; 0 when it sets none; nullopt when it is not a whole number.
std::optional<int> mappingWeight(const json& mapping) {
  const json weight = jsonAt(mapping, "/spec/weight", json(0));
  if (!weight.is_number_integer()) return std::nullopt;
  return weight.get<int>();
}

Error unsupportedStep(const std::string& step, const std::string& name) {
  return Error{step + " '" + name +
               "' is not supported by ambassador: a canary Mapping splits by weight only (use the istio "
               "router or the argoproj-labs/gatewayAPI plugin)"};
}

}  // namespace

std::string canaryMappingName(const std::string& mapping) {
  constexpr size_t kMaxBase = 246;
  return (mapping.size() > kMaxBase ? mapping.substr(0, kMaxBase) : mapping) + "-canary";
}

json desiredCanaryMapping(const engine::Rollout& rollout, const json& base, int canaryWeight) {
  json spec = jsonAt(base, "/spec", json::object());
  if (!spec.is_object()) spec = json::object();
  spec["service"] = canaryServiceFor(stringAt(base, "/spec/service"), rollout.spec.canary.canaryService);
  spec["weight"] = canaryWeight;
  return {{"apiVersion", base.value("apiVersion", json())},
          {"kind", kMapping},
          {"metadata",
           {{"name", canaryMappingName(stringAt(base, "/metadata/name"))},
            {"namespace", rollout.metadata.ns},
            {"ownerReferences", json::array({ownerReference(rollout)})}}},
          {"spec", std::move(spec)}};
}

AmbassadorRouter::AmbassadorRouter(const engine::Rollout& rollout) : rollout_(routedPart(rollout)) {}

Result<std::optional<engine::TrafficInForce>> AmbassadorRouter::inForce(const ObjectLookup& get) const {
  std::optional<engine::TrafficInForce> agreed;
  for (const auto& name : baseMappings(rollout_)) {
    const auto base = get(kMapping, name);
    if (!base) return Error{"Mapping `" + name + "` not found"};
    const auto canary = get(kMapping, canaryMappingName(name));
    const std::optional<int> weight = canary ? mappingWeight(*canary) : std::optional<int>(0);
    if (!weight) return std::optional<engine::TrafficInForce>();
    const engine::TrafficInForce seen{*weight, 100 - *weight, annotationOf(*base, kCanaryHashAnnotation),
                                      annotationOf(*base, kStableHashAnnotation)};
    // The Mappings of several bases must agree; if not, the weight is written again.
    if (agreed && !(*agreed == seen)) return std::optional<engine::TrafficInForce>();
    agreed = seen;
  }
  if (!agreed) return Error{"trafficRouting.ambassador names no Mapping"};
  // In force only if setting what was read changes nothing: every canary Mapping a copy of its base, owned.
  auto writes =
      setWeight(get, {agreed->canaryWeight, agreed->stableWeight, agreed->canaryHash, agreed->stableHash});
  if (!writes) return Error{writes.error()};
  if (!writes->empty()) return std::optional<engine::TrafficInForce>();
  return agreed;
}

Result<Writes> AmbassadorRouter::setWeight(const ObjectLookup& get,
                                           const engine::SetTrafficWeight& weights) const {
  Writes writes;
  for (const auto& name : baseMappings(rollout_)) {
    const auto base = get(kMapping, name);
    if (!base) return Error{"Mapping `" + name + "` not found"};
    if (mappingWeight(*base) != 0)
      return Error{"Mapping `" + name +
                   "` sets spec.weight: the base Mapping must set none, Ambassador giving it the traffic its "
                   "canary Mapping does not take"};
    const json annotations = managedFieldsPatch(
        *base, json::object(),
        {{kCanaryHashAnnotation, weights.canaryHash}, {kStableHashAnnotation, weights.stableHash}});
    if (!annotations.empty()) writes.push_back({ObjectWrite::Op::MergePatch, kMapping, name, annotations});

    const std::string canaryName = canaryMappingName(name);
    const auto live = get(kMapping, canaryName);
    const bool takeOver = live && !kube::controlledBy(*live, rollout_.metadata.uid);
    if (takeOver && kube::hasController(*live) && !madeByArgoFor(*live, rollout_))
      return Error{"Mapping `" + canaryName + "` exists and is not controlled by rollout " +
                   rollout_.metadata.name};
    if (weights.canaryWeight == 0) {
      if (live) writes.push_back({ObjectWrite::Op::Delete, kMapping, canaryName, json()});
      continue;
    }
    json desired = desiredCanaryMapping(rollout_, *base, weights.canaryWeight);
    if (!live) {
      writes.push_back({ObjectWrite::Op::Create, kMapping, canaryName, std::move(desired)});
      continue;
    }
    json patch = json::object();
    const json specPatch = kube::mergePatchBetween(live->value("spec", json::object()), desired["spec"]);
    if (!specPatch.empty()) patch["spec"] = specPatch;
    if (takeOver) patch["metadata"]["ownerReferences"] = desired["metadata"]["ownerReferences"];
    if (!patch.empty())
      writes.push_back({ObjectWrite::Op::MergePatch, kMapping, canaryName, std::move(patch)});
  }
  return writes;
}

Result<Writes> AmbassadorRouter::setHeaderRoute(const ObjectLookup&,
                                                const engine::SetHeaderRouteStep& route) const {
  return unsupportedStep("setHeaderRoute", route.name);
}

Result<Writes> AmbassadorRouter::setMirrorRoute(const ObjectLookup&,
                                                const engine::SetMirrorRouteStep& route) const {
  return unsupportedStep("setMirrorRoute", route.name);
}

}  // namespace sluice::traffic
