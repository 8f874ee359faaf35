// The AnalysisRun reconciler (see analysis_run_reconciler.h).
#include "controller/analysis_run_reconciler.h"

#include "analysis/model_json.h"
#include "analysis/run_driver.h"
#include "base/diagnostics.h"
#include "base/source.h"
#include "controller/recent_writes.h"
#include "controller/resources.h"
#include "kube/base64.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/patch.h"

namespace sluice::controller {

using nlohmann::json;

AnalysisRunReconciler::AnalysisRunReconciler(kube::Client& client, kube::Informer& runs,
                                             RecentWrites& runWrites, analysis::Provider& provider,
                                             const Clock& clock, std::string fieldManager)
    : client_(client),
      runs_(runs),
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
  analysis::SecretValues secrets;
  for (const auto& arg : run->spec.args) {
    if (!arg.secretKeyRef) continue;
    auto secret = client_.get(secretsResource(), ns, arg.secretKeyRef->name);
    std::optional<std::string> value;
    if (secret) {
      const json data = secret->value("data", json::object());
      if (data.is_object() && data.contains(arg.secretKeyRef->key) && data[arg.secretKeyRef->key].is_string())
        value = kube::base64Decode(data[arg.secretKeyRef->key].get<std::string>());
    } else if (!secret.error().isNotFound()) {
      return ReconcileOutcome::retry(secret.error().describe());
    }
    if (!value) {
      analysis::AnalysisRunStatus failed = run->status;
      failed.phase = analysis::Phase::Error;
      failed.message = "arg \"" + arg.name + "\": key \"" + arg.secretKeyRef->key + "\" of Secret \"" +
                       arg.secretKeyRef->name + "\" not found";
      return writeStatus(*object, analysis::runStatusToJson(failed));
    }
    secrets[arg.name] = *value;
  }

  const Time now = decisionTime(clock_);
  analysis::RunDriver driver(run->spec, provider_, std::move(secrets), nullptr, run->status);
  const std::optional<Time> next = driver.advance(now);
  ReconcileOutcome written = writeStatus(*object, analysis::runStatusToJson(driver.status()));
  if (written.kind == ReconcileOutcome::Kind::Retry) return written;
  if (!next) return ReconcileOutcome::done();
  return ReconcileOutcome::requeueAfter(*next - now);
}

}  // namespace sluice::controller
