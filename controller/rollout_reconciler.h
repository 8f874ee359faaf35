// The Rollout reconciler: one Rollout, read from the cache, settled by the shared shell (shell/reconcile.h)
// against a KubeWorld, exactly as the simulator settles it against its simulated world.
#pragma once

#include <string>

#include "controller/kube_world.h"
#include "controller/reconcile_outcome.h"

namespace sluice::kube {
class Informer;
struct ResourceRef;
}  // namespace sluice::kube

namespace sluice::controller {

class RolloutReconciler {
 public:
  // `rollouts`: the Rollout cache; `cluster`: the rest. Both must outlive the reconciler.
  RolloutReconciler(const RolloutCluster& cluster, kube::Informer& rollouts, const Clock& clock);

  // Reconciles the Rollout with cache key "namespace/name". Thread-safe for different keys (the work queue
  // never hands one key to two workers at once).
  ReconcileOutcome reconcile(const std::string& key);

 private:
  // A Rollout whose spec does not parse: condition InvalidSpec and phase Degraded with the reason, written
  // once; no retry until the object changes.
  ReconcileOutcome markInvalid(const nlohmann::json& rollout, const std::string& why);
  // A Rollout whose traffic router failed (an object it names is missing, a CRD is not installed, a write
  // was refused): condition TrafficRoutingError, phase Progressing and the error as the message, and a
  // Warning event when that is news; retried with backoff, and cleared by the next pass that gets through.
  ReconcileOutcome markTrafficRoutingError(const nlohmann::json& rollout, KubeWorld& world,
                                           const std::string& why);

  const RolloutCluster& cluster_;
  kube::Informer& rollouts_;
  const Clock& clock_;
};

// A condition the controller writes on an object's status when a reconcile cannot go on: `type` is also
// its reason and the prefix of status.message ("<type>: <why>").
struct ErrorCondition {
  std::string type;  // InvalidSpec, TrafficRoutingError
  std::string why;
  std::string phase;
  // Other fields of the status, written with it (a Rollout's observedGeneration: the status speaks of
  // this spec).
  nlohmann::json statusFields = nlohmann::json::object();
};

// Writes `error` on the status of `object` (of `resource`) in one status patch: the condition (status
// True; its timestamps kept while it says the same), phase and message. Ok(false) when the status says so
// already and nothing was written.
Result<bool> writeErrorCondition(const RolloutCluster& cluster, const kube::ResourceRef& resource,
                                 RecentWrites& writes, const nlohmann::json& object,
                                 const ErrorCondition& error, Time at);

// Marks an object of `resource` (a Rollout, an Experiment) whose spec does not parse: condition InvalidSpec
// with `why`, `phase` and message "InvalidSpec: <why>", in one status patch, none when it says so already.
// Done, or retry when the write failed.
ReconcileOutcome writeInvalidSpec(const RolloutCluster& cluster, const kube::ResourceRef& resource,
                                  RecentWrites& writes, const nlohmann::json& object, const std::string& why,
                                  const std::string& phase, Time at);

}  // namespace sluice::controller
