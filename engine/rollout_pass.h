// What the canary and the blue-green state machines share: one reconcile pass's working state (`PassBase`)
// and the pieces both strategies run on it (ReplicaSet bookkeeping and scaling, AnalysisRuns, conditions,
// history limits, the workload). Internal to engine/: included by the state machines' .cc files only.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/canary.h"

namespace sluice::engine::detail {

// What one pass knows and has decided. `status` starts as the status last written and ends as the next.
struct PassBase {
  const Rollout& rollout;
  const RolloutSpec& spec;
  const Observed& observed;
  Time now;
  RolloutStatus status;
  std::vector<Action> actions;
  std::optional<Duration> requeue;

  std::string newHash;
  int64_t newRevision = 1;
  std::optional<ReplicaSetView> newRS;     // observed, or created in this pass
  std::optional<ReplicaSetView> stableRS;  // unset when the stable RS is the new one, or is gone
  std::vector<ReplicaSetView> oldRSs;      // neither new nor stable, oldest revision first
  bool createdNewRS = false;
  std::string previousStable;        // the RS that stopped being stable in this pass
  std::set<std::string> terminated;  // runs asked to terminate in this pass
  std::string abortWhy;              // why this pass aborted, for the condition message
  bool retried = false;
  bool timedOut = false;

  PassBase(const Rollout& r, const Observed& o, Time t)
      : rollout(r), spec(r.spec), observed(o), now(t), status(r.status) {}

  const std::string& name() const { return rollout.metadata.name; }
  bool promoted() const { return status.stableRS == newHash; }
  std::string rsName(const std::string& hash) const { return name() + "-" + hash; }
  std::string newRSName() const { return rsName(newHash); }
  int newAvailable() const { return newRS ? newRS->availableReplicas : 0; }

  void requeueIn(Duration d) {
    d = std::max(d, Duration{1});  // an unchanged state never asks to be looked at again at once
    if (!requeue || d < *requeue) requeue = d;
  }
  void event(const char* type, const char* reason, std::string message) {
    actions.push_back(EmitEvent{type, reason, std::move(message)});
  }
  void addPause(const char* reason) {
    if (status.pausedFor(reason)) return;
    status.pauseConditions.push_back({reason, now});
    status.controllerPause = true;
  }
  void removePause(const char* reason) {
    std::erase_if(status.pauseConditions, [&](const PauseCondition& c) { return c.reason == reason; });
  }
  void clearPauses() {
    status.pauseConditions.clear();
    status.controllerPause = false;
  }
};

// A LabelSelector as Kubernetes prints it, for status.selector (the scale subresource's):
// "app=web,env in (a,b),!legacy", requirements ordered by key, "" for an empty selector.
std::string selectorString(const nlohmann::json& selector);

// Sets a condition; its timestamps move only when it really changes (`touch`: progress that keeps the
// same reason still refreshes lastUpdateTime, which the progress deadline counts from).
void setCondition(RolloutStatus& status, const std::string& type, const std::string& value,
                  const std::string& reason, const std::string& message, Time now, bool touch = false);
// The same on any kind's conditions (an Experiment's).
void setCondition(std::vector<Condition>& conditions, const std::string& type, const std::string& value,
                  const std::string& reason, const std::string& message, Time now, bool touch = false);

// Progress as the progress deadline counts it, between two statuses.
bool madeProgress(const RolloutStatus& before, const RolloutStatus& after);

// ---- ReplicaSets -----------------------------------------------------------------------------------

// Sorts the observed ReplicaSets into new (the current template's), stable (status.stableRS) and old.
void classifyReplicaSets(PassBase& p);
// A sum of replica counts in 64 bits, held at the int32 the API's count fields are.
int saturatedSum(const std::vector<ReplicaSetView>& sets, int ReplicaSetView::*count);
// status.replicas, readyReplicas, availableReplicas and updatedReplicas from the observed ReplicaSets.
void sumReplicaCounts(PassBase& p);
// Sets spec.replicas (and the scale-down deadline) of an observed ReplicaSet, with a ScalingReplicaSet
// event when the size changes.
void scaleTo(PassBase& p, const ReplicaSetView& rs, int replicas,
             std::optional<Time> deadline = std::nullopt);
// Old ReplicaSets waiting out a scale-down delay, each with the deadline it waits for: at most `limit`
// of them (the newest revisions; unset: all) keep their pods until then, the rest scale to 0 now.
void waitOutScaleDownDelays(PassBase& p, std::vector<std::pair<const ReplicaSetView*, Time>> waiting,
                            std::optional<int> limit);
// Creates the ReplicaSet of the current template with `replicas` pods, with the ephemeral metadata of its
// role and the strategy's antiAffinity to the stable pods; it becomes p.newRS.
void createNewReplicaSet(PassBase& p, int replicas);
// Ephemeral metadata (Argo's rule): the new ReplicaSet carries the new revision's (canaryMetadata,
// previewMetadata) until it is stable, then the stable one's; the stable ReplicaSet carries the stable
// one's (stableMetadata, activeMetadata). Older ReplicaSets keep what they have.
void syncPodMetadata(PassBase& p);
// An aborted new ReplicaSet keeps its pods until `delay` seconds after the stable one is full again
// (0: for good), through a deadline on the ReplicaSet so a restart keeps the clock. Returns its size now
// and the deadline to keep on it.
int abortedScaleDown(PassBase& p, const ReplicaSetView& rs, int delay, std::optional<Time>& deadline);
// revisionHistoryLimit: old ReplicaSets with no pods left, beyond the limit, oldest first.
void cleanUpHistory(PassBase& p);
// The pod-template hash a Service selects now ("" when it selects no revision yet), as observed.
std::string selectedBy(const PassBase& p, const std::string& service);
// The revision the new ReplicaSet has or gets: one past the highest of the others, or its own when that is
// higher already. A reused older ReplicaSet (going back to its template) so gets a new revision, as Argo's.
int64_t nextRevision(const PassBase& p);
// The new ReplicaSet, when it was there already, takes the Rollout's new revision and spec.minReadySeconds
// (a ScaleReplicaSet of its current size). Call after classifyReplicaSets.
void syncNewReplicaSet(PassBase& p);
// A ReplicaSet of another owner holds the name the new one would get: count a collision and hash again.
void avoidForeignName(PassBase& p);

// ---- what Argo Rollouts left (engine/adopt.cc) -----------------------------------------------------

// Adopts the ReplicaSets Argo Rollouts left for this Rollout (Observed::adoptableReplicaSets); true when
// there were any: that pass decides nothing else, the next one sees them as the Rollout's own. Otherwise,
// when no ReplicaSet has newHash, an adopted one whose pod template is the Rollout's (sameTemplate, the
// newest) is the current revision: newHash becomes its hash.
bool adoptReplicaSets(PassBase& p);
// The stable revision when the status names none yet: newHash, unless ReplicaSets were adopted from Argo
// Rollouts (whose status did not come along): then the adopted one `service` (the stable or active
// Service) selects, else the newest adopted one with spec.replicas pods available, else the adopted one
// with the most available pods.
std::string initialStable(const PassBase& p, const std::string& service);
// The label key the pods of revision `hash` carry it under (Sluice's, or Argo's on an adopted revision).
std::string hashLabelOf(const PassBase& p, const std::string& hash);
// Points `service` at revision `hash`, by that revision's label key.
SetServiceSelector serviceSelector(const PassBase& p, const std::string& service, const std::string& hash);

// ---- restart (spec.restartAt) ---------------------------------------------------------------------

// Evicts the pods created before spec.restartAt, stable ReplicaSet first, then the new one, then older
// ones, while at most `maxUnavailable` pods (at least one) are unavailable; sets status.restartedAt once
// none is left.
void reconcileRestart(PassBase& p, int maxUnavailable);

// ---- AnalysisRuns ----------------------------------------------------------------------------------

// The live (not terminated) run of `type` for the new revision (and `stepIndex`, for step runs).
const AnalysisRunView* liveRun(const PassBase& p, AnalysisRunType type, std::optional<int> stepIndex);
// Creates a run of `analysis` for the new revision: <rs>-<revision>[-<step>|-pre|-post].
AnalysisRunStatusRef createRun(PassBase& p, AnalysisRunType type, std::optional<int> stepIndex,
                               const RolloutAnalysis& analysis);
AnalysisRunStatusRef statusOfRun(const AnalysisRunView& run);
bool isFailure(analysis::Phase phase);
// "<kind> analysis phase failed: <message>", for the abort's message.
std::string failureWhy(const char* kind, const AnalysisRunView& run);
// An Inconclusive run pauses the rollout; once a person removes that pause, the run counts as passed.
bool resumedAfterInconclusive(const PassBase& p, const std::optional<AnalysisRunStatusRef>& recorded,
                              const AnalysisRunView& run);
// Sets status.abort (once) with the reason the condition message gives.
void abortWith(PassBase& p, std::string why);
// spec.analysis's history limits over the finished runs not in `inUse` nor named by the status.
void limitRunHistory(PassBase& p, const std::set<std::string>& inUse);

// ---- status ----------------------------------------------------------------------------------------

// A Progressing condition whose lastUpdateTime the progress deadline counts from, or nullptr.
const Condition* deadlineClock(const PassBase& p);
// The progress deadline (§2.6), while it `counts` (the strategy says when): past it without progress the
// pass has timedOut, and with progressDeadlineAbort the update is aborted.
void checkProgressDeadline(PassBase& p, bool counts);
// The Progressing condition, with `completed`: the new revision is stable and fully available.
void syncProgressingCondition(PassBase& p, bool completed);
// The Paused condition and its RolloutPaused / RolloutResumed events.
void syncPausedCondition(PassBase& p);
// What a strategy tells the status sync: whether its new revision is stable and fully available, whether
// the Rollout has minimum availability, and whether the progress deadline runs now. Each is asked at
// the point of the sync it decides.
struct StatusRules {
  std::function<bool()> completed;
  std::function<bool()> available;
  std::function<bool()> deadlineCounts;
};
// The status a pass ends with: replica counts, observedGeneration, selector, the Progressing,
// Available, Paused, Completed and Healthy conditions, phase and message, and a requeue at the progress
// deadline while it runs.
void syncStatus(PassBase& p, const StatusRules& rules);
// spec.workloadRef's scaleDown (engine/workload.h).
void reconcileWorkload(PassBase& p);

}  // namespace sluice::engine::detail
