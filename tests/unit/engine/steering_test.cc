// The merge patches of promote, promote --full, abort, retry, pause and resume (docs/design.md §A.4).
#include <catch2/catch.hpp>

#include "engine/steering.h"
#include "tests/unit/engine/test_world.h"

using namespace sluice::engine;
using namespace sluice::engine::testing;
using nlohmann::json;

namespace {

Rollout midRollout() {
  Rollout r = RolloutBuilder().setWeight(20).pause().setWeight(50).build();
  r.status.stableRS = "stable";
  r.status.currentPodHash = "canary";
  r.status.currentStepIndex = 1;
  return r;
}

Rollout fullyPromoted() {
  Rollout r = RolloutBuilder().setWeight(20).pause().build();
  r.status.stableRS = r.status.currentPodHash = "stable";
  r.status.currentStepIndex = 2;
  return r;
}

}  // namespace

TEST_CASE("steering builds the patches people's actions send", "[engine][steering]") {
  struct Row {
    const char* behaviour;
    std::function<void(Rollout&)> setup;
    std::function<sluice::Result<SteeringPatch>(const Rollout&)> verb;
    json spec;
    json status;
  };
  const Row rows[] = {
      {"promote on a pause step clears the pause conditions",
       [](Rollout& r) {
         r.status.pauseConditions = {{kPauseReasonCanaryPauseStep, t0()}};
       },
       promotePatch,
       nullptr,
       {{"status", {{"pauseConditions", nullptr}}}}},
      {"promote with no pause skips the current step",
       [](Rollout&) {},
       promotePatch,
       nullptr,
       {{"status", {{"currentStepIndex", 2}}}}},
      {"promote of a manually paused rollout unpauses it",
       [](Rollout& r) { r.spec.paused = true; },
       promotePatch,
       {{"spec", {{"paused", false}}}},
       nullptr},
      {"promote of an inconclusive step also moves to the next step",
       [](Rollout& r) {
         r.status.pauseConditions = {{kPauseReasonInconclusiveAnalysis, t0()}};
         r.status.controllerPause = true;
         r.status.canary.currentStepAnalysisRunStatus = AnalysisRunStatusRef{"run", "Inconclusive", ""};
       },
       promotePatch,
       nullptr,
       {{"status", {{"pauseConditions", nullptr}, {"controllerPause", false}, {"currentStepIndex", 2}}}}},
      {"promote --full asks for full promotion",
       [](Rollout&) {},
       promoteFullPatch,
       nullptr,
       {{"status", {{"promoteFull", true}}}}},
      {"promote --full of a paused rollout also unpauses",
       [](Rollout& r) { r.spec.paused = true; },
       promoteFullPatch,
       {{"spec", {{"paused", false}}}},
       {{"status", {{"promoteFull", true}}}}},
      {"abort sets status.abort", [](Rollout&) {}, abortPatch, nullptr, {{"status", {{"abort", true}}}}},
      {"retry clears status.abort",
       [](Rollout& r) { r.status.abort = true; },
       retryPatch,
       nullptr,
       {{"status", {{"abort", false}}}}},
      {"pause sets spec.paused", [](Rollout&) {}, pausePatch, {{"spec", {{"paused", true}}}}, nullptr},
      {"resume clears spec.paused",
       [](Rollout& r) { r.spec.paused = true; },
       resumePatch,
       {{"spec", {{"paused", false}}}},
       nullptr},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    Rollout r = midRollout();
    row.setup(r);
    auto patch = row.verb(r);
    REQUIRE(patch.ok());
    CHECK(patch->spec == row.spec);
    CHECK(patch->status == row.status);
  }
}

TEST_CASE("steering refuses actions that make no sense, saying why", "[engine][steering]") {
  struct Row {
    const char* behaviour;
    Rollout rollout;
    std::function<sluice::Result<SteeringPatch>(const Rollout&)> verb;
    const char* wantInError;
  };
  const Row rows[] = {
      {"promote of a fully promoted rollout", fullyPromoted(), promotePatch,
       "rollout web is not paused and has no step to skip"},
      {"promote --full of a fully promoted rollout", fullyPromoted(), promoteFullPatch,
       "already fully promoted"},
      {"retry of a rollout that is not aborted", midRollout(), retryPatch, "is not aborted"},
      {"resume of a rollout that is not paused", midRollout(), resumePatch, "is not paused"},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    auto patch = row.verb(row.rollout);
    REQUIRE_FALSE(patch.ok());
    CHECK(patch.error().find(row.wantInError) != std::string::npos);
  }
}
