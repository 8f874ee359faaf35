// A scenario's spec.traffic: the embedded cluster's simulated data plane run beside a simulation. The
// Services and routing objects of the input files take the writes the controller would make (Service
// selectors, the real router's weights), the ready pods of each revision answer as their pod template (or
// the scenario) says, and the series are counted over virtual time exactly as the cluster counts them
// (dataplane/), sampled at every scrape interval, and written to a real Prometheus so that the analyses'
// PromQL is evaluated by Prometheus itself at virtual instants.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analysis/provider.h"
#include "base/result.h"
#include "base/time.h"
#include "dataplane/routes.h"
#include "dataplane/series.h"
#include "engine/canary.h"
#include "engine/rollout.h"
#include "sim/local_prometheus.h"
#include "sim/scenario.h"

namespace sluice::traffic {
class Router;
}

namespace sluice::sim {

class SimulatedWorld;

class SimDataPlane {
 public:
  // `objects`: the input files' Services, Ingresses, VirtualServices, DestinationRules, TrafficSplits,
  // HTTPRoutes and TraefikServices (others are ignored). Counting starts at `start`. An error: the Rollout's
  // router cannot be built.
  static Result<std::unique_ptr<SimDataPlane>> create(const engine::Rollout& rollout,
                                                      const std::vector<nlohmann::json>& objects,
                                                      const TrafficSpec& spec, Time start);
  ~SimDataPlane();

  // Counts the streams as they stood since the last instant, up to `now`, taking a sample of every series
  // at each scrape instant on the way.
  void advanceTo(Time now);
  // Routes afresh from the world as it stands at `now`: the Service selectors and traffic weights it
  // holds (put on the objects by the real router, as the controller would), and its ready pods. An error:
  // the router refused the objects (a stable Ingress missing from the input files, say).
  Status refresh(const SimulatedWorld& world, Time now);
  // The samples taken since the last call, as Prometheus series.
  std::vector<Series> takeSamples();

 private:
  SimDataPlane() = default;

  engine::Rollout rollout_;
  TrafficSpec spec_;
  std::string namespace_;
  std::unique_ptr<traffic::Router> router_;
  std::map<std::pair<std::string, std::string>, nlohmann::json> objects_;  // (kind, name)
  std::set<std::string> createdServices_;  // of objects_: the Experiments' Services, taken from the world
  std::optional<engine::TrafficInForce> weightsApplied_;
  std::vector<dataplane::Flow> flows_;
  std::map<dataplane::ObjectKey, dataplane::PodAnswers> answers_;
  dataplane::Counters counters_;
  Time counted_{};
  Time nextSample_{};
  std::map<std::map<std::string, std::string>, std::vector<Sample>> pending_;
};

// Measures prometheus metrics on `prometheus` at the virtual instant asked for, after writing the data
// plane's samples up to it there; other metrics are `others`' to measure. `real` is the Prometheus
// provider (analysis/providers). All must outlive it.
class TrafficMetricsProvider final : public analysis::Provider {
 public:
  TrafficMetricsProvider(SimDataPlane& dataPlane, LocalPrometheus& prometheus, analysis::Provider& real,
                         analysis::Provider& others)
      : dataPlane_(dataPlane), prometheus_(prometheus), real_(real), others_(others) {}
  Result<analysis::ProviderResult> measure(const analysis::Metric& metric, Time at) override;
  // Only `others` leaves measurements in flight (a job metric).
  Result<analysis::ProviderResult> resume(const analysis::Metric& metric,
                                          const analysis::Measurement& inFlight, Time at) override {
    return others_.resume(metric, inFlight, at);
  }
  Status terminate(const analysis::Metric& metric, const analysis::Measurement& inFlight, Time at) override {
    return others_.terminate(metric, inFlight, at);
  }

 private:
  SimDataPlane& dataPlane_;
  LocalPrometheus& prometheus_;
  analysis::Provider& real_;
  analysis::Provider& others_;
};

}  // namespace sluice::sim
