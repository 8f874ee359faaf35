// The backtest loop: one run driver per start, each played to completion on the history's clock.
#include "analysis/backtest.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <numeric>

#include "analysis/merge.h"
#include "analysis/run_driver.h"
#include "analysis/templating.h"
#include "base/input_limits.h"

namespace sluice::analysis {

Result<std::vector<Time>> backtestStarts(const BacktestOptions& options) {
  if (options.every.count() <= 0) return Error{"--every must be longer than 0s"};
  if (options.to < options.from) {
    return Error{"--to (" + formatRfc3339(options.to) + ") is before --from (" + formatRfc3339(options.from) +
                 ")"};
  }
  // Counted before anything is built: a period of years at a short --every would take gigabytes.
  const int64_t runs = (options.to - options.from) / options.every + 1;
  if (runs > limits::kMaxBacktestRuns) {
    return Error{"--from " + formatRfc3339(options.from) + " to --to " + formatRfc3339(options.to) +
                 " every " + formatDuration(options.every) + " is " + std::to_string(runs) +
                 " runs, more than the limit of " + std::to_string(limits::kMaxBacktestRuns) +
                 ": shorten the period or raise --every"};
  }
  std::vector<Time> starts;
  starts.reserve(static_cast<size_t>(runs));
  for (Time t = options.from; t <= options.to; t += options.every) starts.push_back(t);
  return starts;
}

Result<Duration> measurementGrid(const AnalysisRunSpec& spec, Duration every) {
  auto args = resolveArgs(spec.args, {});
  if (!args) return Error{args.error()};
  int64_t g = every.count();
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

Result<Duration> plannedRunLength(const AnalysisRunSpec& spec, Duration maxRun) {
  auto args = resolveArgs(spec.args, {});
  if (!args) return Error{args.error()};
  Duration longest{0};
  for (const auto& m : spec.metrics) {
    auto resolved = resolveMetric(m, *args);
    if (!resolved) return Error{resolved.error()};
    auto timing = metricTiming(*resolved);
    if (!timing) return Error{"metric \"" + m.name + "\": " + timing.error()};
    if (!timing->effectiveCount) return maxRun;
    const Duration length = timing->initialDelay.value_or(Duration{0}) +
                            (*timing->effectiveCount - 1) * timing->interval.value_or(Duration{0});
    longest = std::max(longest, length);
  }
  return std::min(longest, maxRun);
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

Result<Time> parseInstant(std::string_view text) {
  int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return timeFromUnix(seconds);
  auto t = parseRfc3339(text);
  if (!t) {
    return Error{"\"" + std::string(text) +
                 "\" is neither an RFC 3339 time (2026-01-01T00:00:00Z) nor Unix seconds (1767225600)"};
  }
  return *t;
}

Result<AnalysisRunSpec> backtestSpec(const std::vector<AnalysisTemplate>& templates, const std::string& name,
                                     const std::map<std::string, std::string>& args) {
  auto find = [&](const std::string& n, bool clusterScope) -> const AnalysisTemplate* {
    for (const auto& t : templates) {
      if (t.metadata.name == n && t.clusterScoped() == clusterScope) return &t;
    }
    return nullptr;
  };
  const AnalysisTemplate* chosen = find(name, false);
  if (!chosen) chosen = find(name, true);
  if (!chosen) return Error{"no AnalysisTemplate or ClusterAnalysisTemplate named \"" + name + "\""};
  engine::RolloutAnalysis analysis;
  analysis.templates.push_back(AnalysisTemplateRef{name, chosen->clusterScoped()});
  for (const auto& [argName, value] : args) {
    engine::AnalysisArg arg;
    arg.name = argName;
    arg.value = value;
    analysis.args.push_back(std::move(arg));
  }
  auto spec = mergeTemplates(analysis, find, ArgSources{});
  if (!spec) return Error{spec.error()};
  for (const auto& entry : args) {
    const std::string& argName = entry.first;
    const bool declared = std::any_of(spec->args.begin(), spec->args.end(),
                                      [&](const Argument& a) { return a.name == argName; });
    if (!declared) {
      std::string message = "--arg " + argName;
      message += ": the template declares no argument \"" + argName + "\"";
      return Error{std::move(message)};
    }
  }
  for (const auto& a : spec->args) {
    if (a.value) continue;
    if (a.secretKeyRef) {
      return Error{"argument \"" + a.name +
                   "\" comes from a Secret, which a backtest cannot read: give it with --arg " + a.name +
                   "=VALUE"};
    }
    return Error{"argument \"" + a.name + "\" has no value: give it with --arg " + a.name + "=VALUE"};
  }
  return spec;
}

namespace {

constexpr std::array<Phase, 4> kReportedPhases = {Phase::Successful, Phase::Failed, Phase::Error,
                                                  Phase::Inconclusive};

}  // namespace

nlohmann::json backtestToJson(const BacktestReport& report) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& r : report.runs) {
    runs.push_back({{"start", toUnix(r.start)},
                    {"endedAt", toUnix(r.endedAt)},
                    {"phase", phaseName(r.phase)},
                    {"message", r.message}});
  }
  nlohmann::json totals = nlohmann::json::object();
  for (Phase p : kReportedPhases) totals[phaseName(p)] = 0;
  for (const auto& [phase, n] : report.totals) totals[phaseName(phase)] = n;
  return {{"runs", std::move(runs)}, {"totals", std::move(totals)}};
}

std::string formatBacktestTable(const BacktestReport& report) {
  constexpr size_t kColumns = 5;
  std::vector<std::array<std::string, kColumns>> lines;
  lines.push_back({"START", "ENDED", "DURATION", "PHASE", "MESSAGE"});
  for (const auto& r : report.runs) {
    lines.push_back({formatRfc3339(r.start), formatRfc3339(r.endedAt), formatDuration(r.endedAt - r.start),
                     phaseName(r.phase), r.message});
  }
  std::array<size_t, kColumns> width{};
  for (const auto& line : lines) {
    for (size_t i = 0; i < kColumns; ++i) width[i] = std::max(width[i], line[i].size());
  }
  std::string out;
  for (const auto& line : lines) {
    std::string text;
    for (size_t i = 0; i < kColumns; ++i) {
      text += line[i];
      if (i + 1 < kColumns) text += std::string(width[i] - line[i].size() + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }
  const size_t total = report.runs.size();
  out += "\n" + std::to_string(total) + " runs:";
  for (Phase p : kReportedPhases) {
    const auto it = report.totals.find(p);
    const int n = it == report.totals.end() ? 0 : it->second;
    char share[32];
    std::snprintf(share, sizeof share, "%.1f%%", total ? 100.0 * n / static_cast<double>(total) : 0.0);
    out += std::string(" ") + phaseName(p) + " " + std::to_string(n) + " (" + share + ")";
  }
  return out + "\n";
}

}  // namespace sluice::analysis
