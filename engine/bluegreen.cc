// The blue-green state machine (see bluegreen.h): one reconcile pass as small steps over a `BlueGreenPass`,
// on the pieces it shares with the canary (rollout_pass.h). The Services follow Argo Rollouts' rule: a
// selector moves only to a ReplicaSet that has all its pods available, and each move is one write.
#include "engine/bluegreen.h"

#include <algorithm>

#include "engine/rollout_pass.h"

namespace sluice::engine {
namespace {

using namespace detail;

struct BlueGreenPass : PassBase {
  const BlueGreenStrategy& bg;
  std::string activeSelected;   // the hash the active Service selects, as observed
  std::string previewSelected;  // the hash the preview Service selects, as observed
  std::string activeWanted;     // ... and as this pass leaves it
  bool preDone = false;         // the pre-promotion analysis passed (or there is none)
  bool postDone = false;        // the post-promotion analysis passed (or there is none)
  bool analysisRunning = false;

  BlueGreenPass(const Rollout& r, const Observed& o, Time t) : PassBase(r, o, t), bg(*r.spec.blueGreen) {}

  // The new ReplicaSet's size before promotion: previewReplicaCount, at most the full size.
  int previewTarget() const {
    return std::min(bg.previewReplicaCount.value_or(spec.replicas), spec.replicas);
  }
  bool switched() const { return activeSelected == newHash; }
  // Whether the new ReplicaSet has its pre-promotion pods, all of them available (Argo's ReadyForPause).
  bool previewReady() const {
    return newRS && !createdNewRS && newRS->specReplicas >= previewTarget() &&
           newAvailable() >= previewTarget();
  }
  bool saturated(const std::optional<ReplicaSetView>& rs) const {
    return rs && rs->specReplicas == spec.replicas && rs->availableReplicas >= spec.replicas;
  }
  const ReplicaSetView* byHash(const std::string& hash) const {
    for (const auto& rs : observed.replicaSets) {
      if (rs.podTemplateHash == hash) return &rs;
    }
    return nullptr;
  }
  // The pause before the switch is over, or the person skipped everything (promote --full).
  bool mayGrow() const {
    return status.promoteFull || (status.blueGreen.scaleUpPreviewCheckPoint && preDone) || switched();
  }
};

// ---- revisions, retry, promote --full (§2.3, §2.5) ------------------------------------------------

void resetUpdate(BlueGreenPass& p) {
  RolloutStatus& s = p.status;
  p.clearPauses();
  s.promoteFull = false;
  s.blueGreen.scaleUpPreviewCheckPoint = false;
  s.blueGreen.prePromotionAnalysisRunStatus.reset();
  s.blueGreen.postPromotionAnalysisRunStatus.reset();
}

// A new pod template restarts the update; going back to the stable template (or the first deploy) needs
// no promotion: the active Service already selects it, or selects it as soon as it is full.
void syncRevision(BlueGreenPass& p) {
  RolloutStatus& s = p.status;
  s.currentStepHash.clear();
  s.currentStepIndex.reset();
  if (s.stableRS.empty()) {  // initial deploy: the first ReplicaSet is stable at once, or the one adopted
    s.stableRS = initialStable(p, p.bg.activeService);
    if (s.stableRS == p.newHash) {
      s.currentPodHash = p.newHash;
      return;
    }
  }
  if (s.currentPodHash == p.newHash) return;
  resetUpdate(p);
  s.abort = false;
  s.abortedAt.reset();
  s.currentPodHash = p.newHash;
  s.restartedAt = p.spec.restartAt;
  for (const auto& run : p.observed.analysisRuns) {
    if (run.terminated) continue;
    p.actions.push_back(TerminateAnalysisRun{run.name});
    p.terminated.insert(run.name);
  }
  p.event("Normal", "RolloutUpdated", "Rollout updated to revision " + std::to_string(p.newRevision));
}

// retry: abort went back to false after an abort; the update starts again with new analysis runs.
void syncRetry(BlueGreenPass& p) {
  RolloutStatus& s = p.status;
  if (s.abort || !s.abortedAt) return;
  s.abortedAt.reset();
  if (p.promoted()) return;
  p.retried = true;
  resetUpdate(p);
}

// promote --full: no pause, no analysis; the switch follows once the new ReplicaSet is full.
void syncPromoteFull(BlueGreenPass& p) {
  RolloutStatus& s = p.status;
  if (!s.promoteFull) return;
  if (p.promoted()) {
    s.promoteFull = false;
    return;
  }
  p.clearPauses();
  s.abort = false;
  s.abortedAt.reset();
}

// ---- analysis --------------------------------------------------------------------------------------

// One of the two promotion analyses while the update is in flight: created once `wanted`, its phase
// recorded in `recorded`; a failure aborts, Inconclusive pauses until a person promotes. Sets `done` once it
// passed (or when there is none). Returns the run in use, if any.
std::optional<std::string> reconcilePromotionAnalysis(BlueGreenPass& p, AnalysisRunType type,
                                                      const std::optional<RolloutAnalysis>& analysis,
                                                      std::optional<AnalysisRunStatusRef>& recorded,
                                                      bool inFlight, bool wanted, bool& done) {
  const bool passed = recorded && recorded->status == analysis::phaseName(analysis::Phase::Successful);
  done = !analysis || passed;
  if (!analysis || !inFlight) return std::nullopt;
  const AnalysisRunView* run = liveRun(p, type, std::nullopt);
  if (!run) {
    if (passed || !wanted) return std::nullopt;
    recorded = createRun(p, type, std::nullopt, *analysis);
    p.analysisRunning = true;
    return recorded->name;
  }
  const char* kind = type == AnalysisRunType::PrePromotion ? "PrePromotion" : "PostPromotion";
  if (run->phase == analysis::Phase::Successful ||
      (run->phase == analysis::Phase::Inconclusive && resumedAfterInconclusive(p, recorded, *run))) {
    done = true;
  } else if (isFailure(run->phase)) {
    abortWith(p, failureWhy(kind, *run));
  } else if (run->phase == analysis::Phase::Inconclusive) {
    p.addPause(kPauseReasonInconclusiveAnalysis);
  } else {
    p.analysisRunning = true;
  }
  recorded = statusOfRun(*run);
  return run->name;
}

// Pre-promotion: from the moment the preview pods are available until the switch. Post-promotion: once
// the active Service selects the new pods, until the new ReplicaSet is stable. promote --full skips both.
void reconcileAnalysis(BlueGreenPass& p) {
  RolloutStatus& s = p.status;
  const bool inFlight = !s.abort && !p.promoted() && !s.promoteFull;
  std::set<std::string> keep;
  if (auto name = reconcilePromotionAnalysis(p, AnalysisRunType::PrePromotion, p.bg.prePromotionAnalysis,
                                             s.blueGreen.prePromotionAnalysisRunStatus, inFlight,
                                             !p.switched() && p.previewReady(), p.preDone)) {
    keep.insert(*name);
  }
  if (auto name = reconcilePromotionAnalysis(p, AnalysisRunType::PostPromotion, p.bg.postPromotionAnalysis,
                                             s.blueGreen.postPromotionAnalysisRunStatus, inFlight,
                                             p.switched() && p.saturated(p.newRS), p.postDone)) {
    keep.insert(*name);
  }
  if (s.abort) keep.clear();
  for (const auto& run : p.observed.analysisRuns) {
    if (run.terminated || p.terminated.count(run.name) || keep.count(run.name)) continue;
    p.actions.push_back(TerminateAnalysisRun{run.name});
    p.terminated.insert(run.name);
  }
  limitRunHistory(p, keep);
}

// ---- progress deadline (§2.6) ----------------------------------------------------------------------

bool completed(const BlueGreenPass& p) { return p.promoted() && p.saturated(p.newRS); }

bool deadlineCounts(const BlueGreenPass& p) {
  const bool oldDeadline = std::any_of(p.oldRSs.begin(), p.oldRSs.end(), [](const ReplicaSetView& rs) {
    return rs.scaleDownDeadline.has_value();
  });
  return !p.spec.paused && p.status.pauseConditions.empty() && !p.status.abort && !p.analysisRunning &&
         !oldDeadline && !completed(p);
}

// ---- abort, pause, promotion -----------------------------------------------------------------------

// abort (§2.5): the active Service goes back to the stable ReplicaSet (in reconcileServices); the new one
// goes down after abortScaleDownDelaySeconds. An abort with nothing in flight is dropped.
void syncAbort(BlueGreenPass& p) {
  RolloutStatus& s = p.status;
  if (!s.abort) return;
  if (p.promoted()) {
    s.abort = false;
    s.abortedAt.reset();
    return;
  }
  p.clearPauses();
  s.promoteFull = false;
  s.blueGreen.scaleUpPreviewCheckPoint = false;
  if (s.abortedAt) return;
  s.abortedAt = p.now;
  std::string message = "Rollout aborted update to revision " + std::to_string(p.newRevision);
  if (!p.abortWhy.empty()) message += ": " + p.abortWhy;
  p.event("Warning", "RolloutAborted", message);
}

// The BlueGreenPause before the switch, once the preview pods are available: without auto-promotion until
// a person promotes, with autoPromotionSeconds for that long. Its end is recorded as
// scaleUpPreviewCheckPoint, which lets the new ReplicaSet grow to full size.
void reconcilePause(BlueGreenPass& p) {
  RolloutStatus& s = p.status;
  if (s.abort || p.spec.paused || p.promoted() || s.promoteFull || p.switched() || !p.previewReady() ||
      s.blueGreen.scaleUpPreviewCheckPoint)
    return;
  bool over = !p.bg.pausesBeforeSwitch();
  if (!over) {
    const PauseCondition* pause = nullptr;
    for (const auto& c : s.pauseConditions) {
      if (c.reason == kPauseReasonBlueGreenPause) pause = &c;
    }
    if (pause) {
      if (p.bg.autoPromotionEnabled) {
        const Time ends = pause->startTime + Duration{p.bg.autoPromotionSeconds};
        if (p.now >= ends) {
          p.removePause(kPauseReasonBlueGreenPause);
          over = true;
        } else {
          p.requeueIn(ends - p.now);
        }
      }
    } else if (p.rollout.status.controllerPause &&
               !p.rollout.status.pausedFor(kPauseReasonInconclusiveAnalysis)) {
      over = true;  // a person removed the pause: promote
    } else {
      p.addPause(kPauseReasonBlueGreenPause);
    }
  }
  if (over) s.blueGreen.scaleUpPreviewCheckPoint = true;
}

// Blue-green promotes once the active Service selects the new pods and the post-promotion analysis
// passed (§2.8): the new ReplicaSet is stable, the old one waits out scaleDownDelaySeconds.
void promoteIfReady(BlueGreenPass& p) {
  RolloutStatus& s = p.status;
  if (s.abort || p.promoted() || !p.switched() || !p.saturated(p.newRS)) return;
  if (!p.postDone && !s.promoteFull) return;
  const std::string reason = s.promoteFull ? "Full promotion requested" : "Completed blue-green update";
  if (p.stableRS) p.previousStable = p.stableRS->name;
  s.stableRS = p.newHash;
  s.promoteFull = false;
  s.blueGreen.scaleUpPreviewCheckPoint = false;
  p.clearPauses();
  p.event("Normal", "RolloutCompleted",
          "Rollout completed update to revision " + std::to_string(p.newRevision) + " (" + p.newHash +
              "): " + reason);
  classifyReplicaSets(p);
}

// ---- scaling ---------------------------------------------------------------------------------------

// The new ReplicaSet: previewReplicaCount until promoted, then full; held under spec.paused; after an
// abort, down once abortScaleDownDelaySeconds have passed. The stable one stays full throughout.
void scaleReplicaSets(BlueGreenPass& p) {
  if (p.stableRS && !p.promoted() && p.stableRS->specReplicas != p.spec.replicas)
    scaleTo(p, *p.stableRS, p.spec.replicas);
  if (!p.newRS) {
    const bool halted = p.spec.paused && !p.promoted();
    createNewReplicaSet(p, halted ? 0 : p.promoted() || p.mayGrow() ? p.spec.replicas : p.previewTarget());
    return;
  }
  const ReplicaSetView& rs = *p.newRS;
  if (p.status.abort) {
    std::optional<Time> deadline;
    const int replicas = abortedScaleDown(p, rs, p.bg.abortScaleDownDelay(), deadline);
    scaleTo(p, rs, replicas, deadline);
    return;
  }
  if (p.spec.paused && !p.promoted()) return;
  scaleTo(p, rs, p.promoted() || p.mayGrow() ? p.spec.replicas : p.previewTarget());
}

// Old ReplicaSets: the one that just stopped being stable waits out scaleDownDelaySeconds (the active
// Service has just left it, and clients may still hold connections), at most scaleDownDelayRevisionLimit
// of them wait at once (the newest), anything else goes at once. A ReplicaSet a Service still selects
// stays.
void scaleDownOldReplicaSets(BlueGreenPass& p) {
  const int delay = p.bg.scaleDownDelay();
  std::vector<std::pair<const ReplicaSetView*, Time>> waiting;
  for (const auto& rs : p.oldRSs) {
    if (rs.podTemplateHash == p.activeWanted) continue;
    if (rs.specReplicas == 0 && !rs.scaleDownDeadline) continue;
    if (rs.scaleDownDeadline) {
      if (p.now >= *rs.scaleDownDeadline) {
        scaleTo(p, rs, 0);
      } else {
        waiting.emplace_back(&rs, *rs.scaleDownDeadline);
      }
    } else if (rs.name == p.previousStable && delay > 0) {
      waiting.emplace_back(&rs, p.now + Duration{delay});
    } else {
      scaleTo(p, rs, 0);
    }
  }
  waitOutScaleDownDelays(p, std::move(waiting), p.bg.scaleDownDelayRevisionLimit);
}

// ---- Services --------------------------------------------------------------------------------------

void point(BlueGreenPass& p, const std::string& service, const std::string& from, const std::string& to) {
  if (service.empty() || to.empty() || from == to) return;
  p.actions.push_back(serviceSelector(p, service, to));
  p.event("Normal", "SwitchService",
          "Switched selector for service " + service + " from '" + from + "' to '" + to + "'");
}

// The active Service: to the new pods once they are all available and promoted (the pause over and the
// pre-promotion analysis passed, or promote --full); back to the stable ones on abort; otherwise on the
// stable pods, once they are all available. The preview Service: to the new pods once their preview
// count is available.
void reconcileServices(BlueGreenPass& p) {
  RolloutStatus& s = p.status;
  std::string active = p.activeSelected;
  const std::optional<ReplicaSetView> stable =
      p.promoted() ? p.newRS : (p.stableRS ? p.stableRS : std::optional<ReplicaSetView>());
  if (s.abort) {
    if (stable) active = s.stableRS;
  } else if (!p.promoted() && !p.spec.paused && p.saturated(p.newRS) && p.mayGrow()) {
    active = p.newHash;
  } else if (active != p.newHash && p.saturated(stable)) {
    active = s.stableRS;
  }
  point(p, p.bg.activeService, p.activeSelected, active);
  p.activeWanted = active;
  std::string preview = p.previewSelected;
  if (p.previewReady() || (p.promoted() && p.saturated(p.newRS))) preview = p.newHash;
  point(p, p.bg.previewService, p.previewSelected, preview);
  s.blueGreen.activeSelector = p.bg.activeService.empty() ? "" : active;
  s.blueGreen.previewSelector = p.bg.previewService.empty() ? "" : preview;
}

// ---- status ----------------------------------------------------------------------------------------

void syncStatus(BlueGreenPass& p) {
  // Available: the ReplicaSet behind the active Service has all its pods available.
  syncStatus(p, {[&] { return completed(p); },
                 [&] {
                   const ReplicaSetView* active = p.byHash(p.activeWanted);
                   return active && active->availableReplicas >= p.spec.replicas;
                 },
                 [&] { return deadlineCounts(p); }});
}

}  // namespace

Decision reconcileBlueGreen(const Rollout& rollout, const Observed& observed, Time now) {
  BlueGreenPass p(rollout, observed, now);
  p.newHash = podTemplateHash(rollout.spec.podTemplate, rollout.status.collisionCount);
  avoidForeignName(p);
  if (adoptReplicaSets(p)) return {std::move(p.status), std::move(p.actions), p.requeue};
  p.newRevision = nextRevision(p);
  p.activeSelected = selectedBy(p, p.bg.activeService);
  p.previewSelected = selectedBy(p, p.bg.previewService);

  syncRevision(p);
  syncRetry(p);
  syncPromoteFull(p);
  classifyReplicaSets(p);
  syncNewReplicaSet(p);
  sumReplicaCounts(p);
  reconcileRestart(p, p.bg.restartMaxUnavailable(p.spec.replicas));
  reconcileAnalysis(p);
  checkProgressDeadline(p, deadlineCounts(p));
  syncAbort(p);
  reconcilePause(p);
  promoteIfReady(p);
  scaleReplicaSets(p);
  reconcileServices(p);
  scaleDownOldReplicaSets(p);
  syncPodMetadata(p);
  cleanUpHistory(p);
  syncStatus(p);
  reconcileWorkload(p);
  return {std::move(p.status), std::move(p.actions), p.requeue};
}

std::optional<std::string> missingService(const Rollout& rollout, const Observed& observed) {
  if (observed.missingServices.empty()) return std::nullopt;
  const RolloutSpec& spec = rollout.spec;
  std::vector<std::pair<const char*, const std::string*>> named =
      spec.blueGreen
          ? std::vector<std::pair<const char*, const std::string*>>{{"spec.strategy.blueGreen.activeService",
                                                                     &spec.blueGreen->activeService},
                                                                    {"spec.strategy.blueGreen.previewService",
                                                                     &spec.blueGreen->previewService}}
          : std::vector<std::pair<const char*, const std::string*>>{
                {"spec.strategy.canary.canaryService", &spec.canary.canaryService},
                {"spec.strategy.canary.stableService", &spec.canary.stableService}};
  if (spec.canary.pingPong && !spec.blueGreen) {
    named.insert(named.end(),
                 {{"spec.strategy.canary.pingPong.pingService", &spec.canary.pingPong->pingService},
                  {"spec.strategy.canary.pingPong.pongService", &spec.canary.pingPong->pongService}});
  }
  for (const auto& [path, service] : named) {
    if (!service->empty() && observed.missingServices.contains(*service)) {
      return std::string(path) + ": Service \"" + *service + "\" not found in namespace \"" +
             rollout.metadata.ns + "\"";
    }
  }
  return std::nullopt;
}

Decision reconcileRollout(const Rollout& rollout, const Observed& observed, Time now) {
  return rollout.spec.isBlueGreen() ? reconcileBlueGreen(rollout, observed, now)
                                    : reconcileCanary(rollout, observed, now);
}

}  // namespace sluice::engine
