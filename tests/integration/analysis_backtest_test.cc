// Backtests and the simulator against a real Prometheus over the standard history: the degrading
// service's runs fail from the known minute, batched (range-query) answers equal instant-query answers
// measurement by measurement, and `sluice sim --prometheus` aborts where the history says.
#include <catch2/catch.hpp>
#include <fstream>

#include "analysis/backtest.h"
#include "analysis/providers/prefetching_prometheus.h"
#include "analysis/providers/providers.h"
#include "analysis/run_driver.h"
#include "base/source.h"
#include "tests/support/process.h"
#include "tests/support/prometheus_harness.h"

using namespace sluice;
using namespace sluice::analysis;

namespace {

const testing::StandardHistory kHistory{};  // 180 minutes, degrading from minute 120

testing::PrometheusHarness& prometheus() {
  static testing::PrometheusHarness h([] {
    testing::PrometheusOptions o;
    o.standardHistory = kHistory;
    return o;
  }());
  return h;
}

Metric promMetric(const std::string& name, const std::string& query, const std::string& success,
                  const std::string& failure = "") {
  Metric m;
  m.name = name;
  m.successCondition = success;
  m.failureCondition = failure;
  m.provider.prometheus = PrometheusMetric{};
  m.provider.prometheus->address = prometheus().address();
  m.provider.prometheus->query = query;
  return m;
}

std::string errorRatio(const std::string& service) {
  return "sum(rate(http_requests_total{service=\"" + service +
         "\",code=\"500\"}[5m])) / sum(rate(http_requests_total{service=\"" + service + "\"}[5m]))";
}

AnalysisRunSpec errorRateSpec(const std::string& service) {
  Metric m = promMetric("error-ratio", errorRatio(service), "result[0] < 0.05");
  m.interval = "1m";
  m.count = IntOrString{3, ""};
  AnalysisRunSpec spec;
  spec.metrics.push_back(m);
  return spec;
}

BacktestReport runBacktest(const AnalysisRunSpec& spec, const BacktestOptions& options,
                           PrefetchingPrometheusProvider::Stats* stats = nullptr) {
  auto grid = measurementGrid(spec, options.every);
  REQUIRE(grid);
  auto length = plannedRunLength(spec, options.maxRun);
  REQUIRE(length);
  auto real = makeProvider();
  PrefetchingPrometheusProvider provider({options.from, options.to + *length, *grid}, *real);
  auto report = backtest(spec, provider, options);
  INFO(prometheus().log());
  REQUIRE(report);
  if (stats) *stats = provider.stats();
  return *report;
}

// Every measurement of a run played from `start`: metric, phase, value, message.
std::vector<std::string> measurements(const AnalysisRunSpec& spec, Provider& provider, Time start) {
  RunDriver driver(spec, provider);
  Time t = start;
  for (int i = 0; i < 1000; ++i) {
    auto next = driver.advance(t);
    if (!next) break;
    t = *next;
  }
  std::vector<std::string> out;
  for (const auto& m : driver.history()) {
    out.push_back(m.metric + " " + phaseName(m.measurement.phase) + " " + m.measurement.value + " " +
                  m.measurement.message + " at " + formatRfc3339(*m.measurement.startedAt));
  }
  out.push_back(std::string("run ") + phaseName(driver.status().phase));
  return out;
}

}  // namespace

TEST_CASE("backtest: the degrading service's runs fail from the known minute, with exact totals",
          "[integration][prometheus][backtest]") {
  BacktestOptions options;
  options.from = kHistory.at(15);
  options.to = kHistory.at(165);
  options.every = std::chrono::minutes(10);
  PrefetchingPrometheusProvider::Stats stats;
  const BacktestReport report = runBacktest(errorRateSpec("degrading"), options, &stats);
  REQUIRE(report.runs.size() == 16);
  for (const auto& run : report.runs) {
    const int64_t minute = (run.start - kHistory.start).count() / 60;
    INFO("start minute " << minute << ": " << phaseName(run.phase) << " " << run.message);
    if (minute < 120) {
      // Measures at +0, +1m, +2m: every 5-minute window ends before the degradation.
      CHECK(run.phase == Phase::Successful);
      CHECK(run.endedAt == run.start + Duration{120});
    } else {
      // The first measurement sees a 10% error ratio and fails the run at once.
      CHECK(run.phase == Phase::Failed);
      CHECK(run.endedAt == run.start);
    }
  }
  CHECK(report.totals.at(Phase::Successful) == 11);  // 15, 25, ..., 115
  CHECK(report.totals.at(Phase::Failed) == 5);       // 125, ..., 165
  CHECK(stats.fromFallback == 0);
  CHECK(stats.typeProbes == 1);
  CHECK(stats.rangeQueries == 1);

  const BacktestReport healthy = runBacktest(errorRateSpec("healthy"), options);
  CHECK(healthy.totals.at(Phase::Successful) == 16);
}

TEST_CASE("backtest: batched answers equal instant-query answers, measurement by measurement",
          "[integration][prometheus][backtest]") {
  struct Row {
    const char* behaviour;
    Metric metric;
  };
  // Gaps in flaky_gauge (minutes 20-40 of each hour) give empty vectors, minute 45 a NaN.
  std::vector<Row> rows = {
      {"a vector across the degradation", promMetric("ratio", errorRatio("degrading"), "result[0] < 0.05")},
      {"a scalar", promMetric("scalar", "scalar(" + errorRatio("degrading") + ")", "result < 0.05")},
      {"gaps and NaN",
       promMetric("flaky", "flaky_gauge{service=\"flaky\"}", "result[0] == 0.5", "isNaN(result[0])")},
      {"histogram_quantile",
       promMetric("p99",
                  "histogram_quantile(0.99, sum by (le) "
                  "(rate(http_request_duration_seconds_bucket{service=\"healthy\"}[5m])))",
                  "all(result, # < 0.9)")},
      {"several series",
       promMetric("by-code", "sum by (code) (rate(http_requests_total{service=\"degrading\"}[5m]))",
                  "len(result) == 2 && min(result) > 0")},
  };
  for (auto& row : rows) {
    row.metric.interval = "1m";
    row.metric.count = IntOrString{12, ""};
    row.metric.failureLimit = 12;
    row.metric.inconclusiveLimit = 12;
    row.metric.consecutiveErrorLimit = 12;
  }
  const std::vector<int> startMinutes = {10, 17, 38, 44, 115, 118, 150};
  for (const auto& row : rows) {
    SECTION(row.behaviour) {
      AnalysisRunSpec spec;
      spec.metrics.push_back(row.metric);
      const Time from = kHistory.at(startMinutes.front());
      const Time to = kHistory.at(startMinutes.back());
      auto grid = measurementGrid(spec, Duration{60});
      REQUIRE(grid);
      auto instant = makeProvider();
      auto fallback = makeProvider();
      PrefetchingPrometheusProvider batched({from, to + std::chrono::hours(1), *grid}, *fallback);
      for (int minute : startMinutes) {
        INFO("start minute " << minute);
        const auto expected = measurements(spec, *instant, kHistory.at(minute));
        const auto actual = measurements(spec, batched, kHistory.at(minute));
        CHECK(actual == expected);
      }
      CHECK(batched.stats().fromPrefetch > 0);
      CHECK(batched.stats().rangeQueries >= 1);
    }
  }
}

TEST_CASE("sluice analysis backtest reports each start and the totals as JSON",
          "[integration][prometheus][backtest]") {
  testing::TempDir dir;
  const std::string file = (dir / "template.yaml").string();
  std::ofstream(file) << R"(apiVersion: sluice.dev/v1alpha1
kind: AnalysisTemplate
metadata:
  name: error-ratio
spec:
  args:
    - name: service
  metrics:
    - name: error-ratio
      interval: 1m
      count: 3
      successCondition: "result[0] < 0.05"
      provider:
        prometheus:
          address: http://prometheus.invalid:9090
          query: sum(rate(http_requests_total{service="{{args.service}}",code="500"}[5m])) / sum(rate(http_requests_total{service="{{args.service}}"}[5m]))
)";
  const std::string cmd = std::string("{ '") + SLUICE_BINARY + "' analysis backtest '" + file +
                          "' --prometheus " + prometheus().address() + " --from " +
                          formatRfc3339(kHistory.at(15)) + " --to " +
                          std::to_string(toUnix(kHistory.at(165))) +
                          " --arg service=degrading --output json 2>'" + (dir / "stderr").string() + "'; }";
  const auto run = testing::runCommand(cmd);
  INFO(run.output);
  const auto errors = readFile((dir / "stderr").string());
  INFO((errors ? *errors : errors.error()));
  REQUIRE(run.exitCode == 0);
  const auto json = nlohmann::json::parse(run.output, nullptr, /*allow_exceptions=*/false);
  REQUIRE(json.is_object());
  REQUIRE(json["runs"].size() == 16);
  CHECK(json["runs"][0]["start"] == toUnix(kHistory.at(15)));
  CHECK(json["runs"][0]["endedAt"] == toUnix(kHistory.at(17)));
  CHECK(json["runs"][11]["phase"] == "Failed");
  CHECK(json["totals"] ==
        nlohmann::json{{"Successful", 11}, {"Failed", 5}, {"Error", 0}, {"Inconclusive", 0}});
}

TEST_CASE("sluice sim --prometheus measures a real Prometheus on virtual time mapped from --start",
          "[integration][prometheus][sim]") {
  testing::TempDir dir;
  const std::string rollout = (dir / "rollout.yaml").string();
  std::ofstream(rollout) << R"(apiVersion: sluice.dev/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example/web:v2
  strategy:
    canary:
      steps:
        - setWeight: 50
        - analysis:
            templates:
              - templateName: error-ratio
        - setWeight: 100
---
apiVersion: sluice.dev/v1alpha1
kind: AnalysisTemplate
metadata:
  name: error-ratio
spec:
  metrics:
    - name: error-ratio
      interval: 1m
      count: 20
      successCondition: "result[0] < 0.09"
      provider:
        prometheus:
          address: http://prometheus.invalid:9090
          query: sum(rate(http_requests_total{service="degrading",code="500"}[5m])) / sum(rate(http_requests_total{service="degrading"}[5m]))
)";
  // Virtual 0s is minute 110 of the history. From minute 120 the 5-minute window holds more and more
  // degraded minutes (Prometheus 2.x windows include both ends: 1 to 5 of 5, ratios 0.024, 0.043, 0.062,
  // 0.081); the ratio reaches 0.1, over 0.09, at minute 124: the 15th measurement, 14m in, fails.
  const std::string cmd = std::string("'") + SLUICE_BINARY + "' sim '" + rollout + "' --prometheus " +
                          prometheus().address() + " --start " + formatRfc3339(kHistory.at(110)) +
                          " --output json";
  const auto run = testing::runCommand(cmd);
  INFO(run.output);
  REQUIRE(run.exitCode == 0);
  const auto json = nlohmann::json::parse(run.output);
  CHECK(json["result"]["aborted"] == true);
  REQUIRE(json["aborts"].size() == 1);
  CHECK(json["aborts"][0]["t"] == 14 * 60);
  const auto& ms = json["analysisRuns"][0]["measurements"];
  REQUIRE(ms.size() == 15);
  for (size_t i = 0; i < 14; ++i) CHECK(ms[i]["phase"] == "Successful");
  CHECK(ms[14]["phase"] == "Failed");
  CHECK(ms[0]["t"] == 0);
  CHECK(ms[14]["t"] == 14 * 60);
}
