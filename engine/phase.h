// The rollout's phase and message from spec and status, as Argo's CalculateRolloutPhase (first match
// wins; docs/design.md §A.8). Exposed for the CLI and tests; the canary state machine writes it.
#pragma once

#include <string>

#include "engine/rollout.h"

namespace sluice::engine {

struct Observed;

// The condition (and its reason, and the Warning event's) the controller writes when a reconcile could not
// read or set the Rollout's traffic router; the next pass the engine decides removes it, as InvalidSpec.
inline constexpr const char* kTrafficRoutingErrorCondition = "TrafficRoutingError";

struct PhaseAndMessage {
  std::string phase;
  std::string message;
};
PhaseAndMessage calculatePhase(const Rollout& rollout, const Observed& observed);
// The same from spec and status alone (the status already sums what was observed).
PhaseAndMessage calculatePhase(const RolloutSpec& spec, const RolloutStatus& status);

}  // namespace sluice::engine
