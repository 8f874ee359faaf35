// What a reconcile tells its work queue, as STYLE.md classifies errors: done (wait for the next event),
// look again after a delay, or retry with per-key exponential backoff. Never a zero-delay loop.
#pragma once

#include <functional>
#include <optional>
#include <string>

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

// The wall clock the reconcilers decide with (injected: tests and the simulator pass their own).
using WallClock = std::function<Time()>;

}  // namespace sluice::controller
