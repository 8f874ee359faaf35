// The simulated world one Rollout lives in: its ReplicaSets and their pods, its AnalysisRuns (real runs of
// the given templates, or scripted outcomes), Service selectors, the traffic weights in force, and the
// events emitted. It is the shell's World (shell/world.h) in virtual time: the shell carries the engine's
// actions out against it exactly as the controller carries them out against a cluster. Time is always
// passed in: the world changes only by actions and by the passing of virtual time.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analysis/run_driver.h"
#include "base/result.h"
#include "base/time.h"
#include "engine/canary.h"
#include "shell/experiment_reconcile.h"
#include "shell/world.h"
#include "sim/scenario.h"

namespace sluice::sim {

// Pods asked for at one instant: they become ready together.
struct PodCohort {
  Time readyAt;
  int count = 0;
  Time createdAt{};  // when they were asked for (a restart replaces the pods created before its instant)
};

struct SimReplicaSet {
  std::string name;
  std::string podTemplateHash;
  int64_t revision = 0;
  int specReplicas = 0;
  // The pods that exist, by when they become ready, sorted. A replica count is a number, not objects:
  // the cost of a simulation depends on how often it scales, never on how many pods it asks for.
  std::vector<PodCohort> pods;
  std::optional<Time> scaleDownDeadline;
  std::optional<engine::PodMetadata> podMetadata;  // the ephemeral metadata of its role
  // spec.minReadySeconds: a pod counts as available this long after it is ready.
  int minReadySeconds = 0;
  Time createdAt{};
  // How long its new pods take to become ready: the scenario's readiness unless the pod template's
  // cluster.sluice.dev/ready-after annotation says otherwise (rounded up to whole seconds); nullopt when
  // cluster.sluice.dev/fail makes them crash-loop, never ready.
  std::optional<Duration> readiness;
  nlohmann::json podTemplate;  // spec.template, with the pod-template-hash label
  std::string experiment;      // the Experiment that owns it; empty: the Rollout's

  int podCount() const;
  int readyAt(Time now) const;      // pods ready at `now`
  int availableAt(Time now) const;  // pods ready for minReadySeconds at `now`
  int createdBefore(Time t) const;
};

struct SimAnalysisRun {
  std::string name;
  engine::AnalysisRunType type = engine::AnalysisRunType::Step;
  std::optional<int> stepIndex;
  std::string podTemplateHash;
  std::vector<std::string> templates;
  Time createdAt;
  std::optional<Time> terminatedAt;
  // The real analysis engine running this run, when its templates were given; nullptr when the
  // scenario's analysisRuns script its outcome.
  std::shared_ptr<analysis::RunDriver> driver;
  std::optional<Time> nextCheck;  // when `driver` is next due
  std::string startError;         // why the run could not be built (it is then in Error at once)
  // Deleted beyond the Rollout's history limits: gone from the world, kept here for the report.
  bool deleted = false;
  std::string experiment;  // the Experiment that owns it; empty: the Rollout's
};

// An Experiment of an experiment step, as stored (its status written back by the shared shell).
struct SimExperiment {
  nlohmann::json object;
  std::optional<int> stepIndex;
  std::optional<Time> nextCheck;  // the engine's requeue: an instant the simulation must stop at
  Time createdAt{};
};

// A run's phase at one instant, and since when it has had it (for terminal phases).
struct RunState {
  analysis::Phase phase = analysis::Phase::Running;  // Running, Successful, Failed, Error, Inconclusive
  std::string message;
  std::optional<Time> endedAt;
};

struct WorldEvent {
  Time at;
  std::string type;  // Normal or Warning
  std::string reason;
  std::string message;
};

using engine::TrafficInForce;

class SimulatedWorld final : public shell::World {
 public:
  // `readiness`: how long after being asked for a pod becomes ready. `outcomes`: how the runs of each
  // scripted analysis template end. `templates`: the templates given; a run of any of them is a real run,
  // measured through `metrics` (which must outlive the world; nullptr: no real runs). Runs of templates
  // that were not given follow `outcomes`.
  SimulatedWorld(Duration readiness, std::map<std::string, AnalysisOutcome> outcomes,
                 std::vector<analysis::AnalysisTemplate> templates = {},
                 analysis::Provider* metrics = nullptr);

  // The Secrets of the input files: a real run's secretKeyRef args are read from them by name, as the
  // controller reads them from the run's namespace.
  void setSecrets(std::vector<nlohmann::json> secrets) { secrets_ = std::move(secrets); }

  // Takes the measurements of every real run that is due at `now`. Returns whether a run's phase
  // changed (something the engine observes). Blocks for as long as the providers do.
  bool advanceRuns(Time now);

  // Settles every Experiment at `now` through the shell the controller's Experiment reconciler runs
  // (shell/experiment_reconcile.h), their ReplicaSets and runs living in this world. Returns whether an
  // Experiment's phase changed (something the Rollout observes); an error is an engine bug.
  Result<bool> settleExperiments(Time now);

  // shell::World. Nothing here fails: apply() says whether anything the engine can observe changed
  // (events change nothing observable; they are recorded in events()).
  Result<engine::Observed> observe(Time now, std::optional<Time> restartAt) override {
    return observed(now, restartAt);
  }
  Result<std::optional<engine::WorkloadView>> workload(const engine::WorkloadRef& ref) override;
  Result<bool> apply(const engine::Action& action, Time now) override;
  Result<bool> createAnalysisRun(const engine::CreateAnalysisRun& action,
                                 const Result<analysis::AnalysisRunSpec>& spec, Time now) override;
  const analysis::AnalysisTemplate* findTemplate(const std::string& name, bool clusterScope) override;
  Status writeStatus(shell::RolloutDocument& rollout, nlohmann::json status, Time now) override;

  // The world as the engine sees it at `now`, with each ReplicaSet's pods counted against `restartAt`
  // when given (see shell::World::observe).
  engine::Observed observed(Time now, std::optional<Time> restartAt = std::nullopt) const;

  // The earliest instant after `now` when the world changes by itself (a pod becomes ready, a run
  // reaches its outcome or is due for a measurement, a scale-down deadline passes), or nullopt if
  // nothing is pending.
  std::optional<Time> nextChange(Time now) const;

  // The phase of `run` at `now`: a real run's status as last advanced (Pending counts as Running), or
  // the scripted outcomes of its templates. A scripted run that needs a template with no outcome stays
  // Running.
  RunState runState(const SimAnalysisRun& run, Time now) const;

  const std::vector<SimReplicaSet>& replicaSets() const { return replicaSets_; }
  // The Rollout's ReplicaSet of a revision (an Experiment's of the same template is not it).
  const SimReplicaSet* replicaSet(const std::string& podTemplateHash) const;
  const std::vector<SimAnalysisRun>& analysisRuns() const { return runs_; }
  const std::vector<SimExperiment>& experiments() const { return experiments_; }
  const std::map<std::string, std::string>& serviceSelectors() const { return serviceSelectors_; }
  // The Services the Experiments' templates made, by name.
  const std::map<std::string, engine::CreateService>& createdServices() const { return createdServices_; }
  const std::set<std::string>& managedRoutes() const { return managedRoutes_; }
  // The weights last set; nullopt before any SetTrafficWeight (all traffic on the stable).
  const std::optional<TrafficInForce>& traffic() const { return traffic_; }
  const std::vector<WorldEvent>& events() const { return events_; }

  // The Deployment a Rollout's spec.workloadRef names, as an object (its pods are not simulated: the
  // Rollout's are). A scenario's update changes its template; the Rollout's scaleDown its spec.replicas.
  void setWorkload(nlohmann::json deployment) { workload_ = std::move(deployment); }
  // nullptr when there is none.
  nlohmann::json* workloadObject() { return workload_ ? &*workload_ : nullptr; }

 private:
  SimReplicaSet* findReplicaSet(const std::string& name);
  bool scale(SimReplicaSet& rs, int replicas, Time now);
  // Adds `count` pods asked for at `now`, ready after the ReplicaSet's readiness.
  static void addPods(SimReplicaSet& rs, int count, Time now);
  // Evicts the `count` oldest pods created before `restartAt`; the ReplicaSet replaces them at once.
  static bool restartPods(SimReplicaSet& rs, int count, Time restartAt, Time now);
  // Advances a real run at `now`; returns whether its phase changed.
  static bool advance(SimAnalysisRun& run, Time now);
  // A ReplicaSet as the engine sees it at `now` (its pods counted against `restartAt` when given).
  static engine::ReplicaSetView replicaSetView(const SimReplicaSet& rs, Time now,
                                               std::optional<Time> restartAt);

  Duration readiness_;
  std::map<std::string, AnalysisOutcome> outcomes_;
  std::vector<analysis::AnalysisTemplate> templates_;
  std::vector<nlohmann::json> secrets_;
  analysis::Provider* metrics_;
  // One cache for every run of the simulation: the runs of a template share its compiled conditions.
  std::shared_ptr<analysis::RunConditions> conditions_ = std::make_shared<analysis::RunConditions>();
  std::vector<SimReplicaSet> replicaSets_;
  std::vector<SimAnalysisRun> runs_;
  std::map<std::string, std::string> serviceSelectors_;
  std::map<std::string, engine::CreateService> createdServices_;
  std::set<std::string> managedRoutes_;
  std::optional<TrafficInForce> traffic_;
  std::vector<WorldEvent> events_;
  std::optional<nlohmann::json> workload_;
  std::vector<SimExperiment> experiments_;
  // While an Experiment is settled: its name, so what it creates is its own.
  std::string owner_;

  friend class ExperimentScope;
};

}  // namespace sluice::sim
