// The backtest loop: one run driver per start, each played to completion on the history's clock.
#include "analysis/backtest.h"

#include <numeric>

#include "analysis/run_driver.h"
#include "analysis/templating.h"

namespace sluice::analysis {

Result<std::vector<Time>> backtestStarts(const BacktestOptions& options) {
  if (options.every.count() <= 0) return Error{"--every must be longer than 0s"};
  if (options.to < options.from) {
    return Error{"--to (" + formatRfc3339(options.to) + ") is before --from (" + formatRfc3339(options.from) +
                 ")"};
  }
  std::vector<Time> starts;
  for (Time t = options.from; t <= options.to; t += options.every) starts.push_back(t);
  return starts;
}

Result<Duration> measurementGrid(const AnalysisRunSpec& spec, Duration every) {
  auto args = resolveArgs(spec.args, {});
  if (!args) return Error{args.error()};
  int64_t g = std::gcd(every.count(), kErrorRetryInterval.count());
  for (const auto& m : spec.metrics) {
    auto resolved = resolveMetric(m, *args);
    if (!resolved) return Error{resolved.error()};
    auto timing = metricTiming(*resolved);
    if (!timing) return Error{"metric \"" + m.name + "\": " + timing.error()};
    if (timing->interval) g = std::gcd(g, timing->interval->count());
    if (timing->initialDelay) g = std::gcd(g, timing->initialDelay->count());
  }
  return Duration{std::max<int64_t>(g, 1)};
}

Result<BacktestReport> backtest(const AnalysisRunSpec& spec, Provider& provider,
                                const BacktestOptions& options) {
  auto starts = backtestStarts(options);
  if (!starts) return Error{starts.error()};
  BacktestReport report;
  report.runs.reserve(starts->size());
  // Every run has the same conditions: compile them once for the whole backtest.
  auto conditions = std::make_shared<RunConditions>();
  for (const Time start : *starts) {
    RunDriver driver(spec, provider, {}, conditions);
    const Time deadline = start + options.maxRun;
    BacktestRun run{start, start, Phase::Unset, "", false};
    Time t = start;
    while (true) {
      const std::optional<Time> next = driver.advance(t);
      if (!next) break;
      if (*next > deadline) {
        // Open-ended: stop it where a person would have, and say so.
        driver.terminate();
        driver.advance(std::max(t, deadline));
        run.terminated = true;
        break;
      }
      t = *next;
    }
    const AnalysisRunStatus& s = driver.status();
    run.phase = s.phase;
    run.message = s.message;
    run.endedAt = s.completedAt.value_or(t);
    if (run.terminated)
      run.message = "still measuring " + formatDuration(options.maxRun) + " after its start: terminated";
    ++report.totals[run.phase];
    report.runs.push_back(std::move(run));
  }
  return report;
}

}  // namespace sluice::analysis
