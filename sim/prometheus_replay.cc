// Virtual time onto real time, and one Prometheus address for every prometheus metric.
#include "sim/prometheus_replay.h"

namespace sluice::sim {

PrometheusReplayProvider::PrometheusReplayProvider(analysis::Provider& real, std::string address, Time start,
                                                   Time epoch, analysis::Provider& others)
    : real_(real), address_(std::move(address)), start_(start), epoch_(epoch), others_(others) {}

Result<analysis::ProviderResult> PrometheusReplayProvider::measure(const analysis::Metric& metric, Time at) {
  if (!metric.provider.prometheus) return others_.measure(metric, at);
  analysis::Metric replayed = metric;
  replayed.provider.prometheus->address = address_;
  return real_.measure(replayed, start_ + (at - epoch_));
}

}  // namespace sluice::sim
