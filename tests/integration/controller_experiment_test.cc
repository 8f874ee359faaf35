// Experiments end to end on the embedded cluster: the Experiment reconciler creates a ReplicaSet per
// template and, once their pods are available, the AnalysisRuns (here Job metrics, run by the AnalysisRun
// reconciler); the runs' outcome is the Experiment's, and its ReplicaSets scale to zero at the end.
#include <catch2/catch.hpp>

#include "controller_env.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

json experimentTemplateOf(const std::string& name, const std::string& image) {
  return {{"name", name},
          {"selector", {{"matchLabels", {{"app", "web"}, {"variant", name}}}}},
          {"template",
           {{"metadata", {{"labels", {{"app", "web"}, {"variant", name}}}}},
            {"spec", {{"containers", json::array({{{"name", "web"}, {"image", image}}})}}}}}};
}

// A Job metric template whose Job completes after a second, or fails when `fail`.
json smokeTemplate(const std::string& name, bool fail) {
  json annotations = {{"cluster.sluice.dev/ready-after", "1s"}};
  if (fail) annotations["cluster.sluice.dev/fail"] = "CrashLoopBackOff";
  json job = {{"spec",
               {{"backoffLimit", 0},
                {"template",
                 {{"metadata", {{"annotations", annotations}}},
                  {"spec",
                   {{"containers", json::array({{{"name", "smoke"}, {"image", "smoke-test:1"}}})},
                    {"restartPolicy", "Never"}}}}}}}};
  return {{"apiVersion", "sluice.dev/v1alpha1"},
          {"kind", "AnalysisTemplate"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", {{"metrics", json::array({{{"name", "smoke"}, {"provider", {{"job", job}}}}})}}}};
}

// Two templates (the canary with a Service on its port 8080) and one analysis required for completion, no
// duration: it ends with the analysis.
json experimentOf(const std::string& name, const std::string& templateName) {
  json canary = experimentTemplateOf("canary", "web:v2");
  canary["service"] = json::object();
  canary["template"]["spec"]["containers"][0]["ports"] = {{{"name", "http"}, {"containerPort", 8080}}};
  return {{"apiVersion", "sluice.dev/v1alpha1"},
          {"kind", "Experiment"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"scaleDownDelaySeconds", 2},
            {"templates", json::array({experimentTemplateOf("baseline", "web:v1"), canary})},
            {"analyses",
             json::array(
                 {{{"name", "smoke"}, {"templateName", templateName}, {"requiredForCompletion", true}}})}}}};
}

const kube::ResourceRef kExperiments{"sluice.dev", "v1alpha1", "experiments", true, "Experiment"};

json experimentNamed(ControllerEnv& env, const std::string& name) {
  auto e = env.client->get(kExperiments, "default", name);
  REQUIRE(e.ok());
  return *e;
}

std::string experimentPhase(ControllerEnv& env, const std::string& name) {
  return experimentNamed(env, name).value(json::json_pointer("/status/phase"), std::string());
}

json replicaSetNamed(ControllerEnv& env, const std::string& name) {
  auto rs = env.client->get(kReplicaSets, "default", name);
  REQUIRE(rs.ok());
  return *rs;
}

int specReplicas(ControllerEnv& env, const std::string& name) {
  return replicaSetNamed(env, name).value(json::json_pointer("/spec/replicas"), -1);
}

}  // namespace

TEST_CASE("an Experiment runs its templates and ends with its required analysis",
          "[controller][e2e][experiment]") {
  ControllerEnv env;
  env.startController();
  env.cluster.apply("ok.json", smokeTemplate("smoke-ok", false));
  env.cluster.apply("bad.json", smokeTemplate("smoke-bad", true));

  SECTION("a Successful analysis: the Experiment is Successful and its ReplicaSets scale to zero") {
    env.cluster.apply("exp.json", experimentOf("exp-ok", "smoke-ok"));
    // Both templates get their ReplicaSet, owned by the Experiment, and become available.
    REQUIRE(waitUntil([&] { return experimentPhase(env, "exp-ok") == "Running"; }, std::chrono::seconds(30)));
    const json exp = experimentNamed(env, "exp-ok");
    CHECK(exp["status"].contains("availableAt"));
    const json rs = replicaSetNamed(env, "exp-ok-canary");
    CHECK(rs["metadata"]["ownerReferences"][0]["kind"] == "Experiment");
    CHECK(rs["metadata"]["ownerReferences"][0]["uid"] == exp["metadata"]["uid"]);
    CHECK(rs["spec"]["template"]["spec"]["containers"][0]["image"] == "web:v2");
    CHECK(rs["spec"]["selector"]["matchLabels"]["variant"] == "canary");
    // The canary template's Service selects its pods by their hash.
    const json svc = env.cluster.getJson("service exp-ok-canary -n default");
    CHECK(svc["spec"]["selector"]["sluice.dev/pod-template-hash"] ==
          rs["metadata"]["labels"]["sluice.dev/pod-template-hash"]);
    CHECK(svc["spec"]["ports"][0]["port"] == 8080);
    CHECK(svc["metadata"]["ownerReferences"][0]["kind"] == "Experiment");

    REQUIRE(
        waitUntil([&] { return experimentPhase(env, "exp-ok") == "Successful"; }, std::chrono::seconds(30)));
    const json done = experimentNamed(env, "exp-ok");
    CHECK(done["status"]["analysisRuns"][0]["analysisRun"] == "exp-ok-smoke");
    CHECK(done["status"]["analysisRuns"][0]["phase"] == "Successful");
    CHECK(done["status"]["message"] == "Required AnalysisRuns completed");
    const json run = env.cluster.getJson("analysisrun exp-ok-smoke -n default");
    CHECK(run["metadata"]["ownerReferences"][0]["kind"] == "Experiment");
    CHECK(run["metadata"]["labels"]["sluice.dev/experiment"] == "exp-ok");
    // scaleDownDelaySeconds later, both templates are at zero.
    REQUIRE(waitUntil(
        [&] { return specReplicas(env, "exp-ok-baseline") == 0 && specReplicas(env, "exp-ok-canary") == 0; },
        std::chrono::seconds(20)));
    // With its pods gone, so is the Service.
    REQUIRE(
        waitUntil([&] { return env.cluster.kubectl("get service exp-ok-canary -n default").exitCode != 0; },
                  std::chrono::seconds(20)));
    CHECK(experimentPhase(env, "exp-ok") == "Successful");
    // The plugin shows the tree: both ReplicaSets scaled down, the run Successful.
    const CommandResult shown = env.cluster.plugin("get experiment exp-ok -n default");
    INFO(shown.output);
    CHECK(shown.exitCode == 0);
    CHECK_THAT(shown.output, Catch::Contains("exp-ok-canary") && Catch::Contains("ScaledDown") &&
                                 Catch::Contains("exp-ok-smoke"));
    // Deleted, it takes what it owns with it (garbage collection by its ownerReferences).
    env.cluster.ok("delete experiment exp-ok -n default");
    REQUIRE(waitUntil(
        [&] {
          auto gone = env.client->get(kReplicaSets, "default", "exp-ok-canary");
          return !gone && gone.error().isNotFound() &&
                 env.cluster.kubectl("get analysisrun exp-ok-smoke -n default").exitCode != 0;
        },
        std::chrono::seconds(20)));
  }

  SECTION("a failing analysis: the Experiment is Failed and winds down") {
    env.cluster.apply("exp.json", experimentOf("exp-bad", "smoke-bad"));
    REQUIRE(waitUntil([&] { return experimentPhase(env, "exp-bad") == "Failed"; }, std::chrono::seconds(45)));
    const json done = experimentNamed(env, "exp-bad");
    CHECK(done["status"]["analysisRuns"][0]["phase"] == "Failed");
    for (const auto& t : done["status"]["templateStatuses"]) CHECK(t["status"] == "Successful");
    REQUIRE(waitUntil(
        [&] {
          return specReplicas(env, "exp-bad-baseline") == 0 && specReplicas(env, "exp-bad-canary") == 0;
        },
        std::chrono::seconds(20)));
  }

  SECTION("spec.terminate ends an Experiment that would run until told") {
    json exp = experimentOf("exp-stop", "smoke-ok");
    exp["spec"]["analyses"][0]["requiredForCompletion"] = false;
    env.cluster.apply("exp.json", exp);
    REQUIRE(
        waitUntil([&] { return experimentPhase(env, "exp-stop") == "Running"; }, std::chrono::seconds(30)));
    // The plugin's verb, as a person ends it.
    const CommandResult stop = env.cluster.plugin("terminate experiment exp-stop -n default");
    INFO(stop.output);
    REQUIRE(stop.exitCode == 0);
    CHECK_THAT(stop.output, Catch::Contains("experiment 'exp-stop' terminated"));
    REQUIRE(waitUntil([&] { return experimentPhase(env, "exp-stop") == "Successful"; },
                      std::chrono::seconds(30)));
    REQUIRE(waitUntil([&] { return specReplicas(env, "exp-stop-canary") == 0; }, std::chrono::seconds(20)));
  }
}

TEST_CASE("a Rollout's experiment step runs an Experiment it owns and goes on or aborts with it",
          "[controller][e2e][experiment]") {
  ControllerEnv env;
  env.startController();
  env.cluster.apply("ok.json", smokeTemplate("smoke-ok", false));
  env.cluster.apply("bad.json", smokeTemplate("smoke-bad", true));
  const auto rolloutWith = [](const std::string& image, const std::string& smoke) {
    json step = {{"duration", "3s"},
                 {"templates", json::array({{{"name", "baseline"}, {"specRef", "stable"}},
                                            {{"name", "canary"}, {"specRef", "canary"}}})},
                 {"analyses", json::array({{{"name", "smoke"},
                                            {"templateName", smoke},
                                            {"requiredForCompletion", smoke == "smoke-bad"}}})}};
    return webRollout(image, 2, json::array({{{"experiment", step}}, {{"setWeight", 50}}}));
  };
  env.cluster.apply("v1.json", rolloutWith("web:v1", "smoke-ok"));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  const auto ownedExperiments = [&] {
    std::vector<json> out;
    auto list = env.client->list(kExperiments, "default", {});
    REQUIRE(list.ok());
    for (const auto& e : list->value("items", json::array())) out.push_back(e);
    return out;
  };

  SECTION("a Successful Experiment: the update goes on to the end") {
    env.cluster.apply("v2.json", rolloutWith("web:v2", "smoke-ok"));
    REQUIRE(waitUntil([&] { return !ownedExperiments().empty(); }, std::chrono::seconds(30)));
    const json ex = ownedExperiments()[0];
    CHECK(ex["metadata"]["ownerReferences"][0]["kind"] == "Rollout");
    CHECK(ex["spec"]["templates"][0]["template"]["spec"]["containers"][0]["image"] == "web:v1");
    CHECK(ex["spec"]["templates"][1]["template"]["spec"]["containers"][0]["image"] == "web:v2");
    // Promoted: the revision the Experiment was made for is stable.
    const std::string hash = ex["metadata"]["labels"].value("sluice.dev/pod-template-hash", "");
    REQUIRE_FALSE(hash.empty());
    // `kubectl sluice get rollout` shows it in the tree, its template's ReplicaSet and its run under it.
    const std::string exName = ex["metadata"]["name"];
    CHECK(waitUntil(
        [&] {
          const std::string shown = env.cluster.plugin("get rollout web").output;
          return shown.find("Σ " + exName) != std::string::npos &&
                 shown.find("⧉ " + exName + "-canary") != std::string::npos &&
                 shown.find("α " + exName + "-smoke") != std::string::npos;
        },
        std::chrono::seconds(20)));
    REQUIRE(env.waitRollout("web", [&](const json& r) {
      return phaseOf(r) == "Healthy" && r["status"].value("stableRS", "") == hash;
    }));
    const std::string name = ex["metadata"]["name"];
    CHECK(experimentPhase(env, name) == "Successful");
  }

  SECTION("a Failed Experiment: the update is aborted") {
    env.cluster.apply("v2.json", rolloutWith("web:v2", "smoke-bad"));
    REQUIRE(env.waitRollout("web", [](const json& r) { return r["status"].value("abort", false); }));
    const json r = env.rollout("web");
    CHECK_THAT(r["status"].value("message", ""), Catch::Contains("Experiment"));
    CHECK(phaseOf(r) == "Degraded");
  }
}

TEST_CASE(
    "an Experiment whose template's ReplicaSet name is taken by a ReplicaSet of a person's ends in Error "
    "naming it and leaves it as it was",
    "[controller][e2e][experiment]") {
  ControllerEnv env;
  env.startController();
  env.cluster.apply("ok.json", smokeTemplate("smoke-ok", false));
  const json theirs = {
      {"apiVersion", "apps/v1"},
      {"kind", "ReplicaSet"},
      {"metadata", {{"name", "exp-taken-canary"}, {"namespace", "default"}}},
      {"spec",
       {{"replicas", 1},
        {"selector", {{"matchLabels", {{"app", "other"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "other"}}}}},
          {"spec", {{"containers", json::array({{{"name", "other"}, {"image", "other:1"}}})}}}}}}}};
  env.cluster.apply("theirs.json", theirs);
  const json before = replicaSetNamed(env, "exp-taken-canary");
  env.cluster.apply("exp.json", experimentOf("exp-taken", "smoke-ok"));
  REQUIRE(waitUntil([&] { return experimentPhase(env, "exp-taken") == "Error"; }, std::chrono::seconds(30)));
  const json ex = experimentNamed(env, "exp-taken");
  const std::string why =
      R"(ReplicaSet "exp-taken-canary" exists and is not controlled by Experiment "exp-taken")";
  CHECK(ex["status"].value("message", "") == why);
  for (const auto& t : ex["status"]["templateStatuses"]) {
    if (t.value("name", "") == "canary") {
      CHECK(t.value("status", "") == "Error");
      CHECK(t.value("message", "") == why);
    }
  }
  // Not adopted, not scaled, not rewritten.
  const json after = replicaSetNamed(env, "exp-taken-canary");
  CHECK_FALSE(after["metadata"].contains("ownerReferences"));
  CHECK(after["spec"] == before["spec"]);
  CHECK(after["metadata"].value("labels", json::object()) ==
        before["metadata"].value("labels", json::object()));
}
