// The Apache APISIX ApisixRoute router (see apisix.h).
#include "traffic/apisix.h"

#include <tuple>
#include <utility>

#include "kube/owners.h"
#include "kube/patch.h"

namespace sluice::traffic {

using nlohmann::json;

namespace {

const char* kApisixRoute = "ApisixRoute";

const std::string& routeName(const engine::Rollout& rollout) {
  return rollout.spec.canary.trafficRouting->apisix->routeName;
}

// The rule of `http` named `rule`; nullptr when there is none.
json* ruleNamed(json& http, const std::string& rule) {
  for (auto& entry : http)
    if (entry.is_object() && entry.value("name", json()) == rule) return &entry;
  return nullptr;
}

// The weight of the backend of `service` in `rule`, when it is a whole number; nullopt otherwise.
std::optional<int> backendWeight(const json& rule, const std::string& service) {
  const json backends = rule.value("backends", json::array());
  for (const auto& backend : backends.is_array() ? backends : json::array()) {
    if (!backend.is_object() || backend.value("serviceName", json()) != service) continue;
    const json weight = backend.value("weight", json());
    return weight.is_number_integer() ? std::optional<int>(weight.get<int>()) : std::nullopt;
  }
  return std::nullopt;
}

// The match.exprs of a header route: one per header, as APISIX's expression operators have them.
json headerExprs(const std::vector<engine::HeaderMatch>& match) {
  json exprs = json::array();
  for (const auto& header : match) {
    const bool exact = header.matchType == "exact";
    const std::string value =
        header.matchType == "prefix" ? "^" + escapeRegex(header.value) + ".*" : header.value;
    exprs.push_back({{"subject", {{"scope", "Header"}, {"name", header.headerName}}},
                     {"op", exact ? "Equal" : "RegexMatch"},
                     {"value", value}});
  }
  return exprs;
}

}  // namespace

std::vector<std::string> apisixRules(const engine::Rollout& rollout) {
  const auto& apisix = *rollout.spec.canary.trafficRouting->apisix;
  return apisix.rules.empty() ? std::vector<std::string>{apisix.routeName} : apisix.rules;
}

Result<json> weightedApisixRules(const engine::Rollout& rollout, const json& apisixRoute,
                                 const engine::SetTrafficWeight& weights) {
  const engine::CanaryStrategy& canary = rollout.spec.canary;
  const std::string name = "ApisixRoute `" + stringAt(apisixRoute, "/metadata/name") + "`";
  json http = jsonAt(apisixRoute, "/spec/http", json());
  if (!http.is_array()) return Error{name + " has no spec.http"};
  // Messages built outside the loops (one allocation each, as clang-tidy asks).
  const auto refuse = [&name](const std::string& what, const std::string& ruleName) {
    return Error{name + what + ruleName};
  };
  const auto noBackend = [&name](const char* role, const std::string& service, const std::string& ruleName) {
    return Error{name + " has no backend for the " + role + " Service " + service +
                 " in its spec.http rule " + ruleName};
  };
  for (const auto& ruleName : apisixRules(rollout)) {
    json* rule = ruleNamed(http, ruleName);
    if (!rule) return refuse(" has no spec.http rule named ", ruleName);
    json* backends = rule->contains("backends") ? &(*rule)["backends"] : nullptr;
    if (!backends || !backends->is_array())
      return refuse(" has no backends in its spec.http rule ", ruleName);
    for (const auto& [service, weight, role] :
         {std::tuple{canary.canaryService, weights.canaryWeight, "canary"},
          std::tuple{canary.stableService, weights.stableWeight, "stable"}}) {
      bool found = false;
      for (auto& backend : *backends) {
        if (!backend.is_object() || backend.value("serviceName", json()) != service) continue;
        backend["weight"] = weight;
        found = true;
      }
      if (!found) return noBackend(role, service, ruleName);
    }
  }
  return http;
}

Result<json> desiredApisixHeaderRoute(const engine::Rollout& rollout, const json& apisixRoute,
                                      const engine::SetHeaderRouteStep& step) {
  // The rules checked as setting a weight checks them (each has the canary backend).
  auto weighted = weightedApisixRules(rollout, apisixRoute, {100, 0, "", ""});
  if (!weighted) return Error{weighted.error()};
  const std::string& canaryService = rollout.spec.canary.canaryService;
  json http = json::array();
  for (const auto& ruleName : apisixRules(rollout)) {
    json rule = *ruleNamed(*weighted, ruleName);
    json backends = json::array();
    for (const auto& backend : rule["backends"])
      if (backend.is_object() && backend.value("serviceName", json()) == canaryService)
        backends.push_back(backend);
    rule["backends"] = std::move(backends);
    const json priority = rule.value("priority", json(0));
    rule["priority"] = (priority.is_number_integer() ? priority.get<int>() : 0) + 1;
    json exprs = jsonAt(rule, "/match/exprs", json::array());
    if (!exprs.is_array()) exprs = json::array();
    for (auto& expr : headerExprs(step.match)) exprs.push_back(std::move(expr));
    rule["match"]["exprs"] = std::move(exprs);
    http.push_back(std::move(rule));
  }
  json spec = jsonAt(apisixRoute, "/spec", json::object());
  spec.erase("stream");
  spec["http"] = std::move(http);
  return json{{"apiVersion", apisixRoute.value("apiVersion", json())},
              {"kind", kApisixRoute},
              {"metadata",
               {{"name", step.name},
                {"namespace", rollout.metadata.ns},
                {"ownerReferences", json::array({ownerReference(rollout)})}}},
              {"spec", std::move(spec)}};
}

ApisixRouter::ApisixRouter(const engine::Rollout& rollout) : rollout_(routedPart(rollout)) {}

Result<json> ApisixRouter::apisixRoute(const ObjectLookup& get) const {
  const std::string& name = routeName(rollout_);
  auto live = get(kApisixRoute, name);
  if (!live) return Error{"ApisixRoute `" + name + "` not found"};
  return std::move(*live);
}

Result<std::optional<engine::TrafficInForce>> ApisixRouter::inForce(const ObjectLookup& get) const {
  auto live = apisixRoute(get);
  if (!live) return Error{live.error()};
  json http = jsonAt(*live, "/spec/http", json::array());
  const json* first = http.is_array() ? ruleNamed(http, apisixRules(rollout_).front()) : nullptr;
  const auto canaryWeight = first ? backendWeight(*first, rollout_.spec.canary.canaryService) : std::nullopt;
  const auto stableWeight = first ? backendWeight(*first, rollout_.spec.canary.stableService) : std::nullopt;
  return weightsReadBack(*this, get, *live, canaryWeight, stableWeight);
}

Result<Writes> ApisixRouter::setWeight(const ObjectLookup& get,
                                       const engine::SetTrafficWeight& weights) const {
  auto live = apisixRoute(get);
  if (!live) return Error{live.error()};
  auto http = weightedApisixRules(rollout_, *live, weights);
  if (!http) return Error{http.error()};
  json patch = managedFieldsPatch(
      *live, {{"http", std::move(*http)}},
      {{kCanaryHashAnnotation, weights.canaryHash}, {kStableHashAnnotation, weights.stableHash}});
  if (patch.empty()) return Writes{};
  return Writes{{ObjectWrite::Op::MergePatch, kApisixRoute, routeName(rollout_), std::move(patch)}};
}

Result<std::optional<json>> ApisixRouter::ownHeaderRoute(const ObjectLookup& get,
                                                         const std::string& name) const {
  auto live = get(kApisixRoute, name);
  if (live && !kube::controlledBy(*live, rollout_.metadata.uid))
    return Error{"ApisixRoute `" + name + "` exists and is not controlled by rollout " +
                 rollout_.metadata.name};
  return live;
}

Result<Writes> ApisixRouter::setHeaderRoute(const ObjectLookup& get,
                                            const engine::SetHeaderRouteStep& route) const {
  auto live = ownHeaderRoute(get, route.name);
  if (!live) return Error{live.error()};
  if (route.match.empty()) {
    if (!*live) return Writes{};
    return Writes{{ObjectWrite::Op::Delete, kApisixRoute, route.name, json()}};
  }
  auto base = apisixRoute(get);
  if (!base) return Error{base.error()};
  auto desired = desiredApisixHeaderRoute(rollout_, *base, route);
  if (!desired) return Error{desired.error()};
  if (!*live) return Writes{{ObjectWrite::Op::Create, kApisixRoute, route.name, std::move(*desired)}};
  const json patch = kube::mergePatchBetween((*live)->value("spec", json::object()), (*desired)["spec"]);
  if (patch.empty()) return Writes{};
  return Writes{{ObjectWrite::Op::MergePatch, kApisixRoute, route.name, json{{"spec", patch}}}};
}

Result<Writes> ApisixRouter::setMirrorRoute(const ObjectLookup&,
                                            const engine::SetMirrorRouteStep& route) const {
  return Error{"setMirrorRoute '" + route.name +
               "' is not supported by apisix (use the istio router or the argoproj-labs/gatewayAPI plugin, "
               "which APISIX also implements)"};
}

Result<Writes> ApisixRouter::removeManagedRoutes(const ObjectLookup& get) const {
  Writes writes;
  for (const auto& name : rollout_.spec.canary.trafficRouting->managedRoutes) {
    auto live = get(kApisixRoute, name);
    if (live && kube::controlledBy(*live, rollout_.metadata.uid))
      writes.push_back({ObjectWrite::Op::Delete, kApisixRoute, name, json()});
  }
  return writes;
}

}  // namespace sluice::traffic
