// Analysis template references across the files of one `sluice lint` run.
#include "cli/lint_refs.h"

#include <nlohmann/json.hpp>

#include "analysis/model.h"
#include "base/source.h"
#include "engine/rollout.h"

namespace sluice::cli {

namespace {

std::string templateKey(bool clusterScope, const std::string& ns, const std::string& name) {
  if (clusterScope) return std::string(analysis::kClusterAnalysisTemplateKind) + " " + name;
  return std::string(analysis::kAnalysisTemplateKind) + " " + (ns.empty() ? name : ns + "/" + name);
}

}  // namespace

void AnalysisRefLint::analysisTemplate(const Document& doc) {
  const nlohmann::json& obj = doc.json;
  const nlohmann::json meta = obj.value("metadata", nlohmann::json::object());
  if (!meta.is_object()) return;
  const std::string name = meta.value("name", "");
  if (name.empty()) return;
  std::set<std::string> needed;
  const nlohmann::json spec = obj.value("spec", nlohmann::json::object());
  const nlohmann::json args =
      spec.is_object() ? spec.value("args", nlohmann::json::array()) : nlohmann::json();
  for (const auto& arg : args.is_array() ? args : nlohmann::json::array()) {
    if (arg.is_object() && arg.contains("name") && arg.at("name").is_string() && !arg.contains("value") &&
        !arg.contains("valueFrom"))
      needed.insert(arg.at("name").get<std::string>());
  }
  const std::string key = templateKey(obj.value("kind", "") == analysis::kClusterAnalysisTemplateKind,
                                      meta.value("namespace", ""), name);
  const auto [seen, added] = templates_.emplace(key, needed);
  if (!added) std::erase_if(seen->second, [&](const std::string& arg) { return !needed.contains(arg); });
}

void AnalysisRefLint::rollout(const Document& doc, const engine::Rollout& rollout) {
  auto remember = [&](const engine::RolloutAnalysis& a, const std::string& path) {
    Use use;
    use.at = doc.source.diagnostic(Severity::Warning, path, "");
    for (size_t i = 0; i < a.templates.size(); ++i) {
      const auto& ref = a.templates[i];
      if (ref.templateName.empty()) continue;
      use.templates.push_back(
          {templateKey(ref.clusterScope, rollout.metadata.ns, ref.templateName),
           doc.source.diagnostic(Severity::Warning,
                                 path + ".templates[" + std::to_string(i) + "].templateName", "")});
    }
    for (const auto& arg : a.args) use.args.insert(arg.name);
    uses_.push_back(std::move(use));
  };
  const engine::RolloutSpec& spec = rollout.spec;
  if (spec.blueGreen) {
    const std::string bg = "spec.strategy.blueGreen";
    if (spec.blueGreen->prePromotionAnalysis)
      remember(*spec.blueGreen->prePromotionAnalysis, bg + ".prePromotionAnalysis");
    if (spec.blueGreen->postPromotionAnalysis)
      remember(*spec.blueGreen->postPromotionAnalysis, bg + ".postPromotionAnalysis");
    return;
  }
  const std::string canary = "spec.strategy.canary";
  if (spec.canary.analysis) remember(*spec.canary.analysis, canary + ".analysis");
  for (size_t i = 0; i < spec.canary.steps.size(); ++i) {
    if (const auto* step = std::get_if<engine::AnalysisStep>(&spec.canary.steps[i].action))
      remember(step->analysis, canary + ".steps[" + std::to_string(i) + "].analysis");
  }
}

Diagnostics AnalysisRefLint::crossChecks() const {
  Diagnostics out;
  for (const Use& use : uses_) {
    std::set<std::string> reported;
    for (const Reference& ref : use.templates) {
      const auto found = templates_.find(ref.key);
      if (found == templates_.end()) {
        Diagnostic d = ref.at;
        d.message = ref.key +
                    " is in none of the given files: it must exist in the cluster for the analysis to run, "
                    "and sluice sim needs it given";
        out.add(std::move(d));
        continue;
      }
      for (const std::string& arg : found->second) {
        if (use.args.contains(arg) || !reported.insert(arg).second) continue;
        Diagnostic d = use.at;
        d.message = "gives no value for the argument \"" + arg + "\" that " + ref.key +
                    " (as given) declares without one: its run would end in Error";
        out.add(std::move(d));
      }
    }
  }
  return out;
}

}  // namespace sluice::cli
