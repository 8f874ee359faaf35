// The simulated data plane's routing, pure: from the Services, pods and routing objects in force (Ingresses
// as ingress-nginx reads them, Istio VirtualServices and DestinationRules, SMI TrafficSplits, Gateway API
// HTTPRoutes, Traefik's weighted TraefikServices), where each synthetic request stream goes, pod by pod, and
// under which data plane's names.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace sluice::dataplane {

// The routing objects' resources as the data plane knows them: (API group, plural resource) of each kind,
// a kind served under two groups (Traefik's old and new) listed twice.
enum class RouteKind {
  kIngress,
  kVirtualService,
  kDestinationRule,
  kTrafficSplit,
  kHttpRoute,
  kTraefikService
};
struct RouteResource {
  RouteKind kind;
  const char* group;
  const char* resource;
};
inline constexpr RouteResource kRouteResources[] = {
    {RouteKind::kIngress, "networking.k8s.io", "ingresses"},
    {RouteKind::kVirtualService, "networking.istio.io", "virtualservices"},
    {RouteKind::kDestinationRule, "networking.istio.io", "destinationrules"},
    {RouteKind::kTrafficSplit, "split.smi-spec.io", "trafficsplits"},
    {RouteKind::kHttpRoute, "gateway.networking.k8s.io", "httproutes"},
    {RouteKind::kTraefikService, "traefik.io", "traefikservices"},
    {RouteKind::kTraefikService, "traefik.containo.us", "traefikservices"},
};

// An annotation on a Service (its own stream) or on a routing object (the stream of the hosts it routes):
// the requests a second, instead of the data plane's default.
inline constexpr const char* kRequestsPerSecondAnnotation = "cluster.sluice.dev/requests-per-second";

// What routing needs of a pod.
struct RoutedPod {
  std::map<std::string, std::string> labels;
  std::string workload;  // its controller's name without the pod-template-hash suffix (as Istio names it)
  bool ready = false;    // Ready and not being deleted
};

using ObjectKey = std::pair<std::string, std::string>;  // (namespace, name)

// Everything the routing reads. Routing objects are held as stored (any served version).
struct RoutingState {
  std::map<ObjectKey, nlohmann::json> services;
  std::map<ObjectKey, RoutedPod> pods;
  std::map<RouteKind, std::map<ObjectKey, nlohmann::json>> routes;
};

// Whose names a stream's requests are counted under, besides the per-pod http_requests_total.
enum class Front {
  kService,  // a Service's own stream: none
  kNginx,    // nginx_ingress_controller_requests and _request_duration_seconds
  kIstio,    // istio_requests_total and istio_request_duration_milliseconds
  kTraefik,  // traefik_service_requests_total and _request_duration_seconds
  kMesh,     // SMI and Gateway API: none (their data planes' names differ per implementation)
};

// One share of a stream: `requestsPerSecond` sent through `front` to one pod, or answered by the front
// itself with `status` (no pod: no ready endpoint, or no such route) when `pod` is empty.
struct Flow {
  Front front = Front::kService;
  ObjectKey owner;         // the routing object (or Service) whose stream this is
  std::string namespace_;  // of the Service and the pod
  std::string service;     // the Service the request reached the pod through
  std::string pod;         // empty: answered by the front
  int status = 0;          // the front's own answer when `pod` is empty (503)
  double requestsPerSecond = 0;
  bool mirrored = false;  // a mirrored copy: seen by the destination only
  // The front's labels that routing decides (nginx: ingress, host, path, service, canary; Istio:
  // destination_service*, response_flags; Traefik: service); the rest come from the pod and the answer.
  std::vector<std::pair<std::string, std::string>> labels;
};

// Where every stream goes now. `defaultRate`: requests a second per routed host (per stable Ingress host,
// VirtualService, TrafficSplit, HTTPRoute or TraefikService) and per Service that no route leads to, unless
// annotated. Problems a person should see (an unreadable annotation) are appended to `problems`, once per
// call.
std::vector<Flow> routeTraffic(const RoutingState& state, double defaultRate,
                               std::vector<std::string>& problems);

}  // namespace sluice::dataplane
