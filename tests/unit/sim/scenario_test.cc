// The scenario loader: every field read as written, every error located by file, line and field path.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>

#include "sim/scenario.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::sim;

namespace {

std::optional<Scenario> load(const std::string& yaml, Diagnostics& diags) {
  auto docs = parseYamlDocuments(yaml, "scenario.yaml");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  return parseScenario(docs->front().json, docs->front().source, diags);
}

const char* const kFull = R"(apiVersion: sluice.dev/v1alpha1
kind: Scenario
spec:
  duration: 6h
  readiness: 30s
  stableImage: registry.example/app:v1
  analysisRuns:
    success-rate: {phase: Successful, after: 5m}
    latency: {phase: Failed, after: 90, message: "p99 too high"}
  metrics:
    success-rate:
      - {at: 20m, value: 0.80}
      - {at: 0s, value: 0.99}
    latency-p99:
      - {at: 0s, value: [0.21, 0.35]}
      - {at: 1h, error: "connection refused"}
      - {at: 2h, value: .nan}
      - {at: 3h, value: nan}
      - {at: 4h, empty: true}
  actions:
    - {at: 1h, abort: {}}
    - {at: 50m, promote: {full: true}}
    - {at: 45m, promote: {}}
    - {at: 70m, retry: {}}
    - {at: 80m, pause: {}}
    - {at: 85m, resume: {}}
    - {at: 30m, update: {image: "registry.example/app:v3"}}
    - {at: 30m, update: {image: "sidecar:v2", container: proxy}}
    - {at: 2h, restart: {}}
    - {at: 3h, restart: {in: 10m}}
)";

}  // namespace

TEST_CASE("a metric value may be any answer a web metric gives: a string, a bool, an object, a list",
          "[sim][scenario]") {
  Diagnostics diags;
  auto s = load(
      "apiVersion: sluice.dev/v1alpha1\nkind: Scenario\nspec:\n  metrics:\n    version:\n"
      "      - {at: 0s, value: \"It worked!\"}\n      - {at: 1m, value: {major: \"1\", ok: true}}\n"
      "      - {at: 2m, value: [1, x]}\n      - {at: 3m, value: false}\n",
      diags);
  INFO(diags.format());
  REQUIRE(s);
  const auto& points = s->metrics["version"];
  REQUIRE(points.size() == 4);
  for (const auto& p : points) CHECK(p.kind == MetricPoint::Kind::Document);
  CHECK(points[0].document == "It worked!");
  CHECK(points[1].document == nlohmann::json{{"major", "1"}, {"ok", true}});
  CHECK(points[2].document == nlohmann::json::array({1, "x"}));
  CHECK(points[3].document == false);
}

TEST_CASE("a scenario with every field is read as written", "[sim][scenario]") {
  Diagnostics diags;
  auto s = load(kFull, diags);
  INFO(diags.format());
  REQUIRE(s);
  CHECK(diags.empty());
  CHECK(s->duration == Duration{6 * 3600});
  CHECK(s->readiness == Duration{30});
  CHECK(s->stableImage == "registry.example/app:v1");

  REQUIRE(s->analysisRuns.size() == 2);
  CHECK(s->analysisRuns["success-rate"].phase == "Successful");
  CHECK(s->analysisRuns["success-rate"].after == Duration{300});
  CHECK(s->analysisRuns["latency"].after == Duration{90});
  CHECK(s->analysisRuns["latency"].message == "p99 too high");

  const auto& rate = s->metrics["success-rate"];
  REQUIRE(rate.size() == 2);
  CHECK(rate[0].at == Duration{0});  // sorted by time
  CHECK(rate[0].values == std::vector<double>{0.99});
  const auto& latency = s->metrics["latency-p99"];
  REQUIRE(latency.size() == 5);
  CHECK(latency[0].kind == MetricPoint::Kind::Values);
  CHECK(latency[0].values == std::vector<double>{0.21, 0.35});
  CHECK(latency[1].kind == MetricPoint::Kind::Error);
  CHECK(latency[1].error == "connection refused");
  CHECK(latency[2].kind == MetricPoint::Kind::NaN);
  CHECK(latency[3].kind == MetricPoint::Kind::NaN);
  CHECK(latency[4].kind == MetricPoint::Kind::Empty);

  // Actions sorted by time; equal times keep their written order.
  std::vector<std::string> order;
  for (const auto& a : s->actions) order.push_back(formatDuration(a.at) + " " + describeAction(a));
  CHECK(order == std::vector<std::string>{"30m set image registry.example/app:v3",
                                          "30m set image proxy=sidecar:v2", "45m promote",
                                          "50m promote --full", "1h abort", "1h10m retry", "1h20m pause",
                                          "1h25m resume", "2h restart", "3h restart --in 10m"});
  CHECK(s->actions.back().in == Duration{600});
}

TEST_CASE("a scenario's traffic is read as written, with its defaults", "[sim][scenario]") {
  Diagnostics diags;
  auto s = load(R"(apiVersion: sluice.dev/v1alpha1
kind: Scenario
spec:
  traffic:
    rps: 120
    scrapeInterval: 15s
    versions:
      registry.example/web:v2: {errorRate: 0.2, latency: 150ms}
      registry.example/web:v3: {latency: 1s}
)",
                diags);
  INFO(diags.format());
  REQUIRE(s);
  REQUIRE(s->traffic);
  CHECK(s->traffic->requestsPerSecond == 120);
  CHECK(s->traffic->scrapeInterval == Duration{15});
  REQUIRE(s->traffic->versions.size() == 2);
  CHECK(s->traffic->versions["registry.example/web:v2"].errorRate == 0.2);
  CHECK(s->traffic->versions["registry.example/web:v2"].latency == std::chrono::milliseconds(150));
  CHECK_FALSE(s->traffic->versions["registry.example/web:v3"].errorRate);

  auto plain = load("apiVersion: sluice.dev/v1alpha1\nkind: Scenario\nspec:\n  traffic: {}\n", diags);
  REQUIRE(plain);
  REQUIRE(plain->traffic);
  CHECK(plain->traffic->requestsPerSecond == 50);
  CHECK(plain->traffic->scrapeInterval == Duration{5});
  CHECK_FALSE(load("apiVersion: sluice.dev/v1alpha1\nkind: Scenario\n", diags)->traffic);
}

TEST_CASE("a scenario without spec takes the defaults", "[sim][scenario]") {
  Diagnostics diags;
  auto s = load("apiVersion: sluice.dev/v1alpha1\nkind: Scenario\n", diags);
  REQUIRE(s);
  CHECK(s->duration == Duration{24 * 3600});
  CHECK(s->readiness == Duration{0});
  CHECK_FALSE(s->stableImage);
  CHECK(s->actions.empty());
}

TEST_CASE("scenario errors name the file, the line and the field path", "[sim][scenario]") {
  struct Row {
    const char* behaviour;
    const char* spec;      // lines under "spec:", indented by two
    const char* expected;  // the formatted diagnostic, from the line on
  };
  const Row rows[] = {
      {"a bad duration", "  duration: 5x\n", "scenario.yaml:4:3: error: spec.duration: invalid duration"},
      {"a negative readiness", "  readiness: -5\n",
       "scenario.yaml:4:3: error: spec.readiness: must be a duration"},
      {"a zero duration", "  duration: 0s\n",
       "scenario.yaml:4:3: error: spec.duration: must be longer than 0s"},
      {"an unknown spec field", "  durations: 5m\n",
       "scenario.yaml:4:3: error: spec.durations: unknown field"},
      {"an unknown run phase", "  analysisRuns:\n    rate: {phase: Passed}\n",
       "scenario.yaml:5:12: error: spec.analysisRuns.rate.phase: unknown phase \"Passed\""},
      {"a run without phase", "  analysisRuns:\n    rate: {after: 5m}\n",
       "scenario.yaml:5:5: error: spec.analysisRuns.rate: phase is required"},
      {"a run with a bad after", "  analysisRuns:\n    rate: {phase: Failed, after: soon}\n",
       "scenario.yaml:5:27: error: spec.analysisRuns.rate.after: invalid duration \"soon\""},
      {"a metric value that is null", "  metrics:\n    rate:\n      - {at: 0s, value: ~}\n",
       "scenario.yaml:6:18: error: spec.metrics.rate[0].value: must be a number, a non-empty list, nan, a "
       "string, a bool or an object"},
      {"a metric value that is an empty list", "  metrics:\n    rate:\n      - {at: 0s, value: []}\n",
       "scenario.yaml:6:18: error: spec.metrics.rate[0].value: must be a number, a non-empty list, nan, a "
       "string, a bool or an object"},
      {"a metric point with two outcomes", "  metrics:\n    rate:\n      - {at: 0s, value: 1, error: e}\n",
       "scenario.yaml:6:9: error: spec.metrics.rate[0]: needs exactly one of value, error, empty or job"},
      {"a metric point without at", "  metrics:\n    rate:\n      - {value: 1}\n",
       "scenario.yaml:6:9: error: spec.metrics.rate[0]: at is required"},
      {"empty that is not true", "  metrics:\n    rate:\n      - {at: 0s, empty: false}\n",
       "scenario.yaml:6:18: error: spec.metrics.rate[0].empty: must be true"},
      {"a metric that is not a list", "  metrics:\n    rate: 0.99\n",
       "scenario.yaml:5:5: error: spec.metrics.rate: must be a non-empty list"},
      {"an action without verb", "  actions:\n    - {at: 5m}\n",
       "scenario.yaml:5:7: error: spec.actions[0]: needs exactly one of promote"},
      {"an action with two verbs", "  actions:\n    - {at: 5m, promote: {}, abort: {}}\n",
       "scenario.yaml:5:7: error: spec.actions[0]: needs exactly one of promote"},
      {"an action without at", "  actions:\n    - {abort: {}}\n",
       "scenario.yaml:5:7: error: spec.actions[0]: at is required"},
      {"an unknown action", "  actions:\n    - {at: 5m, rollback: {}}\n",
       "scenario.yaml:5:16: error: spec.actions[0].rollback: unknown field"},
      {"promote full that is not a bool", "  actions:\n    - {at: 5m, promote: {full: yes}}\n",
       "scenario.yaml:5:26: error: spec.actions[0].promote.full: must be true or false"},
      {"an update without image", "  actions:\n    - {at: 5m, update: {container: app}}\n",
       "scenario.yaml:5:16: error: spec.actions[0].update: image is required"},
      {"an update with no body", "  actions:\n    - {at: 5m, update: }\n",
       "scenario.yaml:5:16: error: spec.actions[0].update: update needs an image"},
      {"a restart with a bad in", "  actions:\n    - {at: 5m, restart: {in: soon}}\n",
       "scenario.yaml:5:26: error: spec.actions[0].restart.in: invalid duration \"soon\""},
      {"a restart with an unknown field", "  actions:\n    - {at: 5m, restart: {at: 1m}}\n",
       "scenario.yaml:5:26: error: spec.actions[0].restart.at: unknown field"},
      {"actions that are not a list", "  actions: {at: 5m}\n",
       "scenario.yaml:4:3: error: spec.actions: must be a list"},
      {"a negative traffic rate", "  traffic: {rps: -1}\n",
       "scenario.yaml:4:13: error: spec.traffic.rps: must be a number from 0 to 1000000"},
      {"an error rate over 1", "  traffic:\n    versions:\n      web:v2: {errorRate: 1.5}\n",
       "scenario.yaml:6:16: error: spec.traffic.versions[\"web:v2\"].errorRate: must be a number from 0 to "
       "1"},
      {"a latency that is not a duration", "  traffic:\n    versions:\n      web:v2: {latency: slow}\n",
       "scenario.yaml:6:16: error: spec.traffic.versions[\"web:v2\"].latency: invalid duration \"slow\""},
      {"a zero scrape interval", "  traffic: {scrapeInterval: 0s}\n",
       "scenario.yaml:4:13: error: spec.traffic.scrapeInterval: must be longer than 0s"},
      {"an unknown traffic field", "  traffic: {requestsPerSecond: 5}\n",
       "scenario.yaml:4:13: error: spec.traffic.requestsPerSecond: unknown field"},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    Diagnostics diags;
    auto s = load(std::string("apiVersion: sluice.dev/v1alpha1\nkind: Scenario\nspec:\n") + row.spec, diags);
    CHECK_FALSE(s);
    REQUIRE(diags.errorCount() >= 1);
    const std::string got = diags.items().front().format();
    INFO(got);
    CHECK(got.rfind(row.expected, 0) == 0);
  }
}

TEST_CASE("a scenario must say it is a Scenario", "[sim][scenario]") {
  Diagnostics diags;
  auto s = load("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\n", diags);
  CHECK_FALSE(s);
  REQUIRE(diags.errorCount() == 2);
  CHECK(diags.items()[0].format() == "scenario.yaml:1:1: error: apiVersion: must be sluice.dev/v1alpha1");
  CHECK(diags.items()[1].format() == "scenario.yaml:2:1: error: kind: must be Scenario");
}

TEST_CASE("every error in a scenario is reported, not just the first", "[sim][scenario]") {
  Diagnostics diags;
  auto s =
      load("apiVersion: sluice.dev/v1alpha1\nkind: Scenario\nspec:\n  duration: x\n  readiness: y\n", diags);
  CHECK_FALSE(s);
  CHECK(diags.errorCount() == 2);
}

TEST_CASE("an unreadable scenario file is an error naming it", "[sim][scenario]") {
  Diagnostics diags;
  auto s = loadScenarioFile("no/such/scenario.yaml", diags);
  CHECK_FALSE(s);
  REQUIRE(diags.errorCount() == 1);
  CHECK(diags.format().find("no/such/scenario.yaml") != std::string::npos);
}

TEST_CASE("what a scenario says but the simulation would silently not do is a warning", "[sim][scenario]") {
  struct Row {
    const char* behaviour;
    const char* spec;
    std::vector<std::string> warnings;
  };
  const Row rows[] = {
      {"two values of one metric at the same time",
       "  metrics:\n    rate:\n      - {at: 5m, value: 0.9}\n      - {at: 0s, value: 1}\n"
       "      - {at: 300, value: 0.1}\n",
       {"scenario.yaml:8:10: warning: spec.metrics.rate[2].at: 5m is also the time of spec.metrics.rate[0]: "
        "only the later of the two is used"}},
      {"an action after the end",
       "  duration: 1h\n  actions:\n    - {at: 1h, promote: {}}\n    - {at: 61m, abort: {}}\n",
       {"scenario.yaml:7:8: warning: spec.actions[1].at: 1h1m is after the end of the simulation "
        "(spec.duration 1h): the action never happens"}},
      {"an action after the default day",
       "  actions:\n    - {at: 25h, abort: {}}\n",
       {"scenario.yaml:5:8: warning: spec.actions[0].at: 25h is after the end of the simulation "
        "(spec.duration 24h): the action never happens"}},
      {"distinct times and actions at the end",
       "  duration: 1h\n  metrics:\n    rate:\n      - {at: 0s, value: 1}\n"
       "      - {at: 1s, value: 1}\n  actions:\n    - {at: 1h, promote: {}}\n    - {at: 1h, abort: {}}\n",
       {}},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    Diagnostics diags;
    auto s = load(std::string("apiVersion: sluice.dev/v1alpha1\nkind: Scenario\nspec:\n") + row.spec, diags);
    CHECK(s);  // warnings do not stop the simulation
    std::vector<std::string> got;
    for (const auto& d : diags.items()) got.push_back(d.format());
    CHECK(got == row.warnings);
  }
}

TEST_CASE("a scenario file that is not YAML is reported once, with its position", "[sim][scenario]") {
  sluice::testing::TempDir dir;
  const std::string path = (dir / "scenario.yaml").string();
  std::ofstream(path) << "apiVersion: sluice.dev/v1alpha1\nkind: Scenario\nspec: {duration: [1h\n";
  Diagnostics diags;
  CHECK_FALSE(loadScenarioFile(path, diags));
  REQUIRE(diags.items().size() == 1);
  CHECK(diags.format() == path + ":4:1: error: invalid YAML: end of sequence flow not found\n");
}

TEST_CASE("spec.rollouts: a section per Rollout replaces the fields it sets",
          "[sim][scenario][canary-semantics]") {
  Diagnostics diags;
  const auto s = load(R"(apiVersion: sluice.dev/v1alpha1
kind: Scenario
spec:
  duration: 2h
  readiness: 10s
  actions:
    - {at: 5m, promote: {}}
    - {at: 6m, promote: {}}
  rollouts:
    web:
      readiness: 30s
      actions:
        - {at: 1m, abort: {}}
    api: {}
)",
                      diags);
  INFO(diags.format());
  REQUIRE(s);
  const Scenario& web = s->forRollout("web");
  CHECK(web.rolloutName == "web");
  CHECK(web.readiness == Duration{30});
  CHECK(web.duration == Duration{7200});
  REQUIRE(web.actions.size() == 1);
  CHECK(web.actions[0].kind == PersonAction::Kind::Abort);
  CHECK(web.actions[0].path == "spec.rollouts.web.actions[0]");
  const Scenario& api = s->forRollout("api");
  CHECK(api.readiness == Duration{10});
  CHECK(api.actions.size() == 2);
  const Scenario& other = s->forRollout("other");
  CHECK(&other == &*s);

  Diagnostics bad;
  CHECK_FALSE(
      load("apiVersion: sluice.dev/v1alpha1\nkind: Scenario\nspec:\n  rollouts:\n"
           "    web: {rollouts: {}, readiness: soon}\n",
           bad));
  CHECK(bad.format().find("spec.rollouts.web.rollouts: belongs in spec only") != std::string::npos);
  CHECK(bad.format().find("spec.rollouts.web.readiness") != std::string::npos);
}
