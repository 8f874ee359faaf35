// The simulated data plane's routing: where each front sends its requests, pod by pod, as ingress-nginx,
// Istio, SMI, Gateway API and Traefik document it, and under which labels.
#include <catch2/catch.hpp>
#include <set>

#include "dataplane/routes.h"
#include "dataplane/series.h"

using nlohmann::json;
using namespace sluice::dataplane;

namespace {

json service(const json& selector, const json& annotations = json::object()) {
  return {{"metadata", {{"annotations", annotations}}}, {"spec", {{"selector", selector}}}};
}

// Two Services over app=web pods: web-stable selecting revision a, web-canary revision b (as the Rollout
// controller points them), and web selecting both.
RoutingState webState(int stablePods, int canaryPods, int canaryNotReady = 0) {
  RoutingState s;
  s.services[{"default", "web-stable"}] = service({{"app", "web"}, {"rev", "a"}});
  s.services[{"default", "web-canary"}] = service({{"app", "web"}, {"rev", "b"}});
  s.services[{"default", "web"}] = service({{"app", "web"}});
  for (int i = 0; i < stablePods; ++i)
    s.pods[{"default", "web-a-" + std::to_string(i)}] = {{{"app", "web"}, {"rev", "a"}}, "web", true};
  for (int i = 0; i < canaryPods + canaryNotReady; ++i)
    s.pods[{"default", "web-b-" + std::to_string(i)}] = {
        {{"app", "web"}, {"rev", "b"}}, "web", i < canaryPods};
  return s;
}

json ingress(const std::string& backend, const json& annotations = json::object()) {
  return {
      {"metadata", {{"annotations", annotations}}},
      {"spec",
       {{"rules",
         json::array(
             {{{"host", "web.example.com"},
               {"http",
                {{"paths",
                  json::array({{{"path", "/"},
                                {"pathType", "Prefix"},
                                {"backend",
                                 {{"service", {{"name", backend}, {"port", {{"number", 80}}}}}}}}})}}}}})}}}};
}

std::string label(const Flow& f, const std::string& name) {
  for (const auto& [k, v] : f.labels) {
    if (k == name) return v;
  }
  return "<none>";
}

// Requests a second per Service (flows of `front` only), and the 503s the front answers itself.
std::map<std::string, double> perService(const std::vector<Flow>& flows, Front front) {
  std::map<std::string, double> out;
  for (const auto& f : flows) {
    if (f.front != front) continue;
    out[f.pod.empty() ? f.service + ":" + std::to_string(f.status) : f.service] += f.requestsPerSecond;
  }
  return out;
}

std::vector<Flow> route(const RoutingState& s, double rate = 50) {
  std::vector<std::string> problems;
  auto flows = routeTraffic(s, rate, problems);
  INFO(problems.size());
  CHECK(problems.empty());
  return flows;
}

}  // namespace

TEST_CASE("data plane routing: ingress-nginx splits a host between the stable and the canary Ingress",
          "[apiserver][data-plane][routing]") {
  struct Row {
    const char* name;
    json canaryAnnotations;
    double stable, canary;
  };
  const std::vector<Row> rows = {
      {"canary-weight 20 of 100",
       {{"nginx.ingress.kubernetes.io/canary", "true"}, {"nginx.ingress.kubernetes.io/canary-weight", "20"}},
       40,
       10},
      {"canary-weight-total 200",
       {{"nginx.ingress.kubernetes.io/canary", "true"},
        {"nginx.ingress.kubernetes.io/canary-weight", "50"},
        {"nginx.ingress.kubernetes.io/canary-weight-total", "200"}},
       37.5,
       12.5},
      {"another annotation prefix",
       {{"custom.nginx.org/canary", "true"}, {"custom.nginx.org/canary-weight", "100"}},
       0,
       50},
      {"no weight: header routes only, which plain requests never match",
       {{"nginx.ingress.kubernetes.io/canary", "true"},
        {"nginx.ingress.kubernetes.io/canary-by-header", "X-Canary"}},
       50,
       0},
      {"canary not \"true\": a second stable Ingress of the host",
       {{"nginx.ingress.kubernetes.io/canary", "false"}, {"nginx.ingress.kubernetes.io/canary-weight", "20"}},
       25,
       25},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    RoutingState s = webState(2, 1);
    s.routes[RouteKind::kIngress][{"default", "web"}] = ingress("web-stable");
    s.routes[RouteKind::kIngress][{"default", "web-web-canary"}] =
        ingress("web-canary", row.canaryAnnotations);
    const auto flows = route(s);
    auto split = perService(flows, Front::kNginx);
    CHECK(split["web-stable"] == Approx(row.stable));
    CHECK(split["web-canary"] == Approx(row.canary));
    // Routed Services get no stream of their own; the unrouted one does.
    auto own = perService(flows, Front::kService);
    CHECK(own.count("web-stable") == 0);
    CHECK(own.count("web-canary") == 0);
    CHECK(own["web"] == Approx(50));
  }

  // The labels: ingress and service are the stable Ingress's; canary names the canary upstream.
  RoutingState s = webState(2, 1);
  s.routes[RouteKind::kIngress][{"default", "web"}] = ingress("web-stable");
  s.routes[RouteKind::kIngress][{"default", "web-web-canary"}] = ingress(
      "web-canary",
      {{"nginx.ingress.kubernetes.io/canary", "true"}, {"nginx.ingress.kubernetes.io/canary-weight", "20"}});
  int seen = 0;
  for (const auto& f : route(s)) {
    if (f.front != Front::kNginx) continue;
    ++seen;
    INFO(f.pod);
    CHECK(f.owner == ObjectKey{"default", "web"});
    CHECK(label(f, "ingress") == "web");
    CHECK(label(f, "service") == "web-stable");
    CHECK(label(f, "host") == "web.example.com");
    CHECK(label(f, "path") == "/");
    CHECK(label(f, "canary") == (f.service == "web-canary" ? "default-web-canary-80" : ""));
    CHECK(f.requestsPerSecond == Approx(f.service == "web-canary" ? 10 : 20));  // spread over ready pods
  }
  CHECK(seen == 3);
}

TEST_CASE("data plane routing: a routed Service without a ready pod gets the front's 503",
          "[apiserver][data-plane][routing]") {
  RoutingState s = webState(2, 0, /*canaryNotReady=*/1);
  s.routes[RouteKind::kIngress][{"default", "web"}] = ingress("web-stable");
  s.routes[RouteKind::kIngress][{"default", "web-web-canary"}] = ingress(
      "web-canary",
      {{"nginx.ingress.kubernetes.io/canary", "true"}, {"nginx.ingress.kubernetes.io/canary-weight", "30"}});
  auto split = perService(route(s), Front::kNginx);
  CHECK(split["web-stable"] == Approx(35));
  CHECK(split["web-canary:503"] == Approx(15));
  CHECK(split.count("web-canary") == 0);
}

TEST_CASE("data plane routing: Istio by host, by subset, with a header route and a mirror",
          "[apiserver][data-plane][routing][istio]") {
  const json headerRoute = {{"name", "canary-by-header"},
                            {"match", json::array({{{"headers", {{"x-canary", {{"exact", "yes"}}}}}}})},
                            {"route", json::array({{{"destination", {{"host", "web-canary"}}}}})}};
  SECTION("host-level: the weights of the first route a plain request matches") {
    RoutingState s = webState(2, 1);
    s.routes[RouteKind::kVirtualService][{"default", "web"}] = {
        {"spec",
         {{"hosts", {"web.example.com"}},
          {"http",
           json::array(
               {headerRoute,
                {{"name", "primary"},
                 {"route", json::array({{{"destination", {{"host", "web-stable"}}}, {"weight", 70}},
                                        {{"destination", {{"host", "web-canary.default.svc.cluster.local"}}},
                                         {"weight", 30}}})}}})}}}};
    const auto flows = route(s);
    auto split = perService(flows, Front::kIstio);
    CHECK(split["web-stable"] == Approx(35));
    CHECK(split["web-canary"] == Approx(15));
    for (const auto& f : flows) {
      if (f.front != Front::kIstio) continue;
      CHECK(label(f, "destination_service") == f.service + ".default.svc.cluster.local");
      CHECK(label(f, "destination_service_name") == f.service);
      CHECK(label(f, "destination_service_namespace") == "default");
      CHECK(label(f, "response_flags") == "-");
    }
  }
  SECTION("subset-level: the DestinationRule's subsets pick the pods; an unknown subset is no route") {
    RoutingState s = webState(2, 1);
    s.routes[RouteKind::kDestinationRule][{"default", "web"}] = {
        {"spec",
         {{"host", "web"},
          {"subsets", json::array({{{"name", "stable"}, {"labels", {{"rev", "a"}}}},
                                   {{"name", "canary"}, {"labels", {{"rev", "b"}}}}})}}}};
    s.routes[RouteKind::kVirtualService][{"default", "web"}] = {
        {"spec",
         {{"http",
           json::array(
               {{{"route",
                  json::array(
                      {{{"destination", {{"host", "web"}, {"subset", "stable"}}}, {"weight", 80}},
                       {{"destination", {{"host", "web"}, {"subset", "canary"}}}, {"weight", 10}},
                       {{"destination", {{"host", "web"}, {"subset", "gone"}}}, {"weight", 10}}})}}})}}}};
    std::map<std::string, double> perPod;
    double noRoute = 0;
    for (const auto& f : route(s)) {
      if (f.front != Front::kIstio) continue;
      if (f.pod.empty()) {
        CHECK(f.status == 503);
        CHECK(label(f, "response_flags") == "NR");
        noRoute += f.requestsPerSecond;
      }
      perPod[f.pod] += f.requestsPerSecond;
    }
    CHECK(perPod["web-a-0"] == Approx(20));
    CHECK(perPod["web-a-1"] == Approx(20));
    CHECK(perPod["web-b-0"] == Approx(5));
    CHECK(noRoute == Approx(5));
  }
  SECTION("a mirror gets a copy of mirrorPercentage, marked mirrored") {
    RoutingState s = webState(2, 1);
    s.routes[RouteKind::kVirtualService][{"default", "web"}] = {
        {"spec",
         {{"http", json::array({{{"route", json::array({{{"destination", {{"host", "web-stable"}}}}})},
                                 {"mirror", {{"host", "web-canary"}}},
                                 {"mirrorPercentage", {{"value", 40.0}}}}})}}}};
    double mirrored = 0, served = 0;
    for (const auto& f : route(s)) {
      if (f.front != Front::kIstio) continue;
      (f.mirrored ? mirrored : served) += f.requestsPerSecond;
      CHECK(f.mirrored == (f.service == "web-canary"));
    }
    CHECK(served == Approx(50));
    CHECK(mirrored == Approx(20));
  }
}

TEST_CASE("data plane routing: SMI TrafficSplit and Gateway API HTTPRoute weights",
          "[apiserver][data-plane][routing]") {
  SECTION("TrafficSplit: integer weights (v1alpha2) and quantities (v1alpha1)") {
    for (const json& weights : {json::array({80, 20}), json::array({"800m", "200m"})}) {
      INFO(weights.dump());
      RoutingState s = webState(2, 1);
      s.routes[RouteKind::kTrafficSplit][{"default", "web"}] = {
          {"spec",
           {{"service", "web"},
            {"backends", json::array({{{"service", "web-stable"}, {"weight", weights[0]}},
                                      {{"service", "web-canary"}, {"weight", weights[1]}}})}}}};
      const auto flows = route(s);
      auto split = perService(flows, Front::kMesh);
      CHECK(split["web-stable"] == Approx(40));
      CHECK(split["web-canary"] == Approx(10));
      // The root Service is reached through the split only.
      CHECK(perService(flows, Front::kService).count("web") == 0);
    }
  }
  SECTION("HTTPRoute: the first rule a plain request matches, backendRef weights defaulting to 1") {
    RoutingState s = webState(2, 1);
    s.routes[RouteKind::kHttpRoute][{"default", "web"}] = {
        {"spec",
         {{"rules",
           json::array({{{"matches", json::array({{{"headers", json::array({{{"name", "x-canary"},
                                                                             {"value", "yes"}}})}}})},
                         {"backendRefs", json::array({{{"name", "web-canary"}, {"port", 80}}})}},
                        {{"backendRefs", json::array({{{"name", "web-stable"}, {"port", 80}, {"weight", 3}},
                                                      {{"name", "web-canary"}, {"port", 80}}})}}})}}}};
    auto split = perService(route(s), Front::kMesh);
    CHECK(split["web-stable"] == Approx(37.5));
    CHECK(split["web-canary"] == Approx(12.5));
  }
}

TEST_CASE(
    "data plane routing: a weighted TraefikService splits by its Services' weights, named as Traefik names "
    "them",
    "[apiserver][data-plane][routing][traefik]") {
  RoutingState s = webState(2, 1);
  s.routes[RouteKind::kTraefikService][{"default", "web-wrr"}] = {
      {"spec",
       {{"weighted",
         {{"services",
           json::array({{{"name", "web-stable"}, {"port", 80}, {"weight", 70}},
                        {{"name", "web-canary"}, {"port", "http"}, {"weight", 30}},
                        {{"name", "other-wrr"}, {"kind", "TraefikService"}, {"weight", 100}}})}}}}}};
  const auto flows = route(s);
  // The nested TraefikService is not followed and takes no share; 50 requests a second split 70:30.
  auto split = perService(flows, Front::kTraefik);
  CHECK(split["web-stable"] == Approx(35));
  CHECK(split["web-canary"] == Approx(15));
  std::set<std::string> names;
  for (const auto& f : flows)
    if (f.front == Front::kTraefik) names.insert(label(f, "service"));
  CHECK(names == std::set<std::string>{"default-web-canary-http@kubernetescrd",
                                       "default-web-stable-80@kubernetescrd"});
  // The Services behind it get no stream of their own.
  CHECK(perService(flows, Front::kService).count("web-stable") == 0);

  // Counted under Traefik's service metrics: code, method, protocol and service, the canary answering a
  // fifth of its requests with 500.
  std::map<ObjectKey, PodAnswers> answers;
  for (const auto& [key, pod] : s.pods) {
    PodAnswers a;
    a.errorRate = key.second.starts_with("web-b") ? 0.2 : 0.0;
    answers[key] = a;
  }
  Counters counters;
  counters.add(flows, answers, 10);
  auto count = [&](Family family, const std::string& service, const std::string& code) {
    const Labels labels = {{"code", code}, {"method", "GET"}, {"protocol", "http"}, {"service", service}};
    auto it = counters.series().find({family, labels});
    return it == counters.series().end() ? -1.0 : it->second.count;
  };
  CHECK(familyInfo(kTraefikRequests).name == std::string("traefik_service_requests_total"));
  CHECK(count(kTraefikRequests, "default-web-canary-http@kubernetescrd", "200") == Approx(120));
  CHECK(count(kTraefikRequests, "default-web-canary-http@kubernetescrd", "500") == Approx(30));
  CHECK(count(kTraefikRequests, "default-web-stable-80@kubernetescrd", "200") == Approx(350));
  CHECK(count(kTraefikDuration, "default-web-stable-80@kubernetescrd", "200") == Approx(350));

  SECTION("weights left out count 1 each, as Traefik reads them") {
    for (auto& entry :
         s.routes[RouteKind::kTraefikService][{"default", "web-wrr"}]["spec"]["weighted"]["services"])
      entry.erase("weight");
    auto even = perService(route(s), Front::kTraefik);
    CHECK(even["web-stable"] == Approx(25));
    CHECK(even["web-canary"] == Approx(25));
  }
}

TEST_CASE("data plane routing: rates come from the objects' annotation, an unreadable one is reported",
          "[apiserver][data-plane][routing]") {
  RoutingState s = webState(1, 0);
  s.services[{"default", "web"}] = service({{"app", "web"}}, {{kRequestsPerSecondAnnotation, "7"}});
  s.services[{"default", "web-stable"}] =
      service({{"app", "web"}, {"rev", "a"}}, {{kRequestsPerSecondAnnotation, "lots"}});
  json vs = {
      {"metadata", {{"annotations", {{kRequestsPerSecondAnnotation, "120"}}}}},
      {"spec",
       {{"http", json::array({{{"route", json::array({{{"destination", {{"host", "web-canary"}}}}})}}})}}}};
  s.routes[RouteKind::kVirtualService][{"default", "web"}] = vs;
  std::vector<std::string> problems;
  const auto flows = routeTraffic(s, 50, problems);
  auto own = perService(flows, Front::kService);
  CHECK(own["web"] == Approx(7));
  CHECK(own["web-stable"] == Approx(50));
  CHECK(perService(flows, Front::kIstio)["web-canary:503"] == Approx(120));  // no canary pod
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Catch::Contains("service default/web-stable") &&
                              Catch::Contains(kRequestsPerSecondAnnotation) && Catch::Contains("\"lots\""));
}
