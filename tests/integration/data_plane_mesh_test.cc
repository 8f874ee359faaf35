// The simulated data plane follows the routing the controller writes, and a real Prometheus sees what the
// real data planes would export: a canary behind Istio (its CRDs as fixtures: no Istio can be installed
// here, so the embedded cluster's data plane stands in for its proxies) promoted and aborted by an analysis
// of istio_requests_total, the canary's share of requests equal to the VirtualService's weight, and the
// latency histogram's median equal to the pods' annotation.
#include <catch2/catch.hpp>
#include <cmath>
#include <thread>

#include "controller_env.h"
#include "prometheus_query.h"
#include "tests/support/prometheus_harness.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

// Polls `query` until its value is within `margin` of `want` (up to 40 s); returns the last value seen.
std::optional<double> settle(analysis::Provider& provider, const std::string& address,
                             const std::string& query, double want, double margin) {
  std::optional<double> seen;
  waitUntil(
      [&] {
        seen = queryOne(provider, address, query);
        return seen && std::abs(*seen - want) <= margin;
      },
      std::chrono::seconds(40));
  return seen;
}

// The Rollout "web" split by host through the VirtualService "web": 30% with an analysis of the canary's
// success rate, then an indefinite pause at 60%.
json rollout(const std::string& image, const json& podAnnotations) {
  json r = webRollout(image, 5, json::parse(R"([
    {"setWeight": 30}, {"pause": {"duration": "4s"}},
    {"analysis": {"templates": [{"templateName": "istio-success-rate"}],
                  "args": [{"name": "service", "value": "web-canary.default.svc.cluster.local"}]}},
    {"setWeight": 60}, {"pause": {}}])"));
  json& canary = r["spec"]["strategy"]["canary"];
  canary["canaryService"] = "web-canary";
  canary["stableService"] = "web-stable";
  canary["trafficRouting"] =
      json::parse(R"({"istio": {"virtualService": {"name": "web", "routes": ["primary"]}}})");
  canary["abortScaleDownDelaySeconds"] = 1;
  r["spec"]["template"]["metadata"]["annotations"] = podAnnotations;
  return r;
}

// As a user writes it from Istio's and Argo's documentation; a short window for a quick test.
json successRateTemplate(const std::string& prometheus) {
  json t = json::parse(R"json({
    "apiVersion": "sluice.dev/v1alpha1", "kind": "AnalysisTemplate",
    "metadata": {"name": "istio-success-rate", "namespace": "default"},
    "spec": {"args": [{"name": "service"}], "metrics": [{
      "name": "success-rate", "interval": "2s", "count": 3,
      "successCondition": "result[0] >= 0.95", "failureCondition": "result[0] < 0.95",
      "provider": {"prometheus": {}}}]}})json");
  t["spec"]["metrics"][0]["provider"]["prometheus"]["query"] =
      R"(sum(rate(istio_requests_total{reporter="source",destination_service="{{args.service}}",response_code!~"5.*"}[6s])))"
      R"( / sum(rate(istio_requests_total{reporter="source",destination_service="{{args.service}}"}[6s])))";
  t["spec"]["metrics"][0]["provider"]["prometheus"]["address"] = prometheus;
  return t;
}

}  // namespace

TEST_CASE(
    "data plane: a canary behind Istio (CRD fixtures, the data plane stands in for the proxies) is judged "
    "by istio_requests_total on a real Prometheus, its share of requests the VirtualService's weight",
    "[integration][data-plane][prometheus][istio]") {
  ControllerEnv env(std::chrono::milliseconds(500), /*dataPlane=*/true);
  REQUIRE(env.cluster.server().trafficMetricsPort() > 0);
  PrometheusOptions options;
  options.scrapeTargets = {"127.0.0.1:" + std::to_string(env.cluster.server().trafficMetricsPort())};
  PrometheusHarness prometheus(options);

  env.cluster.ok("apply -f " +
                 shellQuote(std::string(SLUICE_SOURCE_DIR) + "/tests/data/mesh-crds/istio.yaml"));
  REQUIRE(waitUntil([&] { return env.cluster.kubectl("get virtualservices").exitCode == 0; },
                    std::chrono::seconds(10)));
  env.startController();
  for (const char* name : {"web-stable", "web-canary"}) {
    env.cluster.apply(std::string(name) + ".json",
                      {{"apiVersion", "v1"},
                       {"kind", "Service"},
                       {"metadata", {{"name", name}, {"namespace", "default"}}},
                       {"spec", {{"selector", {{"app", "web"}}}, {"ports", json::array({{{"port", 80}}})}}}});
  }
  env.cluster.apply("vs.json",
                    json::parse(R"({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"hosts": ["web.example"], "http": [{"name": "primary", "route": [
        {"destination": {"host": "web-stable", "port": {"number": 80}}, "weight": 100},
        {"destination": {"host": "web-canary", "port": {"number": 80}}, "weight": 0}]}]}})"));
  env.cluster.apply("template.json", successRateTemplate(prometheus.address()));
  env.cluster.apply("v1.json", rollout("registry.example/web:v1", json::object()));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  const std::string v1 = env.rollout("web")["status"].value("stableRS", "");
  INFO(prometheus.log());

  // v2 answers without errors in 200ms: the analysis passes and the rollout waits at 60%.
  env.cluster.apply("v2.json", rollout("registry.example/web:v2", {{"cluster.sluice.dev/latency", "200ms"}}));
  REQUIRE(env.waitRollout(
      "web", [](const json& r) { return phaseOf(r) == "Paused" && stepOf(r) == 4; },
      std::chrono::seconds(90)));
  const json runs = env.cluster.getJson("analysisruns -n default");
  REQUIRE(runs["items"].size() == 1);
  CHECK(runs["items"][0]["status"]["phase"] == "Successful");

  // The canary's share of the host's requests, as the gateway's proxy reports them, is the weight in force.
  auto share = settle(
      *env.provider, prometheus.address(),
      R"(sum(rate(istio_requests_total{reporter="source",destination_service_name="web-canary"}[4s])) / )"
      R"(sum(rate(istio_requests_total{reporter="source",destination_service_name=~"web-stable|web-canary"}[4s])))",
      0.6, 0.01);
  INFO("canary share: " << (share ? std::to_string(*share) : "no result"));
  CHECK((share && std::abs(*share - 0.6) <= 0.01));
  // 200ms spread evenly from 100 to 300ms: the histogram's median is 200 (Istio's buckets 100, 250, 500).
  auto median =
      settle(*env.provider, prometheus.address(),
             R"(histogram_quantile(0.5, sum by (le) (rate(istio_request_duration_milliseconds_bucket{)"
             R"(reporter="destination",destination_service_name="web-canary"}[10s]))))",
             200, 5);
  INFO("median: " << (median ? std::to_string(*median) : "no result"));
  CHECK((median && std::abs(*median - 200) <= 5));
  // Both revisions are the Rollout's workload, as Istio names a ReplicaSet's pods.
  auto workloads =
      queryOne(*env.provider, prometheus.address(),
               R"(count(count by (destination_workload) (istio_requests_total{reporter="destination"})))");
  CHECK(workloads == std::optional<double>(1));

  REQUIRE(env.cluster.plugin("promote web").exitCode == 0);
  REQUIRE(env.waitRollout("web", [&](const json& r) {
    return phaseOf(r) == "Healthy" && r["status"].value("stableRS", "") != v1;
  }));

  // v3 answers half its requests with 500: the analysis fails and the Rollout aborts, all traffic back on
  // the stable Service, so the canary Service gets no request any more.
  env.cluster.apply("v3.json",
                    rollout("registry.example/web:v3", {{"cluster.sluice.dev/error-rate", "0.5"}}));
  REQUIRE(env.waitRollout(
      "web", [](const json& r) { return phaseOf(r) == "Degraded"; }, std::chrono::seconds(90)));
  const json aborted = env.rollout("web");
  CHECK_THAT(aborted["status"].value("message", ""), Catch::Contains("success-rate"));
  auto canaryRate = settle(
      *env.provider, prometheus.address(),
      R"(sum(rate(istio_requests_total{reporter="source",destination_service_name="web-canary"}[4s])))", 0,
      0.001);
  INFO("canary rate after the abort: " << (canaryRate ? std::to_string(*canaryRate) : "no result"));
  CHECK((canaryRate && *canaryRate <= 0.001));
}
