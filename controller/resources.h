// The API resources the controller reads and writes, and the labels and annotations it puts on them.
#pragma once

#include <string>

#include "kube/client.h"

namespace sluice::controller {

inline constexpr const char* kGroupVersion = "sluice.dev/v1alpha1";

const kube::ResourceRef& rolloutsResource();
const kube::ResourceRef& experimentsResource();
const kube::ResourceRef& analysisRunsResource();
const kube::ResourceRef& analysisTemplatesResource();
const kube::ResourceRef& clusterAnalysisTemplatesResource();
const kube::ResourceRef& replicaSetsResource();
const kube::ResourceRef& podsResource();
const kube::ResourceRef& servicesResource();
const kube::ResourceRef& secretsResource();
const kube::ResourceRef& deploymentsResource();
const kube::ResourceRef& jobsResource();

// On ReplicaSets: the revision (as Argo's rollout.argoproj.io/revision) and the time after which an
// old ReplicaSet is scaled down (RFC 3339, as Argo's scale-down-deadline).
inline constexpr const char* kRevisionAnnotation = "sluice.dev/revision";
inline constexpr const char* kScaleDownDeadlineAnnotation = "sluice.dev/scale-down-deadline";
// On AnalysisRuns a Rollout creates: which Rollout, which kind of analysis, which step.
inline constexpr const char* kRolloutLabel = "sluice.dev/rollout";
inline constexpr const char* kAnalysisTypeLabel = "sluice.dev/analysis-type";  // engine::analysisRunTypeName
inline constexpr const char* kStepIndexLabel = "sluice.dev/step-index";
// On AnalysisRuns an Experiment creates: which Experiment.
inline constexpr const char* kExperimentLabel = "sluice.dev/experiment";
// On an AnalysisRun a Rollout could not build (a missing template, an arg that does not resolve): why. The
// AnalysisRun reconciler, the one writer of runs' status, ends it in Error with this message.
inline constexpr const char* kBuildErrorAnnotation = "sluice.dev/build-error";
// On the leader-election Lease: the version of the controller holding it (read by `sluice version`).
inline constexpr const char* kControllerVersionAnnotation = "sluice.dev/controller-version";

}  // namespace sluice::controller
