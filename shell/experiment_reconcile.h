// The shell around the Experiment engine (engine/experiment.h), for the controller and the simulator alike:
// read the Experiment, decide, carry the actions out in order against an ExperimentWorld, write the status;
// repeat until a pass changes nothing. The same rules as the Rollout shell (shell/reconcile.h): the first
// failed action ends the pass and no status is written, so nothing is recorded before it happened.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "base/result.h"
#include "base/time.h"
#include "engine/experiment.h"
#include "shell/reconcile.h"

namespace sluice::analysis {
struct AnalysisTemplate;
struct AnalysisRunSpec;
}  // namespace sluice::analysis

namespace sluice::shell {

// The world an Experiment's decisions act on. Implemented by the controller's KubeWorld (one Experiment,
// through watch-fed caches) and by the simulator's world.
class ExperimentWorld {
 public:
  ExperimentWorld() = default;
  ExperimentWorld(const ExperimentWorld&) = delete;
  ExperimentWorld& operator=(const ExperimentWorld&) = delete;
  virtual ~ExperimentWorld() = default;

  // The ReplicaSets and AnalysisRuns the Experiment controls, as they are at `now`, including every change
  // this world carried out before. An error (a cache not ready) ends the reconcile; it is retried.
  virtual Result<engine::ExperimentObserved> observeExperiment(Time now) = 0;

  // Carries out CreateReplicaSet (owned by the Experiment), ScaleReplicaSet, TerminateAnalysisRun and
  // EmitEvent (on the Experiment), with the results of World::apply: Ok(true) when something observed
  // changed, an error when a write failed. May block for one API round trip.
  virtual Result<bool> apply(const engine::Action& action, Time now) = 0;

  // Creates the AnalysisRun, owned by the Experiment, from `spec` or, when it could not be built, already
  // in Error with the reason (as World::createAnalysisRun).
  virtual Result<bool> createAnalysisRun(const engine::CreateAnalysisRun& action,
                                         const Result<analysis::AnalysisRunSpec>& spec, Time now) = 0;

  // The template named `name` (a ClusterAnalysisTemplate when `clusterScope`) in the Experiment's
  // namespace, or nullptr. Valid until the next call on this world.
  virtual const analysis::AnalysisTemplate* findTemplate(const std::string& name, bool clusterScope) = 0;

  // Stores `status` (engine::experimentStatusToJson) as the Experiment's and updates `experiment` to the
  // object now stored. Called only when the status changed. An error leaves the stored status as it was.
  virtual Status writeExperimentStatus(nlohmann::json& experiment, nlohmann::json status, Time now) = 0;
};

// One pass at `now` over the Experiment object `experiment` (as stored). InvalidSpec when it does not parse.
ShellResult<PassOutcome> reconcileExperimentOnce(nlohmann::json& experiment, ExperimentWorld& world,
                                                 Time now);

// Passes at `now` until one changes nothing (at most a bound that grows with the templates and analyses).
ShellResult<Settled> settleExperiment(nlohmann::json& experiment, ExperimentWorld& world, Time now);

}  // namespace sluice::shell
