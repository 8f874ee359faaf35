// The one interface between the Rollout shell and a world its decisions act on. Two implementations:
// sim::SimulatedWorld (virtual time, pods and runs simulated) and controller::KubeWorld (a Kubernetes
// API through watch-fed caches). The shell (shell/reconcile.h) drives both the same way, which is why the
// simulator's prediction is the controller's behaviour.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/time.h"
#include "engine/canary.h"
#include "engine/workload.h"

namespace sluice::analysis {
struct AnalysisTemplate;
struct AnalysisRunSpec;
}  // namespace sluice::analysis

namespace sluice::shell {

class RolloutDocument;

class World {
 public:
  World() = default;
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  virtual ~World() = default;

  // The world as the engine sees it at `now`: the Rollout's ReplicaSets, AnalysisRuns, Service selectors
  // and the traffic weights in force. It must include every change this world carried out before, even
  // one a cache has not caught up with yet. With `restartAt` (engine::restartToObserve: a restart is
  // due), each ReplicaSet's pods are also counted against it (ReplicaSetView::restartPods), from the
  // pods as they are now; without it they are not looked at. An error (a cache not ready, a pod list
  // that failed) ends the reconcile; it is retried.
  virtual Result<engine::Observed> observe(Time now, std::optional<Time> restartAt) = 0;

  // The workload a Rollout's spec.workloadRef names (a Deployment in the Rollout's namespace), as it is
  // now, including this world's own writes to it; Ok(nullopt) when there is none. An error (a cache not
  // ready) ends the reconcile; it is retried.
  virtual Result<std::optional<engine::WorkloadView>> workload(const engine::WorkloadRef& ref) = 0;

  // Carries out one action (never CreateAnalysisRun: see createAnalysisRun). Ok(true): something the
  // engine observes changed; Ok(false): nothing did (it was already so, it was an event, or the cluster
  // refused every eviction of a RestartPods for now). An error
  // means the write failed: the shell stops there and writes no status, so the next reconcile decides
  // again from what really happened. May block for one API round trip.
  virtual Result<bool> apply(const engine::Action& action, Time now) = 0;

  // Creates the AnalysisRun the engine asked for. `spec` is the run built from its templates and the
  // Rollout's args (shell/analysis_run_builder.h), or why it could not be built (a missing template, an
  // arg with no value): the world then creates the run already in Error with that message, so the
  // Rollout's rules decide what happens next. Same results as apply().
  virtual Result<bool> createAnalysisRun(const engine::CreateAnalysisRun& action,
                                         const Result<analysis::AnalysisRunSpec>& spec, Time now) = 0;

  // The template named `name` (a ClusterAnalysisTemplate when `clusterScope`) in the Rollout's
  // namespace, or nullptr when there is none. The pointer is valid until the next call on this world.
  virtual const analysis::AnalysisTemplate* findTemplate(const std::string& name, bool clusterScope) = 0;

  // Stores `status` (engine::statusToJson of the next status) as the Rollout's status, and updates
  // `rollout` to what is now stored. Called only when the status changed, after every action of the
  // decision succeeded. An error leaves the stored status as it was.
  virtual Status writeStatus(RolloutDocument& rollout, nlohmann::json status, Time now) = 0;
};

}  // namespace sluice::shell
