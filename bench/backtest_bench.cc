// bench_backtest: `sluice analysis backtest` over 30 days at one-minute resolution (a run starting
// every minute, 43,200 runs) against the test Prometheus holding 31 days of the standard series.
// Budget (docs/design.md §9): under 5 s wall. The history is imported once; each repetition is a whole
// backtest (prefetch included) with a fresh provider, so nothing is reused between repetitions.
#include <benchmark/benchmark.h>

#include <memory>

#include "analysis/backtest.h"
#include "analysis/providers/prefetching_prometheus.h"
#include "analysis/providers/providers.h"
#include "tests/support/prometheus_harness.h"

namespace {

using namespace sluice;

constexpr int kDays = 30;

testing::StandardHistory history() {
  testing::StandardHistory h;
  h.minutes = (kDays + 1) * 1440;
  h.degradeAtMinute = 20 * 1440;  // the last ten days fail
  return h;
}

testing::PrometheusHarness& harness() {
  static testing::PrometheusHarness h([] {
    testing::PrometheusOptions o;
    o.standardHistory = history();
    o.readyTimeout = std::chrono::milliseconds(300000);
    return o;
  }());
  return h;
}

analysis::AnalysisRunSpec errorRateSpec(const std::string& address) {
  analysis::Metric m;
  m.name = "error-ratio";
  m.count = analysis::IntOrString{1, ""};
  m.successCondition = "result[0] < 0.05";
  m.provider.prometheus = analysis::PrometheusMetric{};
  m.provider.prometheus->address = address;
  m.provider.prometheus->query =
      "sum(rate(http_requests_total{service=\"degrading\",code=\"500\"}[5m])) / "
      "sum(rate(http_requests_total{service=\"degrading\"}[5m]))";
  analysis::AnalysisRunSpec spec;
  spec.metrics.push_back(m);
  return spec;
}

void BM_Backtest30DaysEveryMinute(benchmark::State& state) {
  const testing::StandardHistory h = history();
  const analysis::AnalysisRunSpec spec = errorRateSpec(harness().address());
  analysis::BacktestOptions options;
  options.from = h.at(10);  // past the first rate window
  options.to = options.from + std::chrono::hours(24 * kDays) - std::chrono::minutes(1);
  options.every = std::chrono::minutes(1);
  int64_t rangeQueries = 0;
  for (auto _ : state) {
    auto grid = analysis::measurementGrid(spec, options.every);
    auto length = analysis::plannedRunLength(spec, options.maxRun);
    if (!grid || !length) {
      state.SkipWithError("invalid spec");
      return;
    }
    auto real = analysis::makeProvider();
    analysis::PrefetchingPrometheusProvider provider({options.from, options.to + *length, *grid}, *real);
    auto report = analysis::backtest(spec, provider, options);
    if (!report || report->runs.size() != static_cast<size_t>(kDays * 1440) ||
        provider.stats().fromFallback != 0) {
      state.SkipWithError("the backtest did not answer every run from range data");
      return;
    }
    rangeQueries = provider.stats().rangeQueries;
    benchmark::DoNotOptimize(report->totals);
  }
  state.counters["runs"] = kDays * 1440;
  state.counters["rangeQueries"] = static_cast<double>(rangeQueries);
}
BENCHMARK(BM_Backtest30DaysEveryMinute)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
