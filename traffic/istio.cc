// The Istio router (see istio.h).
#include "traffic/istio.h"

#include <algorithm>
#include <functional>
#include <set>
#include <utility>

namespace sluice::traffic {

using nlohmann::json;

namespace {

const char* kVirtualService = "VirtualService";
const char* kDestinationRule = "DestinationRule";

// What a destination of a weighted route is to the Rollout.
enum class Role { Canary, Stable, Additional, Other };

std::string nameOf(const json& obj) { return stringAt(obj, "/metadata/name"); }

std::string routeName(const json& route) { return stringAt(route, "/name"); }

// The string under `key` in the mapping at `pointer` (labels, annotations: keys hold '/'), "" when none.
std::string entryOf(const json& obj, const std::string& pointer, const std::string& key) {
  const json map = jsonAt(obj, pointer, json::object());
  const auto it = map.is_object() ? map.find(key) : map.end();
  return it != map.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A route's destinations (its `route` list), none when it has no list.
json destinationsOf(const json& route) {
  json list = jsonAt(route, "/route", json::array());
  return list.is_array() ? list : json::array();
}

int weightOf(const json& destination) {
  const json weight = jsonAt(destination, "/weight", 0);
  return weight.is_number_integer() ? weight.get<int>() : 0;
}

bool listed(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// What the Rollout says about routes and destinations, shared by the builders.
class RouteRules {
 public:
  // `services`: the Services in the canary and the stable roles (roleServices).
  RouteRules(const engine::Rollout& rollout, std::pair<std::string, std::string> services)
      : routing_(*rollout.spec.canary.trafficRouting),
        rule_(routing_.istio->destinationRule ? &*routing_.istio->destinationRule : nullptr),
        canaryService_(std::move(services.first)),
        stableService_(std::move(services.second)) {}

  const engine::IstioDestinationRule* destinationRule() const { return rule_; }

  bool managed(const std::string& name) const {
    return !name.empty() && listed(routing_.managedRoutes, name);
  }

  // By subset with a DestinationRule, else by the host's short name (before the first '.').
  Role roleOf(const json& destination) const {
    if (rule_) {
      const std::string subset = stringAt(destination, "/destination/subset");
      if (subset.empty()) return Role::Other;
      if (subset == rule_->canarySubsetName) return Role::Canary;
      if (subset == rule_->stableSubsetName) return Role::Stable;
      return listed(rule_->additionalSubsetNames, subset) ? Role::Additional : Role::Other;
    }
    const std::string shortName = shortHost(destination);
    if (shortName.empty()) return Role::Other;
    if (shortName == canaryService_) return Role::Canary;
    return shortName == stableService_ ? Role::Stable : Role::Other;
  }

  // spec.<section> of `virtualService` (http, tls or tcp): a list, possibly empty.
  static Result<json> routesIn(const json& virtualService, const std::string& section) {
    json routes = jsonAt(virtualService, "/spec/" + section, json::array());
    if (!routes.is_array())
      return Error{"VirtualService `" + nameOf(virtualService) + "`: spec." + section + " must be a list"};
    return routes;
  }

  // The sections of `virtualService` that `config` weights: HTTP routes when it names some or names no TLS
  // or TCP route either, TLS and TCP routes when it names some. HTTP routes named on a VirtualService with
  // no spec.http are passed over when TLS or TCP routes are named, as Argo Rollouts passes them over.
  static std::vector<std::string> sections(const engine::IstioVirtualService& config,
                                           const json& virtualService) {
    std::vector<std::string> out;
    const bool tlsOrTcp = !config.tlsRoutes.empty() || !config.tcpRoutes.empty();
    const bool noHttp = !virtualService.contains(json::json_pointer("/spec/http"));
    if ((!config.routes.empty() && !(noHttp && tlsOrTcp)) || !tlsOrTcp) out.emplace_back("http");
    if (!config.tlsRoutes.empty()) out.emplace_back("tls");
    if (!config.tcpRoutes.empty()) out.emplace_back("tcp");
    return out;
  }

  // The indexes in `routes` (spec.<section>) of the routes `config` selects, each holding the canary and
  // the stable destination (the errors worded as Argo Rollouts words them, after where they are).
  Result<std::vector<size_t>> selected(const engine::IstioVirtualService& config, const std::string& section,
                                       const json& routes) const {
    auto indexes = section == "http" ? selectedHttp(config, routes) : selectedByPort(config, section, routes);
    if (!indexes) return indexes;
    for (const size_t i : *indexes) {
      Status checked = checkDestinations(routes[i]);
      if (!checked)
        return Error{"VirtualService `" + config.name + "` spec." + section + "[" + std::to_string(i) +
                     "]: " + checked.error()};
    }
    return indexes;
  }

  // The `destination` of the canary in `route`. Precondition: checkDestinations(route) passed.
  json canaryDestination(const json& route) const {
    for (const auto& destination : destinationsOf(route)) {
      if (roleOf(destination) == Role::Canary) return destination["destination"];
    }
    return json::object();
  }

  // The experiment template's Service (of `weights`) `destination` goes to, by its host's short name (and
  // no subset); nullptr for any other destination.
  static const engine::WeightDestination* experimentOf(const json& destination,
                                                       const engine::SetTrafficWeight& weights) {
    if (!stringAt(destination, "/destination/subset").empty()) return nullptr;
    const std::string shortName = shortHost(destination);
    for (const auto& d : weights.additional) {
      if (d.serviceName == shortName) return &d;
    }
    return nullptr;
  }

  static std::string shortHost(const json& destination) {
    const std::string host = stringAt(destination, "/destination/host");
    return host.substr(0, host.find('.'));
  }

  // `route` with the canary and stable destinations at `weights`, the additional subsets' weights kept
  // and taken from the stable one, the experiment templates' Services at their weights (added after the
  // others where missing, by host, as Argo adds them), any other destination removed.
  json weighted(const json& route, const engine::SetTrafficWeight& weights) const {
    int additional = 0;
    for (const auto& destination : destinationsOf(route)) {
      if (roleOf(destination) == Role::Additional) additional += weightOf(destination);
    }
    json kept = json::array();
    std::set<std::string> placed;
    for (json destination : destinationsOf(route)) {
      switch (roleOf(destination)) {
        case Role::Canary:
          destination["weight"] = weights.canaryWeight;
          break;
        case Role::Stable:
          destination["weight"] = std::max(0, weights.stableWeight - additional);
          break;
        case Role::Additional:
          break;
        case Role::Other: {
          const auto* experiment = experimentOf(destination, weights);
          if (!experiment || !placed.insert(experiment->serviceName).second) continue;
          destination["weight"] = experiment->weight;
          break;
        }
      }
      kept.push_back(std::move(destination));
    }
    for (const auto& d : weights.additional) {
      if (!placed.count(d.serviceName))
        kept.push_back({{"destination", {{"host", d.serviceName}}}, {"weight", d.weight}});
    }
    json out = route;
    out["route"] = std::move(kept);
    return out;
  }

  // The destinations of `route` that are neither the canary's, the stable's nor an additional subset's, as
  // the experiment templates' Services they would be (by host), sorted by it.
  std::vector<engine::WeightDestination> othersOf(const json& route) const {
    std::vector<engine::WeightDestination> out;
    for (const auto& destination : destinationsOf(route)) {
      if (roleOf(destination) == Role::Other)
        out.push_back({weightOf(destination), shortHost(destination), ""});
    }
    std::sort(out.begin(), out.end(),
              [](const engine::WeightDestination& a, const engine::WeightDestination& b) {
                return a.serviceName < b.serviceName;
              });
    return out;
  }

  // The weights `route` puts in force. The stable weight is the rest of maxTrafficWeight, as the engine
  // counts it (it includes the additional subsets' share); inForce() then checks that the stable destination
  // does carry its part of it.
  int canaryWeightOf(const json& route) const {
    for (const auto& destination : destinationsOf(route)) {
      if (roleOf(destination) == Role::Canary) return weightOf(destination);
    }
    return 0;
  }

  // `http` without the route named `name`.
  static json without(const json& http, const std::string& name) {
    json out = json::array();
    for (const auto& route : http) {
      if (routeName(route) != name) out.push_back(route);
    }
    return out;
  }

  // `http` with the managed routes first, in managedRoutes order, then the others as they were.
  json ordered(const json& http) const {
    json out = json::array();
    for (const auto& name : routing_.managedRoutes) {
      for (const auto& route : http) {
        if (routeName(route) == name) out.push_back(route);
      }
    }
    for (const auto& route : http) {
      if (!managed(routeName(route))) out.push_back(route);
    }
    return out;
  }

 private:
  // Named in `routes`, else the only HTTP route that is not a managed one.
  Result<std::vector<size_t>> selectedHttp(const engine::IstioVirtualService& config,
                                           const json& http) const {
    std::vector<size_t> indexes;
    if (!config.routes.empty()) {
      for (const auto& name : config.routes) {
        size_t i = 0;
        while (i < http.size() && routeName(http[i]) != name) ++i;
        if (i == http.size())
          return Error{"HTTP Route '" + name + "' is not found in VirtualService `" + config.name + "`"};
        indexes.push_back(i);
      }
      return indexes;
    }
    for (size_t i = 0; i < http.size(); ++i) {
      if (!managed(routeName(http[i]))) indexes.push_back(i);
    }
    if (indexes.size() != 1) {
      return Error{"VirtualService `" + config.name +
                   "` must have exactly one HTTP route besides the managed routes when "
                   "spec.strategy.canary.trafficRouting.istio names no routes, found " +
                   std::to_string(indexes.size())};
    }
    return indexes;
  }

  // TLS routes by port and SNI hosts, TCP routes by port: every route with a match block that has the port
  // (when one is given) and every SNI host given; each entry of tlsRoutes / tcpRoutes must select one.
  static Result<std::vector<size_t>> selectedByPort(const engine::IstioVirtualService& config,
                                                    const std::string& section, const json& routes) {
    const json& wanted = section == "tls" ? config.tlsRoutes : config.tcpRoutes;
    std::vector<size_t> indexes;
    for (size_t w = 0; w < wanted.size(); ++w) {
      bool found = false;
      for (size_t i = 0; i < routes.size(); ++i) {
        if (!matchesPortAndHosts(routes[i], wanted[w])) continue;
        found = true;
        if (std::find(indexes.begin(), indexes.end(), i) == indexes.end()) indexes.push_back(i);
      }
      if (!found) {
        return Error{"No matching " + std::string(section == "tls" ? "TLS" : "TCP") +
                     " routes found in VirtualService `" + config.name + "` for " + section + "Routes[" +
                     std::to_string(w) + "]"};
      }
    }
    return indexes;
  }

  static bool matchesPortAndHosts(const json& route, const json& wanted) {
    const json port = jsonAt(wanted, "/port", 0);
    const json hosts = jsonAt(wanted, "/sniHosts", json::array());
    json blocks = jsonAt(route, "/match", json::array());
    if (!blocks.is_array() || blocks.empty()) blocks = json::array({json::object()});
    for (const auto& block : blocks) {
      if (port != 0 && jsonAt(block, "/port", json()) != port) continue;
      const json blockHosts = jsonAt(block, "/sniHosts", json::array());
      bool allHosts = blockHosts.is_array() || !hosts.is_array() || hosts.empty();
      for (const auto& host : hosts.is_array() ? hosts : json::array()) {
        allHosts = allHosts && blockHosts.is_array() &&
                   std::find(blockHosts.begin(), blockHosts.end(), host) != blockHosts.end();
      }
      if (allHosts) return true;
    }
    return false;
  }

  Status checkDestinations(const json& route) const {
    bool canary = false;
    bool stable = false;
    for (const auto& destination : destinationsOf(route)) {
      const Role role = roleOf(destination);
      canary = canary || role == Role::Canary;
      stable = stable || role == Role::Stable;
    }
    if (!canary) {
      return Error{rule_
                       ? "Canary DestinationRule subset '" + rule_->canarySubsetName + "' not found in route"
                       : "Canary Service '" + canaryService_ + "' not found in route"};
    }
    if (!stable) {
      return Error{rule_
                       ? "Stable DestinationRule subset '" + rule_->stableSubsetName + "' not found in route"
                       : "Stable Service '" + stableService_ + "' not found in route"};
    }
    return Status::Ok();
  }

  const engine::TrafficRouting& routing_;
  const engine::IstioDestinationRule* rule_;
  std::string canaryService_;
  std::string stableService_;
};

// With pingPong, the Service in the canary role the VirtualService's weights were last set for.
constexpr const char* kCanaryServiceAnnotation = "sluice.dev/canary-service";

// Whether the weights go to the ping and pong Services: with pingPong and neither canaryService nor
// stableService set (Argo Rollouts' rule for Istio; set beside pingPong, as with an ALB in front of the
// mesh, those two carry Istio's weights).
bool routesPingPong(const engine::CanaryStrategy& canary) {
  return canary.pingPong && canary.canaryService.empty() && canary.stableService.empty();
}

// The Services in the canary and the stable roles of `virtualService`: the spec's canaryService and
// stableService; with routesPingPong, the ping and pong Services as the router last wrote them on it
// (kCanaryServiceAnnotation: they swap at each promotion), before any write as a first deploy has them.
std::pair<std::string, std::string> roleServices(const engine::Rollout& rollout, const json& virtualService) {
  const engine::CanaryStrategy& canary = rollout.spec.canary;
  const engine::RolloutStatus none;
  if (routesPingPong(canary)) {
    const std::string written = entryOf(virtualService, "/metadata/annotations", kCanaryServiceAnnotation);
    const auto& [ping, pong] = *canary.pingPong;
    if (written == ping) return {ping, pong};
    if (written == pong) return {pong, ping};
    return {engine::canaryRoleService(canary, none), engine::stableRoleService(canary, none)};
  }
  return {canary.canaryService, canary.stableService};
}

// The role Services `weights` names (the engine names them with pingPong), else those of `virtualService`.
std::pair<std::string, std::string> roleServices(const engine::Rollout& rollout, const json& virtualService,
                                                 const engine::SetTrafficWeight& weights) {
  if (routesPingPong(rollout.spec.canary) && !weights.canaryService.empty() && !weights.stableService.empty())
    return {weights.canaryService, weights.stableService};
  return roleServices(rollout, virtualService);
}

// What a write makes of a VirtualService's routes: its lists by spec key (http, tls, tcp).
using RouteRewrite =
    std::function<Result<json>(const engine::IstioVirtualService&, const json& virtualService)>;

// One merge patch per VirtualService whose routes `rewrite` changes (with `annotations` set on it).
Result<Writes> rewriteVirtualServices(const engine::Rollout& rollout, const ObjectLookup& get,
                                      const RouteRewrite& rewrite, const json& annotations = json::object()) {
  Writes writes;
  for (const auto& config : rollout.spec.canary.trafficRouting->istio->virtualServices) {
    const auto live = get(kVirtualService, config.name);
    if (!live) return Error{"VirtualService `" + config.name + "` not found"};
    auto spec = rewrite(config, *live);
    if (!spec) return Error{spec.error()};
    json patch = managedFieldsPatch(*live, *spec, annotations);
    if (!patch.empty())
      writes.push_back({ObjectWrite::Op::MergePatch, kVirtualService, config.name, std::move(patch)});
  }
  return writes;
}

// spec.http as `rewrite` makes it, for the header, mirror and managed routes (HTTP only).
RouteRewrite httpRewrite(
    std::function<Result<json>(const engine::IstioVirtualService&, const json&)> rewrite) {
  return [rewrite = std::move(rewrite)](const engine::IstioVirtualService& config,
                                        const json& virtualService) -> Result<json> {
    auto http = rewrite(config, virtualService);
    if (!http) return Error{http.error()};
    return json{{"http", std::move(*http)}};
  };
}

// The first route `config` selects in `section` of `virtualService`.
Result<json> firstSelectedRoute(const RouteRules& rules, const engine::IstioVirtualService& config,
                                const json& virtualService, const std::string& section = "http") {
  auto routes = RouteRules::routesIn(virtualService, section);
  if (!routes) return Error{routes.error()};
  auto selected = rules.selected(config, section, *routes);
  if (!selected) return Error{selected.error()};
  if (selected->empty())
    return Error{"VirtualService `" + config.name + "`: no " + section + " route selected"};
  return (*routes)[selected->front()];
}

// spec.http of `virtualService` without the route named `name`.
Result<json> httpRoutesWithout(const json& virtualService, const std::string& name) {
  auto http = RouteRules::routesIn(virtualService, "http");
  if (!http) return http;
  return RouteRules::without(*http, name);
}

// A subset's label `key` set to `value`, or removed when `value` is empty.
void setSubsetLabel(json& subset, const std::string& key, const std::string& value) {
  if (!value.empty()) {
    subset["labels"][key] = value;
  } else if (subset.contains("labels") && subset["labels"].is_object()) {
    subset["labels"].erase(key);
  }
}

}  // namespace

Result<json> weightedRoutes(const engine::Rollout& rollout, const engine::IstioVirtualService& config,
                            const json& virtualService, const engine::SetTrafficWeight& weights) {
  const RouteRules rules(rollout, roleServices(rollout, virtualService, weights));
  json spec = json::object();
  for (const auto& section : RouteRules::sections(config, virtualService)) {
    auto routes = RouteRules::routesIn(virtualService, section);
    if (!routes) return Error{routes.error()};
    auto selected = rules.selected(config, section, *routes);
    if (!selected) return Error{selected.error()};
    for (const size_t i : *selected) (*routes)[i] = rules.weighted((*routes)[i], weights);
    // A mirror route copies the weighted route's destinations: it follows their weights, so that the
    // requests it matches are split as all others are.
    for (auto& route : *routes) {
      if (section == "http" && rules.managed(routeName(route)) && route.is_object() &&
          route.contains("mirror"))
        route = rules.weighted(route, weights);
    }
    spec[section] = std::move(*routes);
  }
  return spec;
}

Result<json> hashedSubsets(const engine::Rollout& rollout, const json& destinationRule,
                           const engine::SetTrafficWeight& weights) {
  const engine::IstioDestinationRule& rule = *rollout.spec.canary.trafficRouting->istio->destinationRule;
  json subsets = jsonAt(destinationRule, "/spec/subsets", json::array());
  if (!subsets.is_array()) return Error{"DestinationRule `" + rule.name + "`: spec.subsets must be a list"};
  bool canary = false;
  bool stable = false;
  for (auto& subset : subsets) {
    const std::string name = stringAt(subset, "/name");
    if (name == rule.canarySubsetName) {
      setSubsetLabel(subset, engine::kPodTemplateHashLabel, weights.canaryHash);
      canary = true;
    } else if (name == rule.stableSubsetName) {
      setSubsetLabel(subset, engine::kPodTemplateHashLabel, weights.stableHash);
      stable = true;
    }
  }
  for (const auto& [found, name] :
       {std::pair{canary, rule.canarySubsetName}, std::pair{stable, rule.stableSubsetName}}) {
    if (!found)
      return Error{"DestinationRule `" + rule.name + "`: subset '" + name + "' not found in spec.subsets"};
  }
  return subsets;
}

Result<json> httpRoutesWithHeaderRoute(const engine::Rollout& rollout,
                                       const engine::IstioVirtualService& config, const json& virtualService,
                                       const engine::SetHeaderRouteStep& step) {
  const RouteRules rules(rollout, roleServices(rollout, virtualService));
  auto http = httpRoutesWithout(virtualService, step.name);
  if (!http || step.match.empty()) return http;
  auto base = firstSelectedRoute(rules, config, virtualService);
  if (!base) return Error{base.error()};
  // One match block per header: Istio ORs match blocks, as Argo Rollouts' header route does.
  json matches = json::array();
  for (const auto& header : step.match)
    matches.push_back({{"headers", {{header.headerName, {{header.matchType, header.value}}}}}});
  http->push_back(
      {{"name", step.name},
       {"match", std::move(matches)},
       {"route", json::array({{{"destination", rules.canaryDestination(*base)}, {"weight", 100}}})}});
  return rules.ordered(*http);
}

Result<json> httpRoutesWithMirrorRoute(const engine::Rollout& rollout,
                                       const engine::IstioVirtualService& config, const json& virtualService,
                                       const engine::SetMirrorRouteStep& step) {
  const RouteRules rules(rollout, roleServices(rollout, virtualService));
  auto http = httpRoutesWithout(virtualService, step.name);
  if (!http || !step.match.is_array() || step.match.empty()) return http;
  auto base = firstSelectedRoute(rules, config, virtualService);
  if (!base) return Error{base.error()};
  // The step's match blocks are Istio's HTTPMatchRequest but for `path`, which Istio calls `uri`.
  json matches = json::array();
  for (size_t i = 0; i < step.match.size(); ++i) {
    const json& block = step.match[i];
    if (!block.is_object())
      return Error{"setMirrorRoute '" + step.name + "': match[" + std::to_string(i) + "] must be an object"};
    json istio = json::object();
    for (const auto& [key, value] : block.items()) istio[key == "path" ? "uri" : key] = value;
    matches.push_back(std::move(istio));
  }
  http->push_back({{"name", step.name},
                   {"match", std::move(matches)},
                   {"route", destinationsOf(*base)},
                   {"mirror", rules.canaryDestination(*base)},
                   {"mirrorPercentage", {{"value", step.percentage}}}});
  return rules.ordered(*http);
}

IstioRouter::IstioRouter(const engine::Rollout& rollout) : rollout_(routedPart(rollout)) {}

Result<std::optional<engine::TrafficInForce>> IstioRouter::inForce(const ObjectLookup& get) const {
  const auto& virtualServices = rollout_.spec.canary.trafficRouting->istio->virtualServices;
  if (virtualServices.empty())
    return Error{"spec.strategy.canary.trafficRouting.istio names no VirtualService"};
  const engine::IstioVirtualService& first = virtualServices.front();
  const auto virtualService = get(kVirtualService, first.name);
  if (!virtualService) return Error{"VirtualService `" + first.name + "` not found"};
  const auto services = roleServices(rollout_, *virtualService);
  const RouteRules rules(rollout_, services);
  auto base =
      firstSelectedRoute(rules, first, *virtualService, RouteRules::sections(first, *virtualService).front());
  if (!base) return Error{base.error()};
  const int canaryWeight = rules.canaryWeightOf(*base);
  // Out of maxTrafficWeight (100 unless set), as the engine counts it: Istio splits by the weights' shares.
  // The stable's is what the canary and the other destinations (the experiment templates') leave.
  const int maxWeight = rollout_.spec.canary.trafficRouting->maxWeight();
  engine::TrafficInForce seen{canaryWeight, maxWeight - canaryWeight, "", "", rules.othersOf(*base)};
  for (const auto& d : seen.additional) seen.stableWeight -= d.weight;
  seen.stableWeight = std::max(seen.stableWeight, 0);
  if (const auto* rule = rules.destinationRule()) {
    const auto destinationRule = get(kDestinationRule, rule->name);
    if (!destinationRule) return Error{"DestinationRule `" + rule->name + "` not found"};
    const json subsets = jsonAt(*destinationRule, "/spec/subsets", json::array());
    for (const auto& subset : subsets.is_array() ? subsets : json::array()) {
      const std::string hash = entryOf(subset, "/labels", engine::kPodTemplateHashLabel);
      if (stringAt(subset, "/name") == rule->canarySubsetName) seen.canaryHash = hash;
      if (stringAt(subset, "/name") == rule->stableSubsetName) seen.stableHash = hash;
    }
  } else {
    seen.canaryHash = entryOf(*virtualService, "/metadata/annotations", kCanaryHashAnnotation);
    seen.stableHash = entryOf(*virtualService, "/metadata/annotations", kStableHashAnnotation);
  }
  // In force only if setting what was read changes nothing: every selected route of every VirtualService
  // agrees, no stray destination is left, the subsets and annotations are Sluice's. Otherwise nullopt, so
  // that the weight is written again.
  auto writes = setWeight(get, settingOf(seen, services.first, services.second));
  if (!writes) return Error{writes.error()};
  if (!writes->empty()) return std::optional<engine::TrafficInForce>();
  return std::optional<engine::TrafficInForce>(seen);
}

Result<Writes> IstioRouter::setWeight(const ObjectLookup& get,
                                      const engine::SetTrafficWeight& weights) const {
  Writes writes;
  json annotations = json::object();
  if (const auto& rule = rollout_.spec.canary.trafficRouting->istio->destinationRule) {
    const auto live = get(kDestinationRule, rule->name);
    if (!live) return Error{"DestinationRule `" + rule->name + "` not found"};
    auto subsets = hashedSubsets(rollout_, *live, weights);
    if (!subsets) return Error{subsets.error()};
    json patch = managedFieldsPatch(*live, {{"subsets", *subsets}},
                                    {{kManagedByRolloutsAnnotation, rollout_.metadata.name}});
    if (!patch.empty())
      writes.push_back({ObjectWrite::Op::MergePatch, kDestinationRule, rule->name, std::move(patch)});
  } else {
    // Without subsets to carry them, the hashes the weights were set for go on the VirtualServices.
    annotations = {{kCanaryHashAnnotation, weights.canaryHash}, {kStableHashAnnotation, weights.stableHash}};
    // With pingPong, which of the two Services the canary's weight went to: they swap at each promotion.
    if (routesPingPong(rollout_.spec.canary) && !weights.canaryService.empty())
      annotations[kCanaryServiceAnnotation] = weights.canaryService;
  }
  auto routes = rewriteVirtualServices(
      rollout_, get,
      [&](const engine::IstioVirtualService& config, const json& live) {
        return weightedRoutes(rollout_, config, live, weights);
      },
      annotations);
  if (!routes) return Error{routes.error()};
  for (auto& write : *routes) writes.push_back(std::move(write));
  return writes;
}

Result<Writes> IstioRouter::setHeaderRoute(const ObjectLookup& get,
                                           const engine::SetHeaderRouteStep& route) const {
  return rewriteVirtualServices(rollout_, get,
                                httpRewrite([&](const engine::IstioVirtualService& config, const json& live) {
                                  return httpRoutesWithHeaderRoute(rollout_, config, live, route);
                                }));
}

Result<Writes> IstioRouter::setMirrorRoute(const ObjectLookup& get,
                                           const engine::SetMirrorRouteStep& route) const {
  return rewriteVirtualServices(rollout_, get,
                                httpRewrite([&](const engine::IstioVirtualService& config, const json& live) {
                                  return httpRoutesWithMirrorRoute(rollout_, config, live, route);
                                }));
}

Result<Writes> IstioRouter::removeManagedRoutes(const ObjectLookup& get) const {
  const RouteRules rules(rollout_, roleServices(rollout_, json::object()));
  return rewriteVirtualServices(
      rollout_, get, httpRewrite([&](const engine::IstioVirtualService&, const json& live) -> Result<json> {
        auto http = RouteRules::routesIn(live, "http");
        if (!http) return Error{http.error()};
        json kept = json::array();
        for (const auto& route : *http) {
          if (!rules.managed(routeName(route))) kept.push_back(route);
        }
        return kept;
      }));
}

}  // namespace sluice::traffic
