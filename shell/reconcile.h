// The shell around the engine's decisions, one for the simulator and the controller: read the Rollout,
// decide (engine::reconcileRollout), carry the actions out in order against a World, then write the
// status; repeat until a pass changes nothing. Time is passed in; the shell reads no clock.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/time.h"
#include "engine/canary.h"

namespace sluice::shell {

class RolloutDocument;
class World;

// Why a reconcile stopped short, classified for the caller's retry policy.
struct ReconcileError {
  enum class Kind {
    InvalidSpec,  // the stored Rollout does not parse, or its workloadRef names no usable workload:
                  // terminal until the object (or the workload) changes
    Observe,      // the world could not be read (a cache not synced): transient
    Action,       // a write failed: transient; no status was written for that pass
    StatusWrite,  // the status write failed (a conflict, the server away): transient
    NotSettled,   // passes kept changing things beyond the bound: an engine bug
  };
  Kind kind = Kind::Action;
  std::string message;
};

template <typename T>
using ShellResult = Expected<T, ReconcileError>;

struct PassOutcome {
  bool changed = false;                  // an action changed the world, or the status was written
  std::optional<Duration> requeueAfter;  // the engine's: look again after this long
};

// "create ReplicaSet", "terminate AnalysisRun", ...: what an action is, for error messages.
const char* actionName(const engine::Action& action);

// Called after each pass that got a decision, once its actions were carried out and its status written
// (the simulator records its timeline here).
using PassObserver = std::function<void(const engine::Decision& decision, Time now)>;

// One pass at `now`. The rule that keeps a crash or a failed write harmless: actions run in the order the
// engine gave; the first failure stops the pass and no status is written, so no step is ever recorded as
// done before what it depends on happened. The status is written only when it differs from the stored one.
ShellResult<PassOutcome> reconcileOnce(RolloutDocument& rollout, World& world, Time now,
                                       const PassObserver& observer = {});

// The most passes one instant may take: each pass completes at most one step, so a plan of n steps
// settles within a bound that grows with n.
int settleBound(const engine::Rollout& rollout);

struct Settled {
  std::optional<Duration> requeueAfter;  // of the last pass
  int passes = 0;
};

// Passes at `now` until one changes nothing.
ShellResult<Settled> settle(RolloutDocument& rollout, World& world, Time now,
                            const PassObserver& observer = {});

// Runs `pass` (a ShellResult<PassOutcome>()) until one changes nothing, at most `bound` times: past that
// the engine keeps changing its mind, a NotSettled error. Shared by the Rollout and the Experiment shells.
template <typename Pass>
ShellResult<Settled> settleWithin(int bound, Pass pass) {
  Settled settled;
  while (settled.passes < bound) {
    auto outcome = pass();
    if (!outcome) return std::move(outcome).error();
    ++settled.passes;
    settled.requeueAfter = outcome->requeueAfter;
    if (!outcome->changed) return settled;
  }
  return ReconcileError{ReconcileError::Kind::NotSettled,
                        std::to_string(bound) +
                            " reconciles in a row each changed something (an engine bug; please report it)"};
}

// Writes `status` through `write` (a Status(nlohmann::json)) unless `stored` (the object's status, or
// nullptr) holds it already; returns whether it wrote. A failed write is a StatusWrite error.
template <typename Json, typename Write>
ShellResult<bool> writeStatusIfChanged(const Json* stored, Json status, Write write) {
  if (stored && *stored == status) return false;
  if (Status s = write(std::move(status)); !s)
    return ReconcileError{ReconcileError::Kind::StatusWrite, "write status: " + s.error()};
  return true;
}

}  // namespace sluice::shell
