// The checks between a scenario and the Rollouts it drives, made before any simulation starts.
#include <catch2/catch.hpp>

#include "engine/rollout_json.h"
#include "sim/simulator.h"

using namespace sluice;
using namespace sluice::sim;

namespace {

const char* const kInputRollout = R"(apiVersion: sluice.dev/v1alpha1
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
        - setWeight: 20
        - analysis:
            templates:
              - templateName: success-rate
              - templateName: latency
)";

RolloutInput rolloutInput() {
  auto docs = parseYamlDocuments(kInputRollout, "rollout.yaml");
  REQUIRE(docs.ok());
  Diagnostics diags;
  auto rollout = engine::parseRollout(docs->front().json, docs->front().source, diags);
  INFO(diags.format());
  REQUIRE(rollout);
  return RolloutInput{docs->front().json, docs->front().source, *rollout, std::nullopt};
}

Scenario scenario(const std::string& spec) {
  auto docs =
      parseYamlDocuments("apiVersion: sluice.dev/v1alpha1\nkind: Scenario\nspec:\n" + spec, "scenario.yaml");
  REQUIRE(docs.ok());
  Diagnostics diags;
  auto s = parseScenario(docs->front().json, docs->front().source, diags);
  INFO(diags.format());
  REQUIRE(s);
  return *s;
}

std::string check(const std::string& spec) {
  Diagnostics diags;
  checkScenarioAgainstRollouts({rolloutInput()}, scenario(spec), diags);
  return diags.format();
}

}  // namespace

TEST_CASE("every template a Rollout uses needs an outcome and every outcome a use", "[sim][input]") {
  struct Row {
    const char* behaviour;
    const char* spec;
    std::vector<std::string> expected;  // substrings of the diagnostics, in order; empty: no diagnostics
  };
  const Row rows[] = {
      {"a scenario with both outcomes is accepted",
       "  analysisRuns:\n    success-rate: {phase: Successful}\n    latency: {phase: Successful}\n",
       {}},
      {"a template without outcome names the template and the step that uses it",
       "  analysisRuns:\n    success-rate: {phase: Successful}\n",
       {"rollout.yaml:23:17: error: spec.strategy.canary.steps[1].analysis.templates[1].templateName: "
        "analysis "
        "template \"latency\", used by step 1 (analysis: success-rate,latency) of Rollout \"web\", has no "
        "outcome"}},
      {"an outcome for a template nobody uses is an error in the scenario",
       "  analysisRuns:\n    success-rate: {phase: Successful}\n    latency: {phase: Successful}\n"
       "    error-rate: {phase: Failed}\n",
       {"scenario.yaml:7:5: error: spec.analysisRuns.error-rate: analysis template \"error-rate\" is not "
        "used by "
        "any Rollout"}},
      {"an update of a container that does not exist",
       "  analysisRuns:\n    success-rate: {phase: Successful}\n    latency: {phase: Successful}\n"
       "  actions:\n    - {at: 5m, update: {image: x:v3, container: sidecar}}\n",
       {"scenario.yaml:8:38: error: spec.actions[0].update.container: Rollout \"web\" has no container named "
        "\"sidecar\""}},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    const std::string got = check(row.spec);
    INFO(got);
    if (row.expected.empty()) CHECK(got.empty());
    for (const auto& e : row.expected) CHECK(got.find(e) != std::string::npos);
  }
}

TEST_CASE("the stable image replaces the tag with previous unless the scenario names one", "[sim][input]") {
  struct Row {
    const char* image;
    const char* expected;
  };
  const Row rows[] = {
      {"registry.example/app:v2", "registry.example/app:previous"},
      {"app", "app:previous"},
      {"registry.example:5000/app", "registry.example:5000/app:previous"},
      {"registry.example/app@sha256:abc", "registry.example/app:previous"},
  };
  for (const auto& row : rows) CHECK(stableImageFor(row.image, std::nullopt) == row.expected);
  CHECK(stableImageFor("app:v2", std::string("app:v1")) == "app:v1");
}

TEST_CASE("a scenario gives each Rollout its own section by name", "[sim][input][canary-semantics]") {
  struct Row {
    const char* behaviour;
    const char* spec;
    std::vector<std::string> expected;  // substrings of the diagnostics; empty: no diagnostics
  };
  const Row rows[] = {
      {"a section's outcomes replace the shared ones for its Rollout",
       "  analysisRuns:\n    latency: {phase: Failed}\n"
       "  rollouts:\n    web:\n      analysisRuns:\n        success-rate: {phase: Successful}\n"
       "        latency: {phase: Successful}\n",
       {}},
      {"a section for a Rollout not given",
       "  analysisRuns:\n    success-rate: {phase: Successful}\n    latency: {phase: Successful}\n"
       "  rollouts:\n    api: {readiness: 5s}\n",
       {"scenario.yaml:8:5: error: spec.rollouts.api: no Rollout named \"api\" was given"}},
      {"an outcome in a section its Rollout does not use",
       "  rollouts:\n    web:\n      analysisRuns:\n        success-rate: {phase: Successful}\n"
       "        latency: {phase: Successful}\n        smoke: {phase: Successful}\n",
       {"spec.rollouts.web.analysisRuns.smoke: analysis template \"smoke\" is not used by Rollout \"web\""}},
      {"a section without the outcomes its Rollout needs",
       "  rollouts:\n    web:\n      analysisRuns:\n        success-rate: {phase: Successful}\n",
       {"analysis template \"latency\", used by step 1"}},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    const std::string got = check(row.spec);
    INFO(got);
    if (row.expected.empty()) CHECK(got.empty());
    for (const auto& e : row.expected) CHECK(got.find(e) != std::string::npos);
  }
}
