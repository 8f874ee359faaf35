// The simulated data plane's routing (see routes.h): each front's stream resolved to Services, then
// spread evenly over the ready pods each Service selects.
#include "dataplane/routes.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "base/json_lookup.h"
#include "base/quantity.h"

namespace sluice::dataplane {

using json_lookup::field;
using json_lookup::str;
using json_lookup::stringMap;
using nlohmann::json;

namespace {

bool selects(const std::map<std::string, std::string>& selector,
             const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

// A decimal number >= 0 and nothing else in the text; nullopt otherwise.
std::optional<double> decimal(const std::string& text) {
  char* end = nullptr;
  const double d = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(d >= 0 && d < 1e12)) return std::nullopt;
  return d;
}

// A weight: a JSON number, or a quantity string (SMI v1alpha1's "500m"); a negative one routes nothing.
std::optional<double> weight(const json& v) {
  const std::optional<double> value = quantityValue(v);
  if (!value || !(*value >= 0)) return std::nullopt;
  return value;
}

class Router {
 public:
  Router(const RoutingState& state, double defaultRate, std::vector<std::string>& problems)
      : state_(state), defaultRate_(defaultRate), problems_(problems) {}

  std::vector<Flow> run() {
    nginx();
    istio();
    smi();
    gatewayApi();
    traefik();
    services();
    return std::move(flows_);
  }

 private:
  const std::map<ObjectKey, json>& all(RouteKind kind) const {
    static const std::map<ObjectKey, json> none;
    auto it = state_.routes.find(kind);
    return it == state_.routes.end() ? none : it->second;
  }

  // The object's rate annotation when it reads as a number >= 0, else the default (and a problem).
  double rate(const json& obj, const std::string& what) {
    const std::string text = str(field(field(obj, "metadata"), "annotations"), kRequestsPerSecondAnnotation);
    if (text.empty()) return defaultRate_;
    if (auto v = decimal(text)) return *v;
    problems_.push_back(what + ": annotation " + kRequestsPerSecondAnnotation + ": \"" + text +
                        "\" is not a number of requests a second >= 0; using " +
                        std::to_string(defaultRate_));
    return defaultRate_;
  }

  // The Service a mesh host names, seen from namespace `ns`: "name", "name.ns", "name.ns.svc" or
  // "name.ns.svc.cluster.local". Nullopt for a host outside the cluster.
  std::optional<ObjectKey> serviceOfHost(const std::string& host, const std::string& ns) const {
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
      const size_t dot = host.find('.', start);
      parts.push_back(host.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    ObjectKey key{ns, parts[0]};
    if (parts.size() >= 2) key.first = parts[1];
    const bool clusterSuffix =
        parts.size() <= 2 || (parts.size() == 3 && parts[2] == "svc") ||
        (parts.size() == 5 && parts[2] == "svc" && parts[3] == "cluster" && parts[4] == "local");
    if (!clusterSuffix || !state_.services.count(key)) return std::nullopt;
    return key;
  }

  // Sends `rate` requests a second of `base`'s stream to the ready pods of Service `service` that also
  // carry `subsetLabels`; with no such pod, the front answers them with 503.
  void spread(Flow base, const ObjectKey& service, const std::map<std::string, std::string>& subsetLabels,
              double requestsPerSecond) {
    routed_.insert(service);
    if (requestsPerSecond <= 0) return;
    base.namespace_ = service.first;
    base.service = service.second;
    std::vector<std::string> serving;
    auto svc = state_.services.find(service);
    const auto selector = svc == state_.services.end()
                              ? std::map<std::string, std::string>{}
                              : stringMap(field(field(svc->second, "spec"), "selector"));
    if (!selector.empty()) {
      for (auto it = state_.pods.lower_bound({service.first, ""});
           it != state_.pods.end() && it->first.first == service.first; ++it) {
        if (it->second.ready && selects(selector, it->second.labels) &&
            selects(subsetLabels, it->second.labels))
          serving.push_back(it->first.second);
      }
    }
    if (serving.empty()) {
      if (base.front == Front::kService) return;  // nobody serves, nobody asks
      base.status = 503;
      base.requestsPerSecond = requestsPerSecond;
      flows_.push_back(std::move(base));
      return;
    }
    base.requestsPerSecond = requestsPerSecond / static_cast<double>(serving.size());
    for (const auto& pod : serving) {
      Flow f = base;
      f.pod = pod;
      flows_.push_back(std::move(f));
    }
  }

  // ---- ingress-nginx: a stable Ingress per host and path, the canary Ingress of the same host and path
  // taking canary-weight out of canary-weight-total. Requests carry no header or cookie, so header and
  // cookie rules never match them.
  struct Location {
    ObjectKey ingress;
    std::string host, path, service, port;
  };
  static std::string backendPort(const json& service) {
    const json& port = field(service, "port");
    if (field(port, "number").is_number_integer()) return std::to_string(field(port, "number").get<int>());
    return str(port, "name");
  }
  static std::vector<Location> locations(const ObjectKey& key, const json& ingress) {
    std::vector<Location> out;
    const json& spec = field(ingress, "spec");
    const json& rules = field(spec, "rules");
    if (rules.is_array()) {
      for (const auto& rule : rules) {
        const json& paths = field(field(rule, "http"), "paths");
        if (!paths.is_array()) continue;
        for (const auto& p : paths) {
          const json& backend = field(field(p, "backend"), "service");
          if (str(backend, "name").empty()) continue;
          const std::string path = str(p, "path");
          out.push_back({key, str(rule, "host"), path.empty() ? "/" : path, str(backend, "name"),
                         backendPort(backend)});
        }
      }
    }
    const json& fallback = field(field(spec, "defaultBackend"), "service");
    if (out.empty() && !str(fallback, "name").empty())
      out.push_back({key, "", "/", str(fallback, "name"), backendPort(fallback)});
    return out;
  }
  // The annotation prefix under which the Ingress says canary: "true"; empty when it is not a canary.
  static std::string canaryPrefix(const json& ingress) {
    for (const auto& [k, v] : stringMap(field(field(ingress, "metadata"), "annotations"))) {
      if (k.size() > 7 && k.compare(k.size() - 7, 7, "/canary") == 0 && v == "true")
        return k.substr(0, k.size() - 7);
    }
    return {};
  }

  void nginx() {
    struct Canary {
      Location location;
      double fraction = 0;
    };
    std::map<std::tuple<std::string, std::string, std::string>, Canary> canaries;  // (ns, host, path)
    std::map<std::string, std::vector<Location>> byHost;
    std::map<std::string, double> hostRate;
    for (const auto& [key, ingress] : all(RouteKind::kIngress)) {
      const std::string prefix = canaryPrefix(ingress);
      if (!prefix.empty()) {
        // ingress-nginx reads an unset weight as 0 and an unset total as 100.
        const json& notes = field(field(ingress, "metadata"), "annotations");
        const std::string w = str(notes, (prefix + "/canary-weight").c_str());
        const std::string t = str(notes, (prefix + "/canary-weight-total").c_str());
        const double canaryWeight = decimal(w.empty() ? "0" : w).value_or(0);
        const double total = decimal(t.empty() ? "100" : t).value_or(100);
        const double fraction = total > 0 ? std::clamp(canaryWeight / total, 0.0, 1.0) : 0;
        for (auto& loc : locations(key, ingress)) {
          routed_.insert({key.first, loc.service});
          canaries.emplace(std::make_tuple(key.first, loc.host, loc.path), Canary{loc, fraction});
        }
        continue;
      }
      for (auto& loc : locations(key, ingress)) {
        if (!hostRate.count(loc.host))
          hostRate[loc.host] = rate(ingress, "ingress " + key.first + "/" + key.second);
        byHost[loc.host].push_back(std::move(loc));
      }
    }
    for (const auto& [host, locs] : byHost) {
      const double share = hostRate[host] / static_cast<double>(locs.size());
      for (const auto& loc : locs) {
        Flow base;
        base.front = Front::kNginx;
        base.owner = loc.ingress;
        base.labels = {{"ingress", loc.ingress.second},
                       {"host", host},
                       {"path", loc.path},
                       {"service", loc.service},
                       {"canary", ""}};
        double canaryShare = 0;
        auto canary = canaries.find({loc.ingress.first, host, loc.path});
        if (canary != canaries.end()) {
          canaryShare = share * canary->second.fraction;
          Flow c = base;
          const Location& cl = canary->second.location;
          c.labels.back().second = cl.ingress.first + "-" + cl.service + "-" + cl.port;
          spread(std::move(c), {cl.ingress.first, cl.service}, {}, canaryShare);
        }
        spread(std::move(base), {loc.ingress.first, loc.service}, {}, share - canaryShare);
      }
    }
  }

  // ---- Istio: a VirtualService's stream takes its first HTTP route that a plain request matches (no
  // header, query or source conditions), split by the destinations' weights, subsets resolved through the
  // DestinationRule of the destination's host; a mirror gets a copy of mirrorPercentage of it.
  static bool plainRequestMatches(const json& route) {
    const json& match = field(route, "match");
    if (!match.is_array() || match.empty()) return true;
    return std::any_of(match.begin(), match.end(), [](const json& m) {
      return !m.is_object() || !(m.contains("headers") || m.contains("queryParams") ||
                                 m.contains("withoutHeaders") || m.contains("sourceLabels"));
    });
  }
  std::map<std::string, std::string> subsetLabels(const ObjectKey& service, const std::string& subset,
                                                  bool& found) const {
    found = subset.empty();
    if (subset.empty()) return {};
    for (const auto& [key, rule] : all(RouteKind::kDestinationRule)) {
      if (serviceOfHost(str(field(rule, "spec"), "host"), key.first) != service) continue;
      const json& subsets = field(field(rule, "spec"), "subsets");
      if (!subsets.is_array()) continue;
      for (const auto& s : subsets) {
        if (str(s, "name") != subset) continue;
        found = true;
        return stringMap(field(s, "labels"));
      }
    }
    return {};
  }
  void istioDestination(const Flow& base, const std::string& ns, const json& destination,
                        double requestsPerSecond, bool mirrored) {
    auto service = serviceOfHost(str(destination, "host"), ns);
    if (!service) return;  // outside the cluster: not ours to count
    routed_.insert(*service);
    if (requestsPerSecond <= 0) return;
    Flow f = base;
    f.mirrored = mirrored;
    const std::string fqdn = service->second + "." + service->first + ".svc.cluster.local";
    f.labels = {{"destination_service", fqdn},
                {"destination_service_name", service->second},
                {"destination_service_namespace", service->first},
                {"response_flags", "-"}};
    bool found = false;
    auto labels = subsetLabels(*service, str(destination, "subset"), found);
    if (!found) {  // Envoy answers a route to an unknown subset itself: no route
      f.labels.back().second = "NR";
      f.namespace_ = service->first;
      f.service = service->second;
      f.status = 503;
      f.requestsPerSecond = requestsPerSecond;
      flows_.push_back(std::move(f));
      return;
    }
    Flow spreadBase = f;
    spreadBase.labels.back().second = "-";
    const size_t before = flows_.size();
    spread(std::move(spreadBase), *service, labels, requestsPerSecond);
    for (size_t i = before; i < flows_.size(); ++i) {
      if (flows_[i].pod.empty()) flows_[i].labels.back().second = "UH";  // no healthy upstream
    }
  }
  void istio() {
    for (const auto& [key, vs] : all(RouteKind::kVirtualService)) {
      const json& http = field(field(vs, "spec"), "http");
      if (!http.is_array()) continue;
      auto route = std::find_if(http.begin(), http.end(), plainRequestMatches);
      if (route == http.end()) continue;
      const double total = rate(vs, "virtualservice " + key.first + "/" + key.second);
      Flow base;
      base.front = Front::kIstio;
      base.owner = key;
      const json& destinations = field(*route, "route");
      if (destinations.is_array()) {
        double weights = 0;
        for (const auto& d : destinations) weights += weight(field(d, "weight")).value_or(0);
        const bool single = destinations.size() == 1 && !field(destinations[0], "weight").is_number();
        for (const auto& d : destinations) {
          const double share =
              single ? 1 : (weights > 0 ? weight(field(d, "weight")).value_or(0) / weights : 0);
          istioDestination(base, key.first, field(d, "destination"), total * share, false);
        }
      }
      const json& mirror = field(*route, "mirror");
      if (mirror.is_object()) {
        double percent = 100;
        if (auto p = weight(field(field(*route, "mirrorPercentage"), "value")))
          percent = *p;
        else if (auto legacy = weight(field(*route, "mirrorPercent")))
          percent = *legacy;
        istioDestination(base, key.first, mirror, total * std::clamp(percent, 0.0, 100.0) / 100, true);
      }
    }
  }

  // ---- SMI: a TrafficSplit's stream (addressed to its root service) split by the backends' weights.
  void smi() {
    for (const auto& [key, split] : all(RouteKind::kTrafficSplit)) {
      const json& spec = field(split, "spec");
      if (!str(spec, "service").empty()) routed_.insert({key.first, str(spec, "service")});
      const json& backends = field(spec, "backends");
      if (!backends.is_array()) continue;
      const double total = rate(split, "trafficsplit " + key.first + "/" + key.second);
      double weights = 0;
      for (const auto& b : backends) weights += weight(field(b, "weight")).value_or(0);
      Flow base;
      base.front = Front::kMesh;
      base.owner = key;
      for (const auto& b : backends) {
        if (weights <= 0 || str(b, "service").empty()) continue;
        spread(base, {key.first, str(b, "service")}, {},
               total * weight(field(b, "weight")).value_or(0) / weights);
      }
    }
  }

  // ---- Gateway API: an HTTPRoute's stream takes its first rule that a plain request matches, split by
  // the backendRefs' weights (default 1).
  static bool plainRequestMatchesRule(const json& rule) {
    const json& matches = field(rule, "matches");
    if (!matches.is_array() || matches.empty()) return true;
    return std::any_of(matches.begin(), matches.end(), [](const json& m) {
      return !m.is_object() || !(m.contains("headers") || m.contains("queryParams"));
    });
  }
  void gatewayApi() {
    for (const auto& [key, route] : all(RouteKind::kHttpRoute)) {
      const json& rules = field(field(route, "spec"), "rules");
      if (!rules.is_array()) continue;
      auto rule = std::find_if(rules.begin(), rules.end(), plainRequestMatchesRule);
      if (rule == rules.end()) continue;
      const json& refs = field(*rule, "backendRefs");
      if (!refs.is_array()) continue;
      const double total = rate(route, "httproute " + key.first + "/" + key.second);
      auto weightOf = [](const json& ref) {
        return field(ref, "weight").is_number() ? weight(field(ref, "weight")).value_or(0) : 1.0;
      };
      double weights = 0;
      for (const auto& ref : refs) weights += weightOf(ref);
      Flow base;
      base.front = Front::kMesh;
      base.owner = key;
      for (const auto& ref : refs) {
        const std::string kind = str(ref, "kind");
        if (weights <= 0 || str(ref, "name").empty() || !(kind.empty() || kind == "Service")) continue;
        const std::string ns = str(ref, "namespace").empty() ? key.first : str(ref, "namespace");
        spread(base, {ns, str(ref, "name")}, {}, total * weightOf(ref) / weights);
      }
    }
  }

  // ---- Traefik: a weighted TraefikService's stream split by its Kubernetes Services' weights (1 when
  // unset, as Traefik reads them), each counted under the Service's name as Traefik's Kubernetes CRD
  // provider names it: <namespace>-<service>-<port>@kubernetescrd. A nested TraefikService (kind
  // TraefikService) is not followed.
  void traefik() {
    for (const auto& [key, ts] : all(RouteKind::kTraefikService)) {
      const json& services = field(field(field(ts, "spec"), "weighted"), "services");
      if (!services.is_array()) continue;
      auto weightOf = [](const json& s) {
        return field(s, "weight").is_number() ? weight(field(s, "weight")).value_or(0) : 1.0;
      };
      auto isService = [](const json& s) { return str(s, "kind").empty() || str(s, "kind") == "Service"; };
      double weights = 0;
      for (const auto& s : services) weights += isService(s) ? weightOf(s) : 0;
      const double total = rate(ts, "traefikservice " + key.first + "/" + key.second);
      for (const auto& s : services) {
        if (weights <= 0 || str(s, "name").empty() || !isService(s)) continue;
        const ObjectKey service{str(s, "namespace").empty() ? key.first : str(s, "namespace"),
                                str(s, "name")};
        const json& port = field(s, "port");
        Flow base;
        base.front = Front::kTraefik;
        base.owner = key;
        base.labels = {
            {"service", service.first + "-" + service.second + "-" +
                            (port.is_number_integer() ? std::to_string(port.get<int>()) : str(s, "port")) +
                            "@kubernetescrd"}};
        spread(std::move(base), service, {}, total * weightOf(s) / weights);
      }
    }
  }

  // ---- Every Service no route leads to gets its own stream.
  void services() {
    for (const auto& [key, svc] : state_.services) {
      if (routed_.count(key)) continue;
      Flow base;
      base.owner = key;
      spread(base, key, {}, rate(svc, "service " + key.first + "/" + key.second));
    }
  }

  const RoutingState& state_;
  double defaultRate_;
  std::vector<std::string>& problems_;
  std::vector<Flow> flows_;
  std::set<ObjectKey> routed_;  // Services a route leads to (even at weight 0)
};

}  // namespace

std::vector<Flow> routeTraffic(const RoutingState& state, double defaultRate,
                               std::vector<std::string>& problems) {
  return Router(state, defaultRate, problems).run();
}

}  // namespace sluice::dataplane
