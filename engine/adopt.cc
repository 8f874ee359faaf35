// Adopting what Argo Rollouts left (see adopt.h and rollout_pass.h).
#include "engine/adopt.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "engine/rollout_pass.h"

namespace sluice::engine {
namespace {

using nlohmann::json;

bool emptyValue(const json& v) { return v.is_null() || ((v.is_object() || v.is_array()) && v.empty()); }

// `v` without empty values in its objects (an array keeps its length: its order and size matter).
json withoutEmpty(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [key, item] : v.items()) {
      json kept = withoutEmpty(item);
      if (!emptyValue(kept)) out[key] = std::move(kept);
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& item : v) out.push_back(withoutEmpty(item));
    return out;
  }
  return v;
}

json comparable(const json& podTemplate) {
  if (!podTemplate.is_object()) return json::object();
  json t = podTemplate;
  if (t.contains("metadata") && t["metadata"].is_object() && t["metadata"].contains("labels") &&
      t["metadata"]["labels"].is_object()) {
    t["metadata"]["labels"].erase(kPodTemplateHashLabel);
    t["metadata"]["labels"].erase(kArgoPodTemplateHashLabel);
  }
  return withoutEmpty(t);
}

// A field the API server fills into a stored pod template when it is left out, at the value it fills in
// (Kubernetes' defaults for pod specs, containers, ports, probes and volumes). imagePullPolicy's default
// depends on the image's tag: either value is taken.
bool filledByApiServer(const std::string& key, const json& value) {
  static const std::pair<const char*, json> kDefaults[] = {
      {"restartPolicy", "Always"},
      {"dnsPolicy", "ClusterFirst"},
      {"schedulerName", "default-scheduler"},
      {"terminationGracePeriodSeconds", 30},
      {"enableServiceLinks", true},
      {"terminationMessagePath", "/dev/termination-log"},
      {"terminationMessagePolicy", "File"},
      {"imagePullPolicy", "IfNotPresent"},
      {"imagePullPolicy", "Always"},
      {"protocol", "TCP"},
      {"timeoutSeconds", 1},
      {"periodSeconds", 10},
      {"successThreshold", 1},
      {"failureThreshold", 3},
      {"scheme", "HTTP"},
      {"defaultMode", 420},
      {"apiVersion", "v1"},
  };
  return std::any_of(std::begin(kDefaults), std::end(kDefaults),
                     [&](const auto& d) { return key == d.first && value == d.second; });
}

// Whether `live` has everything `desired` has, and beyond it only what the API server fills in.
bool covers(const json& live, const json& desired) {
  if (live.is_object() && desired.is_object()) {
    for (const auto& [key, value] : desired.items()) {
      const auto it = live.find(key);
      if (it == live.end() || !covers(*it, value)) return false;
    }
    for (const auto& [key, value] : live.items()) {
      if (!desired.contains(key) && !filledByApiServer(key, value)) return false;
    }
    return true;
  }
  if (live.is_array() && desired.is_array()) {
    if (live.size() != desired.size()) return false;
    for (size_t i = 0; i < live.size(); ++i) {
      if (!covers(live[i], desired[i])) return false;
    }
    return true;
  }
  return live == desired;
}

bool adopted(const ReplicaSetView& rs) { return rs.hashLabel != kPodTemplateHashLabel; }

// A router that selects pods by Sluice's hash label itself (Istio's DestinationRule subsets) would find
// none behind an adopted revision: such a Rollout adopts nothing.
bool routesByHashLabel(const RolloutSpec& spec) {
  const auto& routing = spec.canary.trafficRouting;
  return !spec.isBlueGreen() && routing && routing->istio && routing->istio->destinationRule;
}

}  // namespace

bool sameTemplate(const json& live, const json& desired) {
  const json a = comparable(live);
  const json b = comparable(desired);
  return a.value("metadata", json::object()) == b.value("metadata", json::object()) &&
         covers(a.value("spec", json::object()), b.value("spec", json::object()));
}

namespace detail {

bool adoptReplicaSets(PassBase& p) {
  if (routesByHashLabel(p.spec)) return false;
  for (const auto& rs : p.observed.adoptableReplicaSets) {
    p.actions.push_back(AdoptReplicaSet{rs.name, rs.podTemplateHash});
    p.event("Normal", "ReplicaSetAdopted",
            "Adopted ReplicaSet " + rs.name + " (revision " + std::to_string(rs.revision) +
                ") from Argo Rollouts with its pods");
  }
  if (!p.observed.adoptableReplicaSets.empty()) return true;
  const auto& sets = p.observed.replicaSets;
  if (std::any_of(sets.begin(), sets.end(),
                  [&](const ReplicaSetView& rs) { return rs.podTemplateHash == p.newHash; }))
    return false;
  const ReplicaSetView* current = nullptr;
  for (const auto& rs : sets) {
    if (adopted(rs) && (!current || rs.revision > current->revision) &&
        sameTemplate(rs.podTemplate, p.spec.podTemplate))
      current = &rs;
  }
  if (current) p.newHash = current->podTemplateHash;
  return false;
}

std::string initialStable(const PassBase& p, const std::string& service) {
  std::string selected = service.empty() ? std::string() : selectedBy(p, service);
  const ReplicaSetView* full = nullptr;
  const ReplicaSetView* most = nullptr;
  for (const auto& rs : p.observed.replicaSets) {
    if (!adopted(rs)) continue;
    if (!selected.empty() && rs.podTemplateHash == selected) return selected;
    if (rs.availableReplicas >= p.spec.replicas && (!full || rs.revision > full->revision)) full = &rs;
    if (rs.availableReplicas > 0 && (!most || std::pair(rs.availableReplicas, rs.revision) >
                                                  std::pair(most->availableReplicas, most->revision)))
      most = &rs;
  }
  if (full) return full->podTemplateHash;
  return most ? most->podTemplateHash : p.newHash;
}

std::string hashLabelOf(const PassBase& p, const std::string& hash) {
  for (const auto& rs : p.observed.replicaSets) {
    if (rs.podTemplateHash == hash) return rs.hashLabel;
  }
  return kPodTemplateHashLabel;
}

SetServiceSelector serviceSelector(const PassBase& p, const std::string& service, const std::string& hash) {
  return {service, hash, hashLabelOf(p, hash)};
}

}  // namespace detail
}  // namespace sluice::engine
