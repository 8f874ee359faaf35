// The backtest loop against a recording fake provider whose history degrades at a known instant: which
// starts fail, when each run ends, the totals, the starts and the measurement grid.
#include <catch2/catch.hpp>

#include "analysis/backtest.h"

using namespace sluice;
using namespace sluice::analysis;

namespace {

const Time kFrom = timeFromUnix(1'767'225'600);  // 2026-01-01T00:00:00Z
const Time kBad = kFrom + Duration{45 * 60};     // the error rate climbs at 00:45

// A fake provider over a history: 1% errors before kBad, 10% from then on. Records each call's time.
class DegradingHistoryFake : public Provider {
 public:
  Result<ProviderResult> measure(const Metric&, Time at) override {
    calls.push_back(at);
    const double v = at >= kBad ? 0.1 : 0.01;
    return ProviderResult{Value::vector({v}), "", {}, {}, {}, {}};
  }
  std::vector<Time> calls;
};

AnalysisRunSpec errorRateSpec(const std::string& interval, int count) {
  Metric m;
  m.name = "error-rate";
  m.interval = interval;
  m.count = IntOrString{count, ""};
  m.successCondition = "result[0] < 0.05";
  m.provider.web = WebMetric{};
  m.provider.web->url = "http://history.local";
  AnalysisRunSpec spec;
  spec.metrics.push_back(m);
  return spec;
}

}  // namespace

TEST_CASE("backtest runs start failing at the known minute and the totals add up", "[analysis][backtest]") {
  DegradingHistoryFake fake;
  BacktestOptions options{kFrom, kFrom + Duration{90 * 60}, Duration{10 * 60}, Duration{3600}};
  auto report = backtest(errorRateSpec("1m", 3), fake, options);
  REQUIRE(report);
  REQUIRE(report->runs.size() == 10);  // 00:00, 00:10, ..., 01:30
  for (const auto& run : report->runs) {
    const int64_t minute = (run.start - kFrom).count() / 60;
    INFO("start minute " << minute << ": " << run.message);
    if (minute + 2 < 45) {
      // Measures at +0, +1m, +2m, all before the climb.
      CHECK(run.phase == Phase::Successful);
      CHECK(run.endedAt == run.start + Duration{120});
    } else {
      // The first measurement at or after 00:45 fails it at once (failureLimit 0).
      CHECK(run.phase == Phase::Failed);
      const Time firstBad = std::max(run.start, kBad);
      CHECK(run.endedAt == firstBad);
    }
  }
  CHECK(report->totals.at(Phase::Successful) == 5);  // 00:00 .. 00:40
  CHECK(report->totals.at(Phase::Failed) == 5);      // 00:50 .. 01:30
  CHECK(report->totals.count(Phase::Error) == 0);
}

TEST_CASE("an open-ended backtest run is terminated at maxRun and says so", "[analysis][backtest]") {
  DegradingHistoryFake fake;
  AnalysisRunSpec spec = errorRateSpec("5m", 1);
  spec.metrics[0].count.reset();  // interval, no count: runs until terminated
  BacktestOptions options{kFrom, kFrom, Duration{600}, Duration{20 * 60}};
  auto report = backtest(spec, fake, options);
  REQUIRE(report);
  REQUIRE(report->runs.size() == 1);
  CHECK(report->runs[0].terminated);
  CHECK(report->runs[0].phase == Phase::Successful);
  CHECK(report->runs[0].endedAt == kFrom + Duration{20 * 60});
  CHECK_THAT(report->runs[0].message, Catch::Contains("terminated"));
  CHECK(fake.calls.size() == 5);  // 0, 5, 10, 15, 20 minutes
}

TEST_CASE("backtest starts and options", "[analysis][backtest]") {
  auto starts = backtestStarts({kFrom, kFrom + Duration{1800}, Duration{600}, Duration{3600}});
  REQUIRE(starts);
  CHECK(*starts ==
        std::vector<Time>{kFrom, kFrom + Duration{600}, kFrom + Duration{1200}, kFrom + Duration{1800}});
  CHECK_FALSE(backtestStarts({kFrom, kFrom - Duration{1}, Duration{600}, Duration{3600}}));
  CHECK_FALSE(backtestStarts({kFrom, kFrom, Duration{0}, Duration{3600}}));
}

TEST_CASE("the measurement grid is the gcd of every, the intervals and the delays", "[analysis][backtest]") {
  struct Row {
    const char* interval;
    const char* initialDelay;
    int64_t every;
    int64_t grid;
  };
  const Row rows[] = {
      {"1m", "", 600, 60}, {"5m", "", 600, 300}, {"1m", "30s", 600, 30},
      {"7s", "", 600, 1},  {"1m", "5s", 60, 5},  {"", "", 600, 600},
  };
  for (const auto& row : rows) {
    INFO(row.interval << " " << row.initialDelay << " every " << row.every);
    AnalysisRunSpec spec = errorRateSpec(row.interval, 1);
    spec.metrics[0].initialDelay = row.initialDelay;
    auto grid = measurementGrid(spec, Duration{row.every});
    REQUIRE(grid);
    CHECK(grid->count() == row.grid);
  }
  AnalysisRunSpec templated = errorRateSpec("{{args.every}}", 1);
  templated.args.push_back(Argument{"every", "40s", {}, {}});
  auto grid = measurementGrid(templated, Duration{600});
  REQUIRE(grid);
  CHECK(grid->count() == 40);
  templated.args[0].value.reset();
  CHECK_FALSE(measurementGrid(templated, Duration{600}));
}

TEST_CASE("backtest instants are RFC 3339 or Unix seconds", "[analysis][backtest]") {
  CHECK(parseInstant("2026-01-01T00:00:00Z").value() == kFrom);
  CHECK(parseInstant("2026-01-01T01:00:00+01:00").value() == kFrom);
  CHECK(parseInstant("1767225600").value() == kFrom);
  auto bad = parseInstant("yesterday");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error(), Catch::Contains("\"yesterday\" is neither an RFC 3339 time"));
  CHECK_FALSE(parseInstant(""));
}

TEST_CASE("the backtest spec merges the template with --arg values", "[analysis][backtest]") {
  AnalysisTemplate t;
  t.metadata.name = "error-rate";
  t.spec.metrics = errorRateSpec("1m", 3).metrics;
  t.spec.metrics[0].successCondition = "result[0] < {{args.threshold}}";
  t.spec.args = {Argument{"service", std::nullopt, {}, {}}, Argument{"threshold", "0.05", {}, {}}};
  const std::vector<AnalysisTemplate> templates = {t};

  auto spec = backtestSpec(templates, "error-rate", {{"service", "checkout"}, {"threshold", "0.01"}});
  REQUIRE(spec);
  REQUIRE(spec->metrics.size() == 1);
  for (const auto& a : spec->args) {
    if (a.name == "service") CHECK(a.value == "checkout");
    if (a.name == "threshold") CHECK(a.value == "0.01");
  }
  struct Row {
    const char* behaviour;
    const char* name;
    std::map<std::string, std::string> args;
    const char* error;
  };
  const Row rows[] = {
      {"a required arg left out names it and --arg",
       "error-rate",
       {},
       "argument \"service\" has no value: give it with --arg service=VALUE"},
      {"an arg the template does not declare",
       "error-rate",
       {{"service", "a"}, {"servce", "b"}},
       "--arg servce: the template declares no argument \"servce\""},
      {"an unknown template",
       "latency",
       {},
       "no AnalysisTemplate or ClusterAnalysisTemplate named \"latency\""},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    auto r = backtestSpec(templates, row.name, row.args);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(row.error));
  }
}

TEST_CASE("the backtest report lists each start and the totals per phase", "[analysis][backtest]") {
  DegradingHistoryFake fake;
  auto report =
      backtest(errorRateSpec("1m", 3), fake, {kFrom, kFrom + Duration{3600}, Duration{1800}, Duration{3600}});
  REQUIRE(report);
  const auto json = backtestToJson(*report);
  REQUIRE(json["runs"].size() == 3);
  CHECK(json["runs"][0]["start"] == 1767225600);
  CHECK(json["runs"][0]["endedAt"] == 1767225600 + 120);
  CHECK(json["runs"][0]["phase"] == "Successful");
  CHECK(json["runs"][2]["phase"] == "Failed");
  CHECK(json["totals"] ==
        nlohmann::json{{"Successful", 2}, {"Failed", 1}, {"Error", 0}, {"Inconclusive", 0}});
  const std::string table = formatBacktestTable(*report);
  CHECK_THAT(table, Catch::Contains("2026-01-01T00:00:00Z  2026-01-01T00:02:00Z  2m"));
  CHECK_THAT(
      table,
      Catch::Contains("3 runs: Successful 2 (66.7%) Failed 1 (33.3%) Error 0 (0.0%) Inconclusive 0 (0.0%)"));
}

TEST_CASE("a run's planned length is its last measurement without errors", "[analysis][backtest]") {
  AnalysisRunSpec spec = errorRateSpec("1m", 5);
  spec.metrics[0].initialDelay = "30s";
  CHECK(plannedRunLength(spec, Duration{3600}).value() == Duration{30 + 4 * 60});
  spec.metrics[0].count.reset();
  CHECK(plannedRunLength(spec, Duration{3600}).value() == Duration{3600});
}
