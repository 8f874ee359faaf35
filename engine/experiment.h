// The Experiment kind, field-compatible with Argo Rollouts': a few ReplicaSets (one per template) run side
// by side for a while, AnalysisRuns judge them, and the outcome is the Experiment's phase. Like the Rollout
// engine, reconcileExperiment is a pure function from the Experiment and what was observed to a decision
// (next status, actions, when to look again), carried out by the shell (shell/experiment_reconcile.h).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/canary.h"
#include "engine/experiment_types.h"

namespace sluice::engine {

// ---- observation and decision ---------------------------------------------------------------------

// What the Experiment owns, as its world sees it now (including this world's own writes).
struct ExperimentObserved {
  std::vector<ReplicaSetView> replicaSets;
  std::vector<AnalysisRunView> analysisRuns;
  // Names of ReplicaSets the Experiment does not control that a CreateReplicaSet found taken: that
  // template is in Error naming it (the name carries no hash, so hashing again would not free it).
  std::set<std::string> foreignReplicaSetNames;
};

struct ExperimentDecision {
  ExperimentStatus status;               // the whole next status; written only if it changed
  std::vector<Action> actions;           // CreateReplicaSet, ScaleReplicaSet, CreateAnalysisRun,
                                         // TerminateAnalysisRun, EmitEvent; in order
  std::optional<Duration> requeueAfter;  // look again after this long even if nothing changes
};

// The ReplicaSet of a template: "<experiment>-<template>", as Argo names it.
std::string experimentReplicaSetName(const Experiment& experiment, const ExperimentTemplate& tmpl);
// The AnalysisRun of an analysis: "<experiment>-<analysis>".
std::string experimentRunName(const Experiment& experiment, const ExperimentAnalysis& analysis);

// Whether the Experiment is winding down (Argo's rule): spec.terminate, a completed phase, a template
// Failed or Error, a run Failed, Error or Inconclusive, or every requiredForCompletion run Successful.
// Its ReplicaSets then scale to zero and its running runs are terminated.
bool experimentTerminating(const Experiment& experiment);

// One reconcile of an Experiment, as Argo's experiment controller decides it:
// - each template gets its ReplicaSet (pods labelled with the template's hash), sized `replicas` until the
//   template completes, then 0 after scaleDownDelaySeconds (a deadline annotation keeps the clock); when
//   another owner's ReplicaSet holds its name the template is in Error, and that ReplicaSet is left alone;
// - a template is Progressing until all its pods are available, Running while they are, Successful once the
//   duration passed or the Experiment terminates, Failed when it made no progress for
//   progressDeadlineSeconds;
// - availableAt is set when every template is Running; the analyses start on the next pass;
// - the phase is the worst template's until the templates complete, but a run that ends Failed, Error or
//   Inconclusive ends the Experiment with that phase, and with required analyses the Experiment ends when
//   they are all Successful. Once the templates are Successful the runs' worst phase decides.
// Deterministic: the same inputs give the same decision.
ExperimentDecision reconcileExperiment(const Experiment& experiment, const ExperimentObserved& observed,
                                       Time now);

}  // namespace sluice::engine
