// The real API server's defaults and checks for the workload kinds the workload controllers act on, applied
// by the registry on every write so that the stored Deployment carries its strategy, history limit and
// progress deadline as `kubectl get -o yaml` shows them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kube/apiserver/api_error.h"

namespace sluice::apiserver {

// Fills the absent defaults of `obj` of `kind` (a Deployment: strategy RollingUpdate with maxSurge and
// maxUnavailable 25%, revisionHistoryLimit 10, progressDeadlineSeconds 600). Other kinds are untouched.
void applyWorkloadDefaults(const std::string& kind, nlohmann::json& obj);

// The field errors of a defaulted `obj` of `kind`: a Deployment's strategy (type, maxSurge and
// maxUnavailable as int or percent, not both 0, no rollingUpdate with Recreate).
std::vector<FieldError> workloadFieldErrors(const std::string& kind, const nlohmann::json& obj);

}  // namespace sluice::apiserver
