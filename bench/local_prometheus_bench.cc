// The simulator's own Prometheus (sim/local_prometheus.h): how long start() takes until /-/ready (and the
// destructor's stop), and one remote write of 10 series x 120 samples (ten minutes of 5 s samples), wall
// time until Prometheus answers.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <vector>

#include "sim/local_prometheus.h"

namespace {

using sluice::sim::LocalPrometheus;

void BM_StartUntilReady(benchmark::State& state) {
  double stopSeconds = 0;
  for (auto _ : state) {
    auto begin = std::chrono::steady_clock::now();
    auto prometheus = LocalPrometheus::start({});
    auto ready = std::chrono::steady_clock::now();
    if (!prometheus) {
      state.SkipWithError(prometheus.error().c_str());
      break;
    }
    state.SetIterationTime(std::chrono::duration<double>(ready - begin).count());
    prometheus->reset();  // SIGTERM, wait for the exit, remove the directory: reported apart
    stopSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - ready).count();
  }
  state.counters["stop_ms"] = benchmark::Counter(stopSeconds * 1000, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_StartUntilReady)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_Push10SeriesOf120Samples(benchmark::State& state) {
  auto prometheus = LocalPrometheus::start({});
  if (!prometheus) {
    state.SkipWithError(prometheus.error().c_str());
    return;
  }
  constexpr int kSeries = 10;
  constexpr int kSamples = 120;
  constexpr int kStep = 5;
  sluice::Time next = sluice::timeFromUnix(1767225600);  // 2026-01-01T00:00:00Z
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<sluice::sim::Series> batch(kSeries);
    for (int i = 0; i < kSeries; ++i) {
      batch[i].labels = {{"__name__", "bench_requests_total"}, {"pod", "pod-" + std::to_string(i)}};
      for (int k = 0; k < kSamples; ++k)
        batch[i].samples.push_back({next + sluice::Duration(k * kStep), 1.0 * k});
    }
    next += sluice::Duration(kSamples * kStep);  // every push newer than the last, as Prometheus requires
    state.ResumeTiming();
    sluice::Status pushed = (*prometheus)->push(batch);
    if (!pushed.ok()) {
      state.SkipWithError(pushed.error().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kSeries * kSamples);
}
BENCHMARK(BM_Push10SeriesOf120Samples)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
