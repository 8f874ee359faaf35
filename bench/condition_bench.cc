// Compiled condition evaluation: the rate at which a successCondition runs on a result once compiled
// (budget: over 10 million a second for a scalar condition).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>

#include "analysis/condition.h"

namespace {

using sluice::analysis::CompiledCondition;
using sluice::analysis::Value;

CompiledCondition compiled(const char* condition) {
  auto c = sluice::analysis::compile(condition);
  if (!c) {
    std::cerr << condition << ": " << c.error() << "\n";
    std::abort();
  }
  return std::move(*c);
}

void evaluateEach(benchmark::State& state, const char* condition, const Value& result) {
  const CompiledCondition c = compiled(condition);
  for (auto _ : state) {
    auto got = c.evaluate(result);
    benchmark::DoNotOptimize(got);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Scalar(benchmark::State& state) { evaluateEach(state, "result >= 0.95", Value::number(0.97)); }
BENCHMARK(BM_Scalar);

void BM_ScalarNaNGuard(benchmark::State& state) {
  evaluateEach(state, "isNaN(result) || result >= 0.95", Value::number(0.97));
}
BENCHMARK(BM_ScalarNaNGuard);

void BM_VectorAll10(benchmark::State& state) {
  evaluateEach(state, "all(result, # < 1000)", Value::vector({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
}
BENCHMARK(BM_VectorAll10);

void BM_EmptyGuardThenIndex(benchmark::State& state) {
  evaluateEach(state, "len(result) == 0 || result[0] >= 0.95", Value::vector({0.97}));
}
BENCHMARK(BM_EmptyGuardThenIndex);

void BM_EmptyGuardOnEmpty(benchmark::State& state) {
  evaluateEach(state, "len(result) == 0 || result[0] >= 0.95", Value::vector({}));
}
BENCHMARK(BM_EmptyGuardOnEmpty);

void BM_Compile(benchmark::State& state) {
  for (auto _ : state) {
    auto c = sluice::analysis::compile("len(result) == 0 || result[0] >= 0.95");
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_Compile);

}  // namespace

BENCHMARK_MAIN();
