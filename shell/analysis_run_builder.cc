// AnalysisRun building shared by the simulator and the controller (see analysis_run_builder.h).
#include "shell/analysis_run_builder.h"

#include <nlohmann/json.hpp>

namespace sluice::shell {

using nlohmann::json;

Result<std::string> fieldRefValue(const json& rolloutObject, const std::string& path) {
  // A label or annotation the Rollout does not carry reads as empty, as Kubernetes' field paths (and so
  // Argo Rollouts) read one.
  for (const char* map : {"labels", "annotations"}) {
    const std::string prefix = std::string("metadata.") + map + "['";
    if (!path.starts_with(prefix) || !path.ends_with("']")) continue;
    const std::string key = path.substr(prefix.size(), path.size() - prefix.size() - 2);
    const json::json_pointer at = json::json_pointer("/metadata") / map / key;
    if (!rolloutObject.contains(at)) return std::string();
    if (!rolloutObject.at(at).is_string()) return Error{path + " is not a string in the Rollout"};
    return rolloutObject.at(at).get<std::string>();
  }
  const json* at = &rolloutObject;
  size_t i = 0;
  while (i < path.size()) {
    std::string key;
    if (path.compare(i, 2, "['") == 0) {
      const size_t end = path.find("']", i + 2);
      if (end == std::string::npos) return Error{"unterminated ['...'] in " + path};
      key = path.substr(i + 2, end - i - 2);
      i = end + 2;
    } else {
      const size_t end = path.find_first_of(".[", i);
      key = path.substr(i, end == std::string::npos ? std::string::npos : end - i);
      i = end == std::string::npos ? path.size() : end;
    }
    if (i < path.size() && path[i] == '.') ++i;
    if (key.empty()) return Error{"empty field name in " + path};
    if (!at->is_object() || !at->contains(key)) return Error{"the Rollout has no field " + path};
    at = &(*at)[key];
  }
  if (at->is_string()) return at->get<std::string>();
  if (at->is_number() || at->is_boolean()) return at->dump();
  return Error{path + " is not a string, number or bool in the Rollout"};
}

analysis::ArgSources argSources(const json& rolloutObject, std::string stableHash, std::string latestHash) {
  analysis::ArgSources sources;
  sources.stablePodHash = std::move(stableHash);
  sources.latestPodHash = std::move(latestHash);
  sources.fieldRef = [&rolloutObject](const std::string& path) { return fieldRefValue(rolloutObject, path); };
  return sources;
}

Result<analysis::AnalysisRunSpec> buildAnalysisRun(const engine::CreateAnalysisRun& create,
                                                   const json& rolloutObject, const std::string& stableHash,
                                                   const analysis::TemplateLookup& lookup) {
  return analysis::mergeTemplates(create.analysis, lookup,
                                  argSources(rolloutObject, stableHash, create.podTemplateHash));
}

}  // namespace sluice::shell
