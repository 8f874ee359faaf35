// Backtest: what a template would have decided over a past period. A run of the template starts at
// each point of the period and is played to its end by the run driver against the metrics' history.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/model.h"
#include "analysis/provider.h"
#include "base/result.h"
#include "base/time.h"

namespace sluice::analysis {

struct BacktestOptions {
  Time from;                   // the first start
  Time to;                     // no start after this
  Duration every{600};         // between starts
  Duration maxRun{24 * 3600};  // a run still going this long after its start is terminated (open-ended
                               // metrics never end by themselves)
};

struct BacktestRun {
  Time start;
  Time endedAt;  // completedAt
  Phase phase = Phase::Unset;
  std::string message;
  bool terminated = false;  // reached maxRun and was terminated
};

struct BacktestReport {
  std::vector<BacktestRun> runs;  // one per start, in order
  std::map<Phase, int> totals;    // runs per final phase
};

// The starts: from, from + every, ... up to and including `to`. An error when every is not positive or
// to is before from.
Result<std::vector<Time>> backtestStarts(const BacktestOptions& options);

// The spacing of the instants a run of `spec` measures at when no measurement errors, from its start:
// the gcd of the metrics' intervals and initialDelays (and of `every`, so that all runs share one grid).
// The 10 s retry after an Error is left out on purpose: errors are rare in a history worth trusting, and
// a grid of 10 s would multiply the points fetched (six-fold for one-minute intervals); a retry off the
// grid is answered by an instant query. Metrics are read after templating with the spec's args. An error when
// a metric's timing does not parse or an arg is missing.
Result<Duration> measurementGrid(const AnalysisRunSpec& spec, Duration every);

// How long after its start a run of `spec` takes its last measurement when no measurement errors: the
// longest over the metrics of initialDelay + (count - 1) * interval; `maxRun` for an open-ended metric.
// Errors as measurementGrid.
Result<Duration> plannedRunLength(const AnalysisRunSpec& spec, Duration maxRun);

// Plays a run of `spec` from each start against `provider` (whose evaluation time is the measurement's
// time), in order, and reports each outcome and the totals. Blocks for the provider's calls. An error
// only for invalid options; a run that errors is a run in phase Error.
Result<BacktestReport> backtest(const AnalysisRunSpec& spec, Provider& provider,
                                const BacktestOptions& options);

// An instant as --from and --to take it: RFC 3339 ("2026-01-01T00:00:00Z") or Unix seconds
// ("1767225600"). An error quotes the text.
Result<Time> parseInstant(std::string_view text);

// The run spec a backtest of `name` plays: the template (found among `templates`, an AnalysisTemplate
// before a ClusterAnalysisTemplate of the same name, nested templates looked up there too) merged as a
// Rollout's analysis would be, with `args` (name -> value) overriding the defaults. Errors: no such
// template, an arg the templates do not declare, a required arg left without a value (naming it and
// --arg), a template that does not merge.
Result<AnalysisRunSpec> backtestSpec(const std::vector<AnalysisTemplate>& templates, const std::string& name,
                                     const std::map<std::string, std::string>& args);

// {runs: [{start, endedAt (Unix seconds), phase, message}], totals: {Successful: n, Failed: n, Error: n,
// Inconclusive: n}} with every phase in totals, zero or not.
nlohmann::json backtestToJson(const BacktestReport& report);

// A line per start (START, ENDED, DURATION, PHASE, MESSAGE; times RFC 3339), then the totals with their
// share of all runs.
std::string formatBacktestTable(const BacktestReport& report);

}  // namespace sluice::analysis
