// The shell's World (shell/world.h) on a Kubernetes API: one Rollout's ReplicaSets, AnalysisRuns and
// Services read from watch-fed caches (through RecentWrites, so a write is seen at once), and the
// engine's actions carried out as API writes. One KubeWorld serves one reconcile of one Rollout, or, as an
// ExperimentWorld (shell/experiment_reconcile.h), of one Experiment: the same writes, owned by it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analysis/model.h"
#include "shell/experiment_reconcile.h"
#include "shell/world.h"
#include "traffic/router_options.h"

namespace sluice::kube {
class Client;
class EventRecorder;
class Informer;
}  // namespace sluice::kube

namespace sluice::traffic {
class Router;
struct ObjectWrite;
}  // namespace sluice::traffic

namespace sluice::controller {

class Metrics;
class RecentWrites;
class TrafficObjects;

// What a Rollout reconcile reads and writes through; shared by every reconcile, all thread-safe.
struct RolloutCluster {
  kube::Client* client = nullptr;
  kube::EventRecorder* events = nullptr;  // nullptr: events are only logged
  kube::Informer* replicaSets = nullptr;
  // ReplicaSets with Argo Rollouts' hash label: what a Rollout moved over from it adopts. nullptr: none.
  kube::Informer* argoReplicaSets = nullptr;
  kube::Informer* services = nullptr;
  kube::Informer* analysisRuns = nullptr;
  kube::Informer* analysisTemplates = nullptr;
  kube::Informer* clusterAnalysisTemplates = nullptr;
  kube::Informer* deployments = nullptr;  // the workloads spec.workloadRef names
  kube::Informer* experiments = nullptr;  // those of Rollouts' experiment steps, and standalone ones
  TrafficObjects* traffic = nullptr;      // the routers' objects (Ingresses, VirtualServices, ...)
  traffic::RouterOptions router;          // the versions the routers write at
  RecentWrites* rolloutWrites = nullptr;
  RecentWrites* replicaSetWrites = nullptr;
  RecentWrites* analysisRunWrites = nullptr;
  RecentWrites* serviceWrites = nullptr;
  RecentWrites* deploymentWrites = nullptr;
  RecentWrites* experimentWrites = nullptr;
  std::string fieldManager = "sluice-controller";
  Metrics* metrics = nullptr;  // counts the events emitted; nullptr: none
};

class KubeWorld final : public shell::World, public shell::ExperimentWorld {
 public:
  // `rollout`: the Rollout (or Experiment) object as the reconcile started with it (its uid owns what is
  // created).
  KubeWorld(const RolloutCluster& cluster, const nlohmann::json& rollout);
  ~KubeWorld() override;

  // Pods are listed (one list per ReplicaSet, by its pod-template-hash label) only when `restartAt` is
  // given: there is no pod cache, so a settled Rollout costs no pod in memory and no pod request.
  Result<engine::Observed> observe(Time now, std::optional<Time> restartAt) override;
  Result<std::optional<engine::WorkloadView>> workload(const engine::WorkloadRef& ref) override;
  Result<bool> apply(const engine::Action& action, Time now) override;
  Result<bool> createAnalysisRun(const engine::CreateAnalysisRun& action,
                                 const Result<analysis::AnalysisRunSpec>& spec, Time now) override;
  const analysis::AnalysisTemplate* findTemplate(const std::string& name, bool clusterScope) override;
  Status writeStatus(shell::RolloutDocument& rollout, nlohmann::json status, Time now) override;

  // Why the Rollout's traffic router failed the last observe or action that failed, reading or setting
  // the objects it names (or making the router: a CRD not installed); empty while it has not.
  const std::string& trafficRoutingError() const { return trafficRoutingError_; }
  // The metadata.generation of the workload the last workload() found; nullopt before one.
  std::optional<int64_t> workloadGeneration() const { return workloadGeneration_; }

  // An Experiment's ReplicaSets and AnalysisRuns; the Experiment's status through its status subresource.
  Result<engine::ExperimentObserved> observeExperiment(Time now) override;
  Status writeExperimentStatus(nlohmann::json& experiment, nlohmann::json status, Time now) override;

 private:
  nlohmann::json ownerReference() const;
  Result<bool> createReplicaSet(const engine::CreateReplicaSet& a);
  Result<bool> scaleReplicaSet(const engine::ScaleReplicaSet& a);
  Result<bool> setPodMetadata(const engine::SetPodMetadata& a);
  Result<bool> deleteReplicaSet(const engine::DeleteReplicaSet& a);
  Result<bool> adoptReplicaSet(const engine::AdoptReplicaSet& a);
  // Argo Rollouts' ReplicaSets of this Rollout's name that it does not control yet.
  std::vector<engine::ReplicaSetView> adoptable() const;
  Result<bool> pointService(const engine::SetServiceSelector& a);
  Result<bool> terminateRun(const engine::TerminateAnalysisRun& a);
  Result<bool> createExperiment(const engine::CreateExperiment& a);
  Result<bool> terminateExperiment(const engine::TerminateExperiment& a);
  Result<bool> deleteExperiment(const engine::DeleteExperiment& a);
  Result<bool> createService(const engine::CreateService& a);
  Result<bool> deleteService(const engine::DeleteService& a);
  Result<bool> deleteRun(const engine::DeleteAnalysisRun& a);
  Result<bool> emitEvent(const engine::EmitEvent& a);
  Result<engine::RestartPodCounts> countPods(const nlohmann::json& rs, Time restartAt, Time now);
  Result<bool> restartPods(const engine::RestartPods& a);
  Result<bool> scaleWorkload(const engine::ScaleWorkload& a);
  // The Rollout's traffic router, built on first use from the Rollout as the reconcile started with it;
  // nullptr without trafficRouting.
  Result<traffic::Router*> router();
  // The router's part of apply(): weights, header and mirror routes, their removal.
  Result<bool> applyRouted(const engine::Action& action);
  // Records `why` as trafficRoutingError() and returns it as the error.
  Error trafficRoutingFailed(const std::string& why);
  std::optional<nlohmann::json> lookup(const std::string& kind, const std::string& name) const;
  // Carries out a router's writes (creates, merge patches) in order; true when there was any.
  Result<bool> write(const std::vector<traffic::ObjectWrite>& writes);

  const RolloutCluster& cluster_;
  std::string kind_, name_, ns_, uid_;
  nlohmann::json rollout_;                              // for events (involvedObject)
  std::string canaryService_, stableService_;           // a canary's Services
  std::string pingService_, pongService_;               // its pingPong Services
  bool hasExperimentStep_ = false;                      // Observed::podTemplates is filled
  std::string activeService_, previewService_;          // a blue-green's
  std::optional<analysis::AnalysisTemplate> template_;  // the last findTemplate answer
  // By ReplicaSet name: its pods created before restartAt and not being deleted, oldest first, as the
  // last observe listed them; RestartPods evicts from the front.
  std::map<std::string, std::vector<std::string>> restartCandidates_;
  std::unique_ptr<traffic::Router> router_;
  std::string trafficRoutingError_;
  std::optional<int64_t> workloadGeneration_;
  // ReplicaSet names a create found taken by another owner, for the next observe.
  std::set<std::string> foreignReplicaSets_;
};

}  // namespace sluice::controller
