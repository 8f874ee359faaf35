// Pod-template and steps hashing: FNV-1a (32 bit) over canonical JSON, so a hash names the same template
// on every run and machine (it is written into ReplicaSet names and status.currentPodHash).
#include <cstdint>
#include <string_view>

#include "engine/canary.h"

namespace sluice::engine {
namespace {

constexpr std::string_view kHashAlphabet = "bcdfghjklmnpqrstvwxz2456789";
constexpr uint32_t kFnvOffset = 2166136261u;
constexpr uint32_t kFnvPrime = 16777619u;

uint32_t fnv1a(std::string_view bytes, uint32_t hash = kFnvOffset) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= kFnvPrime;
  }
  return hash;
}

// Spreads the 32-bit hash over 10 characters of the alphabet. A plain base-27 number would start with
// the same three letters for every hash; mixing each position keeps all ten informative.
std::string encodeHash(uint32_t hash) {
  std::string out;
  for (uint32_t position = 0; position < 10; ++position) {
    uint32_t mixed = kFnvOffset;
    for (int shift = 0; shift < 32; shift += 8) {
      mixed = (mixed ^ ((hash >> shift) & 0xffu)) * kFnvPrime;
    }
    mixed = (mixed ^ position) * kFnvPrime;
    out += kHashAlphabet[mixed % kHashAlphabet.size()];
  }
  return out;
}

nlohmann::json analysisJson(const RolloutAnalysis& a) {
  nlohmann::json templates = nlohmann::json::array();
  for (const auto& t : a.templates) templates.push_back({{"templateName", t.templateName}, {"clusterScope", t.clusterScope}});
  nlohmann::json args = nlohmann::json::array();
  for (const auto& arg : a.args) {
    nlohmann::json j = {{"name", arg.name}};
    if (arg.value) j["value"] = *arg.value;
    if (arg.podTemplateHashValue) j["podTemplateHashValue"] = *arg.podTemplateHashValue;
    if (arg.fieldRef) j["fieldRef"] = *arg.fieldRef;
    args.push_back(j);
  }
  return {{"templates", templates}, {"args", args}, {"dryRun", a.dryRun}};
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
    nlohmann::json operator()(const AnalysisStep& s) const { return {{"analysis", analysisJson(s.analysis)}}; }
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
  };
  return std::visit(Visitor{}, step.action);
}

}  // namespace

std::string podTemplateHash(const nlohmann::json& podTemplate, int64_t collisionCount) {
  uint32_t hash = fnv1a(podTemplate.dump());
  // A collision count of 0 leaves the hash of the template alone, as Kubernetes does.
  if (collisionCount > 0) hash = fnv1a(std::to_string(collisionCount), hash);
  return encodeHash(hash);
}

std::string stepsHash(const std::vector<CanaryStep>& steps) {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& step : steps) all.push_back(stepJson(step));
  return encodeHash(fnv1a(all.dump()));
}

}  // namespace sluice::engine
