// A simulation scenario: how long to run, how fast pods become ready, how each AnalysisRun ends, what
// the metrics return, and what people do at given virtual times. Loaded from YAML with every error
// located by file, line and field path.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/diagnostics.h"
#include "base/source.h"
#include "base/time.h"

namespace sluice::sim {

inline constexpr const char* kScenarioApiVersion = "sluice.dev/v1alpha1";
inline constexpr const char* kScenarioKind = "Scenario";

// How every AnalysisRun created from one template ends: Running until `after` past its creation, then
// `phase` (Successful, Failed, Error or Inconclusive) with `message`.
struct AnalysisOutcome {
  std::string phase;
  Duration after{0};
  std::string message;
  std::string path;  // field path in the scenario, for diagnostics
};

// One scripted measurement: from `at` on, the metric returns this until the next point. For a job metric
// (Kind::Job) the point says how each Job started from `at` on runs: it completes, or fails when
// `jobFails`, `jobAfter` after it started.
struct MetricPoint {
  enum class Kind { Value, Values, Error, NaN, Empty, Job, Document };
  Duration at{0};
  Kind kind = Kind::Value;
  std::vector<double> values;  // one for Value, several for Values
  std::string error;           // for Error
  Duration jobAfter{0};        // for Job
  bool jobFails = false;       // for Job
  nlohmann::json document{};   // for Document: a string, bool, object or mixed list, as a web answer gives it
};

// What a person does at `at`.
struct PersonAction {
  enum class Kind { Promote, PromoteFull, Abort, Retry, Pause, Resume, Update, Restart };
  Duration at{0};
  Kind kind = Kind::Promote;
  Duration in{0};         // Restart: spec.restartAt is `at` plus this (kubectl sluice restart --in)
  std::string image;      // Update: the new image
  std::string container;  // Update: the container to change; empty means the first one
  std::string path;       // field path in the scenario, for messages
};

// How the pods of one revision answer the simulated data plane's requests, instead of what their pod
// template's cluster.sluice.dev/error-rate and latency annotations say.
struct VersionAnswers {
  std::optional<double> errorRate;  // 0 to 1
  std::optional<std::chrono::milliseconds> latency;
};

// spec.traffic: run the simulated data plane beside the Rollout, as the embedded cluster runs it (the
// Services and routing objects of the input files, the weights the routers write), and measure the
// analyses' prometheus metrics on a real Prometheus holding its series at virtual times.
struct TrafficSpec {
  double requestsPerSecond = 50;  // per routed host and per Service no route leads to, as --traffic-rps
  Duration scrapeInterval{5};     // how often Prometheus is given the series' values
  std::map<std::string, VersionAnswers> versions;  // by the revision's image
  std::string path;                                // field path in the scenario, for diagnostics
};

// "promote", "promote --full", "abort", ... as the timeline shows them.
std::string describeAction(const PersonAction& action);

struct Scenario {
  Duration duration{24 * 3600};
  Duration readiness{0};
  // The image of the stable revision the simulation starts from; by default the Rollout's image with
  // its tag replaced by "previous".
  std::optional<std::string> stableImage;
  std::map<std::string, AnalysisOutcome> analysisRuns;  // by template name
  // By metric name, sorted by `at`. `{job: {after, fails}}` in place of a list is one Job point at 0s.
  std::map<std::string, std::vector<MetricPoint>> metrics;
  std::vector<PersonAction> actions;  // sorted by `at` (stable for equal times)
  std::optional<TrafficSpec> traffic;
  SourceMap source;  // locates field paths, for diagnostics
  // spec.rollouts: one Rollout's own scenario, by the Rollout's name; each is the shared spec with the
  // fields its section sets replaced (a section's actions, analysisRuns or metrics replace the shared ones
  // whole). A section has rolloutName and path ("spec.rollouts.<name>") set, and no sections of its own.
  std::vector<Scenario> sections;
  std::string rolloutName;
  std::string path;

  // The scenario of the Rollout named `name`: its section, or this one when it has none.
  const Scenario& forRollout(const std::string& name) const;
};

// The scenario used when none is given: 24h, pods ready at once, no analysis outcomes, no actions.
Scenario defaultScenario();

// Parses a Scenario object. Every problem is added to `diags`, located through `source`. Returns the
// scenario when there were no errors, nullopt otherwise. Never throws.
std::optional<Scenario> parseScenario(const nlohmann::json& object, const SourceMap& source,
                                      Diagnostics& diags);

// Loads the one Scenario document in the file at `path`. An unreadable file, invalid YAML, or a file
// that is not exactly one Scenario is an error added to `diags`.
std::optional<Scenario> loadScenarioFile(const std::string& path, Diagnostics& diags);

}  // namespace sluice::sim
