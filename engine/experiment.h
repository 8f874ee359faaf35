// The Experiment kind, field-compatible with Argo Rollouts': a few ReplicaSets (one per template) run side
// by side for a while, AnalysisRuns judge them, and the outcome is the Experiment's phase. Like the Rollout
// engine, reconcileExperiment is a pure function from the Experiment and what was observed to a decision
// (next status, actions, when to look again), carried out by the shell (shell/experiment_reconcile.h).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/phase.h"
#include "base/object_meta.h"
#include "base/time.h"
#include "engine/canary.h"
#include "engine/rollout.h"

namespace sluice::engine {

// ---- spec ------------------------------------------------------------------------------------------

// spec.templates[].service: a Service selecting the template's pods (named after its ReplicaSet, or
// `name`). Kept in the model; Sluice does not create the Service yet (validation warns).
struct ExperimentService {
  std::string name;
};

struct ExperimentTemplate {
  std::string name;
  int replicas = 1;
  int minReadySeconds = 0;
  nlohmann::json selector = nlohmann::json::object();     // a LabelSelector, kept as given
  nlohmann::json podTemplate = nlohmann::json::object();  // template, kept as given
  std::optional<ExperimentService> service;
};

struct ExperimentAnalysis {
  std::string name;
  std::string templateName;
  bool clusterScope = false;
  // value may hold {{templates.<name>.podTemplateHash}}, {{templates.<name>.replicaset.name}},
  // {{experiment.availableAt}} and {{experiment.finishedAt}}, filled when the run is created.
  std::vector<AnalysisArg> args;
  bool requiredForCompletion = false;
};

struct ExperimentSpec {
  std::vector<ExperimentTemplate> templates;
  std::optional<Duration> duration;  // nullopt: until terminated, or until the required analyses finish
  std::vector<ExperimentAnalysis> analyses;
  std::vector<std::string> dryRun;  // metric names, for every run
  std::vector<MeasurementRetention> measurementRetention;
  std::map<std::string, std::string> runLabels;       // analysisRunMetadata.labels
  std::map<std::string, std::string> runAnnotations;  // analysisRunMetadata.annotations
  int progressDeadlineSeconds = 600;
  int scaleDownDelaySeconds = 30;
  bool terminate = false;

  bool hasRequiredAnalyses() const;
};

// ---- status ----------------------------------------------------------------------------------------

// Experiment phases are AnalysisRun phases (Pending, Running, Successful, Failed, Error, Inconclusive).
// Template statuses, as Argo names them.
inline constexpr const char* kTemplateProgressing = "Progressing";
inline constexpr const char* kTemplateRunning = "Running";
inline constexpr const char* kTemplateSuccessful = "Successful";
inline constexpr const char* kTemplateFailed = "Failed";
inline constexpr const char* kTemplateError = "Error";

struct TemplateStatus {
  std::string name;
  int replicas = 0;
  int updatedReplicas = 0;
  int readyReplicas = 0;
  int availableReplicas = 0;
  std::optional<int> collisionCount;
  std::string status;  // kTemplate*
  std::string message;
  // When the template's ReplicaSet last changed size or pod counts: the progress deadline counts from it.
  std::optional<Time> lastTransitionTime;
  std::string serviceName;
  std::string podTemplateHash;

  bool completed() const;
  bool operator==(const TemplateStatus&) const = default;
};

struct ExperimentAnalysisRunStatus {
  std::string name;         // the analysis's name in spec.analyses
  std::string analysisRun;  // the run's name, once created
  analysis::Phase phase = analysis::Phase::Unset;
  std::string message;

  bool operator==(const ExperimentAnalysisRunStatus&) const = default;
};

struct ExperimentStatus {
  analysis::Phase phase = analysis::Phase::Unset;
  std::string message;
  std::vector<TemplateStatus> templateStatuses;
  std::vector<ExperimentAnalysisRunStatus> analysisRuns;
  std::optional<Time> availableAt;  // when every template was first available: duration counts from it
  std::vector<Condition> conditions;

  const TemplateStatus* templateStatus(const std::string& name) const;
  const ExperimentAnalysisRunStatus* analysisRun(const std::string& name) const;
  bool operator==(const ExperimentStatus&) const = default;
};

struct Experiment {
  std::string apiVersion = kApiVersion;
  ObjectMeta metadata;
  ExperimentSpec spec;
  ExperimentStatus status;
};

// ---- observation and decision ---------------------------------------------------------------------

// What the Experiment owns, as its world sees it now (including this world's own writes).
struct ExperimentObserved {
  std::vector<ReplicaSetView> replicaSets;
  std::vector<AnalysisRunView> analysisRuns;
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
//   template completes, then 0 after scaleDownDelaySeconds (a deadline annotation keeps the clock);
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
