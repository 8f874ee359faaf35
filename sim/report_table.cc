// The table report: fixed-width columns a person reads in a terminal.
#include <algorithm>
#include <array>

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

}  // namespace

std::string formatTable(const SimResult& result) {
  constexpr size_t kColumns = 8;
  using Line = std::array<std::string, kColumns>;
  std::vector<Line> lines;
  lines.push_back({"TIME", "STEP", "CANARY", "STABLE", "CANARY-RS", "STABLE-RS", "PHASE", "MESSAGE"});
  for (const auto& row : result.timeline) {
    std::string message = row.event;
    if (!row.message.empty()) message += (message.empty() ? "" : ": ") + row.message;
    lines.push_back({formatSimTime(row.t), formatStep(row.step, result.steps.size()),
                     std::to_string(row.canaryWeight) + "%", std::to_string(row.stableWeight) + "%",
                     replicas(row.canary), replicas(row.stable), row.phase, message});
  }
  std::array<size_t, kColumns> width{};
  for (const auto& line : lines) {
    for (size_t i = 0; i < kColumns; ++i) width[i] = std::max(width[i], line[i].size());
  }
  std::string out = "Rollout " + result.rolloutName + ": " + result.phase +
                    (result.aborted ? " (aborted)" : "") + " at " + formatSimTime(result.endedAt);
  if (!result.message.empty()) out += " - " + result.message;
  out += "\n";
  for (const auto& line : lines) {
    std::string text;
    for (size_t i = 0; i < kColumns; ++i) {
      text += line[i];
      if (i + 1 < kColumns) text += std::string(width[i] - line[i].size() + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }
  return out;
}

}  // namespace sluice::sim
