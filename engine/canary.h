// The canary state machine: a pure function from what is known (the Rollout's spec and status, the
// ReplicaSets and AnalysisRuns observed, and `now`) to a decision (the next status, the actions to carry
// out, and when to look again). It does no I/O and reads no clock. The controller carries out the actions
// against a cluster, the simulator against a simulated world: the same decisions in both.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "analysis/phase.h"
#include "base/time.h"
#include "engine/experiment_types.h"
#include "engine/phase.h"
#include "engine/rollout.h"
#include "engine/steps_hash.h"

namespace sluice::engine {

// ---- what was observed -----------------------------------------------------------------------------

// The traffic split a router has in force (read back from the objects it manages).
struct TrafficInForce {
  int canaryWeight = 0;
  int stableWeight = 100;
  std::string canaryHash;
  std::string stableHash;
  // The other Services with a share (an experiment step's templates'), by service name; their pod-template
  // hashes are not read back (left empty).
  std::vector<WeightDestination> additional = {};
  bool operator==(const TrafficInForce&) const = default;
};

// The pods of one ReplicaSet as a restart (spec.restartAt) sees them. Counted from the pods themselves,
// not the ReplicaSet's status, which lags behind evictions: a second eviction decided on a stale status
// would take more pods down than maxUnavailable allows. Numbers only, so observing them costs the same
// for 3 replicas as for 3,000 in the simulator.
struct RestartPodCounts {
  int createdBefore = 0;  // pods created before spec.restartAt, those being deleted included
  int deleting = 0;       // of those, the pods already being deleted (evicted, terminating)
  int available = 0;      // pods available and not being deleted, however old
  bool operator==(const RestartPodCounts&) const = default;
};

// A ReplicaSet owned by the Rollout.
struct ReplicaSetView {
  std::string name;
  std::string podTemplateHash;  // label sluice.dev/pod-template-hash
  int64_t revision = 0;         // annotation sluice.dev/revision
  int specReplicas = 0;         // spec.replicas: what it was asked for
  int replicas = 0;             // status.replicas: pods that exist
  int readyReplicas = 0;
  int availableReplicas = 0;              // ready for at least minReadySeconds
  int minReadySeconds = 0;                // spec.minReadySeconds
  Time createdAt{};                       // metadata.creationTimestamp
  std::optional<Time> scaleDownDeadline;  // annotation sluice.dev/scale-down-deadline
  // The ephemeral metadata its pod template and pods carry now (annotation sluice.dev/ephemeral-metadata);
  // nullopt: none.
  std::optional<PodMetadata> podMetadata;
  // Filled by the world only while a restart is due (restartToObserve gives the instant to count from);
  // nullopt otherwise, so a settled Rollout costs no pod list.
  std::optional<RestartPodCounts> restartPods;
  // The label its selector and its pods carry the hash under: Sluice's, or on a ReplicaSet adopted from
  // Argo Rollouts, Argo's (kArgoPodTemplateHashLabel). A Service pointed at it selects by this key.
  std::string hashLabel = kPodTemplateHashLabel;
  // Only with Argo's hashLabel: its pod template, by which the engine knows the revision it runs (Argo's
  // hash cannot be computed again). Null otherwise.
  nlohmann::json podTemplate;
};

// Which part of the plan a run belongs to; the label sluice.dev/analysis-type on the run carries the name.
enum class AnalysisRunType { Step, Background, PrePromotion, PostPromotion };

// "Step", "Background", "PrePromotion", "PostPromotion"; and back (an unknown name reads as Step).
const char* analysisRunTypeName(AnalysisRunType type);
AnalysisRunType analysisRunTypeFromName(const std::string& name);

// An AnalysisRun owned by the Rollout.
struct AnalysisRunView {
  std::string name;
  AnalysisRunType type = AnalysisRunType::Step;
  std::string podTemplateHash;
  std::optional<int> stepIndex;  // Step runs only
  analysis::Phase phase = analysis::Phase::Unset;
  std::string message;
  bool terminated = false;  // spec.terminate was set
  Time createdAt{};         // metadata.creationTimestamp: the newest runs are the ones history keeps
};

// An Experiment owned by the Rollout (made for an experiment step).
struct ExperimentView {
  std::string name;
  std::string podTemplateHash;   // label sluice.dev/pod-template-hash: the revision it was made for
  std::optional<int> stepIndex;  // label sluice.dev/step-index
  analysis::Phase phase = analysis::Phase::Unset;
  std::string message;
  bool terminate = false;  // spec.terminate was set
  Time createdAt{};        // metadata.creationTimestamp: the newest are the ones history keeps
  std::vector<TemplateStatus> templates = {};  // status.templateStatuses: each template's Service and hash
};

// The workload (a Deployment) a Rollout's spec.workloadRef names: what the scale-down decides on.
struct WorkloadState {
  int replicas = 0;  // spec.replicas
  int64_t generation = 0;
  bool operator==(const WorkloadState&) const = default;
};

struct Observed {
  std::vector<ReplicaSetView> replicaSets;
  std::vector<AnalysisRunView> analysisRuns;
  std::vector<ExperimentView> experiments;
  // By pod-template hash: each ReplicaSet's spec.template, as an experiment step copies the stable or the
  // canary one into its Experiment. The controller's world fills it only for a Rollout with an experiment
  // step, so no other Rollout pays for the copies.
  std::map<std::string, nlohmann::json> podTemplates;
  // Service name -> the pod-template hash its selector picks now (canaryService, stableService). A
  // Service missing here is treated as not yet pointed anywhere, so the caller must report what it set.
  std::map<std::string, std::string> serviceSelectors;
  // With traffic routing: the weights the router reads back as in force; nullopt when it has set none
  // (all traffic on the stable). A setWeight step completes only once its weight is in force here, and
  // a weight that is not in force is set again (a failed router write is retried).
  std::optional<TrafficInForce> trafficWeights;
  // With spec.workloadRef: the workload as it is now (the Rollout's template was already filled from it,
  // engine/workload.h). nullopt without a workloadRef.
  std::optional<WorkloadState> workload;
  // Names of ReplicaSets in the namespace that are not the Rollout's (a CreateReplicaSet found one): the
  // hash of a new one that would take such a name is made again with the next status.collisionCount, as
  // Kubernetes' Deployment controller does.
  std::set<std::string> foreignReplicaSetNames;
  // Services the strategy names (canaryService, stableService, activeService, previewService) that do not
  // exist: the Rollout cannot run (missingService says why). A simulated world has them all.
  std::set<std::string> missingServices;
  // ReplicaSets Argo Rollouts made for a Rollout of this name (named <rollout>-<hash> with its hash label,
  // controlled by an argoproj.io Rollout of the name or by nothing) that are not yet this Rollout's: the
  // engine adopts them (AdoptReplicaSet) before it decides anything else. Read with hashLabel Argo's and
  // their podTemplate.
  std::vector<ReplicaSetView> adoptableReplicaSets;
};

// ---- what to do ------------------------------------------------------------------------------------

// Create the ReplicaSet for the current pod template, owned by the Rollout: everything a real
// ReplicaSet needs is here (its pod template and selector already carry the label
// sluice.dev/pod-template-hash = hash; the revision goes in the annotation sluice.dev/revision).
struct CreateReplicaSet {
  std::string name;  // <rollout>-<hash>
  std::string podTemplateHash;
  int64_t revision = 0;
  int replicas = 0;
  nlohmann::json podTemplate;  // spec.template: the Rollout's, with the hash label
  nlohmann::json selector;     // spec.selector: the Rollout's, with the hash in matchLabels
  int minReadySeconds = 0;
  // The ephemeral metadata of its role, already merged into podTemplate; recorded on the ReplicaSet in the
  // annotation sluice.dev/ephemeral-metadata.
  std::optional<PodMetadata> podMetadata;
};

// What a ScaleReplicaSet does to the scale-down deadline annotation.
enum class DeadlineChange { Keep, Set, Clear };

// Set spec.replicas of a ReplicaSet, and set, keep or clear its scale-down deadline annotation. For the
// ReplicaSet of the current template, also what it takes from the Rollout when that changed: a reused
// older ReplicaSet gets the new revision, and a new spec.minReadySeconds reaches the pods it runs.
struct ScaleReplicaSet {
  std::string name;
  int replicas = 0;
  DeadlineChange deadlineChange = DeadlineChange::Keep;
  Time scaleDownDeadline{};              // with DeadlineChange::Set
  std::optional<int64_t> revision{};     // set the annotation sluice.dev/revision
  std::optional<int> minReadySeconds{};  // set spec.minReadySeconds
};

// A ReplicaSet changes role (canary to stable, preview to active) or the spec's ephemeral metadata
// changed: its pod template and each of its pods, in place, lose the labels and annotations of `from` and
// get those of `to` (nullopt: none), and the annotation sluice.dev/ephemeral-metadata records `to`.
struct SetPodMetadata {
  std::string replicaSet;
  std::string podTemplateHash;
  std::optional<PodMetadata> from;
  std::optional<PodMetadata> to;
  std::string hashLabel = kPodTemplateHashLabel;  // the label its pods carry the hash in (Argo's if adopted)
};

// Take over a ReplicaSet Argo Rollouts made (Observed::adoptableReplicaSets): the Rollout becomes its
// controller in place of Argo's Rollout, it gets the label sluice.dev/pod-template-hash (its hash) and the
// revision and scale-down deadline Argo annotated; its selector, its pod template and its pods stay as
// they are, so no pod restarts.
struct AdoptReplicaSet {
  std::string name;
  std::string podTemplateHash;
};

// Delete an old ReplicaSet beyond revisionHistoryLimit.
struct DeleteReplicaSet {
  std::string name;
};

// Route `canaryWeight` of the traffic to the canary (out of maxTrafficWeight); only with traffic routing.
// `stableWeight` is what the canary and the additional Services leave.
struct SetTrafficWeight {
  int canaryWeight = 0;
  int stableWeight = 0;
  std::string canaryHash;
  std::string stableHash;
  // The Services in the canary and stable roles now (canaryRoleService, stableRoleService): with
  // canary.pingPong they swap at each promotion. Empty: the spec's canaryService and stableService.
  std::string canaryService = {};
  std::string stableService = {};
  // The experiment step's templates' Services and their shares, by service name (SMI, ALB and Istio only).
  std::vector<WeightDestination> additional = {};
};

// The split `weights` puts in force, as a router reads it back (no hash of the additional Services).
TrafficInForce splitOf(const SetTrafficWeight& weights);

// Point a Service's selector at a pod-template hash (canaryService, stableService), under the label key of
// that revision's pods; the other key (Sluice's or Argo's) leaves the selector in the same write.
struct SetServiceSelector {
  std::string service;
  std::string podTemplateHash;
  std::string hashLabel = kPodTemplateHashLabel;
};

struct SetHeaderRoute {
  SetHeaderRouteStep route;
};

struct SetMirrorRoute {
  SetMirrorRouteStep route;
};

struct RemoveManagedRoutes {};

// Create an AnalysisRun from the templates in `analysis`, owned by the Rollout.
struct CreateAnalysisRun {
  std::string name;  // <rollout>-<hash>-<revision>[-<stepIndex>]
  AnalysisRunType type = AnalysisRunType::Step;
  std::optional<int> stepIndex;
  std::string podTemplateHash;
  RolloutAnalysis analysis;
};

// Set spec.terminate on an AnalysisRun.
struct TerminateAnalysisRun {
  std::string name;
};

// Create the Experiment of an experiment step, owned by the Rollout (its metadata carries the name, the
// labels sluice.dev/pod-template-hash and sluice.dev/step-index, and the Rollout's labels).
struct CreateExperiment {
  Experiment experiment;
  std::optional<int> stepIndex;
};

// Set spec.terminate on an Experiment.
struct TerminateExperiment {
  std::string name;
};

// Create a Service selecting the pods of one pod-template hash (an Experiment template's `service`), owned
// by the Experiment; `ports` are its spec.ports.
struct CreateService {
  std::string name;
  std::string podTemplateHash;
  nlohmann::json ports = nlohmann::json::array();
};

// Delete a Service created by CreateService.
struct DeleteService {
  std::string name;
};

// Delete a finished Experiment beyond spec.analysis's history limits (what it owns goes with it).
struct DeleteExperiment {
  std::string name;
};

// Delete a finished AnalysisRun beyond spec.analysis's history limits.
struct DeleteAnalysisRun {
  std::string name;
};

// Restart pods of a ReplicaSet: evict its `count` oldest pods created before `restartAt` that are not
// being deleted already (its ReplicaSet controller then replaces them). An eviction the cluster refuses (a
// PodDisruptionBudget) is no error: the pod stays and a later pass asks again.
struct RestartPods {
  std::string replicaSet;
  int count = 0;
  Time restartAt{};
};

// Set spec.replicas of the workload spec.workloadRef names (its scaleDown), from `from`.
struct ScaleWorkload {
  std::string kind;  // Deployment
  std::string name;
  int from = 0;
  int replicas = 0;
};

struct EmitEvent {
  std::string type;  // Normal or Warning
  std::string reason;
  std::string message;
};

using Action = std::variant<CreateReplicaSet, ScaleReplicaSet, SetPodMetadata, DeleteReplicaSet,
                            SetTrafficWeight, SetServiceSelector, SetHeaderRoute, SetMirrorRoute,
                            RemoveManagedRoutes, CreateAnalysisRun, TerminateAnalysisRun, DeleteAnalysisRun,
                            RestartPods, ScaleWorkload, EmitEvent, AdoptReplicaSet, CreateExperiment,
                            TerminateExperiment, DeleteExperiment, CreateService, DeleteService>;

struct Decision {
  RolloutStatus status;                  // the whole next status; the shell writes it only if it changed
  std::vector<Action> actions;           // in the order they are to be carried out
  std::optional<Duration> requeueAfter;  // look again after this long even if nothing changes
};

// The instant a world counts ReplicaSetView::restartPods from: spec.restartAt while a restart is due
// (restartAt <= now and later than status.restartedAt), else nullopt (nothing to count). The shell asks
// the world to observe with it, so the engine and the world agree on when pods are listed.
std::optional<Time> restartToObserve(const Rollout& rollout, Time now);

// Why the Rollout cannot run in the observed world, Argo Rollouts' InvalidSpec: "<field path>: Service
// \"<name>\" not found in namespace \"<ns>\"" for the first Service its strategy names that is missing;
// nullopt when none is.
std::optional<std::string> missingService(const Rollout& rollout, const Observed& observed);

// One reconcile of a canary Rollout. `rollout.status` is the status as last written; `observed` is the
// world as the caller sees it now. Deterministic: the same inputs give the same decision.
Decision reconcileCanary(const Rollout& rollout, const Observed& observed, Time now);

// One reconcile of any Rollout: reconcileCanary, or reconcileBlueGreen (engine/bluegreen.h) for a
// Rollout with spec.strategy.blueGreen.
Decision reconcileRollout(const Rollout& rollout, const Observed& observed, Time now);

}  // namespace sluice::engine
