// The SMI TrafficSplit router (see smi.h).
#include "traffic/smi.h"

#include <cmath>
#include <utility>

#include "base/quantity.h"
#include "kube/owners.h"

namespace sluice::traffic {

using nlohmann::json;

namespace {

const char* kTrafficSplit = "TrafficSplit";

// A backend's weight as a whole number: an integer (v1alpha2, v1alpha3) or a quantity (v1alpha1: "30",
// "30000m", 30). A fraction ("500m") is none: the weights are then not in force, and are written again.
std::optional<int> weightOf(const json& backend) {
  const json weight = backend.is_object() ? backend.value("weight", json()) : json();
  const std::optional<double> value = quantityValue(weight);
  if (!value || *value < 0 || *value > 1e6 || std::floor(*value) != *value) return std::nullopt;
  return static_cast<int>(*value);
}

// A weight as `version` writes it: v1alpha1's a quantity, a whole-number string as Argo Rollouts writes it
// (resource.Quantity marshals to a string); the later versions' an integer.
json weightAt(int weight, const std::string& version) {
  return version == "v1alpha1" ? json(std::to_string(weight)) : json(weight);
}

// Why a TrafficSplit has no header or mirror routes, worded as Sluice's validation words it.
Error unsupportedStep(const std::string& step, const std::string& name) {
  return Error{step + " '" + name +
               "' is not supported by smi: a TrafficSplit splits by weight only (use the istio router or "
               "the argoproj-labs/gatewayAPI plugin)"};
}

}  // namespace

std::string trafficSplitName(const engine::Rollout& rollout) {
  const std::string& name = rollout.spec.canary.trafficRouting->smi->trafficSplitName;
  return name.empty() ? rollout.metadata.name : name;
}

json desiredTrafficSplit(const engine::Rollout& rollout, const engine::SetTrafficWeight& weights,
                         const std::string& version) {
  const engine::CanaryStrategy& canary = rollout.spec.canary;
  const std::string& root = canary.trafficRouting->smi->rootService;
  // Argo's order: the canary, the experiment templates' Services, the stable.
  json backends =
      json::array({{{"service", canary.canaryService}, {"weight", weightAt(weights.canaryWeight, version)}}});
  for (const auto& d : weights.additional)
    backends.push_back({{"service", d.serviceName}, {"weight", weightAt(d.weight, version)}});
  backends.push_back(
      {{"service", canary.stableService}, {"weight", weightAt(weights.stableWeight, version)}});
  return {
      {"apiVersion", std::string(kTrafficSplitGroup) + "/" + version},
      {"kind", kTrafficSplit},
      {"metadata",
       {{"name", trafficSplitName(rollout)},
        {"namespace", rollout.metadata.ns},
        {"annotations",
         {{kCanaryHashAnnotation, weights.canaryHash}, {kStableHashAnnotation, weights.stableHash}}},
        {"ownerReferences", json::array({ownerReference(rollout)})}}},
      {"spec", {{"service", root.empty() ? canary.stableService : root}, {"backends", std::move(backends)}}}};
}

SmiRouter::SmiRouter(const engine::Rollout& rollout, std::string version)
    : rollout_(routedPart(rollout)), version_(std::move(version)) {}

Result<std::optional<json>> SmiRouter::ownTrafficSplit(const ObjectLookup& get) const {
  const std::string name = trafficSplitName(rollout_);
  auto live = get(kTrafficSplit, name);
  if (live && !kube::controlledBy(*live, rollout_.metadata.uid) && !madeByArgoFor(*live, rollout_))
    return Error{"TrafficSplit `" + name + "` exists and is not controlled by rollout " +
                 rollout_.metadata.name};
  return live;
}

Result<std::optional<engine::TrafficInForce>> SmiRouter::inForce(const ObjectLookup& get) const {
  auto live = ownTrafficSplit(get);
  if (!live) return Error{live.error()};
  if (!*live) return std::optional<engine::TrafficInForce>();  // not set yet: all on the stable
  const json backends = (*live)->value(json::json_pointer("/spec/backends"), json::array());
  std::optional<int> canaryWeight;
  std::optional<int> stableWeight;
  std::vector<engine::WeightDestination> additional;
  for (const auto& backend : backends.is_array() ? backends : json::array()) {
    const std::string service = backend.is_object() ? backend.value("service", "") : "";
    if (service == rollout_.spec.canary.canaryService) {
      canaryWeight = weightOf(backend);
    } else if (service == rollout_.spec.canary.stableService) {
      stableWeight = weightOf(backend);
    } else {
      additional.push_back({weightOf(backend).value_or(0), service, ""});
    }
  }
  if (!canaryWeight || !stableWeight) return std::optional<engine::TrafficInForce>();
  const engine::TrafficInForce seen{*canaryWeight, *stableWeight, annotationOf(**live, kCanaryHashAnnotation),
                                    annotationOf(**live, kStableHashAnnotation), std::move(additional)};
  // In force only if setting what was read changes nothing (the backends in Sluice's order, the root
  // Service right).
  auto writes = setWeight(get, settingOf(seen));
  if (!writes) return Error{writes.error()};
  if (!writes->empty()) return std::optional<engine::TrafficInForce>();
  return std::optional<engine::TrafficInForce>(seen);
}

Result<Writes> SmiRouter::setWeight(const ObjectLookup& get, const engine::SetTrafficWeight& weights) const {
  auto live = ownTrafficSplit(get);
  if (!live) return Error{live.error()};
  json desired = desiredTrafficSplit(rollout_, weights, version_);
  const std::string name = trafficSplitName(rollout_);
  if (!*live) return Writes{{ObjectWrite::Op::Create, kTrafficSplit, name, std::move(desired)}};
  // A weight of the same value in another form (30 or "30000m" where "30" is written, as another version or
  // a person wrote it) is the weight in force: compared in the form written, it asks for no write.
  json seen = **live;
  if (const json::json_pointer at("/spec/backends"); seen.contains(at) && seen[at].is_array()) {
    for (auto& backend : seen[at])
      if (auto weight = weightOf(backend)) backend["weight"] = weightAt(*weight, version_);
  }
  json patch = managedFieldsPatch(seen, desired["spec"], desired["metadata"]["annotations"]);
  if (!kube::controlledBy(seen, rollout_.metadata.uid))  // Argo's, taken over (ownTrafficSplit)
    patch["metadata"]["ownerReferences"] = json::array({ownerReference(rollout_)});
  if (patch.empty()) return Writes{};
  return Writes{{ObjectWrite::Op::MergePatch, kTrafficSplit, name, std::move(patch)}};
}

Result<Writes> SmiRouter::setHeaderRoute(const ObjectLookup&, const engine::SetHeaderRouteStep& route) const {
  return unsupportedStep("setHeaderRoute", route.name);
}

Result<Writes> SmiRouter::setMirrorRoute(const ObjectLookup&, const engine::SetMirrorRouteStep& route) const {
  return unsupportedStep("setMirrorRoute", route.name);
}

}  // namespace sluice::traffic
