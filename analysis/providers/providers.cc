// makeProvider(): one registration line per provider; the first whose field is set in the metric measures it.
#include "analysis/providers/providers.h"

#include <array>
#include <exception>
#include <string>

namespace sluice::analysis {
namespace {

struct Registration {
  const char* name;
  bool (*selects)(const MetricProvider&);
  std::unique_ptr<Provider> (*make)();
};

const std::array kRegistrations{
    Registration{"prometheus", [](const MetricProvider& p) { return p.prometheus.has_value(); },
                 &makePrometheusProvider},
    Registration{"web", [](const MetricProvider& p) { return p.web.has_value(); }, &makeWebProvider},
};

class DispatchingProvider final : public Provider {
 public:
  Result<ProviderResult> measure(const Metric& metric, Time at) override {
    return dispatch<ProviderResult>(metric, [&](Provider& p) { return p.measure(metric, at); });
  }
  Result<ProviderResult> resume(const Metric& metric, const Measurement& inFlight, Time at) override {
    return dispatch<ProviderResult>(metric, [&](Provider& p) { return p.resume(metric, inFlight, at); });
  }
  Status terminate(const Metric& metric, const Measurement& inFlight, Time at) override {
    auto ended = dispatch<bool>(metric, [&](Provider& p) -> Result<bool> {
      if (Status st = p.terminate(metric, inFlight, at); !st) return Error{st.error()};
      return true;
    });
    if (!ended) return Error{ended.error()};
    return {};
  }

 private:
  template <typename T, typename Call>
  Result<T> dispatch(const Metric& metric, Call call) {
    for (std::size_t i = 0; i < kRegistrations.size(); ++i) {
      if (!kRegistrations[i].selects(metric.provider)) continue;
      try {
        if (!instances_[i]) instances_[i] = kRegistrations[i].make();
        return call(*instances_[i]);
      } catch (const std::exception&
                   e) {  // a provider should not throw; if one does, it is this measurement's error
        return Error{std::string(kRegistrations[i].name) + " provider failed: " + e.what()};
      }
    }
    if (metric.provider.job) {
      return Error{"metric \"" + metric.name +
                   "\" runs a Job: only the controller runs job metrics, on a cluster (sluice sim takes "
                   "their outcome from the scenario)"};
    }
    std::string known;
    for (const auto& r : kRegistrations) known += (known.empty() ? "" : ", ") + std::string(r.name);
    return Error{"metric \"" + metric.name + "\" names no provider Sluice can measure (" + known + ")"};
  }

  std::array<std::unique_ptr<Provider>, kRegistrations.size()> instances_;
};

}  // namespace

std::unique_ptr<Provider> makeProvider() { return std::make_unique<DispatchingProvider>(); }

}  // namespace sluice::analysis
