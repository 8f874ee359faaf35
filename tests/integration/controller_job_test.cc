// Job metrics end to end on the embedded cluster: the AnalysisRun reconciler creates a Job per measurement,
// owned by the run, reads its outcome as the cluster's Job controller writes it, and deletes it when the
// run is terminated; a Rollout's analysis step runs on a Job metric.
#include <catch2/catch.hpp>

#include "controller_env.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

// A job metric whose Job runs as `annotations` say (cluster.sluice.dev/ready-after, .../fail).
json jobMetricOf(const json& annotations, const json& specExtra = json::object()) {
  json spec = {{"backoffLimit", 0},
               {"template",
                {{"metadata", {{"annotations", annotations}}},
                 {"spec",
                  {{"containers", json::array({{{"name", "smoke"}, {"image", "smoke-test:1"}}})},
                   {"restartPolicy", "Never"}}}}}};
  spec.update(specExtra);
  return {{"name", "smoke"},
          {"provider", {{"job", {{"metadata", {{"labels", {{"suite", "smoke"}}}}}, {"spec", spec}}}}}};
}

json jobRun(const std::string& name, const json& metric) {
  return {{"apiVersion", "sluice.dev/v1alpha1"},
          {"kind", "AnalysisRun"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", {{"metrics", json::array({metric})}}}};
}

std::string runPhase(ControllerEnv& env, const std::string& name) {
  return env.cluster.getJson("analysisrun " + name + " -n default")
      .value(json::json_pointer("/status/phase"), std::string());
}

json jobsOfRuns(ControllerEnv& env) { return env.cluster.getJson("jobs -n default")["items"]; }

}  // namespace

TEST_CASE("an AnalysisRun's job metric runs a Job it owns and follows its outcome",
          "[controller][e2e][job]") {
  ControllerEnv env;
  env.startController();

  SECTION("a Job that completes: the run is Successful") {
    env.cluster.apply("run.json",
                      jobRun("smoke-ok", jobMetricOf({{"cluster.sluice.dev/ready-after", "1s"}})));
    REQUIRE(waitUntil([&] { return runPhase(env, "smoke-ok") == "Successful"; }, std::chrono::seconds(30)));
    const json run = env.cluster.getJson("analysisrun smoke-ok -n default");
    const json& m = run["status"]["metricResults"][0]["measurements"][0];
    CHECK(m["phase"] == "Successful");
    const std::string uid = run["metadata"]["uid"];
    CHECK(m["metadata"]["job-name"] == uid + ".smoke.1");

    const json jobs = jobsOfRuns(env);
    REQUIRE(jobs.size() == 1);
    const json& job = jobs[0];
    CHECK(job["metadata"]["name"] == uid + ".smoke.1");
    CHECK(job["metadata"]["labels"]["analysisrun.argoproj.io/uid"] == uid);
    CHECK(job["metadata"]["labels"]["suite"] == "smoke");
    CHECK(job["metadata"]["annotations"]["analysisrun.argoproj.io/name"] == "smoke-ok");
    CHECK(job["metadata"]["annotations"]["analysisrun.argoproj.io/metric-name"] == "smoke");
    CHECK(job["metadata"]["ownerReferences"][0]["kind"] == "AnalysisRun");
    CHECK(job["metadata"]["ownerReferences"][0]["uid"] == uid);
    CHECK(job["status"]["succeeded"] == 1);
    CHECK(job["status"]["conditions"][0]["type"] == "Complete");
  }

  SECTION("a Job that fails: the measurement and the run are Failed") {
    env.cluster.apply("run.json",
                      jobRun("smoke-bad", jobMetricOf({{"cluster.sluice.dev/ready-after", "1s"},
                                                       {"cluster.sluice.dev/fail", "CrashLoopBackOff"}})));
    REQUIRE(waitUntil([&] { return runPhase(env, "smoke-bad") == "Failed"; }, std::chrono::seconds(30)));
    const json run = env.cluster.getJson("analysisrun smoke-bad -n default");
    const json& m = run["status"]["metricResults"][0]["measurements"][0];
    CHECK(m["phase"] == "Failed");
    CHECK_THAT(m.value("message", ""), Catch::Contains("BackoffLimitExceeded"));
    CHECK_THAT(run["status"].value("message", ""), Catch::Contains("failed (1) > failureLimit (0)"));
    CHECK(jobsOfRuns(env)[0]["status"]["failed"] == 1);
  }

  SECTION("a Job past its activeDeadlineSeconds fails, and so does the measurement") {
    env.cluster.apply("run.json", jobRun("smoke-slow", jobMetricOf({{"cluster.sluice.dev/ready-after", "1h"}},
                                                                   {{"activeDeadlineSeconds", 2}})));
    REQUIRE(waitUntil([&] { return runPhase(env, "smoke-slow") == "Failed"; }, std::chrono::seconds(30)));
    const json run = env.cluster.getJson("analysisrun smoke-slow -n default");
    CHECK_THAT(run["status"]["metricResults"][0]["measurements"][0].value("message", ""),
               Catch::Contains("DeadlineExceeded"));
    const json jobs = jobsOfRuns(env);
    const json& job = jobs.at(0);
    CHECK(job["status"]["conditions"][0]["type"] == "Failed");
    CHECK(job["status"]["conditions"][0]["reason"] == "DeadlineExceeded");
  }

  SECTION("a terminated run deletes its running Job") {
    env.cluster.apply("run.json",
                      jobRun("smoke-stop", jobMetricOf({{"cluster.sluice.dev/ready-after", "1h"}})));
    REQUIRE(waitUntil([&] { return jobsOfRuns(env).size() == 1 && runPhase(env, "smoke-stop") == "Running"; },
                      std::chrono::seconds(30)));
    env.cluster.ok(
        "patch analysisrun smoke-stop -n default --type merge -p '{\"spec\":{\"terminate\":true}}'");
    REQUIRE(waitUntil([&] { return runPhase(env, "smoke-stop") == "Successful"; }, std::chrono::seconds(30)));
    const json run = env.cluster.getJson("analysisrun smoke-stop -n default");
    CHECK(run["status"]["message"] == "Run Terminated");
    CHECK(waitUntil([&] { return jobsOfRuns(env).empty(); }, std::chrono::seconds(10)));
  }
}

TEST_CASE("a Rollout's analysis step on a job metric promotes the canary when the Job completes",
          "[controller][e2e][job]") {
  ControllerEnv env;
  env.startController();
  json tmpl = {{"apiVersion", "sluice.dev/v1alpha1"},
               {"kind", "AnalysisTemplate"},
               {"metadata", {{"name", "smoke"}, {"namespace", "default"}}},
               {"spec",
                {{"args", json::array({{{"name", "image"}}})},
                 {"metrics", json::array({jobMetricOf({{"cluster.sluice.dev/ready-after", "1s"}})})}}}};
  tmpl["spec"]["metrics"][0]["provider"]["job"]["spec"]["template"]["spec"]["containers"][0]["args"] =
      json::array({"{{args.image}}"});
  env.cluster.ok("apply -f " + env.cluster.writeFile("t.json", tmpl.dump()));
  auto rollout = [](const std::string& image) {
    json steps = json::array({{{"setWeight", 50}},
                              {{"analysis",
                                {{"templates", json::array({{{"templateName", "smoke"}}})},
                                 {"args", json::array({{{"name", "image"}, {"value", image}}})}}}}});
    return webRollout(image, 2, steps);
  };
  env.cluster.ok("apply -f " + env.cluster.writeFile("v1.json", rollout("web:v1").dump()));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  const std::string v1 = env.rollout("web")["status"].value("stableRS", "");

  env.cluster.ok("apply -f " + env.cluster.writeFile("v2.json", rollout("web:v2").dump()));
  REQUIRE(env.waitRollout("web", [&](const json& r) {
    return phaseOf(r) == "Healthy" && r["status"].value("stableRS", "") != v1;
  }));
  const json runs = env.cluster.getJson("analysisruns -n default")["items"];
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["status"]["phase"] == "Successful");
  const json jobs = jobsOfRuns(env);
  REQUIRE(jobs.size() == 1);
  // The step's arg reached the Job's pod template.
  CHECK(jobs[0]["spec"]["template"]["spec"]["containers"][0]["args"][0] == "web:v2");
}
