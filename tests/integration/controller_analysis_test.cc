// The controller's analysis end to end: an analysis step's AnalysisRun, created by the Rollout
// reconciler and measured by the AnalysisRun reconciler against a real Prometheus that scrapes a source
// the test controls, promotes a healthy canary and aborts a bad one back to the stable revision.
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <catch2/catch.hpp>
#include <map>

#include "controller_env.h"
#include "engine/rollout.h"
#include "tests/support/process.h"
#include "tests/support/prometheus_harness.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

json rolloutWithAnalysis(const std::string& image) {
  json r = webRollout(image, 2, json::parse(R"([
    {"setWeight": 50},
    {"analysis": {"templates": [{"templateName": "error-rate"}],
                  "args": [{"name": "team", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['team']"}}}]}}
  ])"));
  r["metadata"]["labels"] = {{"team", "payments"}};
  return r;
}

json errorRateTemplate(const std::string& prometheus) {
  json t = json::parse(R"({
    "apiVersion": "sluice.dev/v1alpha1", "kind": "AnalysisTemplate",
    "metadata": {"name": "error-rate", "namespace": "default"},
    "spec": {
      "args": [{"name": "team"}],
      "metrics": [{
        "name": "error-rate", "interval": "2s", "count": 2, "failureLimit": 0,
        "successCondition": "result[0] < 0.05",
        "provider": {"prometheus": {"query": "sluice_test_error_rate{team=\"{{args.team}}\"}"}}
      }]
    }
  })");
  t["spec"]["metrics"][0]["provider"]["prometheus"]["address"] = prometheus;
  return t;
}

}  // namespace

TEST_CASE("an analysis step measured on a real Prometheus promotes a healthy canary and aborts a bad one",
          "[controller][e2e][prometheus]") {
  const int exporterPort = freeLoopbackPort();
  prometheus::Exposer exposer("127.0.0.1:" + std::to_string(exporterPort));
  auto registry = std::make_shared<prometheus::Registry>();
  auto& errorRate = prometheus::BuildGauge()
                        .Name("sluice_test_error_rate")
                        .Help("5xx ratio")
                        .Register(*registry)
                        .Add({{"team", "payments"}});
  exposer.RegisterCollectable(registry);
  PrometheusOptions options;
  options.scrapeTargets = {"127.0.0.1:" + std::to_string(exporterPort)};
  PrometheusHarness prometheus(options);

  ControllerEnv env;
  env.startController();
  env.cluster.ok("apply -f " +
                 env.cluster.writeFile("t.json", errorRateTemplate(prometheus.address()).dump()));
  env.cluster.ok("apply -f " + env.cluster.writeFile("v1.json", rolloutWithAnalysis("web:v1").dump()));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  const std::string v1 = env.rollout("web")["status"].value("stableRS", "");

  SECTION("healthy: the run succeeds and the canary is promoted") {
    errorRate.Set(0.01);
    env.cluster.ok("apply -f " + env.cluster.writeFile("v2.json", rolloutWithAnalysis("web:v2").dump()));
    REQUIRE(env.waitRollout("web", [&](const json& r) {
      return phaseOf(r) == "Healthy" && r["status"].value("stableRS", "") != v1;
    }));
    const json runs = env.cluster.getJson("analysisruns -n default");
    REQUIRE(runs["items"].size() == 1);
    const json& run = runs["items"][0];
    CHECK(run["status"]["phase"] == "Successful");
    CHECK(run["spec"]["args"][0]["value"] == "payments");  // the fieldRef resolved against the Rollout
    CHECK(run["status"]["metricResults"][0]["count"] == 2);
    CHECK(run["metadata"]["ownerReferences"][0]["kind"] == "Rollout");
  }

  // Background analysis: one run for the revision from the first step, measuring while the steps go on.
  auto withBackground = [](const std::string& image) {
    json r = rolloutWithAnalysis(image);
    r["spec"]["strategy"]["canary"]["steps"] =
        json::parse(R"([{"setWeight": 50}, {"pause": {"duration": "30s"}}])");
    r["spec"]["strategy"]["canary"]["analysis"] = json::parse(R"({
      "templates": [{"templateName": "error-rate"}],
      "args": [{"name": "team", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['team']"}}}]})");
    return r;
  };

  SECTION("background, healthy: the run passes while the pause goes on, and the pause is not cut short") {
    errorRate.Set(0.01);
    env.cluster.ok("apply -f " + env.cluster.writeFile("bg.json", withBackground("web:v5").dump()));
    json run;
    REQUIRE(waitUntil(
        [&] {
          const json runs = env.cluster.getJson("analysisruns -n default");
          if (runs["items"].size() != 1) return false;
          run = runs["items"][0];
          return run.value(json::json_pointer("/status/phase"), "") == "Successful";
        },
        std::chrono::seconds(30)));
    CHECK(run["metadata"]["labels"].value("sluice.dev/analysis-type", "") == "Background");
    const json r = env.rollout("web");
    CHECK(phaseOf(r) == "Paused");  // still in its 30 s pause
    CHECK(r["status"].value("currentStepIndex", -1) == 1);
    CHECK(r.value(json::json_pointer("/status/canary/currentBackgroundAnalysisRunStatus/status"), "") ==
          "Successful");
  }

  SECTION("background, bad: a failed measurement aborts the Rollout in the middle of its pause") {
    errorRate.Set(0.5);
    const auto applied = std::chrono::steady_clock::now();
    env.cluster.ok("apply -f " + env.cluster.writeFile("bg.json", withBackground("web:v6").dump()));
    REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Degraded"; }));
    // Long before the 30 s pause would have ended.
    CHECK(std::chrono::steady_clock::now() - applied < std::chrono::seconds(20));
    const json r = env.rollout("web");
    CHECK(r["status"].value("stableRS", "") == v1);
    const std::string message = r["status"].value("message", "");
    INFO(message);
    CHECK(message.find("Background analysis phase failed") != std::string::npos);
  }

  SECTION("history: beyond spec.analysis.successfulRunHistoryLimit the older runs are deleted") {
    errorRate.Set(0.01);
    std::string previous = v1;
    for (const char* image : {"web:v2", "web:v3"}) {
      json r = rolloutWithAnalysis(image);
      r["spec"]["analysis"] = {{"successfulRunHistoryLimit", 1}};
      env.cluster.ok("apply -f " + env.cluster.writeFile("update.json", r.dump()));
      REQUIRE(env.waitRollout("web", [&](const json& o) {
        return phaseOf(o) == "Healthy" && o["status"].value("stableRS", "") != previous;
      }));
      previous = env.rollout("web")["status"].value("stableRS", "");
    }
    // v2's run was deleted once v3's had succeeded; v3's remains.
    REQUIRE(waitUntil([&] { return env.cluster.getJson("analysisruns -n default")["items"].size() == 1; },
                      std::chrono::seconds(10)));
    const json run = env.cluster.getJson("analysisruns -n default")["items"][0];
    CHECK(run["metadata"]["labels"].value(engine::kPodTemplateHashLabel, "") == previous);
    CHECK(run["status"]["phase"] == "Successful");
  }

  SECTION("bad: the run fails and the Rollout aborts back to the stable revision") {
    errorRate.Set(0.5);
    env.cluster.ok("apply -f " + env.cluster.writeFile("v3.json", rolloutWithAnalysis("web:v3").dump()));
    REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Degraded"; }));
    const json r = env.rollout("web");
    CHECK(r["status"]["abort"] == true);
    CHECK(r["status"].value("stableRS", "") == v1);
    const std::string message = r["status"].value("message", "");
    INFO(message);
    CHECK(message.find("analysis phase failed") != std::string::npos);
    const json runs = env.cluster.getJson("analysisruns -n default");
    REQUIRE(runs["items"].size() == 1);
    CHECK(runs["items"][0]["status"]["phase"] == "Failed");
    // Traffic back on stable: the canary scaled to zero, the stable at full size.
    REQUIRE(env.waitRollout(
        "web",
        [&](const json&) {
          const json sets = env.cluster.getJson("replicasets -n default");
          std::map<std::string, int> sizes;
          for (const auto& rs : sets["items"])
            sizes[rs["metadata"]["labels"].value(engine::kPodTemplateHashLabel, "")] =
                rs["spec"].value("replicas", 0);
          return sizes.size() == 2 && sizes[v1] == 2 &&
                 std::all_of(sizes.begin(), sizes.end(),
                             [&](const auto& kv) { return kv.first == v1 || kv.second == 0; });
        },
        std::chrono::seconds(20)));
  }
}

TEST_CASE("an AnalysisRun a person creates is measured to its end like a Rollout's",
          "[controller][e2e][prometheus]") {
  PrometheusHarness prometheus(PrometheusOptions{});
  ControllerEnv env;
  env.startController();
  json run = json::parse(R"json({
    "apiVersion": "sluice.dev/v1alpha1", "kind": "AnalysisRun",
    "metadata": {"name": "by-hand", "namespace": "default"},
    "spec": {"metrics": [{"name": "constant", "interval": "1s", "count": 2, "successCondition": "result[0] == 1",
                          "provider": {"prometheus": {"query": "vector(1)"}}}]}
  })json");
  run["spec"]["metrics"][0]["provider"]["prometheus"]["address"] = prometheus.address();
  env.cluster.ok("apply -f " + env.cluster.writeFile("run.json", run.dump()));
  json stored;
  REQUIRE(waitUntil(
      [&] {
        stored = env.cluster.getJson("analysisrun by-hand -n default");
        return stored.value(json::json_pointer("/status/phase"), "") == "Successful";
      },
      std::chrono::seconds(30)));
  CHECK(stored["status"]["metricResults"][0]["count"] == 2);
  CHECK(stored["status"]["metricResults"][0]["successful"] == 2);
}

TEST_CASE(
    "an AnalysisRun's secretKeyRef arg is read from the Secret in its namespace, a missing key is an Error",
    "[controller][e2e][prometheus][secret]") {
  PrometheusHarness prometheus(PrometheusOptions{});
  ControllerEnv env;
  env.startController();
  // The Prometheus address comes from the Secret only: the run can measure only if it was read.
  env.cluster.ok("create secret generic prometheus-endpoint -n default --from-literal=address=" +
                 prometheus.address());
  auto runWithKey = [](const std::string& name, const std::string& key) {
    json run = json::parse(R"json({
      "apiVersion": "sluice.dev/v1alpha1", "kind": "AnalysisRun",
      "metadata": {"namespace": "default"},
      "spec": {"args": [{"name": "address", "valueFrom": {"secretKeyRef": {"name": "prometheus-endpoint"}}}],
               "metrics": [{"name": "constant", "successCondition": "result[0] == 1",
                            "provider": {"prometheus": {"address": "{{args.address}}", "query": "vector(1)"}}}]}
    })json");
    run["metadata"]["name"] = name;
    run["spec"]["args"][0]["valueFrom"]["secretKeyRef"]["key"] = key;
    return run;
  };
  auto phaseOnceDone = [&](const std::string& name) {
    json stored;
    const bool done = waitUntil(
        [&] {
          stored = env.cluster.getJson("analysisrun " + name + " -n default");
          const std::string phase = stored.value(json::json_pointer("/status/phase"), "");
          return phase == "Successful" || phase == "Error" || phase == "Failed";
        },
        std::chrono::seconds(30));
    INFO(stored.dump());
    REQUIRE(done);
    return stored;
  };
  env.cluster.ok("apply -f " + env.cluster.writeFile("read.json", runWithKey("read", "address").dump()));
  const json read = phaseOnceDone("read");
  CHECK(read["status"]["phase"] == "Successful");
  // The value never reaches the stored run.
  CHECK(read.dump().find(prometheus.address()) == std::string::npos);

  env.cluster.ok("apply -f " + env.cluster.writeFile("missing.json", runWithKey("missing", "url").dump()));
  const json missing = phaseOnceDone("missing");
  CHECK(missing["status"]["phase"] == "Error");
  CHECK(missing["status"]["message"] ==
        "arg \"address\": key \"url\" of Secret \"prometheus-endpoint\" not found");
}

TEST_CASE(
    "a missing template, an unreachable Prometheus and invalid PromQL each end the analysis with a readable "
    "reason",
    "[controller][e2e][prometheus]") {
  PrometheusHarness prometheus(PrometheusOptions{});
  ControllerEnv env;
  env.startController();
  env.cluster.ok("apply -f " + env.cluster.writeFile("v1.json", rolloutWithAnalysis("web:v1").dump()));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));

  struct Row {
    const char* behaviour;
    std::string address;  // empty: no template at all
    std::string query;
    std::string expected;  // in the Rollout's message
  };
  const std::string unreachable = "http://127.0.0.1:" + std::to_string(freeLoopbackPort());
  const Row rows[] = {
      {"a missing template", "", "", "error-rate"},
      {"an unreachable Prometheus", unreachable, "up", "cannot reach Prometheus at " + unreachable},
      {"invalid PromQL", prometheus.address(), "sum(rate(", "parse error"},
  };
  int version = 2;
  for (const auto& row : rows) {
    INFO(row.behaviour);
    env.cluster.kubectl("delete analysistemplate error-rate -n default --ignore-not-found");
    if (!row.address.empty()) {
      json t = errorRateTemplate(row.address);
      t["spec"]["metrics"][0]["provider"]["prometheus"]["query"] = row.query;
      t["spec"]["metrics"][0]["consecutiveErrorLimit"] = 0;  // the first Error ends the run
      env.cluster.ok("apply -f " + env.cluster.writeFile("t.json", t.dump()));
    }
    const std::string image = "web:v" + std::to_string(version++);
    const std::string before = env.rollout("web")["status"].value("currentPodHash", "");
    env.cluster.ok("apply -f " + env.cluster.writeFile(image + ".json", rolloutWithAnalysis(image).dump()));
    // Degraded again for this row's revision, not still for the previous row's.
    const bool degraded = env.waitRollout(
        "web",
        [&](const json& r) {
          return phaseOf(r) == "Degraded" && r["status"].value("currentPodHash", "") != before;
        },
        std::chrono::seconds(40));
    INFO("the Rollout: " << env.rollout("web").dump());
    INFO("its AnalysisRuns: " << env.cluster.kubectl("get analysisruns -n default -o json").output);
    REQUIRE(degraded);
    const std::string message = env.rollout("web")["status"].value("message", "");
    INFO(message);
    CHECK(message.find("analysis phase error") != std::string::npos);
    CHECK(message.find(row.expected) != std::string::npos);
    // Retry from scratch for the next row: back to the stable revision, then a new update.
    env.cluster.ok(
        "patch rollout web -n default --type merge --subresource status -p '{\"status\":{\"abort\":false}}'");
  }
}
