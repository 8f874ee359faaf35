// The simulated world: pods come up after `readiness` and go at once, runs end as scripted, and the
// engine sees all of it through engine::Observed.
#include <catch2/catch.hpp>

#include "analysis/model.h"
#include "sim/world.h"

using namespace sluice;
using namespace sluice::sim;
using namespace sluice::engine;

namespace {

const Time kWorldT0 = timeFromUnix(1767225600);

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

CreateReplicaSet replicaSet(const std::string& name, const std::string& hash, int64_t revision,
                            int replicas) {
  CreateReplicaSet create;
  create.name = name;
  create.podTemplateHash = hash;
  create.revision = revision;
  create.replicas = replicas;
  return create;
}

// Carries out one action, which never fails in the simulated world, and says whether it changed anything.
bool applied(SimulatedWorld& world, const Action& action, Time now) {
  auto result = world.apply(action, now);
  REQUIRE(result.ok());
  return *result;
}

// Creates a run whose templates are all scripted (no template was given, so nothing is built).
bool created(SimulatedWorld& world, const CreateAnalysisRun& run, Time now) {
  auto result = world.createAnalysisRun(run, Error{"no template given"}, now);
  REQUIRE(result.ok());
  return *result;
}

}  // namespace

TEST_CASE("pods become ready after the readiness delay and scale down at once", "[sim][world]") {
  SimulatedWorld world(Duration{30}, {});
  CHECK(applied(world, replicaSet("web-abc", "abc", 1, 3), kWorldT0));
  auto seen = world.observed(kWorldT0);
  REQUIRE(seen.replicaSets.size() == 1);
  CHECK(seen.replicaSets[0].specReplicas == 3);
  CHECK(seen.replicaSets[0].replicas == 3);
  CHECK(seen.replicaSets[0].readyReplicas == 0);
  CHECK(world.nextChange(kWorldT0) == kWorldT0 + Duration{30});

  CHECK(world.observed(kWorldT0 + Duration{29}).replicaSets[0].availableReplicas == 0);
  CHECK(world.observed(kWorldT0 + Duration{30}).replicaSets[0].availableReplicas == 3);
  CHECK_FALSE(world.nextChange(kWorldT0 + Duration{30}));

  // Two more asked for at 40s are ready at 70s; scaling down to 4 at 50s drops one of the unready ones.
  CHECK(applied(world, ScaleReplicaSet{"web-abc", 5}, kWorldT0 + Duration{40}));
  CHECK(applied(world, ScaleReplicaSet{"web-abc", 4}, kWorldT0 + Duration{50}));
  auto later = world.observed(kWorldT0 + Duration{50}).replicaSets[0];
  CHECK(later.replicas == 4);
  CHECK(later.readyReplicas == 3);
  CHECK(world.observed(kWorldT0 + Duration{70}).replicaSets[0].readyReplicas == 4);

  // Scaling to what it already has changes nothing; scaling to zero removes every pod at once.
  CHECK_FALSE(applied(world, ScaleReplicaSet{"web-abc", 4}, kWorldT0 + Duration{80}));
  CHECK(applied(world, ScaleReplicaSet{"web-abc", 0}, kWorldT0 + Duration{90}));
  CHECK(world.observed(kWorldT0 + Duration{90}).replicaSets[0].replicas == 0);
}

TEST_CASE("pods count as available minReadySeconds after they are ready", "[sim][world][canary-semantics]") {
  SimulatedWorld world(Duration{10}, {});
  CreateReplicaSet create = replicaSet("web-abc", "abc", 1, 3);
  create.minReadySeconds = 20;
  REQUIRE(applied(world, create, kWorldT0));
  struct Row {
    int at;  // seconds
    int ready;
    int available;
    std::optional<int> nextChange;
  };
  const Row rows[] = {{0, 0, 0, 10}, {10, 3, 0, 30}, {29, 3, 0, 30}, {30, 3, 3, std::nullopt}};
  for (const auto& row : rows) {
    INFO("at " << row.at << "s");
    const Time now = kWorldT0 + Duration{row.at};
    const auto seen = world.observed(now).replicaSets[0];
    CHECK(seen.readyReplicas == row.ready);
    CHECK(seen.availableReplicas == row.available);
    CHECK(seen.minReadySeconds == 20);
    CHECK(world.nextChange(now) ==
          (row.nextChange ? std::optional<Time>(kWorldT0 + Duration{*row.nextChange}) : std::nullopt));
  }
  // A new minReadySeconds, and a new revision, from the Rollout: pods ready long enough count at once.
  ScaleReplicaSet update;
  update.name = "web-abc";
  update.replicas = 3;
  update.minReadySeconds = 60;
  update.revision = 4;
  CHECK(applied(world, update, kWorldT0 + Duration{40}));
  CHECK(world.observed(kWorldT0 + Duration{40}).replicaSets[0].availableReplicas == 0);
  CHECK(world.observed(kWorldT0 + Duration{70}).replicaSets[0].availableReplicas == 3);
  CHECK(world.observed(kWorldT0 + Duration{70}).replicaSets[0].revision == 4);
  CHECK_FALSE(applied(world, update, kWorldT0 + Duration{70}));
}

TEST_CASE("a restart evicts the oldest pods created before restartAt and replaces them", "[sim][world]") {
  SimulatedWorld world(Duration{30}, {});
  REQUIRE(applied(world, replicaSet("web-abc", "abc", 1, 2), kWorldT0));
  REQUIRE(applied(world, ScaleReplicaSet{"web-abc", 4}, kWorldT0 + Duration{60}));
  const Time restartAt = kWorldT0 + Duration{100};
  // Counted only when asked for (a restart due), from the pods' creation times.
  CHECK_FALSE(world.observed(restartAt).replicaSets[0].restartPods);
  CHECK(world.observed(restartAt, restartAt).replicaSets[0].restartPods == RestartPodCounts{4, 0, 4});
  CHECK(world.observed(restartAt, kWorldT0 + Duration{60}).replicaSets[0].restartPods ==
        RestartPodCounts{2, 0, 4});

  // Three go: the two asked for at 0s, then one of those asked for at 60s; three new ones start.
  CHECK(applied(world, RestartPods{"web-abc", 3, restartAt}, restartAt));
  auto seen = world.observed(restartAt, restartAt).replicaSets[0];
  CHECK(seen.replicas == 4);
  CHECK(seen.availableReplicas == 1);
  CHECK(seen.restartPods == RestartPodCounts{1, 0, 1});
  CHECK(world.nextChange(restartAt) == restartAt + Duration{30});
  CHECK(world.observed(restartAt + Duration{30}).replicaSets[0].availableReplicas == 4);

  // Asking for more than are left evicts what is left; pods created since are never evicted.
  CHECK(applied(world, RestartPods{"web-abc", 5, restartAt}, restartAt + Duration{30}));
  CHECK(world.observed(restartAt + Duration{30}, restartAt).replicaSets[0].restartPods ==
        RestartPodCounts{0, 0, 3});
  CHECK_FALSE(applied(world, RestartPods{"web-abc", 1, restartAt}, restartAt + Duration{30}));
  CHECK_FALSE(applied(world, RestartPods{"web-gone", 1, restartAt}, restartAt + Duration{30}));
}

TEST_CASE("creating a ReplicaSet that exists changes nothing, and deleting removes it", "[sim][world]") {
  SimulatedWorld world(Duration{0}, {});
  CHECK(applied(world, replicaSet("web-abc", "abc", 1, 2), kWorldT0));
  CHECK_FALSE(applied(world, replicaSet("web-abc", "abc", 1, 5), kWorldT0));
  CHECK(world.observed(kWorldT0).replicaSets[0].specReplicas == 2);
  CHECK(applied(world, DeleteReplicaSet{"web-abc"}, kWorldT0));
  CHECK_FALSE(applied(world, DeleteReplicaSet{"web-abc"}, kWorldT0));
  CHECK(world.observed(kWorldT0).replicaSets.empty());
}

TEST_CASE("scale-down deadlines are kept, shown and woken for", "[sim][world]") {
  SimulatedWorld world(Duration{0}, {});
  REQUIRE(applied(world, replicaSet("web-old", "old", 1, 2), kWorldT0));
  const Time deadline = kWorldT0 + Duration{30};
  CHECK(applied(world, ScaleReplicaSet{"web-old", 2, DeadlineChange::Set, deadline}, kWorldT0));
  CHECK(world.observed(kWorldT0).replicaSets[0].scaleDownDeadline == deadline);
  CHECK(world.nextChange(kWorldT0) == deadline);
  CHECK(applied(world, ScaleReplicaSet{"web-old", 0, DeadlineChange::Clear}, deadline));
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
    SimulatedWorld world(Duration{0}, outcomes());
    REQUIRE(created(world, runOf("web-abc-2-2", row.templates), kWorldT0));
    auto seen = world.observed(kWorldT0 + Duration{row.atSeconds});
    REQUIRE(seen.analysisRuns.size() == 1);
    CHECK(std::string(analysis::phaseName(seen.analysisRuns[0].phase)) == row.phase);
    CHECK(seen.analysisRuns[0].stepIndex == 2);
  }
}

TEST_CASE("a failed run carries its scripted message", "[sim][world]") {
  SimulatedWorld world(Duration{0}, outcomes());
  REQUIRE(created(world, runOf("r", {"bad"}), kWorldT0));
  CHECK(world.nextChange(kWorldT0) == kWorldT0 + Duration{120});
  const auto run = world.observed(kWorldT0 + Duration{120}).analysisRuns[0];
  CHECK(run.message == "error rate 20%");
  CHECK_FALSE(world.nextChange(kWorldT0 + Duration{120}));
}

TEST_CASE("a terminated run stops and never reaches its outcome", "[sim][world]") {
  SimulatedWorld world(Duration{0}, outcomes());
  REQUIRE(created(world, runOf("r", {"bad"}), kWorldT0));
  CHECK(applied(world, TerminateAnalysisRun{"r"}, kWorldT0 + Duration{60}));
  CHECK_FALSE(applied(world, TerminateAnalysisRun{"r"}, kWorldT0 + Duration{61}));
  const auto run = world.observed(kWorldT0 + Duration{600}).analysisRuns[0];
  CHECK(run.terminated);
  CHECK(run.phase == analysis::Phase::Successful);
  CHECK_FALSE(world.nextChange(kWorldT0 + Duration{60}));
}

TEST_CASE("traffic weights, selectors and routes are set instantly, and events are kept", "[sim][world]") {
  SimulatedWorld world(Duration{0}, {});
  CHECK_FALSE(world.traffic());
  CHECK(applied(world, SetTrafficWeight{10, 90, "new", "old"}, kWorldT0));
  CHECK_FALSE(applied(world, SetTrafficWeight{10, 90, "new", "old"}, kWorldT0));
  CHECK(world.traffic()->canaryWeight == 10);
  CHECK(world.traffic()->stableWeight == 90);

  CHECK(applied(world, SetServiceSelector{"web-canary", "new"}, kWorldT0));
  CHECK_FALSE(applied(world, SetServiceSelector{"web-canary", "new"}, kWorldT0));
  CHECK(world.serviceSelectors().at("web-canary") == "new");

  SetHeaderRouteStep route{"beta", {HeaderMatch{"x-beta", "exact", "1"}}};
  CHECK(applied(world, SetHeaderRoute{route}, kWorldT0));
  CHECK(world.managedRoutes().count("beta") == 1);
  CHECK(applied(world, RemoveManagedRoutes{}, kWorldT0));
  CHECK(world.managedRoutes().empty());

  // Events are recorded but change nothing the engine observes.
  CHECK_FALSE(
      applied(world, EmitEvent{"Normal", "RolloutStepCompleted", "Rollout step 1/3 completed"}, kWorldT0));
  REQUIRE(world.events().size() == 1);
  CHECK(world.events()[0].reason == "RolloutStepCompleted");
  CHECK(world.events()[0].at == kWorldT0);
}

TEST_CASE("a replica count costs nothing: two billion pods are a number, not objects", "[sim][world]") {
  SimulatedWorld world(Duration{30}, {});
  CHECK(applied(world, replicaSet("web-abc", "abc", 1, 2147483647), kWorldT0));
  CHECK(applied(world, ScaleReplicaSet{"web-abc", 2000000000}, kWorldT0 + Duration{10}));
  CHECK(applied(world, ScaleReplicaSet{"web-abc", 2147483647}, kWorldT0 + Duration{20}));
  auto seen = world.observed(kWorldT0 + Duration{30});
  CHECK(seen.replicaSets[0].replicas == 2147483647);
  CHECK(seen.replicaSets[0].readyReplicas == 2000000000);
  CHECK(world.nextChange(kWorldT0 + Duration{30}) == kWorldT0 + Duration{50});
  CHECK(world.replicaSets()[0].pods.size() == 2);
  CHECK(world.observed(kWorldT0 + Duration{50}).replicaSets[0].readyReplicas == 2147483647);
}
