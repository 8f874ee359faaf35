// Filling a Rollout's pod template from its workloadRef (see workload.h).
#include "engine/workload.h"

#include "base/diagnostics.h"
#include "engine/validate.h"

namespace sluice::engine {

using nlohmann::json;

WorkloadView workloadViewOf(const json& deployment) {
  WorkloadView view;
  const json spec = deployment.value("spec", json::object());
  if (!spec.is_object()) return view;
  if (const auto t = spec.find("template"); t != spec.end() && t->is_object()) view.podTemplate = *t;
  if (const auto s = spec.find("selector"); s != spec.end() && s->is_object()) view.selector = *s;
  if (const auto r = spec.find("replicas"); r != spec.end() && r->is_number_integer())
    view.replicas = r->get<int>();
  view.generation = deployment.value(json::json_pointer("/metadata/generation"), int64_t{0});
  return view;
}

Result<Rollout> resolveWorkload(const Rollout& rollout, const WorkloadView& workload) {
  Rollout resolved = rollout;
  resolved.spec.podTemplate = workload.podTemplate;
  if (resolved.spec.selector.empty()) resolved.spec.selector = workload.selector;
  Diagnostics diags;
  validateResolvedTemplate(resolved, diags);
  if (!diags.hasErrors()) return resolved;
  const WorkloadRef& ref = *rollout.spec.workloadRef;
  std::string message = "with the pod template of " + ref.kind + " \"" + ref.name + "\" (spec.workloadRef):";
  for (const auto& d : diags.items()) {
    if (d.severity == Severity::Error) message += " " + d.path + ": " + d.message + ";";
  }
  message.pop_back();
  return Error{message};
}

std::string workloadMissing(const Rollout& rollout) {
  const WorkloadRef& ref = *rollout.spec.workloadRef;
  return "spec.workloadRef: " + ref.kind + " \"" + ref.name + "\" not found in namespace \"" +
         rollout.metadata.ns + "\"";
}

}  // namespace sluice::engine
