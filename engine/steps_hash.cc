// The steps hash (status.currentStepHash): the pod-template hash function over a canonical JSON form of
// the steps, so that a change to what a step does restarts the plan.
#include "engine/steps_hash.h"

#include <nlohmann/json.hpp>

namespace sluice::engine {
namespace {

nlohmann::json argsJson(const std::vector<AnalysisArg>& args) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& arg : args) {
    nlohmann::json j = {{"name", arg.name}};
    if (arg.value) j["value"] = *arg.value;
    if (arg.podTemplateHashValue) j["podTemplateHashValue"] = *arg.podTemplateHashValue;
    if (arg.fieldRef) j["fieldRef"] = *arg.fieldRef;
    out.push_back(j);
  }
  return out;
}

nlohmann::json analysisJson(const RolloutAnalysis& a) {
  nlohmann::json templates = nlohmann::json::array();
  for (const auto& t : a.templates)
    templates.push_back({{"templateName", t.templateName}, {"clusterScope", t.clusterScope}});
  return {{"templates", templates}, {"args", argsJson(a.args)}, {"dryRun", a.dryRun}};
}

nlohmann::json experimentJson(const ExperimentStep& s) {
  nlohmann::json templates = nlohmann::json::array();
  for (const auto& t : s.templates) {
    nlohmann::json j = {{"name", t.name},
                        {"specRef", t.specRef},
                        {"labels", t.metadata.labels},
                        {"annotations", t.metadata.annotations},
                        {"selector", t.selector}};
    if (t.replicas) j["replicas"] = *t.replicas;
    if (t.weight) j["weight"] = *t.weight;
    if (t.service) j["service"] = t.service->name;
    templates.push_back(std::move(j));
  }
  nlohmann::json analyses = nlohmann::json::array();
  for (const auto& a : s.analyses) {
    analyses.push_back({{"name", a.name},
                        {"templateName", a.templateName},
                        {"clusterScope", a.clusterScope},
                        {"args", argsJson(a.args)},
                        {"requiredForCompletion", a.requiredForCompletion}});
  }
  nlohmann::json j = {{"templates", templates}, {"analyses", analyses}, {"dryRun", s.dryRun}};
  if (s.duration) j["duration"] = s.duration->count();
  return j;
}

// A canonical JSON form of one step, for hashing only: every field that changes what the step does.
nlohmann::json stepJson(const CanaryStep& step) {
  struct Visitor {
    nlohmann::json operator()(const SetWeightStep& s) const { return {{"setWeight", s.weight}}; }
    nlohmann::json operator()(const PauseStep& s) const {
      nlohmann::json pause = nlohmann::json::object();
      if (s.duration) pause["duration"] = s.duration->count();
      return {{"pause", pause}};
    }
    nlohmann::json operator()(const AnalysisStep& s) const {
      return {{"analysis", analysisJson(s.analysis)}};
    }
    nlohmann::json operator()(const SetCanaryScaleStep& s) const {
      nlohmann::json scale = {{"matchTrafficWeight", s.matchTrafficWeight}};
      if (s.replicas) scale["replicas"] = *s.replicas;
      if (s.weight) scale["weight"] = *s.weight;
      return {{"setCanaryScale", scale}};
    }
    nlohmann::json operator()(const SetHeaderRouteStep& s) const {
      nlohmann::json match = nlohmann::json::array();
      for (const auto& m : s.match) match.push_back({{"headerName", m.headerName}, {m.matchType, m.value}});
      return {{"setHeaderRoute", {{"name", s.name}, {"match", match}}}};
    }
    nlohmann::json operator()(const SetMirrorRouteStep& s) const {
      return {{"setMirrorRoute", {{"name", s.name}, {"percentage", s.percentage}, {"match", s.match}}}};
    }
    nlohmann::json operator()(const ExperimentStep& s) const { return {{"experiment", experimentJson(s)}}; }
  };
  // The actions beside the one that decides the step join its object (a step without them hashes as
  // before they existed).
  nlohmann::json out = std::visit(Visitor{}, step.action);
  for (const auto& other : step.alongside) out.update(std::visit(Visitor{}, other));
  return out;
}

}  // namespace

std::string stepsHash(const std::vector<CanaryStep>& steps) {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& step : steps) all.push_back(stepJson(step));
  return jsonHash(all);
}

}  // namespace sluice::engine
