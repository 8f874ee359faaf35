// kstatus's health rules as the Kustomization's health checks apply them, and a Rollout's phase.
#include "gitops/health.h"

#include <catch2/catch.hpp>

using namespace sluice::gitops;
using nlohmann::json;

namespace {

json obj(const std::string& apiVersion, const std::string& kind, json spec, json status,
         int64_t generation = 1) {
  return {{"apiVersion", apiVersion},
          {"kind", kind},
          {"metadata", {{"name", "x"}, {"namespace", "default"}, {"generation", generation}}},
          {"spec", std::move(spec)},
          {"status", std::move(status)}};
}

json conditions(std::initializer_list<std::pair<const char*, const char*>> cs) {
  json list = json::array();
  for (const auto& [t, s] : cs) list.push_back({{"type", t}, {"status", s}});
  return list;
}

}  // namespace

TEST_CASE("health follows kstatus's rules per kind", "[gitops][health]") {
  const json availableDeploy = {
      {"observedGeneration", 1}, {"replicas", 2},
      {"updatedReplicas", 2},    {"readyReplicas", 2},
      {"availableReplicas", 2},  {"conditions", conditions({{"Available", "True"}})}};
  json deadline = availableDeploy;
  deadline["conditions"].push_back(
      {{"type", "Progressing"}, {"status", "False"}, {"reason", "ProgressDeadlineExceeded"}});
  json behind = availableDeploy;
  behind["observedGeneration"] = 0;
  json halfReady = availableDeploy;
  halfReady["readyReplicas"] = 1;

  struct Case {
    const char* what;
    json object;
    HealthState expected;
  };
  std::vector<Case> cases = {
      {"a Deployment with every replica updated, ready and available",
       obj("apps/v1", "Deployment", {{"replicas", 2}}, availableDeploy), HealthState::kCurrent},
      {"a Deployment past its progress deadline", obj("apps/v1", "Deployment", {{"replicas", 2}}, deadline),
       HealthState::kFailed},
      {"a Deployment whose generation is not observed yet",
       obj("apps/v1", "Deployment", {{"replicas", 2}}, behind), HealthState::kInProgress},
      {"a Deployment with a replica not ready", obj("apps/v1", "Deployment", {{"replicas", 2}}, halfReady),
       HealthState::kInProgress},
      {"a ReplicaSet with all replicas",
       obj("apps/v1", "ReplicaSet", {{"replicas", 1}},
           {{"replicas", 1}, {"fullyLabeledReplicas", 1}, {"availableReplicas", 1}, {"readyReplicas", 1}}),
       HealthState::kCurrent},
      {"a ReplicaSet short of one",
       obj("apps/v1", "ReplicaSet", {{"replicas", 2}},
           {{"replicas", 2}, {"fullyLabeledReplicas", 2}, {"availableReplicas", 1}, {"readyReplicas", 1}}),
       HealthState::kInProgress},
      {"a StatefulSet rolled out",
       obj("apps/v1", "StatefulSet", {{"replicas", 1}},
           {{"replicas", 1},
            {"readyReplicas", 1},
            {"currentReplicas", 1},
            {"currentRevision", "a"},
            {"updateRevision", "a"}}),
       HealthState::kCurrent},
      {"a StatefulSet mid-update",
       obj("apps/v1", "StatefulSet", {{"replicas", 1}},
           {{"replicas", 1},
            {"readyReplicas", 1},
            {"currentReplicas", 1},
            {"currentRevision", "a"},
            {"updateRevision", "b"}}),
       HealthState::kInProgress},
      {"a StatefulSet with OnDelete updates",
       obj("apps/v1", "StatefulSet", {{"updateStrategy", {{"type", "OnDelete"}}}}, json::object()),
       HealthState::kCurrent},
      {"a DaemonSet everywhere",
       obj("apps/v1", "DaemonSet", json::object(),
           {{"observedGeneration", 1},
            {"desiredNumberScheduled", 3},
            {"currentNumberScheduled", 3},
            {"updatedNumberScheduled", 3},
            {"numberAvailable", 3},
            {"numberReady", 3}}),
       HealthState::kCurrent},
      {"a DaemonSet not ready on one node",
       obj("apps/v1", "DaemonSet", json::object(),
           {{"observedGeneration", 1},
            {"desiredNumberScheduled", 3},
            {"currentNumberScheduled", 3},
            {"updatedNumberScheduled", 3},
            {"numberAvailable", 3},
            {"numberReady", 2}}),
       HealthState::kInProgress},
      {"a running, ready Pod",
       obj("v1", "Pod", json::object(),
           {{"phase", "Running"}, {"conditions", conditions({{"Ready", "True"}})}}),
       HealthState::kCurrent},
      {"a Pod in CrashLoopBackOff",
       obj("v1", "Pod", json::object(),
           {{"phase", "Running"},
            {"containerStatuses",
             json::array({{{"name", "web"}, {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}}}})}}),
       HealthState::kFailed},
      {"a pending Pod", obj("v1", "Pod", json::object(), {{"phase", "Pending"}}), HealthState::kInProgress},
      {"a completed Job",
       obj("batch/v1", "Job", json::object(), {{"conditions", conditions({{"Complete", "True"}})}}),
       HealthState::kCurrent},
      {"a failed Job",
       obj("batch/v1", "Job", json::object(), {{"conditions", conditions({{"Failed", "True"}})}}),
       HealthState::kFailed},
      {"a Job running", obj("batch/v1", "Job", json::object(), json::object()), HealthState::kInProgress},
      {"a bound PVC", obj("v1", "PersistentVolumeClaim", json::object(), {{"phase", "Bound"}}),
       HealthState::kCurrent},
      {"a pending PVC", obj("v1", "PersistentVolumeClaim", json::object(), {{"phase", "Pending"}}),
       HealthState::kInProgress},
      {"a ClusterIP Service", obj("v1", "Service", {{"type", "ClusterIP"}}, json::object()),
       HealthState::kCurrent},
      {"a LoadBalancer Service without clusterIP yet",
       obj("v1", "Service", {{"type", "LoadBalancer"}}, json::object()), HealthState::kInProgress},
      {"an Established CRD",
       obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", json::object(),
           {{"conditions", conditions({{"Established", "True"}})}}),
       HealthState::kCurrent},
      {"a CRD whose names clash",
       obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", json::object(),
           {{"conditions", conditions({{"NamesAccepted", "False"}})}}),
       HealthState::kFailed},
      {"a CRD not Established yet",
       obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", json::object(), json::object()),
       HealthState::kInProgress},
      {"a ConfigMap", obj("v1", "ConfigMap", json::object(), json::object()), HealthState::kCurrent},
      {"a custom resource Ready",
       obj("example.com/v1", "Widget", json::object(), {{"conditions", conditions({{"Ready", "True"}})}}),
       HealthState::kCurrent},
      {"a custom resource not Ready",
       obj("example.com/v1", "Widget", json::object(), {{"conditions", conditions({{"Ready", "False"}})}}),
       HealthState::kInProgress},
      {"a custom resource with no conditions",
       obj("example.com/v1", "Widget", json::object(), json::object()), HealthState::kCurrent},
      {"a custom resource Stalled",
       obj("example.com/v1", "Widget", json::object(), {{"conditions", conditions({{"Stalled", "True"}})}}),
       HealthState::kFailed},
      {"a Rollout Healthy",
       obj("sluice.dev/v1alpha1", "Rollout", json::object(),
           {{"phase", "Healthy"}, {"observedGeneration", "1"}}),
       HealthState::kCurrent},
      {"a Rollout Healthy at an older generation (its new spec not seen yet)",
       obj("sluice.dev/v1alpha1", "Rollout", json::object(),
           {{"phase", "Healthy"}, {"observedGeneration", "1"}}, 2),
       HealthState::kInProgress},
      {"an Argo Rollout Healthy",
       obj("argoproj.io/v1alpha1", "Rollout", json::object(),
           {{"phase", "Healthy"}, {"observedGeneration", "1"}}),
       HealthState::kCurrent},
      {"a Rollout Progressing",
       obj("sluice.dev/v1alpha1", "Rollout", json::object(), {{"phase", "Progressing"}}),
       HealthState::kInProgress},
      {"a Rollout Paused", obj("sluice.dev/v1alpha1", "Rollout", json::object(), {{"phase", "Paused"}}),
       HealthState::kInProgress},
      {"a Rollout Degraded (aborted)",
       obj("sluice.dev/v1alpha1", "Rollout", json::object(),
           {{"phase", "Degraded"}, {"message", "RolloutAborted"}, {"observedGeneration", "1"}}),
       HealthState::kFailed},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const Health h = assessHealth(c.object);
    INFO(h.message);
    CHECK(healthStateName(h.state) == std::string(healthStateName(c.expected)));
  }
  json deleting = obj("v1", "ConfigMap", json::object(), json::object());
  deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  CHECK(assessHealth(deleting).state == HealthState::kTerminating);
}
