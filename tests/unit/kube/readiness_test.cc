// Rollout judgements as kubectl rollout status makes them, from a Deployment's status alone.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kube/readiness.h"

using nlohmann::json;
using sluice::kube::deploymentRollout;
using sluice::kube::Progress;

namespace {

json deployment(int generation, int observed, int wanted, int replicas, int updated, int available) {
  return {{"metadata", {{"name", "web"}, {"generation", generation}}},
          {"spec", {{"replicas", wanted}}},
          {"status",
           {{"observedGeneration", observed},
            {"replicas", replicas},
            {"updatedReplicas", updated},
            {"availableReplicas", available}}}};
}

}  // namespace

TEST_CASE("deployment rollout: each stage with kubectl's wording", "[kube][readiness]") {
  auto unobserved = deploymentRollout(deployment(2, 1, 3, 3, 3, 3));
  CHECK(unobserved.progress == Progress::kInProgress);
  CHECK(unobserved.message == "Waiting for deployment spec update to be observed...");

  auto updating = deploymentRollout(deployment(2, 2, 3, 4, 1, 3));
  CHECK(updating.progress == Progress::kInProgress);
  CHECK(updating.message ==
        "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated...");

  auto oldLeft = deploymentRollout(deployment(2, 2, 3, 4, 3, 3));
  CHECK(oldLeft.progress == Progress::kInProgress);
  CHECK(oldLeft.message ==
        "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination...");

  auto unavailable = deploymentRollout(deployment(2, 2, 3, 3, 3, 2));
  CHECK(unavailable.progress == Progress::kInProgress);
  CHECK(unavailable.message ==
        "Waiting for deployment \"web\" rollout to finish: 2 of 3 updated replicas are available...");

  auto done = deploymentRollout(deployment(2, 2, 3, 3, 3, 3));
  CHECK(done.progress == Progress::kDone);
  CHECK(done.message == "deployment \"web\" successfully rolled out");

  // Scaled to zero: nothing to wait for.
  CHECK(deploymentRollout(deployment(1, 1, 0, 0, 0, 0)).progress == Progress::kDone);
  // No status yet at all: the controller has not seen it.
  CHECK(deploymentRollout({{"metadata", {{"name", "web"}, {"generation", 1}}}, {"spec", {{"replicas", 1}}}})
            .progress == Progress::kInProgress);
}

TEST_CASE("deployment rollout: a progress deadline exceeded is a failure", "[kube][readiness]") {
  json d = deployment(1, 1, 3, 3, 3, 0);
  d["status"]["conditions"] =
      json::array({{{"type", "Available"}, {"status", "False"}, {"reason", "MinimumReplicasUnavailable"}},
                   {{"type", "Progressing"}, {"status", "False"}, {"reason", "ProgressDeadlineExceeded"}}});
  auto r = deploymentRollout(d);
  CHECK(r.progress == Progress::kFailed);
  CHECK(r.message == "deployment \"web\" exceeded its progress deadline");
  CHECK(sluice::kube::hasCondition(d, "Available", "False"));
  CHECK_FALSE(sluice::kube::hasCondition(d, "Available"));
  CHECK_FALSE(sluice::kube::hasCondition(d, "Ready"));
}
