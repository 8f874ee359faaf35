// spec.workloadRef: a Rollout whose pod template lives in an existing Deployment (Argo's migration path:
// the Deployment keeps its template, the Rollout runs the revisions). The world reads the Deployment; this
// fills the Rollout's template from it before each decision, so the engine, the simulator and the
// controller see an ordinary Rollout.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/rollout.h"

namespace sluice::engine {

// The workload spec.workloadRef names, as it is now.
struct WorkloadView {
  nlohmann::json podTemplate = nlohmann::json::object();  // spec.template
  nlohmann::json selector = nlohmann::json::object();     // spec.selector
  int replicas = 1;                                       // spec.replicas: what it is asked to run
  int64_t generation = 0;                                 // metadata.generation
};

// A Deployment object as a view (spec.replicas defaults to 1, as the API server's).
WorkloadView workloadViewOf(const nlohmann::json& deployment);

// The Rollout with the workload's pod template, and its selector too when the Rollout sets none; then the
// template and selector rules (validate.h) on the result. An error says what is wrong with field paths.
Result<Rollout> resolveWorkload(const Rollout& rollout, const WorkloadView& workload);

// The message for a workloadRef whose workload does not exist.
std::string workloadMissing(const Rollout& rollout);

}  // namespace sluice::engine
