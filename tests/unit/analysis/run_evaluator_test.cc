// The run rules of docs/design.md §A.9-§A.11, a row per rule: limits, a sequence of measurement phases, and
// the metric and run phases and counters expected after each.
#include <catch2/catch.hpp>

// Rows name only the limits they set, in designated initializers; the rest keep their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "analysis/model_json.h"
#include "tests/unit/analysis/run_test_support.h"

using namespace sluice;
using namespace sluice::analysis;
using namespace sluice::testing;

namespace {

constexpr Phase S = Phase::Successful;
constexpr Phase F = Phase::Failed;
constexpr Phase I = Phase::Inconclusive;
constexpr Phase E = Phase::Error;
constexpr Phase Run = Phase::Running;

// Measurements recorded together (one evaluation after them all), then what must hold. -1: not checked.
struct Step {
  std::vector<Phase> measured;
  Phase metric;
  Phase run;
  int count = -1;
  int consecutiveError = -1;
  int consecutiveSuccess = -1;
};

struct RuleCase {
  const char* behaviour;
  Limits limits;
  std::vector<Step> steps;
};

}  // namespace

TEST_CASE("metric and run phases follow each rule of the measurement sequence", "[analysis][evaluator]") {
  const std::vector<RuleCase> rows = {
      {"no count and no interval: one measurement, then Successful", {}, {{{S}, S, S, 1}}},
      {"a failure breaks the default failureLimit of 0", {}, {{{F}, F, F, 1}}},
      {"an inconclusive result breaks the default inconclusiveLimit of 0", {}, {{{I}, I, I, 1}}},
      {"count 3 with an interval measures until the count is reached",
       {.interval = "1m", .count = 3},
       {{{S}, Run, Run, 1}, {{S}, Run, Run, 2}, {{S}, S, S, 3}}},
      {"failureLimit 1 tolerates one failure",
       {.interval = "1m", .count = 3, .failureLimit = 1},
       {{{F}, Run, Run, 1}, {{S}, Run, Run, 2}, {{S}, S, S, 3}}},
      {"failureLimit 1: the second failure fails the metric and the run",
       {.interval = "1m", .count = 3, .failureLimit = 1},
       {{{F}, Run, Run}, {{F}, F, F, 2}}},
      {"inconclusiveLimit 1 tolerates one inconclusive result",
       {.interval = "1m", .count = 3, .inconclusiveLimit = 1},
       {{{I}, Run, Run}, {{S}, Run, Run}, {{S}, S, S, 3}}},
      {"an Error does not add to count but to consecutiveError",
       {.interval = "1m", .count = 2},
       {{{E}, Run, Run, 0, 1}, {{S}, Run, Run, 1, 0}, {{S}, S, S, 2, 0}}},
      {"the fifth consecutive Error errors the metric (default limit 4)",
       {.interval = "1m"},
       {{{E, E, E}, Run, Run, 0, 3}, {{E}, Run, Run, 0, 4}, {{E}, E, E, 0, 5}}},
      {"consecutiveErrorLimit 0: the first Error errors the metric",
       {.consecutiveErrorLimit = 0},
       {{{E}, E, E, 0, 1}}},
      {"any result that is not an Error resets consecutiveError",
       {.interval = "1m", .failureLimit = 5},
       {{{E, E, E, E}, Run, Run, 0, 4}, {{F}, Run, Run, 1, 0}, {{E, E, E, E}, Run, Run, 1, 4}}},
      {"anything but a success resets consecutiveSuccess",
       {.interval = "1m", .count = 6, .failureLimit = 2, .consecutiveSuccessLimit = 3},
       {{{S, S}, Run, Run, 2, 0, 2},
        {{F}, Run, Run, 3, 0, 0},
        {{E}, Run, Run, 3, 1, 0},
        {{S, S}, Run, Run, 5, 0, 2},
        {{S}, S, S, 6, 0, 3}}},
      {"consecutiveSuccessLimit reached ends an open-ended metric Successful",
       {.interval = "1m", .failureLimit = -1, .consecutiveSuccessLimit = 2},
       {{{F}, Run, Run}, {{F}, Run, Run}, {{S}, Run, Run}, {{S}, S, S, 4, 0, 2}}},
      {"count reached with consecutiveSuccessLimit unmet is Inconclusive when failureLimit is active",
       {.interval = "1m", .count = 3, .failureLimit = 1, .consecutiveSuccessLimit = 2},
       {{{S}, Run, Run}, {{F}, Run, Run}, {{S}, I, I, 3, 0, 1}}},
      {"count reached with consecutiveSuccessLimit unmet is Failed when failureLimit is -1",
       {.interval = "1m", .count = 2, .failureLimit = -1, .consecutiveSuccessLimit = 2},
       {{{S}, Run, Run}, {{F}, F, F, 2, 0, 0}}},
      {"failureLimit -1 never fails on failures alone",
       {.interval = "1m", .failureLimit = -1, .consecutiveSuccessLimit = 1},
       {{{F, F, F, F, F, F}, Run, Run, 6}}},
      {"Inconclusive overrides Failed when both limits are broken at once", {}, {{{F, I}, I, I, 2}}},
      {"Error overrides Inconclusive and Failed", {}, {{{F, I, E, E, E, E, E}, E, E, 2, 5}}},
      {"an open-ended metric (interval, no count) keeps running",
       {.interval = "30s"},
       {{{S}, Run, Run}, {{S, S, S}, Run, Run, 4}}},
  };
  for (const auto& row : rows) {
    DYNAMIC_SECTION(row.behaviour) {
      sluice::testing::RunDriver d;
      d.spec.metrics = {metricWith("m", row.limits)};
      d.evaluate();
      for (size_t i = 0; i < row.steps.size(); ++i) {
        const Step& step = row.steps[i];
        INFO("step " << i);
        // A step starts when the evaluator says the metric is due.
        d.evaluate();
        if (!d.due("m") && d.last.nextCheck) {
          d.now = *d.last.nextCheck;
          d.evaluate();
        }
        REQUIRE(d.due("m"));
        for (Phase p : step.measured) {
          d.record("m", p, p == E ? "connection refused" : "");
          d.now += Duration{1};
        }
        d.evaluate();
        const MetricResult& r = d.result("m");
        CHECK(phaseName(r.phase) == std::string(phaseName(step.metric)));
        CHECK(phaseName(d.status.phase) == std::string(phaseName(step.run)));
        if (step.count >= 0) CHECK(r.count == step.count);
        if (step.consecutiveError >= 0) CHECK(r.consecutiveError == step.consecutiveError);
        if (step.consecutiveSuccess >= 0) CHECK(r.consecutiveSuccess == step.consecutiveSuccess);
        if (phaseCompleted(step.run)) {
          CHECK(d.status.completedAt == d.now);
          CHECK(d.last.measure.empty());
          CHECK(!d.last.nextCheck);
        }
      }
    }
  }
}

TEST_CASE("counters and the run message say why a metric ended", "[analysis][evaluator]") {
  SECTION("failureLimit") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("rate", {})};
    d.evaluate();
    d.record("rate", F);
    d.evaluate();
    CHECK(d.status.message == "Metric \"rate\" assessed Failed due to failed (1) > failureLimit (0)");
    CHECK(d.result("rate").failed == 1);
    CHECK(d.status.runSummary == RunSummary{1, 0, 1, 0, 0});
  }
  SECTION("consecutive errors carry the last error message") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("rate", {.consecutiveErrorLimit = 0})};
    d.evaluate();
    d.record("rate", E, "Post \"http://prom:9090\": connection refused");
    d.evaluate();
    CHECK(d.status.message ==
          "Metric \"rate\" assessed Error due to consecutiveErrors (1) > consecutiveErrorLimit (0): Post "
          "\"http://prom:9090\": connection refused");
    CHECK(d.result("rate").error == 1);
    CHECK(d.status.runSummary.error == 1);
  }
}

TEST_CASE("measurements are scheduled by initialDelay, interval and the error retry",
          "[analysis][evaluator]") {
  SECTION("the first measurement waits initialDelay from startedAt") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("m", {.interval = "1m", .initialDelay = "30s"})};
    d.evaluate();
    CHECK(d.status.startedAt == kT0);
    CHECK(!d.due("m"));
    CHECK(d.last.nextCheck == kT0 + Duration{30});
    CHECK(d.result("m").phase == Phase::Pending);
    d.now = kT0 + Duration{29};
    d.evaluate();
    CHECK(!d.due("m"));
    d.now = kT0 + Duration{30};
    d.evaluate();
    CHECK(d.due("m"));
  }
  SECTION("without initialDelay the first measurement is due at once") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("m", {.interval = "1m"})};
    d.evaluate();
    CHECK(d.due("m"));
    CHECK(d.status.phase == Phase::Running);
  }
  SECTION("the next measurement is due at the last one's finishedAt + interval") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("m", {.interval = "1m", .count = 3})};
    d.evaluate();
    d.now = kT0 + Duration{5};
    d.record("m", S);
    d.evaluate();
    CHECK(d.last.nextCheck == kT0 + Duration{65});
    d.now = kT0 + Duration{64};
    d.evaluate();
    CHECK(!d.due("m"));
    d.now = kT0 + Duration{65};
    d.evaluate();
    CHECK(d.due("m"));
  }
  SECTION("after an Error the retry comes after 10 s whatever the interval") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("m", {.interval = "5m", .count = 3})};
    d.evaluate();
    d.record("m", E, "timeout");
    d.evaluate();
    CHECK(d.last.nextCheck == kT0 + Duration{10});
  }
  SECTION("after an Error a metric with no interval is retried after 10 s") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("m", {})};
    d.evaluate();
    d.record("m", E, "timeout");
    d.evaluate();
    CHECK(d.result("m").phase == Phase::Running);
    CHECK(d.last.nextCheck == kT0 + Duration{10});
  }
  SECTION("the earliest metric decides when to look again") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("slow", {.interval = "5m"}), metricWith("fast", {.interval = "1m"})};
    d.evaluate();
    CHECK(d.last.measure.size() == 2);
    d.record("slow", S);
    d.record("fast", S);
    d.evaluate();
    CHECK(d.last.nextCheck == kT0 + Duration{60});
  }
  SECTION("an in-flight measurement keeps the metric Running and is resumed at resumeAt") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("m", {})};
    d.evaluate();
    Measurement pending;
    pending.phase = Phase::Running;
    pending.resumeAt = kT0 + Duration{20};
    REQUIRE(recordMeasurement(d.status, "m", pending, d.now).ok());
    d.evaluate();
    CHECK(d.result("m").phase == Phase::Running);
    CHECK(!d.due("m"));
    CHECK(d.last.nextCheck == kT0 + Duration{20});
    d.now = kT0 + Duration{20};
    d.evaluate();
    REQUIRE(d.last.measure.size() == 1);
    CHECK(d.last.measure[0].resume);
    d.record("m", S);
    d.evaluate();
    CHECK(d.result("m").measurements.size() == 1);
    CHECK(d.result("m").measurements[0].startedAt == kT0);
    CHECK(d.status.phase == Phase::Successful);
  }
}

TEST_CASE("termination, run phase and dry-run metrics", "[analysis][evaluator]") {
  SECTION("a failed metric terminates the run; unfinished metrics become Successful") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("latency", {.interval = "1m"}), metricWith("errors", {}),
                      metricWith("later", {.interval = "1m", .initialDelay = "10m"})};
    d.evaluate();
    d.record("latency", S);
    d.record("errors", F);
    d.evaluate();
    CHECK(d.status.phase == Phase::Failed);
    CHECK(d.result("latency").phase == Phase::Successful);
    CHECK(d.result("later").phase == Phase::Successful);
    CHECK(d.last.measure.empty());
    CHECK(!d.last.nextCheck);
  }
  SECTION("the run phase is the worst metric phase") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("a", {}), metricWith("b", {}),
                      metricWith("c", {.consecutiveErrorLimit = 0})};
    d.evaluate();
    d.record("a", S);
    d.record("b", I);
    d.record("c", E);
    d.evaluate();
    CHECK(d.status.phase == Phase::Error);  // Error is worse than Inconclusive
    CHECK(d.status.runSummary == RunSummary{3, 1, 0, 1, 1});
  }
  SECTION("the run stays Running until every metric completes") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("a", {}), metricWith("b", {.interval = "1m", .count = 2})};
    d.evaluate();
    d.record("a", S);
    d.record("b", S);
    d.evaluate();
    CHECK(d.result("a").phase == Phase::Successful);
    CHECK(d.status.phase == Phase::Running);
    CHECK(!d.status.completedAt);
  }
  SECTION("spec.terminate stops measuring and ends the run Successful") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("m", {.interval = "1m"})};
    d.evaluate();
    d.record("m", S);
    d.spec.terminate = true;
    d.now = kT0 + Duration{60};
    d.evaluate();
    CHECK(d.last.measure.empty());
    CHECK(d.status.phase == Phase::Successful);
    CHECK(d.status.message == "Run Terminated");
    CHECK(d.result("m").phase == Phase::Successful);
  }
  SECTION("terminated before any measurement: Successful") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("m", {.interval = "1m"})};
    d.spec.terminate = true;
    d.evaluate();
    CHECK(d.last.measure.empty());
    CHECK(d.status.phase == Phase::Successful);
  }
  SECTION("a terminating run ends in-flight measurements") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("m", {.interval = "1m"}), metricWith("bad", {})};
    d.evaluate();
    Measurement inFlight;
    inFlight.phase = Phase::Running;
    REQUIRE(recordMeasurement(d.status, "m", inFlight, d.now).ok());
    d.record("bad", F);
    d.evaluate();
    CHECK(d.last.terminate == std::vector<std::string>{"m"});
    CHECK(d.last.measure.empty());
  }
  SECTION("a dry-run metric that fails neither fails nor terminates the run") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("shadow", {}), metricWith("real", {.interval = "1m", .count = 2})};
    d.spec.dryRun = {"^shad"};
    d.evaluate();
    d.record("shadow", F);
    d.record("real", S);
    d.evaluate();
    CHECK(d.result("shadow").phase == Phase::Failed);
    CHECK(d.result("shadow").dryRun);
    CHECK(d.result("shadow").message == "Dry-Run: failed (1) > failureLimit (0)");
    CHECK(d.status.phase == Phase::Running);
    CHECK(d.status.dryRunSummary == RunSummary{1, 0, 1, 0, 0});
    d.now = *d.last.nextCheck;
    d.evaluate();
    CHECK(d.due("real"));
    d.record("real", S);
    d.evaluate();
    CHECK(d.status.phase == Phase::Successful);
    CHECK(d.status.runSummary == RunSummary{1, 1, 0, 0, 0});
    CHECK(d.status.message.empty());
  }
  SECTION("a completed run is left as it is") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("m", {})};
    d.evaluate();
    d.record("m", S);
    d.evaluate();
    const AnalysisRunStatus done = d.status;
    d.now = kT0 + Duration{3600};
    d.evaluate();
    CHECK(d.status == done);
    CHECK(d.last.measure.empty());
  }
  SECTION("the phase order: Successful < Running < Pending < Inconclusive < Error < Failed") {
    const std::vector<Phase> order = {Phase::Successful,   Phase::Running, Phase::Pending,
                                      Phase::Inconclusive, Phase::Error,   Phase::Failed};
    for (size_t i = 1; i < order.size(); ++i) CHECK(phaseSeverity(order[i - 1]) < phaseSeverity(order[i]));
  }
}

TEST_CASE("measurement retention keeps the last measurements", "[analysis][evaluator]") {
  SECTION("ten by default") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("m", {.interval = "1s"})};
    d.evaluate();
    for (int i = 0; i < 12; ++i) {
      d.now = kT0 + Duration{i * 2};
      d.record("m", S, "measurement " + std::to_string(i));
    }
    d.evaluate();
    const auto& list = d.result("m").measurements;
    REQUIRE(list.size() == 10);
    CHECK(list.front().message == "measurement 2");
    CHECK(list.back().message == "measurement 11");
    CHECK(d.result("m").count == 12);
  }
  SECTION("measurementRetention sets the limit by metric-name regex") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {metricWith("latency-p99", {.interval = "1s"}),
                      metricWith("errors", {.interval = "1s"})};
    d.spec.measurementRetention = {{"latency-.*", 3}};
    d.evaluate();
    for (int i = 0; i < 5; ++i) {
      d.record("latency-p99", S);
      d.record("errors", S);
    }
    d.evaluate();
    CHECK(d.result("latency-p99").measurements.size() == 3);
    CHECK(d.result("errors").measurements.size() == 5);
  }
}

TEST_CASE("arguments are resolved when the run starts", "[analysis][evaluator]") {
  auto withQuery = [](const std::string& address) {
    Metric m = metricWith("m", {});
    m.provider.web.reset();
    m.provider.prometheus = PrometheusMetric{};
    m.provider.prometheus->address = address;
    m.provider.prometheus->query = "sum(rate(http_requests_total{service=\"{{ args.service }}\"}[5m]))";
    return m;
  };
  SECTION("the metrics to measure come templated") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {withQuery("http://prom:9090")};
    d.spec.args = {{"service", std::string("web"), std::nullopt, std::nullopt}};
    d.evaluate();
    REQUIRE(d.last.measure.size() == 1);
    CHECK(d.last.measure[0].metric.provider.prometheus->query ==
          "sum(rate(http_requests_total{service=\"web\"}[5m]))");
  }
  SECTION("a missing required arg ends the run in Error naming it") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {withQuery("http://prom:9090")};
    d.spec.args = {{"service", std::nullopt, std::nullopt, std::nullopt}};
    d.evaluate();
    CHECK(d.status.phase == Phase::Error);
    CHECK_THAT(d.status.message, Catch::Contains("argument \"service\" has no value"));
    CHECK(d.status.completedAt == kT0);
    CHECK(d.last.measure.empty());
  }
  SECTION("an unresolved placeholder ends the run in Error naming it") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {withQuery("http://prom:9090")};
    d.evaluate();
    CHECK(d.status.phase == Phase::Error);
    CHECK_THAT(d.status.message, Catch::Contains("cannot resolve {{ args.service }}"));
  }
  SECTION("a count templated to a non-number ends the run in Error") {
    sluice::testing::RunDriver d;
    Metric m = metricWith("m", {.interval = "1m"});
    m.count = IntOrString{std::nullopt, "{{args.n}}"};
    d.spec.metrics = {m};
    d.spec.args = {{"n", std::string("many"), std::nullopt, std::nullopt}};
    d.evaluate();
    CHECK(d.status.phase == Phase::Error);
    CHECK_THAT(d.status.message, Catch::Contains("count") && Catch::Contains("many"));
  }
  SECTION("limits templated from args are the limits in force") {
    sluice::testing::RunDriver d;
    Metric m = metricWith("m", {.interval = "1m", .count = 10});
    m.failureLimit = IntOrString{std::nullopt, "{{ args.failures }}"};
    m.consecutiveErrorLimit = IntOrString{std::nullopt, "{{args.errors}}"};
    d.spec.metrics = {m};
    d.spec.args = {{"failures", std::string("2"), std::nullopt, std::nullopt},
                   {"errors", std::string("1"), std::nullopt, std::nullopt}};
    for (int i = 0; i < 2; ++i) {
      d.evaluate();
      REQUIRE(d.due("m"));
      d.record("m", F);
      d.evaluate();
      CHECK(d.result("m").phase == Run);  // 2 failures are within failureLimit 2
      d.now = *d.last.nextCheck;
    }
    d.evaluate();
    d.record("m", F);
    d.evaluate();
    CHECK(d.result("m").phase == F);
    CHECK_THAT(d.result("m").message, Catch::Contains("failureLimit (2)"));
    CHECK(d.status.phase == F);
  }
  SECTION("a limit templated to a non-number ends the run in Error") {
    sluice::testing::RunDriver d;
    Metric m = metricWith("m", {.interval = "1m", .count = 3});
    m.inconclusiveLimit = IntOrString{std::nullopt, "{{args.n}}"};
    d.spec.metrics = {m};
    d.spec.args = {{"n", std::string("lots"), std::nullopt, std::nullopt}};
    d.evaluate();
    CHECK(d.status.phase == Phase::Error);
    CHECK_THAT(d.status.message, Catch::Contains("inconclusiveLimit") && Catch::Contains("lots"));
    CHECK(d.last.measure.empty());
  }
  SECTION("secret values are masked in the run's messages and measurements") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {withQuery("http://user:{{args.token}}@prom:9090")};
    d.spec.args = {{"service", std::string("web"), std::nullopt, std::nullopt},
                   {"token", std::nullopt, SecretKeyRef{"prom", "token"}, std::nullopt}};
    d.secrets = {{"token", "s3cr3t"}};
    d.evaluate();
    REQUIRE(d.last.measure.size() == 1);
    CHECK(d.last.measure[0].metric.provider.prometheus->address == "http://user:s3cr3t@prom:9090");
    d.record("m", E, "Get \"http://user:s3cr3t@prom:9090/api/v1/query\": refused");
    const auto& m = d.result("m");
    CHECK(m.measurements.back().message == "Get \"http://user:*****@prom:9090/api/v1/query\": refused");
    CHECK(runStatusToJson(d.status).dump().find("s3cr3t") == std::string::npos);
  }
  SECTION("a secret that was not read ends the run in Error") {
    sluice::testing::RunDriver d;
    d.spec.metrics = {withQuery("http://prom:9090/{{args.token}}")};
    d.spec.args = {{"token", std::nullopt, SecretKeyRef{"prom", "token"}, std::nullopt}};
    d.evaluate();
    CHECK(d.status.phase == Phase::Error);
    CHECK_THAT(d.status.message, Catch::Contains("secret prom/token was not read"));
  }
}

TEST_CASE("recordMeasurement rejects a phase that is not a measurement's", "[analysis][evaluator]") {
  AnalysisRunStatus status;
  Measurement m;
  m.phase = Phase::Pending;
  CHECK(!recordMeasurement(status, "m", m, kT0).ok());
  CHECK(status.metricResults.empty());
}
