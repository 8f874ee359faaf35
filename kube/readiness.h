// Whether an object has reached the state its spec asks for, judged from its status as `kubectl rollout
// status` and `kubectl wait --for=condition=...` judge it, and a wait on the API server for such a state.
// The judgements are pure; waitFor() watches.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/clock.h"
#include "kube/client.h"

namespace sluice::kube {

enum class Progress { kInProgress, kDone, kFailed };

struct Readiness {
  Progress progress = Progress::kInProgress;
  std::string message;  // kubectl's wording: "deployment \"web\" successfully rolled out", ...
};

// A Deployment's rollout, as `kubectl rollout status`: done when the controller has observed the current
// generation and every replica is updated and available with no old ones left; failed when its
// Progressing condition says ProgressDeadlineExceeded.
Readiness deploymentRollout(const nlohmann::json& deployment);

// Whether status.conditions holds `type` with `status` ("True" unless said otherwise).
bool hasCondition(const nlohmann::json& obj, const std::string& type, const std::string& status = "True");

// Watches the object until `judge` says done or failed, or `timeout` passes. Returns the object in its
// final state; a failed judgement or the timeout is a kClient error carrying the judgement's message (or
// "timed out waiting for ..."). The object may not exist yet when the wait starts. `timeout` runs on
// `clock`.
ApiResult<nlohmann::json> waitFor(Client& client, const ResourceRef& resource, const std::string& ns,
                                  const std::string& name,
                                  const std::function<Readiness(const nlohmann::json&)>& judge,
                                  std::chrono::milliseconds timeout, const Clock& clock = realClock());

}  // namespace sluice::kube
