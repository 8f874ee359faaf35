// The cost a Prometheus measurement adds over the raw HTTP round trip (budget: under 1 ms): against a real
// Prometheus serving the standard history, the same instant query timed as (a) a bare net::HttpClient GET
// and (b) the provider's measure(), which adds URL building, JSON parsing and the result mapping; and (c)
// that parsing and mapping alone on a real answer, the added cost without the network's noise.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>

#include "analysis/providers/prometheus_api.h"
#include "analysis/providers/providers.h"
#include "net/http_client.h"
#include "tests/support/prometheus_harness.h"

namespace {

using sluice::testing::PrometheusHarness;
using sluice::testing::StandardHistory;

const char* kQuery = R"(sum(rate(http_requests_total{service="degrading",code=~"5.."}[5m])) / )"
                     R"(sum(rate(http_requests_total{service="degrading"}[5m])))";

PrometheusHarness* prometheus = nullptr;
StandardHistory history;

void rawHttpGet(benchmark::State& state) {
  sluice::net::HttpClient http;
  sluice::net::Request request;
  request.url = prometheus->address() + "/api/v1/query?query=" + sluice::net::urlEncode(kQuery) +
                "&time=" + std::to_string(sluice::toUnix(history.at(130)));
  for (auto _ : state) {
    auto outcome = http.send(request);
    if (!outcome.ok() || outcome.response().status != 200) {
      state.SkipWithError("the raw query failed");
      break;
    }
    benchmark::DoNotOptimize(outcome);
  }
}

void providerMeasure(benchmark::State& state) {
  auto provider = sluice::analysis::makeProvider();
  sluice::analysis::Metric metric;
  metric.name = "error-ratio";
  metric.provider.prometheus = sluice::analysis::PrometheusMetric{};
  metric.provider.prometheus->address = prometheus->address();
  metric.provider.prometheus->query = kQuery;
  for (auto _ : state) {
    auto result = provider->measure(metric, history.at(130));
    if (!result) {
      state.SkipWithError(result.error().c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
  }
}

// The added work alone, without the network: parsing a real answer of the same query and mapping it.
void parseAndMap(benchmark::State& state) {
  sluice::net::HttpClient http;
  sluice::net::Request request;
  request.url = prometheus->address() + "/api/v1/query?query=" + sluice::net::urlEncode(kQuery) +
                "&time=" + std::to_string(sluice::toUnix(history.at(130)));
  auto outcome = http.send(request);
  if (!outcome.ok()) {
    state.SkipWithError("the raw query failed");
    return;
  }
  const std::string body = outcome.response().body;
  for (auto _ : state) {
    auto parsed = sluice::analysis::parsePrometheusResponse(200, body);
    auto result = sluice::analysis::toProviderResult(*parsed);
    benchmark::DoNotOptimize(result);
  }
}

BENCHMARK(rawHttpGet)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(providerMeasure)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(parseAndMap)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::ostringstream text;
  sluice::testing::writeStandardHistory(text, history);
  try {
    sluice::testing::PrometheusOptions options;
    options.openMetrics = text.str();
    PrometheusHarness harness(options);
    prometheus = &harness;
    benchmark::RunSpecifiedBenchmarks();
  } catch (const std::exception& e) {
    std::cerr << "provider_bench: " << e.what() << "\n";
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
