// The shell around the engine: actions in order, the status written only after the actions it depends on
// succeeded, nothing written when nothing changed, and a settle bound that follows the plan.
#include <algorithm>
#include <catch2/catch.hpp>

#include "analysis/model.h"
#include "base/pod_template_hash.h"
#include "engine/rollout_json.h"
#include "shell/reconcile.h"
#include "shell/rollout_document.h"
#include "shell/world.h"
#include "sim/simulator.h"

using namespace sluice;
using nlohmann::json;

namespace {

const Time kShellT0 = timeFromUnix(1'800'000'000);

json rolloutObject(int steps = 2) {
  json object = json::parse(R"({
    "apiVersion": "sluice.dev/v1alpha1", "kind": "Rollout",
    "metadata": {"name": "web", "namespace": "default", "generation": 1},
    "spec": {
      "replicas": 4,
      "selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}},
                   "spec": {"containers": [{"name": "web", "image": "registry.example/web:v2"}]}},
      "strategy": {"canary": {"steps": []}}
    }
  })");
  for (int i = 0; i < steps; ++i)
    object["spec"]["strategy"]["canary"]["steps"].push_back(
        {{"setWeight", 1 + (i * 99) / std::max(steps, 1)}});
  return object;
}

// A world that keeps ReplicaSets whose pods are ready at once, records every call, and fails the
// action or the status write it is told to.
class RecordingWorld final : public shell::World {
 public:
  std::vector<std::string> calls;
  std::optional<size_t> failAction;  // the index (in calls to apply) that fails
  bool failStatus = false;
  int statusWrites = 0;

  std::optional<json> deployment;  // the one Deployment a workloadRef can name

  Result<engine::Observed> observe(Time, std::optional<Time>) override { return observed_; }
  Result<std::optional<engine::WorkloadView>> workload(const engine::WorkloadRef& ref) override {
    if (!deployment || (*deployment)["metadata"]["name"] != ref.name)
      return std::optional<engine::WorkloadView>();
    return std::optional<engine::WorkloadView>(engine::workloadViewOf(*deployment));
  }
  Result<bool> apply(const engine::Action& action, Time) override {
    const size_t index = applied_++;
    if (failAction && *failAction == index) {
      calls.push_back("failed");
      return Error{"the server is away"};
    }
    if (const auto* c = std::get_if<engine::CreateReplicaSet>(&action)) {
      calls.push_back("create " + c->name);
      engine::ReplicaSetView rs;
      rs.name = c->name;
      rs.podTemplateHash = c->podTemplateHash;
      rs.revision = c->revision;
      rs.specReplicas = rs.replicas = rs.readyReplicas = rs.availableReplicas = c->replicas;
      observed_.replicaSets.push_back(rs);
      return true;
    }
    if (const auto* s = std::get_if<engine::ScaleReplicaSet>(&action)) {
      calls.push_back("scale " + s->name + " " + std::to_string(s->replicas));
      for (auto& rs : observed_.replicaSets) {
        if (rs.name == s->name)
          rs.specReplicas = rs.replicas = rs.readyReplicas = rs.availableReplicas = s->replicas;
      }
      return true;
    }
    if (const auto* w = std::get_if<engine::ScaleWorkload>(&action)) {
      calls.push_back("scale " + w->kind + " " + w->name + " " + std::to_string(w->replicas));
      (*deployment)["spec"]["replicas"] = w->replicas;
      return true;
    }
    if (std::holds_alternative<engine::EmitEvent>(action)) return false;
    calls.push_back("other");
    return true;
  }
  Result<bool> createAnalysisRun(const engine::CreateAnalysisRun&, const Result<analysis::AnalysisRunSpec>&,
                                 Time) override {
    return Error{"no analysis in these tests"};
  }
  const analysis::AnalysisTemplate* findTemplate(const std::string&, bool) override { return nullptr; }
  Status writeStatus(shell::RolloutDocument& rollout, json status, Time) override {
    if (failStatus) return Error{"conflict"};
    ++statusWrites;
    calls.push_back("status");
    rollout.setStatus(std::move(status));
    return Status::Ok();
  }

 private:
  engine::Observed observed_;
  size_t applied_ = 0;
};

}  // namespace

TEST_CASE("a failed action stops the pass and no status is written", "[shell]") {
  shell::RolloutDocument doc(rolloutObject());
  RecordingWorld world;
  world.failAction = 0;  // the first write: creating the ReplicaSet
  auto pass = shell::reconcileOnce(doc, world, kShellT0);
  REQUIRE_FALSE(pass.ok());
  CHECK(pass.error().kind == shell::ReconcileError::Kind::Action);
  CHECK(pass.error().message.find("create ReplicaSet: the server is away") != std::string::npos);
  CHECK(world.statusWrites == 0);
  CHECK_FALSE(doc.object().contains("status"));
}

TEST_CASE("the status is written after the actions of its pass, and not at all once settled", "[shell]") {
  shell::RolloutDocument doc(rolloutObject());
  RecordingWorld world;
  auto settled = shell::settle(doc, world, kShellT0);
  REQUIRE(settled.ok());
  REQUIRE(world.statusWrites > 0);
  // In the first pass the ReplicaSet is created before the status that records it is written.
  REQUIRE(world.calls.size() >= 2);
  CHECK(world.calls[0].rfind("create web-", 0) == 0);
  CHECK(world.calls[1] == "status");
  CHECK(doc.object()["status"]["phase"] == "Healthy");

  const auto writes = world.statusWrites;
  const auto calls = world.calls.size();
  auto again = shell::settle(doc, world, kShellT0 + Duration{60});
  REQUIRE(again.ok());
  CHECK(again->passes == 1);
  CHECK(world.statusWrites == writes);
  CHECK(world.calls.size() == calls);
}

TEST_CASE("a failed status write leaves the stored status as it was and says so", "[shell]") {
  shell::RolloutDocument doc(rolloutObject());
  RecordingWorld world;
  world.failStatus = true;
  auto pass = shell::reconcileOnce(doc, world, kShellT0);
  REQUIRE_FALSE(pass.ok());
  CHECK(pass.error().kind == shell::ReconcileError::Kind::StatusWrite);
  CHECK_FALSE(doc.object().contains("status"));
}

TEST_CASE("a stored Rollout that does not parse is an InvalidSpec error naming the field", "[shell]") {
  json object = rolloutObject();
  object["spec"]["replicas"] = "three";
  shell::RolloutDocument doc(object);
  RecordingWorld world;
  auto settled = shell::settle(doc, world, kShellT0);
  REQUIRE_FALSE(settled.ok());
  CHECK(settled.error().kind == shell::ReconcileError::Kind::InvalidSpec);
  CHECK(settled.error().message.find("spec.replicas") != std::string::npos);
  CHECK(world.calls.empty());
}

TEST_CASE("a plan of a thousand setWeight steps settles in one instant and simulates", "[shell][sim]") {
  const json object = rolloutObject(1000);
  Diagnostics diags;
  auto rollout = engine::parseRollout(object, SourceMap(), diags);
  INFO(diags.format());
  REQUIRE(rollout);
  CHECK(shell::settleBound(*rollout) > 1000);
  sim::Scenario scenario;
  scenario.duration = Duration{3600};
  auto result = sim::simulate(sim::RolloutInput{object, SourceMap(), *rollout, std::nullopt}, scenario);
  INFO((result ? std::string() : result.error()));
  REQUIRE(result.ok());
  CHECK(result->phase == "Healthy");
  CHECK(result->endedAt == Duration{0});
}

TEST_CASE("a Rollout of a hundred million replicas simulates to Healthy: replicas are numbers",
          "[shell][sim]") {
  json object = rolloutObject();
  object["spec"]["replicas"] = 100'000'000;
  Diagnostics diags;
  auto rollout = engine::parseRollout(object, SourceMap(), diags);
  REQUIRE(rollout);
  sim::Scenario scenario;
  scenario.readiness = Duration{30};
  auto result = sim::simulate(sim::RolloutInput{object, SourceMap(), *rollout, std::nullopt}, scenario);
  INFO((result ? std::string() : result.error()));
  REQUIRE(result.ok());
  CHECK(result->phase == "Healthy");
  REQUIRE_FALSE(result->timeline.empty());
  CHECK(result->timeline.back().stable.desired == 100'000'000);
}

TEST_CASE("a workloadRef Rollout runs on its Deployment's template, and a missing Deployment is InvalidSpec",
          "[shell][workload]") {
  json object = rolloutObject();
  const json podTemplate = object["spec"]["template"];
  object["spec"].erase("template");
  object["spec"].erase("selector");
  object["spec"]["workloadRef"] = {
      {"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}, {"scaleDown", "onsuccess"}};
  shell::RolloutDocument doc(object);
  RecordingWorld world;
  auto missing = shell::settle(doc, world, kShellT0);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == shell::ReconcileError::Kind::InvalidSpec);
  CHECK(missing.error().message == "spec.workloadRef: Deployment \"web\" not found in namespace \"default\"");
  CHECK(world.calls.empty());

  world.deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "web"}, {"namespace", "default"}, {"generation", 2}}},
      {"spec",
       {{"replicas", 4}, {"selector", {{"matchLabels", {{"app", "web"}}}}}, {"template", podTemplate}}}};
  auto settled = shell::settle(doc, world, kShellT0);
  REQUIRE(settled.ok());
  const std::string hash = podTemplateHash(podTemplate, 0);
  REQUIRE_FALSE(world.calls.empty());
  CHECK(world.calls.front() == "create web-" + hash);  // the Deployment's template, hashed as a Rollout's
  CHECK(std::find(world.calls.begin(), world.calls.end(), "scale Deployment web 0") != world.calls.end());
  CHECK((*world.deployment)["spec"]["replicas"] == 0);
  const json& status = doc.object()["status"];
  CHECK(status["phase"] == "Healthy");
  CHECK(status["currentPodHash"] == hash);
  CHECK(status["selector"] == "app=web");  // the Deployment's selector, the Rollout naming none
  CHECK(status["workloadObservedGeneration"] == "2");
  CHECK_FALSE(doc.object()["spec"].contains("template"));  // nothing written into the stored spec

  // A Deployment whose pods the Rollout's own selector does not pick is InvalidSpec too.
  doc.mutableObject()["spec"]["selector"] = {{"matchLabels", {{"app", "shop"}}}};
  doc.specChanged();
  auto mismatch = shell::settle(doc, world, kShellT0 + Duration{1});
  REQUIRE_FALSE(mismatch.ok());
  CHECK(mismatch.error().kind == shell::ReconcileError::Kind::InvalidSpec);
  CHECK(mismatch.error().message.find("spec.selector: does not match") != std::string::npos);
}
