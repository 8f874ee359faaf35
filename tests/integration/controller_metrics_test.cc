// The controller's observability end to end: the manager runs in-process against the embedded API
// server, its /metrics, /healthz and /readyz are served on free ports and read over HTTP as Prometheus
// and a kubelet would, and the Argo Rollouts-named series follow the objects in the caches.
#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <sstream>

#include "controller/http_server.h"
#include "controller/metrics.h"
#include "controller_env.h"
#include "net/http_client.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

using LabelSet = std::map<std::string, std::string>;

// GET http://127.0.0.1:port/target: the status and the body.
std::pair<long, std::string> httpGet(int port, const std::string& target) {
  net::HttpClient http;
  net::Request req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + target;
  req.timeout = std::chrono::seconds(10);
  auto out = http.send(req);
  INFO(target);
  REQUIRE(out.ok());
  return {out.response().status, out.response().body};
}

// The value of the sample `name` with exactly `labels` in a text exposition, or nullopt.
std::optional<double> sample(const std::string& exposition, const std::string& name, const LabelSet& labels) {
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto brace = line.find('{');
    const auto space = line.rfind(' ');
    const std::string sampleName = line.substr(0, std::min(brace, space));
    if (sampleName != name) continue;
    LabelSet found;
    if (brace != std::string::npos && brace < space) {
      // k="v",k="v"} : our label values hold no quotes or escapes.
      std::string rest = line.substr(brace + 1, line.rfind('}') - brace - 1);
      std::istringstream pairs(rest);
      for (std::string kv; std::getline(pairs, kv, ',');) {
        const auto eq = kv.find('=');
        found[kv.substr(0, eq)] = kv.substr(eq + 2, kv.size() - eq - 3);
      }
    }
    if (found == labels) return std::stod(line.substr(space + 1));
  }
  return std::nullopt;
}

// Polls /metrics (every 100 ms, up to 30 s) until the sample has `value`; returns the last scrape.
std::string waitSample(int port, const std::string& name, const LabelSet& labels,
                       std::optional<double> value) {
  std::string text;
  for (int i = 0; i < 300; ++i) {
    text = httpGet(port, "/metrics").second;
    if (sample(text, name, labels) == value) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return text;
}

json rolloutJson() {
  return webRollout("web:v1", 4, json::parse(R"([{"setWeight": 25}, {"pause": {"duration": "1s"}}])"));
}

// A run created directly and terminated at once: Argo marks its unmeasured metric Successful.
json terminatedRun() {
  return json::parse(R"({
    "apiVersion": "sluice.dev/v1alpha1", "kind": "AnalysisRun",
    "metadata": {"name": "checks", "namespace": "default"},
    "spec": {
      "terminate": true,
      "metrics": [{"name": "error-rate", "interval": "10s", "successCondition": "result[0] < 0.05",
                   "provider": {"prometheus": {"address": "http://127.0.0.1:1", "query": "up"}}}]
    }
  })");
}

}  // namespace

TEST_CASE("the controller serves Argo-named metrics from its caches, /healthz, and /readyz once synced",
          "[integration][controller][metrics]") {
  ControllerEnv env;
  controller::Metrics metrics;
  // A client of its own, so that its requests are counted as `sluice controller` counts them.
  kube::KubeconfigOptions ko;
  ko.kubeconfigFlag = env.cluster.server().kubeconfigPath().string();
  auto config = kube::loadClientConfig(ko);
  REQUIRE(config.ok());
  kube::ClientOptions co;
  co.userAgent = "sluice-controller";
  co.onRequest = [&metrics](const kube::RequestRecord& r) { metrics.countRequest(r); };
  auto client = kube::Client::create(*config, co);
  REQUIRE(client.ok());

  controller::ManagerOptions options;
  options.leaderElect = false;
  options.metrics = &metrics;
  controller::Manager manager(**client, *env.provider, options);
  auto metricsServer =
      controller::HttpServer::start("--metrics-addr", "127.0.0.1:0", controller::metricsHandler(metrics));
  REQUIRE(metricsServer.ok());
  auto healthServer =
      controller::HttpServer::start("--health-addr", ":0", controller::healthHandler(manager));
  REQUIRE(healthServer.ok());
  const int metricsPort = (*metricsServer)->port();
  const int healthPort = (*healthServer)->port();
  CHECK(metricsPort > 0);
  CHECK(healthPort != metricsPort);

  // Before the caches synced: alive, not ready, and the reason says why.
  CHECK(httpGet(healthPort, "/healthz").first == 200);
  const auto notReady = httpGet(healthPort, "/readyz");
  CHECK(notReady.first == 503);
  CHECK(notReady.second == "not ready: the informer caches have not synced yet\n");

  REQUIRE(manager.start(std::chrono::seconds(30)).ok());
  CHECK(httpGet(healthPort, "/readyz") == std::pair<long, std::string>{200, "ok\n"});
  CHECK(httpGet(healthPort, "/healthz").first == 200);
  CHECK(httpGet(healthPort, "/nothing").first == 404);

  env.cluster.ok("apply -f " + env.cluster.writeFile("web.json", rolloutJson().dump()));
  REQUIRE(env.waitRollout("web", [](const json& r) {
    return r.value(json::json_pointer("/status/phase"), "") == "Healthy" &&
           r.value(json::json_pointer("/status/availableReplicas"), 0) == 4;
  }));

  const LabelSet web = {{"namespace", "default"}, {"name", "web"}};
  std::string text = waitSample(metricsPort, "rollout_info_replicas_available", web, 4.0);
  INFO(text);
  CHECK(sample(text, "rollout_info",
               {{"namespace", "default"},
                {"name", "web"},
                {"strategy", "canary"},
                {"traffic_router", ""},
                {"phase", "Healthy"}}) == 1.0);
  CHECK(sample(text, "rollout_info_replicas_desired", web) == 4.0);
  CHECK(sample(text, "rollout_info_replicas_available", web) == 4.0);
  CHECK(sample(text, "rollout_info_replicas_unavailable", web) == 0.0);
  // The first revision: its ReplicaSet created and scaled up to 4, each event counted once.
  CHECK(sample(text, "rollout_events_total", {{"type", "Normal"}, {"reason", "NewReplicaSetCreated"}}) ==
        1.0);
  CHECK(sample(text, "rollout_events_total", {{"type", "Normal"}, {"reason", "ScalingReplicaSet"}}) >= 1.0);
  // Requests by resource, verb and status: the ReplicaSet's creation, the Rollout's status patch, lists.
  CHECK(sample(text, "controller_clientset_k8s_request_total",
               {{"kind", "replicasets"}, {"verb", "Create"}, {"status_code", "201"}}) == 1.0);
  CHECK(sample(text, "controller_clientset_k8s_request_total",
               {{"kind", "rollouts"}, {"verb", "Patch"}, {"status_code", "200"}}) >= 1.0);
  CHECK(sample(text, "controller_clientset_k8s_request_total",
               {{"kind", "rollouts"}, {"verb", "List"}, {"status_code", "200"}}) >= 1.0);
  // Reconciles were timed, and the Rollout queue saw the Rollout's key and is empty again.
  CHECK(sample(text, "rollout_reconcile_count", {}) >= 1.0);
  CHECK(sample(text, "workqueue_adds_total", {{"name", "rollouts"}}) >= 1.0);
  CHECK(sample(text, "workqueue_depth", {{"name", "rollouts"}}) == 0.0);
  CHECK(sample(text, "workqueue_queue_duration_seconds_count", {{"name", "rollouts"}}) >= 1.0);
  CHECK(sample(text, "workqueue_work_duration_seconds_count", {{"name", "rollouts"}}) >= 1.0);

  // A Rollout whose stable Ingress does not exist: its reconcile fails and is retried with backoff, and
  // both are counted (rollout_reconcile_error by object, as Argo's; workqueue_retries_total by queue).
  for (const char* service : {"broken-canary", "broken-stable"}) {
    const json svc = {{"apiVersion", "v1"},
                      {"kind", "Service"},
                      {"metadata", {{"name", service}, {"namespace", "default"}}},
                      {"spec", {{"selector", {{"app", "web"}}}, {"ports", json::array({{{"port", 80}}})}}}};
    env.cluster.ok("apply -f " + env.cluster.writeFile(std::string(service) + ".json", svc.dump()));
  }
  json broken = rolloutJson();
  broken["metadata"]["name"] = "broken";
  broken["spec"]["strategy"]["canary"]["canaryService"] = "broken-canary";
  broken["spec"]["strategy"]["canary"]["stableService"] = "broken-stable";
  broken["spec"]["strategy"]["canary"]["trafficRouting"] = {{"nginx", {{"stableIngress", "missing"}}}};
  env.cluster.ok("apply -f " + env.cluster.writeFile("broken.json", broken.dump()));
  CHECK(testing::waitUntil(
      [&] {
        text = httpGet(metricsPort, "/metrics").second;
        return sample(text, "rollout_reconcile_error", {{"namespace", "default"}, {"name", "broken"}}) >= 1.0;
      },
      std::chrono::seconds(10)));
  CHECK(sample(text, "workqueue_retries_total", {{"name", "rollouts"}}) >= 1.0);
  env.cluster.ok("delete rollout broken -n default");

  // An AnalysisRun created directly and terminated: its series follow its status.
  env.cluster.ok("apply -f " + env.cluster.writeFile("run.json", terminatedRun().dump()));
  const LabelSet run = {{"namespace", "default"}, {"name", "checks"}};
  text = waitSample(metricsPort, "analysis_run_info",
                    {{"namespace", "default"}, {"name", "checks"}, {"phase", "Successful"}}, 1.0);
  CHECK(sample(text, "analysis_run_info",
               {{"namespace", "default"}, {"name", "checks"}, {"phase", "Successful"}}) == 1.0);
  CHECK(
      sample(
          text, "analysis_run_metric_type",
          {{"namespace", "default"}, {"name", "checks"}, {"metric", "error-rate"}, {"type", "Prometheus"}}) ==
      1.0);
  for (const char* phase : {"Pending", "Error", "Failed", "Successful", "Running", "Inconclusive"}) {
    INFO(phase);
    CHECK(sample(text, "analysis_run_metric_phase",
                 {{"namespace", "default"},
                  {"name", "checks"},
                  {"metric", "error-rate"},
                  {"type", "Prometheus"},
                  {"dry_run", "false"},
                  {"phase", phase}}) == (std::string(phase) == "Successful" ? 1.0 : 0.0));
  }
  // A reconcile is timed once it returns, a moment after its status write is already visible.
  CHECK(testing::waitUntil(
      [&] {
        return sample(httpGet(metricsPort, "/metrics").second, "analysis_run_reconcile_count", {}) >= 1.0;
      },
      std::chrono::seconds(10)));

  // Deleted objects vanish from the next scrapes: nothing is kept per object.
  env.cluster.ok("delete analysisrun checks -n default");
  env.cluster.ok("delete rollout web -n default");
  text = waitSample(metricsPort, "rollout_info_replicas_desired", web, std::nullopt);
  text = waitSample(
      metricsPort, "analysis_run_metric_type",
      {{"namespace", "default"}, {"name", "checks"}, {"metric", "error-rate"}, {"type", "Prometheus"}},
      std::nullopt);
  CHECK(text.find("name=\"web\"") == std::string::npos);
  CHECK(text.find("name=\"checks\"") == std::string::npos);
  // The failed reconciles of `broken` are counted no more once it is gone.
  CHECK(text.find("name=\"broken\"") == std::string::npos);
  CHECK(text.find("# TYPE rollout_info gauge") != std::string::npos);

  manager.stop();
}
