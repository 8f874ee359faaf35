// The Experiment reconciler: one Experiment, read from the cache, settled by the shared shell
// (shell/experiment_reconcile.h) against a KubeWorld acting for it, as the Rollout reconciler settles a
// Rollout. Its ReplicaSets and AnalysisRuns carry it as their controller, so garbage collection removes them
// with it and their changes wake it.
#pragma once

#include <string>

#include "controller/kube_world.h"
#include "controller/reconcile_outcome.h"

namespace sluice::kube {
class Informer;
}

namespace sluice::controller {

class ExperimentReconciler {
 public:
  // `experiments`: the Experiment cache; `cluster`: the rest (its experimentWrites must be set). Both must
  // outlive the reconciler.
  ExperimentReconciler(const RolloutCluster& cluster, kube::Informer& experiments, const Clock& clock);

  // Reconciles the Experiment with cache key "namespace/name". Thread-safe for different keys.
  ReconcileOutcome reconcile(const std::string& key);

 private:
  // An Experiment whose spec does not parse: condition InvalidSpec and phase Error with the reason, written
  // once; no retry until the object changes.
  ReconcileOutcome markInvalid(const nlohmann::json& experiment, const std::string& why);

  const RolloutCluster& cluster_;
  kube::Informer& experiments_;
  const Clock& clock_;
};

}  // namespace sluice::controller
