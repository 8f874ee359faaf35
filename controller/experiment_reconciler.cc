// The Experiment reconciler (see experiment_reconciler.h).
#include "controller/experiment_reconciler.h"

#include "controller/recent_writes.h"
#include "controller/resources.h"
#include "controller/rollout_reconciler.h"
#include "kube/informer.h"
#include "shell/experiment_reconcile.h"

namespace sluice::controller {

using nlohmann::json;

ExperimentReconciler::ExperimentReconciler(const RolloutCluster& cluster, kube::Informer& experiments,
                                           const Clock& clock)
    : cluster_(cluster), experiments_(experiments), clock_(clock) {}

ReconcileOutcome ExperimentReconciler::reconcile(const std::string& key) {
  auto object = cluster_.experimentWrites->view(key, experiments_.get(key));
  if (!object) return ReconcileOutcome::done();  // deleted: what it owned goes with it (garbage collection)
  if (object->contains("metadata") && (*object)["metadata"].contains("deletionTimestamp"))
    return ReconcileOutcome::done();
  KubeWorld world(cluster_, *object);
  json experiment = *object;
  auto settled = shell::settleExperiment(experiment, world, decisionTime(clock_));
  if (!settled) {
    const auto& error = settled.error();
    if (error.kind == shell::ReconcileError::Kind::InvalidSpec) return markInvalid(*object, error.message);
    return ReconcileOutcome::retry(error.message);
  }
  if (settled->requeueAfter) return ReconcileOutcome::requeueAfter(*settled->requeueAfter);
  return ReconcileOutcome::done();
}

ReconcileOutcome ExperimentReconciler::markInvalid(const json& experiment, const std::string& why) {
  return writeInvalidSpec(cluster_, experimentsResource(), *cluster_.experimentWrites, experiment, why,
                          "Error", decisionTime(clock_));
}

}  // namespace sluice::controller
