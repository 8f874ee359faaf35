// Deployment defaults and strategy checks, with the real server's field paths and messages.
#include "kube/apiserver/workload_defaults.h"

#include "kube/apiserver/deployment_math.h"

namespace sluice::apiserver {

using nlohmann::json;

void applyWorkloadDefaults(const std::string& kind, json& obj) {
  if (kind != "Deployment" || !obj.is_object()) return;
  json& spec = obj["spec"];
  if (!spec.is_object()) return;
  json& strategy = spec["strategy"];
  if (!strategy.is_object()) strategy = json::object();
  if (!strategy.contains("type")) strategy["type"] = "RollingUpdate";
  if (strategy["type"] == "RollingUpdate") {
    json& rolling = strategy["rollingUpdate"];
    if (!rolling.is_object()) rolling = json::object();
    if (!rolling.contains("maxSurge")) rolling["maxSurge"] = "25%";
    if (!rolling.contains("maxUnavailable")) rolling["maxUnavailable"] = "25%";
  }
  if (!spec.contains("revisionHistoryLimit")) spec["revisionHistoryLimit"] = 10;
  if (!spec.contains("progressDeadlineSeconds")) spec["progressDeadlineSeconds"] = 600;
}

namespace {

// An IntOrString field: an integer >= 0 or a percent string; empty when valid.
std::vector<FieldError> intOrPercentErrors(const json& v, const std::string& field) {
  if (v.is_null()) return {};
  if (v.is_number_integer()) {
    if (v.get<int64_t>() < 0)
      return {kube::fieldInvalid(field, v.dump() + ": must be greater than or equal to 0")};
    return {};
  }
  if (!scaledIntOrPercent(v, 100, false)) {
    return {kube::fieldInvalid(
        field, v.dump() + ": a valid percent string must be a numeric string followed by an ending '%' (e.g. "
                          "'1%',  or '93%', regex used for validation is '[0-9]+%')")};
  }
  return {};
}

bool isZero(const json& v) { return v == json(0) || v == json("0%"); }

}  // namespace

std::vector<FieldError> workloadFieldErrors(const std::string& kind, const json& obj) {
  std::vector<FieldError> errs;
  if (kind != "Deployment" || !obj.is_object()) return errs;
  const json spec = obj.value("spec", json::object());
  const json strategy = spec.is_object() ? spec.value("strategy", json::object()) : json::object();
  if (!strategy.is_object()) return errs;
  const json type = strategy.value("type", json("RollingUpdate"));
  const json rolling = strategy.value("rollingUpdate", json());
  if (type == "Recreate") {
    if (!rolling.is_null()) {
      errs.push_back(kube::fieldForbidden("spec.strategy.rollingUpdate",
                                          "may not be specified when strategy `type` is 'Recreate'"));
    }
    return errs;
  }
  if (type != "RollingUpdate") {
    errs.push_back(kube::fieldNotSupported(
        "spec.strategy.type", type.dump() + ": supported values: \"Recreate\", \"RollingUpdate\""));
    return errs;
  }
  if (!rolling.is_object()) return errs;
  const json surge = rolling.value("maxSurge", json());
  const json unavailable = rolling.value("maxUnavailable", json());
  for (auto& e : intOrPercentErrors(surge, "spec.strategy.rollingUpdate.maxSurge")) errs.push_back(e);
  for (auto& e : intOrPercentErrors(unavailable, "spec.strategy.rollingUpdate.maxUnavailable"))
    errs.push_back(e);
  if (isZero(surge) && isZero(unavailable)) {
    errs.push_back(kube::fieldInvalid("spec.strategy.rollingUpdate.maxUnavailable",
                                      unavailable.dump() + ": may not be 0 when `maxSurge` is 0"));
  }
  return errs;
}

}  // namespace sluice::apiserver
