// The workload controllers inside the embedded API server: what kube-controller-manager's Deployment and
// ReplicaSet controllers and a kubelet would do, enough for rollouts, `kubectl rollout status` and health
// checks to behave. Deployments get one ReplicaSet per pod template and roll between them (RollingUpdate
// or Recreate); ReplicaSets get pods; pods are scheduled to a stand-in node and become Running and ready
// after a delay, or crash-loop when annotated to. Jobs complete after their pod template's delay, or fail
// when it is annotated to crash, or past activeDeadlineSeconds. It acts only through the Registry, like
// any client.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/pod_behaviour.h"
#include "kube/apiserver/api_error.h"

namespace sluice::apiserver {

class Registry;

struct WorkloadOptions {
  // How long a pod takes from creation to ready unless its ready-after annotation says otherwise.
  std::chrono::milliseconds podReadyAfter{2000};
  std::string nodeName = "sluice-node";
  // The most pods the simulation keeps for one ReplicaSet (and the most replicas it gives a Deployment's
  // ReplicaSets): this is a demo and test cluster on one machine, and spec.replicas may be up to 2^31-1.
  // Past it, a Warning Event SimulationLimit on the ReplicaSet.
  int maxPodsPerReplicaSet = 1000;
};

// A metav1.LabelSelector ({matchLabels, matchExpressions}) in the query-string form the registry's list
// takes ("app=web,tier in (a,b),!legacy"). An error for an operator it does not know.
Result<std::string> labelSelectorQuery(const nlohmann::json& selector);

class WorkloadControllers {
 public:
  // Watches Deployments, ReplicaSets, Pods and Jobs in every namespace and starts the worker thread. Objects
  // already stored are picked up where they stand, so a restarted server resumes them. An error
  // means a watch could not start.
  static ApiResult<std::unique_ptr<WorkloadControllers>> start(Registry& registry, WorkloadOptions options);
  WorkloadControllers(const WorkloadControllers&) = delete;
  WorkloadControllers& operator=(const WorkloadControllers&) = delete;
  // Stops the watches and waits for the worker to finish the key it is on. `registry` must outlive it.
  ~WorkloadControllers();

 private:
  struct Impl;
  explicit WorkloadControllers(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::apiserver
