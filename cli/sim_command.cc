// `sluice sim`: runs the engine over virtual time against a simulated world and reports what happens.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <memory>

#include "analysis/providers/providers.h"
#include "cli/commands.h"
#include "sim/prometheus_replay.h"
#include "sim/report.h"
#include "sim/scenario_provider.h"
#include "sim/simulator.h"

namespace sluice::cli {

namespace {

struct SimFlags {
  std::vector<std::string> files;
  std::string scenario;
  std::string output = "table";
  std::string svg;
  std::string expect;
  bool initial = false;
  std::string prometheus;
  std::string start;
};

constexpr const char* kSimFooter = R"(
The world starts with a stable revision deployed and fully promoted: the Rollout's template with the
first container's image replaced by the scenario's spec.stableImage or, by default, by the same image
tagged "previous" (registry.example/app:v2 -> registry.example/app:previous). At t=0 the Rollout's own
template arrives as an update. With --initial the Rollout's template is a first deploy instead.
Virtual time starts at 2026-01-01T00:00:00Z, so every run prints the same.

Analysis: the AnalysisTemplates and ClusterAnalysisTemplates a Rollout uses are read from its own file
(multi-document YAML) and from the further files given. When the engine starts an AnalysisRun, its
spec is merged from those templates with the Rollout's args (podTemplateHashValue too) and run by the
real analysis engine over virtual time: each metric's successCondition and failureCondition are
evaluated on the values spec.metrics gives for that metric name. A template with no document can
instead be scripted in spec.analysisRuns (not both for the same template).

Scenario (all fields optional):
  apiVersion: sluice.dev/v1alpha1
  kind: Scenario
  spec:
    duration: 6h          # stop after this much virtual time (default 24h)
    readiness: 30s        # new pods become ready this long after they are asked for (default 0s)
    stableImage: app:v1   # the image of the stable revision
    metrics:              # what each metric returns from `at` on, by metric name
      error-rate:
        - {at: 0s, value: 0.01}          # a number: a scalar result (`result < 0.05`)
        - {at: 5m, value: [0.01, 0.2]}   # a list: a vector, one value per series (`result[0]`)
        - {at: 8m, value: nan}           # NaN, as Prometheus returns it for 0/0
        - {at: 9m, empty: true}          # an empty vector: the query matched no series
        - {at: 10m, error: "timeout"}    # the provider fails: an Error measurement
      smoke: {job: {after: 2m, fails: false}}   # a job metric: each Job runs 2m, then completes (or fails)
      version:
        - {at: 0s, value: {major: "1"}}  # a web answer: a string, bool, object or list (`result.major`)
    analysisRuns:         # instead of templates: how each run of a template ends, by template name
      smoke: {phase: Successful, after: 5m}    # or Failed, Error, Inconclusive; message: "..."
    actions:              # what people do, at virtual times
      - {at: 45m, promote: {}}         # also promote: {full: true}, abort, retry, pause, resume
      - {at: 1h, update: {image: "registry.example/app:v3"}}
    rollouts:             # with several Rollouts: a section per Rollout name; each field it sets
      api: {readiness: 1m}              # replaces the shared one for that Rollout
Every analysis template a Rollout uses needs a document or an entry in analysisRuns, every metric of
a given template values in metrics, and every analysisRuns entry must be used.

With --prometheus URL --start TIME, prometheus metrics are measured on that Prometheus (whatever their
own address) as of TIME + the virtual time of the measurement; they then need no values in metrics.
With several Rollouts, each runs under the scenario (its section of spec.rollouts, if any): JSON output
is then an array, and --svg
writes one chart per Rollout (chart.svg -> chart-NAME.svg).

Exit status: 0 the simulation finished (and matched --expect), 3 --expect did not match,
2 invalid input (unreadable file, invalid Rollout or scenario, unknown template), 1 the engine failed.)";

bool writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

// The SVG file for one of several rollouts: "chart.svg" -> "chart-web.svg".
std::string svgPathFor(const std::string& path, const std::string& rollout, size_t count) {
  if (count == 1) return path;
  const size_t dot = path.rfind('.');
  const size_t slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return path + "-" + rollout;
  return path.substr(0, dot) + "-" + rollout + path.substr(dot);
}

int runSim(const SimFlags& flags) {
  if (flags.prometheus.empty() != flags.start.empty()) {
    std::cerr << "sluice sim: --prometheus and --start go together\n";
    return kExitInvalidInput;
  }
  Time start;
  if (!flags.start.empty()) {
    auto t = parseRfc3339(flags.start);
    if (!t) {
      std::cerr << "sluice sim: --start: " << t.error() << "\n";
      return kExitInvalidInput;
    }
    start = *t;
  }
  Diagnostics diags;
  auto input = sim::loadSimInput(
      flags.files, flags.scenario.empty() ? std::nullopt : std::optional<std::string>(flags.scenario), diags,
      !flags.prometheus.empty());
  std::cerr << diags.format();
  if (!input) return kExitInvalidInput;
  sim::SimOptions options;
  options.initial = flags.initial;
  for (const auto& t : input->templates) options.templates.push_back(t.analysisTemplate);
  // With --prometheus, prometheus metrics are measured for real at start + virtual time; the others
  // still come from the scenario.
  std::unique_ptr<analysis::Provider> real;
  if (!flags.prometheus.empty()) real = analysis::makeProvider();
  options.clusterObjects = input->objects;

  nlohmann::json reports = nlohmann::json::array();
  int status = kExitOk;
  for (const auto& rollout : input->rollouts) {
    // Each Rollout meets its own section of the scenario (spec.rollouts.<name>), or the shared spec.
    const sim::Scenario& scenario = input->scenario.forRollout(rollout.rollout.metadata.name);
    std::unique_ptr<sim::ScenarioProvider> scenarioMetrics;
    std::unique_ptr<sim::PrometheusReplayProvider> replay;
    if (!flags.prometheus.empty()) {
      scenarioMetrics = std::make_unique<sim::ScenarioProvider>(scenario.metrics, sim::kEpoch);
      replay = std::make_unique<sim::PrometheusReplayProvider>(*real, flags.prometheus, start, sim::kEpoch,
                                                               *scenarioMetrics);
      options.metrics = replay.get();
    }
    // With spec.traffic, prometheus metrics are measured on a Prometheus of the simulation's own, holding
    // the simulated data plane's series.
    if (scenario.traffic) {
      if (!real) real = analysis::makeProvider();
      options.prometheusProvider = real.get();
    }
    auto result = sim::simulate(rollout, scenario, options);
    if (!result) {
      std::cerr << "sluice sim: " << rollout.rollout.metadata.name << ": " << result.error() << "\n";
      return kExitFailure;
    }
    if (flags.output == "json") {
      reports.push_back(sim::toJson(*result));
    } else {
      std::cout << (reports.empty() ? "" : "\n") << sim::formatTable(*result);
      reports.push_back(nullptr);
    }
    if (!flags.svg.empty()) {
      const std::string path = svgPathFor(flags.svg, result->rolloutName, input->rollouts.size());
      if (!writeFile(path, sim::renderSvg(*result))) {
        std::cerr << "sluice sim: cannot write " << path << "\n";
        return kExitInvalidInput;
      }
    }
    if (!flags.expect.empty() && result->phase != flags.expect) {
      std::cerr << "sluice sim: " << result->rolloutName << ": expected " << flags.expect << ", got "
                << result->phase << (result->aborted ? " (aborted)" : "") << " at "
                << sim::formatSimTime(result->endedAt)
                << (result->message.empty() ? "" : ": " + result->message) << "\n";
      status = kExitMismatch;
    }
  }
  if (flags.output == "json") std::cout << (reports.size() == 1 ? reports[0] : reports).dump(2) << "\n";
  return status;
}

}  // namespace

void addSimCommand(CLI::App& app, int& exitCode) {
  auto flags = std::make_shared<SimFlags>();
  auto* cmd = app.add_subcommand(
      "sim", "Simulate Rollouts offline: the real engine over virtual time against a simulated world");
  cmd->footer(kSimFooter);
  cmd->add_option("rollouts", flags->files,
                  "Files with the Rollout(s) and the AnalysisTemplates they use; other kinds are ignored")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--scenario", flags->scenario, "Scenario file (see below)")->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", flags->output, "Report format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->add_option("--svg", flags->svg, "Also write an SVG chart of the canary weight over time to FILE");
  cmd->add_option("--expect", flags->expect, "Exit 3 unless the simulation ends in this phase")
      ->check(CLI::IsMember({"Healthy", "Degraded", "Paused", "Progressing"}));
  cmd->add_option("--prometheus", flags->prometheus,
                  "Measure every prometheus metric on this Prometheus instead of the scenario's metrics");
  cmd->add_option("--start", flags->start,
                  "With --prometheus: the real time (RFC 3339) that virtual 0s stands for");
  cmd->add_flag("--initial", flags->initial,
                "Simulate a first deploy instead of an update from a stable revision");
  cmd->callback([flags, &exitCode] { exitCode = runSim(*flags); });
}

}  // namespace sluice::cli
