// The Rollout reconciler (see rollout_reconciler.h).
#include "controller/rollout_reconciler.h"

#include "controller/recent_writes.h"
#include "controller/resources.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/patch.h"
#include "shell/reconcile.h"
#include "shell/rollout_document.h"

namespace sluice::controller {

using nlohmann::json;

RolloutReconciler::RolloutReconciler(const RolloutCluster& cluster, kube::Informer& rollouts,
                                     const Clock& clock)
    : cluster_(cluster), rollouts_(rollouts), clock_(clock) {}

ReconcileOutcome RolloutReconciler::reconcile(const std::string& key) {
  const auto object = cluster_.rolloutWrites->view(key, rollouts_.get(key));
  if (!object) return ReconcileOutcome::done();  // deleted: what it owned goes with it (garbage collection)
  if (object->contains("metadata") && (*object)["metadata"].contains("deletionTimestamp"))
    return ReconcileOutcome::done();
  shell::RolloutDocument doc(*object);
  KubeWorld world(cluster_, *object);
  auto settled = shell::settle(doc, world, decisionTime(clock_));
  if (!settled) {
    const auto& error = settled.error();
    if (error.kind == shell::ReconcileError::Kind::InvalidSpec) return markInvalid(*object, error.message);
    return ReconcileOutcome::retry(error.message);
  }
  if (settled->requeueAfter) return ReconcileOutcome::requeueAfter(*settled->requeueAfter);
  return ReconcileOutcome::done();
}

ReconcileOutcome RolloutReconciler::markInvalid(const json& rollout, const std::string& why) {
  return writeInvalidSpec(cluster_, rolloutsResource(), *cluster_.rolloutWrites, rollout, why, "Degraded",
                          decisionTime(clock_));
}

ReconcileOutcome writeInvalidSpec(const RolloutCluster& cluster, const kube::ResourceRef& resource,
                                  RecentWrites& writes, const json& object, const std::string& why,
                                  const std::string& phase, Time at) {
  const json before = object.value("status", json::object());
  json status = before.is_object() ? before : json::object();
  const std::string now = formatRfc3339(at);
  json conditions = json::array();
  bool same = false;
  for (const auto& c : status.value("conditions", json::array())) {
    if (c.is_object() && c.value("type", "") == "InvalidSpec") {
      same = c.value("message", "") == why;
      continue;
    }
    conditions.push_back(c);
  }
  if (same && status.value("phase", "") == phase) return ReconcileOutcome::done();
  conditions.push_back({{"type", "InvalidSpec"},
                        {"status", "True"},
                        {"reason", "InvalidSpec"},
                        {"message", why},
                        {"lastUpdateTime", now},
                        {"lastTransitionTime", now}});
  status["conditions"] = conditions;
  status["phase"] = phase;
  status["message"] = "InvalidSpec: " + why;
  const json patch = {{"status", kube::mergePatchBetween(before, status)}};
  auto patched = cluster.client->patch(resource, object["metadata"].value("namespace", ""),
                                       object["metadata"].value("name", ""), kube::PatchType::kMerge, patch,
                                       {false, cluster.fieldManager}, "status");
  if (!patched) return ReconcileOutcome::retry(patched.error().describe());
  writes.wrote(*patched);
  return ReconcileOutcome::done();
}

}  // namespace sluice::controller
