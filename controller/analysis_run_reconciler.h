// The AnalysisRun reconciler: runs every AnalysisRun (those Rollouts create and those people create) with
// the same run driver the simulator and the backtest use, one pass per reconcile, resuming from the
// status stored on the run, and writes the status back in one patch when it changed.
#pragma once

#include <memory>
#include <string>

#include "analysis/provider.h"
#include "controller/reconcile_outcome.h"

namespace sluice::kube {
class Client;
class Informer;
}  // namespace sluice::kube
namespace sluice::analysis {
class RunConditions;
}

namespace sluice::controller {

class RecentWrites;

class AnalysisRunReconciler {
 public:
  // `provider` takes the measurements (blocking, with its own timeouts); the reconciler's workers are the
  // measurement pool, apart from the Rollout workers. Job metrics run as batch/v1 Jobs the run owns,
  // created and deleted through `client`, their outcome read from `jobs` (a cache of the Jobs carrying
  // the run uid label; a Job not there yet is read from the API server). Everything must outlive the
  // reconciler.
  AnalysisRunReconciler(kube::Client& client, kube::Informer& runs, kube::Informer& jobs,
                        RecentWrites& runWrites, analysis::Provider& provider, const Clock& clock,
                        std::string fieldManager = "sluice-controller");
  ~AnalysisRunReconciler();
  AnalysisRunReconciler(const AnalysisRunReconciler&) = delete;
  AnalysisRunReconciler& operator=(const AnalysisRunReconciler&) = delete;

  ReconcileOutcome reconcile(const std::string& key);

 private:
  ReconcileOutcome writeStatus(const nlohmann::json& run, const nlohmann::json& status);

  kube::Client& client_;
  kube::Informer& runs_;
  kube::Informer& jobs_;
  RecentWrites& runWrites_;
  analysis::Provider& provider_;
  const Clock& clock_;
  std::string fieldManager_;
};

}  // namespace sluice::controller
