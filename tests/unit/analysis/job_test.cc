// The job metric: Argo's provider.job read, checked and templated; the Job the controller creates for a
// measurement; and runs driven pass by pass, as the controller drives them, over a fake cluster's Jobs.
#include <catch2/catch.hpp>

#include <map>

#include "analysis/model_json.h"
#include "analysis/providers/job_provider.h"
#include "analysis/run_driver.h"
#include "analysis/templating.h"
#include "base/source.h"
#include "tests/unit/engine/rollout_test_manifests.h"

using namespace sluice;
using namespace sluice::analysis;
using nlohmann::json;

namespace {

const Time kJobT0 = timeFromUnix(1'800'000'000);

// Argo's example (docs/analysis/job.md), with the service templated.
const char* const kArgoJobTemplate = R"(apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: smoke}
spec:
  args: [{name: service}]
  metrics:
  - name: test
    provider:
      job:
        metadata:
          annotations: {foo: bar}
          labels: {foo: bar}
        spec:
          backoffLimit: 1
          template:
            spec:
              containers:
              - name: test
                image: my-image:latest
                command: [my-test-script, "{{args.service}}.default.svc.cluster.local"]
              restartPolicy: Never
)";

std::optional<AnalysisTemplate> loadJobTemplate(const std::string& yaml, Diagnostics& diags) {
  auto docs = parseYamlDocuments(yaml, "t.yaml");
  REQUIRE(docs.ok());
  REQUIRE(!docs->empty());
  return parseAnalysisTemplate((*docs)[0].json, (*docs)[0].source, diags);
}

// A template whose one metric runs the Job of `job` (a flow mapping), on line 7.
std::string jobMetricTemplate(const std::string& job) {
  return "apiVersion: sluice.dev/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t}\nspec:\n  metrics:\n"
         "  - name: m\n    provider: {job: " +
         job + "}\n";
}

const char* const kJobPod = "template: {spec: {containers: [{name: t, image: i}], restartPolicy: Never}}";

// A cluster holding Jobs by name; a test finishes them by hand.
class FakeJobCluster final : public JobCluster {
 public:
  Result<json> create(const json& job) override {
    const std::string name = job["metadata"]["name"];
    auto [it, added] = jobs.emplace(name, job);
    if (added) created.push_back(name);
    return it->second;
  }
  Result<std::optional<json>> get(const std::string& ns, const std::string& name) override {
    auto it = jobs.find(name);
    if (it == jobs.end() || it->second["metadata"]["namespace"] != ns) return std::optional<json>();
    return std::optional<json>(it->second);
  }
  Status remove(const std::string&, const std::string& name) override {
    jobs.erase(name);
    deleted.push_back(name);
    return {};
  }
  // Sets the Job's condition of `type` True, as the Job controller does when it completes or fails.
  void finish(const std::string& name, const std::string& type, const std::string& reason = "") {
    REQUIRE(jobs.count(name));
    jobs[name]["status"]["conditions"] =
        json::array({{{"type", type}, {"status", "True"}, {"reason", reason}, {"message", ""}}});
  }

  std::map<std::string, json> jobs;
  std::vector<std::string> created;
  std::vector<std::string> deleted;
};

// The metrics that are not job metrics; none here.
class NoOtherMetrics final : public Provider {
 public:
  Result<ProviderResult> measure(const Metric& metric, Time) override {
    return Error{"no provider for " + metric.name};
  }
};

// A run driven as the controller drives it: one pass per call, a new driver and job provider each time,
// resuming from the status the last pass left.
class JobRunPasses {
 public:
  explicit JobRunPasses(AnalysisRunSpec spec) : spec_(std::move(spec)) {}

  // One pass at `second` after kJobT0; the time the driver asks to be called again (nullopt: complete).
  std::optional<Time> pass(int64_t second) {
    JobRunOwner owner{"sluice.dev/v1alpha1", "run", "shop", "uid-1", status};
    auto provider = makeJobProvider(cluster, std::move(owner), others_);
    RunDriver driver(spec_, *provider, {}, nullptr, status);
    auto next = driver.advance(kJobT0 + Duration{second});
    status = driver.status();
    return next;
  }
  void terminate() { spec_.terminate = true; }
  const MetricResult& result() const { return *status.result("smoke"); }

  FakeJobCluster cluster;
  AnalysisRunStatus status;

 private:
  AnalysisRunSpec spec_;
  NoOtherMetrics others_;
};

Metric jobMetric(const std::string& interval = "", int count = 0, int failureLimit = 0) {
  Metric m;
  m.name = "smoke";
  m.interval = interval;
  if (count > 0) m.count = IntOrString{count, ""};
  m.failureLimit = IntOrString{failureLimit, ""};
  m.provider.job = JobMetric{};
  m.provider.job->spec = json::parse(R"({"template": {"spec": {"containers": [{"name": "t", "image": "i"}],
                                                                 "restartPolicy": "Never"}}})");
  return m;
}

AnalysisRunSpec jobRunSpec(Metric m) {
  AnalysisRunSpec spec;
  spec.metrics.push_back(std::move(m));
  return spec;
}

}  // namespace

TEST_CASE("Argo's job metric is read with its metadata and spec and written back unchanged",
          "[analysis][job]") {
  Diagnostics diags;
  auto t = loadJobTemplate(kArgoJobTemplate, diags);
  INFO(diags.format());
  REQUIRE(t);
  CHECK(diags.empty());
  const Metric& m = t->spec.metrics.at(0);
  REQUIRE(m.provider.job);
  CHECK(!m.provider.web);
  CHECK(m.provider.job->metadata == json{{"labels", {{"foo", "bar"}}}, {"annotations", {{"foo", "bar"}}}});
  CHECK(m.provider.job->spec["backoffLimit"] == 1);
  CHECK(m.provider.job->spec["template"]["spec"]["restartPolicy"] == "Never");

  const json written = metricToJson(m);
  CHECK(written["provider"]["job"]["spec"] == m.provider.job->spec);
  auto back = metricFromJson(written);
  REQUIRE(back);
  CHECK(*back == m);
}

TEST_CASE("{{args}} are substituted inside the Job's spec", "[analysis][job]") {
  Diagnostics diags;
  auto t = loadJobTemplate(kArgoJobTemplate, diags);
  REQUIRE(t);
  ResolvedArgs args;
  args.values["service"] = "checkout";
  auto resolved = resolveMetric(t->spec.metrics[0], args);
  REQUIRE(resolved);
  CHECK(resolved->provider.job->spec["template"]["spec"]["containers"][0]["command"][1] ==
        "checkout.default.svc.cluster.local");

  auto unresolved = resolveMetric(t->spec.metrics[0], ResolvedArgs{});
  REQUIRE(!unresolved);
  CHECK_THAT(unresolved.error(), Catch::Contains("{{args.service}}"));
}

TEST_CASE("a job metric that Kubernetes would refuse is reported at its field path", "[analysis][job]") {
  const std::string pod = kJobPod;
  const std::vector<sluice::testing::DiagnosticCase> rows = {
      {"the JobSpec is required", jobMetricTemplate("{metadata: {labels: {a: b}}}"),
       "spec.metrics[0].provider.job.spec", "is required", 7},
      {"the JobSpec is an object", jobMetricTemplate("{spec: [1]}"), "spec.metrics[0].provider.job.spec",
       "must be an object", 7},
      {"the pod template is required", jobMetricTemplate("{spec: {backoffLimit: 1}}"),
       "spec.metrics[0].provider.job.spec.template", "is required", 7},
      {"a container is required",
       jobMetricTemplate("{spec: {template: {spec: {containers: [], restartPolicy: Never}}}}"),
       "spec.metrics[0].provider.job.spec.template.spec.containers", "at least one container", 7},
      {"restartPolicy is Never or OnFailure",
       jobMetricTemplate("{spec: {template: {spec: {containers: [{name: t}], restartPolicy: Always}}}}"),
       "spec.metrics[0].provider.job.spec.template.spec.restartPolicy",
       "must be Never or OnFailure in a Job's pod template, got string \"Always\"", 7},
      {"restartPolicy must be given",
       jobMetricTemplate("{spec: {template: {spec: {containers: [{name: t}]}}}}"),
       "spec.metrics[0].provider.job.spec.template.spec.restartPolicy", "(it defaults to Always)", 7},
      {"activeDeadlineSeconds is positive",
       jobMetricTemplate("{spec: {activeDeadlineSeconds: 0, " + pod + "}}"),
       "spec.metrics[0].provider.job.spec.activeDeadlineSeconds", "must be a positive whole number", 7},
      {"labels are strings", jobMetricTemplate("{metadata: {labels: {a: [1]}}, spec: {" + pod + "}}"),
       "spec.metrics[0].provider.job.metadata.labels.a", "must be a string", 7},
      {"metadata holds only labels and annotations",
       jobMetricTemplate("{metadata: {name: x}, spec: {" + pod + "}}"),
       "spec.metrics[0].provider.job.metadata.name", "unknown field", 7, Severity::Warning},
      {"conditions are not used by a job metric",
       "apiVersion: sluice.dev/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t}\nspec:\n  metrics:\n"
       "  - name: m\n    successCondition: result == 1\n    provider: {job: {spec: {" +
           pod + "}}}\n",
       "spec.metrics[0].successCondition", "is not used by a job metric", 7, Severity::Warning},
      {"job is one provider among others", jobMetricTemplate("{spec: {" + pod + "}}, web: {url: http://x}"),
       "spec.metrics[0].provider", "exactly one provider, got 2", 7},
  };
  for (const auto& row : rows) {
    Diagnostics diags;
    auto t = loadJobTemplate(row.yaml, diags);
    sluice::testing::checkDiagnostics(row, diags, t.has_value());
  }
}

TEST_CASE("a measurement's Job is named and marked as Argo's and owned by the run", "[analysis][job]") {
  Diagnostics diags;
  auto t = loadJobTemplate(kArgoJobTemplate, diags);
  REQUIRE(t);
  AnalysisRunStatus status;
  status.metricResults.push_back(MetricResult{});
  status.metricResults[0].name = "test";
  status.metricResults[0].count = 2;
  status.metricResults[0].error = 1;
  const json job =
      metricJob({"sluice.dev/v1alpha1", "checkout-7d9-2", "shop", "0b5e", status}, t->spec.metrics[0]);
  CHECK(job["apiVersion"] == "batch/v1");
  CHECK(job["kind"] == "Job");
  CHECK(job["metadata"]["name"] == "0b5e.test.4");
  CHECK(job["metadata"]["namespace"] == "shop");
  CHECK(job["metadata"]["labels"] == json{{"foo", "bar"}, {"analysisrun.argoproj.io/uid", "0b5e"}});
  CHECK(job["metadata"]["annotations"] == json{{"foo", "bar"},
                                               {"analysisrun.argoproj.io/name", "checkout-7d9-2"},
                                               {"analysisrun.argoproj.io/metric-name", "test"}});
  const json& owner = job["metadata"]["ownerReferences"].at(0);
  CHECK(owner["kind"] == "AnalysisRun");
  CHECK(owner["name"] == "checkout-7d9-2");
  CHECK(owner["uid"] == "0b5e");
  CHECK(owner["controller"] == true);
  CHECK(job["spec"] == t->spec.metrics[0].provider.job->spec);
}

TEST_CASE("a job measurement is Running until its Job completes, then Successful", "[analysis][job]") {
  JobRunPasses run(jobRunSpec(jobMetric()));
  auto next = run.pass(0);
  REQUIRE(next);
  CHECK(run.cluster.created == std::vector<std::string>{"uid-1.smoke.1"});
  CHECK(run.status.phase == Phase::Running);
  CHECK(run.result().phase == Phase::Running);
  REQUIRE(run.result().measurements.size() == 1);
  CHECK(run.result().measurements[0].phase == Phase::Running);
  CHECK(!run.result().measurements[0].finishedAt);
  CHECK(run.result().measurements[0].metadata.at("job-name") == "uid-1.smoke.1");

  CHECK(run.pass(5));  // still running: no second Job
  CHECK(run.cluster.created.size() == 1);
  CHECK(run.status.phase == Phase::Running);

  run.cluster.finish("uid-1.smoke.1", "Complete");
  CHECK(!run.pass(9));
  CHECK(run.status.phase == Phase::Successful);
  CHECK(run.result().measurements[0].phase == Phase::Successful);
  CHECK(run.result().measurements[0].startedAt == kJobT0);
  CHECK(run.result().measurements[0].finishedAt == kJobT0 + Duration{9});
  CHECK(run.result().successful == 1);
}

TEST_CASE("a failed Job fails its measurement and the metric's failureLimit applies", "[analysis][job]") {
  SECTION("within failureLimit the next Job runs, numbered on") {
    JobRunPasses run(jobRunSpec(jobMetric("10s", 2, 1)));
    run.pass(0);
    run.cluster.finish("uid-1.smoke.1", "Failed", "BackoffLimitExceeded");
    run.pass(3);
    CHECK(run.result().measurements.back().phase == Phase::Failed);
    CHECK(run.result().measurements.back().message == "Job uid-1.smoke.1 failed: BackoffLimitExceeded");
    CHECK(run.status.phase == Phase::Running);
    run.pass(13);
    CHECK(run.cluster.created == std::vector<std::string>{"uid-1.smoke.1", "uid-1.smoke.2"});
    run.cluster.finish("uid-1.smoke.2", "Complete");
    CHECK(!run.pass(14));
    CHECK(run.status.phase == Phase::Successful);
    CHECK(run.result().failed == 1);
  }
  SECTION("past failureLimit the run fails") {
    JobRunPasses run(jobRunSpec(jobMetric()));
    run.pass(0);
    run.cluster.finish("uid-1.smoke.1", "Failed", "DeadlineExceeded");
    CHECK(!run.pass(2));
    CHECK(run.status.phase == Phase::Failed);
    CHECK_THAT(run.status.message, Catch::Contains("failed (1) > failureLimit (0)"));
  }
}

TEST_CASE("terminating a run deletes its running Job", "[analysis][job]") {
  JobRunPasses run(jobRunSpec(jobMetric()));
  run.pass(0);
  run.terminate();
  CHECK(!run.pass(4));
  CHECK(run.cluster.deleted == std::vector<std::string>{"uid-1.smoke.1"});
  CHECK(run.cluster.jobs.empty());
  CHECK(run.status.phase == Phase::Successful);
  CHECK(run.status.message == "Run Terminated");
  CHECK(run.result().measurements[0].phase == Phase::Successful);
  CHECK(run.result().measurements[0].finishedAt == kJobT0 + Duration{4});
}

TEST_CASE("a Job that is gone or belongs to another run is an Error measurement", "[analysis][job]") {
  SECTION("gone before it finished") {
    JobRunPasses run(jobRunSpec(jobMetric()));
    run.pass(0);
    run.cluster.jobs.clear();
    run.pass(2);
    CHECK(run.result().measurements.back().phase == Phase::Error);
    CHECK(run.result().measurements.back().message == "Job uid-1.smoke.1 is gone before it finished");
    CHECK(run.result().measurements.back().metadata.at("job-name") == "uid-1.smoke.1");
  }
  SECTION("another run's Job of that name") {
    JobRunPasses run(jobRunSpec(jobMetric()));
    run.cluster.jobs["uid-1.smoke.1"] = {
        {"metadata",
         {{"namespace", "shop"}, {"ownerReferences", {{{"uid", "other"}, {"controller", true}}}}}}};
    run.pass(0);
    CHECK(run.result().measurements.back().phase == Phase::Error);
    CHECK_THAT(run.result().measurements.back().message, Catch::Contains("is not this AnalysisRun's"));
  }
}
