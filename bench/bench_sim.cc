// bench_sim: simulate a 10-step plan with two analysis steps over two virtual hours. The plan is built
// once; what is measured is the simulation itself: engine, world, and the status round trips; with
// templates, also the real analysis engine (merge, templating, conditions, five measurements a run).
// Budget (docs/design.md §9): under 1 ms of CPU.
#include <benchmark/benchmark.h>

#include "analysis/model_json.h"
#include "engine/rollout_json.h"
#include "sim/simulator.h"

namespace {

using namespace sluice;

const char* const kPlan = R"({
  "apiVersion": "sluice.dev/v1alpha1",
  "kind": "Rollout",
  "metadata": {"name": "bench", "namespace": "default"},
  "spec": {
    "replicas": 10,
    "selector": {"matchLabels": {"app": "bench"}},
    "template": {
      "metadata": {"labels": {"app": "bench"}},
      "spec": {"containers": [{"name": "app", "image": "registry.example/bench:v2"}]}
    },
    "strategy": {"canary": {
      "canaryService": "bench-canary",
      "stableService": "bench-stable",
      "trafficRouting": {"nginx": {"stableIngress": "bench"}},
      "steps": [
        {"setWeight": 10}, {"pause": {"duration": "10m"}},
        {"setWeight": 20}, {"analysis": {"templates": [{"templateName": "success-rate"}]}},
        {"setWeight": 40}, {"pause": {"duration": "15m"}},
        {"setWeight": 60}, {"analysis": {"templates": [{"templateName": "latency"}]}},
        {"setWeight": 80}, {"pause": {"duration": "15m"}}
      ]
    }}
  }
})";

// The two templates the plan's analysis steps use: five measurements a minute apart each.
analysis::AnalysisTemplate benchTemplate(const std::string& name, const std::string& condition) {
  const nlohmann::json object = {
      {"apiVersion", "sluice.dev/v1alpha1"},
      {"kind", "AnalysisTemplate"},
      {"metadata", {{"name", name}}},
      {"spec",
       {{"args", {{{"name", "service"}, {"value", "bench"}}}},
        {"metrics",
         {{{"name", name},
           {"interval", "1m"},
           {"count", 5},
           {"successCondition", condition},
           {"provider",
            {{"prometheus",
              {{"address", "http://prometheus:9090"},
               {"query", "sum(rate(x{service=\"{{args.service}}\"}[1m]))"}}}}}}}}}}};
  Diagnostics diags;
  auto parsed = analysis::parseAnalysisTemplate(object, SourceMap(), diags);
  return parsed ? *parsed : analysis::AnalysisTemplate{};
}

struct Plan {
  sim::RolloutInput input;
  sim::Scenario scenario;
  sim::SimOptions options;
};

Plan buildPlan() {
  Plan plan;
  plan.input.object = nlohmann::json::parse(kPlan);
  Diagnostics diags;
  auto rollout = engine::parseRollout(plan.input.object, plan.input.source, diags);
  if (rollout) plan.input.rollout = *rollout;
  plan.scenario.duration = Duration{2 * 3600};
  plan.scenario.readiness = Duration{30};
  plan.scenario.analysisRuns["success-rate"] = sim::AnalysisOutcome{"Successful", Duration{600}, "", ""};
  plan.scenario.analysisRuns["latency"] = sim::AnalysisOutcome{"Successful", Duration{600}, "", ""};
  return plan;
}

void BM_SimulateTenStepPlan(benchmark::State& state) {
  const Plan plan = buildPlan();
  for (auto _ : state) {
    auto result = sim::simulate(plan.input, plan.scenario);
    if (!result) {
      state.SkipWithError(result.error().c_str());
      return;
    }
    if (result->phase != "Healthy") {
      state.SkipWithError(("the plan ended " + result->phase + ", not Healthy").c_str());
      return;
    }
    benchmark::DoNotOptimize(result->timeline.data());
  }
}
BENCHMARK(BM_SimulateTenStepPlan)->Unit(benchmark::kMicrosecond);

// The same plan with its two analyses run by the analysis engine on scenario metrics.
Plan buildPlanWithTemplates() {
  Plan plan = buildPlan();
  plan.scenario.analysisRuns.clear();
  plan.options.templates = {benchTemplate("success-rate", "result[0] >= 0.95"),
                            benchTemplate("latency", "all(result, # < 0.5)")};
  plan.scenario.metrics["success-rate"] = {
      sim::MetricPoint{Duration{0}, sim::MetricPoint::Kind::Values, {0.99}, ""}};
  plan.scenario.metrics["latency"] = {
      sim::MetricPoint{Duration{0}, sim::MetricPoint::Kind::Values, {0.2, 0.3}, ""}};
  return plan;
}

void BM_SimulateTenStepPlanWithTemplates(benchmark::State& state) {
  const Plan plan = buildPlanWithTemplates();
  for (auto _ : state) {
    auto result = sim::simulate(plan.input, plan.scenario, plan.options);
    if (!result) {
      state.SkipWithError(result.error().c_str());
      return;
    }
    if (result->phase != "Healthy" || result->analysisRuns.size() != 2 ||
        result->analysisRuns[0].measurements.size() != 5) {
      state.SkipWithError(("the plan ended " + result->phase + ", not Healthy after two analyses").c_str());
      return;
    }
    benchmark::DoNotOptimize(result->timeline.data());
  }
}
BENCHMARK(BM_SimulateTenStepPlanWithTemplates)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
