// The run driver over virtual time against a recording fake provider: when it measures (initialDelay,
// interval, count, the 10 s retry after an Error), the limits, dry-run metrics and termination.
#include <catch2/catch.hpp>
#include <functional>

#include "analysis/run_driver.h"

using namespace sluice;
using namespace sluice::analysis;

namespace {

const Time kDriverT0 = timeFromUnix(1'800'000'000);

// A fake provider: records every call (metric name, seconds after kDriverT0) and answers from a script.
class RecordingFakeProvider : public Provider {
 public:
  using Script = std::function<Result<ProviderResult>(const std::string& metric, int64_t second)>;
  explicit RecordingFakeProvider(Script script) : script_(std::move(script)) {}

  Result<ProviderResult> measure(const Metric& metric, Time at) override {
    const int64_t second = (at - kDriverT0).count();
    calls.emplace_back(metric.name, second);
    lastMetric = metric;
    return script_(metric.name, second);
  }

  std::vector<std::pair<std::string, int64_t>> calls;
  Metric lastMetric;

 private:
  Script script_;
};

Result<ProviderResult> number(double v) {
  return ProviderResult{Value::number(v), std::to_string(v), {}, {}, {}, {}};
}

Metric metric(const std::string& name, const std::string& interval, int count, std::string success) {
  Metric m;
  m.name = name;
  m.interval = interval;
  if (count > 0) m.count = IntOrString{count, ""};
  m.successCondition = std::move(success);
  m.provider.web = WebMetric{};
  m.provider.web->url = "http://checks.local/" + name;
  return m;
}

// Advances the driver from kDriverT0 as it asks, until it completes or `end` seconds have passed. Returns the
// second at which the run completed (-1 if it did not).
int64_t play(RunDriver& driver, int64_t end, const std::function<void(int64_t)>& before = {}) {
  Time t = kDriverT0;
  while (true) {
    if (before) before((t - kDriverT0).count());
    const auto next = driver.advance(t);
    if (!next) return (t - kDriverT0).count();
    REQUIRE(*next > t);
    if ((*next - kDriverT0).count() > end) return -1;
    t = *next;
  }
}

std::vector<int64_t> secondsOf(const RecordingFakeProvider& p, const std::string& name) {
  std::vector<int64_t> out;
  for (const auto& [metric, second] : p.calls) {
    if (metric == name) out.push_back(second);
  }
  return out;
}

}  // namespace

TEST_CASE("the driver measures at initialDelay, then every interval, until the count", "[analysis][driver]") {
  RecordingFakeProvider fake([](const std::string&, int64_t) { return number(0.99); });
  AnalysisRunSpec spec;
  spec.metrics.push_back(metric("rate", "5m", 3, "result >= 0.95"));
  spec.metrics.back().initialDelay = "1m";
  RunDriver driver(spec, fake);
  CHECK(play(driver, 3600) == 660);
  CHECK(secondsOf(fake, "rate") == std::vector<int64_t>{60, 360, 660});
  CHECK(driver.status().phase == Phase::Successful);
  CHECK(driver.status().completedAt == kDriverT0 + Duration{660});
  REQUIRE(driver.history().size() == 3);
  CHECK(driver.history()[0].measurement.phase == Phase::Successful);
  CHECK(driver.history()[0].measurement.startedAt == kDriverT0 + Duration{60});
}

TEST_CASE("the driver retries 10 s after an Error whatever the interval", "[analysis][driver]") {
  RecordingFakeProvider fake([](const std::string&, int64_t s) -> Result<ProviderResult> {
    if (s == 0) return Error{"connection refused"};
    return number(0.99);
  });
  AnalysisRunSpec spec;
  spec.metrics.push_back(metric("rate", "5m", 2, "result >= 0.95"));
  RunDriver driver(spec, fake);
  CHECK(play(driver, 3600) == 310);
  CHECK(secondsOf(fake, "rate") == std::vector<int64_t>{0, 10, 310});
  CHECK(driver.history()[0].measurement.phase == Phase::Error);
  CHECK(driver.history()[0].measurement.message == "connection refused");
  CHECK(driver.status().phase == Phase::Successful);
}

TEST_CASE("the fifth consecutive Error errors the run, 10 s apart", "[analysis][driver]") {
  RecordingFakeProvider fake([](const std::string&, int64_t) -> Result<ProviderResult> {
    return Error{"HTTP 503 from prometheus"};
  });
  AnalysisRunSpec spec;
  spec.metrics.push_back(metric("rate", "1m", 0, "result >= 0.95"));
  RunDriver driver(spec, fake);
  CHECK(play(driver, 3600) == 40);
  CHECK(secondsOf(fake, "rate") == std::vector<int64_t>{0, 10, 20, 30, 40});
  CHECK(driver.status().phase == Phase::Error);
  CHECK_THAT(driver.status().message, Catch::Contains("HTTP 503 from prometheus"));
}

TEST_CASE("failureLimit: the run fails at the failure that breaks it, and the other metric stops",
          "[analysis][driver]") {
  // rate fails from minute 3 on; latency is healthy throughout but must stop being measured then.
  RecordingFakeProvider fake([](const std::string& name, int64_t s) {
    if (name == "rate") return number(s >= 180 ? 0.5 : 0.99);
    return number(0.1);
  });
  AnalysisRunSpec spec;
  spec.metrics.push_back(metric("rate", "1m", 10, "result >= 0.95"));
  spec.metrics.back().failureLimit = 1;
  spec.metrics.push_back(metric("latency", "1m", 10, "result < 0.5"));
  RunDriver driver(spec, fake);
  CHECK(play(driver, 3600) == 240);
  CHECK(secondsOf(fake, "rate") == std::vector<int64_t>{0, 60, 120, 180, 240});
  CHECK(secondsOf(fake, "latency") == std::vector<int64_t>{0, 60, 120, 180, 240});
  CHECK(driver.status().phase == Phase::Failed);
  CHECK(driver.status().result("rate")->failed == 2);
  CHECK(driver.status().result("latency")->phase == Phase::Successful);
  CHECK_THAT(driver.status().message, Catch::Contains("failed (2) > failureLimit (1)"));
}

TEST_CASE("a dry-run metric that fails never fails the run", "[analysis][driver]") {
  RecordingFakeProvider fake([](const std::string& name, int64_t) { return number(name == "new" ? 0 : 1); });
  AnalysisRunSpec spec;
  spec.metrics.push_back(metric("new", "1m", 2, "result > 0.5"));
  spec.metrics.push_back(metric("old", "1m", 3, "result > 0.5"));
  spec.dryRun = {"new"};
  RunDriver driver(spec, fake);
  CHECK(play(driver, 3600) == 120);
  CHECK(secondsOf(fake, "new") == std::vector<int64_t>{0});
  CHECK(secondsOf(fake, "old") == std::vector<int64_t>{0, 60, 120});
  CHECK(driver.status().phase == Phase::Successful);
  REQUIRE(driver.status().dryRunSummary);
  CHECK(driver.status().dryRunSummary->failed == 1);
}

TEST_CASE("a terminated open-ended run completes Successful and measures no more", "[analysis][driver]") {
  RecordingFakeProvider fake([](const std::string&, int64_t) { return number(1); });
  AnalysisRunSpec spec;
  spec.metrics.push_back(metric("rate", "1m", 0, "result > 0.5"));
  RunDriver driver(spec, fake);
  CHECK(play(driver, 3600, [&](int64_t s) {
          if (s == 120) driver.terminate();
        }) == 120);
  CHECK(secondsOf(fake, "rate") == std::vector<int64_t>{0, 60});
  CHECK(driver.status().phase == Phase::Successful);
  CHECK(driver.status().message == "Run Terminated");
}

TEST_CASE("args are templated into the metric the provider sees and into its conditions",
          "[analysis][driver]") {
  RecordingFakeProvider fake([](const std::string&, int64_t) { return number(0.9); });
  AnalysisRunSpec spec;
  spec.metrics.push_back(metric("rate", "", 0, "result >= {{ args.threshold }}"));
  spec.metrics.back().provider.web->url = "http://checks.local/{{args.service}}";
  spec.args = {Argument{"threshold", "0.95", {}, {}}, Argument{"service", "api", {}, {}}};
  RunDriver driver(spec, fake);
  CHECK(play(driver, 60) == 0);
  CHECK(fake.lastMetric.provider.web->url == "http://checks.local/api");
  CHECK(driver.status().phase == Phase::Failed);
}

TEST_CASE("a condition that does not compile after templating errors each measurement",
          "[analysis][driver]") {
  RecordingFakeProvider fake([](const std::string&, int64_t) { return number(0.9); });
  AnalysisRunSpec spec;
  spec.metrics.push_back(metric("rate", "", 0, "result >= {{args.threshold}}"));
  spec.metrics.back().consecutiveErrorLimit = 0;
  spec.args = {Argument{"threshold", "0.9 0.8", {}, {}}};
  RunDriver driver(spec, fake);
  CHECK(play(driver, 60) == 0);
  CHECK(driver.status().phase == Phase::Error);
  REQUIRE(driver.history().size() == 1);
  CHECK_THAT(driver.history()[0].measurement.message, Catch::Contains("successCondition"));
  CHECK_THAT(driver.history()[0].measurement.message, Catch::Contains("column"));
}

TEST_CASE("a missing required arg errors the run without calling the provider", "[analysis][driver]") {
  RecordingFakeProvider fake([](const std::string&, int64_t) { return number(1); });
  AnalysisRunSpec spec;
  spec.metrics.push_back(metric("rate", "", 0, "result > {{args.threshold}}"));
  spec.args = {Argument{"threshold", std::nullopt, {}, {}}};
  RunDriver driver(spec, fake);
  CHECK(play(driver, 60) == 0);
  CHECK(fake.calls.empty());
  CHECK(driver.status().phase == Phase::Error);
  CHECK_THAT(driver.status().message, Catch::Contains("threshold"));
}
