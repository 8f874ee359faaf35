// The pieces the canary and blue-green state machines share (see rollout_pass.h).
#include "engine/rollout_pass.h"

#include <algorithm>
#include <limits>

#include "engine/phase.h"
#include "engine/workload.h"

namespace sluice::engine {

const char* analysisRunTypeName(AnalysisRunType type) {
  switch (type) {
    case AnalysisRunType::Step:
      return "Step";
    case AnalysisRunType::Background:
      return "Background";
    case AnalysisRunType::PrePromotion:
      return "PrePromotion";
    case AnalysisRunType::PostPromotion:
      return "PostPromotion";
  }
  return "Step";
}

AnalysisRunType analysisRunTypeFromName(const std::string& name) {
  for (AnalysisRunType type :
       {AnalysisRunType::Background, AnalysisRunType::PrePromotion, AnalysisRunType::PostPromotion}) {
    if (name == analysisRunTypeName(type)) return type;
  }
  return AnalysisRunType::Step;
}

namespace detail {

// As Kubernetes prints a LabelSelector (metav1.LabelSelectorAsSelector, then String()): one requirement per
// matchLabels entry and per expression, ordered by key (a stable sort, so matchLabels come first within a
// key), the values of in and notin sorted: "app=web,env in (a,b),!legacy,tier".
std::string selectorString(const nlohmann::json& selector) {
  std::vector<std::pair<std::string, std::string>> terms;  // key, the printed requirement
  if (!selector.is_object()) return "";
  const auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  if (const auto labels = selector.find("matchLabels"); labels != selector.end() && labels->is_object()) {
    for (const auto& [key, value] : labels->items()) terms.emplace_back(key, key + "=" + text(value));
  }
  if (const auto exprs = selector.find("matchExpressions"); exprs != selector.end() && exprs->is_array()) {
    for (const auto& e : *exprs) {
      if (!e.is_object()) continue;
      const std::string key = e.value("key", "");
      const std::string op = e.value("operator", "");
      std::vector<std::string> values;
      if (const auto vs = e.find("values"); vs != e.end() && vs->is_array()) {
        for (const auto& v : *vs) values.push_back(text(v));
      }
      std::sort(values.begin(), values.end());
      std::string joined;
      for (const auto& v : values) {
        if (!joined.empty()) joined += ',';
        joined += v;
      }
      if (op == "In" || op == "NotIn") {
        std::string term = key;
        term += op == "In" ? " in (" : " notin (";
        term += joined;
        term += ')';
        terms.emplace_back(key, std::move(term));
      } else if (op == "Exists") {
        terms.emplace_back(key, key);
      } else if (op == "DoesNotExist") {
        terms.emplace_back(key, "!" + key);
      }
    }
  }
  std::stable_sort(terms.begin(), terms.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& term : terms) out += (out.empty() ? "" : ",") + term.second;
  return out;
}

// Sets a condition; its timestamps move only when it really changes (`touch`: progress that keeps the
// same reason still refreshes lastUpdateTime, which the progress deadline counts from).
void setCondition(RolloutStatus& status, const std::string& type, const std::string& value,
                  const std::string& reason, const std::string& message, Time now, bool touch) {
  setCondition(status.conditions, type, value, reason, message, now, touch);
}

void setCondition(std::vector<Condition>& conditions, const std::string& type, const std::string& value,
                  const std::string& reason, const std::string& message, Time now, bool touch) {
  for (auto& c : conditions) {
    if (c.type != type) continue;
    if (c.status != value) c.lastTransitionTime = now;
    if (c.status != value || c.reason != reason || c.message != message || touch) c.lastUpdateTime = now;
    c.status = value;
    c.reason = reason;
    c.message = message;
    return;
  }
  conditions.push_back({type, value, reason, message, now, now});
}

// Progress as §2.6 counts it, between two statuses.
bool madeProgress(const RolloutStatus& before, const RolloutStatus& after) {
  return after.updatedReplicas != before.updatedReplicas ||
         after.replicas - after.updatedReplicas < before.replicas - before.updatedReplicas ||
         after.readyReplicas > before.readyReplicas || after.availableReplicas > before.availableReplicas ||
         after.stableRS != before.stableRS || after.currentStepIndex != before.currentStepIndex ||
         after.currentStepHash != before.currentStepHash;
}

void classifyReplicaSets(PassBase& p) {
  p.newRS.reset();
  p.stableRS.reset();
  p.oldRSs.clear();
  for (const auto& rs : p.observed.replicaSets) {
    if (rs.podTemplateHash == p.newHash) {
      p.newRS = rs;
    } else if (!p.status.stableRS.empty() && rs.podTemplateHash == p.status.stableRS) {
      p.stableRS = rs;
    } else {
      p.oldRSs.push_back(rs);
    }
  }
  std::sort(p.oldRSs.begin(), p.oldRSs.end(),
            [](const ReplicaSetView& a, const ReplicaSetView& b) { return a.revision < b.revision; });
}

// A sum of replica counts, counted in 64 bits (with a surge, ReplicaSets of a Rollout near 2^31-1
// replicas add up past an int) and held at the int32 the API's count fields are.
int saturatedSum(const std::vector<ReplicaSetView>& sets, int ReplicaSetView::*count) {
  long long sum = 0;
  for (const auto& rs : sets) sum += rs.*count;
  return static_cast<int>(std::min<long long>(sum, std::numeric_limits<int>::max()));
}

void sumReplicaCounts(PassBase& p) {
  RolloutStatus& s = p.status;
  const auto& sets = p.observed.replicaSets;
  s.replicas = saturatedSum(sets, &ReplicaSetView::replicas);
  s.readyReplicas = saturatedSum(sets, &ReplicaSetView::readyReplicas);
  s.availableReplicas = saturatedSum(sets, &ReplicaSetView::availableReplicas);
  s.updatedReplicas = 0;
  for (const auto& rs : sets) {
    if (rs.podTemplateHash == p.newHash) s.updatedReplicas = rs.replicas;
  }
}

// Sets spec.replicas (and the scale-down deadline) of an observed ReplicaSet, with a ScalingReplicaSet
// event when the size changes.
void scaleTo(PassBase& p, const ReplicaSetView& rs, int replicas, std::optional<Time> deadline) {
  DeadlineChange change = DeadlineChange::Keep;
  if (!deadline && rs.scaleDownDeadline) change = DeadlineChange::Clear;
  if (deadline && deadline != rs.scaleDownDeadline) change = DeadlineChange::Set;
  if (replicas == rs.specReplicas && change == DeadlineChange::Keep) return;
  ScaleReplicaSet scale;
  scale.name = rs.name;
  scale.replicas = replicas;
  scale.deadlineChange = change;
  if (change == DeadlineChange::Set) scale.scaleDownDeadline = *deadline;
  p.actions.push_back(std::move(scale));
  if (replicas == rs.specReplicas) return;
  p.event("Normal", "ScalingReplicaSet",
          std::string(replicas > rs.specReplicas ? "Scaled up" : "Scaled down") + " ReplicaSet " + rs.name +
              " (revision " + std::to_string(rs.revision) + ") from " + std::to_string(rs.specReplicas) +
              " to " + std::to_string(replicas));
}

void waitOutScaleDownDelays(PassBase& p, std::vector<std::pair<const ReplicaSetView*, Time>> waiting,
                            std::optional<int> limit) {
  std::sort(waiting.begin(), waiting.end(),
            [](const auto& a, const auto& b) { return a.first->revision > b.first->revision; });
  const size_t kept = limit ? static_cast<size_t>(std::max(*limit, 0)) : waiting.size();
  for (size_t i = 0; i < waiting.size(); ++i) {
    const auto& [rs, deadline] = waiting[i];
    if (i >= kept) {
      scaleTo(p, *rs, 0);
      continue;
    }
    scaleTo(p, *rs, rs->specReplicas, deadline);
    p.requeueIn(deadline - p.now);
  }
}

namespace {

// The ephemeral metadata the new ReplicaSet's pods carry: the stable role's once it is stable.
const std::optional<PodMetadata>& podMetadataOfNew(const PassBase& p) {
  return p.promoted() ? p.spec.stablePodMetadata() : p.spec.newPodMetadata();
}

// antiAffinity: the new revision's pods keep off the nodes of the stable revision's, preferred (with its
// weight) or required, by the stable pods' hash label on one node (kubernetes.io/hostname).
void addAntiAffinity(const PassBase& p, CreateReplicaSet& create) {
  const auto& affinity = p.spec.antiAffinity();
  if (!affinity || p.promoted() || p.status.stableRS.empty()) return;
  const nlohmann::json term = {
      {"labelSelector",
       {{"matchExpressions", nlohmann::json::array({{{"key", hashLabelOf(p, p.status.stableRS)},
                                                     {"operator", "In"},
                                                     {"values", {p.status.stableRS}}}})}}},
      {"topologyKey", "kubernetes.io/hostname"}};
  nlohmann::json& anti = create.podTemplate["spec"]["affinity"]["podAntiAffinity"];
  if (affinity->required) {
    anti["requiredDuringSchedulingIgnoredDuringExecution"].push_back(term);
  } else {
    anti["preferredDuringSchedulingIgnoredDuringExecution"].push_back(
        {{"weight", affinity->preferredWeight.value_or(1)}, {"podAffinityTerm", term}});
  }
}

}  // namespace

void createNewReplicaSet(PassBase& p, int replicas) {
  const std::string name = p.newRSName();
  const std::string revision = std::to_string(p.newRevision);
  CreateReplicaSet create{name,
                          p.newHash,
                          p.newRevision,
                          replicas,
                          p.spec.podTemplate,
                          p.spec.selector,
                          p.spec.minReadySeconds,
                          std::nullopt};
  if (!create.podTemplate.is_object()) create.podTemplate = nlohmann::json::object();
  create.podTemplate["metadata"]["labels"][kPodTemplateHashLabel] = p.newHash;
  if (!create.selector.is_object()) create.selector = nlohmann::json::object();
  create.selector["matchLabels"][kPodTemplateHashLabel] = p.newHash;
  create.podMetadata = podMetadataOfNew(p);
  if (create.podMetadata) {
    for (const auto& [key, value] : create.podMetadata->labels)
      create.podTemplate["metadata"]["labels"][key] = value;
    for (const auto& [key, value] : create.podMetadata->annotations)
      create.podTemplate["metadata"]["annotations"][key] = value;
  }
  addAntiAffinity(p, create);
  p.actions.push_back(std::move(create));
  p.event("Normal", "NewReplicaSetCreated", "Created ReplicaSet " + name + " (revision " + revision + ")");
  if (replicas > 0) {
    p.event("Normal", "ScalingReplicaSet",
            "Scaled up ReplicaSet " + name + " (revision " + revision + ") from 0 to " +
                std::to_string(replicas));
  }
  ReplicaSetView created;
  created.name = name;
  created.podTemplateHash = p.newHash;
  created.revision = p.newRevision;
  created.specReplicas = replicas;
  created.podMetadata = podMetadataOfNew(p);
  p.newRS = created;
  p.createdNewRS = true;
}

void syncPodMetadata(PassBase& p) {
  auto sync = [&p](const ReplicaSetView& rs, const std::optional<PodMetadata>& wanted) {
    if (rs.podMetadata == wanted) return;
    p.actions.push_back(SetPodMetadata{rs.name, rs.podTemplateHash, rs.podMetadata, wanted, rs.hashLabel});
  };
  if (p.newRS && !p.createdNewRS) sync(*p.newRS, podMetadataOfNew(p));
  if (p.stableRS) sync(*p.stableRS, p.spec.stablePodMetadata());
}

// ---- restart (spec.restartAt, §2.5) ---------------------------------------------------------------

// How long to wait before looking again while pods are still to restart, as Argo Rollouts does: the
// ReplicaSets' changes normally bring the Rollout back sooner.
constexpr Duration kRestartRecheck{30};

// Evicts the pods created before restartAt, stable ReplicaSet first, then the new one, then the older
// ones (oldest revision first), oldest pods first, while at most maxUnavailable pods (at least one) are
// unavailable, those already unavailable included: Argo Rollouts' rule, also with traffic routing.
// restartedAt is set once no pod created before restartAt is left, so an eviction the cluster refused
// is asked again rather than taken as done.
void reconcileRestart(PassBase& p, int maxUnavailable) {
  if (!restartPending(p.spec, p.status)) return;
  const Time at = *p.spec.restartAt;
  if (at > p.now) {
    p.requeueIn(at - p.now);
    return;
  }
  std::vector<const ReplicaSetView*> order;
  if (p.stableRS) order.push_back(&*p.stableRS);
  if (p.newRS) order.push_back(&*p.newRS);
  for (const auto& rs : p.oldRSs) order.push_back(&rs);
  long long toRestart = 0;
  long long available = 0;
  for (const ReplicaSetView* rs : order) {
    if (!rs->restartPods) {  // the world did not count its pods: decide nothing on a guess
      p.requeueIn(kRestartRecheck);
      return;
    }
    toRestart += rs->restartPods->createdBefore;
    available += rs->restartPods->available;
  }
  if (toRestart == 0) {
    p.status.restartedAt = at;
    p.event("Normal", "RolloutRestarted", "Restarted every pod created before " + formatRfc3339(at));
    return;
  }
  const int replicas = p.spec.replicas;
  const int concurrent = std::max(std::min(maxUnavailable, replicas), 1);
  const long long total = saturatedSum(p.observed.replicaSets, &ReplicaSetView::specReplicas);
  long long canRestart = available - (std::max<long long>(replicas, total) - concurrent);
  for (const ReplicaSetView* rs : order) {
    if (canRestart <= 0) break;
    const long long evictable = rs->restartPods->createdBefore - rs->restartPods->deleting;
    const int count = static_cast<int>(std::min(evictable, canRestart));
    if (count <= 0) continue;
    p.actions.push_back(RestartPods{rs->name, count, at});
    p.event("Normal", "RestartingPods",
            "Restarting " + std::to_string(count) + (count == 1 ? " pod" : " pods") + " of ReplicaSet " +
                rs->name + " created before " + formatRfc3339(at));
    canRestart -= count;
  }
  p.requeueIn(kRestartRecheck);
}

// ---- AnalysisRuns --------------------------------------------------------------------------------

const AnalysisRunView* liveRun(const PassBase& p, AnalysisRunType type, std::optional<int> stepIndex) {
  const AnalysisRunView* found = nullptr;
  for (const auto& run : p.observed.analysisRuns) {
    if (run.terminated || p.terminated.count(run.name) || run.type != type ||
        run.podTemplateHash != p.newHash)
      continue;
    if (type == AnalysisRunType::Step && run.stepIndex != stepIndex) continue;
    found = &run;  // the latest one listed wins
  }
  return found;
}

std::string freeRunName(const PassBase& p, const std::string& base) {
  auto taken = [&](const std::string& candidate) {
    return std::any_of(p.observed.analysisRuns.begin(), p.observed.analysisRuns.end(),
                       [&](const AnalysisRunView& r) { return r.name == candidate; });
  };
  std::string candidate = base;
  for (int suffix = 1; taken(candidate); ++suffix) candidate = base + "." + std::to_string(suffix);
  return candidate;
}

AnalysisRunStatusRef createRun(PassBase& p, AnalysisRunType type, std::optional<int> stepIndex,
                               const RolloutAnalysis& analysis) {
  std::string base = p.newRSName() + "-" + std::to_string(p.newRevision);
  if (stepIndex) base += "-" + std::to_string(*stepIndex);
  if (type == AnalysisRunType::PrePromotion) base += "-pre";
  if (type == AnalysisRunType::PostPromotion) base += "-post";
  const std::string runName = freeRunName(p, base);
  p.actions.push_back(CreateAnalysisRun{runName, type, stepIndex, p.newHash, analysis});
  p.event("Normal", "AnalysisRunCreated", "Created AnalysisRun " + runName);
  return {runName, "", ""};
}

AnalysisRunStatusRef statusOfRun(const AnalysisRunView& run) {
  return {run.name, analysis::phaseName(run.phase), run.message};
}

bool isFailure(analysis::Phase phase) {
  return phase == analysis::Phase::Failed || phase == analysis::Phase::Error;
}

std::string failureWhy(const char* kind, const AnalysisRunView& run) {
  std::string why =
      std::string(kind) + " analysis phase " + (run.phase == analysis::Phase::Error ? "error" : "failed");
  return run.message.empty() ? why : why + ": " + run.message;
}

// An Inconclusive run pauses the rollout; once a person removes that pause, the run counts as passed.
bool resumedAfterInconclusive(const PassBase& p, const std::optional<AnalysisRunStatusRef>& recorded,
                              const AnalysisRunView& run) {
  return recorded && recorded->name == run.name && recorded->status == "Inconclusive" &&
         !p.status.pausedFor(kPauseReasonInconclusiveAnalysis);
}

void abortWith(PassBase& p, std::string why) {
  if (p.status.abort) return;
  p.status.abort = true;
  p.abortWhy = std::move(why);
}

// spec.analysis's history limits: of the finished runs that are not in use, the newest
// successfulRunHistoryLimit Successful ones and unsuccessfulRunHistoryLimit Failed, Error or Inconclusive
// ones are kept, the older ones deleted. A run still measuring is never deleted, nor one the status names.
void limitRunHistory(PassBase& p, const std::set<std::string>& inUse) {
  const auto& canary = p.status.canary;
  const auto& blueGreen = p.status.blueGreen;
  const auto named = [](const std::optional<AnalysisRunStatusRef>& ref, const std::string& name) {
    return ref && ref->name == name;
  };
  std::vector<const AnalysisRunView*> finished;
  for (const auto& run : p.observed.analysisRuns) {
    if (!analysis::phaseCompleted(run.phase) || inUse.count(run.name) || p.terminated.count(run.name))
      continue;
    if (named(canary.currentStepAnalysisRunStatus, run.name) ||
        named(canary.currentBackgroundAnalysisRunStatus, run.name) ||
        named(blueGreen.prePromotionAnalysisRunStatus, run.name) ||
        named(blueGreen.postPromotionAnalysisRunStatus, run.name))
      continue;
    finished.push_back(&run);
  }
  std::sort(finished.begin(), finished.end(), [](const AnalysisRunView* a, const AnalysisRunView* b) {
    return a->createdAt != b->createdAt ? a->createdAt > b->createdAt : a->name > b->name;
  });
  int successful = 0, unsuccessful = 0;
  for (const AnalysisRunView* run : finished) {
    const bool kept = run->phase == analysis::Phase::Successful
                          ? ++successful <= p.spec.successfulRunHistoryLimit
                          : ++unsuccessful <= p.spec.unsuccessfulRunHistoryLimit;
    if (!kept) p.actions.push_back(DeleteAnalysisRun{run->name});
  }
}

// A Progressing condition whose lastUpdateTime the deadline counts from (not one that is about to be
// replaced because the pause, abort or completion it records is over).
const Condition* deadlineClock(const PassBase& p) {
  const Condition* c = p.status.condition("Progressing");
  if (!c || c->reason == "RolloutPaused" || c->reason == "RolloutAborted" ||
      c->reason == "NewReplicaSetAvailable") {
    return nullptr;
  }
  return c;
}

void checkProgressDeadline(PassBase& p, bool counts) {
  const Condition* clock = deadlineClock(p);
  if (!clock || !counts || madeProgress(p.rollout.status, p.status)) return;
  const bool expired = clock->reason == "ProgressDeadlineExceeded" ||
                       p.now > clock->lastUpdateTime + Duration{p.spec.progressDeadlineSeconds};
  if (!expired) return;
  p.timedOut = true;
  if (p.spec.progressDeadlineAbort && !p.promoted()) {
    abortWith(p, "ReplicaSet " + p.newRSName() + " has timed out progressing");
  }
}

int abortedScaleDown(PassBase& p, const ReplicaSetView& rs, int delay, std::optional<Time>& deadline) {
  deadline = rs.scaleDownDeadline;
  if (delay == 0 || rs.specReplicas == 0) return rs.specReplicas;
  if (rs.scaleDownDeadline) {
    if (p.now >= *rs.scaleDownDeadline) {
      deadline.reset();
      return 0;
    }
    p.requeueIn(*rs.scaleDownDeadline - p.now);
    return rs.specReplicas;
  }
  const bool stableFull = p.stableRS && p.stableRS->availableReplicas >= p.spec.replicas;
  if (stableFull) {
    deadline = p.now + Duration{delay};
    p.requeueIn(Duration{delay});
  }
  return rs.specReplicas;
}

// revisionHistoryLimit: old ReplicaSets with no pods left, beyond the limit, oldest first.
void cleanUpHistory(PassBase& p) {
  std::vector<const ReplicaSetView*> idle;
  for (const auto& rs : p.oldRSs) {
    if (rs.specReplicas == 0 && rs.replicas == 0 && !rs.scaleDownDeadline) idle.push_back(&rs);
  }
  const int excess = static_cast<int>(idle.size()) - std::max(0, p.spec.revisionHistoryLimit);
  for (int i = 0; i < excess; ++i) p.actions.push_back(DeleteReplicaSet{idle[i]->name});
}

// The pod-template hash a Service selects now ("" when it selects no revision yet), as observed.
std::string selectedBy(const PassBase& p, const std::string& service) {
  const auto it = p.observed.serviceSelectors.find(service);
  return it == p.observed.serviceSelectors.end() ? std::string() : it->second;
}

void syncProgressingCondition(PassBase& p, bool completed) {
  RolloutStatus& s = p.status;
  const std::string rs = "\"" + p.newRSName() + "\"";
  const Condition* prior = p.rollout.status.condition("Progressing");
  auto set = [&](const char* value, const char* reason, const std::string& message, bool touch = false) {
    setCondition(s, "Progressing", value, reason, message, p.now, touch);
  };
  if (s.abort) {
    if (prior && prior->reason == "RolloutAborted") return;
    std::string message = "Rollout aborted update to revision " + std::to_string(p.newRevision);
    if (!p.abortWhy.empty()) message += ": " + p.abortWhy;
    set("False", "RolloutAborted", message);
  } else if (p.spec.paused || !s.pauseConditions.empty()) {
    set("Unknown", "RolloutPaused", "Rollout is paused");
  } else if (p.retried) {
    set("Unknown", "RolloutRetry", "Retrying Rollout after abort");
  } else if (completed) {
    set("True", "NewReplicaSetAvailable", "ReplicaSet " + rs + " has successfully progressed.");
  } else if (p.createdNewRS) {
    set("True", "NewReplicaSetCreated", "Created new replica set " + rs);
  } else if (madeProgress(p.rollout.status, s)) {
    set("True", "ReplicaSetUpdated", "ReplicaSet " + rs + " is progressing.", true);
  } else if (prior && prior->reason == "RolloutPaused") {
    set("Unknown", "RolloutResumed", "Rollout is resumed");
  } else if (p.timedOut) {
    set("False", "ProgressDeadlineExceeded", "ReplicaSet " + rs + " has timed out progressing.");
  } else if (!prior) {
    set("True", "FoundNewReplicaSet", "Found new replica set " + rs);
  }
}

void syncPausedCondition(PassBase& p) {
  RolloutStatus& s = p.status;
  const Condition* prior = p.rollout.status.condition("Paused");
  const bool wasPaused = prior && prior->status == "True";
  const bool paused = p.spec.paused || !s.pauseConditions.empty();
  if (paused) {
    setCondition(s, "Paused", "True", "RolloutPaused", "Rollout is paused", p.now);
    if (!wasPaused) {
      const std::string why = p.spec.paused ? "manually paused" : s.pauseConditions.front().reason;
      p.event("Normal", "RolloutPaused", "Rollout is paused (" + why + ")");
    }
  } else if (prior) {
    setCondition(s, "Paused", "False", "RolloutPaused", "Rollout is resumed", p.now);
    if (wasPaused) p.event("Normal", "RolloutResumed", "Rollout is resumed");
  }
}

void syncStatus(PassBase& p, const StatusRules& rules) {
  RolloutStatus& s = p.status;
  // The spec parsed and the world was read, so a reconcile that marked the spec invalid or the traffic
  // router failing before is answered: the condition goes.
  std::erase_if(s.conditions, [](const Condition& c) {
    return c.type == "InvalidSpec" || c.type == kTrafficRoutingErrorCondition;
  });
  sumReplicaCounts(p);
  s.observedGeneration = std::to_string(p.rollout.metadata.generation);
  s.selector = selectorString(p.spec.selector);
  if (s.pauseConditions.empty()) s.controllerPause = false;

  syncProgressingCondition(p, rules.completed());
  const bool available = rules.available();
  setCondition(s, "Available", available ? "True" : "False", "AvailableReason",
               available ? "Rollout has minimum availability" : "Rollout does not have minimum availability",
               p.now);
  syncPausedCondition(p);
  const bool done = s.stableRS == s.currentPodHash;
  setCondition(s, "Completed", done ? "True" : "False", "RolloutCompleted",
               done ? "Rollout is completed" : "Rollout is not completed", p.now);

  const PhaseAndMessage phase = calculatePhase(p.spec, s);
  s.phase = phase.phase;
  s.message = phase.message;
  const bool healthy = phase.phase == "Healthy";
  setCondition(s, "Healthy", healthy ? "True" : "False", "RolloutHealthy",
               healthy ? "Rollout is healthy" : "Rollout is not healthy", p.now);

  const Condition* progressing = s.condition("Progressing");
  const bool clockRuns = progressing && progressing->reason != "ProgressDeadlineExceeded" &&
                         progressing->reason != "RolloutPaused" && progressing->reason != "RolloutAborted";
  if (clockRuns && rules.deadlineCounts()) {
    p.requeueIn(progressing->lastUpdateTime + Duration{p.spec.progressDeadlineSeconds} - p.now + Duration{1});
  }
}

// spec.workloadRef's scaleDown: the Deployment the Rollout took over steps aside. onsuccess: to 0 once the
// Rollout is Healthy. progressively: during the first revision (the migration) it keeps what the Rollout
// does not yet have available (spec.replicas minus the Rollout's available pods), so the two together
// serve the full count, and it comes back up if the Rollout's pods fail; at Healthy, 0. After the
// migration a Deployment someone scales up by hand is left alone until the Rollout is next Healthy.
void reconcileWorkload(PassBase& p) {
  if (!p.spec.workloadRef || !p.observed.workload) return;
  const WorkloadRef& ref = *p.spec.workloadRef;
  const WorkloadState& workload = *p.observed.workload;
  p.status.workloadObservedGeneration = std::to_string(workload.generation);
  std::optional<int> target;
  const bool healthy = p.status.phase == "Healthy";
  switch (ref.scaleDown) {
    case WorkloadScaleDown::Never:
      break;
    case WorkloadScaleDown::OnSuccess:
      if (healthy) target = 0;
      break;
    case WorkloadScaleDown::Progressively:
      if (healthy) {
        target = 0;
      } else if (p.newRevision == 1) {
        target = std::max(
            0, p.spec.replicas - saturatedSum(p.observed.replicaSets, &ReplicaSetView::availableReplicas));
      }
      break;
  }
  if (!target || *target == workload.replicas) return;
  p.actions.push_back(ScaleWorkload{ref.kind, ref.name, workload.replicas, *target});
  p.event("Normal", "ScalingWorkload",
          "Scaled " + ref.kind + " " + ref.name + " from " + std::to_string(workload.replicas) + " to " +
              std::to_string(*target) + " (workloadRef.scaleDown: " + workloadScaleDownName(ref.scaleDown) +
              ")");
}

// A ReplicaSet of another owner holds the name the new one would get (a Deployment of the Rollout's name
// with the same template, as a workloadRef has): count a collision and hash again, until the name is
// free or is the Rollout's own ReplicaSet of that hash.
void avoidForeignName(PassBase& p) {
  const auto ours = [&](const std::string& hash) {
    return std::any_of(p.observed.replicaSets.begin(), p.observed.replicaSets.end(),
                       [&](const ReplicaSetView& rs) { return rs.podTemplateHash == hash; });
  };
  std::set<std::string> abandoned;
  for (int tries = 0;
       tries < 64 && !ours(p.newHash) && p.observed.foreignReplicaSetNames.count(p.newRSName()); ++tries) {
    abandoned.insert(p.newHash);
    ++p.status.collisionCount;
    p.newHash = podTemplateHash(p.spec.podTemplate, p.status.collisionCount);
  }
  // A first deploy recorded its stable hash in the pass that found the name taken: that ReplicaSet was
  // never the Rollout's, the one under the new hash is.
  if (abandoned.count(p.status.stableRS) && !ours(p.status.stableRS)) p.status.stableRS = p.newHash;
}

int64_t nextRevision(const PassBase& p) {
  int64_t own = 0;
  int64_t highestOther = 0;
  for (const auto& rs : p.observed.replicaSets) {
    if (rs.podTemplateHash == p.newHash) {
      own = rs.revision;
    } else {
      highestOther = std::max(highestOther, rs.revision);
    }
  }
  return std::max(own, highestOther + 1);
}

void syncNewReplicaSet(PassBase& p) {
  if (!p.newRS || p.createdNewRS) return;
  ScaleReplicaSet update;
  update.name = p.newRS->name;
  update.replicas = p.newRS->specReplicas;
  if (p.newRS->revision != p.newRevision) update.revision = p.newRevision;
  if (p.newRS->minReadySeconds != p.spec.minReadySeconds) update.minReadySeconds = p.spec.minReadySeconds;
  if (!update.revision && !update.minReadySeconds) return;
  p.actions.push_back(std::move(update));
  p.newRS->revision = p.newRevision;
  p.newRS->minReadySeconds = p.spec.minReadySeconds;
}

}  // namespace detail
}  // namespace sluice::engine
