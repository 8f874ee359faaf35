// What a reconcile tells its work queue, as STYLE.md classifies errors: done (wait for the next event),
// look again after a delay, or retry with per-key exponential backoff. Never a zero-delay loop.
#pragma once

#include <optional>
#include <string>

#include "base/clock.h"
#include "base/time.h"

namespace sluice::controller {

struct ReconcileOutcome {
  enum class Kind { Done, RequeueAfter, Retry };
  Kind kind = Kind::Done;
  Duration after{0};  // RequeueAfter: at least one second
  std::string error;  // Retry: why, for the log

  static ReconcileOutcome done() { return {}; }
  static ReconcileOutcome requeueAfter(Duration d) {
    return {Kind::RequeueAfter, std::max(d, Duration{1}), ""};
  }
  static ReconcileOutcome retry(std::string why) { return {Kind::Retry, Duration{0}, std::move(why)}; }
};

// The instant the engine decides at: the clock's wall time in whole seconds, as the API's timestamps.
inline Time decisionTime(const Clock& clock) {
  return std::chrono::time_point_cast<Duration>(clock.wallNow());
}

}  // namespace sluice::controller
