// The simulation runner: the engine's reconcileCanary over virtual time, against a simulated World,
// with people's actions from a Scenario applied as the very patches kubectl sluice sends. The Rollout
// is kept as a JSON object, as on an API server, so every decision reads a status that round-tripped.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/model.h"
#include "analysis/provider.h"
#include "base/diagnostics.h"
#include "base/result.h"
#include "base/source.h"
#include "base/time.h"
#include "engine/canary.h"
#include "engine/rollout.h"
#include "sim/scenario.h"

namespace sluice::sim {

// Virtual time 0: every simulation starts here, so outputs are the same on every run and machine.
inline const Time kEpoch = timeFromUnix(1767225600);  // 2026-01-01T00:00:00Z

// One Rollout document as loaded: the object, where it came from, and the parsed model.
struct RolloutInput {
  nlohmann::json object;
  SourceMap source;
  engine::Rollout rollout;
  // With spec.workloadRef: the Deployment it names, from the same input files.
  std::optional<nlohmann::json> workload;
};

// One AnalysisTemplate or ClusterAnalysisTemplate document as loaded.
struct TemplateInput {
  analysis::AnalysisTemplate analysisTemplate;
  SourceMap source;
};

struct SimInput {
  std::vector<RolloutInput> rollouts;
  std::vector<TemplateInput> templates;
  // The other objects of the input files (Services, Ingresses, VirtualServices, ...), for spec.traffic.
  std::vector<nlohmann::json> objects;
  Scenario scenario;
};

// Loads every Rollout, AnalysisTemplate and ClusterAnalysisTemplate in `files`, and the Deployments the
// Rollouts' workloadRefs name (other kinds, such as Services, are skipped), and the scenario (the default one
// when `scenarioFile` is nullopt), then checks them against each other (checkScenarioAgainstRollouts). Every
// problem goes to `diags`, with file, line and field path; returns nullopt if there was any error.
// `realPrometheus`: prometheus metrics will be measured by a real Prometheus, so they need no values in the
// scenario.
std::optional<SimInput> loadSimInput(const std::vector<std::string>& files,
                                     const std::optional<std::string>& scenarioFile, Diagnostics& diags,
                                     bool realPrometheus = false);

// The checks loadSimInput makes between a scenario, the templates and the Rollouts they drive:
// - every analysis template a Rollout refers to is either given (a template document, found by name
//   and scope) or scripted (an outcome in spec.analysisRuns), not both, and one analysis does not mix
//   the two; every outcome must be for a template some Rollout refers to;
// - the templates of each analysis merge into a run (analysis/merge.h), and each of their metrics has
//   values in spec.metrics (unless `realPrometheus` and it is a prometheus metric);
// - an update's container must exist.
void checkScenarioAgainstRollouts(const std::vector<RolloutInput>& rollouts, const Scenario& scenario,
                                  Diagnostics& diags, const std::vector<TemplateInput>& templates = {},
                                  bool realPrometheus = false);

struct SimOptions {
  // Simulate a first deploy (no stable revision yet) instead of an update from a stable revision.
  bool initial = false;
  // The templates the real runs are built from (SimInput::templates).
  std::vector<analysis::AnalysisTemplate> templates;
  // What measures the real runs' metrics; nullptr: the scenario's spec.metrics (ScenarioProvider). Must
  // outlive the simulation.
  analysis::Provider* metrics = nullptr;
  // The stable revision's pod template (spec.template), when it differs from the Rollout's in more than
  // the image (say, its annotations); by default the Rollout's template with the scenario's stable image.
  std::optional<nlohmann::json> stableTemplate;
  // The input files' other objects (SimInput::objects): real runs read their secretKeyRef args from the
  // Secrets among them. For a scenario's spec.traffic, the data plane starts from their Services and
  // routing objects, the Prometheus binary is started to hold its series, and the Prometheus provider
  // (analysis/providers) measures on it; without that provider, spec.traffic is an error.
  std::vector<nlohmann::json> clusterObjects;
  std::string prometheusBinary = "prometheus";
  analysis::Provider* prometheusProvider = nullptr;
};

// One measurement of a real run, as the reports show it.
struct MeasurementRecord {
  std::string metric;
  Duration t{0};  // when it was taken (virtual time)
  std::string phase;
  std::string value;
  std::string message;
};

struct ReplicaCount {
  int ready = 0;
  int desired = 0;
  bool operator==(const ReplicaCount&) const = default;
};

// One line of the timeline: recorded when an event is emitted or a visible value changes.
struct TimelineRow {
  Duration t{0};
  std::optional<int> step;  // status.currentStepIndex
  int canaryWeight = 0;
  int stableWeight = 100;
  ReplicaCount canary;
  ReplicaCount stable;
  std::string phase;
  std::string event;      // an event reason (RolloutStepCompleted), a person's action (promote), or empty
  std::string message;    // the event's message, or the status message
  bool byPerson = false;  // the event is a person's action from the scenario
  // Blue-green only: the pod-template hash the active and the preview Service select (nullopt while a
  // Service selects none), and the pods of the ReplicaSet behind each.
  std::optional<std::string> active;
  std::optional<std::string> preview;
  ReplicaCount activeReplicas;
  ReplicaCount previewReplicas;
};

struct AnalysisRunRecord {
  std::string name;
  std::vector<std::string> templates;
  std::optional<int> step;  // the step that created it; nullopt for a background or promotion run
  Duration startedAt{0};
  std::optional<Duration> endedAt;  // nullopt: still running when the simulation ended
  std::string phase;
  std::string message;
  bool scripted = true;                         // the outcome came from spec.analysisRuns
  std::vector<MeasurementRecord> measurements;  // a real run's, every one taken, oldest first
  engine::AnalysisRunType type = engine::AnalysisRunType::Step;
};

struct AbortRecord {
  Duration t{0};
  std::string message;
};

struct SimResult {
  std::string rolloutName;
  std::vector<std::string> steps;  // describeStep of each step
  bool trafficRouted = false;
  bool blueGreen = false;  // spec.strategy.blueGreen: the timeline carries active and preview
  Duration duration{0};    // the scenario's duration: the end of the time axis
  // The outcome.
  std::string phase;  // Healthy, Degraded, Paused or Progressing
  bool aborted = false;
  Duration endedAt{0};
  std::string message;
  std::vector<TimelineRow> timeline;
  std::vector<AnalysisRunRecord> analysisRuns;
  std::vector<AbortRecord> aborts;
};

// Simulates one Rollout under `scenario`. By default the world starts with a stable revision (the
// template with the stable image) deployed and fully promoted, and the Rollout's own template arrives as
// an update at t=0; with options.initial the Rollout's template is a first deploy. An error means the
// engine misbehaved (it did not settle, or wrote a status that no longer parses): a bug to report.
Result<SimResult> simulate(const RolloutInput& input, const Scenario& scenario,
                           const SimOptions& options = {});

// The stable image for a Rollout image: `stableImage` if given, else the image with its tag (or digest)
// replaced by "previous": "registry.example/app:v2" -> "registry.example/app:previous".
std::string stableImageFor(const std::string& image, const std::optional<std::string>& stableImage);

}  // namespace sluice::sim
