// A fake world for engine tests: it carries out reconcileRollout's actions at once (pods become available
// after a set number of calls, AnalysisRuns take their scripted phase) so whole plans run end to end.
#pragma once

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/canary.h"
#include "engine/steering.h"

namespace sluice::engine::testing {

inline Time t0() { return timeFromUnix(1'800'000'000); }

// Builds Rollouts for tests without the JSON parser.
struct RolloutBuilder {
  Rollout r;
  RolloutBuilder() {
    r.metadata.name = "web";
    r.metadata.ns = "default";
    r.metadata.generation = 1;
    r.spec.selector = {{"matchLabels", {{"app", "web"}}}};
    image("web:1");
  }
  RolloutBuilder& replicas(int n) {
    r.spec.replicas = n;
    return *this;
  }
  RolloutBuilder& image(const std::string& img) {
    r.spec.podTemplate = {{"metadata", {{"labels", {{"app", "web"}}}}},
                          {"spec", {{"containers", {{{"name", "web"}, {"image", img}}}}}}};
    return *this;
  }
  RolloutBuilder& setWeight(int w) {
    r.spec.canary.steps.push_back({SetWeightStep{w}});
    return *this;
  }
  RolloutBuilder& pause() {
    r.spec.canary.steps.push_back({PauseStep{}});
    return *this;
  }
  RolloutBuilder& pause(int seconds) {
    r.spec.canary.steps.push_back({PauseStep{Duration{seconds}}});
    return *this;
  }
  RolloutBuilder& analysis(const std::string& templateName) {
    AnalysisStep step;
    step.analysis.templates.push_back({templateName, false});
    r.spec.canary.steps.push_back({step});
    return *this;
  }
  RolloutBuilder& canaryScale(std::optional<int> replicas, std::optional<int> weight, bool match = false) {
    r.spec.canary.steps.push_back({SetCanaryScaleStep{replicas, weight, match}});
    return *this;
  }
  RolloutBuilder& headerRoute(const std::string& name) {
    r.spec.canary.steps.push_back({SetHeaderRouteStep{name, {{"x-canary", "exact", "yes"}}}});
    return *this;
  }
  RolloutBuilder& services() {
    r.spec.canary.canaryService = "web-canary";
    r.spec.canary.stableService = "web-stable";
    return *this;
  }
  RolloutBuilder& nginx() {
    services();
    TrafficRouting tr;
    tr.nginx = NginxTrafficRouting{};
    tr.nginx->stableIngresses = {"web"};
    r.spec.canary.trafficRouting = tr;
    return *this;
  }
  RolloutBuilder& backgroundAnalysis(const std::string& templateName, int startingStep = 0) {
    BackgroundAnalysis bg;
    bg.templates.push_back({templateName, false});
    bg.startingStep = startingStep;
    r.spec.canary.analysis = bg;
    return *this;
  }
  Rollout build() const { return r; }
};

inline bool sameCondition(const Condition& a, const Condition& b) {
  return a.type == b.type && a.status == b.status && a.reason == b.reason && a.message == b.message &&
         a.lastUpdateTime == b.lastUpdateTime && a.lastTransitionTime == b.lastTransitionTime;
}
inline bool sameRun(const std::optional<AnalysisRunStatusRef>& a,
                    const std::optional<AnalysisRunStatusRef>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->name == b->name && a->status == b->status && a->message == b->message);
}
inline bool sameWeights(const std::optional<TrafficWeights>& a, const std::optional<TrafficWeights>& b) {
  if (a.has_value() != b.has_value()) return false;
  auto same = [](const WeightDestination& x, const WeightDestination& y) {
    return x.weight == y.weight && x.serviceName == y.serviceName && x.podTemplateHash == y.podTemplateHash;
  };
  return !a || (same(a->canary, b->canary) && same(a->stable, b->stable) && a->verified == b->verified);
}

// A one-line summary of the status, for failure messages.
inline std::string summary(const RolloutStatus& s) {
  std::string out = "phase=" + s.phase + " step=" + std::to_string(s.currentStepIndex.value_or(-1)) +
                    " stable=" + s.stableRS + " current=" + s.currentPodHash +
                    " pods=" + std::to_string(s.replicas) + "/" + std::to_string(s.updatedReplicas) + "/" +
                    std::to_string(s.availableReplicas) + " abort=" + std::to_string(s.abort) +
                    " pauses=" + std::to_string(s.pauseConditions.size()) +
                    " controllerPause=" + std::to_string(s.controllerPause);
  for (const auto& c : s.conditions) {
    out += " " + c.type + "=" + c.status + ":" + c.reason + "@" + std::to_string(toUnix(c.lastUpdateTime));
  }
  if (s.canary.weights) out += " weight=" + std::to_string(s.canary.weights->canary.weight);
  return out;
}

// Field by field: the status type has no equality of its own.
inline bool sameStatus(const RolloutStatus& a, const RolloutStatus& b) {
  if (a.conditions.size() != b.conditions.size() || a.pauseConditions.size() != b.pauseConditions.size())
    return false;
  for (size_t i = 0; i < a.conditions.size(); ++i) {
    if (!sameCondition(a.conditions[i], b.conditions[i])) return false;
  }
  for (size_t i = 0; i < a.pauseConditions.size(); ++i) {
    if (a.pauseConditions[i].reason != b.pauseConditions[i].reason ||
        a.pauseConditions[i].startTime != b.pauseConditions[i].startTime) {
      return false;
    }
  }
  return a.abort == b.abort && a.abortedAt == b.abortedAt && a.controllerPause == b.controllerPause &&
         a.currentPodHash == b.currentPodHash && a.currentStepHash == b.currentStepHash &&
         a.currentStepIndex == b.currentStepIndex && a.replicas == b.replicas &&
         a.updatedReplicas == b.updatedReplicas && a.readyReplicas == b.readyReplicas &&
         a.availableReplicas == b.availableReplicas && a.selector == b.selector &&
         a.collisionCount == b.collisionCount && a.observedGeneration == b.observedGeneration &&
         a.stableRS == b.stableRS && a.promoteFull == b.promoteFull && a.phase == b.phase &&
         a.message == b.message &&
         sameRun(a.canary.currentStepAnalysisRunStatus, b.canary.currentStepAnalysisRunStatus) &&
         sameRun(a.canary.currentBackgroundAnalysisRunStatus, b.canary.currentBackgroundAnalysisRunStatus) &&
         sameWeights(a.canary.weights, b.canary.weights) && a.blueGreen == b.blueGreen;
}

// Applies a merge patch's fields that steering writes onto the typed Rollout.
inline void applySteering(Rollout& r, const SteeringPatch& patch) {
  if (patch.spec.is_object()) r.spec.paused = patch.spec["spec"].value("paused", r.spec.paused);
  if (!patch.status.is_object()) return;
  const auto& s = patch.status["status"];
  if (s.contains("pauseConditions")) r.status.pauseConditions.clear();
  if (s.contains("controllerPause")) r.status.controllerPause = s["controllerPause"].get<bool>();
  if (s.contains("currentStepIndex")) r.status.currentStepIndex = s["currentStepIndex"].get<int>();
  if (s.contains("abort")) r.status.abort = s["abort"].get<bool>();
  if (s.contains("promoteFull")) r.status.promoteFull = s["promoteFull"].get<bool>();
}

struct FakeWorld {
  Rollout rollout;
  Observed observed;
  Time now = t0();
  int readyAfterCalls = 0;  // calls until a ReplicaSet's new pods are available; -1: never
  // The phase a new AnalysisRun ends in: by type and step index (nullopt for background runs).
  std::function<analysis::Phase(AnalysisRunType, std::optional<int>)> runPhase = [](auto, auto) {
    return analysis::Phase::Successful;
  };
  bool routerFails = false;  // SetTrafficWeight is asked for but never comes into force
  // The phase a new Experiment has (a test moves it on through experiment()).
  analysis::Phase experimentPhase = analysis::Phase::Running;
  std::vector<Experiment> createdExperiments;
  std::vector<EmitEvent> events;
  std::vector<Action> actions;              // everything carried out, in order
  std::vector<int> weights;                 // every SetTrafficWeight canary weight, in order
  std::vector<int> workloadScales;          // every ScaleWorkload's replicas, in order
  std::map<std::string, int> pendingCalls;  // ReplicaSet -> calls until its pods are available
  Decision last;
  // Called after every reconcile with the status it was given and its decision (for invariants).
  std::function<void(const Rollout& before, const Decision&)> afterCall;

  explicit FakeWorld(Rollout r) : rollout(std::move(r)) {}

  ReplicaSetView* rs(const std::string& name) {
    for (auto& r : observed.replicaSets) {
      if (r.name == name) return &r;
    }
    return nullptr;
  }
  ReplicaSetView* rsByHash(const std::string& hash) {
    for (auto& r : observed.replicaSets) {
      if (r.podTemplateHash == hash) return &r;
    }
    return nullptr;
  }
  ExperimentView* experiment(const std::string& name) {
    for (auto& e : observed.experiments) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }
  AnalysisRunView* run(const std::string& name) {
    for (auto& r : observed.analysisRuns) {
      if (r.name == name) return &r;
    }
    return nullptr;
  }

  void resize(ReplicaSetView& r, int replicas) {
    r.specReplicas = replicas;
    r.replicas = replicas;
    r.readyReplicas = std::min(r.readyReplicas, replicas);
    r.availableReplicas = std::min(r.availableReplicas, replicas);
    pendingCalls[r.name] = std::max(0, readyAfterCalls);
    if (readyAfterCalls == 0) r.readyReplicas = r.availableReplicas = replicas;
  }

  void apply(const Action& action) {
    actions.push_back(action);
    if (const auto* c = std::get_if<CreateReplicaSet>(&action)) {
      ReplicaSetView r;
      r.name = c->name;
      r.podTemplateHash = c->podTemplateHash;
      r.revision = c->revision;
      r.podMetadata = c->podMetadata;
      r.minReadySeconds = c->minReadySeconds;
      r.createdAt = now;
      observed.replicaSets.push_back(r);
      observed.podTemplates[c->podTemplateHash] = c->podTemplate;
      resize(observed.replicaSets.back(), c->replicas);
    } else if (const auto* s = std::get_if<ScaleReplicaSet>(&action)) {
      ReplicaSetView* r = rs(s->name);
      REQUIRE(r != nullptr);
      if (s->deadlineChange == DeadlineChange::Set) r->scaleDownDeadline = s->scaleDownDeadline;
      if (s->deadlineChange == DeadlineChange::Clear) r->scaleDownDeadline.reset();
      if (s->revision) r->revision = *s->revision;
      if (s->minReadySeconds) r->minReadySeconds = *s->minReadySeconds;
      if (s->replicas != r->specReplicas) resize(*r, s->replicas);
    } else if (const auto* m = std::get_if<SetPodMetadata>(&action)) {
      ReplicaSetView* r = rs(m->replicaSet);
      REQUIRE(r != nullptr);
      CHECK(r->podMetadata == m->from);  // the engine removes what the ReplicaSet really carries
      r->podMetadata = m->to;
    } else if (const auto* d = std::get_if<DeleteReplicaSet>(&action)) {
      std::erase_if(observed.replicaSets, [&](const ReplicaSetView& r) { return r.name == d->name; });
    } else if (const auto* w = std::get_if<SetTrafficWeight>(&action)) {
      weights.push_back(w->canaryWeight);
      if (!routerFails) observed.trafficWeights = splitOf(*w);
    } else if (const auto* sel = std::get_if<SetServiceSelector>(&action)) {
      observed.serviceSelectors[sel->service] = sel->podTemplateHash;
    } else if (const auto* a = std::get_if<CreateAnalysisRun>(&action)) {
      REQUIRE(run(a->name) == nullptr);
      observed.analysisRuns.push_back({a->name, a->type, a->podTemplateHash, a->stepIndex,
                                       runPhase(a->type, a->stepIndex), "", false, now});
    } else if (const auto* t = std::get_if<TerminateAnalysisRun>(&action)) {
      AnalysisRunView* r = run(t->name);
      REQUIRE(r != nullptr);
      r->terminated = true;
    } else if (const auto* gone = std::get_if<DeleteAnalysisRun>(&action)) {
      REQUIRE(std::erase_if(observed.analysisRuns,
                            [&](const AnalysisRunView& r) { return r.name == gone->name; }) == 1);
    } else if (const auto* scale = std::get_if<ScaleWorkload>(&action)) {
      REQUIRE(observed.workload.has_value());
      CHECK(scale->from == observed.workload->replicas);
      workloadScales.push_back(scale->replicas);
      observed.workload->replicas = scale->replicas;
    } else if (const auto* ce = std::get_if<CreateExperiment>(&action)) {
      REQUIRE(experiment(ce->experiment.metadata.name) == nullptr);
      createdExperiments.push_back(ce->experiment);
      observed.experiments.push_back({ce->experiment.metadata.name,
                                      ce->experiment.metadata.labels.at(kPodTemplateHashLabel), ce->stepIndex,
                                      experimentPhase, "", false, now});
    } else if (const auto* de = std::get_if<DeleteExperiment>(&action)) {
      REQUIRE(std::erase_if(observed.experiments,
                            [&](const ExperimentView& e) { return e.name == de->name; }) == 1);
    } else if (const auto* te = std::get_if<TerminateExperiment>(&action)) {
      ExperimentView* e = experiment(te->name);
      REQUIRE(e != nullptr);
      e->terminate = true;
    } else if (const auto* e = std::get_if<EmitEvent>(&action)) {
      events.push_back(*e);
    } else if (const auto* adopt = std::get_if<AdoptReplicaSet>(&action)) {
      auto& from = observed.adoptableReplicaSets;
      const auto it = std::find_if(from.begin(), from.end(),
                                   [&](const ReplicaSetView& r) { return r.name == adopt->name; });
      REQUIRE(it != from.end());
      observed.replicaSets.push_back(*it);
      from.erase(it);
    }
  }

  // Pods that were waiting become available, one call closer each time.
  void tick() {
    for (auto& r : observed.replicaSets) {
      int& left = pendingCalls[r.name];
      if (left > 0 && --left == 0) r.readyReplicas = r.availableReplicas = r.replicas;
    }
  }

  // One reconcile, its actions carried out and its status written. True if anything changed.
  bool call() {
    last = reconcileRollout(rollout, observed, now);
    if (afterCall) afterCall(rollout, last);
    for (const auto& a : last.actions) apply(a);
    const bool changed = !last.actions.empty() || !sameStatus(last.status, rollout.status);
    rollout.status = last.status;
    tick();
    return changed || std::any_of(pendingCalls.begin(), pendingCalls.end(),
                                  [](const auto& kv) { return kv.second > 0; });
  }

  // Calls until nothing changes at this instant; fails the test if that takes more than `limit` calls.
  int settleLimit = 50;
  int settle() { return settle(settleLimit); }
  int settle(int limit) {
    for (int calls = 1; calls <= limit; ++calls) {
      if (!call()) return calls;
    }
    for (const auto& a : last.actions) {
      if (const auto* s = std::get_if<ScaleReplicaSet>(&a))
        UNSCOPED_INFO("still scaling " << s->name << " to " << s->replicas);
      else if (const auto* t = std::get_if<SetTrafficWeight>(&a))
        UNSCOPED_INFO("still setting weight " << t->canaryWeight);
      else if (const auto* e = std::get_if<EmitEvent>(&a))
        UNSCOPED_INFO("still emitting " << e->reason << ": " << e->message);
      else
        UNSCOPED_INFO("still doing action #" << a.index());
    }
    const RolloutStatus before = rollout.status;
    call();
    UNSCOPED_INFO("before: " << summary(before));
    UNSCOPED_INFO("after:  " << summary(rollout.status) << " (spec.paused=" << rollout.spec.paused << ")");
    FAIL("no fixed point after " << limit << " calls at t=" << toUnix(now) << " phase "
                                 << rollout.status.phase);
    return limit;
  }

  // Settles, then follows requeueAfter until `span` has passed or nothing is pending.
  void runFor(Duration span) {
    const Time end = now + span;
    for (;;) {
      settle();
      if (!last.requeueAfter || now + *last.requeueAfter > end) break;
      now += *last.requeueAfter;
    }
    now = std::max(now, end);
    settle();
  }

  void steer(Result<SteeringPatch> patch) {
    REQUIRE(patch.ok());
    applySteering(rollout, *patch);
  }
  void newImage(const std::string& img) {
    rollout.spec.podTemplate["spec"]["containers"][0]["image"] = img;
    rollout.metadata.generation++;
  }

  bool hasEvent(const std::string& reason, const std::string& messagePart = "") const {
    return std::any_of(events.begin(), events.end(), [&](const EmitEvent& e) {
      return e.reason == reason && e.message.find(messagePart) != std::string::npos;
    });
  }
  int specReplicasOf(const std::string& hash) {
    const ReplicaSetView* r = rsByHash(hash);
    return r ? r->specReplicas : 0;
  }
  const Condition* condition(const std::string& type) const { return rollout.status.condition(type); }
  // The ReplicaSet the last reconcile created, or nullptr.
  const CreateReplicaSet* lastCreated() const {
    const CreateReplicaSet* created = nullptr;
    for (const auto& a : last.actions) {
      if (const auto* c = std::get_if<CreateReplicaSet>(&a)) created = c;
    }
    return created;
  }
};

}  // namespace sluice::engine::testing
