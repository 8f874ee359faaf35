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

// A Service annotation: the requests a second the Service receives (a number >= 0), instead of the
// default. A value that is not such a number is ignored (the default applies) and logged once.
inline constexpr const char* kRequestsPerSecondAnnotation = "cluster.sluice.dev/requests-per-second";

struct DataPlaneOptions {
  double requestsPerSecond = 10;  // per Service, unless annotated
  // Where /metrics is served on 127.0.0.1 (0: a free port); nullopt: not served, scrape() only.
  std::optional<int> port;
};

// The traffic model. Each Service receives requestsPerSecond, spread evenly over the pods its
// spec.selector matches in its namespace that are Ready (as the workload controllers mark them) and not
// being deleted. A pod answers the fraction of its requests given by its cluster.sluice.dev/error-rate
// annotation (workloads.h) with 500, the rest with 200. Counts are integrated over the clock's monotonic
// time (requests += rate * dt), moving to "now" before every change of a Service or pod and at every
// scrape, so they are exact given the times of those changes. A deleted pod's or Service's series go.
//
// Series: http_requests_total{namespace, service, pod, pod_template_hash, code}, a counter (fractional:
// the model's request counts are real numbers); pod_template_hash is the pod's sluice.dev/pod-template-hash
// label, empty without one.
class DataPlane {
 public:
  // Watches Services and Pods of every namespace in `registry` (the objects stored are picked up at once)
  // and, when options.port is set, serves GET /metrics. `registry` and `clock` must outlive the data plane.
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
