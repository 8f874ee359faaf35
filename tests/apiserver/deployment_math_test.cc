// The workload controllers' pure decisions: fenceposts, rolling-update steps, Recreate, history cleanup,
// scale-down order, rollout completion, the pod annotations and Deployment strategy checks.
#include <catch2/catch.hpp>

#include "base/duration_millis.h"
#include "kube/apiserver/deployment_math.h"
#include "kube/apiserver/workload_defaults.h"
#include "kube/apiserver/workloads.h"

using nlohmann::json;
using namespace sluice::apiserver;
using sluice::podBehaviour;

TEST_CASE("IntOrString values scale against the replica count", "[unit][workloads]") {
  struct Row {
    json value;
    int total;
    bool roundUp;
    std::optional<int> want;
  };
  const std::vector<Row> rows = {
      {3, 10, true, 3},
      {"25%", 3, true, 1},
      {"25%", 3, false, 0},
      {"50%", 5, true, 3},
      {"50%", 5, false, 2},
      {"100%", 7, false, 7},
      {"0%", 9, true, 0},
      {"x%", 3, true, std::nullopt},
      {"5", 3, true, std::nullopt},
      {"%", 3, true, std::nullopt},
      {2.5, 3, true, std::nullopt},
  };
  for (const auto& row : rows) {
    INFO(row.value.dump() << " of " << row.total << (row.roundUp ? " up" : " down"));
    CHECK(scaledIntOrPercent(row.value, row.total, row.roundUp) == row.want);
  }
}

TEST_CASE("Fenceposts: surge rounds up, unavailable down, never both 0", "[unit][workloads]") {
  struct Row {
    json surge, unavailable;
    int replicas;
    Fenceposts want;
  };
  const std::vector<Row> rows = {
      {json(), json(), 3, {1, 0}},   // the 25% defaults
      {json(), json(), 10, {3, 2}},  //
      {"0%", "0%", 5, {0, 1}},       // nothing moves otherwise
      {0, "10%", 3, {0, 1}},         // 10% of 3 rounds down to 0
      {1, 0, 3, {1, 0}},             //
      {"100%", "50%", 4, {4, 2}},    //
      {json(), json(), 0, {0, 1}},   // no replicas at all
  };
  for (const auto& row : rows) {
    INFO(row.surge.dump() << " / " << row.unavailable.dump() << " of " << row.replicas);
    CHECK(resolveFenceposts(row.surge, row.unavailable, row.replicas) == row.want);
  }
}

TEST_CASE("Rolling update: the new ReplicaSet grows within the surge budget", "[unit][workloads]") {
  struct Row {
    const char* name;
    int replicas, maxSurge, newSpec, allSpec, want;
  };
  const std::vector<Row> rows = {
      {"first rollout: all at once within replicas", 3, 1, 0, 0, 3},
      {"update: one surge pod while the old has 3", 3, 1, 0, 3, 1},
      {"budget used up: no change", 3, 1, 1, 4, 1},
      {"old scaled down: grows again", 3, 1, 1, 3, 2},
      {"larger surge: several at once", 10, 3, 0, 10, 3},
      {"never beyond replicas", 3, 5, 2, 3, 3},
      {"scale-down of a settled rollout", 3, 1, 5, 5, 3},
      {"settled", 3, 1, 3, 3, 3},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    CHECK(rollingNewReplicas(row.replicas, row.maxSurge, row.newSpec, row.allSpec) == row.want);
  }
}

TEST_CASE("Rolling update: old ReplicaSets shrink within the unavailability budget", "[unit][workloads]") {
  struct Row {
    const char* name;
    int replicas, maxUnavailable;
    std::vector<ReplicaSetState> old;
    ReplicaSetState newRs;
    std::vector<int> want;
  };
  const std::vector<Row> rows = {
      {"new pod not available yet: the old keeps all", 3, 0, {{3, 3}}, {1, 0}, {3}},
      {"new pod available: one old pod goes", 3, 0, {{3, 3}}, {1, 1}, {2}},
      {"maxUnavailable 1: one old pod goes while the new one starts", 3, 1, {{3, 3}}, {1, 0}, {2}},
      {"a second old pod goes while one new pod still starts", 3, 1, {{2, 2}}, {2, 1}, {1}},
      {"maxUnavailable 1, no surge pod yet", 3, 1, {{3, 3}}, {0, 0}, {2}},
      {"unavailable old pods go first, for free", 3, 1, {{3, 1}}, {0, 0}, {2}},
      {"oldest first across several", 4, 1, {{2, 2}, {2, 2}}, {1, 1}, {0, 2}},
      {"nothing old left", 3, 1, {{0, 0}}, {3, 3}, {0}},
      {"all new available: the rest of the old goes", 3, 0, {{1, 1}}, {3, 3}, {0}},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    CHECK(rollingOldReplicas(row.replicas, row.maxUnavailable, row.old, row.newRs) == row.want);
  }
}

TEST_CASE("A rolling update reaches the new template step by step", "[unit][workloads]") {
  // Every pod asked for becomes available before the next step: the steps a 4-replica Deployment with the
  // 25% defaults takes from the old template to the new.
  const int replicas = 4;
  const auto f = resolveFenceposts(json(), json(), replicas);
  REQUIRE(f == Fenceposts{1, 1});
  ReplicaSetState old{4, 4};
  ReplicaSetState next{0, 0};
  std::vector<std::pair<int, int>> steps;
  for (int i = 0; i < 10 && !(next.specReplicas == replicas && old.specReplicas == 0); ++i) {
    next.specReplicas =
        rollingNewReplicas(replicas, f.maxSurge, next.specReplicas, old.specReplicas + next.specReplicas);
    old.specReplicas = rollingOldReplicas(replicas, f.maxUnavailable, {old}, next)[0];
    steps.emplace_back(next.specReplicas, old.specReplicas);
    // Pods come up and go away before the next look.
    next.availableReplicas = next.specReplicas;
    old.availableReplicas = old.specReplicas;
  }
  const std::vector<std::pair<int, int>> want = {{1, 3}, {2, 2}, {3, 1}, {4, 0}};
  CHECK(steps == want);
}

TEST_CASE("Recreate starts new pods only when no old pod is left", "[unit][workloads]") {
  CHECK(recreateNewReplicas(3, 2) == 0);
  CHECK(recreateNewReplicas(3, 0) == 3);
}

TEST_CASE("History keeps the most recent old ReplicaSets scaled to 0", "[unit][workloads]") {
  const std::vector<HistoryEntry> old = {
      {1, 0, 0},  // cleanable
      {3, 0, 0},  // cleanable
      {2, 0, 0},  // cleanable
      {4, 2, 2},  // still running: kept whatever the limit
      {5, 0, 1},  // a pod left: kept
  };
  CHECK(historyToDelete(old, 10).empty());
  CHECK(historyToDelete(old, 3).empty());
  CHECK(historyToDelete(old, 1) == std::vector<size_t>{0, 2});
  CHECK(historyToDelete(old, 0) == std::vector<size_t>{0, 2, 1});
}

TEST_CASE("Scale-down removes not-ready pods first, then the newest", "[unit][workloads]") {
  const std::vector<PodRank> pods = {
      {true, "Running", true, 100, 0, 50},  // 0: ready longest, oldest
      {true, "Running", true, 200, 0, 60},  // 1: ready more recently
      {true, "Running", false, 0, 3, 70},   // 2: running, not ready
      {true, "Pending", false, 0, 0, 80},   // 3: pending
      {false, "", false, 0, 0, 90},         // 4: not even scheduled
      {true, "Running", true, 200, 0, 65},  // 5: ready as recently as 1, created later
  };
  CHECK(podsToDelete(pods, 6) == std::vector<size_t>{4, 3, 2, 5, 1, 0});
  CHECK(podsToDelete(pods, 2) == std::vector<size_t>{4, 3});
  CHECK(podsToDelete(pods, 0).empty());
  CHECK(podsToDelete(pods, 9).size() == 6);
}

TEST_CASE("Rollout completion and progress", "[unit][workloads]") {
  CHECK(deploymentComplete({3, 3, 3, 3, 3}));
  CHECK_FALSE(deploymentComplete({3, 4, 3, 3, 3}));               // an old pod still there
  CHECK_FALSE(deploymentComplete({3, 3, 3, 3, 2}));               // one not available
  CHECK_FALSE(deploymentComplete({3, 3, 2, 3, 3}));               // one not updated
  CHECK(deploymentProgressed({3, 3, 0, 0, 0}, {3, 4, 1, 0, 0}));  // a new pod
  CHECK(deploymentProgressed({3, 4, 1, 3, 3}, {3, 3, 1, 3, 3}));  // an old pod gone
  CHECK(deploymentProgressed({3, 3, 3, 2, 2}, {3, 3, 3, 3, 2}));  // one more ready
  CHECK_FALSE(deploymentProgressed({3, 3, 3, 0, 0}, {3, 3, 3, 0, 0}));
}

TEST_CASE("Pod behaviour annotations", "[unit][workloads]") {
  const std::chrono::milliseconds byDefault{2000};
  auto pod = [](json annotations) {
    return json{{"metadata", {{"name", "p"}, {"annotations", annotations}}}};
  };
  auto none = podBehaviour(json{{"metadata", {{"name", "p"}}}}, byDefault);
  CHECK(none.readyAfter == byDefault);
  CHECK_FALSE(none.crashLoop);
  CHECK(none.problem.empty());
  CHECK(podBehaviour(pod({{"cluster.sluice.dev/ready-after", "500ms"}}), byDefault).readyAfter.count() ==
        500);
  CHECK(podBehaviour(pod({{"cluster.sluice.dev/ready-after", "1m"}}), byDefault).readyAfter.count() == 60000);
  auto crash = podBehaviour(pod({{"cluster.sluice.dev/fail", "CrashLoopBackOff"}}), byDefault);
  CHECK(crash.crashLoop);
  CHECK(crash.problem.empty());
  auto bad = podBehaviour(
      pod({{"cluster.sluice.dev/ready-after", "soon"}, {"cluster.sluice.dev/fail", "Explode"}}), byDefault);
  CHECK(bad.readyAfter == byDefault);
  CHECK_FALSE(bad.crashLoop);
  CHECK_THAT(bad.problem,
             Catch::Contains("cluster.sluice.dev/ready-after") && Catch::Contains("\"Explode\""));
  CHECK(podBehaviour(pod({{"cluster.sluice.dev/ready-after", 5}}), byDefault).readyAfter == byDefault);
}

TEST_CASE("Millisecond durations", "[unit][workloads]") {
  CHECK(sluice::parseDurationMillis("300ms")->count() == 300);
  CHECK(sluice::parseDurationMillis("1.5s")->count() == 1500);
  CHECK(sluice::parseDurationMillis("2")->count() == 2000);
  CHECK(sluice::parseDurationMillis("1m30s")->count() == 90000);
  CHECK(sluice::parseDurationMillis("0")->count() == 0);
  CHECK_FALSE(sluice::parseDurationMillis("-1s").ok());
  CHECK_FALSE(sluice::parseDurationMillis("soon").ok());
  CHECK_FALSE(sluice::parseDurationMillis("").ok());
}

TEST_CASE("Label selectors to the query form", "[unit][workloads]") {
  json selector = {
      {"matchLabels", {{"app", "web"}}},
      {"matchExpressions", json::array({{{"key", "tier"}, {"operator", "In"}, {"values", {"a", "b"}}},
                                        {{"key", "env"}, {"operator", "NotIn"}, {"values", {"x"}}},
                                        {{"key", "team"}, {"operator", "Exists"}},
                                        {{"key", "legacy"}, {"operator", "DoesNotExist"}}})}};
  CHECK(*labelSelectorQuery(selector) == "app=web,tier in (a,b),env notin (x),team,!legacy");
  CHECK(labelSelectorQuery(json::object())->empty());
  CHECK_FALSE(
      labelSelectorQuery({{"matchExpressions", json::array({{{"key", "k"}, {"operator", "Near"}}})}}).ok());
}

TEST_CASE("Deployment defaults and strategy checks", "[unit][workloads]") {
  json d = {{"spec", {{"replicas", 2}}}};
  applyWorkloadDefaults("Deployment", d);
  CHECK(d["spec"]["strategy"] ==
        json{{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", "25%"}}}});
  CHECK(d["spec"]["revisionHistoryLimit"] == 10);
  CHECK(d["spec"]["progressDeadlineSeconds"] == 600);
  CHECK(workloadFieldErrors("Deployment", d).empty());

  json recreate = {{"spec", {{"strategy", {{"type", "Recreate"}}}}}};
  applyWorkloadDefaults("Deployment", recreate);
  CHECK_FALSE(recreate["spec"]["strategy"].contains("rollingUpdate"));
  CHECK(workloadFieldErrors("Deployment", recreate).empty());

  json cm = {{"data", {{"a", "b"}}}};
  applyWorkloadDefaults("ConfigMap", cm);
  CHECK(cm == json{{"data", {{"a", "b"}}}});

  struct Row {
    json strategy;
    std::string field, detail;
  };
  const std::vector<Row> rows = {
      {{{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 0}, {"maxUnavailable", "0%"}}}},
       "spec.strategy.rollingUpdate.maxUnavailable",
       "Invalid value: \"0%\": may not be 0 when `maxSurge` is 0"},
      {{{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", "many"}}}},
       "spec.strategy.rollingUpdate.maxSurge",
       "Invalid value: \"many\": a valid percent string must be a numeric string followed by an ending '%'"},
      {{{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxUnavailable", -1}}}},
       "spec.strategy.rollingUpdate.maxUnavailable",
       "Invalid value: -1: must be greater than or equal to 0"},
      {{{"type", "Recreate"}, {"rollingUpdate", {{"maxSurge", 1}}}},
       "spec.strategy.rollingUpdate",
       "Forbidden: may not be specified when strategy `type` is 'Recreate'"},
      {{{"type", "BlueGreen"}}, "spec.strategy.type", "Unsupported value: \"BlueGreen\": supported values"},
  };
  for (const auto& row : rows) {
    INFO(row.strategy.dump());
    auto errs = workloadFieldErrors("Deployment", json{{"spec", {{"strategy", row.strategy}}}});
    REQUIRE(errs.size() == 1);
    CHECK(errs[0].field == row.field);
    CHECK_THAT(errs[0].detail, Catch::StartsWith(row.detail));
  }
}
