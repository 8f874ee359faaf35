// The table report: fixed-width columns a person reads in a terminal.
#include <algorithm>
#include <array>
#include <map>
#include <vector>

#include "sim/report.h"

namespace sluice::sim {

std::string formatSimTime(Duration t) { return formatDuration(t); }

std::string formatStep(const std::optional<int>& step, size_t stepCount) {
  if (!step) return "-";
  return std::to_string(*step) + "/" + std::to_string(stepCount);
}

namespace {

std::string replicas(const ReplicaCount& c) {
  return std::to_string(c.ready) + "/" + std::to_string(c.desired);
}

// Lines of fixed-width columns, trailing blanks trimmed, each prefixed with `indent`.
template <size_t N>
std::string columns(const std::vector<std::array<std::string, N>>& lines, const std::string& indent) {
  std::array<size_t, N> width{};
  for (const auto& line : lines) {
    for (size_t i = 0; i < N; ++i) width[i] = std::max(width[i], line[i].size());
  }
  std::string out;
  for (const auto& line : lines) {
    std::string text = indent;
    for (size_t i = 0; i < N; ++i) {
      text += line[i];
      if (i + 1 < N) text += std::string(width[i] - line[i].size() + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }
  return out;
}

// A real run: its outcome, then its measurements, repeats of the same reading folded into one line.
std::string runSection(const AnalysisRunRecord& run) {
  std::string names;
  for (const auto& t : run.templates) names += (names.empty() ? "" : ",") + t;
  std::string out = "\nAnalysisRun " + run.name + " (" + names + ", " +
                    (run.step                                            ? "step " + std::to_string(*run.step)
                     : run.type == engine::AnalysisRunType::PrePromotion ? std::string("pre-promotion")
                     : run.type == engine::AnalysisRunType::PostPromotion ? std::string("post-promotion")
                                                                          : std::string("background")) +
                    ", started " + formatSimTime(run.startedAt) + "): " + run.phase;
  if (run.endedAt) out += " at " + formatSimTime(*run.endedAt);
  if (!run.message.empty()) out += " - " + run.message;
  out += "\n";
  if (run.measurements.empty()) return out;
  constexpr size_t kColumns = 5;
  std::vector<std::array<std::string, kColumns>> lines;
  lines.push_back({"TIME", "METRIC", "PHASE", "VALUE", "MESSAGE"});
  // Each metric's latest line stays open while its readings repeat; lines keep the order they began in.
  struct Group {
    const MeasurementRecord* first;
    Duration last;
    int count;
  };
  std::vector<Group> groups;
  std::map<std::string, size_t> open;
  for (const auto& m : run.measurements) {
    auto it = open.find(m.metric);
    if (it != open.end()) {
      Group& g = groups[it->second];
      if (g.first->phase == m.phase && g.first->value == m.value && g.first->message == m.message) {
        g.last = m.t;
        ++g.count;
        continue;
      }
    }
    open[m.metric] = groups.size();
    groups.push_back(Group{&m, m.t, 1});
  }
  for (const auto& g : groups) {
    std::string when = formatSimTime(g.first->t);
    if (g.count > 1) when += ".." + formatSimTime(g.last) + " x" + std::to_string(g.count);
    lines.push_back({when, g.first->metric, g.first->phase, g.first->value, g.first->message});
  }
  return out + columns(lines, "  ");
}

std::string rowMessage(const TimelineRow& row) {
  std::string message = row.event;
  if (!row.message.empty()) message += (message.empty() ? "" : ": ") + row.message;
  return message;
}

// The timeline of a blue-green Rollout: which revision each Service selects, and its pods.
std::string blueGreenTimeline(const SimResult& result) {
  constexpr size_t kColumns = 7;
  std::vector<std::array<std::string, kColumns>> lines;
  lines.push_back({"TIME", "ACTIVE", "PREVIEW", "ACTIVE-RS", "PREVIEW-RS", "PHASE", "MESSAGE"});
  const auto hash = [](const std::optional<std::string>& h) { return h ? *h : std::string("-"); };
  for (const auto& row : result.timeline) {
    lines.push_back({formatSimTime(row.t), hash(row.active), hash(row.preview),
                     row.active ? replicas(row.activeReplicas) : "-",
                     row.preview ? replicas(row.previewReplicas) : "-", row.phase, rowMessage(row)});
  }
  return columns(lines, "");
}

std::string canaryTimeline(const SimResult& result) {
  constexpr size_t kColumns = 8;
  std::vector<std::array<std::string, kColumns>> lines;
  lines.push_back({"TIME", "STEP", "CANARY", "STABLE", "CANARY-RS", "STABLE-RS", "PHASE", "MESSAGE"});
  for (const auto& row : result.timeline) {
    lines.push_back({formatSimTime(row.t), formatStep(row.step, result.steps.size()),
                     std::to_string(row.canaryWeight) + "%", std::to_string(row.stableWeight) + "%",
                     replicas(row.canary), replicas(row.stable), row.phase, rowMessage(row)});
  }
  return columns(lines, "");
}

}  // namespace

std::string describeOutcome(const SimResult& result) {
  if (!result.aborted || result.aborts.empty()) return result.phase + " at " + formatSimTime(result.endedAt);
  const Duration abortedAt = result.aborts.back().t;
  if (abortedAt == result.endedAt) return result.phase + " (aborted at " + formatSimTime(abortedAt) + ")";
  return result.phase + " (aborted at " + formatSimTime(abortedAt) + ", at rest at " +
         formatSimTime(result.endedAt) + ")";
}

std::string formatTable(const SimResult& result) {
  std::string out = "Rollout " + result.rolloutName + ": " + describeOutcome(result);
  if (!result.message.empty()) out += " - " + result.message;
  out += "\n";
  out += result.blueGreen ? blueGreenTimeline(result) : canaryTimeline(result);
  for (const auto& run : result.analysisRuns) {
    if (!run.scripted) out += runSection(run);
  }
  return out;
}

}  // namespace sluice::sim
