// What `kubectl sluice get rollout` and `get rollouts` show, built from the objects as the API serves them
// and rendered as text. Pure: no I/O and no clock (ages are taken against a given `now`).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "cli/view_text.h"

namespace sluice::cli {

struct PodView {
  std::string name;
  std::string status;  // as kubectl's STATUS column: Running, ContainerCreating, CrashLoopBackOff, ...
  Health health = Health::kProgressing;
  int readyContainers = 0;
  int containers = 0;
  int restarts = 0;
  std::optional<Duration> age;
};

struct AnalysisRunView {
  std::string name;
  std::string phase;  // Pending, Running, Successful, Failed, Error, Inconclusive ("" before any status)
  Health health = Health::kProgressing;
  int successful = 0;  // measurements, summed over the metrics
  int failed = 0;      // Failed and Error measurements
  std::optional<Duration> age;
};

struct ReplicaSetView {
  std::string name;
  std::string podTemplateHash;
  std::string status;  // Healthy, Progressing, ScaledDown or Degraded
  Health health = Health::kProgressing;
  std::vector<std::string> roles;       // "stable", then "canary", or "active" / "preview" (blue-green)
  std::optional<Duration> scaleDownIn;  // waiting out a scale-down delay: what is left of it
  std::optional<Duration> age;
  std::vector<PodView> pods;  // by name
};

// An experiment step's Experiment: its templates' ReplicaSets (with their pods) and its AnalysisRuns.
struct ExperimentTreeView {
  std::string name;
  std::string phase;  // Pending, Running, Successful, Failed, Error, Inconclusive ("Pending" before any)
  Health health = Health::kProgressing;
  std::optional<Duration> age;
  std::vector<ReplicaSetView> replicaSets;    // by name
  std::vector<AnalysisRunView> analysisRuns;  // by name
};

// One revision of the Rollout: its ReplicaSet (normally one), the Experiments of its experiment steps and
// the AnalysisRuns of its pod template.
struct RevisionView {
  int revision = 0;  // sluice.dev/revision; 0 when unknown
  std::vector<ReplicaSetView> replicaSets;
  std::vector<ExperimentTreeView> experiments;  // by name
  std::vector<AnalysisRunView> analysisRuns;    // by name
};

struct ImageView {
  std::string image;
  std::vector<std::string> roles;  // "stable", "canary", "active", "preview"
};

struct RolloutView {
  std::string name;
  std::string ns;
  std::string phase;  // Healthy, Paused, Progressing, Degraded ("" before the controller saw it)
  Health health = Health::kProgressing;
  std::string message;
  std::string strategy;      // "Canary", "BlueGreen"
  std::string step;          // "3/8"; "" without steps or before the controller's first status
  std::string setWeight;     // "20"; "" unless canary
  std::string actualWeight;  // "20"; "" unless canary
  std::vector<ImageView> images;
  int desired = 0, current = 0, updated = 0, ready = 0, available = 0;
  std::optional<Duration> age;
  std::vector<RevisionView> revisions;  // newest first
};

// The view of `rollout` from its ReplicaSets (those it owns are kept), their pods (matched by the
// sluice.dev/pod-template-hash label and owner reference), the AnalysisRuns labelled with its name, and the
// Experiments it owns, each under the revision whose pod-template hash it is labelled with, with the
// ReplicaSets it owns (from `replicaSets`) and the AnalysisRuns labelled with its name.
// Objects that do not belong are ignored, so callers may pass whole namespaces' lists.
RolloutView buildRolloutView(const nlohmann::json& rollout, const std::vector<nlohmann::json>& replicaSets,
                             const std::vector<nlohmann::json>& pods,
                             const std::vector<nlohmann::json>& analysisRuns,
                             const std::vector<nlohmann::json>& experiments, Time now);

// The header (Name, Namespace, Status, ... Replicas) and the tree of revisions, ReplicaSets, pods,
// Experiments and AnalysisRuns. `color`: ANSI colours on the status words and symbols.
std::string renderRolloutView(const RolloutView& view, bool color);

// One line of `get rollouts`.
struct RolloutRow {
  std::string ns;
  std::string name;
  std::string strategy;
  std::string status;
  std::string step;       // "1/4", "-" without steps
  std::string setWeight;  // "25", "-" unless canary
  int ready = 0, current = 0, desired = 0, upToDate = 0, available = 0;
};

RolloutRow rolloutRow(const nlohmann::json& rollout);

// The table of `get rollouts`: rows sorted by namespace then name; the NAMESPACE column only with
// `allNamespaces`. No rows: "" (kubectl then says "No resources found in NS namespace." on stderr).
std::string renderRolloutTable(std::vector<RolloutRow> rows, bool allNamespaces);

}  // namespace sluice::cli
