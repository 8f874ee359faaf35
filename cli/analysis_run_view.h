// What `kubectl sluice get analysisrun` shows: the run's phase, message and args, and every metric with
// every measurement it keeps. Pure: built from the AnalysisRun as the API serves it and a given `now`.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "cli/view_text.h"

namespace sluice::cli {

struct MeasurementView {
  std::string phase;
  Health health = Health::kProgressing;
  std::string value;
  std::string startedAt;   // RFC 3339, as stored
  std::string finishedAt;  // "" while in flight
  std::string message;
};

struct MetricView {
  std::string name;
  std::string phase;
  Health health = Health::kProgressing;
  std::string message;
  int successful = 0, failed = 0, inconclusive = 0, error = 0;  // measurements (shown apart here)
  std::vector<MeasurementView> measurements;                    // oldest first, as stored
};

struct AnalysisRunDetailView {
  std::string name;
  std::string ns;
  std::string phase;  // "Pending" before any status
  Health health = Health::kProgressing;
  std::string message;
  std::string rollout;              // the sluice.dev/rollout label; "" for a run a person created
  std::vector<std::string> args;    // "name=value"; a Secret's value is never shown, only where it is from
  std::string startedAt;            // RFC 3339; "" before the first measurement
  std::optional<Duration> age;      // since startedAt
  std::vector<MetricView> metrics;  // in spec order, then any result without a spec entry
};

AnalysisRunDetailView buildAnalysisRunView(const nlohmann::json& run, Time now);

// A header (Name, Namespace, Status, Message, Rollout, Args) and the tree run -> metric -> measurement.
std::string renderAnalysisRunView(const AnalysisRunDetailView& view, bool color);

}  // namespace sluice::cli
