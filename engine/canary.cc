// The canary state machine (see canary.h): one reconcile pass, in Argo Rollouts' order (reference §2.1),
// as small steps over one `Pass` that holds what is known and what was decided so far.
#include "engine/canary.h"

#include <algorithm>
#include <limits>
#include <set>

#include "engine/replica_math.h"
#include "engine/rollout_pass.h"

namespace sluice::engine {
namespace {

using namespace detail;

// The canary's pass: the shared state plus the step plan.
struct Pass : PassBase {
  std::string newStepsHash;
  int stepCount = 0;
  bool stepAnalysisDone = false;
  bool stepExperimentDone = false;

  using PassBase::PassBase;

  bool trafficRouted() const { return spec.canary.trafficRouting.has_value(); }
  int maxWeight() const { return trafficRouted() ? spec.canary.trafficRouting->maxWeight() : 100; }
  int index() const { return status.currentStepIndex.value_or(0); }
  bool stepsDone() const { return index() >= stepCount; }
  const CanaryStep* currentStep() const { return stepsDone() ? nullptr : &spec.canary.steps[index()]; }
  std::optional<int> indexAt(int i) const { return stepCount == 0 ? std::nullopt : std::optional<int>(i); }
  bool hasManagedRoutes() const {
    return trafficRouted() && !spec.canary.trafficRouting->managedRoutes.empty();
  }
};

// ---- small pure pieces ----------------------------------------------------------------------------

template <typename T>
const T* stepAs(const CanaryStep* step) {
  return step ? std::get_if<T>(&step->action) : nullptr;
}

int maxSurgeOf(const RolloutSpec& spec) { return spec.canary.maxSurge.resolve(spec.replicas, true); }

int maxUnavailableOf(const RolloutSpec& spec) {
  const int unavailable = spec.canary.maxUnavailable.resolve(spec.replicas, false);
  return (unavailable == 0 && maxSurgeOf(spec) == 0) ? 1 : unavailable;
}

// ---- the weights and sizes the current step asks for ---------------------------------------------

// The canary's share of traffic the steps ask for now: the latest setWeight at or before the current
// step, the maximum once the steps are done or on promote --full, 0 when aborted.
int desiredCanaryWeight(const Pass& p) {
  if (p.status.abort) return 0;
  if (p.promoted() || p.status.promoteFull || p.stepsDone()) return p.maxWeight();
  for (int i = p.index(); i >= 0; --i) {
    if (const auto* w = stepAction<SetWeightStep>(p.spec.canary.steps[i])) return w->weight;
  }
  return 0;
}

// The setCanaryScale in force: the latest one at or before the current step, unless it matches the
// traffic weight again. Only while steps are running.
std::optional<SetCanaryScaleStep> canaryScaleInForce(const Pass& p) {
  if (p.status.promoteFull || p.stepsDone()) return std::nullopt;
  for (int i = p.index(); i >= 0; --i) {
    if (const auto* s = stepAction<SetCanaryScaleStep>(p.spec.canary.steps[i])) {
      if (s->matchTrafficWeight) return std::nullopt;
      return *s;
    }
  }
  return std::nullopt;
}

// Canary and stable sizes with traffic routing (§2.7): stable stays full, the canary follows the weight.
CanaryStableCounts trafficRoutedCounts(const Pass& p) {
  const int replicas = p.spec.replicas;
  int canary = 0;
  if (p.promoted() || p.status.promoteFull || p.stepsDone()) {
    canary = replicas;
  } else if (auto scale = canaryScaleInForce(p)) {
    canary = scale->replicas ? *scale->replicas
                             : canaryReplicasForWeight(replicas, scale->weight.value_or(0), 100);
  } else {
    canary = canaryReplicasForWeight(replicas, desiredCanaryWeight(p), p.maxWeight());
  }
  if (p.spec.canary.minPodsPerReplicaSet && canary > 0) {
    canary = std::max(canary, std::min(*p.spec.canary.minPodsPerReplicaSet, replicas));
  }
  int stable = replicas;
  if (p.spec.canary.dynamicStableScale) {
    const int inForce = p.status.canary.weights ? p.status.canary.weights->canary.weight : 0;
    const int maxW = p.maxWeight();
    stable = std::max(canaryReplicasForWeight(replicas, maxW - desiredCanaryWeight(p), maxW),
                      canaryReplicasForWeight(replicas, maxW - inForce, maxW));
  }
  return {canary, stable};
}

// Whether enough of the canary's `desired` pods are available: all of them, or replicaProgressThreshold.
bool canaryProgressed(const Pass& p, int desired) {
  return p.spec.canary.progressMet(p.newAvailable(), desired);
}

// Whether canary and stable are at the sizes the current step asks for (setWeight / setCanaryScale done).
bool replicasAtDesired(const Pass& p) {
  const int canarySpec = p.newRS ? p.newRS->specReplicas : 0;
  const int stableSpec = p.stableRS ? p.stableRS->specReplicas : 0;
  const int stablePods = p.stableRS ? p.stableRS->replicas : 0;
  if (p.trafficRouted()) {
    const CanaryStableCounts want = trafficRoutedCounts(p);
    const bool stableOk = p.spec.canary.dynamicStableScale || !p.stableRS || stableSpec == want.stable;
    return canarySpec == want.canary && canaryProgressed(p, want.canary) && stableOk;
  }
  const CanaryStableCounts want =
      approximateWeightedCounts(p.spec.replicas, desiredCanaryWeight(p), maxSurgeOf(p.spec));
  const bool oldGone = std::all_of(p.oldRSs.begin(), p.oldRSs.end(),
                                   [](const ReplicaSetView& rs) { return rs.availableReplicas == 0; });
  const bool stableOk = !p.stableRS || (stableSpec == want.stable && stablePods == want.stable);
  return canarySpec == want.canary && canaryProgressed(p, want.canary) && stableOk && oldGone;
}

// ---- the pass, step by step ------------------------------------------------------------------------

// Whether ReplicaSet `a` was created before `b` (the revision orders two created in the same second).
bool createdBefore(const ReplicaSetView& a, const ReplicaSetView& b) {
  return a.createdAt != b.createdAt ? a.createdAt < b.createdAt : a.revision < b.revision;
}

// rollbackWindow.revisions (§2.3): the current template is that of a ReplicaSet still there, created before
// the stable one with fewer than `revisions` others created in between. As Argo counts it, by creation
// time, which going back to a template does not move: it holds from the update until the promotion.
bool rollbackWithinWindow(const Pass& p) {
  const int window = p.spec.rollbackWindowRevisions.value_or(0);
  if (window <= 0) return false;
  const ReplicaSetView* target = nullptr;
  const ReplicaSetView* stable = nullptr;
  for (const auto& rs : p.observed.replicaSets) {
    if (rs.podTemplateHash == p.newHash) target = &rs;
    if (rs.podTemplateHash == p.status.stableRS) stable = &rs;
  }
  if (!target || !stable || target == stable || !createdBefore(*target, *stable)) return false;
  const auto between = std::count_if(
      p.observed.replicaSets.begin(), p.observed.replicaSets.end(), [&](const ReplicaSetView& rs) {
        return &rs != target && &rs != stable && createdBefore(*target, rs) && createdBefore(rs, *stable);
      });
  return between < window;
}

// A new pod template or new steps restart the plan (§2.3); going back to the stable template, a rollback
// within rollbackWindow, or the first deploy, skips straight to the end.
void syncRevision(Pass& p) {
  RolloutStatus& s = p.status;
  if (s.stableRS.empty()) {  // initial deploy: the first ReplicaSet is stable at once, or the one adopted
    // With pingPong the ping Service is the first stable one, as Argo Rollouts' first promotion makes it.
    if (p.spec.canary.pingPong && s.canary.stablePingPong.empty()) s.canary.stablePingPong = "ping";
    s.stableRS = initialStable(p, stableRoleService(p.spec.canary, s));
    if (s.stableRS == p.newHash) {
      s.currentPodHash = p.newHash;
      s.currentStepHash = p.newStepsHash;
      s.currentStepIndex = p.indexAt(p.stepCount);
      return;
    }
  }
  if (s.currentPodHash == p.newHash && s.currentStepHash == p.newStepsHash) return;
  const bool newTemplate = s.currentPodHash != p.newHash;
  p.clearPauses();
  s.abort = false;
  s.abortedAt.reset();
  s.promoteFull = false;
  s.canary.currentStepAnalysisRunStatus.reset();
  s.canary.currentBackgroundAnalysisRunStatus.reset();
  s.currentPodHash = p.newHash;
  s.currentStepHash = p.newStepsHash;
  const bool fastTrack = p.newHash == s.stableRS || (newTemplate && rollbackWithinWindow(p));
  s.currentStepIndex = p.indexAt(fastTrack ? p.stepCount : 0);
  // As Argo Rollouts does on a new template or new steps: the restart asked for so far counts as done
  // (the update replaces the pods anyway), a scheduled one included.
  s.restartedAt = p.spec.restartAt;
  for (const auto& run : p.observed.analysisRuns) {
    if (run.terminated) continue;
    p.actions.push_back(TerminateAnalysisRun{run.name});
    p.terminated.insert(run.name);
  }
  if (p.hasManagedRoutes()) p.actions.push_back(RemoveManagedRoutes{});
  if (newTemplate) {
    p.event("Normal", "RolloutUpdated", "Rollout updated to revision " + std::to_string(p.newRevision));
  }
}

// retry: abort went back to false after an abort; the steps start again with new analysis runs.
void syncRetry(Pass& p) {
  RolloutStatus& s = p.status;
  if (s.abort || !s.abortedAt) return;
  s.abortedAt.reset();
  if (p.promoted()) return;
  p.retried = true;
  p.clearPauses();
  s.currentStepIndex = p.indexAt(0);
  s.canary.currentStepAnalysisRunStatus.reset();
  s.canary.currentBackgroundAnalysisRunStatus.reset();
}

// promote --full: skip the remaining steps and pauses (§2.5); promotion follows once the canary is full.
void syncPromoteFull(Pass& p) {
  RolloutStatus& s = p.status;
  if (!s.promoteFull) return;
  if (p.promoted()) {
    s.promoteFull = false;
    return;
  }
  p.clearPauses();
  s.abort = false;
  s.abortedAt.reset();
  s.currentStepIndex = p.indexAt(p.stepCount);
}

// ---- analysis (§4.6) -------------------------------------------------------------------------------

// The step's AnalysisRun: found or created when the step is reached; its phase completes the step,
// aborts, or pauses.
std::optional<std::string> reconcileStepAnalysis(Pass& p) {
  const auto* step = stepAs<AnalysisStep>(p.currentStep());
  if (!step || p.status.abort || p.promoted()) return std::nullopt;
  auto& recorded = p.status.canary.currentStepAnalysisRunStatus;
  const AnalysisRunView* run = liveRun(p, AnalysisRunType::Step, p.index());
  if (!run) {
    recorded = createRun(p, AnalysisRunType::Step, p.index(), step->analysis);
    return recorded->name;
  }
  if (run->phase == analysis::Phase::Successful ||
      (run->phase == analysis::Phase::Inconclusive && resumedAfterInconclusive(p, recorded, *run))) {
    p.stepAnalysisDone = true;
  } else if (isFailure(run->phase)) {
    abortWith(p, failureWhy("Step-based", *run));
  } else if (run->phase == analysis::Phase::Inconclusive) {
    p.addPause(kPauseReasonInconclusiveAnalysis);
  }
  recorded = statusOfRun(*run);
  return run->name;
}

// The background AnalysisRun: from startingStep until promotion (§4.6).
std::optional<std::string> reconcileBackgroundAnalysis(Pass& p) {
  const auto& background = p.spec.canary.analysis;
  auto& recorded = p.status.canary.currentBackgroundAnalysisRunStatus;
  // Not on a rollback within rollbackWindow: going back to a known revision skips its analysis, as Argo's.
  const bool wanted = background && !p.status.abort && !p.promoted() && !p.status.promoteFull &&
                      (p.stepCount == 0 || p.index() >= background->startingStep) && !rollbackWithinWindow(p);
  if (!wanted) return std::nullopt;
  const AnalysisRunView* run = liveRun(p, AnalysisRunType::Background, std::nullopt);
  if (run && run->phase == analysis::Phase::Inconclusive && resumedAfterInconclusive(p, recorded, *run)) {
    // The person chose to go on: this run is done with, a fresh one watches from here.
    p.actions.push_back(TerminateAnalysisRun{run->name});
    p.terminated.insert(run->name);
    run = nullptr;
  }
  if (!run) {
    recorded = createRun(p, AnalysisRunType::Background, std::nullopt, *background);
    return recorded->name;
  }
  if (isFailure(run->phase)) {
    abortWith(p, failureWhy("Background", *run));
  } else if (run->phase == analysis::Phase::Inconclusive) {
    p.addPause(kPauseReasonInconclusiveAnalysis);
  }
  recorded = statusOfRun(*run);
  return run->name;
}

// Runs the analyses the plan wants now and terminates every other live run (after an abort, a new
// revision, promotion, or once its step is behind us), so a terminated run is never adopted again.
void reconcileAnalysis(Pass& p) {
  std::set<std::string> keep;
  if (auto name = reconcileStepAnalysis(p)) keep.insert(*name);
  if (auto name = reconcileBackgroundAnalysis(p)) keep.insert(*name);
  if (p.status.abort) keep.clear();
  for (const auto& run : p.observed.analysisRuns) {
    if (run.terminated || p.terminated.count(run.name) || keep.count(run.name)) continue;
    p.actions.push_back(TerminateAnalysisRun{run.name});
    p.terminated.insert(run.name);
  }
  limitRunHistory(p, keep);
}

// ---- experiment step -------------------------------------------------------------------------------

// The Experiment of step `stepIndex` for the new revision that was not terminated.
const ExperimentView* liveExperiment(const Pass& p, int stepIndex) {
  for (const auto& e : p.observed.experiments) {
    if (!e.terminate && e.podTemplateHash == p.newHash && e.stepIndex == stepIndex) return &e;
  }
  return nullptr;
}

// <rollout>-<hash>-<revision>-<step> as Argo names it, with -1, -2, ... when an older one holds the name.
std::string freeExperimentName(const Pass& p, const std::string& base) {
  auto taken = [&](const std::string& name) {
    return std::any_of(p.observed.experiments.begin(), p.observed.experiments.end(),
                       [&](const ExperimentView& e) { return e.name == name; });
  };
  std::string name = base;
  for (int i = 1; taken(name); ++i) name = base + "-" + std::to_string(i);
  return name;
}

// The step's Experiment: its templates are the stable or the canary pod template (as their ReplicaSets
// have them) with the step's metadata, its args' podTemplateHashValue resolved. nullopt while a template
// it needs is not observed (the stable ReplicaSet's, before there is one).
std::optional<Experiment> buildExperiment(const Pass& p, const ExperimentStep& step) {
  Experiment ex;
  ex.metadata.name = freeExperimentName(
      p, p.newRSName() + "-" + std::to_string(p.newRevision) + "-" + std::to_string(p.index()));
  ex.metadata.ns = p.rollout.metadata.ns;
  ex.metadata.labels = p.rollout.metadata.labels;
  ex.metadata.labels[kPodTemplateHashLabel] = p.newHash;
  ex.metadata.annotations[kRevisionAnnotation] = std::to_string(p.newRevision);
  ex.spec.duration = step.duration;
  ex.spec.progressDeadlineSeconds = p.spec.progressDeadlineSeconds;
  ex.spec.dryRun = step.dryRun;
  ex.spec.measurementRetention = step.measurementRetention;
  ex.spec.runLabels = step.runLabels;
  ex.spec.runAnnotations = step.runAnnotations;
  for (const auto& t : step.templates) {
    const std::string& hash = t.specRef == "stable" ? p.status.stableRS : p.newHash;
    const auto observed = p.observed.podTemplates.find(hash);
    if (observed == p.observed.podTemplates.end() && t.specRef == "stable") return std::nullopt;
    ExperimentTemplate et;
    et.name = t.name;
    et.replicas = t.replicas.value_or(1);
    et.minReadySeconds = p.spec.minReadySeconds;
    et.podTemplate = observed != p.observed.podTemplates.end() ? observed->second : p.spec.podTemplate;
    et.selector = t.selector.is_object() ? t.selector : p.spec.selector;
    for (const auto& [key, value] : t.metadata.labels) {
      et.podTemplate["metadata"]["labels"][key] = value;
      et.selector["matchLabels"][key] = value;
    }
    for (const auto& [key, value] : t.metadata.annotations)
      et.podTemplate["metadata"]["annotations"][key] = value;
    et.service = t.service;
    // A template with a share of the traffic gets a Service to route it through, as Argo's does.
    if (t.weight && !et.service) et.service = ExperimentService{};
    ex.spec.templates.push_back(std::move(et));
  }
  for (const auto& a : step.analyses) {
    ExperimentAnalysis ea;
    ea.name = a.name;
    ea.templateName = a.templateName;
    ea.clusterScope = a.clusterScope;
    ea.requiredForCompletion = a.requiredForCompletion;
    for (AnalysisArg arg : a.args) {
      if (arg.podTemplateHashValue) {
        arg.value = *arg.podTemplateHashValue == "Stable" ? p.status.stableRS : p.newHash;
        arg.podTemplateHashValue.reset();
      }
      ea.args.push_back(std::move(arg));
    }
    ex.spec.analyses.push_back(std::move(ea));
  }
  return ex;
}

// The step's Experiment: created when the step is reached; Successful completes the step, Failed or Error
// aborts, Inconclusive pauses until a person resumes.
std::optional<std::string> reconcileStepExperiment(Pass& p) {
  const auto* step = stepAs<ExperimentStep>(p.currentStep());
  if (!step || p.status.abort || p.promoted() || p.status.promoteFull) return std::nullopt;
  std::string& recorded = p.status.canary.currentExperiment;
  const ExperimentView* ex = liveExperiment(p, p.index());
  if (!ex) {
    auto made = buildExperiment(p, *step);
    if (!made) return std::nullopt;
    recorded = made->metadata.name;
    p.event("Normal", "ExperimentCreated", "Created Experiment '" + recorded + "'");
    p.actions.push_back(CreateExperiment{std::move(*made), p.index()});
    return recorded;
  }
  recorded = ex->name;
  if (ex->phase == analysis::Phase::Successful ||
      (ex->phase == analysis::Phase::Inconclusive && p.status.controllerPause &&
       !p.status.pausedFor(kPauseReasonInconclusiveExperiment))) {
    p.stepExperimentDone = true;
    recorded.clear();
  } else if (isFailure(ex->phase)) {
    abortWith(p, "Experiment '" + ex->name + "' " + analysis::phaseName(ex->phase) +
                     (ex->message.empty() ? "" : ": " + ex->message));
  } else if (ex->phase == analysis::Phase::Inconclusive) {
    p.addPause(kPauseReasonInconclusiveExperiment);
  }
  return ex->name;
}

// The step's Experiment runs; every other one the Rollout owns is terminated (after an abort, a new
// revision, promote --full, or once its step is behind us), so none is ever taken up again.
void reconcileExperiments(Pass& p) {
  std::optional<std::string> keep = reconcileStepExperiment(p);
  if (p.status.abort) keep.reset();
  if (!keep) p.status.canary.currentExperiment.clear();
  std::vector<const ExperimentView*> finished;
  for (const auto& e : p.observed.experiments) {
    if (keep && e.name == *keep) continue;
    if (!e.terminate) p.actions.push_back(TerminateExperiment{e.name});
    if (analysis::phaseCompleted(e.phase)) finished.push_back(&e);
  }
  // The history limits of AnalysisRuns hold for finished Experiments too, as Argo's: the newest ones kept.
  std::sort(finished.begin(), finished.end(), [](const ExperimentView* a, const ExperimentView* b) {
    return a->createdAt != b->createdAt ? a->createdAt > b->createdAt : a->name > b->name;
  });
  int successful = 0, unsuccessful = 0;
  for (const ExperimentView* e : finished) {
    const bool kept = e->phase == analysis::Phase::Successful
                          ? ++successful <= p.spec.successfulRunHistoryLimit
                          : ++unsuccessful <= p.spec.unsuccessfulRunHistoryLimit;
    if (!kept) p.actions.push_back(DeleteExperiment{e->name});
  }
}

// ---- progress deadline (§2.6) ----------------------------------------------------------------------

bool anyOldScaleDownDeadline(const Pass& p) {
  return std::any_of(p.oldRSs.begin(), p.oldRSs.end(),
                     [](const ReplicaSetView& rs) { return rs.scaleDownDeadline.has_value(); });
}

bool completed(const Pass& p) { return p.promoted() && p.newAvailable() >= p.spec.replicas; }

// Whether the deadline runs now: not while paused, aborted, waiting on a pause or analysis step, or while
// an old ReplicaSet waits for its scale-down deadline.
bool deadlineCounts(const Pass& p) {
  const CanaryStep* step = p.currentStep();
  const bool waitingStep =
      stepAs<PauseStep>(step) || stepAs<AnalysisStep>(step) || stepAs<ExperimentStep>(step);
  return !p.spec.paused && p.status.pauseConditions.empty() && !p.status.abort && !waitingStep &&
         !anyOldScaleDownDeadline(p) && !completed(p);
}

// ---- abort and promotion ---------------------------------------------------------------------------

// abort (§2.5): traffic back to stable at once; the canary goes down in scaleReplicaSets.
void syncAbort(Pass& p) {
  RolloutStatus& s = p.status;
  if (!s.abort) return;
  if (p.promoted()) {  // nothing in flight to abort
    s.abort = false;
    s.abortedAt.reset();
    return;
  }
  p.clearPauses();
  s.promoteFull = false;
  s.currentStepIndex = p.indexAt(0);
  if (s.abortedAt) return;
  s.abortedAt = p.now;
  std::string message = "Rollout aborted update to revision " + std::to_string(p.newRevision);
  if (!p.abortWhy.empty()) message += ": " + p.abortWhy;
  p.event("Warning", "RolloutAborted", message);
  if (p.hasManagedRoutes()) p.actions.push_back(RemoveManagedRoutes{});
}

// §2.8: the new ReplicaSet becomes stable once it is full and the steps are done (or skipped).
void promoteIfReady(Pass& p) {
  RolloutStatus& s = p.status;
  if (s.abort || p.promoted() || !canaryProgressed(p, p.spec.replicas)) return;
  if (!s.promoteFull && !p.stepsDone()) return;
  // With traffic routing, all traffic reaches the new pods before the stable Service switches to them,
  // so the switch itself moves no traffic (as Argo Rollouts does, one pass apart).
  if (p.trafficRouted()) {
    const auto& inForce = s.canary.weights;
    if (!inForce || inForce->canary.podTemplateHash != p.newHash || inForce->canary.weight < p.maxWeight())
      return;
  }
  const std::string reason = s.promoteFull             ? "Full promotion requested"
                             : rollbackWithinWindow(p) ? "Rollback within window"
                             : p.stepCount == 0
                                 ? "Completed update"
                                 : "Completed all " + std::to_string(p.stepCount) + " canary steps";
  if (p.stableRS) p.previousStable = p.stableRS->name;
  s.stableRS = p.newHash;
  // The ping-pong Services swap roles: the one the canary ran behind, already selecting it, is stable now.
  if (p.spec.canary.pingPong) s.canary.stablePingPong = s.canary.stablePingPong == "ping" ? "pong" : "ping";
  s.promoteFull = false;
  s.currentStepIndex = p.indexAt(p.stepCount);
  p.clearPauses();
  p.event("Normal", "RolloutCompleted",
          "Rollout completed update to revision " + std::to_string(p.newRevision) + " (" + p.newHash +
              "): " + reason);
  if (p.hasManagedRoutes()) p.actions.push_back(RemoveManagedRoutes{});
  classifyReplicaSets(p);
}

// ---- steps (§2.2) ----------------------------------------------------------------------------------

// A pause step: timed pauses end by the clock, indefinite ones when a person removes the condition.
bool pauseStepDone(Pass& p, const PauseStep& pause) {
  RolloutStatus& s = p.status;
  const bool resumedByPerson = s.controllerPause && !s.pausedFor(kPauseReasonCanaryPauseStep);
  if (resumedByPerson) return true;
  p.addPause(kPauseReasonCanaryPauseStep);
  if (!pause.duration) return false;
  Time started = p.now;
  for (const auto& c : s.pauseConditions) {
    if (c.reason == kPauseReasonCanaryPauseStep) started = c.startTime;
  }
  const Time ends = started + *pause.duration;
  if (p.now >= ends) return true;
  p.requeueIn(ends - p.now);
  return false;
}

bool stepDone(Pass& p, const CanaryStep& step) {
  if (const auto* w = std::get_if<SetWeightStep>(&step.action)) {
    if (!replicasAtDesired(p)) return false;
    if (!p.trafficRouted()) return true;
    // The step's weight must be in force, as the router reads it back, not only asked for.
    const auto& inForce = p.observed.trafficWeights;
    return inForce && inForce->canaryWeight == w->weight && inForce->canaryHash == p.newHash;
  }
  if (std::holds_alternative<SetCanaryScaleStep>(step.action)) return replicasAtDesired(p);
  if (const auto* pause = std::get_if<PauseStep>(&step.action)) return pauseStepDone(p, *pause);
  if (std::holds_alternative<AnalysisStep>(step.action)) return p.stepAnalysisDone;
  if (std::holds_alternative<ExperimentStep>(step.action)) return p.stepExperimentDone;
  if (const auto* header = std::get_if<SetHeaderRouteStep>(&step.action)) {
    if (p.trafficRouted()) p.actions.push_back(SetHeaderRoute{*header});
    return true;
  }
  if (const auto* mirror = std::get_if<SetMirrorRouteStep>(&step.action)) {
    if (p.trafficRouted()) p.actions.push_back(SetMirrorRoute{*mirror});
    return true;
  }
  return false;
}

// At most one step per pass, and none while paused or aborted.
void advanceStep(Pass& p) {
  RolloutStatus& s = p.status;
  const CanaryStep* step = p.currentStep();
  if (!step || s.abort || p.spec.paused || p.promoted() || s.pausedFor(kPauseReasonInconclusiveAnalysis) ||
      s.pausedFor(kPauseReasonInconclusiveExperiment))
    return;
  if (!stepDone(p, *step)) return;
  const int done = p.index();
  s.currentStepIndex = done + 1;
  s.canary.currentStepAnalysisRunStatus.reset();
  p.removePause(kPauseReasonCanaryPauseStep);
  p.event("Normal", "RolloutStepCompleted",
          "Rollout step " + std::to_string(done + 1) + "/" + std::to_string(p.stepCount) + " completed (" +
              describeStep(*step) + ")");
}

// Header and mirror routes beside a step's deciding action are set in the pass that moves the Rollout onto
// the step (onto a new revision's first step, a retry's, or the next one), as a step of their own would
// set them; not after an abort, whose routes are removed.
void setRoutesBesideEnteredStep(Pass& p) {
  const RolloutStatus& before = p.rollout.status;
  const RolloutStatus& s = p.status;
  const CanaryStep* step = p.currentStep();
  if (!step || step->alongside.empty() || s.abort || !p.trafficRouted() || p.promoted()) return;
  const bool entered =
      before.currentStepIndex != s.currentStepIndex || before.currentPodHash != s.currentPodHash || p.retried;
  if (!entered) return;
  for (const auto& other : step->alongside) {
    if (const auto* header = std::get_if<SetHeaderRouteStep>(&other))
      p.actions.push_back(SetHeaderRoute{*header});
    if (const auto* mirror = std::get_if<SetMirrorRouteStep>(&other))
      p.actions.push_back(SetMirrorRoute{*mirror});
  }
}

// ---- scaling ---------------------------------------------------------------------------------------

int oldSpecReplicas(const Pass& p) { return saturatedSum(p.oldRSs, &ReplicaSetView::specReplicas); }

// Canary first created or sized, stable sized: the split of §2.7. Halted (spec.paused, an inconclusive
// analysis) leaves both as they are, except that a missing new ReplicaSet is still created empty.
void scaleReplicaSets(Pass& p) {
  const bool halted = !p.status.abort &&
                      (p.spec.paused || p.status.pausedFor(kPauseReasonInconclusiveAnalysis) ||
                       p.status.pausedFor(kPauseReasonInconclusiveExperiment)) &&
                      !p.promoted();
  int canary = p.newRS ? p.newRS->specReplicas : 0;
  std::optional<int> stable;
  if (p.promoted()) {
    canary = p.spec.replicas;
  } else if (!halted && p.trafficRouted()) {
    const CanaryStableCounts want = trafficRoutedCounts(p);
    canary = want.canary;
    stable = p.status.abort ? p.spec.replicas : want.stable;
  } else if (!halted && p.stableRS) {
    const CanaryStableCounts next =
        nextBasicCanaryCounts({p.spec.replicas,
                               desiredCanaryWeight(p),
                               maxSurgeOf(p.spec),
                               maxUnavailableOf(p.spec),
                               {canary, p.newAvailable()},
                               {p.stableRS->specReplicas, p.stableRS->availableReplicas},
                               oldSpecReplicas(p)});
    canary = next.canary;
    stable = next.stable;
  } else if (!halted) {
    canary = p.spec.replicas;  // the stable ReplicaSet is gone: the new one serves alone
  }
  if (stable && p.stableRS) scaleTo(p, *p.stableRS, *stable);
  if (!p.newRS) {
    createNewReplicaSet(p, canary);
    return;
  }
  std::optional<Time> deadline;
  if (p.status.abort && p.trafficRouted() && !halted)
    canary = abortedScaleDown(p, *p.newRS, p.spec.canary.abortScaleDownDelay(), deadline);
  scaleTo(p, *p.newRS, canary, deadline);
}

// Old ReplicaSets: with traffic routing an old stable waits out scaleDownDelaySeconds (at most
// scaleDownDelayRevisionLimit of them at once, the newest), anything else goes at once; a basic canary drains
// them within maxUnavailable (§2.3, §2.8).
void scaleDownOldReplicaSets(Pass& p) {
  if (p.trafficRouted()) {
    std::vector<std::pair<const ReplicaSetView*, Time>> waiting;
    for (const auto& rs : p.oldRSs) {
      if (rs.specReplicas == 0 && !rs.scaleDownDeadline) continue;
      if (rs.scaleDownDeadline) {
        if (p.now >= *rs.scaleDownDeadline) {
          scaleTo(p, rs, 0);
        } else {
          waiting.emplace_back(&rs, *rs.scaleDownDeadline);
        }
      } else if (rs.name == p.previousStable && !p.spec.canary.dynamicStableScale &&
                 p.spec.canary.scaleDownDelay() > 0) {
        waiting.emplace_back(&rs, p.now + Duration{p.spec.canary.scaleDownDelay()});
      } else {
        scaleTo(p, rs, 0);
      }
    }
    waitOutScaleDownDelays(p, std::move(waiting), p.spec.canary.scaleDownDelayRevisionLimit);
    return;
  }
  const int totalAvailable = saturatedSum(p.observed.replicaSets, &ReplicaSetView::availableReplicas);
  int budget = oldReplicaSetScaleDownBudget(p.spec.replicas, maxUnavailableOf(p.spec), totalAvailable);
  for (const auto& rs : p.oldRSs) {
    if (rs.specReplicas == 0) continue;
    const int unavailable = rs.specReplicas - std::min(rs.availableReplicas, rs.specReplicas);
    const int availableCut = std::min(rs.specReplicas - unavailable, budget);
    budget -= availableCut;
    scaleTo(p, rs, rs.specReplicas - unavailable - availableCut);
  }
}

// ---- traffic and Services --------------------------------------------------------------------------

// With traffic routing, a Service's selector changes only while the weights in force send it nothing (or it
// selects no revision yet), and a weight rises only once the Service it sends through selects the pods it is
// meant for: an endpoint change under traffic is what gave Argo's users 5xx at the switch (argo-rollouts
// #4195, #4710). At promotion the canary keeps all the traffic until the stable Service selects it.
bool serviceQuiet(const Pass& p, bool canaryService) {
  if (!p.trafficRouted()) return true;
  const auto& inForce = p.observed.trafficWeights;
  if (!inForce) return canaryService;  // nothing set yet: all traffic on the stable
  return (canaryService ? inForce->canaryWeight : inForce->stableWeight) == 0;
}

bool stableSwitchPending(const Pass& p) {
  const std::string& service = stableRoleService(p.spec.canary, p.status);
  if (service.empty()) return false;
  const std::string selected = selectedBy(p, service);
  return !selected.empty() && selected != p.status.stableRS;
}

// The canary's weight after an abort: 0, except under dynamicStableScale, where the stable may have been
// scaled down with its weight: it comes back through the earlier setWeight values as the stable's available
// pods can carry the rest, so traffic never lands on a stable too small for it (§2.5).
int abortedCanaryWeight(const Pass& p) {
  const auto& inForce = p.observed.trafficWeights;
  if (!p.spec.canary.dynamicStableScale || !inForce || inForce->canaryHash != p.newHash) return 0;
  const int maxW = p.maxWeight();
  const int stableAvailable = p.stableRS ? p.stableRS->availableReplicas : 0;
  std::set<int> candidates{0};
  for (const auto& step : p.spec.canary.steps) {
    if (const auto* w = stepAction<SetWeightStep>(step); w && w->weight < inForce->canaryWeight)
      candidates.insert(w->weight);
  }
  for (int weight : candidates) {  // the lowest the stable can carry
    if (stableAvailable >= canaryReplicasForWeight(p.spec.replicas, maxW - weight, maxW)) return weight;
  }
  return inForce->canaryWeight;
}

// The weight to route to the canary now: the step's weight once the canary has its pods and the canary
// Service selects them, else the weight in force; after an abort, abortedCanaryWeight; 0 on a new canary
// without pods; once promoted, all of it until the stable Service selects the new pods, then 0.
int canaryWeightToSet(const Pass& p) {
  if (p.status.abort) return abortedCanaryWeight(p);
  if (p.promoted()) return stableSwitchPending(p) ? p.maxWeight() : 0;
  const auto& inForce = p.observed.trafficWeights;
  const int previous = inForce && inForce->canaryHash == p.newHash ? inForce->canaryWeight : 0;
  const int wanted = desiredCanaryWeight(p);
  const int canaryPods = trafficRoutedCounts(p).canary;
  const std::string& canaryService = canaryRoleService(p.spec.canary, p.status);
  const std::string selected = canaryService.empty() ? p.newHash : selectedBy(p, canaryService);
  if (selected != p.newHash && !selected.empty() && selected == p.status.stableRS) {
    // The canary Service still selects the stable pods, so a weight through it reaches those: it carries the
    // steps' weight while the canary is sized to no pod (setCanaryScale, as in Argo), and none once the
    // canary has pods, so that the Service can move to them (a move that changes nothing users reach).
    return canaryPods == 0 ? wanted : 0;
  }
  const bool canaryReady =
      selected == p.newHash && p.newRS && !p.createdNewRS && canaryProgressed(p, canaryPods);
  return (wanted <= previous || canaryReady) ? wanted : previous;
}

// The shares of the experiment step's templates with a weight, to their Services, by service name: while
// the step's Experiment runs (its templates available), as Argo's; none before, after, or once aborted.
std::vector<WeightDestination> experimentWeights(const Pass& p) {
  std::vector<WeightDestination> out;
  const auto* step = stepAs<ExperimentStep>(p.currentStep());
  if (!step || p.status.abort || p.promoted() || p.status.promoteFull) return out;
  const ExperimentView* ex = liveExperiment(p, p.index());
  if (!ex || ex->phase != analysis::Phase::Running) return out;
  for (const auto& t : step->templates) {
    for (const auto& s : ex->templates) {
      if (t.weight && s.name == t.name && !s.serviceName.empty())
        out.push_back({*t.weight, s.serviceName, s.podTemplateHash});
    }
  }
  std::sort(out.begin(), out.end(), [](const WeightDestination& a, const WeightDestination& b) {
    return a.serviceName < b.serviceName;
  });
  return out;
}

void reconcileTraffic(Pass& p) {
  if (!p.trafficRouted()) {
    p.status.canary.weights.reset();
    return;
  }
  const int maxW = p.maxWeight();
  const int canaryWeight = std::clamp(canaryWeightToSet(p), 0, maxW);
  const std::vector<WeightDestination> additional = experimentWeights(p);
  int stableWeight = maxW - canaryWeight;
  for (const auto& d : additional) stableWeight -= d.weight;
  stableWeight = std::max(stableWeight, 0);
  const std::string& stableHash = p.status.stableRS;
  // Set whenever what is in force differs from what is wanted: a write that failed or was undone by
  // someone else is made again on the next pass.
  const std::string& canaryService = canaryRoleService(p.spec.canary, p.status);
  const std::string& stableService = stableRoleService(p.spec.canary, p.status);
  SetTrafficWeight set{canaryWeight,  stableWeight,  p.newHash, stableHash,
                       canaryService, stableService, additional};
  if (p.observed.trafficWeights != splitOf(set)) p.actions.push_back(std::move(set));
  TrafficWeights weights;
  weights.canary = {canaryWeight, canaryService, p.newHash};
  weights.stable = {stableWeight, stableService, stableHash};
  weights.additional = additional;
  p.status.canary.weights = weights;
}

void reconcileServices(Pass& p) {
  // `routed`: the Service carries the router's weights (its role's), so it moves only while they send it
  // nothing.
  auto point = [&](const std::string& service, const std::string& hash, bool isCanary, bool routed = true) {
    if (service.empty()) return;
    const std::string selected = selectedBy(p, service);
    if (selected == hash) return;
    if (routed && !selected.empty() && !serviceQuiet(p, isCanary)) return;  // after the weights move off it
    p.actions.push_back(serviceSelector(p, service, hash));
  };
  // The canary Service moves to the new pods once one of them is available, as Argo's does: a header route
  // or a person calling the canary Service directly then never reaches a revision with no pod to answer.
  // With pingPong, canaryService and stableService set beside it are not routed and follow the revisions
  // as without traffic routing (Argo points them too).
  const bool pingPong = p.spec.canary.pingPong.has_value();
  const std::string& canaryService = canaryRoleService(p.spec.canary, p.status);
  if (p.status.abort) {
    point(canaryService, p.status.stableRS, true);
    if (pingPong) point(p.spec.canary.canaryService, p.status.stableRS, true, false);
  } else if (p.newAvailable() > 0) {
    point(canaryService, p.newHash, true);
    if (pingPong) point(p.spec.canary.canaryService, p.newHash, true, false);
  }
  point(stableRoleService(p.spec.canary, p.status), p.status.stableRS, false);
  if (pingPong) point(p.spec.canary.stableService, p.status.stableRS, false, false);
}

// ---- status ----------------------------------------------------------------------------------------

void syncStatus(Pass& p) {
  syncStatus(p, {[&] { return completed(p); }, [&] { return p.status.availableReplicas >= p.spec.replicas; },
                 [&] { return deadlineCounts(p); }});
}

}  // namespace

TrafficInForce splitOf(const SetTrafficWeight& weights) {
  TrafficInForce split{weights.canaryWeight, weights.stableWeight, weights.canaryHash, weights.stableHash,
                       weights.additional};
  for (auto& d : split.additional) d.podTemplateHash.clear();
  return split;
}

std::optional<Time> restartToObserve(const Rollout& rollout, Time now) {
  if (!restartPending(rollout.spec, rollout.status) || *rollout.spec.restartAt > now) return std::nullopt;
  return rollout.spec.restartAt;
}

Decision reconcileCanary(const Rollout& rollout, const Observed& observed, Time now) {
  Pass p(rollout, observed, now);
  p.newHash = podTemplateHash(rollout.spec.podTemplate, rollout.status.collisionCount);
  avoidForeignName(p);
  if (adoptReplicaSets(p)) return {std::move(p.status), std::move(p.actions), p.requeue};
  const std::string& memo = rollout.spec.canary.stepsHashMemo;
  p.newStepsHash = memo.empty() ? stepsHash(rollout.spec.canary.steps) : memo;
  p.stepCount = static_cast<int>(rollout.spec.canary.steps.size());
  p.newRevision = nextRevision(p);

  syncRevision(p);
  syncRetry(p);
  syncPromoteFull(p);
  classifyReplicaSets(p);
  syncNewReplicaSet(p);
  sumReplicaCounts(p);
  reconcileRestart(p, maxUnavailableOf(p.spec));
  checkProgressDeadline(p, deadlineCounts(p));
  reconcileAnalysis(p);
  reconcileExperiments(p);
  syncAbort(p);
  promoteIfReady(p);
  advanceStep(p);
  setRoutesBesideEnteredStep(p);
  scaleReplicaSets(p);
  reconcileTraffic(p);
  reconcileServices(p);
  scaleDownOldReplicaSets(p);
  syncPodMetadata(p);
  cleanUpHistory(p);
  syncStatus(p);
  reconcileWorkload(p);
  return {std::move(p.status), std::move(p.actions), p.requeue};
}

}  // namespace sluice::engine
