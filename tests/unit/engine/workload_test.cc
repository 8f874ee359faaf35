// spec.workloadRef in the engine: the Deployment's scaleDown (never, onsuccess, progressively) decided
// from what is observed, the generation recorded, and the template filled from the Deployment.
#include <catch2/catch.hpp>

#include "base/pod_template_hash.h"
#include "engine/workload.h"
#include "tests/unit/engine/test_world.h"

using namespace sluice;
using namespace sluice::engine;
using namespace sluice::engine::testing;
using nlohmann::json;

namespace {

// A Rollout of 4 replicas that takes its template from Deployment "web" (4 replicas, generation 3).
FakeWorld migration(WorkloadScaleDown mode) {
  Rollout r = RolloutBuilder().replicas(4).setWeight(25).pause().build();
  r.spec.workloadRef = WorkloadRef{"apps/v1", "Deployment", "web", mode};
  FakeWorld world(r);
  world.observed.workload = WorkloadState{4, 3};
  return world;
}

ReplicaSetView& onlyReplicaSet(FakeWorld& world) {
  REQUIRE(world.observed.replicaSets.size() == 1);
  return world.observed.replicaSets.front();
}

}  // namespace

TEST_CASE("scaleDown progressively: the Deployment keeps what the first revision does not yet have available",
          "[engine][workload]") {
  FakeWorld world = migration(WorkloadScaleDown::Progressively);
  world.readyAfterCalls = -1;  // the test says when pods become available
  world.settle();
  ReplicaSetView& rs = onlyReplicaSet(world);
  CHECK(rs.specReplicas == 4);  // a first revision goes straight to full size
  CHECK(world.workloadScales.empty());
  CHECK(world.rollout.status.workloadObservedGeneration == "3");

  rs.readyReplicas = rs.availableReplicas = 1;
  world.settle();
  rs.readyReplicas = rs.availableReplicas = 3;
  world.settle();
  CHECK(world.workloadScales == std::vector<int>{3, 1});
  REQUIRE_FALSE(world.events.empty());
  CHECK(world.events.back().reason == "ScalingWorkload");
  CHECK(world.events.back().message ==
        "Scaled Deployment web from 3 to 1 (workloadRef.scaleDown: progressively)");

  // The Rollout's pods fail: the Deployment comes back up to carry the load.
  rs.readyReplicas = rs.availableReplicas = 0;
  world.settle();
  CHECK(world.workloadScales.back() == 4);

  rs.readyReplicas = rs.availableReplicas = 4;
  world.settle();
  CHECK(world.rollout.status.phase == "Healthy");
  CHECK(world.workloadScales.back() == 0);
  CHECK(world.observed.workload->replicas == 0);
}

TEST_CASE("scaleDown progressively leaves the Deployment alone during later revisions until Healthy",
          "[engine][workload]") {
  FakeWorld world = migration(WorkloadScaleDown::Progressively);
  world.settle();
  REQUIRE(world.rollout.status.phase == "Healthy");
  REQUIRE(world.observed.workload->replicas == 0);

  // The Deployment's template changes (the Rollout's, through the workloadRef), and someone scales the
  // Deployment up by hand: the canary proceeds without touching it.
  world.rollout.spec.podTemplate["spec"]["containers"][0]["image"] = "web:2";  // resolved from the Deployment
  world.observed.workload = WorkloadState{2, 4};
  const size_t scalesBefore = world.workloadScales.size();
  world.settle();
  CHECK(world.rollout.status.phase == "Paused");
  CHECK(world.workloadScales.size() == scalesBefore);
  CHECK(world.rollout.status.workloadObservedGeneration == "4");

  world.steer(promotePatch(world.rollout));
  world.settle();
  CHECK(world.rollout.status.phase == "Healthy");
  CHECK(world.workloadScales.back() == 0);
}

TEST_CASE("scaleDown onsuccess scales the Deployment to 0 only once the Rollout is Healthy",
          "[engine][workload]") {
  FakeWorld world = migration(WorkloadScaleDown::OnSuccess);
  world.readyAfterCalls = -1;
  world.settle();
  ReplicaSetView& rs = onlyReplicaSet(world);
  rs.readyReplicas = rs.availableReplicas = 3;
  world.settle();
  CHECK(world.rollout.status.phase == "Progressing");
  CHECK(world.workloadScales.empty());
  rs.readyReplicas = rs.availableReplicas = 4;
  world.settle();
  CHECK(world.rollout.status.phase == "Healthy");
  CHECK(world.workloadScales == std::vector<int>{0});
  CHECK(world.events.back().message ==
        "Scaled Deployment web from 4 to 0 (workloadRef.scaleDown: onsuccess)");
}

TEST_CASE("scaleDown never leaves the Deployment as it is, and the generation is still recorded",
          "[engine][workload]") {
  FakeWorld world = migration(WorkloadScaleDown::Never);
  world.settle();
  CHECK(world.rollout.status.phase == "Healthy");
  CHECK(world.workloadScales.empty());
  CHECK(world.rollout.status.workloadObservedGeneration == "3");
}

TEST_CASE("a Rollout marked InvalidSpec recovers once its spec is valid again", "[engine][workload]") {
  Rollout r = RolloutBuilder().replicas(2).build();
  r.status.conditions.push_back(
      {"InvalidSpec", "True", "InvalidSpec", "spec.workloadRef: Deployment \"web\" not found", t0(), t0()});
  r.status.phase = "Degraded";
  FakeWorld world(r);
  world.settle();
  CHECK(world.rollout.status.condition("InvalidSpec") == nullptr);
  CHECK(world.rollout.status.phase == "Healthy");
}

TEST_CASE("resolveWorkload fills the template, and the selector when the Rollout has none",
          "[engine][workload]") {
  Rollout r = RolloutBuilder().build();
  r.spec.podTemplate = json::object();
  r.spec.selector = json::object();
  r.spec.workloadRef = WorkloadRef{"apps/v1", "Deployment", "web", WorkloadScaleDown::Never};
  const json deployment = json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "generation": 7},
    "spec": {"selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "web:7"}]}}}})");
  const WorkloadView view = workloadViewOf(deployment);
  CHECK(view.replicas == 1);  // spec.replicas left out: the API server's default
  CHECK(view.generation == 7);
  auto resolved = resolveWorkload(r, view);
  REQUIRE(resolved.ok());
  CHECK(resolved->spec.podTemplate == deployment["spec"]["template"]);
  CHECK(resolved->spec.selector == deployment["spec"]["selector"]);

  // The Rollout's own selector wins, and must select the Deployment's pods.
  r.spec.selector = {{"matchLabels", {{"app", "shop"}}}};
  auto mismatched = resolveWorkload(r, view);
  REQUIRE_FALSE(mismatched.ok());
  CHECK(mismatched.error() ==
        "with the pod template of Deployment \"web\" (spec.workloadRef): spec.selector: does not match the "
        "labels in spec.template.metadata.labels");

  json noContainers = deployment;
  noContainers["spec"]["template"]["spec"]["containers"] = json::array();
  r.spec.selector = json::object();
  auto bad = resolveWorkload(r, workloadViewOf(noContainers));
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error(), Catch::Contains("spec.template.spec.containers: must list at least one container"));
}

TEST_CASE("a ReplicaSet name taken by another owner is hashed again with the next collision count",
          "[engine][workload]") {
  Rollout r = RolloutBuilder().replicas(2).build();
  FakeWorld world(r);
  // The Deployment "web" with this very template owns the ReplicaSet "web-<hash>" already.
  const std::string taken = "web-" + podTemplateHash(r.spec.podTemplate, 0);
  // As the controller finds it: the first pass decides on the taken name (the create fails, its status is
  // written), the next observes the name as another owner's.
  world.call();
  REQUIRE(world.observed.replicaSets.size() == 1);
  world.observed.replicaSets.clear();
  world.observed.foreignReplicaSetNames.insert(taken);
  world.settle();
  CHECK(world.rollout.status.collisionCount == 1);
  const std::string hash = podTemplateHash(r.spec.podTemplate, 1);
  CHECK(world.rollout.status.currentPodHash == hash);
  REQUIRE(world.observed.replicaSets.size() == 1);
  CHECK(world.observed.replicaSets[0].name == "web-" + hash);
  CHECK(world.rollout.status.phase == "Healthy");

  // Later reconciles keep the count: the Rollout's own ReplicaSet is found under it.
  world.settle();
  CHECK(world.rollout.status.collisionCount == 1);
  CHECK(world.observed.replicaSets.size() == 1);
}
