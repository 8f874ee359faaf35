// The embedded cluster's simulated data plane, first piece: synthetic requests to every Service, spread
// over the ready pods it selects, counted as the real data planes count them, for a real Prometheus to
// scrape from /metrics. The analysis then runs against Prometheus exactly as in production.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/result.h"

namespace sluice::apiserver {

class Registry;

struct DataPlaneOptions {
  // Requests a second per routed host and per Service no route leads to, unless annotated
  // (traffic_routes.h).
  double requestsPerSecond = 50;
  // Where /metrics is served ("HOST:PORT", ":PORT"; port 0: a free one); nullopt: not served, scrape() only.
  std::optional<std::string> metricsAddress;
};

// The traffic model. Every routing object in force sends its stream (traffic_routes.h): a stable
// Ingress's host through ingress-nginx (the canary Ingress of the same host and path taking its
// canary-weight), a VirtualService through Istio, a TrafficSplit and an HTTPRoute by their backends'
// weights; every Service that no route leads to gets a stream of its own. A stream reaching a Service is
// spread evenly over the pods it selects that are Ready (as the workload controllers mark them) and not
// being deleted; with none, the front answers 503 itself. A pod answers the fraction of its requests
// given by its cluster.sluice.dev/error-rate annotation with 500, the rest with 200, taking from half to
// one and a half times its cluster.sluice.dev/latency (spread evenly). Counts are integrated over the
// clock's monotonic time (requests += rate * dt), moving to "now" before every change and at every
// scrape, so they are exact given the times of those changes (and fractional).
//
// Series, with the names and labels of the data planes they stand for:
// - http_requests_total{namespace, service, pod, pod_template_hash, code}: every request a pod answers
//   (pod_template_hash: the pod's sluice.dev/pod-template-hash label, empty without one); they go with
//   the pod or the Service.
// - ingress-nginx's nginx_ingress_controller_requests and nginx_ingress_controller_request_duration_seconds
//   (histogram) {controller_class, controller_namespace, controller_pod, host, ingress, method, namespace,
//   path, service, status, canary}: ingress and service are the stable Ingress's and its backend's, canary
//   is the canary upstream ("<namespace>-<service>-<port>") for requests the canary Ingress took, else "".
// - Istio's istio_requests_total and istio_request_duration_milliseconds (histogram), reporter "source"
//   (the ingress gateway's sidecar) and "destination" (the pod's; mirrored copies only there), with
//   destination_service{,_name,_namespace}, destination_workload{,_namespace}, destination_version,
//   destination_canonical_service, destination_canonical_revision, response_code, response_flags, ...
// The nginx and Istio series go with their Ingress or VirtualService.
class DataPlane {
 public:
  // Watches Services, Pods and the routing objects of every namespace in `registry` (the objects stored
  // are picked up at once; kinds whose CRD comes later, once it does) and, when options.metricsAddress is
  // set, serves GET /metrics. `registry` and `clock` must outlive the data plane.
  // Errors: the watch could not start, or the port could not be bound.
  static Result<std::unique_ptr<DataPlane>> start(Registry& registry, const Clock& clock,
                                                  const DataPlaneOptions& options);
  DataPlane(const DataPlane&) = delete;
  DataPlane& operator=(const DataPlane&) = delete;
  // Stops serving and the watches.
  ~DataPlane();

  // The counters as of the clock's now, in Prometheus' text exposition format. Thread-safe.
  std::string scrape() const;
  // The bound /metrics port; 0 when not served.
  int port() const;

 private:
  struct Impl;
  explicit DataPlane(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::apiserver
