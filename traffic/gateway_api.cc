// The Gateway API HTTPRoute router (see gateway_api.h).
#include "traffic/gateway_api.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <functional>
#include <string_view>
#include <utility>

namespace sluice::traffic {

using nlohmann::json;

namespace {

const char* kHttpRoute = "HTTPRoute";
const char* kRequestMirror = "RequestMirror";
// Gateway API caps an HTTPRoute at 16 rules.
constexpr size_t kMaxRules = 16;
// A rule's name is a SectionName: a DNS subdomain of at most 253 characters.
constexpr size_t kMaxRuleName = 253;

std::string nameOf(const json& route) { return stringAt(route, "/metadata/name"); }

std::string ruleName(const json& rule) { return stringAt(rule, "/name"); }

json listAt(const json& obj, const std::string& pointer) {
  json list = jsonAt(obj, pointer, json::array());
  return list.is_array() ? list : json::array();
}

// Gateway API's default weight for a backendRef that gives none.
int weightOf(const json& ref) {
  const json weight = jsonAt(ref, "/weight", 1);
  return weight.is_number_integer() ? weight.get<int>() : 1;
}

bool equalsIgnoringCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// A managed route's name as a rule name: a SectionName, i.e. a DNS subdomain (dot-separated labels of
// lowercase letters, digits and '-', each starting and ending with a letter or digit).
Status checkRuleName(const std::string& name) {
  const auto alnum = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c));
  };
  bool ok = !name.empty() && name.size() <= kMaxRuleName;
  for (size_t start = 0; ok && start <= name.size();) {
    size_t end = name.find('.', start);
    if (end == std::string::npos) end = name.size();
    ok = end > start && alnum(name[start]) && alnum(name[end - 1]);
    for (size_t i = start; ok && i < end; ++i) ok = alnum(name[i]) || name[i] == '-';
    start = end + 1;
  }
  if (ok) return Status::Ok();
  return Error{"managed route '" + name +
               "' cannot name an HTTPRoute rule: a rule name is lowercase letters, digits, '-' and '.', each "
               "dot-separated part starting and ending with a letter or digit, at most 253 characters"};
}

// One of Argo Rollouts' string matches ({exact | prefix | regex: value}) as (kind, value).
Result<std::pair<std::string, std::string>> stringMatchOf(const json& match, const std::string& where) {
  if (match.is_object() && match.size() == 1) {
    const auto it = match.begin();
    const std::string& kind = it.key();
    if ((kind == "exact" || kind == "prefix" || kind == "regex") && it->is_string())
      return std::pair{kind, it->get<std::string>()};
  }
  return Error{where + " must be one of {exact: ...}, {prefix: ...} or {regex: ...}"};
}

// An HTTPHeaderMatch; Gateway API has no prefix match, so a prefix becomes a regular expression.
Result<json> headerMatch(const std::string& name, const std::string& kind, const std::string& value,
                         const std::string& where) {
  if (kind == "exact") return json{{"name", name}, {"type", "Exact"}, {"value", value}};
  if (kind == "regex") return json{{"name", name}, {"type", "RegularExpression"}, {"value", value}};
  if (kind == "prefix")
    return json{{"name", name}, {"type", "RegularExpression"}, {"value", escapeRegex(value) + ".*"}};
  return Error{where + ": match type '" + kind + "' is not one of exact, regex or prefix"};
}

json defaultPathMatch() { return {{"type", "PathPrefix"}, {"value", "/"}}; }

// `headers` (a match's list) with `added` in place of any header of the same name (names are
// case-insensitive, and a match may hold each header once).
json withHeaders(const json& headers, const json& added) {
  json out = json::array();
  for (const auto& header : headers.is_array() ? headers : json::array()) {
    const bool replaced = std::any_of(added.begin(), added.end(), [&](const json& a) {
      return equalsIgnoringCase(stringAt(header, "/name"), a["name"].get<std::string>());
    });
    if (!replaced) out.push_back(header);
  }
  for (const auto& header : added) out.push_back(header);
  return out;
}

// The step's match blocks ({method, path, headers}, Argo Rollouts' RouteMatch) as HTTPRouteMatches.
Result<json> mirrorMatches(const engine::SetMirrorRouteStep& step) {
  json out = json::array();
  for (size_t i = 0; i < step.match.size(); ++i) {
    const std::string where = "setMirrorRoute '" + step.name + "' match[" + std::to_string(i) + "]";
    const json& block = step.match[i];
    if (!block.is_object()) return Error{where + " must be an object"};
    json match = {{"path", defaultPathMatch()}};
    for (const auto& [key, value] : block.items()) {
      if (key == "path") {
        auto path = stringMatchOf(value, where + ".path");
        if (!path) return Error{path.error()};
        const std::string type = path->first == "exact"    ? "Exact"
                                 : path->first == "prefix" ? "PathPrefix"
                                                           : "RegularExpression";
        match["path"] = {{"type", type}, {"value", path->second}};
      } else if (key == "method") {
        auto method = stringMatchOf(value, where + ".method");
        if (!method) return Error{method.error()};
        if (method->first != "exact") return Error{where + ".method: Gateway API matches a method exactly"};
        match["method"] = method->second;
      } else if (key == "headers" && value.is_object()) {
        json headers = json::array();
        for (const auto& [name, header] : value.items()) {
          std::string field = where;
          field += ".headers.";
          field += name;
          auto kindValue = stringMatchOf(header, field);
          if (!kindValue) return Error{kindValue.error()};
          auto converted = headerMatch(name, kindValue->first, kindValue->second, where);
          if (!converted) return Error{converted.error()};
          headers.push_back(std::move(*converted));
        }
        match["headers"] = std::move(headers);
      } else {
        std::string message = where;
        message += ".";
        message += key;
        message += " is not a match of method, path or headers";
        return Error{message};
      }
    }
    out.push_back(std::move(match));
  }
  return out;
}

// What the Rollout says about an HTTPRoute's rules and backendRefs, shared by the builders.
class RouteRules {
 public:
  explicit RouteRules(const engine::Rollout& rollout)
      : canary_(rollout.spec.canary.canaryService),
        stable_(rollout.spec.canary.stableService),
        namespace_(rollout.metadata.ns),
        managedRoutes_(rollout.spec.canary.trafficRouting->managedRoutes) {}

  const std::string& canary() const { return canary_; }
  const std::string& stable() const { return stable_; }

  bool managed(const json& rule) const {
    const std::string name = ruleName(rule);
    return !name.empty() &&
           std::find(managedRoutes_.begin(), managedRoutes_.end(), name) != managedRoutes_.end();
  }

  // A backendRef to `service`, a Service of the Rollout's namespace (group and kind default to the core
  // Service, and a namespace that is not the Rollout's is another Service of that name).
  bool refersTo(const json& ref, const std::string& service) const {
    return ref.is_object() && stringAt(ref, "/name") == service &&
           jsonAt(ref, "/kind", "Service") == "Service" && stringAt(ref, "/group").empty() &&
           (!ref.contains("namespace") || ref["namespace"] == namespace_);
  }

  bool sendsTo(const json& rule, const std::string& service) const {
    const json refs = listAt(rule, "/backendRefs");
    return std::any_of(refs.begin(), refs.end(), [&](const json& ref) { return refersTo(ref, service); });
  }

  // spec.rules of `route`: a list, possibly empty.
  static Result<json> rulesOf(const json& route) {
    const json rules = jsonAt(route, "/spec/rules", json::array());
    if (!rules.is_array()) return Error{"HTTPRoute `" + nameOf(route) + "`: spec.rules must be a list"};
    return rules;
  }

  // `rules` without the one named `name`.
  static json without(const json& rules, const std::string& name) {
    json out = json::array();
    for (const auto& rule : rules) {
      if (ruleName(rule) != name) out.push_back(rule);
    }
    return out;
  }

  // The first rule, not a managed one, with backendRefs to both Services: what header and mirror routes copy.
  Result<json> baseRule(const json& route, const json& rules) const {
    for (const auto& rule : rules) {
      if (!managed(rule) && sendsTo(rule, canary_) && sendsTo(rule, stable_)) return rule;
    }
    return Error{"HTTPRoute `" + nameOf(route) + "` has no rule with backendRefs to both service " + canary_ +
                 " and service " + stable_};
  }

  // The backendRef to the canary Service in `rule`. Precondition: sendsTo(rule, canary()).
  json canaryRef(const json& rule) const {
    for (const auto& ref : listAt(rule, "/backendRefs")) {
      if (refersTo(ref, canary_)) return ref;
    }
    return json::object();
  }

  static Error missingBackend(const json& route, const std::string& service) {
    return Error{"HTTPRoute `" + nameOf(route) + "` has no backendRef to service " + service};
  }

 private:
  std::string canary_;
  std::string stable_;
  std::string namespace_;
  std::vector<std::string> managedRoutes_;
};

// `rules` with `rule` (named after a managed route) appended. Refused when the HTTPRoute already holds the
// same rule without its name: the API server dropped the name (its CRD has no spec.rules[].name), and
// adding the rule again would add it on every reconcile.
Result<json> appended(const json& route, json rules, const json& rule) {
  json unnamed = rule;
  unnamed.erase("name");
  if (std::find(rules.begin(), rules.end(), unnamed) != rules.end()) {
    return Error{"HTTPRoute `" + nameOf(route) + "` holds the rule for managed route '" + ruleName(rule) +
                 "' without its name: its CRD drops spec.rules[].name (Gateway API v1.4 has it, or v1.2 in "
                 "the experimental channel)"};
  }
  rules.push_back(rule);
  if (rules.size() > kMaxRules) {
    return Error{"HTTPRoute `" + nameOf(route) + "` cannot take the rule for managed route '" +
                 ruleName(rule) + "': Gateway API allows 16 rules"};
  }
  return rules;
}

// The rules without the one named after the step, and, when the step has a match, the rule the step
// adds, built by `build` from the base rule.
Result<json> withManagedRule(const engine::Rollout& rollout, const json& route, const std::string& name,
                             bool remove, const std::function<Result<json>(const RouteRules&, json)>& build) {
  const RouteRules rules(rollout);
  auto list = RouteRules::rulesOf(route);
  if (!list) return list;
  json kept = RouteRules::without(*list, name);
  if (remove) return kept;
  if (Status valid = checkRuleName(name); !valid) return Error{valid.error()};
  auto base = rules.baseRule(route, kept);
  if (!base) return base;
  auto rule = build(rules, std::move(*base));
  if (!rule) return rule;
  (*rule)["name"] = name;
  return appended(route, std::move(kept), *rule);
}

// What a write makes of an HTTPRoute: its spec.rules.
using RuleRewrite = std::function<Result<json>(const json& route)>;

// One merge patch per HTTPRoute named in `names` whose rules `rewrite` changes (with `annotations` set).
Result<Writes> rewriteRoutes(const ObjectLookup& get, const std::vector<std::string>& names,
                             const RuleRewrite& rewrite, const json& annotations = json::object()) {
  Writes writes;
  for (const auto& name : names) {
    const auto live = get(kHttpRoute, name);
    if (!live) return Error{"HTTPRoute `" + name + "` not found"};
    auto rules = rewrite(*live);
    if (!rules) return Error{rules.error()};
    json patch = managedFieldsPatch(*live, {{"rules", std::move(*rules)}}, annotations);
    if (!patch.empty()) writes.push_back({ObjectWrite::Op::MergePatch, kHttpRoute, name, std::move(patch)});
  }
  return writes;
}

}  // namespace

Result<GatewayApiConfig> parseGatewayApiConfig(const engine::Rollout& rollout, const json& config) {
  const std::string path =
      std::string("spec.strategy.canary.trafficRouting.plugins[\"") + kGatewayApiPlugin + "\"]";
  if (!config.is_object()) return Error{path + " must be an object"};
  for (const char* key : {"grpcRoute", "grpcRoutes", "tcpRoute", "tcpRoutes", "tlsRoute", "tlsRoutes",
                          "httpRouteSelector", "grpcRouteSelector", "tcpRouteSelector", "tlsRouteSelector"}) {
    if (config.contains(key))
      return Error{path + "." + key + " is not supported yet: name HTTPRoutes in httpRoute or httpRoutes"};
  }
  if (config.contains("namespace")) {
    const json& ns = config["namespace"];
    if (!ns.is_string()) return Error{path + ".namespace must be a string"};
    if (!ns.get_ref<const std::string&>().empty() && ns != rollout.metadata.ns) {
      return Error{path + ".namespace: HTTPRoutes in namespace " + ns.get<std::string>() +
                   " are not supported; only the Rollout's own namespace (" + rollout.metadata.ns + ")"};
    }
  }
  GatewayApiConfig out;
  if (config.contains("httpRoute")) {
    const json& name = config["httpRoute"];
    if (!name.is_string() || name.get_ref<const std::string&>().empty())
      return Error{path + ".httpRoute must be the name of an HTTPRoute"};
    out.httpRoutes.push_back({name.get<std::string>(), true});
  }
  if (config.contains("httpRoutes")) {
    const json& routes = config["httpRoutes"];
    if (!routes.is_array()) return Error{path + ".httpRoutes must be a list of {name, useHeaderRoutes}"};
    for (size_t i = 0; i < routes.size(); ++i) {
      const std::string item = path + ".httpRoutes[" + std::to_string(i) + "]";
      const json name = jsonAt(routes[i], "/name", json());
      if (!name.is_string() || name.get_ref<const std::string&>().empty())
        return Error{item + ".name is required"};
      const json useHeaderRoutes = jsonAt(routes[i], "/useHeaderRoutes", false);
      if (!useHeaderRoutes.is_boolean()) return Error{item + ".useHeaderRoutes must be true or false"};
      out.httpRoutes.push_back({name.get<std::string>(), useHeaderRoutes.get<bool>()});
    }
  }
  if (out.httpRoutes.empty()) return Error{path + " names no HTTPRoute: set httpRoute or httpRoutes"};
  const std::string* twice = nullptr;
  for (size_t i = 1; i < out.httpRoutes.size() && !twice; ++i) {
    const std::string& name = out.httpRoutes[i].name;
    if (std::any_of(out.httpRoutes.begin(), out.httpRoutes.begin() + static_cast<std::ptrdiff_t>(i),
                    [&](const GatewayApiHttpRoute& r) { return r.name == name; }))
      twice = &name;
  }
  if (twice) return Error{path + ": HTTPRoute `" + *twice + "` is named twice"};
  return out;
}

Result<json> weightedRules(const engine::Rollout& rollout, const json& httpRoute,
                           const engine::SetTrafficWeight& weights) {
  const RouteRules rules(rollout);
  auto list = RouteRules::rulesOf(httpRoute);
  if (!list) return list;
  bool canary = false;
  bool stable = false;
  for (auto& rule : *list) {
    const bool managed = rules.managed(rule);
    // A header route sends all it matches to the canary, whatever the split (a weight of 0 there would
    // answer those requests with errors); a mirror route copies the split, so it follows it.
    if (managed && !rules.sendsTo(rule, rules.stable())) continue;
    if (!rule.is_object() || !rule.contains("backendRefs") || !rule["backendRefs"].is_array()) continue;
    for (auto& ref : rule["backendRefs"]) {
      if (rules.refersTo(ref, rules.canary())) {
        ref["weight"] = weights.canaryWeight;
        canary = canary || !managed;
      } else if (rules.refersTo(ref, rules.stable())) {
        ref["weight"] = weights.stableWeight;
        stable = stable || !managed;
      }
    }
  }
  if (!canary) return RouteRules::missingBackend(httpRoute, rules.canary());
  if (!stable) return RouteRules::missingBackend(httpRoute, rules.stable());
  return list;
}

Result<json> rulesWithHeaderRoute(const engine::Rollout& rollout, const json& httpRoute,
                                  const engine::SetHeaderRouteStep& step) {
  json headers = json::array();
  for (size_t i = 0; i < step.match.size(); ++i) {
    const engine::HeaderMatch& h = step.match[i];
    auto header = headerMatch(h.headerName, h.matchType, h.value,
                              "setHeaderRoute '" + step.name + "' match[" + std::to_string(i) + "]");
    if (!header) return header;
    headers.push_back(std::move(*header));
  }
  return withManagedRule(rollout, httpRoute, step.name, step.match.empty(),
                         [&](const RouteRules& rules, json rule) -> Result<json> {
                           // Each of the base rule's matches, narrowed to the step's headers: the same
                           // requests, less those without the headers. Matches with more headers take
                           // precedence in Gateway API, so this rule wins over the base rule.
                           json matches = listAt(rule, "/matches");
                           if (matches.empty()) matches.push_back({{"path", defaultPathMatch()}});
                           for (auto& match : matches)
                             match["headers"] = withHeaders(jsonAt(match, "/headers", json()), headers);
                           json ref = rules.canaryRef(rule);
                           ref["weight"] = 100;  // its only backend: all the requests it matches
                           rule["matches"] = std::move(matches);
                           rule["backendRefs"] = json::array({std::move(ref)});
                           return rule;
                         });
}

Result<json> rulesWithMirrorRoute(const engine::Rollout& rollout, const json& httpRoute,
                                  const engine::SetMirrorRouteStep& step) {
  const bool remove = !step.match.is_array() || step.match.empty();
  auto matches = remove ? Result<json>(json::array()) : mirrorMatches(step);
  if (!matches) return matches;
  return withManagedRule(
      rollout, httpRoute, step.name, remove, [&](const RouteRules& rules, json rule) -> Result<json> {
        // The mirror's target is a BackendObjectReference: the canary backendRef
        // without its weight and filters.
        const json canary = rules.canaryRef(rule);
        json target = json::object();
        for (const char* key : {"group", "kind", "name", "namespace", "port"}) {
          if (canary.contains(key)) target[key] = canary[key];
        }
        json mirror = {{"backendRef", std::move(target)}};
        // percent (GEP-3171) only when some requests are not mirrored: a CRD without
        // it would drop it and mirror all.
        if (step.percentage < 100) mirror["percent"] = step.percentage;
        json filters = listAt(rule, "/filters");
        filters.push_back({{"type", kRequestMirror}, {"requestMirror", std::move(mirror)}});
        rule["matches"] = *matches;
        rule["filters"] = std::move(filters);
        return rule;
      });
}

GatewayApiRouter::GatewayApiRouter(const engine::Rollout& rollout, GatewayApiConfig config)
    : rollout_(routedPart(rollout)), config_(std::move(config)) {}

std::vector<std::string> GatewayApiRouter::routeNames(bool headerRoutesOnly) const {
  std::vector<std::string> names;
  for (const auto& route : config_.httpRoutes) {
    if (route.useHeaderRoutes || !headerRoutesOnly) names.push_back(route.name);
  }
  return names;
}

Result<std::optional<engine::TrafficInForce>> GatewayApiRouter::inForce(const ObjectLookup& get) const {
  const RouteRules rules(rollout_);
  const std::string& first = config_.httpRoutes.front().name;
  const auto route = get(kHttpRoute, first);
  if (!route) return Error{"HTTPRoute `" + first + "` not found"};
  auto list = RouteRules::rulesOf(*route);
  if (!list) return Error{list.error()};
  std::optional<int> canary;
  std::optional<int> stable;
  for (const auto& rule : *list) {
    if (rules.managed(rule)) continue;
    for (const auto& ref : listAt(rule, "/backendRefs")) {
      if (!canary && rules.refersTo(ref, rules.canary())) canary = weightOf(ref);
      if (!stable && rules.refersTo(ref, rules.stable())) stable = weightOf(ref);
    }
  }
  if (!canary) return RouteRules::missingBackend(*route, rules.canary());
  if (!stable) return RouteRules::missingBackend(*route, rules.stable());
  const engine::TrafficInForce seen{*canary, *stable, annotationOf(*route, kCanaryHashAnnotation),
                                    annotationOf(*route, kStableHashAnnotation)};
  // In force only if setting what was read changes nothing: every backendRef of every HTTPRoute agrees and
  // the hash annotations are Sluice's. Otherwise nullopt, so that the weight is written again.
  auto writes = setWeight(get, {seen.canaryWeight, seen.stableWeight, seen.canaryHash, seen.stableHash});
  if (!writes) return Error{writes.error()};
  if (!writes->empty()) return std::optional<engine::TrafficInForce>();
  return std::optional<engine::TrafficInForce>(seen);
}

Result<Writes> GatewayApiRouter::setWeight(const ObjectLookup& get,
                                           const engine::SetTrafficWeight& weights) const {
  return rewriteRoutes(
      get, routeNames(false), [&](const json& route) { return weightedRules(rollout_, route, weights); },
      {{kCanaryHashAnnotation, weights.canaryHash}, {kStableHashAnnotation, weights.stableHash}});
}

Result<Writes> GatewayApiRouter::setHeaderRoute(const ObjectLookup& get,
                                                const engine::SetHeaderRouteStep& route) const {
  const std::vector<std::string> names = routeNames(true);
  if (names.empty() && !route.match.empty()) {
    return Error{
        "setHeaderRoute '" + route.name + "': no HTTPRoute of plugins[\"" + kGatewayApiPlugin +
        "\"] takes header routes (httpRoute does; an entry of httpRoutes needs useHeaderRoutes: true)"};
  }
  return rewriteRoutes(get, names,
                       [&](const json& live) { return rulesWithHeaderRoute(rollout_, live, route); });
}

Result<Writes> GatewayApiRouter::setMirrorRoute(const ObjectLookup& get,
                                                const engine::SetMirrorRouteStep& route) const {
  return rewriteRoutes(get, routeNames(false),
                       [&](const json& live) { return rulesWithMirrorRoute(rollout_, live, route); });
}

Result<Writes> GatewayApiRouter::removeManagedRoutes(const ObjectLookup& get) const {
  const RouteRules rules(rollout_);
  return rewriteRoutes(get, routeNames(false), [&](const json& live) -> Result<json> {
    auto list = RouteRules::rulesOf(live);
    if (!list) return list;
    json kept = json::array();
    for (const auto& rule : *list) {
      if (!rules.managed(rule)) kept.push_back(rule);
    }
    return kept;
  });
}

}  // namespace sluice::traffic
