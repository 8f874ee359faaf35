// Whether an applied object has become what its spec asks for, by kstatus's rules (the ones Flux's
// health checks use), plus Argo's Rollout: healthy at status.phase Healthy, failed when Degraded. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace sluice::gitops {

enum class HealthState { kCurrent, kInProgress, kFailed, kTerminating };

struct Health {
  HealthState state = HealthState::kInProgress;
  std::string message;  // why it is not Current, in kstatus's words where it has them
};

// Generic rules first (deletionTimestamp, observedGeneration behind generation, Reconciling/Stalled
// conditions), then the kind's: Deployment, ReplicaSet, StatefulSet, DaemonSet, Pod, Job,
// PersistentVolumeClaim, Service, CustomResourceDefinition, Rollout; any other kind is judged by its
// Ready condition (True: Current; False or Unknown: InProgress), and with no conditions it is Current.
Health assessHealth(const nlohmann::json& obj);

const char* healthStateName(HealthState s);  // "Current", "InProgress", "Failed", "Terminating"

}  // namespace sluice::gitops
