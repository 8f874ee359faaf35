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
    for (std::size_t i = 0; i < kRegistrations.size(); ++i) {
      if (!kRegistrations[i].selects(metric.provider)) continue;
      try {
        if (!instances_[i]) instances_[i] = kRegistrations[i].make();
        return instances_[i]->measure(metric, at);
      } catch (const std::exception&
                   e) {  // a provider should not throw; if one does, it is this measurement's error
        return Error{std::string(kRegistrations[i].name) + " provider failed: " + e.what()};
      }
    }
    std::string known;
    for (const auto& r : kRegistrations) known += (known.empty() ? "" : ", ") + std::string(r.name);
    return Error{"metric \"" + metric.name + "\" names no provider Sluice can measure (" + known + ")"};
  }

 private:
  std::array<std::unique_ptr<Provider>, kRegistrations.size()> instances_;
};

}  // namespace

std::unique_ptr<Provider> makeProvider() { return std::make_unique<DispatchingProvider>(); }

}  // namespace sluice::analysis
