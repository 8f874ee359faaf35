// The canary's replica arithmetic (docs/design.md §A.6) as tables.
#include <catch2/catch.hpp>

#include "engine/replica_math.h"

using namespace sluice::engine;

TEST_CASE("approximateWeightedCounts picks the split closest to the weight", "[engine][replicas]") {
  struct Row {
    const char* behaviour;
    int replicas, weight, maxSurge;
    CanaryStableCounts want;
  };
  const Row rows[] = {
      {"10 replicas at 41% is 4/6", 10, 41, 3, {4, 6}},
      {"1 replica at 5% with surge runs one of each", 1, 5, 1, {1, 1}},
      {"1 replica at 5% without surge stays stable", 1, 5, 0, {0, 1}},
      {"1 replica at 60% without surge may go all canary", 1, 60, 0, {1, 0}},
      {"weight 0 is all stable", 5, 0, 1, {0, 5}},
      {"weight 100 is all canary", 5, 100, 1, {5, 0}},
      {"4 replicas at 50% is even", 4, 50, 1, {2, 2}},
      {"10 replicas at 20% is 2/8", 10, 20, 3, {2, 8}},
      {"2 replicas at 1% keeps one canary", 2, 1, 0, {1, 1}},
      {"2 replicas at 99% keeps one stable", 2, 99, 0, {1, 1}},
      {"3 replicas at 50% surges to 2/2", 3, 50, 1, {2, 2}},
      {"3 replicas at 50% without surge ties to the larger canary", 3, 50, 0, {2, 1}},
      {"no replicas, no pods", 0, 50, 1, {0, 0}},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    const auto got = approximateWeightedCounts(row.replicas, row.weight, row.maxSurge);
    CHECK(got.canary == row.want.canary);
    CHECK(got.stable == row.want.stable);
  }
}

TEST_CASE("nextBasicCanaryCounts moves within the surge and availability budgets", "[engine][replicas]") {
  struct Row {
    const char* behaviour;
    BasicCanaryScaling in;
    CanaryStableCounts want;
  };
  const Row rows[] = {
      {"scale-up spends the surge on the canary", {10, 20, 3, 2, {0, 0}, {10, 10}, 0}, {2, 8}},
      {"surge of 1 grows the canary one pod, stable shrinks within maxUnavailable",
       {10, 50, 1, 0, {0, 0}, {10, 10}, 0},
       {1, 10}},
      {"with the canary available the stable makes room", {10, 50, 1, 0, {1, 1}, {10, 10}, 0}, {1, 9}},
      {"stable is topped up before the canary", {10, 20, 3, 2, {2, 2}, {6, 6}, 0}, {2, 8}},
      {"old ReplicaSets drain before stable shrinks", {10, 20, 3, 2, {0, 0}, {10, 10}, 2}, {1, 10}},
      {"stable shrinks no further than maxUnavailable allows", {10, 50, 0, 2, {5, 0}, {10, 10}, 0}, {5, 8}},
      {"unavailable stable pods go first, for free", {10, 50, 0, 2, {5, 0}, {10, 7}, 0}, {5, 7}},
      {"abort grows the stable and shrinks the canary in one move",
       {10, 0, 3, 2, {3, 3}, {7, 7}, 0},
       {1, 10}},
      {"abort shrinks the canary to 0 once the stable is available",
       {10, 0, 3, 2, {1, 1}, {10, 10}, 0},
       {0, 10}},
      {"abort keeps enough available pods while the stable comes back",
       {10, 0, 1, 2, {3, 3}, {7, 7}, 0},
       {1, 8}},
      {"at the desired split nothing moves", {4, 50, 1, 1, {2, 2}, {2, 2}, 0}, {2, 2}},
      {"full weight grows the canary and empties the stable", {4, 100, 1, 1, {4, 4}, {1, 1}, 0}, {4, 0}},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    const auto got = nextBasicCanaryCounts(row.in);
    CHECK(got.canary == row.want.canary);
    CHECK(got.stable == row.want.stable);
  }
}

TEST_CASE("canaryReplicasForWeight rounds up against maxWeight", "[engine][replicas]") {
  CHECK(canaryReplicasForWeight(10, 25, 100) == 3);
  CHECK(canaryReplicasForWeight(10, 0, 100) == 0);
  CHECK(canaryReplicasForWeight(3, 1, 100) == 1);
  CHECK(canaryReplicasForWeight(10, 500, 1000) == 5);
  CHECK(canaryReplicasForWeight(10, 100, 100) == 10);
}

TEST_CASE("oldReplicaSetScaleDownBudget keeps the minimum available", "[engine][replicas]") {
  CHECK(oldReplicaSetScaleDownBudget(10, 2, 12) == 4);
  CHECK(oldReplicaSetScaleDownBudget(10, 2, 8) == 0);
  CHECK(oldReplicaSetScaleDownBudget(10, 2, 5) == 0);
}
