// What `kubectl sluice get experiment` shows: the Experiment's phase and message, and a tree of its
// templates (their ReplicaSets and readiness) and its analyses (their AnalysisRuns and phases). Pure: built
// from the Experiment as the API serves it and a given `now`.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "cli/view_text.h"

namespace sluice::cli {

struct ExperimentTemplateView {
  std::string name;
  std::string replicaSet;  // <experiment>-<template>
  std::string status;      // Progressing, Running, Successful, Failed, Error ("Pending" before any)
  Health health = Health::kProgressing;
  int replicas = 0, ready = 0, available = 0;
  int desired = 1;  // spec.templates[].replicas
  std::string message;
};

struct ExperimentAnalysisView {
  std::string name;
  std::string analysisRun;  // "" until it is created
  std::string phase;        // "Pending" before the run
  Health health = Health::kProgressing;
  std::string message;
};

struct ExperimentDetailView {
  std::string name;
  std::string ns;
  std::string phase;  // "Pending" before any status
  Health health = Health::kProgressing;
  std::string message;
  std::string rollout;   // the Rollout that owns it; "" for one a person created
  std::string duration;  // spec.duration as written; "" for none
  std::string availableAt;
  std::optional<Duration> age;
  bool terminate = false;
  std::vector<ExperimentTemplateView> templates;  // in spec order
  std::vector<ExperimentAnalysisView> analyses;   // in spec order
};

ExperimentDetailView buildExperimentView(const nlohmann::json& experiment, Time now);

// A header (Name, Namespace, Status, Message, Rollout, Duration, Available) and the tree experiment ->
// ReplicaSets and AnalysisRuns.
std::string renderExperimentView(const ExperimentDetailView& view, bool color);

}  // namespace sluice::cli
