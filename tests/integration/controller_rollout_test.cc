// The Rollout controller end to end, on the embedded API server over HTTPS with the real kubectl: a
// canary progresses step by step to Healthy as the simulator predicts, and bad input ends in a status a
// person can read.
#include <atomic>
#include <catch2/catch.hpp>
#include <map>

#include "controller_env.h"
#include "engine/rollout_json.h"
#include "sim/simulator.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

json canaryRollout(const std::string& image) {
  return webRollout(image, 4, json::parse(R"([
    {"setWeight": 25}, {"pause": {"duration": "3s"}}, {"setWeight": 50}, {"pause": {"duration": "3s"}}
  ])"));
}

// The ReplicaSets the Rollout owns, by pod-template hash: spec.replicas.
std::map<std::string, int> ownedReplicaSets(ControllerEnv& env) {
  std::map<std::string, int> out;
  const json list = env.cluster.getJson("replicasets -n default");
  for (const auto& rs : list["items"]) {
    const json owners = rs["metadata"].value("ownerReferences", json::array());
    if (owners.empty() || owners[0].value("kind", "") != "Rollout") continue;
    out[rs["metadata"]["labels"].value(engine::kPodTemplateHashLabel, "")] = rs["spec"].value("replicas", 0);
  }
  return out;
}

// What the simulator predicts for an update from `stableImage` to the Rollout's image, with pods ready
// after `readiness`: for each step index, the first second it is reached and the canary's replicas then.
struct Prediction {
  std::map<int, int> stepReachedAt;  // step index -> seconds after the update
  std::map<int, int> canaryAtStep;   // step index -> the canary's desired replicas once settled there
  std::string phase;
};

Prediction predict(const json& rollout, const std::string& stableImage, Duration readiness) {
  Diagnostics diags;
  auto parsed = engine::parseRollout(rollout, SourceMap(), diags);
  REQUIRE(parsed);
  sim::Scenario scenario;
  scenario.readiness = readiness;
  scenario.stableImage = stableImage;
  auto result = sim::simulate(sim::RolloutInput{rollout, SourceMap(), *parsed, std::nullopt}, scenario);
  REQUIRE(result.ok());
  Prediction p;
  // From the first row of the new revision's steps: the rows before it still show the stable's status.
  bool started = false;
  for (const auto& row : result->timeline) {
    const int step = row.step.value_or(-1);
    started = started || step == 0;
    if (!started) continue;
    p.stepReachedAt.emplace(step, static_cast<int>(row.t.count()));
    p.canaryAtStep[step] = row.canary.desired;
  }
  p.phase = result->phase;
  return p;
}

}  // namespace

TEST_CASE("a canary Rollout progresses on the cluster step by step as the simulator predicts",
          "[controller][e2e]") {
  ControllerEnv env(std::chrono::milliseconds(1000));
  env.startController();
  env.cluster.ok("apply -f " +
                 env.cluster.writeFile("web-v1.json", canaryRollout("registry.example/web:v1").dump()));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  const json first = env.rollout("web");
  const std::string v1 = first["status"].value("stableRS", "");
  CHECK(ownedReplicaSets(env) == std::map<std::string, int>{{v1, 4}});

  // The update: record, every 50 ms, when each step is reached and the canary's size there.
  const json updated = canaryRollout("registry.example/web:v2");
  env.cluster.ok("apply -f " + env.cluster.writeFile("web-v2.json", updated.dump()));
  const auto t0 = std::chrono::steady_clock::now();
  std::map<int, double> reachedAt;
  std::map<int, int> canaryAt;
  std::string v2;
  REQUIRE(env.waitRollout("web", [&](const json& r) {
    const std::string current = r.value(json::json_pointer("/status/currentPodHash"), std::string());
    if (current == v1) return false;
    v2 = current;
    const int step = stepOf(r);
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    reachedAt.emplace(step, t);
    auto sets = ownedReplicaSets(env);
    if (sets.count(v2)) canaryAt.emplace(step, sets[v2]);  // as first seen: the next step may follow soon
    return phaseOf(r) == "Healthy" && r["status"].value("stableRS", "") == v2;
  }));

  const Prediction p = predict(updated, "registry.example/web:v1", Duration{1});
  CHECK(p.phase == "Healthy");
  for (const auto& [step, at] : p.stepReachedAt) {
    INFO("step " << step << ": predicted at " << at << "s");
    REQUIRE(reachedAt.count(step));
    // Within a second of the prediction, plus the controller's reconcile and polling latency.
    CHECK(reachedAt[step] >= at - 1.0);
    CHECK(reachedAt[step] <= at + 2.0);
  }
  // The canary's size at each pause step, as predicted (25% and 50% of 4).
  CHECK(canaryAt[1] == p.canaryAtStep.at(1));
  CHECK(canaryAt[3] == p.canaryAtStep.at(3));
  CHECK(canaryAt[1] == 1);
  CHECK(canaryAt[3] == 2);
  // Promoted: the new ReplicaSet full, the old one scaled to zero.
  REQUIRE(env.waitRollout(
      "web",
      [&](const json&) {
        return ownedReplicaSets(env) == std::map<std::string, int>{{v1, 0}, {v2, 4}};
      },
      std::chrono::seconds(20)));
}

TEST_CASE("a Rollout whose spec is invalid gets InvalidSpec with the field path and no ReplicaSet",
          "[controller][e2e]") {
  ControllerEnv env;
  env.startController();
  json bad = canaryRollout("registry.example/web:v1");
  bad["spec"]["strategy"]["canary"]["steps"][0]["setWeight"] = 250;
  env.cluster.ok("apply -f " + env.cluster.writeFile("bad.json", bad.dump()));
  REQUIRE(env.waitRollout(
      "web", [](const json& r) { return phaseOf(r) == "Degraded"; }, std::chrono::seconds(20)));
  const json r = env.rollout("web");
  const std::string message = r["status"].value("message", "");
  INFO(message);
  CHECK(message.find("InvalidSpec") != std::string::npos);
  CHECK(message.find("spec.strategy.canary.steps[0].setWeight") != std::string::npos);
  CHECK(ownedReplicaSets(env).empty());
}

TEST_CASE("settled Rollouts cost no writes: the cluster's resourceVersion stands still across resyncs",
          "[controller][e2e][steady]") {
  ControllerEnv env(std::chrono::milliseconds(200));
  controller::ManagerOptions options;
  options.resyncPeriod = std::chrono::seconds(4);
  std::atomic<int> reconciles{0};
  options.onReconcile = [&](const std::string& queue, std::chrono::steady_clock::duration) {
    if (queue == "rollouts") ++reconciles;
  };
  env.startController(options);
  constexpr int kRollouts = 200;
  std::string documents;  // a stream of JSON documents, as kubectl reads it
  for (int i = 0; i < kRollouts; ++i) {
    json r = canaryRollout("registry.example/web:v1");
    r["metadata"]["name"] = "web-" + std::to_string(i);
    r["spec"]["replicas"] = 1;
    documents += r.dump() + "\n";
  }
  env.cluster.ok("apply -f " + env.cluster.writeFile("many.json", documents));
  auto healthy = [&] {
    const json all = env.cluster.getJson("rollouts -n default");
    return std::count_if(all["items"].begin(), all["items"].end(),
                         [](const json& r) { return phaseOf(r) == "Healthy"; });
  };
  REQUIRE(waitUntil([&] { return healthy() == kRollouts; }, std::chrono::seconds(120)));
  // Let the last events and status writes land, then watch the global resourceVersion across at least two
  // resyncs, each of which hands all 200 Rollouts to the reconciler again.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  auto revision = [&] {
    return env.cluster.getJson("configmaps -n default")["metadata"].value("resourceVersion", "");
  };
  const std::string before = revision();
  const int reconcilesBefore = reconciles;
  std::this_thread::sleep_for(std::chrono::seconds(10));
  CHECK(revision() == before);
  CHECK(reconciles - reconcilesBefore >= 2 * kRollouts);  // the resyncs did reconcile every Rollout
  CHECK(healthy() == kRollouts);
}
