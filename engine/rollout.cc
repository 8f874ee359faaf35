// Small accessors of the Rollout model (see rollout.h).
#include "engine/rollout.h"

#include <algorithm>
#include <cmath>

namespace sluice::engine {

std::string describeStep(const CanaryStep& step) {
  struct Visitor {
    std::string operator()(const SetWeightStep& s) const { return "setWeight: " + std::to_string(s.weight); }
    std::string operator()(const PauseStep& s) const {
      return s.duration ? "pause: " + formatDuration(*s.duration) : std::string("pause");
    }
    std::string operator()(const AnalysisStep& s) const {
      std::string names;
      for (const auto& t : s.analysis.templates) names += (names.empty() ? "" : ",") + t.templateName;
      return "analysis: " + names;
    }
    std::string operator()(const SetCanaryScaleStep& s) const {
      if (s.replicas) return "setCanaryScale: replicas " + std::to_string(*s.replicas);
      if (s.weight) return "setCanaryScale: weight " + std::to_string(*s.weight);
      return "setCanaryScale: matchTrafficWeight";
    }
    std::string operator()(const SetHeaderRouteStep& s) const { return "setHeaderRoute: " + s.name; }
    std::string operator()(const SetMirrorRouteStep& s) const { return "setMirrorRoute: " + s.name; }
    std::string operator()(const ExperimentStep& s) const {
      std::string names;
      for (const auto& t : s.templates) names += (names.empty() ? "" : ",") + t.name;
      return "experiment: " + names;
    }
  };
  std::string out = std::visit(Visitor{}, step.action);
  for (const auto& other : step.alongside) out += " + " + std::visit(Visitor{}, other);
  return out;
}

int ReplicaProgressThreshold::availableNeeded(int desired) const {
  if (desired <= 0) return 0;
  if (type == Type::Pods) return std::clamp(value, 0, desired);
  const long long share = static_cast<long long>(desired) * std::clamp(value, 0, 100);
  return static_cast<int>((share + 99) / 100);
}

const char* workloadScaleDownName(WorkloadScaleDown mode) {
  switch (mode) {
    case WorkloadScaleDown::Never:
      return "never";
    case WorkloadScaleDown::OnSuccess:
      return "onsuccess";
    case WorkloadScaleDown::Progressively:
      return "progressively";
  }
  return "never";
}

const Condition* RolloutStatus::condition(const std::string& type) const {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool RolloutStatus::pausedFor(const std::string& reason) const {
  for (const auto& p : pauseConditions) {
    if (p.reason == reason) return true;
  }
  return false;
}

const std::string& canaryRoleService(const CanaryStrategy& canary, const RolloutStatus& status) {
  if (!canary.pingPong) return canary.canaryService;
  return status.canary.stablePingPong == "ping" ? canary.pingPong->pongService : canary.pingPong->pingService;
}

const std::string& stableRoleService(const CanaryStrategy& canary, const RolloutStatus& status) {
  if (!canary.pingPong) return canary.stableService;
  return status.canary.stablePingPong == "ping" ? canary.pingPong->pingService : canary.pingPong->pongService;
}

bool restartPending(const RolloutSpec& spec, const RolloutStatus& status) {
  return spec.restartAt && (!status.restartedAt || *spec.restartAt > *status.restartedAt);
}

}  // namespace sluice::engine
