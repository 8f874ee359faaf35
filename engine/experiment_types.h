// The Experiment kind's model, field-compatible with Argo Rollouts': spec and status as typed structs. Kept
// apart from the state machine (engine/experiment.h) so that the Rollout engine, which creates Experiments
// for its experiment steps (engine/canary.h), can name them.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/phase.h"
#include "base/object_meta.h"
#include "base/time.h"
#include "engine/rollout.h"

namespace sluice::engine {

// ---- spec ------------------------------------------------------------------------------------------

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

}  // namespace sluice::engine
