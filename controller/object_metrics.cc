// The per-object series, named and labelled as Argo Rollouts' controller exports them.
#include "controller/object_metrics.h"

#include <array>
#include <cctype>
#include <map>
#include <string>
#include <utility>

namespace sluice::controller {

using nlohmann::json;

namespace {

using Labels = std::vector<prometheus::ClientMetric::Label>;

prometheus::MetricFamily gaugeFamily(std::string name, std::string help) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = prometheus::MetricType::Gauge;
  return f;
}

void addGauge(prometheus::MetricFamily& family, Labels labels, double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  family.metric.push_back(std::move(m));
}

std::string str(const json& obj, const char* pointer) {
  const json v = obj.value(json::json_pointer(pointer), json());
  return v.is_string() ? v.get<std::string>() : std::string();
}

double num(const json& obj, const char* pointer, double fallback = 0) {
  const json v = obj.value(json::json_pointer(pointer), json());
  return v.is_number() ? v.get<double>() : fallback;
}

// Argo's strategy label: "blueGreen" or "canary" (its default when neither is set).
std::string strategyOf(const json& rollout) {
  return rollout.contains(json::json_pointer("/spec/strategy/blueGreen")) ? "blueGreen" : "canary";
}

// Argo's traffic_router label: the routers under canary.trafficRouting by their type names, comma-joined.
std::string trafficRouterOf(const json& rollout) {
  static const std::map<std::string, std::string> kNames = {
      {"istio", "Istio"},           {"smi", "SMI"},         {"alb", "ALB"},         {"nginx", "Nginx"},
      {"ambassador", "Ambassador"}, {"appMesh", "AppMesh"}, {"traefik", "Traefik"}, {"apisix", "Apisix"},
      {"plugins", "Plugins"}};
  const json routing = rollout.value(json::json_pointer("/spec/strategy/canary/trafficRouting"), json());
  std::string out;
  if (!routing.is_object()) return out;
  for (const auto& [key, value] : routing.items()) {
    auto it = kNames.find(key);
    if (it == kNames.end()) continue;
    out += (out.empty() ? "" : ",") + it->second;
  }
  return out;
}

// Argo's metric type label: the provider's key with an upper-case first letter ("prometheus":
// "Prometheus"), and the two names Argo spells otherwise.
std::string metricTypeOf(const json& metric) {
  const json provider = metric.value("provider", json::object());
  if (!provider.is_object() || provider.empty()) return "";
  std::string key = provider.begin().key();
  if (key == "influxdb") return "InfluxDB";
  if (key == "skywalking") return "SkyWalking";
  key[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(key[0])));
  return key;
}

}  // namespace

std::vector<prometheus::MetricFamily> rolloutFamilies(const std::vector<json>& rollouts) {
  auto info = gaugeFamily("rollout_info", "Information about a Rollout.");
  auto desired =
      gaugeFamily("rollout_info_replicas_desired", "The number of desired replicas for a Rollout.");
  auto available =
      gaugeFamily("rollout_info_replicas_available", "The number of available replicas of a Rollout.");
  auto unavailable =
      gaugeFamily("rollout_info_replicas_unavailable", "The number of unavailable replicas of a Rollout.");
  auto updated = gaugeFamily("rollout_info_replicas_updated", "The number of updated replicas of a Rollout.");
  for (const json& r : rollouts) {
    const std::string ns = str(r, "/metadata/namespace");
    const std::string name = str(r, "/metadata/name");
    addGauge(info,
             {{"namespace", ns},
              {"name", name},
              {"strategy", strategyOf(r)},
              {"traffic_router", trafficRouterOf(r)},
              {"phase", str(r, "/status/phase")}},
             1);
    const Labels id = {{"namespace", ns}, {"name", name}};
    addGauge(desired, id, num(r, "/spec/replicas", 1));  // spec.replicas defaults to 1
    const double availableReplicas = num(r, "/status/availableReplicas");
    addGauge(available, id, availableReplicas);
    addGauge(unavailable, id, num(r, "/status/replicas") - availableReplicas);
    addGauge(updated, id, num(r, "/status/updatedReplicas"));
  }
  return {std::move(info), std::move(desired), std::move(available), std::move(unavailable),
          std::move(updated)};
}

std::vector<prometheus::MetricFamily> analysisRunFamilies(const std::vector<json>& runs) {
  static const std::array<const char*, 6> kPhases = {"Pending",    "Error",   "Failed",
                                                     "Successful", "Running", "Inconclusive"};
  auto info = gaugeFamily("analysis_run_info", "Information about an AnalysisRun.");
  auto metricType = gaugeFamily("analysis_run_metric_type", "The type of an AnalysisRun's metric.");
  auto metricPhase = gaugeFamily("analysis_run_metric_phase", "The phase of an AnalysisRun's metric.");
  for (const json& run : runs) {
    const std::string ns = str(run, "/metadata/namespace");
    const std::string name = str(run, "/metadata/name");
    const std::string phase = str(run, "/status/phase");
    addGauge(info, {{"namespace", ns}, {"name", name}, {"phase", phase.empty() ? "Pending" : phase}}, 1);
    std::map<std::string, std::string> resultPhase;
    for (const json& result : run.value(json::json_pointer("/status/metricResults"), json::array()))
      if (result.is_object()) resultPhase[result.value("name", "")] = result.value("phase", "");
    std::map<std::string, bool> dryRun;
    for (const json& d : run.value(json::json_pointer("/spec/dryRun"), json::array()))
      if (d.is_object()) dryRun[d.value("metricName", "")] = true;
    for (const json& metric : run.value(json::json_pointer("/spec/metrics"), json::array())) {
      if (!metric.is_object()) continue;
      const std::string metricName = metric.value("name", "");
      const std::string type = metricTypeOf(metric);
      addGauge(metricType, {{"namespace", ns}, {"name", name}, {"metric", metricName}, {"type", type}}, 1);
      // A metric without a result yet is Pending, as Argo reports it.
      std::string current = resultPhase[metricName];
      if (current.empty()) current = "Pending";
      const bool isDryRun = dryRun.count(metricName) > 0 || dryRun.count("*") > 0;
      for (const char* p : kPhases) {
        addGauge(metricPhase,
                 {{"namespace", ns},
                  {"name", name},
                  {"metric", metricName},
                  {"type", type},
                  {"dry_run", isDryRun ? "true" : "false"},
                  {"phase", p}},
                 current == p ? 1 : 0);
      }
    }
  }
  return {std::move(info), std::move(metricType), std::move(metricPhase)};
}

}  // namespace sluice::controller
