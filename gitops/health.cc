// kstatus's status rules, transcribed as facts from its documented behaviour, per kind.
#include "gitops/health.h"

#include <cstdint>

namespace sluice::gitops {

using nlohmann::json;

namespace {

int64_t intAt(const json& obj, const char* section, const char* field, int64_t fallback = 0) {
  auto s = obj.find(section);
  if (s == obj.end() || !s->is_object()) return fallback;
  auto f = s->find(field);
  return f != s->end() && f->is_number_integer() ? f->get<int64_t>() : fallback;
}

const json* condition(const json& obj, const char* type) {
  auto s = obj.find("status");
  if (s == obj.end() || !s->is_object()) return nullptr;
  auto cs = s->find("conditions");
  if (cs == s->end() || !cs->is_array()) return nullptr;
  for (const auto& c : *cs) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

bool conditionIs(const json& obj, const char* type, const char* status) {
  const json* c = condition(obj, type);
  return c && c->value("status", "") == status;
}

std::string statusString(const json& obj, const char* field) {
  auto s = obj.find("status");
  if (s == obj.end() || !s->is_object()) return "";
  auto f = s->find(field);
  return f != s->end() && f->is_string() ? f->get<std::string>() : "";
}

Health current() { return {HealthState::kCurrent, ""}; }
Health inProgress(std::string why) { return {HealthState::kInProgress, std::move(why)}; }
Health failed(std::string why) { return {HealthState::kFailed, std::move(why)}; }

std::string counts(const char* what, int64_t have, int64_t want) {
  return std::string(what) + ": " + std::to_string(have) + "/" + std::to_string(want);
}

Health deployment(const json& d) {
  if (const json* p = condition(d, "Progressing"); p && p->value("reason", "") == "ProgressDeadlineExceeded")
    return failed("Progress deadline exceeded");
  const int64_t want = intAt(d, "spec", "replicas", 1);
  const int64_t replicas = intAt(d, "status", "replicas");
  const int64_t updated = intAt(d, "status", "updatedReplicas");
  const int64_t ready = intAt(d, "status", "readyReplicas");
  const int64_t available = intAt(d, "status", "availableReplicas");
  if (updated < want) return inProgress(counts("Updated", updated, want));
  if (replicas > updated) return inProgress("Pending termination: " + std::to_string(replicas - updated));
  if (available < updated) return inProgress(counts("Available", available, updated));
  if (ready < want) return inProgress(counts("Ready", ready, want));
  const bool hasDeadline =
      d.contains("spec") && d["spec"].is_object() && d["spec"].contains("progressDeadlineSeconds");
  if (hasDeadline) {
    const json* p = condition(d, "Progressing");
    if (!p || p->value("status", "") != "True" || p->value("reason", "") != "NewReplicaSetAvailable")
      return inProgress("Deployment is progressing");
  }
  if (!conditionIs(d, "Available", "True")) return inProgress("Deployment is not Available");
  return current();
}

Health replicaSet(const json& rs) {
  if (conditionIs(rs, "ReplicaFailure", "True")) return inProgress("Replica failure");
  const int64_t want = intAt(rs, "spec", "replicas", 1);
  const int64_t labelled = intAt(rs, "status", "fullyLabeledReplicas");
  const int64_t available = intAt(rs, "status", "availableReplicas");
  const int64_t ready = intAt(rs, "status", "readyReplicas");
  if (labelled < want) return inProgress(counts("Labelled", labelled, want));
  if (available < want) return inProgress(counts("Available", available, want));
  if (ready < want) return inProgress(counts("Ready", ready, want));
  if (intAt(rs, "status", "replicas") > want) return inProgress("Pending termination");
  return current();
}

Health statefulSet(const json& s) {
  const json& spec = s.contains("spec") && s["spec"].is_object() ? s["spec"] : json::object();
  if (spec.contains("updateStrategy") && spec["updateStrategy"].is_object() &&
      spec["updateStrategy"].value("type", "") == "OnDelete")
    return current();
  const int64_t want = intAt(s, "spec", "replicas", 1);
  const int64_t replicas = intAt(s, "status", "replicas");
  const int64_t ready = intAt(s, "status", "readyReplicas");
  if (replicas < want) return inProgress(counts("Replicas", replicas, want));
  if (ready < want) return inProgress(counts("Ready", ready, want));
  if (replicas > want) return inProgress("Pending termination");
  int64_t partition = -1;
  if (spec.contains("updateStrategy") && spec["updateStrategy"].is_object()) {
    const json& u = spec["updateStrategy"];
    if (u.contains("rollingUpdate") && u["rollingUpdate"].is_object())
      partition = u["rollingUpdate"].value("partition", int64_t{-1});
  }
  const int64_t updated = intAt(s, "status", "updatedReplicas");
  if (partition >= 0) {
    if (updated < want - partition)
      return inProgress(counts("Updated (partitioned)", updated, want - partition));
    return current();
  }
  const int64_t currentReplicas = intAt(s, "status", "currentReplicas");
  if (currentReplicas < want) return inProgress(counts("Current", currentReplicas, want));
  if (statusString(s, "currentRevision") != statusString(s, "updateRevision"))
    return inProgress("Waiting for the update to roll out");
  return current();
}

Health daemonSet(const json& d) {
  if (!d.contains("status") || !d["status"].is_object() || !d["status"].contains("observedGeneration"))
    return inProgress("Not observed yet");
  const int64_t desired = intAt(d, "status", "desiredNumberScheduled", -1);
  if (desired < 0) return inProgress("Missing desiredNumberScheduled");
  for (const char* f :
       {"currentNumberScheduled", "updatedNumberScheduled", "numberAvailable", "numberReady"}) {
    const int64_t have = intAt(d, "status", f);
    if (have < desired) return inProgress(counts(f, have, desired));
  }
  return current();
}

Health pod(const json& p) {
  const std::string phase = statusString(p, "phase");
  if (phase == "Succeeded") return current();
  if (phase == "Failed") return current();  // completed; kstatus reports it Current
  if (const json* s = condition(p, "PodScheduled");
      s && s->value("status", "") == "False" && s->value("reason", "") == "Unschedulable")
    return failed("Pod is unschedulable");
  if (p.contains("status") && p["status"].contains("containerStatuses") &&
      p["status"]["containerStatuses"].is_array()) {
    for (const auto& cs : p["status"]["containerStatuses"]) {
      if (cs.contains("state") && cs["state"].contains("waiting") &&
          cs["state"]["waiting"].value("reason", "") == "CrashLoopBackOff")
        return failed("Pod container " + cs.value("name", "") + " is in CrashLoopBackOff");
    }
  }
  if (phase == "Running" && conditionIs(p, "Ready", "True")) return current();
  return inProgress("Pod phase " + (phase.empty() ? std::string("unknown") : phase));
}

Health job(const json& j) {
  if (conditionIs(j, "Failed", "True")) return failed("Job failed");
  if (conditionIs(j, "Complete", "True")) return current();
  return inProgress("Job in progress");
}

Health crd(const json& c) {
  if (conditionIs(c, "NamesAccepted", "False")) return failed("CRD names not accepted");
  if (conditionIs(c, "Established", "True")) return current();
  return inProgress("CRD is not Established");
}

Health rollout(const json& r) {
  // Argo writes the generation it acted on as a string: until it matches, the phase is the old spec's.
  const int64_t generation = r["metadata"].value("generation", int64_t{0});
  const std::string observed = statusString(r, "observedGeneration");
  if (observed != std::to_string(generation))
    return inProgress("Generation " + std::to_string(generation) + " not observed yet");
  const std::string phase = statusString(r, "phase");
  if (phase == "Healthy") return current();
  if (phase == "Degraded") {
    const std::string message = statusString(r, "message");
    return failed("Rollout is Degraded" + (message.empty() ? "" : ": " + message));
  }
  return inProgress("Rollout phase " + (phase.empty() ? std::string("unknown") : phase));
}

}  // namespace

const char* healthStateName(HealthState s) {
  switch (s) {
    case HealthState::kCurrent:
      return "Current";
    case HealthState::kInProgress:
      return "InProgress";
    case HealthState::kFailed:
      return "Failed";
    case HealthState::kTerminating:
      return "Terminating";
  }
  return "Unknown";
}

Health assessHealth(const json& obj) {
  if (!obj.is_object()) return inProgress("Not found");
  const json& meta =
      obj.contains("metadata") && obj["metadata"].is_object() ? obj["metadata"] : json::object();
  if (meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null())
    return {HealthState::kTerminating, "Resource is being deleted"};
  const std::string apiVersion = obj.value("apiVersion", "");
  const std::string group =
      apiVersion.find('/') == std::string::npos ? "" : apiVersion.substr(0, apiVersion.find('/'));
  const std::string kind = obj.value("kind", "");
  // A Rollout's status.observedGeneration is a string: the Rollout's own rule reads it.
  const bool isRollout = kind == "Rollout" && (group == "sluice.dev" || group == "argoproj.io");
  if (isRollout) return rollout(obj);
  if (obj.contains("status") && obj["status"].is_object() && obj["status"].contains("observedGeneration")) {
    const json& og = obj["status"]["observedGeneration"];
    if (og.is_number_integer() && og.get<int64_t>() != meta.value("generation", int64_t{0}))
      return inProgress("Generation " + std::to_string(meta.value("generation", int64_t{0})) +
                        " not observed yet (observed " + std::to_string(og.get<int64_t>()) + ")");
  }
  if (conditionIs(obj, "Stalled", "True")) {
    const json* c = condition(obj, "Stalled");
    return failed(c->value("message", "Stalled"));
  }
  if (conditionIs(obj, "Reconciling", "True")) {
    const json* c = condition(obj, "Reconciling");
    return inProgress(c->value("message", "Reconciling"));
  }
  if (group == "apps" && kind == "Deployment") return deployment(obj);
  if (group == "apps" && kind == "ReplicaSet") return replicaSet(obj);
  if (group == "apps" && kind == "StatefulSet") return statefulSet(obj);
  if (group == "apps" && kind == "DaemonSet") return daemonSet(obj);
  if (group.empty() && kind == "Pod") return pod(obj);
  if (group == "batch" && kind == "Job") return job(obj);
  if (group.empty() && kind == "PersistentVolumeClaim") {
    return statusString(obj, "phase") == "Bound" ? current() : inProgress("PVC is not Bound");
  }
  if (group.empty() && kind == "Service") {
    const json& spec = obj.contains("spec") && obj["spec"].is_object() ? obj["spec"] : json::object();
    if (spec.value("type", "") == "LoadBalancer" && spec.value("clusterIP", "").empty())
      return inProgress("ClusterIP not set");
    return current();
  }
  if (group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition") return crd(obj);
  if (group.empty() || group.find('.') == std::string::npos || group.ends_with(".k8s.io"))
    return current();  // other built-in kinds (ConfigMap, Secret, ...): nothing to wait for
  if (const json* ready = condition(obj, "Ready")) {
    if (ready->value("status", "") == "True") return current();
    return inProgress(ready->value("message", "Ready is " + ready->value("status", "Unknown")));
  }
  return current();
}

}  // namespace sluice::gitops
