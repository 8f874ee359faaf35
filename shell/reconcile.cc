// The shell's passes and settle loop (see reconcile.h).
#include "shell/reconcile.h"

#include <nlohmann/json.hpp>
#include <variant>

#include "analysis/model.h"
#include "engine/rollout_json.h"
#include "shell/analysis_run_builder.h"
#include "shell/rollout_document.h"
#include "shell/world.h"

namespace sluice::shell {

const char* actionName(const engine::Action& action) {
  struct Names {
    const char* operator()(const engine::CreateReplicaSet&) { return "create ReplicaSet"; }
    const char* operator()(const engine::ScaleReplicaSet&) { return "scale ReplicaSet"; }
    const char* operator()(const engine::SetPodMetadata&) { return "set pod metadata"; }
    const char* operator()(const engine::DeleteReplicaSet&) { return "delete ReplicaSet"; }
    const char* operator()(const engine::SetTrafficWeight&) { return "set traffic weight"; }
    const char* operator()(const engine::SetServiceSelector&) { return "point Service"; }
    const char* operator()(const engine::SetHeaderRoute&) { return "set header route"; }
    const char* operator()(const engine::SetMirrorRoute&) { return "set mirror route"; }
    const char* operator()(const engine::RemoveManagedRoutes&) { return "remove managed routes"; }
    const char* operator()(const engine::CreateAnalysisRun&) { return "create AnalysisRun"; }
    const char* operator()(const engine::TerminateAnalysisRun&) { return "terminate AnalysisRun"; }
    const char* operator()(const engine::DeleteAnalysisRun&) { return "delete AnalysisRun"; }
    const char* operator()(const engine::RestartPods&) { return "restart pods"; }
    const char* operator()(const engine::ScaleWorkload&) { return "scale workload"; }
    const char* operator()(const engine::EmitEvent&) { return "emit event"; }
    const char* operator()(const engine::AdoptReplicaSet&) { return "adopt ReplicaSet"; }
    const char* operator()(const engine::CreateExperiment&) { return "create Experiment"; }
    const char* operator()(const engine::TerminateExperiment&) { return "terminate Experiment"; }
    const char* operator()(const engine::DeleteExperiment&) { return "delete Experiment"; }
    const char* operator()(const engine::CreateService&) { return "create Service"; }
    const char* operator()(const engine::DeleteService&) { return "delete Service"; }
  };
  return std::visit(Names{}, action);
}

ShellResult<PassOutcome> reconcileOnce(RolloutDocument& rollout, World& world, Time now,
                                       const PassObserver& observer) {
  auto parsed = rollout.rollout();
  if (!parsed) return ReconcileError{ReconcileError::Kind::InvalidSpec, parsed.error()};
  const engine::Rollout* model = *parsed;
  // With a workloadRef the engine decides on the Rollout with the workload's template filled in.
  std::optional<engine::Rollout> resolved;
  std::optional<engine::WorkloadState> workloadState;
  if (model->spec.workloadRef) {
    auto workload = world.workload(*model->spec.workloadRef);
    if (!workload) return ReconcileError{ReconcileError::Kind::Observe, workload.error()};
    if (!*workload) return ReconcileError{ReconcileError::Kind::InvalidSpec, engine::workloadMissing(*model)};
    auto filled = engine::resolveWorkload(*model, **workload);
    if (!filled) return ReconcileError{ReconcileError::Kind::InvalidSpec, filled.error()};
    resolved = std::move(*filled);
    model = &*resolved;
    workloadState = engine::WorkloadState{(*workload)->replicas, (*workload)->generation};
  }
  const engine::Rollout& current = *model;
  auto observed = world.observe(now, engine::restartToObserve(current, now));
  if (!observed) return ReconcileError{ReconcileError::Kind::Observe, observed.error()};
  if (auto why = engine::missingService(current, *observed))
    return ReconcileError{ReconcileError::Kind::InvalidSpec, std::move(*why)};
  observed->workload = workloadState;

  engine::Decision decision = engine::reconcileRollout(current, *observed, now);
  PassOutcome outcome;
  outcome.requeueAfter = decision.requeueAfter;
  const analysis::TemplateLookup lookup = [&world](const std::string& name, bool clusterScope) {
    return world.findTemplate(name, clusterScope);
  };
  for (const auto& action : decision.actions) {
    Result<bool> applied = false;
    if (const auto* create = std::get_if<engine::CreateAnalysisRun>(&action)) {
      // Built as the decision stands: podTemplateHashValue Stable reads the next status's stable hash.
      applied = world.createAnalysisRun(
          *create, buildAnalysisRun(*create, rollout.object(), decision.status.stableRS, lookup), now);
    } else {
      applied = world.apply(action, now);
    }
    if (!applied) {
      return ReconcileError{ReconcileError::Kind::Action,
                            std::string(actionName(action)) + ": " + applied.error()};
    }
    outcome.changed = *applied || outcome.changed;
  }
  // Diff before writing: an unchanged status is neither serialised nor written.
  if (decision.status != current.status) {
    const auto stored = rollout.object().find("status");
    auto wrote = writeStatusIfChanged(
        stored == rollout.object().end() ? nullptr : &*stored, engine::statusToJson(decision.status),
        [&](nlohmann::json status) { return world.writeStatus(rollout, std::move(status), now); });
    if (!wrote) return std::move(wrote).error();
    outcome.changed = *wrote || outcome.changed;
  }
  if (observer) observer(decision, now);
  return outcome;
}

int settleBound(const engine::Rollout& rollout) {
  return 32 + 4 * static_cast<int>(rollout.spec.canary.steps.size());
}

ShellResult<Settled> settle(RolloutDocument& rollout, World& world, Time now, const PassObserver& observer) {
  auto parsed = rollout.rollout();
  if (!parsed) return ReconcileError{ReconcileError::Kind::InvalidSpec, parsed.error()};
  return settleWithin(settleBound(**parsed), [&] { return reconcileOnce(rollout, world, now, observer); });
}

}  // namespace sluice::shell
