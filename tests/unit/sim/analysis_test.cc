// The simulator runs the real analysis engine: templates from the Rollout's file and from further files,
// args merged as the controller merges them, scenario metrics as the provider, and the checks that keep
// the scripted analysisRuns shortcut and templates apart.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>

#include "sim/report.h"
#include "sim/scenario_provider.h"
#include "sim/simulator.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::sim;

namespace {

const char* const kAnalysisRollout = R"(apiVersion: sluice.dev/v1alpha1
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
              - templateName: success-rate
            args:
              - name: hash
                valueFrom: {podTemplateHashValue: Latest}
        - setWeight: 100
)";

const char* const kTemplate = R"(apiVersion: sluice.dev/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  args:
    - name: hash
  metrics:
    - name: success-rate
      interval: 1m
      count: 3
      successCondition: result >= 0.95
      failureCondition: result < 0.9
      provider:
        prometheus:
          address: http://prometheus:9090
          query: sum(rate(ok{hash="{{args.hash}}"}[1m])) / sum(rate(all{hash="{{args.hash}}"}[1m]))
)";

struct Files {
  testing::TempDir dir;
  std::vector<std::string> manifests;
  std::string scenario;
};

void write(Files& f, const std::vector<std::string>& manifests, const std::string& scenarioSpec) {
  for (size_t i = 0; i < manifests.size(); ++i) {
    const std::string path = (f.dir.path() / ("manifest" + std::to_string(i) + ".yaml")).string();
    std::ofstream(path) << manifests[i];
    f.manifests.push_back(path);
  }
  f.scenario = (f.dir.path() / "scenario.yaml").string();
  std::ofstream(f.scenario) << "apiVersion: sluice.dev/v1alpha1\nkind: Scenario\nspec:\n" << scenarioSpec;
}

struct Outcome {
  std::string diagnostics;
  std::optional<SimResult> result;
};

Outcome simulateFiles(const Files& f) {
  Diagnostics diags;
  auto input = loadSimInput(f.manifests, f.scenario, diags);
  Outcome out{diags.format(), std::nullopt};
  if (!input) return out;
  SimOptions options;
  for (const auto& t : input->templates) options.templates.push_back(t.analysisTemplate);
  options.clusterObjects = input->objects;
  auto r = simulate(input->rollouts.front(), input->scenario, options);
  REQUIRE(r);
  out.result = std::move(*r);
  return out;
}

// Simulates `manifests` (a file each) against the scenario whose spec is `scenarioSpec`.
Outcome simulateManifests(const std::vector<std::string>& manifests, const std::string& scenarioSpec) {
  Files f;
  write(f, manifests, scenarioSpec);
  return simulateFiles(f);
}

const AnalysisRunRecord& onlyRun(const SimResult& r) {
  REQUIRE(r.analysisRuns.size() == 1);
  return r.analysisRuns.front();
}

}  // namespace

TEST_CASE("a healthy metric lets the analysis step pass with every measurement shown", "[sim][analysis]") {
  const Outcome o = simulateManifests({std::string(kAnalysisRollout) + "---\n" + kTemplate},
                                      "  metrics:\n    success-rate:\n      - {at: 0s, value: 0.99}\n");
  INFO(o.diagnostics);
  REQUIRE(o.result);
  CHECK(o.result->phase == "Healthy");
  const AnalysisRunRecord& run = onlyRun(*o.result);
  CHECK(run.phase == "Successful");
  CHECK_FALSE(run.scripted);
  REQUIRE(run.measurements.size() == 3);
  CHECK(run.measurements[0].t == Duration{0});
  CHECK(run.measurements[1].t == Duration{60});
  CHECK(run.measurements[2].t == Duration{120});
  CHECK(run.measurements[2].value == "0.99");
  CHECK(run.endedAt == Duration{120});
  const std::string table = formatTable(*o.result);
  CHECK_THAT(table, Catch::Contains("0s..2m x3  success-rate  Successful  0.99"));
  const auto json = toJson(*o.result);
  CHECK(json["analysisRuns"][0]["measurements"].size() == 3);
  CHECK(json["analysisRuns"][0]["measurements"][0]["phase"] == "Successful");
  CHECK_THAT(renderSvg(*o.result), Catch::Contains("class=\"measurement\""));
}

TEST_CASE("a metric that crosses the failure condition aborts the rollout at that measurement",
          "[sim][analysis]") {
  // The template comes from a second file, as `sluice sim rollout.yaml templates.yaml` passes it.
  const Outcome o = simulateManifests({kAnalysisRollout, kTemplate},
                                      "  metrics:\n    success-rate:\n      - {at: 0s, value: 0.99}\n"
                                      "      - {at: 90s, value: 0.8}\n");
  INFO(o.diagnostics);
  REQUIRE(o.result);
  CHECK(o.result->aborted);
  CHECK(o.result->phase == "Degraded");
  const AnalysisRunRecord& run = onlyRun(*o.result);
  CHECK(run.phase == "Failed");
  CHECK(run.endedAt == Duration{120});
  REQUIRE(o.result->aborts.size() == 1);
  CHECK(o.result->aborts[0].t == Duration{120});
  CHECK_THAT(o.result->aborts[0].message, Catch::Contains("failed (1) > failureLimit (0)"));
}

TEST_CASE("between the conditions a measurement is inconclusive and the rollout pauses", "[sim][analysis]") {
  const Outcome o = simulateManifests({kAnalysisRollout, kTemplate},
                                      "  metrics:\n    success-rate:\n      - {at: 0s, value: 0.92}\n");
  INFO(o.diagnostics);
  REQUIRE(o.result);
  CHECK(o.result->phase == "Paused");
  CHECK(onlyRun(*o.result).phase == "Inconclusive");
}

TEST_CASE("errors, NaN and empty results reach the conditions as a provider gives them", "[sim][analysis]") {
  // Five consecutive errors (10 s apart) error the metric with the provider's message.
  const Outcome o =
      simulateManifests({kAnalysisRollout, kTemplate},
                        "  metrics:\n    success-rate:\n      - {at: 0s, error: \"connection refused\"}\n");
  INFO(o.diagnostics);
  REQUIRE(o.result);
  const AnalysisRunRecord& run = onlyRun(*o.result);
  CHECK(run.phase == "Error");
  REQUIRE(run.measurements.size() == 5);
  CHECK(run.measurements[4].t == Duration{40});
  CHECK(run.measurements[4].message == "connection refused");
  CHECK(o.result->aborted);

  const std::map<std::string, std::vector<MetricPoint>> series = {
      {"m",
       {MetricPoint{Duration{0}, MetricPoint::Kind::NaN, {std::nan("")}, ""},
        MetricPoint{Duration{60}, MetricPoint::Kind::Empty, {}, ""},
        MetricPoint{Duration{120}, MetricPoint::Kind::Values, {0.5, 0.25}, ""}}}};
  ScenarioProvider provider(series, kEpoch);
  analysis::Metric metric;
  metric.name = "m";
  auto nan = provider.measure(metric, kEpoch + Duration{30});
  REQUIRE(nan);
  CHECK(std::isnan(nan->value.asNumber()));
  CHECK(nan->text == "NaN");
  auto empty = provider.measure(metric, kEpoch + Duration{60});
  REQUIRE(empty);
  CHECK(empty->value.asVector().empty());
  CHECK(empty->text == "[]");
  auto vec = provider.measure(metric, kEpoch + Duration{500});
  REQUIRE(vec);
  CHECK(vec->text == "[0.5 0.25]");
  auto before = provider.measure(metric, kEpoch - Duration{5});
  REQUIRE_FALSE(before);
  CHECK_THAT(before.error(), Catch::Contains("no point at or before"));
  metric.name = "other";
  auto missing = provider.measure(metric, kEpoch);
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error(), Catch::Contains("spec.metrics.other"));
}

TEST_CASE("templates and scripted outcomes are checked against each other", "[sim][analysis]") {
  struct Row {
    const char* behaviour;
    bool withTemplate;
    const char* scenario;
    const char* expected;
  };
  const Row rows[] = {
      {"a template both given and scripted is an error at the scripted entry", true,
       "  analysisRuns:\n    success-rate: {phase: Successful}\n  metrics:\n    success-rate: [{at: 0s, "
       "value: 1}]\n",
       "spec.analysisRuns.success-rate: analysis template \"success-rate\" is given as an AnalysisTemplate "
       "and also scripted here"},
      {"a template neither given nor scripted says both ways out", false, "  duration: 1h\n",
       "has no outcome in the scenario (spec.analysisRuns.success-rate: {phase: Successful, after: 5m}) and "
       "no AnalysisTemplate named \"success-rate\" was given"},
      {"a given template's metric without values names the metric", true, "  duration: 1h\n",
       "spec.strategy.canary.steps[1].analysis: metric \"success-rate\" of this analysis has no values in "
       "the scenario"},
  };
  for (const auto& row : rows) {
    SECTION(row.behaviour) {
      Files f;
      if (row.withTemplate) {
        write(f, {kAnalysisRollout, kTemplate}, row.scenario);
      } else {
        write(f, {kAnalysisRollout}, row.scenario);
      }
      const Outcome o = simulateFiles(f);
      CHECK_FALSE(o.result);
      CHECK_THAT(o.diagnostics, Catch::Contains(row.expected));
    }
  }
}

TEST_CASE("the example with real templates aborts at the second its scenario predicts", "[sim][analysis]") {
  const std::string dir = std::string(SLUICE_SOURCE_DIR) + "/examples/analysis-templates/";
  Diagnostics diags;
  auto input = loadSimInput({dir + "rollout.yaml", dir + "templates.yaml"}, dir + "scenario.yaml", diags);
  INFO(diags.format());
  REQUIRE(input);
  SimOptions options;
  for (const auto& t : input->templates) options.templates.push_back(t.analysisTemplate);
  auto r = simulate(input->rollouts.front(), input->scenario, options);
  REQUIRE(r);
  REQUIRE(r->aborts.size() == 1);
  CHECK(r->aborts[0].t == Duration{320});
  CHECK(r->phase == "Degraded");
}

namespace {

const char* const kJobTemplate = R"(apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  args:
    - name: hash
  metrics:
    - name: smoke
      interval: 5m
      count: 2
      failureLimit: 0
      provider:
        job:
          spec:
            template:
              spec:
                containers: [{name: smoke, image: smoke:1, args: ["{{args.hash}}"]}]
                restartPolicy: Never
)";

}  // namespace

TEST_CASE("a job metric runs as the scenario's job points say", "[sim][analysis][job]") {
  SECTION("{job: {after}}: every Job completes after that long, and the step passes") {
    const Outcome o = simulateManifests({std::string(kAnalysisRollout) + "---\n" + kJobTemplate},
                                        "  metrics:\n    smoke: {job: {after: 2m}}\n");
    INFO(o.diagnostics);
    REQUIRE(o.result);
    CHECK(o.result->phase == "Healthy");
    const AnalysisRunRecord& run = onlyRun(*o.result);
    CHECK(run.phase == "Successful");
    REQUIRE(run.measurements.size() == 2);
    // Each Job ran 2m; the next started an interval after the first finished.
    CHECK(run.measurements[0].t == Duration{0});
    CHECK(run.measurements[0].phase == "Successful");
    CHECK(run.measurements[1].t == Duration{420});
    REQUIRE(run.endedAt);
    CHECK(*run.endedAt - run.startedAt == Duration{540});
  }
  SECTION("a list of job points: a Job that fails aborts the Rollout") {
    const Outcome o =
        simulateManifests({std::string(kAnalysisRollout) + "---\n" + kJobTemplate},
                          "  metrics:\n    smoke:\n      - {at: 0s, job: {after: 30s, fails: true}}\n");
    INFO(o.diagnostics);
    REQUIRE(o.result);
    CHECK(o.result->aborted);
    const AnalysisRunRecord& run = onlyRun(*o.result);
    CHECK(run.phase == "Failed");
    REQUIRE(run.measurements.size() == 1);
    CHECK(run.measurements[0].phase == "Failed");
    REQUIRE(run.endedAt);
    CHECK(*run.endedAt - run.startedAt == Duration{30});
  }
  SECTION("a value point for a job metric is an Error measurement that says so") {
    const Outcome o = simulateManifests({std::string(kAnalysisRollout) + "---\n" + kJobTemplate},
                                        "  metrics:\n    smoke:\n      - {at: 0s, value: 1}\n");
    REQUIRE(o.result);
    const AnalysisRunRecord& run = onlyRun(*o.result);
    REQUIRE(!run.measurements.empty());
    CHECK(run.measurements[0].phase == "Error");
    CHECK_THAT(run.measurements[0].message, Catch::Contains("the metric runs a Job"));
  }
  SECTION("a job metric the scenario does not script is named with the form it takes") {
    const Outcome o =
        simulateManifests({std::string(kAnalysisRollout) + "---\n" + kJobTemplate}, "  duration: 1h\n");
    CHECK_FALSE(o.result);
    CHECK_THAT(o.diagnostics,
               Catch::Contains("metric \"smoke\" of this analysis has no values in the scenario "
                               "(spec.metrics.smoke: {job: {after: 1m}})"));
  }
  SECTION("a job point is checked like any other") {
    const Outcome o = simulateManifests({std::string(kAnalysisRollout) + "---\n" + kJobTemplate},
                                        "  metrics:\n    smoke: {job: {after: soon, fails: maybe}}\n");
    CHECK_FALSE(o.result);
    CHECK_THAT(o.diagnostics, Catch::Contains("spec.metrics.smoke.job.after"));
    CHECK_THAT(o.diagnostics, Catch::Contains("spec.metrics.smoke.job.fails: must be true or false"));
  }
}

namespace {

const char* const kWebAnswerTemplate = R"(apiVersion: sluice.dev/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  metrics:
    - name: version
      count: 2
      interval: 1m
      successCondition: result.message == 'It worked!' && result.major == '1'
      provider:
        web:
          url: https://version.example/status
          jsonPath: "{$.data}"
)";

}  // namespace

TEST_CASE("a web metric's answer may be scripted as the object its jsonPath gives", "[sim][analysis]") {
  SECTION("the answer the condition wants: the step passes, the measurement recorded as JSON") {
    const Outcome o = simulateManifests(
        {kAnalysisRollout, kWebAnswerTemplate},
        "  metrics:\n    version:\n      - {at: 0s, value: {message: It worked!, major: \"1\"}}\n");
    INFO(o.diagnostics);
    REQUIRE(o.result);
    CHECK(o.result->phase == "Healthy");
    const AnalysisRunRecord& run = onlyRun(*o.result);
    CHECK(run.phase == "Successful");
    REQUIRE(run.measurements.size() == 2);
    CHECK(run.measurements[0].value == R"({"major":"1","message":"It worked!"})");
  }
  SECTION("another answer fails the step") {
    const Outcome o = simulateManifests(
        {kAnalysisRollout, kWebAnswerTemplate},
        "  metrics:\n    version:\n      - {at: 0s, value: {message: It worked!, major: \"2\"}}\n");
    INFO(o.diagnostics);
    REQUIRE(o.result);
    CHECK(o.result->aborted);
    CHECK(onlyRun(*o.result).phase == "Failed");
  }
}

namespace {

const char* const kSecretTemplate = R"(apiVersion: sluice.dev/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  args:
    - name: url
      valueFrom:
        secretKeyRef: {name: status-endpoint, key: url}
  metrics:
    - name: version
      successCondition: result == 'ok'
      provider:
        web:
          url: "{{args.url}}"
)";

const char* const kStatusSecret = R"(apiVersion: v1
kind: Secret
metadata:
  name: status-endpoint
stringData:
  url: https://status.example/check
)";

}  // namespace

TEST_CASE("a template's secretKeyRef args are read from the Secrets in the input files", "[sim][analysis]") {
  const std::string scenario = "  metrics:\n    version:\n      - {at: 0s, value: ok}\n";
  SECTION("the Secret given: the run measures and passes") {
    const Outcome o = simulateManifests({kAnalysisRollout, kSecretTemplate, kStatusSecret}, scenario);
    INFO(o.diagnostics);
    REQUIRE(o.result);
    CHECK(o.result->phase == "Healthy");
    CHECK(onlyRun(*o.result).phase == "Successful");
  }
  SECTION("no Secret: the run ends in Error naming it, as on a cluster") {
    const Outcome o = simulateManifests({kAnalysisRollout, kSecretTemplate}, scenario);
    INFO(o.diagnostics);
    REQUIRE(o.result);
    const AnalysisRunRecord& run = onlyRun(*o.result);
    CHECK(run.phase == "Error");
    CHECK_THAT(run.message, Catch::Contains("key \"url\" of Secret \"status-endpoint\" not found"));
  }
}
