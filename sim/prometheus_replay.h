// Replays a simulation against a real Prometheus: prometheus metrics are measured by the real provider
// at the real time that virtual time maps to, against one address; other metrics come from elsewhere.
#pragma once

#include <string>

#include "analysis/provider.h"

namespace sluice::sim {

class PrometheusReplayProvider : public analysis::Provider {
 public:
  // `real`: the real providers (analysis/providers/providers.h). `address` replaces every prometheus
  // metric's own. `start` is the real evaluation time of virtual instant `epoch`. `others` answers the
  // metrics that are not prometheus ones (the scenario's). All referenced objects must outlive this.
  PrometheusReplayProvider(analysis::Provider& real, std::string address, Time start, Time epoch,
                           analysis::Provider& others);

  // A prometheus metric: `real`'s measurement of the metric with `address`, as of start + (at - epoch).
  // Any other metric: `others`' measurement at `at`. Blocks for the real query (at most the metric's
  // timeout). Never throws.
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
  analysis::Provider& real_;
  std::string address_;
  Time start_;
  Time epoch_;
  analysis::Provider& others_;
};

}  // namespace sluice::sim
