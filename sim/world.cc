// The simulated world: pods that take `readiness` to come up and go at once, runs that end as scripted.
#include "sim/world.h"

#include <algorithm>

namespace sluice::sim {

namespace {

// Among the phases reached by a run's templates, the one the run takes: a failure ends the run at
// once, an inconclusive result only once every template has ended.
int severity(const std::string& phase) {
  if (phase == "Failed") return 3;
  if (phase == "Error") return 2;
  if (phase == "Inconclusive") return 1;
  return 0;
}

}  // namespace

int SimReplicaSet::readyAt(Time now) const {
  return static_cast<int>(std::upper_bound(podReadyAt.begin(), podReadyAt.end(), now) - podReadyAt.begin());
}

World::World(Duration readiness, std::map<std::string, AnalysisOutcome> outcomes, RunFactory runFactory)
    : readiness_(readiness), outcomes_(std::move(outcomes)), runFactory_(std::move(runFactory)) {}

bool World::advance(SimAnalysisRun& run, Time now) {
  if (!run.driver || run.driver->completed()) return false;
  const analysis::Phase before = run.driver->status().phase;
  run.nextCheck = run.driver->advance(now);
  return run.driver->status().phase != before;
}

bool World::advanceRuns(Time now) {
  bool changed = false;
  for (auto& run : runs_) {
    if (run.nextCheck && *run.nextCheck <= now) changed = advance(run, now) || changed;
  }
  return changed;
}

SimReplicaSet* World::findReplicaSet(const std::string& name) {
  for (auto& rs : replicaSets_) {
    if (rs.name == name) return &rs;
  }
  return nullptr;
}

const SimReplicaSet* World::replicaSet(const std::string& podTemplateHash) const {
  for (const auto& rs : replicaSets_) {
    if (rs.podTemplateHash == podTemplateHash) return &rs;
  }
  return nullptr;
}

bool World::scale(SimReplicaSet& rs, int replicas, Time now) {
  replicas = std::max(replicas, 0);
  if (rs.specReplicas == replicas) return false;
  rs.specReplicas = replicas;
  // Scaling down removes the pods that are furthest from ready first, as the ReplicaSet controller
  // prefers unready pods; the vector is sorted, so those are at the back.
  while (static_cast<int>(rs.podReadyAt.size()) > replicas) rs.podReadyAt.pop_back();
  while (static_cast<int>(rs.podReadyAt.size()) < replicas) rs.podReadyAt.push_back(now + readiness_);
  std::sort(rs.podReadyAt.begin(), rs.podReadyAt.end());
  return true;
}

bool World::apply(const engine::Action& action, Time now) {
  struct Visitor {
    World& w;
    Time now;
    bool operator()(const engine::CreateReplicaSet& a) {
      if (w.findReplicaSet(a.name)) return false;  // AlreadyExists: the cluster keeps the one it has
      SimReplicaSet rs;
      rs.name = a.name;
      rs.podTemplateHash = a.podTemplateHash;
      rs.revision = a.revision;
      w.scale(rs, a.replicas, now);
      w.replicaSets_.push_back(std::move(rs));
      return true;
    }
    bool operator()(const engine::ScaleReplicaSet& a) {
      SimReplicaSet* rs = w.findReplicaSet(a.name);
      if (!rs) return false;
      bool changed = w.scale(*rs, a.replicas, now);
      if (a.setScaleDownDeadline && rs->scaleDownDeadline != a.setScaleDownDeadline) {
        rs->scaleDownDeadline = a.setScaleDownDeadline;
        changed = true;
      }
      if (a.clearScaleDownDeadline && rs->scaleDownDeadline) {
        rs->scaleDownDeadline.reset();
        changed = true;
      }
      return changed;
    }
    bool operator()(const engine::DeleteReplicaSet& a) {
      auto& sets = w.replicaSets_;
      const auto before = sets.size();
      sets.erase(std::remove_if(sets.begin(), sets.end(), [&](const auto& rs) { return rs.name == a.name; }),
                 sets.end());
      return sets.size() != before;
    }
    bool operator()(const engine::SetTrafficWeight& a) {
      const TrafficInForce next{a.canaryWeight, a.stableWeight, a.canaryHash, a.stableHash};
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
    bool operator()(const engine::CreateAnalysisRun& a) {
      for (const auto& run : w.runs_) {
        if (run.name == a.name) return false;
      }
      SimAnalysisRun run;
      run.name = a.name;
      run.type = a.type;
      run.stepIndex = a.stepIndex;
      run.podTemplateHash = a.podTemplateHash;
      for (const auto& t : a.analysis.templates) run.templates.push_back(t.templateName);
      run.createdAt = now;
      if (w.runFactory_) {
        auto driver = w.runFactory_(a);
        if (driver) {
          run.driver = std::move(*driver);
        } else {
          run.startError = driver.error();
        }
      }
      // The AnalysisRun controller measures a new run at once (its initialDelay counts from now).
      World::advance(run, now);
      w.runs_.push_back(std::move(run));
      return true;
    }
    bool operator()(const engine::TerminateAnalysisRun& a) {
      for (auto& run : w.runs_) {
        if (run.name == a.name && !run.terminatedAt) {
          run.terminatedAt = now;
          if (run.driver) {
            run.driver->terminate();
            World::advance(run, now);
          }
          return true;
        }
      }
      return false;
    }
    bool operator()(const engine::EmitEvent& a) {
      w.events_.push_back(WorldEvent{now, a.type, a.reason, a.message});
      return false;
    }
  };
  return std::visit(Visitor{*this, now}, action);
}

RunState World::runState(const SimAnalysisRun& run, Time now) const {
  if (!run.startError.empty()) return RunState{"Error", run.startError, run.createdAt};
  if (run.driver) {
    const analysis::AnalysisRunStatus& s = run.driver->status();
    if (!analysis::phaseCompleted(s.phase)) return RunState{"Running", s.message, std::nullopt};
    (void)now;  // a real run's status is always as of its last advance, which the loop keeps at now
    return RunState{analysis::phaseName(s.phase), s.message, s.completedAt};
  }
  // A terminated run stops where it was: what had ended by then counts, the rest never will.
  const Time horizon = run.terminatedAt ? std::min(now, *run.terminatedAt) : now;
  RunState worst{"Successful", "", std::nullopt};
  bool allEnded = !run.templates.empty();
  Time lastEnd = run.createdAt;
  for (const auto& name : run.templates) {
    auto it = outcomes_.find(name);
    if (it == outcomes_.end() || run.createdAt + it->second.after > horizon) {
      allEnded = false;
      continue;
    }
    const AnalysisOutcome& o = it->second;
    const Time end = run.createdAt + o.after;
    const std::string message = o.message.empty() ? "template " + name + " assessed " + o.phase : o.message;
    if (severity(o.phase) >= 2) {
      // Failed and Error end the run as soon as they are reached.
      if (severity(o.phase) > severity(worst.phase) ||
          (worst.endedAt && end < *worst.endedAt && severity(o.phase) == severity(worst.phase))) {
        worst = RunState{o.phase, message, end};
      }
      continue;
    }
    lastEnd = std::max(lastEnd, end);
    if (severity(o.phase) > severity(worst.phase) || worst.message.empty()) {
      worst =
          RunState{severity(o.phase) > severity(worst.phase) ? o.phase : worst.phase, message, std::nullopt};
    }
  }
  if (severity(worst.phase) >= 2) return worst;
  if (allEnded) {
    worst.endedAt = lastEnd;
    if (worst.message.empty()) worst.message = "all templates assessed Successful";
    return worst;
  }
  if (run.terminatedAt && now >= *run.terminatedAt)
    return RunState{"Successful", "run terminated", run.terminatedAt};
  return RunState{"Running", "", std::nullopt};
}

engine::Observed World::observed(Time now) const {
  engine::Observed out;
  out.replicaSets.reserve(replicaSets_.size());
  for (const auto& rs : replicaSets_) {
    engine::ReplicaSetView v;
    v.name = rs.name;
    v.podTemplateHash = rs.podTemplateHash;
    v.revision = rs.revision;
    v.specReplicas = rs.specReplicas;
    v.replicas = static_cast<int>(rs.podReadyAt.size());
    v.readyReplicas = rs.readyAt(now);
    v.availableReplicas = v.readyReplicas;
    v.scaleDownDeadline = rs.scaleDownDeadline;
    out.replicaSets.push_back(std::move(v));
  }
  out.serviceSelectors = serviceSelectors_;
  out.analysisRuns.reserve(runs_.size());
  for (const auto& run : runs_) {
    engine::AnalysisRunView v;
    v.name = run.name;
    v.type = run.type;
    v.podTemplateHash = run.podTemplateHash;
    v.stepIndex = run.stepIndex;
    const RunState state = runState(run, now);
    v.phase = state.phase;
    v.message = state.message;
    v.terminated = run.terminatedAt.has_value();
    out.analysisRuns.push_back(std::move(v));
  }
  return out;
}

std::optional<Time> World::nextChange(Time now) const {
  std::optional<Time> next;
  auto consider = [&](Time t) {
    if (t > now && (!next || t < *next)) next = t;
  };
  for (const auto& rs : replicaSets_) {
    auto it = std::upper_bound(rs.podReadyAt.begin(), rs.podReadyAt.end(), now);
    if (it != rs.podReadyAt.end()) consider(*it);
    if (rs.scaleDownDeadline) consider(*rs.scaleDownDeadline);
  }
  for (const auto& run : runs_) {
    if (run.nextCheck) consider(*run.nextCheck);
    if (run.terminatedAt || run.driver) continue;
    for (const auto& name : run.templates) {
      auto it = outcomes_.find(name);
      if (it != outcomes_.end()) consider(run.createdAt + it->second.after);
    }
  }
  return next;
}

}  // namespace sluice::sim
