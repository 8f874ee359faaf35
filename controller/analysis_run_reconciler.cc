// The AnalysisRun reconciler (see analysis_run_reconciler.h).
#include "controller/analysis_run_reconciler.h"

#include <map>

#include "analysis/model_json.h"
#include "analysis/providers/job_provider.h"
#include "analysis/run_driver.h"
#include "analysis/templating.h"
#include "base/diagnostics.h"
#include "base/source.h"
#include "controller/recent_writes.h"
#include "controller/resources.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/patch.h"

namespace sluice::controller {

using nlohmann::json;

namespace {

// The Jobs of job metrics: created and deleted through the API server, read from the Job cache.
class ClusterJobs final : public analysis::JobCluster {
 public:
  ClusterJobs(kube::Client& client, kube::Informer& jobs, std::string fieldManager)
      : client_(client), jobs_(jobs), fieldManager_(std::move(fieldManager)) {}

  Result<json> create(const json& job) override {
    const std::string ns = job["metadata"].value("namespace", "");
    auto created = client_.create(jobsResource(), ns, job, {false, fieldManager_});
    if (created) return *created;
    if (!created.error().isAlreadyExists()) return Error{created.error().describe()};
    // Created by an earlier pass whose status write did not land: that Job is this measurement's.
    auto existing = client_.get(jobsResource(), ns, job["metadata"].value("name", ""));
    if (!existing) return Error{existing.error().describe()};
    return *existing;
  }

  Result<std::optional<json>> get(const std::string& ns, const std::string& name) override {
    if (auto cached = jobs_.get(ns + "/" + name)) return std::optional<json>(std::move(*cached));
    // Created a moment ago, not in the cache yet.
    auto read = client_.get(jobsResource(), ns, name);
    if (read) return std::optional<json>(std::move(*read));
    if (read.error().isNotFound()) return std::optional<json>();
    return Error{read.error().describe()};
  }

  Status remove(const std::string& ns, const std::string& name) override {
    kube::DeleteOptions options;
    options.propagationPolicy = "Background";
    auto removed = client_.remove(jobsResource(), ns, name, options);
    if (!removed && !removed.error().isNotFound()) return Error{removed.error().describe()};
    return {};
  }

 private:
  kube::Client& client_;
  kube::Informer& jobs_;
  std::string fieldManager_;
};

}  // namespace

AnalysisRunReconciler::AnalysisRunReconciler(kube::Client& client, kube::Informer& runs, kube::Informer& jobs,
                                             RecentWrites& runWrites, analysis::Provider& provider,
                                             const Clock& clock, std::string fieldManager)
    : client_(client),
      runs_(runs),
      jobs_(jobs),
      runWrites_(runWrites),
      provider_(provider),
      clock_(clock),
      fieldManager_(std::move(fieldManager)) {}

AnalysisRunReconciler::~AnalysisRunReconciler() = default;

ReconcileOutcome AnalysisRunReconciler::writeStatus(const json& run, const json& status) {
  const json before = run.value("status", json::object());
  const json diff = kube::mergePatchBetween(before.is_object() ? before : json::object(), status);
  if (diff.empty()) return ReconcileOutcome::done();
  auto patched = client_.patch(analysisRunsResource(), run["metadata"].value("namespace", ""),
                               run["metadata"].value("name", ""), kube::PatchType::kMerge,
                               json{{"status", diff}}, {false, fieldManager_}, "status");
  if (!patched) return ReconcileOutcome::retry(patched.error().describe());
  runWrites_.wrote(*patched);
  return ReconcileOutcome::done();
}

ReconcileOutcome AnalysisRunReconciler::reconcile(const std::string& key) {
  const auto object = runWrites_.view(key, runs_.get(key));
  if (!object) return ReconcileOutcome::done();
  const std::string ns = (*object)["metadata"].value("namespace", "");
  const std::string phase = object->value(json::json_pointer("/status/phase"), std::string());
  // A run its Rollout could not build: Error with the reason, once.
  const json annotations = object->value(json::json_pointer("/metadata/annotations"), json::object());
  const json buildError = annotations.is_object() ? annotations.value(kBuildErrorAnnotation, json()) : json();
  if (buildError.is_string()) {
    if (phase == "Error") return ReconcileOutcome::done();
    return writeStatus(*object, {{"phase", "Error"}, {"message", buildError.get<std::string>()}});
  }
  Diagnostics diags;
  auto run = analysis::parseAnalysisRun(*object, SourceMap(), diags);
  if (!run) {
    // A run that cannot be read ends in Error with the reason, once; nothing to retry until it changes.
    if (phase == "Error") return ReconcileOutcome::done();
    return writeStatus(*object, {{"phase", "Error"}, {"message", "invalid AnalysisRun: " + diags.format()}});
  }
  if (analysis::phaseCompleted(run->status.phase)) return ReconcileOutcome::done();

  // secretKeyRef args: read now, from the run's namespace; their values never reach the run's spec or
  // status (the driver masks them in every message).
  std::map<std::string, json> secretObjects;
  for (const auto& arg : run->spec.args) {
    if (!arg.secretKeyRef || secretObjects.count(arg.secretKeyRef->name)) continue;
    auto secret = client_.get(secretsResource(), ns, arg.secretKeyRef->name);
    if (secret) {
      secretObjects[arg.secretKeyRef->name] = std::move(*secret);
    } else if (!secret.error().isNotFound()) {
      return ReconcileOutcome::retry(secret.error().describe());
    }
  }
  auto secrets = analysis::readSecretArgs(run->spec.args, [&](const std::string& name) -> const json* {
    auto it = secretObjects.find(name);
    return it == secretObjects.end() ? nullptr : &it->second;
  });
  if (!secrets) {
    analysis::AnalysisRunStatus failed = run->status;
    failed.phase = analysis::Phase::Error;
    failed.message = secrets.error();
    return writeStatus(*object, analysis::runStatusToJson(failed));
  }

  const Time now = decisionTime(clock_);
  ClusterJobs jobs(client_, jobs_, fieldManager_);
  analysis::JobRunOwner owner{object->value("apiVersion", std::string(engine::kApiVersion)),
                              run->metadata.name, ns, (*object)["metadata"].value("uid", ""), run->status};
  auto provider = analysis::makeJobProvider(jobs, std::move(owner), provider_);
  analysis::RunDriver driver(run->spec, *provider, std::move(*secrets), nullptr, run->status);
  const std::optional<Time> next = driver.advance(now);
  ReconcileOutcome written = writeStatus(*object, analysis::runStatusToJson(driver.status()));
  if (written.kind == ReconcileOutcome::Kind::Retry) return written;
  if (!next) return ReconcileOutcome::done();
  return ReconcileOutcome::requeueAfter(*next - now);
}

}  // namespace sluice::controller
