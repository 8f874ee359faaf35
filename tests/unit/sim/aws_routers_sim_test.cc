// The simulator runs Rollouts routed by ALB (with ping-pong Services) and App Mesh through the engine's
// decisions, without a data plane for their objects.
#include <catch2/catch.hpp>

#include "engine/rollout_json.h"
#include "sim/simulator.h"

using namespace sluice;
using nlohmann::json;

// A namespace of its own: the test files are compiled in batches (unity build).
namespace aws_routers_sim_test {

namespace {

sim::SimResult simulateRouted(const json& canary) {
  json object = json::parse(R"({
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
      "replicas": 4,
      "selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}},
                   "spec": {"containers": [{"name": "web", "image": "registry.example/web:v2"}]}},
      "strategy": {"canary": {"steps": [{"setWeight": 30}, {"pause": {"duration": "5m"}}]}}}})");
  object["spec"]["strategy"]["canary"].update(canary);
  Diagnostics diags;
  auto rollout = engine::parseRollout(object, SourceMap(), diags);
  INFO(diags.format());
  REQUIRE(rollout);
  sim::Scenario scenario;
  scenario.duration = Duration{3600};
  scenario.readiness = Duration{10};
  auto result = sim::simulate(sim::RolloutInput{object, SourceMap(), *rollout, std::nullopt}, scenario);
  INFO((result ? std::string() : result.error()));
  REQUIRE(result);
  return *result;
}

}  // namespace

TEST_CASE("sluice sim runs ALB ping-pong and App Mesh Rollouts through their weights to Healthy",
          "[sim][alb][appmesh][pingpong]") {
  const json pingPong = json::parse(R"({"pingPong": {"pingService": "web-ping", "pongService": "web-pong"},
    "trafficRouting": {"alb": {"ingress": "web", "servicePort": 80, "rootService": "web-root"}}})");
  const json appMesh = json::parse(R"({"canaryService": "web-canary", "stableService": "web-stable",
    "trafficRouting": {"appMesh": {"virtualService": {"name": "web"}, "virtualNodeGroup": {
      "canaryVirtualNodeRef": {"name": "web-canary-vn"}, "stableVirtualNodeRef": {"name": "web-stable-vn"}}}}})");
  for (const json& canary : {pingPong, appMesh}) {
    INFO(canary.dump());
    const sim::SimResult r = simulateRouted(canary);
    CHECK(r.trafficRouted);
    CHECK(r.phase == "Healthy");
    bool sawThirty = false;
    for (const auto& row : r.timeline) sawThirty = sawThirty || row.canaryWeight == 30;
    CHECK(sawThirty);
    CHECK(r.timeline.back().canaryWeight == 0);
  }
}

}  // namespace aws_routers_sim_test
