// The Rollout reconciler (see rollout_reconciler.h).
#include "controller/rollout_reconciler.h"

#include "controller/recent_writes.h"
#include "controller/resources.h"
#include "engine/phase.h"
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
    if (!world.trafficRoutingError().empty())
      return markTrafficRoutingError(doc.object(), world, error.message);
    return ReconcileOutcome::retry(error.message);
  }
  if (settled->requeueAfter) return ReconcileOutcome::requeueAfter(*settled->requeueAfter);
  return ReconcileOutcome::done();
}

ReconcileOutcome RolloutReconciler::markInvalid(const json& rollout, const std::string& why) {
  return writeInvalidSpec(cluster_, rolloutsResource(), *cluster_.rolloutWrites, rollout, why, "Degraded",
                          decisionTime(clock_));
}

ReconcileOutcome RolloutReconciler::markTrafficRoutingError(const json& rollout, KubeWorld& world,
                                                            const std::string& why) {
  // Progressing, not Degraded: nothing failed that the Rollout decided, and the reconcile goes on as soon as
  // the router's objects are there; `status` keeps waiting, as it does for any rollout under way.
  const Time now = decisionTime(clock_);
  // Of this spec (and this workload: `status` waits for both to be observed before it believes a phase).
  ErrorCondition error{engine::kTrafficRoutingErrorCondition, why, "Progressing"};
  const json generation = rollout.value(json::json_pointer("/metadata/generation"), json());
  if (generation.is_number_integer())
    error.statusFields["observedGeneration"] = std::to_string(generation.get<int64_t>());
  if (auto workload = world.workloadGeneration())
    error.statusFields["workloadObservedGeneration"] = std::to_string(*workload);
  auto written =
      writeErrorCondition(cluster_, rolloutsResource(), *cluster_.rolloutWrites, rollout, error, now);
  if (!written) return ReconcileOutcome::retry(why + "; and " + written.error());
  if (*written)
    (void)world.apply(engine::EmitEvent{"Warning", engine::kTrafficRoutingErrorCondition, why}, now);
  return ReconcileOutcome::retry(why);
}

ReconcileOutcome writeInvalidSpec(const RolloutCluster& cluster, const kube::ResourceRef& resource,
                                  RecentWrites& writes, const json& object, const std::string& why,
                                  const std::string& phase, Time at) {
  auto written = writeErrorCondition(cluster, resource, writes, object, {"InvalidSpec", why, phase}, at);
  if (!written) return ReconcileOutcome::retry(written.error());
  return ReconcileOutcome::done();
}

Result<bool> writeErrorCondition(const RolloutCluster& cluster, const kube::ResourceRef& resource,
                                 RecentWrites& writes, const json& object, const ErrorCondition& error,
                                 Time at) {
  const json before = object.value("status", json::object());
  json status = before.is_object() ? before : json::object();
  const std::string now = formatRfc3339(at);
  json conditions = json::array();
  json condition = {{"type", error.type},   {"status", "True"},      {"reason", error.type},
                    {"message", error.why}, {"lastUpdateTime", now}, {"lastTransitionTime", now}};
  for (const auto& c : status.value("conditions", json::array())) {
    if (!c.is_object() || c.value("type", "") != error.type) {
      conditions.push_back(c);
      continue;
    }
    // Timestamps move only when the condition changes: its message, or its status (the transition).
    if (c.value("status", "") == "True") {
      condition["lastTransitionTime"] = c.value("lastTransitionTime", now);
      if (c.value("message", "") == error.why) condition["lastUpdateTime"] = c.value("lastUpdateTime", now);
    }
  }
  conditions.push_back(std::move(condition));
  status["conditions"] = conditions;
  status["phase"] = error.phase;
  status["message"] = error.type + ": " + error.why;
  for (const auto& [field, value] : error.statusFields.items()) status[field] = value;
  const json diff = kube::mergePatchBetween(before, status);
  if (diff.empty()) return false;
  const json patch = {{"status", diff}};
  auto patched = cluster.client->patch(resource, object["metadata"].value("namespace", ""),
                                       object["metadata"].value("name", ""), kube::PatchType::kMerge, patch,
                                       {false, cluster.fieldManager}, "status");
  if (!patched) return Error{"write status: " + patched.error().describe()};
  writes.wrote(*patched);
  return true;
}

}  // namespace sluice::controller
