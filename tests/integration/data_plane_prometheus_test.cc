// The embedded cluster's simulated data plane scraped by a real Prometheus: workloads applied with the real
// kubectl, their pods made ready by the workload controllers, and the error ratio PromQL computes per
// revision equal to what each revision's pod template annotation says.
#include <catch2/catch.hpp>
#include <chrono>

#include "analysis/providers/providers.h"
#include "kubectl_env.h"
#include "prometheus_query.h"
#include "tests/support/prometheus_harness.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

// A Deployment of `replicas` pods labelled app=web and sluice.dev/pod-template-hash=`hash` (as the
// Rollout controller labels a revision's pods), with these pod annotations.
json annotatedDeployment(const std::string& name, const std::string& hash, int replicas,
                         const json& annotations) {
  const json labels = {{"app", "web"}, {"revision", name}, {"sluice.dev/pod-template-hash", hash}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", {{"app", "web"}, {"revision", name}}}}},
            {"template",
             {{"metadata", {{"labels", labels}, {"annotations", annotations}}},
              {"spec", {{"containers", json::array({{{"name", "web"}, {"image", "web:" + name}}})}}}}}}}};
}

std::string errorRatio(const std::string& hash) {
  return R"(sum(rate(http_requests_total{service="web",code="500",pod_template_hash=")" + hash +
         R"("}[10s])) / sum(rate(http_requests_total{service="web",pod_template_hash=")" + hash +
         R"("}[10s])))";
}

}  // namespace

TEST_CASE("data plane: Prometheus sees each revision's error ratio as its pods' annotation says",
          "[integration][data-plane][prometheus]") {
  KubectlEnv env(std::chrono::milliseconds(500), true, /*dataPlane=*/true);
  REQUIRE(env.server().trafficMetricsPort() > 0);
  PrometheusOptions options;
  options.scrapeTargets = {"127.0.0.1:" + std::to_string(env.server().trafficMetricsPort())};
  PrometheusHarness prometheus(options);

  const json service = {{"apiVersion", "v1"},
                        {"kind", "Service"},
                        {"metadata", {{"name", "web"}, {"namespace", "default"}}},
                        {"spec", {{"selector", {{"app", "web"}}}, {"ports", json::array({{{"port", 80}}})}}}};
  env.ok("apply -f " + env.writeFile("svc.json", service.dump()));
  env.ok("apply -f " +
         env.writeFile("good.json", annotatedDeployment("good", "aaa", 3, json::object()).dump()));
  env.ok(
      "apply -f " +
      env.writeFile("bad.json",
                    annotatedDeployment("bad", "bbb", 1, {{"cluster.sluice.dev/error-rate", "0.3"}}).dump()));
  env.ok("apply -f " +
         env.writeFile(
             "typo.json",
             annotatedDeployment("typo", "ccc", 1, {{"cluster.sluice.dev/error-rate", "30%"}}).dump()));
  env.ok("rollout status deployment/good deployment/bad deployment/typo --timeout=60s");

  auto provider = analysis::makeProvider();
  struct Row {
    const char* revision;
    const char* hash;
    double errorRatio;
  };
  const std::vector<Row> rows = {
      {"annotated 0.3", "bbb", 0.3},
      {"no annotation", "aaa", 0.0},
      {"unreadable annotation: no errors", "ccc", 0.0},
  };
  for (const auto& row : rows) {
    INFO(row.revision << "\n" << prometheus.log());
    std::optional<double> seen;
    // Two scrapes a second apart make the first rate: poll until it is there.
    const bool matched = waitUntil(
        [&] {
          seen = queryOne(*provider, prometheus.address(), errorRatio(row.hash));
          return seen && *seen == Approx(row.errorRatio).margin(1e-6);
        },
        std::chrono::seconds(30));
    INFO("last seen: " << (seen ? std::to_string(*seen) : "no result"));
    CHECK(matched);
  }

  // The Service's 50 requests a second (the default) go to its 5 ready pods alike: 10 a second each,
  // errors or not.
  std::optional<double> perPod;
  const bool even = waitUntil(
      [&] {
        perPod = queryOne(*provider, prometheus.address(),
                          R"(sum(rate(http_requests_total{service="web",pod_template_hash="bbb"}[10s])))");
        return perPod && *perPod == Approx(10).epsilon(0.05);
      },
      std::chrono::seconds(30));
  INFO("bbb's request rate: " << (perPod ? std::to_string(*perPod) : "no result"));
  CHECK(even);

  // The unreadable annotation is reported on the pod, naming it.
  const json events = env.getJson("events -n default --field-selector reason=InvalidClusterAnnotation");
  REQUIRE(events["items"].size() == 1);
  CHECK_THAT(events["items"][0].value("message", ""),
             Catch::Contains("cluster.sluice.dev/error-rate") && Catch::Contains("\"30%\""));
  CHECK_THAT(events["items"][0]["involvedObject"].value("name", ""), Catch::StartsWith("typo-"));
}
