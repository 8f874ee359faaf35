// The AWS Load Balancer Controller router (see alb.h).
#include "traffic/alb.h"

#include <algorithm>
#include <utility>

#include "kube/patch.h"

namespace sluice::traffic {

using nlohmann::json;

namespace {

const char* kIngress = "Ingress";

const engine::AlbTrafficRouting& albOf(const engine::Rollout& rollout) {
  return *rollout.spec.canary.trafficRouting->alb;
}

// The Services of the canary and the stable roles as `weights` names them, else as the spec has them
// before any promotion.
std::pair<std::string, std::string> servicesOf(const engine::Rollout& rollout,
                                               const engine::SetTrafficWeight& weights) {
  const engine::RolloutStatus none;
  return {weights.canaryService.empty() ? engine::canaryRoleService(rollout.spec.canary, none)
                                        : weights.canaryService,
          weights.stableService.empty() ? engine::stableRoleService(rollout.spec.canary, none)
                                        : weights.stableService};
}

// Each backend Service name of each path of each rule, with the path: `visit` returns true to stop.
template <typename Visit>
void forEachPath(json& rules, Visit visit) {
  if (!rules.is_array()) return;
  for (auto& rule : rules) {
    json* paths = rule.is_object() && rule.contains("http") && rule["http"].is_object()
                      ? &rule["http"]["paths"]
                      : nullptr;
    if (!paths || !paths->is_array()) continue;
    if (visit(*paths)) return;
  }
}

std::string backendService(const json& path) { return stringAt(path, "/backend/service/name"); }

bool hasRuleWithService(json rules, const std::string& service) {
  bool found = false;
  forEachPath(rules, [&](json& paths) {
    for (const auto& path : paths) found = found || backendService(path) == service;
    return found;
  });
  return found;
}

// The action annotation `key` of `live` parsed; null when it has none or it is not JSON.
json actionOf(const json& live, const std::string& key) {
  const std::string text = annotationOf(live, key);
  if (text.empty()) return json();
  return json::parse(text, nullptr, false);
}

// A target group's Service and weight, in the order of the action (Argo writes the canary's first).
struct TargetGroupWeight {
  std::string service;
  std::optional<int> weight;
};

std::vector<TargetGroupWeight> targetGroups(const json& action) {
  std::vector<TargetGroupWeight> out;
  const json groups = jsonAt(action, "/ForwardConfig/TargetGroups", json::array());
  for (const auto& group : groups.is_array() ? groups : json::array()) {
    if (!group.is_object()) continue;
    TargetGroupWeight tg{stringAt(group, "/ServiceName"), std::nullopt};
    const json weight = group.value("Weight", json());
    if (weight.is_number_integer()) tg.weight = weight.get<int>();
    out.push_back(std::move(tg));
  }
  return out;
}

// The http-header conditions of a header route, as the AWS Load Balancer Controller reads them.
std::string conditionsOf(const std::vector<engine::HeaderMatch>& match) {
  nlohmann::ordered_json conditions = nlohmann::ordered_json::array();
  for (const auto& m : match) {
    nlohmann::ordered_json condition;
    condition["field"] = "http-header";
    condition["httpHeaderConfig"]["httpHeaderName"] = m.headerName;
    condition["httpHeaderConfig"]["values"] = nlohmann::ordered_json::array({m.value});
    conditions.push_back(std::move(condition));
  }
  return conditions.dump();
}

// `rules` with a path `/*` to the action `name` at the head of each rule's paths.
void addActionPath(json& rules, const std::string& name) {
  const json path = {{"path", "/*"},
                     {"pathType", "ImplementationSpecific"},
                     {"backend", {{"service", {{"name", name}, {"port", {{"name", "use-annotation"}}}}}}}};
  forEachPath(rules, [&](json& paths) {
    paths.insert(paths.begin(), path);
    return false;
  });
}

// `rules` without the first path of each rule whose backend is `name`.
void removeActionPath(json& rules, const std::string& name) {
  forEachPath(rules, [&](json& paths) {
    for (auto it = paths.begin(); it != paths.end(); ++it) {
      if (backendService(*it) != name) continue;
      paths.erase(it);
      break;
    }
    return false;
  });
}

// The paths of each rule in the order of the managed routes they lead to, the others after them as they were.
void sortPaths(json& rules, const std::vector<std::string>& managedRoutes) {
  const auto rank = [&](const json& path) {
    const auto it = std::find(managedRoutes.begin(), managedRoutes.end(), backendService(path));
    return it - managedRoutes.begin();
  };
  forEachPath(rules, [&](json& paths) {
    std::vector<json> sorted(paths.begin(), paths.end());
    std::stable_sort(sorted.begin(), sorted.end(),
                     [&](const json& a, const json& b) { return rank(a) < rank(b); });
    paths = json(sorted);
    return false;
  });
}

Error noActionRule(const std::string& ingress, const std::string& action) {
  return Error{"Ingress `" + ingress + "` has no rule whose backend is the service `" + action +
               "` (the action Sluice annotates: its port name must be use-annotation)"};
}

}  // namespace

std::string albActionAnnotation(const engine::AlbTrafficRouting& alb, const std::string& name) {
  return alb.annotationPrefix + "/actions." + name;
}

std::string albConditionsAnnotation(const engine::AlbTrafficRouting& alb, const std::string& name) {
  return alb.annotationPrefix + "/conditions." + name;
}

std::string albForwardAction(const engine::AlbTrafficRouting& alb, const std::string& canaryService,
                             int canaryWeight, const std::string& stableService, int stableWeight,
                             const std::vector<engine::WeightDestination>& additional) {
  using ordered = nlohmann::ordered_json;
  ordered groups = ordered::array();
  const auto group = [&](const std::string& service, int weight) {
    ordered tg;
    tg["ServiceName"] = service;
    tg["ServicePort"] = std::to_string(alb.servicePort);
    tg["Weight"] = weight;
    groups.push_back(std::move(tg));
  };
  group(canaryService, canaryWeight);
  for (const auto& d : additional) group(d.serviceName, d.weight);
  if (!stableService.empty()) group(stableService, stableWeight);
  ordered action;
  action["Type"] = "forward";
  action["ForwardConfig"]["TargetGroups"] = std::move(groups);
  if (alb.stickinessConfig && alb.stickinessConfig->enabled) {
    action["ForwardConfig"]["TargetGroupStickinessConfig"] = {
        {"Enabled", true}, {"DurationSeconds", alb.stickinessConfig->durationSeconds}};
  }
  return action.dump();
}

AlbRouter::AlbRouter(const engine::Rollout& rollout) : rollout_(routedPart(rollout)) {}

std::string AlbRouter::actionName() const {
  const std::string& root = albOf(rollout_).rootService;
  return root.empty() ? rollout_.spec.canary.stableService : root;
}

Result<json> AlbRouter::ingress(const ObjectLookup& get, const std::string& name) const {
  auto live = get(kIngress, name);
  if (!live)
    return Error{"Ingress `" + name +
                 "` not found: trafficRouting.alb names an Ingress of the Rollout's namespace, which Sluice "
                 "does not create"};
  return std::move(*live);
}

Result<std::optional<engine::TrafficInForce>> AlbRouter::inForce(const ObjectLookup& get) const {
  const auto& alb = albOf(rollout_);
  auto live = ingress(get, alb.ingresses.front());
  if (!live) return Error{live.error()};
  const auto groups = targetGroups(actionOf(*live, albActionAnnotation(alb, actionName())));
  if (groups.empty()) return weightsReadBack(*this, get, *live, std::nullopt, std::nullopt);
  // The canary's first, the stable's last, the experiment templates' Services between them.
  const TargetGroupWeight& canary = groups.front();
  const TargetGroupWeight& stable = groups.back();
  if (groups.size() < 2 || stable.service == canary.service)
    return weightsReadBack(*this, get, *live, std::nullopt, std::nullopt);
  std::vector<engine::WeightDestination> additional;
  for (size_t i = 1; i + 1 < groups.size(); ++i)
    additional.push_back({groups[i].weight.value_or(0), groups[i].service, ""});
  return weightsReadBack(*this, get, *live, canary.weight, stable.weight, canary.service, stable.service,
                         std::move(additional));
}

Result<Writes> AlbRouter::setWeight(const ObjectLookup& get, const engine::SetTrafficWeight& weights) const {
  const auto& alb = albOf(rollout_);
  const auto [canaryService, stableService] = servicesOf(rollout_, weights);
  const std::string action = actionName();
  const json annotations = {{albActionAnnotation(alb, action),
                             albForwardAction(alb, canaryService, weights.canaryWeight, stableService,
                                              weights.stableWeight, weights.additional)},
                            {kCanaryHashAnnotation, weights.canaryHash},
                            {kStableHashAnnotation, weights.stableHash}};
  Writes writes;
  for (const auto& name : alb.ingresses) {
    auto live = ingress(get, name);
    if (!live) return Error{live.error()};
    if (!hasRuleWithService(jsonAt(*live, "/spec/rules", json::array()), action))
      return noActionRule(name, action);
    json patch = managedFieldsPatch(*live, json::object(), annotations);
    if (!patch.empty()) writes.push_back({ObjectWrite::Op::MergePatch, kIngress, name, std::move(patch)});
  }
  return writes;
}

Result<Writes> AlbRouter::changeRoutes(const ObjectLookup& get, const std::vector<std::string>& names,
                                       const std::vector<engine::HeaderMatch>& match) const {
  const auto& alb = albOf(rollout_);
  const auto& managed = rollout_.spec.canary.trafficRouting->managedRoutes;
  Writes writes;
  for (const auto& ingressName : alb.ingresses) {
    auto live = ingress(get, ingressName);
    if (!live) return Error{live.error()};
    json annotations = jsonAt(*live, "/metadata/annotations", json::object());
    if (!annotations.is_object()) annotations = json::object();
    const json liveAnnotations = annotations;
    json rules = jsonAt(*live, "/spec/rules", json::array());
    // The canary the weights send to now (the action's first target group), else the spec's.
    const auto groups = targetGroups(actionOf(*live, albActionAnnotation(alb, actionName())));
    const std::string canary = groups.empty() ? servicesOf(rollout_, {}).first : groups.front().service;
    for (const auto& name : names) {
      const bool hasRule = hasRuleWithService(rules, name);
      if (match.empty()) {
        annotations.erase(albActionAnnotation(alb, name));
        annotations.erase(albConditionsAnnotation(alb, name));
        if (hasRule) removeActionPath(rules, name);
        continue;
      }
      annotations[albActionAnnotation(alb, name)] = albForwardAction(alb, canary, 100, "", 0);
      annotations[albConditionsAnnotation(alb, name)] = conditionsOf(match);
      if (!hasRule) addActionPath(rules, name);
    }
    sortPaths(rules, managed);
    json patch = managedFieldsPatch(*live, {{"rules", rules}}, json::object());
    const json annotationPatch = kube::mergePatchBetween(liveAnnotations, annotations);
    if (!annotationPatch.empty()) patch["metadata"]["annotations"] = annotationPatch;
    if (!patch.empty())
      writes.push_back({ObjectWrite::Op::MergePatch, kIngress, ingressName, std::move(patch)});
  }
  return writes;
}

Result<Writes> AlbRouter::setHeaderRoute(const ObjectLookup& get,
                                         const engine::SetHeaderRouteStep& route) const {
  return changeRoutes(get, {route.name}, route.match);
}

Result<Writes> AlbRouter::setMirrorRoute(const ObjectLookup&, const engine::SetMirrorRouteStep& route) const {
  return Error{
      "setMirrorRoute '" + route.name +
      "' is not supported by alb: an ALB action forwards, it does not mirror (use the istio router)"};
}

Result<Writes> AlbRouter::removeManagedRoutes(const ObjectLookup& get) const {
  const auto& managed = rollout_.spec.canary.trafficRouting->managedRoutes;
  if (managed.empty()) return Writes{};
  return changeRoutes(get, managed, {});
}

}  // namespace sluice::traffic
