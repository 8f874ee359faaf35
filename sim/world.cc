// The simulated world: pods that take `readiness` to come up (or what their template's annotations say) and
// go at once, runs that end as scripted.
#include "sim/world.h"

#include <algorithm>
#include <iterator>

#include "base/pod_behaviour.h"
#include "engine/experiment_json.h"
#include "shell/rollout_document.h"

namespace sluice::sim {

namespace {

using analysis::Phase;

// When the pods of a crash-looping template become ready: after every instant a simulation reaches.
constexpr Time kNeverReady = Time::max();

// Failed and Error end a scripted run as soon as they are reached; other outcomes wait for every template.
bool endsRunAtOnce(Phase phase) {
  return analysis::phaseSeverity(phase) >= analysis::phaseSeverity(Phase::Error);
}

Phase outcomePhase(const AnalysisOutcome& outcome) {
  auto phase = analysis::phaseFromName(outcome.phase);  // the scenario loader accepted only valid names
  return phase ? *phase : Phase::Error;
}

}  // namespace

int SimReplicaSet::podCount() const {
  int n = 0;
  for (const auto& c : pods) n += c.count;
  return n;
}

int SimReplicaSet::createdBefore(Time t) const {
  int n = 0;
  for (const auto& c : pods) {
    if (c.createdAt < t) n += c.count;
  }
  return n;
}

int SimReplicaSet::readyAt(Time now) const {
  int n = 0;
  for (const auto& c : pods) {
    if (c.readyAt > now) break;
    n += c.count;
  }
  return n;
}

int SimReplicaSet::availableAt(Time now) const { return readyAt(now - Duration{minReadySeconds}); }

SimulatedWorld::SimulatedWorld(Duration readiness, std::map<std::string, AnalysisOutcome> outcomes,
                               std::vector<analysis::AnalysisTemplate> templates, analysis::Provider* metrics)
    : readiness_(readiness),
      outcomes_(std::move(outcomes)),
      templates_(std::move(templates)),
      metrics_(metrics) {}

const analysis::AnalysisTemplate* SimulatedWorld::findTemplate(const std::string& name, bool clusterScope) {
  for (const auto& t : templates_) {
    if (t.metadata.name == name && t.clusterScoped() == clusterScope) return &t;
  }
  return nullptr;
}

Status SimulatedWorld::writeStatus(shell::RolloutDocument& rollout, nlohmann::json status, Time /*now*/) {
  rollout.setStatus(std::move(status));
  return Status::Ok();
}

bool SimulatedWorld::advance(SimAnalysisRun& run, Time now) {
  if (!run.driver || run.driver->completed()) return false;
  const analysis::Phase before = run.driver->status().phase;
  run.nextCheck = run.driver->advance(now);
  return run.driver->status().phase != before;
}

bool SimulatedWorld::advanceRuns(Time now) {
  bool changed = false;
  for (auto& run : runs_) {
    if (run.nextCheck && *run.nextCheck <= now) changed = advance(run, now) || changed;
  }
  return changed;
}

SimReplicaSet* SimulatedWorld::findReplicaSet(const std::string& name) {
  for (auto& rs : replicaSets_) {
    if (rs.name == name) return &rs;
  }
  return nullptr;
}

const SimReplicaSet* SimulatedWorld::replicaSet(const std::string& podTemplateHash) const {
  for (const auto& rs : replicaSets_) {
    if (rs.podTemplateHash == podTemplateHash && rs.experiment.empty()) return &rs;
  }
  return nullptr;
}

bool SimulatedWorld::scale(SimReplicaSet& rs, int replicas, Time now) {
  replicas = std::max(replicas, 0);
  if (rs.specReplicas == replicas) return false;
  rs.specReplicas = replicas;
  // Scaling down removes the pods that are furthest from ready first, as the ReplicaSet controller
  // prefers unready pods; the cohorts are sorted, so those are at the back.
  int excess = rs.podCount() - replicas;
  while (excess > 0 && !rs.pods.empty()) {
    PodCohort& last = rs.pods.back();
    const int removed = std::min(excess, last.count);
    last.count -= removed;
    excess -= removed;
    if (last.count == 0) rs.pods.pop_back();
  }
  if (excess < 0) addPods(rs, -excess, now);
  return true;
}

void SimulatedWorld::addPods(SimReplicaSet& rs, int count, Time now) {
  const Time readyAt = rs.readiness ? now + *rs.readiness : kNeverReady;
  const auto at = std::upper_bound(rs.pods.begin(), rs.pods.end(), readyAt,
                                   [](Time t, const PodCohort& c) { return t < c.readyAt; });
  if (at != rs.pods.begin() && std::prev(at)->readyAt == readyAt && std::prev(at)->createdAt == now) {
    std::prev(at)->count += count;
  } else {
    rs.pods.insert(at, PodCohort{readyAt, count, now});
  }
}

bool SimulatedWorld::restartPods(SimReplicaSet& rs, int count, Time restartAt, Time now) {
  int evicted = 0;
  while (evicted < count) {
    // The oldest cohort still created before restartAt; cohorts are few (one per scaling instant).
    auto oldest = rs.pods.end();
    for (auto it = rs.pods.begin(); it != rs.pods.end(); ++it) {
      if (it->createdAt < restartAt && (oldest == rs.pods.end() || it->createdAt < oldest->createdAt))
        oldest = it;
    }
    if (oldest == rs.pods.end()) break;
    const int taken = std::min(count - evicted, oldest->count);
    oldest->count -= taken;
    evicted += taken;
    if (oldest->count == 0) rs.pods.erase(oldest);
  }
  if (evicted > 0) addPods(rs, evicted, now);
  return evicted > 0;
}

Result<std::optional<engine::WorkloadView>> SimulatedWorld::workload(const engine::WorkloadRef& ref) {
  if (!workload_ || workload_->value(nlohmann::json::json_pointer("/metadata/name"), "") != ref.name)
    return std::optional<engine::WorkloadView>();
  return std::optional<engine::WorkloadView>(engine::workloadViewOf(*workload_));
}

Result<bool> SimulatedWorld::apply(const engine::Action& action, Time now) {
  struct Visitor {
    SimulatedWorld& w;
    Time now;
    bool operator()(const engine::CreateReplicaSet& a) {
      if (w.findReplicaSet(a.name)) return false;  // AlreadyExists: the cluster keeps the one it has
      SimReplicaSet rs;
      rs.name = a.name;
      rs.podTemplateHash = a.podTemplateHash;
      rs.revision = a.revision;
      rs.podTemplate = a.podTemplate;
      rs.podMetadata = a.podMetadata;
      rs.experiment = w.owner_;
      rs.minReadySeconds = std::max(a.minReadySeconds, 0);
      rs.createdAt = now;
      const PodBehaviour pods = podBehaviour(a.podTemplate, w.readiness_);
      if (!pods.crashLoop)
        rs.readiness = std::chrono::ceil<Duration>(std::max(pods.readyAfter, std::chrono::milliseconds(0)));
      w.scale(rs, a.replicas, now);
      w.replicaSets_.push_back(std::move(rs));
      return true;
    }
    bool operator()(const engine::ScaleReplicaSet& a) {
      SimReplicaSet* rs = w.findReplicaSet(a.name);
      if (!rs) return false;
      bool changed = w.scale(*rs, a.replicas, now);
      if (a.revision && rs->revision != *a.revision) {
        rs->revision = *a.revision;
        changed = true;
      }
      if (a.minReadySeconds && rs->minReadySeconds != std::max(*a.minReadySeconds, 0)) {
        rs->minReadySeconds = std::max(*a.minReadySeconds, 0);
        changed = true;
      }
      if (a.deadlineChange == engine::DeadlineChange::Set && rs->scaleDownDeadline != a.scaleDownDeadline) {
        rs->scaleDownDeadline = a.scaleDownDeadline;
        changed = true;
      }
      if (a.deadlineChange == engine::DeadlineChange::Clear && rs->scaleDownDeadline) {
        rs->scaleDownDeadline.reset();
        changed = true;
      }
      return changed;
    }
    bool operator()(const engine::SetPodMetadata& a) {
      SimReplicaSet* rs = w.findReplicaSet(a.replicaSet);
      if (!rs || rs->podMetadata == a.to) return false;
      rs->podMetadata = a.to;
      return true;
    }
    bool operator()(const engine::DeleteReplicaSet& a) {
      auto& sets = w.replicaSets_;
      const auto before = sets.size();
      sets.erase(std::remove_if(sets.begin(), sets.end(), [&](const auto& rs) { return rs.name == a.name; }),
                 sets.end());
      return sets.size() != before;
    }
    bool operator()(const engine::SetTrafficWeight& a) {
      const TrafficInForce next = engine::splitOf(a);
      if (w.traffic_ == next) return false;
      w.traffic_ = next;
      return true;
    }
    bool operator()(const engine::SetServiceSelector& a) {
      auto& current = w.serviceSelectors_[a.service];
      if (current == a.podTemplateHash) return false;
      current = a.podTemplateHash;
      return true;
    }
    bool operator()(const engine::SetHeaderRoute& a) {
      if (a.route.match.empty()) return w.managedRoutes_.erase(a.route.name) > 0;
      return w.managedRoutes_.insert(a.route.name).second;
    }
    bool operator()(const engine::SetMirrorRoute& a) { return w.managedRoutes_.insert(a.route.name).second; }
    bool operator()(const engine::RemoveManagedRoutes&) {
      const bool had = !w.managedRoutes_.empty();
      w.managedRoutes_.clear();
      return had;
    }
    bool operator()(const engine::CreateAnalysisRun&) { return false; }  // createAnalysisRun()
    bool operator()(const engine::TerminateAnalysisRun& a) {
      for (auto& run : w.runs_) {
        if (run.name == a.name && !run.terminatedAt) {
          run.terminatedAt = now;
          if (run.driver) {
            run.driver->terminate();
            SimulatedWorld::advance(run, now);
          }
          return true;
        }
      }
      return false;
    }
    bool operator()(const engine::DeleteAnalysisRun& a) {
      for (auto& run : w.runs_) {
        if (run.name == a.name && !run.deleted) {
          run.deleted = true;
          return true;
        }
      }
      return false;
    }
    bool operator()(const engine::RestartPods& a) {
      SimReplicaSet* rs = w.findReplicaSet(a.replicaSet);
      return rs && SimulatedWorld::restartPods(*rs, a.count, a.restartAt, now);
    }
    bool operator()(const engine::ScaleWorkload& a) {
      nlohmann::json* deployment = w.workloadObject();
      if (!deployment || deployment->value(nlohmann::json::json_pointer("/metadata/name"), "") != a.name)
        return false;
      nlohmann::json& replicas = (*deployment)["spec"]["replicas"];
      if (replicas == a.replicas) return false;
      replicas = a.replicas;
      // A change of spec gives a new generation, as the API server gives it.
      nlohmann::json& generation = (*deployment)["metadata"]["generation"];
      generation = generation.is_number_integer() ? generation.get<int64_t>() + 1 : int64_t{1};
      return true;
    }
    // The simulated world holds only the Rollout's own ReplicaSets: none of Argo Rollouts' to adopt.
    bool operator()(const engine::AdoptReplicaSet&) { return false; }
    bool operator()(const engine::CreateExperiment& a) {
      const std::string& name = a.experiment.metadata.name;
      for (const auto& e : w.experiments_) {
        if (e.object["metadata"].value("name", "") == name) return false;  // AlreadyExists
      }
      w.experiments_.push_back(SimExperiment{engine::experimentToJson(a.experiment), a.stepIndex, now, now});
      return true;
    }
    bool operator()(const engine::DeleteExperiment& a) {
      auto& all = w.experiments_;
      // Its templates' Services go with it (garbage collection), as its ReplicaSets and runs do below.
      for (const auto& e : all) {
        if (e.object["metadata"].value("name", "") != a.name) continue;
        const auto status =
            engine::experimentStatusFromJson(e.object.value("status", nlohmann::json::object()));
        for (const auto& t : status ? status->templateStatuses : std::vector<engine::TemplateStatus>())
          if (!t.serviceName.empty()) w.createdServices_.erase(t.serviceName);
      }
      const auto before = all.size();
      std::erase_if(all,
                    [&](const SimExperiment& e) { return e.object["metadata"].value("name", "") == a.name; });
      if (all.size() == before) return false;
      // What it owned goes with it (garbage collection); its runs stay in the report.
      std::erase_if(w.replicaSets_, [&](const SimReplicaSet& rs) { return rs.experiment == a.name; });
      for (auto& run : w.runs_) run.deleted = run.deleted || run.experiment == a.name;
      return true;
    }
    // An Experiment template's Service: kept for the data plane (spec.traffic) to route through.
    bool operator()(const engine::CreateService& a) { return w.createdServices_.emplace(a.name, a).second; }
    bool operator()(const engine::DeleteService& a) { return w.createdServices_.erase(a.name) > 0; }
    bool operator()(const engine::TerminateExperiment& a) {
      for (auto& e : w.experiments_) {
        if (e.object["metadata"].value("name", "") != a.name || e.object["spec"].value("terminate", false))
          continue;
        e.object["spec"]["terminate"] = true;
        e.nextCheck = now;
        return true;
      }
      return false;
    }
    bool operator()(const engine::EmitEvent& a) {
      if (!w.owner_.empty()) return false;  // an Experiment's events are not the Rollout's timeline
      w.events_.push_back(WorldEvent{now, a.type, a.reason, a.message});
      return false;
    }
  };
  return std::visit(Visitor{*this, now}, action);
}

Result<bool> SimulatedWorld::createAnalysisRun(const engine::CreateAnalysisRun& a,
                                               const Result<analysis::AnalysisRunSpec>& spec, Time now) {
  for (const auto& run : runs_) {
    if (run.name == a.name && !run.deleted) return false;  // AlreadyExists: the cluster keeps the one it has
  }
  SimAnalysisRun run;
  run.name = a.name;
  run.type = a.type;
  run.stepIndex = a.stepIndex;
  run.podTemplateHash = a.podTemplateHash;
  run.experiment = owner_;
  for (const auto& t : a.analysis.templates) run.templates.push_back(t.templateName);
  run.createdAt = now;
  // A run is real when any of its templates was given; one whose templates are all scripted follows
  // the scenario's outcomes.
  const bool real = metrics_ && std::any_of(a.analysis.templates.begin(), a.analysis.templates.end(),
                                            [&](const engine::AnalysisTemplateRef& ref) {
                                              return findTemplate(ref.templateName, ref.clusterScope);
                                            });
  if (real) {
    auto secrets = spec ? analysis::readSecretArgs(
                              spec->args,
                              [&](const std::string& name) -> const nlohmann::json* {
                                for (const auto& s : secrets_) {
                                  if (s.value(nlohmann::json::json_pointer("/metadata/name"), "") == name)
                                    return &s;
                                }
                                return nullptr;
                              })
                        : Result<analysis::SecretValues>(analysis::SecretValues{});
    if (spec && !secrets) {
      run.startError = secrets.error() + " in the input files";
    } else if (spec) {
      run.driver = std::make_shared<analysis::RunDriver>(*spec, *metrics_, std::move(*secrets), conditions_);
    } else {
      run.startError = spec.error();
    }
  }
  // The AnalysisRun controller measures a new run at once (its initialDelay counts from now).
  SimulatedWorld::advance(run, now);
  runs_.push_back(std::move(run));
  return true;
}

RunState SimulatedWorld::runState(const SimAnalysisRun& run, Time now) const {
  if (!run.startError.empty()) return RunState{Phase::Error, run.startError, run.createdAt};
  if (run.driver) {
    const analysis::AnalysisRunStatus& s = run.driver->status();
    if (!analysis::phaseCompleted(s.phase)) return RunState{Phase::Running, s.message, std::nullopt};
    (void)now;  // a real run's status is always as of its last advance, which the loop keeps at now
    return RunState{s.phase, s.message, s.completedAt};
  }
  // A terminated run stops where it was: what had ended by then counts, the rest never will.
  const Time horizon = run.terminatedAt ? std::min(now, *run.terminatedAt) : now;
  RunState worst{Phase::Successful, "", std::nullopt};
  bool allEnded = !run.templates.empty();
  Time lastEnd = run.createdAt;
  for (const auto& name : run.templates) {
    auto it = outcomes_.find(name);
    if (it == outcomes_.end() || run.createdAt + it->second.after > horizon) {
      allEnded = false;
      continue;
    }
    const AnalysisOutcome& o = it->second;
    const Phase phase = outcomePhase(o);
    const Time end = run.createdAt + o.after;
    const std::string message = o.message.empty() ? "template " + name + " assessed " + o.phase : o.message;
    const int severity = analysis::phaseSeverity(phase);
    const int worstSeverity = analysis::phaseSeverity(worst.phase);
    if (endsRunAtOnce(phase)) {
      if (severity > worstSeverity || (worst.endedAt && end < *worst.endedAt && severity == worstSeverity)) {
        worst = RunState{phase, message, end};
      }
      continue;
    }
    lastEnd = std::max(lastEnd, end);
    if (severity > worstSeverity || worst.message.empty()) {
      worst = RunState{severity > worstSeverity ? phase : worst.phase, message, std::nullopt};
    }
  }
  if (endsRunAtOnce(worst.phase)) return worst;
  if (allEnded) {
    worst.endedAt = lastEnd;
    if (worst.message.empty()) worst.message = "all templates assessed Successful";
    return worst;
  }
  if (run.terminatedAt && now >= *run.terminatedAt)
    return RunState{Phase::Successful, "run terminated", run.terminatedAt};
  return RunState{Phase::Running, "", std::nullopt};
}

engine::ReplicaSetView SimulatedWorld::replicaSetView(const SimReplicaSet& rs, Time now,
                                                      std::optional<Time> restartAt) {
  engine::ReplicaSetView v;
  v.name = rs.name;
  v.podTemplateHash = rs.podTemplateHash;
  v.revision = rs.revision;
  v.specReplicas = rs.specReplicas;
  v.replicas = rs.podCount();
  v.readyReplicas = rs.readyAt(now);
  v.availableReplicas = rs.availableAt(now);
  v.minReadySeconds = rs.minReadySeconds;
  v.createdAt = rs.createdAt;
  v.scaleDownDeadline = rs.scaleDownDeadline;
  v.podMetadata = rs.podMetadata;
  // Evicted pods go at once here (no termination grace), so none is ever being deleted.
  if (restartAt)
    v.restartPods = engine::RestartPodCounts{rs.createdBefore(*restartAt), 0, v.availableReplicas};
  return v;
}

engine::Observed SimulatedWorld::observed(Time now, std::optional<Time> restartAt) const {
  engine::Observed out;
  out.replicaSets.reserve(replicaSets_.size());
  for (const auto& rs : replicaSets_) {
    if (!rs.experiment.empty()) continue;  // an Experiment's
    out.podTemplates[rs.podTemplateHash] = rs.podTemplate;
    out.replicaSets.push_back(replicaSetView(rs, now, restartAt));
  }
  out.serviceSelectors = serviceSelectors_;
  out.trafficWeights = traffic_;
  out.analysisRuns.reserve(runs_.size());
  for (const auto& e : experiments_) {
    engine::ExperimentView v;
    v.name = e.object["metadata"].value("name", "");
    v.podTemplateHash = e.object["metadata"]["labels"].value(engine::kPodTemplateHashLabel, "");
    v.stepIndex = e.stepIndex;
    const nlohmann::json status = e.object.value("status", nlohmann::json::object());
    if (auto phase = analysis::phaseFromName(status.value("phase", ""))) v.phase = *phase;
    v.message = status.value("message", "");
    v.terminate = e.object["spec"].value("terminate", false);
    v.createdAt = e.createdAt;
    if (auto parsed = engine::experimentStatusFromJson(status))
      v.templates = std::move(parsed->templateStatuses);
    out.experiments.push_back(std::move(v));
  }
  for (const auto& run : runs_) {
    if (run.deleted || !run.experiment.empty()) continue;
    engine::AnalysisRunView v;
    v.name = run.name;
    v.type = run.type;
    v.podTemplateHash = run.podTemplateHash;
    v.stepIndex = run.stepIndex;
    const RunState state = runState(run, now);
    v.phase = state.phase;
    v.message = state.message;
    v.terminated = run.terminatedAt.has_value();
    v.createdAt = run.createdAt;
    out.analysisRuns.push_back(std::move(v));
  }
  return out;
}

std::optional<Time> SimulatedWorld::nextChange(Time now) const {
  std::optional<Time> next;
  auto consider = [&](Time t) {
    if (t > now && (!next || t < *next)) next = t;
  };
  for (const auto& rs : replicaSets_) {
    const Duration minReady{rs.minReadySeconds};
    bool availableSeen = false;
    // The cohorts are sorted: the first not yet ready, and the first ready but not yet available.
    for (const auto& c : rs.pods) {
      if (c.readyAt == kNeverReady) break;
      if (c.readyAt > now) {
        consider(c.readyAt);
        break;
      }
      if (!availableSeen && c.readyAt + minReady > now) {
        consider(c.readyAt + minReady);
        availableSeen = true;
      }
    }
    if (rs.scaleDownDeadline) consider(*rs.scaleDownDeadline);
  }
  for (const auto& e : experiments_) {
    if (e.nextCheck) consider(*e.nextCheck);
  }
  for (const auto& run : runs_) {
    if (run.deleted) continue;
    if (run.nextCheck) consider(*run.nextCheck);
    if (run.terminatedAt || run.driver) continue;
    for (const auto& name : run.templates) {
      auto it = outcomes_.find(name);
      if (it != outcomes_.end()) consider(run.createdAt + it->second.after);
    }
  }
  return next;
}

// One Experiment's view of the world while the shell settles it: what it creates is its own.
class ExperimentScope final : public shell::ExperimentWorld {
 public:
  ExperimentScope(SimulatedWorld& world, const std::string& name) : world_(world), name_(name) {
    world_.owner_ = name;
  }
  ~ExperimentScope() override { world_.owner_.clear(); }

  Result<engine::ExperimentObserved> observeExperiment(Time now) override {
    engine::ExperimentObserved out;
    for (const auto& rs : world_.replicaSets_) {
      if (rs.experiment == name_)
        out.replicaSets.push_back(SimulatedWorld::replicaSetView(rs, now, std::nullopt));
    }
    for (const auto& run : world_.runs_) {
      if (run.deleted || run.experiment != name_) continue;
      engine::AnalysisRunView v;
      v.name = run.name;
      const RunState state = world_.runState(run, now);
      v.phase = state.phase;
      v.message = state.message;
      v.terminated = run.terminatedAt.has_value();
      v.createdAt = run.createdAt;
      out.analysisRuns.push_back(std::move(v));
    }
    return out;
  }
  Result<bool> apply(const engine::Action& action, Time now) override { return world_.apply(action, now); }
  Result<bool> createAnalysisRun(const engine::CreateAnalysisRun& action,
                                 const Result<analysis::AnalysisRunSpec>& spec, Time now) override {
    return world_.createAnalysisRun(action, spec, now);
  }
  const analysis::AnalysisTemplate* findTemplate(const std::string& name, bool clusterScope) override {
    return world_.findTemplate(name, clusterScope);
  }
  Status writeExperimentStatus(nlohmann::json& experiment, nlohmann::json status, Time /*now*/) override {
    experiment["status"] = std::move(status);
    return Status::Ok();
  }

 private:
  SimulatedWorld& world_;
  std::string name_;
};

Result<bool> SimulatedWorld::settleExperiments(Time now) {
  bool phaseChanged = false;
  for (auto& e : experiments_) {
    // Every Experiment at every instant the loop stops at: what would wake it on a cluster (its pods, its
    // runs, its Rollout's writes) all happen at such instants; settling one that nothing moved changes
    // nothing.
    const std::string name = e.object["metadata"].value("name", "");
    const nlohmann::json before =
        e.object.value(nlohmann::json::json_pointer("/status/phase"), nlohmann::json());
    ExperimentScope scope(*this, name);
    auto settled = shell::settleExperiment(e.object, scope, now);
    if (!settled) return Error{"Experiment " + name + ": " + settled.error().message};
    e.nextCheck = settled->requeueAfter ? std::optional<Time>(now + *settled->requeueAfter) : std::nullopt;
    phaseChanged = phaseChanged ||
                   e.object.value(nlohmann::json::json_pointer("/status/phase"), nlohmann::json()) != before;
  }
  return phaseChanged;
}

}  // namespace sluice::sim
