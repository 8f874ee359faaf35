// Random plans under random people's actions and time jumps: the canary's invariants hold and every
// instant reaches a fixed point. Seeded, so a failure names the seed that reproduces it.
#include <catch2/catch.hpp>
#include <random>

#include "tests/unit/engine/test_world.h"

using namespace sluice;
using namespace sluice::engine;
using namespace sluice::engine::testing;

namespace {

struct Random {
  std::mt19937 rng;
  explicit Random(uint32_t seed) : rng(seed) {}
  int below(int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); }
  bool chance(int percent) { return below(100) < percent; }
};

Rollout randomPlan(Random& rnd) {
  RolloutBuilder b;
  b.replicas(1 + rnd.below(20));
  const bool traffic = rnd.chance(50);
  if (traffic) b.nginx();
  const int steps = rnd.below(7);
  for (int i = 0; i < steps; ++i) {
    switch (rnd.below(traffic ? 6 : 4)) {
      case 0:
        b.setWeight(rnd.below(101));
        break;
      case 1:
        b.pause();
        break;
      case 2:
        b.pause(1 + rnd.below(300));
        break;
      case 3:
        b.analysis("check");
        break;
      case 4:
        b.canaryScale(rnd.below(5), std::nullopt, rnd.chance(30));
        break;
      default:
        b.headerRoute("header");
        break;
    }
  }
  if (rnd.chance(25)) b.backgroundAnalysis("bg", rnd.below(3));
  Rollout r = b.build();
  r.spec.progressDeadlineSeconds = 60 + rnd.below(600);
  r.spec.progressDeadlineAbort = rnd.chance(30);
  if (traffic && rnd.chance(30)) r.spec.canary.abortScaleDownDelaySeconds = rnd.below(3) * 20;
  if (rnd.chance(30)) r.spec.canary.maxSurge = {rnd.below(3), false};
  if (rnd.chance(30)) r.spec.canary.maxUnavailable = {rnd.below(3), false};
  if (r.spec.canary.maxSurge.value == 0 && r.spec.canary.maxUnavailable.value == 0)
    r.spec.canary.maxSurge = {1, false};
  return r;
}

analysis::Phase randomRunPhase(Random& rnd) {
  const int roll = rnd.below(100);
  if (roll < 55) return analysis::Phase::Successful;
  if (roll < 75) return analysis::Phase::Running;
  if (roll < 85) return analysis::Phase::Inconclusive;
  if (roll < 95) return analysis::Phase::Failed;
  return analysis::Phase::Error;
}

// The invariants every decision keeps.
void checkDecision(const Rollout& before, const Decision& d, int maxWeight) {
  const RolloutStatus& after = d.status;
  if (after.canary.weights) {
    const auto& w = *after.canary.weights;
    REQUIRE(w.canary.weight >= 0);
    REQUIRE(w.canary.weight <= maxWeight);
    REQUIRE(w.canary.weight + w.stable.weight == maxWeight);
    if (after.abort) REQUIRE(w.canary.weight == 0);
  }
  for (const auto& a : d.actions) {
    if (const auto* t = std::get_if<SetTrafficWeight>(&a)) {
      REQUIRE(t->canaryWeight + t->stableWeight == maxWeight);
      if (after.abort) REQUIRE(t->canaryWeight == 0);
    }
  }
  if (after.phase == "Healthy") REQUIRE(after.stableRS == after.currentPodHash);
  const bool newRevision = after.currentPodHash != before.status.currentPodHash ||
                           after.currentStepHash != before.status.currentStepHash;
  const bool retried = !before.status.abort && before.status.abortedAt.has_value();
  const int stepsBefore = before.status.currentStepIndex.value_or(0);
  const int stepsAfter = after.currentStepIndex.value_or(0);
  if (stepsAfter < stepsBefore) REQUIRE((newRevision || retried || after.abort));
  // One step per call, except a jump to the end (promotion, promote --full, going back to stable).
  const int stepCount = static_cast<int>(before.spec.canary.steps.size());
  if (stepsAfter > stepsBefore + 1) REQUIRE(stepsAfter == stepCount);
  if (d.requeueAfter) REQUIRE(d.requeueAfter->count() > 0);
}

void randomAction(FakeWorld& w, Random& rnd) {
  auto steer = [&](Result<SteeringPatch> patch) {
    if (patch.ok()) applySteering(w.rollout, *patch);
  };
  switch (rnd.below(10)) {
    case 0:
      steer(promotePatch(w.rollout));
      break;
    case 1:
      steer(promoteFullPatch(w.rollout));
      break;
    case 2:
      steer(abortPatch(w.rollout));
      break;
    case 3:
      steer(retryPatch(w.rollout));
      break;
    case 4:
      steer(rnd.chance(50) ? pausePatch(w.rollout) : resumePatch(w.rollout));
      break;
    case 5:
      w.newImage("web:" + std::to_string(1 + rnd.below(3)));
      break;
    case 6:  // a running analysis finishes
      for (auto& run : w.observed.analysisRuns) {
        if (run.phase == analysis::Phase::Running && rnd.chance(50)) run.phase = randomRunPhase(rnd);
      }
      break;
    case 7:
      if (w.last.requeueAfter) w.now += *w.last.requeueAfter;
      break;
    default:
      w.now += Duration{1 + rnd.below(400)};
      break;
  }
}

}  // namespace

TEST_CASE("random plans and actions keep the canary's invariants", "[engine][property]") {
  constexpr uint32_t kRuns = 2000;
  for (uint32_t seed = 1; seed <= kRuns; ++seed) {
    INFO("seed " << seed);
    Random rnd(seed);
    FakeWorld w(randomPlan(rnd));
    w.readyAfterCalls = rnd.below(3);
    // One pod at a time (surge 1, unavailable 0) with slow pods takes a few calls per pod.
    w.settleLimit = 50 + 8 * w.rollout.spec.replicas;
    const int maxWeight =
        w.rollout.spec.canary.trafficRouting ? w.rollout.spec.canary.trafficRouting->maxWeight() : 100;
    w.runPhase = [&rnd](AnalysisRunType, std::optional<int>) { return randomRunPhase(rnd); };
    w.afterCall = [maxWeight](const Rollout& before, const Decision& d) {
      checkDecision(before, d, maxWeight);
    };
    w.settle();
    for (int action = 0; action < 25; ++action) {
      randomAction(w, rnd);
      w.settle();
    }
  }
}

TEST_CASE("random plans left alone end Healthy on the new revision", "[engine][property]") {
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    INFO("seed " << seed);
    Random rnd(seed);
    FakeWorld w(randomPlan(rnd));
    w.rollout.spec.progressDeadlineAbort = false;
    w.readyAfterCalls = rnd.below(3);
    w.settleLimit = 50 + 8 * w.rollout.spec.replicas;
    w.settle();
    w.newImage("web:2");
    w.settle();
    // People promote through indefinite pauses; analysis always passes.
    for (int round = 0; round < 20 && w.rollout.status.phase != "Healthy"; ++round) {
      w.runFor(Duration{600});
      if (w.rollout.status.phase == "Paused") {
        auto patch = promotePatch(w.rollout);
        if (patch.ok()) applySteering(w.rollout, *patch);
      }
    }
    CHECK(w.rollout.status.phase == "Healthy");
    CHECK(w.rollout.status.stableRS == podTemplateHash(w.rollout.spec.podTemplate));
  }
}
