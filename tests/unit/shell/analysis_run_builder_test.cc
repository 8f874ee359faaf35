// The args a Rollout's analysis takes from its own fields (valueFrom.fieldRef), as Argo Rollouts reads them.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "shell/analysis_run_builder.h"

TEST_CASE("a fieldRef reads the Rollout's field, a label or annotation it lacks as empty",
          "[shell][fieldref]") {
  const auto rollout = nlohmann::json::parse(R"({"metadata": {"name": "web", "labels": {"rev": "7"},
    "annotations": {"team.example/owner": "web", "count": 3}}, "spec": {"replicas": 4}})");
  using sluice::shell::fieldRefValue;
  CHECK(fieldRefValue(rollout, "metadata.name").value() == "web");
  CHECK(fieldRefValue(rollout, "metadata.labels['rev']").value() == "7");
  CHECK(fieldRefValue(rollout, "metadata.annotations['team.example/owner']").value() == "web");
  CHECK(fieldRefValue(rollout, "spec.replicas").value() == "4");
  // Missing keys of the two maps, and the maps themselves missing, give "" (Kubernetes' field paths do).
  CHECK(fieldRefValue(rollout, "metadata.labels['missing']").value().empty());
  CHECK(fieldRefValue(nlohmann::json::parse(R"({"metadata": {"name": "web"}})"), "metadata.annotations['a']")
            .value()
            .empty());
  // Any other missing field is an error naming it.
  auto missing = fieldRefValue(rollout, "spec.strategy.canary");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error() == "the Rollout has no field spec.strategy.canary");
  auto notString = fieldRefValue(rollout, "metadata.annotations['count']");
  REQUIRE_FALSE(notString.ok());
  CHECK(notString.error() == "metadata.annotations['count'] is not a string in the Rollout");
}
