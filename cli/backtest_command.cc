// `sluice analysis backtest`: plays a template against a real Prometheus's history, a run starting at
// each point of a period, and reports how each would have ended and how often it would have failed.
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>
#include <memory>

#include "analysis/backtest.h"
#include "analysis/model_json.h"
#include "analysis/providers/prefetching_prometheus.h"
#include "analysis/providers/prometheus_api.h"
#include "analysis/providers/providers.h"
#include "base/source.h"
#include "cli/commands.h"

namespace sluice::cli {

namespace {

struct BacktestFlags {
  std::string file;
  std::string templateName;
  std::string prometheus;
  std::string from;
  std::string to;
  std::vector<std::string> args;
  std::string every = "10m";
  std::string maxRun = "24h";
  std::string output = "table";
};

constexpr const char* kBacktestFooter = R"(
A run of the template starts at --from, then every --every up to --to, and is played to its end
against the history: each measurement is the query Prometheus answers as of that measurement's time,
judged by the conditions and limits exactly as in a cluster. Runs with an open-ended metric (an
interval and no count) are terminated --max-run after their start.

Every prometheus metric is sent to --prometheus whatever its own address. The queries are batched:
for each metric, one instant query learns its result type, then range queries (at most 10,000 points
each) fetch the grid every run measures on (the gcd of --every, the intervals, the initial delays and
the 10 s retry after an Error); any other instant is an instant query.

The JSON output: {"runs": [{"start", "endedAt" (Unix seconds), "phase", "message"}],
"totals": {"Successful": n, "Failed": n, "Error": n, "Inconclusive": n}}.

Exit status: 0 the backtest ran (whatever the runs' phases), 1 Prometheus could not be queried
(unreachable, timed out, or refused a trivial query: checked once before any run), 2 invalid input
(unreadable or invalid template, unknown or missing --arg, bad times, more than 100000 runs).)";

// --arg k=v into a map; an error names the malformed one.
Result<std::map<std::string, std::string>> parseArgs(const std::vector<std::string>& args) {
  std::map<std::string, std::string> out;
  for (const auto& a : args) {
    const size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) return Error{"--arg \"" + a + "\": expected NAME=VALUE"};
    out[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return out;
}

// One instant query ("1", which any Prometheus answers) with the first prometheus metric's connection
// settings (address already replaced, headers, authentication, timeout): an error names the address and
// the cause (connection refused, timed out, an HTTP status). Fine when no metric is a prometheus one.
Status checkPrometheus(const analysis::AnalysisRunSpec& spec, Time at) {
  for (const auto& m : spec.metrics) {
    if (!m.provider.prometheus) continue;
    analysis::PrometheusApi api(*m.provider.prometheus);
    auto answer = api.query("1", at);
    if (!answer) return Error{answer.error()};
    return {};
  }
  return {};
}

int runBacktest(const BacktestFlags& flags) {
  auto fail = [](const std::string& message) {
    std::cerr << "sluice analysis backtest: " << message << "\n";
    return kExitInvalidInput;
  };
  auto docs = loadYamlFile(flags.file);
  if (!docs) return fail(docs.error());
  Diagnostics diags;
  std::vector<analysis::AnalysisTemplate> templates;
  for (const auto& doc : *docs) {
    if (!doc.json.is_object()) continue;
    const auto kind = doc.json.value("kind", nlohmann::json());
    if (kind != analysis::kAnalysisTemplateKind && kind != analysis::kClusterAnalysisTemplateKind) continue;
    if (auto t = analysis::parseAnalysisTemplate(doc.json, doc.source, diags))
      templates.push_back(std::move(*t));
  }
  std::cerr << diags.format();
  if (diags.hasErrors()) return kExitInvalidInput;
  if (templates.empty()) return fail(flags.file + ": no AnalysisTemplate or ClusterAnalysisTemplate in it");
  const std::string name = flags.templateName.empty() ? templates.front().metadata.name : flags.templateName;

  auto args = parseArgs(flags.args);
  if (!args) return fail(args.error());
  auto spec = analysis::backtestSpec(templates, name, *args);
  if (!spec) return fail(spec.error());
  for (auto& m : spec->metrics) {
    if (m.provider.prometheus) m.provider.prometheus->address = flags.prometheus;
  }

  analysis::BacktestOptions options;
  auto from = analysis::parseInstant(flags.from);
  if (!from) return fail("--from: " + from.error());
  auto to = analysis::parseInstant(flags.to);
  if (!to) return fail("--to: " + to.error());
  auto every = parseDuration(flags.every);
  if (!every) return fail("--every: " + every.error());
  auto maxRun = parseDuration(flags.maxRun);
  if (!maxRun) return fail("--max-run: " + maxRun.error());
  options.from = *from;
  options.to = *to;
  options.every = *every;
  options.maxRun = *maxRun;
  if (auto starts = analysis::backtestStarts(options); !starts) return fail(starts.error());

  // A Prometheus that cannot be reached would turn every run into an Error run: say so once and stop.
  if (Status reachable = checkPrometheus(*spec, options.from); !reachable) {
    std::cerr << "sluice analysis backtest: " << reachable.error() << "\n";
    return kExitFailure;
  }

  auto grid = analysis::measurementGrid(*spec, options.every);
  if (!grid) return fail(grid.error());
  auto length = analysis::plannedRunLength(*spec, options.maxRun);
  if (!length) return fail(length.error());
  std::unique_ptr<analysis::Provider> real = analysis::makeProvider();
  analysis::PrefetchingPrometheusProvider provider({options.from, options.to + *length, *grid}, *real);
  auto report = analysis::backtest(*spec, provider, options);
  if (!report) return fail(report.error());

  if (flags.output == "json") {
    std::cout << analysis::backtestToJson(*report).dump(2) << "\n";
  } else {
    std::cout << "Backtest of " << name << " against " << flags.prometheus << "\n"
              << analysis::formatBacktestTable(*report);
  }
  const auto& stats = provider.stats();
  std::cerr << "queries: " << stats.typeProbes << " type probes, " << stats.rangeQueries << " range queries ("
            << formatDuration(*grid) << " grid); measurements: " << stats.fromPrefetch << " from range data, "
            << stats.fromFallback << " by instant query\n";
  return kExitOk;
}

}  // namespace

void addBacktestCommand(CLI::App& analysisCommand, int& exitCode) {
  auto flags = std::make_shared<BacktestFlags>();
  auto* cmd = analysisCommand.add_subcommand(
      "backtest",
      "Play an analysis template against a real Prometheus's history: a run starting at each point from\n"
      "--from to --to, each run's outcome, and the totals per phase.\n"
      "  sluice analysis backtest error-rate.yaml --prometheus http://prometheus:9090 \\\n"
      "    --from 2026-10-01T00:00:00Z --to 2026-10-08T00:00:00Z --arg service=checkout --every 10m");
  cmd->footer(kBacktestFooter);
  cmd->add_option("template", flags->file, "File with the AnalysisTemplate (and any it nests)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--template", flags->templateName, "The template to play (default: the file's first)");
  cmd->add_option("--prometheus", flags->prometheus, "Prometheus address, for every prometheus metric")
      ->required();
  cmd->add_option("--from", flags->from, "First start: RFC 3339 or Unix seconds")->required();
  cmd->add_option("--to", flags->to, "Last start: RFC 3339 or Unix seconds")->required();
  cmd->add_option("--arg", flags->args, "A template argument, NAME=VALUE (repeatable)");
  cmd->add_option("--every", flags->every, "Between starts")->capture_default_str();
  cmd->add_option("--max-run", flags->maxRun, "Terminate a run still measuring this long after its start")
      ->capture_default_str();
  cmd->add_option("-o,--output", flags->output, "Report format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([flags, &exitCode] { exitCode = runBacktest(*flags); });
}

}  // namespace sluice::cli
