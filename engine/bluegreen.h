// The blue-green state machine, beside the canary one (canary.h) and with the same contract: a pure
// function from the Rollout, what was observed and `now` to a decision. The new revision runs beside the
// active one behind the preview Service (at previewReplicaCount pods, or full size); once it is available
// the pre-promotion analysis runs and, unless auto-promotion says otherwise, the Rollout pauses; promoted,
// it grows to full size and the active Service switches to it in one write; after the post-promotion
// analysis it is stable and the old revision goes after scaleDownDelaySeconds.
#pragma once

#include "engine/canary.h"

namespace sluice::engine {

// One reconcile of a Rollout with spec.strategy.blueGreen (see reconcileCanary for the contract).
Decision reconcileBlueGreen(const Rollout& rollout, const Observed& observed, Time now);

}  // namespace sluice::engine
