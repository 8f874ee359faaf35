// calculatePhase (docs/design.md §A.8): the first matching rule decides the phase and message.
#include <catch2/catch.hpp>
#include <functional>

#include "engine/canary.h"
#include "tests/unit/engine/test_world.h"

using namespace sluice::engine;
using namespace sluice::engine::testing;

TEST_CASE("calculatePhase picks the first rule that matches", "[engine][phase]") {
  auto healthy = [] {
    Rollout r = RolloutBuilder().replicas(3).build();
    r.status.stableRS = r.status.currentPodHash = "abc";
    r.status.replicas = r.status.updatedReplicas = r.status.availableReplicas = 3;
    return r;
  };
  auto condition = [](const char* type, const char* reason) {
    return Condition{type, "True", reason, "why", t0(), t0()};
  };
  struct Row {
    const char* behaviour;
    std::function<void(Rollout&)> change;
    const char* phase;
    const char* message;
  };
  const Row rows[] = {
      {"all replicas updated and stable is Healthy", [](Rollout&) {}, "Healthy", ""},
      {"an invalid spec is Degraded first",
       [&](Rollout& r) {
         r.spec.paused = true;
         r.status.conditions.push_back(condition("InvalidSpec", "InvalidSpec"));
       },
       "Degraded", "InvalidSpec: why"},
      {"an abort is Degraded",
       [&](Rollout& r) { r.status.conditions.push_back(condition("Progressing", "RolloutAborted")); },
       "Degraded", "RolloutAborted: why"},
      {"a timed-out rollout is Degraded",
       [&](Rollout& r) {
         r.status.conditions.push_back(condition("Progressing", "ProgressDeadlineExceeded"));
       },
       "Degraded", "ProgressDeadlineExceeded: why"},
      {"spec.paused is manually paused", [](Rollout& r) { r.spec.paused = true; }, "Paused",
       "manually paused"},
      {"a pause condition names its reason",
       [](Rollout& r) {
         r.status.pauseConditions.push_back({kPauseReasonCanaryPauseStep, t0()});
       },
       "Paused", "CanaryPauseStep"},
      {"a pending restart is restarting",
       [](Rollout& r) {
         r.spec.restartAt = t0();
         r.status.updatedReplicas = 1;
       },
       "Progressing", "rollout is restarting"},
      {"a restart done (restartAt at restartedAt) no longer counts",
       [](Rollout& r) { r.spec.restartAt = r.status.restartedAt = t0(); }, "Healthy", ""},
      {"a pause comes before a restart",
       [](Rollout& r) {
         r.spec.restartAt = t0();
         r.spec.paused = true;
       },
       "Paused", "manually paused"},
      {"too few updated replicas", [](Rollout& r) { r.status.updatedReplicas = 1; }, "Progressing",
       "more replicas need to be updated"},
      {"updated but not available", [](Rollout& r) { r.status.availableReplicas = 2; }, "Progressing",
       "updated replicas are still becoming available"},
      {"basic canary with old pods left", [](Rollout& r) { r.status.replicas = 4; }, "Progressing",
       "old replicas are pending termination"},
      {"traffic-routed canary tolerates old pods",
       [](Rollout& r) {
         r.spec.canary.trafficRouting = TrafficRouting{};
         r.status.replicas = 4;
       },
       "Healthy", ""},
      {"not yet stable waits for the steps", [](Rollout& r) { r.status.stableRS = "old"; }, "Progressing",
       "waiting for all steps to complete"},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    Rollout r = healthy();
    row.change(r);
    const PhaseAndMessage got = calculatePhase(r, Observed{});
    CHECK(got.phase == row.phase);
    CHECK(got.message == row.message);
  }
}
