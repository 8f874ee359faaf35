// The simulated world: pods come up after `readiness` and go at once, runs end as scripted, and the
// engine sees all of it through engine::Observed.
#include <catch2/catch.hpp>

#include "sim/world.h"

using namespace sluice;
using namespace sluice::sim;
using namespace sluice::engine;

namespace {

const Time kT0 = timeFromUnix(1767225600);

std::map<std::string, AnalysisOutcome> outcomes() {
  return {{"ok", AnalysisOutcome{"Successful", Duration{300}, "", ""}},
          {"bad", AnalysisOutcome{"Failed", Duration{120}, "error rate 20%", ""}},
          {"unsure", AnalysisOutcome{"Inconclusive", Duration{60}, "", ""}}};
}

CreateAnalysisRun runOf(const std::string& name, std::vector<std::string> templates) {
  CreateAnalysisRun run;
  run.name = name;
  run.stepIndex = 2;
  for (auto& t : templates) run.analysis.templates.push_back(AnalysisTemplateRef{t, false});
  return run;
}

}  // namespace

TEST_CASE("pods become ready after the readiness delay and scale down at once", "[sim][world]") {
  World world(Duration{30}, {});
  CHECK(world.apply(CreateReplicaSet{"web-abc", "abc", 1, 3}, kT0));
  auto seen = world.observed(kT0);
  REQUIRE(seen.replicaSets.size() == 1);
  CHECK(seen.replicaSets[0].specReplicas == 3);
  CHECK(seen.replicaSets[0].replicas == 3);
  CHECK(seen.replicaSets[0].readyReplicas == 0);
  CHECK(world.nextChange(kT0) == kT0 + Duration{30});

  CHECK(world.observed(kT0 + Duration{29}).replicaSets[0].availableReplicas == 0);
  CHECK(world.observed(kT0 + Duration{30}).replicaSets[0].availableReplicas == 3);
  CHECK_FALSE(world.nextChange(kT0 + Duration{30}));

  // Two more asked for at 40s are ready at 70s; scaling down to 4 at 50s drops one of the unready ones.
  CHECK(world.apply(ScaleReplicaSet{"web-abc", 5, std::nullopt, false}, kT0 + Duration{40}));
  CHECK(world.apply(ScaleReplicaSet{"web-abc", 4, std::nullopt, false}, kT0 + Duration{50}));
  auto later = world.observed(kT0 + Duration{50}).replicaSets[0];
  CHECK(later.replicas == 4);
  CHECK(later.readyReplicas == 3);
  CHECK(world.observed(kT0 + Duration{70}).replicaSets[0].readyReplicas == 4);

  // Scaling to what it already has changes nothing; scaling to zero removes every pod at once.
  CHECK_FALSE(world.apply(ScaleReplicaSet{"web-abc", 4, std::nullopt, false}, kT0 + Duration{80}));
  CHECK(world.apply(ScaleReplicaSet{"web-abc", 0, std::nullopt, false}, kT0 + Duration{90}));
  CHECK(world.observed(kT0 + Duration{90}).replicaSets[0].replicas == 0);
}

TEST_CASE("creating a ReplicaSet that exists changes nothing, and deleting removes it", "[sim][world]") {
  World world(Duration{0}, {});
  CHECK(world.apply(CreateReplicaSet{"web-abc", "abc", 1, 2}, kT0));
  CHECK_FALSE(world.apply(CreateReplicaSet{"web-abc", "abc", 1, 5}, kT0));
  CHECK(world.observed(kT0).replicaSets[0].specReplicas == 2);
  CHECK(world.apply(DeleteReplicaSet{"web-abc"}, kT0));
  CHECK_FALSE(world.apply(DeleteReplicaSet{"web-abc"}, kT0));
  CHECK(world.observed(kT0).replicaSets.empty());
}

TEST_CASE("scale-down deadlines are kept, shown and woken for", "[sim][world]") {
  World world(Duration{0}, {});
  REQUIRE(world.apply(CreateReplicaSet{"web-old", "old", 1, 2}, kT0));
  const Time deadline = kT0 + Duration{30};
  CHECK(world.apply(ScaleReplicaSet{"web-old", 2, deadline, false}, kT0));
  CHECK(world.observed(kT0).replicaSets[0].scaleDownDeadline == deadline);
  CHECK(world.nextChange(kT0) == deadline);
  CHECK(world.apply(ScaleReplicaSet{"web-old", 0, std::nullopt, true}, deadline));
  CHECK_FALSE(world.observed(deadline).replicaSets[0].scaleDownDeadline);
}

TEST_CASE("analysis runs are Running until their scripted outcome", "[sim][world]") {
  struct Row {
    const char* behaviour;
    std::vector<std::string> templates;
    int atSeconds;
    const char* phase;
  };
  const Row rows[] = {
      {"before its outcome a run is Running", {"ok"}, 299, "Running"},
      {"at its outcome a run takes the scripted phase", {"ok"}, 300, "Successful"},
      {"a failure ends a run before its other templates", {"ok", "bad"}, 120, "Failed"},
      {"inconclusive waits for every template", {"ok", "unsure"}, 60, "Running"},
      {"inconclusive wins over successful once all ended", {"ok", "unsure"}, 300, "Inconclusive"},
      {"a template without outcome keeps a run Running", {"ok", "missing"}, 100000, "Running"},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    World world(Duration{0}, outcomes());
    REQUIRE(world.apply(runOf("web-abc-2-2", row.templates), kT0));
    auto seen = world.observed(kT0 + Duration{row.atSeconds});
    REQUIRE(seen.analysisRuns.size() == 1);
    CHECK(seen.analysisRuns[0].phase == row.phase);
    CHECK(seen.analysisRuns[0].stepIndex == 2);
  }
}

TEST_CASE("a failed run carries its scripted message", "[sim][world]") {
  World world(Duration{0}, outcomes());
  REQUIRE(world.apply(runOf("r", {"bad"}), kT0));
  CHECK(world.nextChange(kT0) == kT0 + Duration{120});
  const auto run = world.observed(kT0 + Duration{120}).analysisRuns[0];
  CHECK(run.message == "error rate 20%");
  CHECK_FALSE(world.nextChange(kT0 + Duration{120}));
}

TEST_CASE("a terminated run stops and never reaches its outcome", "[sim][world]") {
  World world(Duration{0}, outcomes());
  REQUIRE(world.apply(runOf("r", {"bad"}), kT0));
  CHECK(world.apply(TerminateAnalysisRun{"r"}, kT0 + Duration{60}));
  CHECK_FALSE(world.apply(TerminateAnalysisRun{"r"}, kT0 + Duration{61}));
  const auto run = world.observed(kT0 + Duration{600}).analysisRuns[0];
  CHECK(run.terminated);
  CHECK(run.phase == "Successful");
  CHECK_FALSE(world.nextChange(kT0 + Duration{60}));
}

TEST_CASE("traffic weights, selectors and routes are set instantly, and events are kept", "[sim][world]") {
  World world(Duration{0}, {});
  CHECK_FALSE(world.traffic());
  CHECK(world.apply(SetTrafficWeight{10, 90, "new", "old"}, kT0));
  CHECK_FALSE(world.apply(SetTrafficWeight{10, 90, "new", "old"}, kT0));
  CHECK(world.traffic()->canaryWeight == 10);
  CHECK(world.traffic()->stableWeight == 90);

  CHECK(world.apply(SetServiceSelector{"web-canary", "new"}, kT0));
  CHECK_FALSE(world.apply(SetServiceSelector{"web-canary", "new"}, kT0));
  CHECK(world.serviceSelectors().at("web-canary") == "new");

  SetHeaderRouteStep route{"beta", {HeaderMatch{"x-beta", "exact", "1"}}};
  CHECK(world.apply(SetHeaderRoute{route}, kT0));
  CHECK(world.managedRoutes().count("beta") == 1);
  CHECK(world.apply(RemoveManagedRoutes{}, kT0));
  CHECK(world.managedRoutes().empty());

  // Events are recorded but change nothing the engine observes.
  CHECK_FALSE(world.apply(EmitEvent{"Normal", "RolloutStepCompleted", "Rollout step 1/3 completed"}, kT0));
  REQUIRE(world.events().size() == 1);
  CHECK(world.events()[0].reason == "RolloutStepCompleted");
  CHECK(world.events()[0].at == kT0);
}
