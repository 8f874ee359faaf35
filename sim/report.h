// Reports of a simulation: a table of events for a terminal, JSON for scripts and golden tests, and an
// SVG chart of the canary weight over virtual time for a browser.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sim/simulator.h"

namespace sluice::sim {

// "0s", "5m30s", "1h2m": virtual time since the start of the simulation.
std::string formatSimTime(Duration t);

// "2/6" (currentStepIndex / number of steps), or "-" when there is no step index.
std::string formatStep(const std::optional<int>& step, size_t stepCount);

// A header line naming the rollout and its outcome, then one line per timeline row with the columns
// TIME, STEP, CANARY, STABLE (weights in %), CANARY-RS, STABLE-RS (ready/desired), PHASE, MESSAGE; for a
// blue-green Rollout TIME, ACTIVE, PREVIEW (the pod-template hash each Service selects), ACTIVE-RS,
// PREVIEW-RS, PHASE, MESSAGE.
// Then, for each run simulated from its templates, its outcome and its measurements (TIME, METRIC,
// PHASE, VALUE, MESSAGE); consecutive measurements of a metric with the same phase, value and message
// share one line ("2m..9m x8").
std::string formatTable(const SimResult& result);

// The outcome in a few words, as the table and the SVG title give it: "Healthy at 12m", or for an aborted
// run the instant of the abort and when the world came to rest: "Degraded (aborted at 5m20s, at rest at
// 5m50s)".
std::string describeOutcome(const SimResult& result);

// {rollout, steps, trafficRouting, duration, result: {phase, aborted, endedAt, message}, timeline: [{t,
// step, canaryWeight, stableWeight, canaryReplicas, stableReplicas, phase, event, message}], analysisRuns:
// (for a blue-green Rollout, "strategy": "blueGreen" and timeline: [{t, active, preview, activeReplicas,
// previewReplicas, phase, event, message}], active and preview the pod-template hashes or null)
// [{name, templates, step, startedAt, endedAt, phase, message, scripted, measurements: [{metric, t, phase,
// value, message}]}], aborts}. Times are seconds of virtual time.
nlohmann::json toJson(const SimResult& result);

// A standalone SVG document: the canary weight as a step line over virtual time, step boundaries,
// pauses shaded, analysis runs as bars coloured by outcome with a tick per measurement coloured by its
// phase (its metric, value and message in a tooltip), aborts marked in red with their message.
std::string renderSvg(const SimResult& result);

}  // namespace sluice::sim
