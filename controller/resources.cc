// The resources the controller works with (see resources.h).
#include "controller/resources.h"

namespace sluice::controller {

namespace {
kube::ResourceRef ref(const char* group, const char* version, const char* resource, bool namespaced,
                      const char* kind) {
  kube::ResourceRef r;
  r.group = group;
  r.version = version;
  r.resource = resource;
  r.namespaced = namespaced;
  r.kind = kind;
  return r;
}
}  // namespace

const kube::ResourceRef& rolloutsResource() {
  static const auto r = ref("sluice.dev", "v1alpha1", "rollouts", true, "Rollout");
  return r;
}
const kube::ResourceRef& experimentsResource() {
  static const auto r = ref("sluice.dev", "v1alpha1", "experiments", true, "Experiment");
  return r;
}
const kube::ResourceRef& analysisRunsResource() {
  static const auto r = ref("sluice.dev", "v1alpha1", "analysisruns", true, "AnalysisRun");
  return r;
}
const kube::ResourceRef& analysisTemplatesResource() {
  static const auto r = ref("sluice.dev", "v1alpha1", "analysistemplates", true, "AnalysisTemplate");
  return r;
}
const kube::ResourceRef& clusterAnalysisTemplatesResource() {
  static const auto r =
      ref("sluice.dev", "v1alpha1", "clusteranalysistemplates", false, "ClusterAnalysisTemplate");
  return r;
}
const kube::ResourceRef& replicaSetsResource() {
  static const auto r = ref("apps", "v1", "replicasets", true, "ReplicaSet");
  return r;
}
const kube::ResourceRef& podsResource() {
  static const auto r = ref("", "v1", "pods", true, "Pod");
  return r;
}
const kube::ResourceRef& servicesResource() {
  static const auto r = ref("", "v1", "services", true, "Service");
  return r;
}
const kube::ResourceRef& deploymentsResource() {
  static const auto r = ref("apps", "v1", "deployments", true, "Deployment");
  return r;
}
const kube::ResourceRef& jobsResource() {
  static const auto r = ref("batch", "v1", "jobs", true, "Job");
  return r;
}
const kube::ResourceRef& secretsResource() {
  static const auto r = ref("", "v1", "secrets", true, "Secret");
  return r;
}

}  // namespace sluice::controller
