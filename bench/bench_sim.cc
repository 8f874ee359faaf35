// bench_sim: simulate a 10-step plan with two analysis steps over two virtual hours. The plan is built
// once; what is measured is the simulation itself: engine, world, and the status round trips.
// Budget (DESIGN.md): under 1 ms of CPU.
#include <benchmark/benchmark.h>

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

struct Plan {
  sim::RolloutInput input;
  sim::Scenario scenario;
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

}  // namespace

BENCHMARK_MAIN();
