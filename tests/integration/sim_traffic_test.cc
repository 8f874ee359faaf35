// `sluice sim` with a scenario's spec.traffic: the simulated data plane runs beside the simulation, its
// series go to a real Prometheus at virtual times, and the analyses' PromQL (the examples' own templates,
// on ingress-nginx's, Istio's and Traefik's series) is evaluated there, so the outcome follows from each
// revision's error rate, not from scripted values.
#include <catch2/catch.hpp>
#include <fstream>

#include "base/source.h"
#include "tests/support/process.h"

using namespace sluice::testing;
using nlohmann::json;

namespace {

const std::string kSourceDir = SLUICE_SOURCE_DIR;
const std::string kBinary = SLUICE_BINARY;

// Runs `sluice sim FILES --scenario (the scenario text) -o json` in the source folder.
json simulate(const TempDir& dir, const std::string& files, const std::string& scenario,
              std::string& errors) {
  const auto path = dir / "scenario.yaml";
  std::ofstream(path) << "apiVersion: sluice.dev/v1alpha1\nkind: Scenario\nspec:\n" << scenario;
  const auto out = dir / "out.json";
  // stdout to the file; runCommand captures stderr.
  const auto r = runCommand("(cd '" + kSourceDir + "' && '" + kBinary + "' sim " + files + " --scenario '" +
                            path.string() + "' -o json >'" + out.string() + "')");
  errors = r.output;
  if (r.exitCode != 0) return json();
  std::ifstream o(out);
  return json::parse(o);
}

// The file at `path` in the source tree, whole.
std::string sourceFile(const std::string& path) {
  auto text = sluice::readFile(kSourceDir + "/" + path);
  REQUIRE(text.ok());
  return *text;
}

// The values of the first AnalysisRun's measurements, as the report prints them.
std::vector<std::string> measured(const json& report) {
  std::vector<std::string> out;
  for (const auto& m : report["analysisRuns"][0]["measurements"]) out.push_back(m["value"]);
  return out;
}

}  // namespace

TEST_CASE(
    "sluice sim with spec.traffic: the demo's success rate from ingress-nginx's series on a real Prometheus "
    "promotes a healthy revision and aborts one answering half its requests with 500",
    "[integration][sim][traffic][prometheus]") {
  TempDir dir("sluice-sim-traffic");
  std::string errors;
  const std::string base =
      "  duration: 10m\n  readiness: 2s\n  traffic:\n    rps: 50\n    scrapeInterval: 2s\n";

  const json healthy = simulate(dir, "examples/demo/rollout.yaml", base, errors);
  INFO(errors);
  REQUIRE(healthy.is_object());
  CHECK(healthy["result"]["phase"] == "Healthy");
  CHECK(measured(healthy) == std::vector<std::string>{"[1]", "[1]", "[1]", "[1]"});

  const json bad = simulate(
      dir, "examples/demo/rollout.yaml",
      base + "    versions:\n      registry.example/frontend:1.0: {errorRate: 0.5, latency: 80ms}\n", errors);
  REQUIRE(bad.is_object());
  CHECK(bad["result"]["phase"] == "Degraded");
  CHECK(bad["result"]["aborted"] == true);
  // The canary Ingress took 20% of the host's 50 requests a second, half of them answered with 500.
  CHECK(measured(bad) == std::vector<std::string>{"[0.5]"});
}

TEST_CASE(
    "sluice sim with spec.traffic: the canary-istio example's success rate from istio_requests_total, "
    "the revision's error rate given in the scenario",
    "[integration][sim][traffic][prometheus][istio]") {
  TempDir dir("sluice-sim-traffic");
  std::string errors;
  const std::string base = "  duration: 1h\n  readiness: 30s\n  traffic:\n    scrapeInterval: 15s\n";
  const json healthy = simulate(dir, "examples/canary-istio/rollout.yaml", base, errors);
  INFO(errors);
  REQUIRE(healthy.is_object());
  CHECK(healthy["result"]["phase"] == "Healthy");
  CHECK(measured(healthy) == std::vector<std::string>{"[1]", "[1]", "[1]"});

  const json bad =
      simulate(dir, "examples/canary-istio/rollout.yaml",
               base + "    versions:\n      registry.example/web:v2: {errorRate: 0.1}\n", errors);
  REQUIRE(bad.is_object());
  CHECK(bad["result"]["phase"] == "Degraded");
  CHECK(measured(bad) == std::vector<std::string>{"[0.9]"});
}

TEST_CASE("sluice sim with spec.traffic: a router whose objects are not among the files is a clear error",
          "[integration][sim][traffic]") {
  TempDir dir("sluice-sim-traffic");
  // The demo's Rollout and template without its Services and Ingress.
  const auto rollout = dir / "rollout.yaml";
  {
    const std::string all = sourceFile("examples/demo/rollout.yaml");
    std::ofstream(rollout) << all.substr(all.find("apiVersion: sluice.dev/v1alpha1\nkind: Rollout"));
  }
  std::string errors;
  const json r = simulate(dir, "'" + rollout.string() + "'", "  traffic: {}\n", errors);
  CHECK(r.is_null());
  CHECK_THAT(errors, Catch::Contains("spec.traffic") && Catch::Contains("frontend") &&
                         Catch::Contains("input files"));
}

// A Rollout routed by a weighted TraefikService, its analysis on Traefik's own service series.
const char* const kTraefikManifests = R"(apiVersion: v1
kind: Service
metadata: {name: web-stable}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web-canary}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: web-wrr}
spec:
  weighted:
    services:
      - {name: web-stable, port: 80}
      - {name: web-canary, port: 80}
---
apiVersion: sluice.dev/v1alpha1
kind: AnalysisTemplate
metadata: {name: traefik-success-rate}
spec:
  metrics:
    - name: success-rate
      interval: 30s
      count: 2
      successCondition: "result[0] >= 0.95"
      failureCondition: "result[0] < 0.95"
      provider:
        prometheus:
          address: http://prometheus.example:9090
          query: |
            sum(rate(traefik_service_requests_total{service="default-web-canary-80@kubernetescrd",code!~"5.."}[1m]))
            /
            sum(rate(traefik_service_requests_total{service="default-web-canary-80@kubernetescrd"}[1m]))
---
apiVersion: sluice.dev/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 4
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - {name: web, image: "registry.example/web:v2"}
  strategy:
    canary:
      canaryService: web-canary
      stableService: web-stable
      trafficRouting:
        traefik:
          weightedTraefikServiceName: web-wrr
      steps:
        - setWeight: 25
        - pause: {duration: 1m}
        - analysis:
            templates:
              - templateName: traefik-success-rate
        - setWeight: 100
)";

TEST_CASE(
    "sluice sim with spec.traffic: a Rollout routed by Traefik measured on traefik_service_requests_total, "
    "the canary's errors counted under its Service as Traefik names it",
    "[integration][sim][traffic][prometheus][traefik]") {
  TempDir dir("sluice-sim-traffic");
  const auto files = dir / "web.yaml";
  std::ofstream(files) << kTraefikManifests;
  std::string errors;
  const std::string base = "  duration: 30m\n  readiness: 10s\n  traffic:\n    scrapeInterval: 15s\n";
  const json healthy = simulate(dir, "'" + files.string() + "'", base, errors);
  INFO(errors);
  REQUIRE(healthy.is_object());
  CHECK(healthy["result"]["phase"] == "Healthy");
  CHECK(measured(healthy) == std::vector<std::string>{"[1]", "[1]"});

  const json bad =
      simulate(dir, "'" + files.string() + "'",
               base + "    versions:\n      registry.example/web:v2: {errorRate: 0.5}\n", errors);
  REQUIRE(bad.is_object());
  CHECK(bad["result"]["phase"] == "Degraded");
  CHECK(measured(bad) == std::vector<std::string>{"[0.5]"});
}

TEST_CASE(
    "sluice sim of a Rollout routed by Ambassador runs without spec.traffic and with it is a clear error: "
    "the data plane does not route by Mappings yet",
    "[integration][sim][traffic][ambassador]") {
  TempDir dir("sluice-sim-traffic");
  // Argo Rollouts' Ambassador example (tests/data/lint/argo-routers.yaml): its Mapping and Rollout.
  const auto rollout = dir / "rollout.yaml";
  {
    const std::string all = sourceFile("tests/data/lint/argo-routers.yaml");
    const size_t first = all.find("apiVersion: getambassador.io");
    std::ofstream(rollout) << all.substr(first, all.find("\n---\napiVersion: apisix.apache.org") - first)
                           << "\n";
  }
  std::string errors;
  const json plain = simulate(dir, "'" + rollout.string() + "'", "  duration: 10m\n", errors);
  INFO(errors);
  REQUIRE(plain.is_object());
  CHECK(plain["trafficRouting"] == true);
  const json routed = simulate(dir, "'" + rollout.string() + "'", "  duration: 10m\n  traffic: {}\n", errors);
  CHECK(routed.is_null());
  CHECK_THAT(errors, Catch::Contains("spec.traffic: the simulated data plane does not route requests by "
                                     "Mappings yet"));
}

TEST_CASE(
    "sluice sim of a Rollout routed by ALB runs without spec.traffic and with it is a clear error: the data "
    "plane does not route by ALB actions yet",
    "[integration][sim][traffic][alb]") {
  TempDir dir("sluice-sim-traffic");
  const auto rollout = dir / "rollout.yaml";
  std::ofstream(rollout) << R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: registry.example/web:v2}]}
  strategy:
    canary:
      pingPong: {pingService: web-ping, pongService: web-pong}
      trafficRouting:
        alb: {ingress: web, servicePort: 80, rootService: web-root}
      steps: [{setWeight: 40}, {pause: {}}]
)";
  std::string errors;
  const json plain = simulate(dir, "'" + rollout.string() + "'", "  duration: 10m\n", errors);
  INFO(errors);
  REQUIRE(plain.is_object());
  CHECK(plain["trafficRouting"] == true);
  CHECK(plain["result"]["phase"] == "Paused");
  const json routed = simulate(dir, "'" + rollout.string() + "'", "  duration: 10m\n  traffic: {}\n", errors);
  CHECK(routed.is_null());
  CHECK_THAT(
      errors,
      Catch::Contains("spec.traffic: the simulated data plane does not route requests by ALB actions yet"));
}

TEST_CASE(
    "sluice sim with spec.traffic: an experiment step's weighted template takes its share of the requests "
    "through Istio, measured on istio_requests_total by the Experiment's own analysis",
    "[integration][sim][traffic][prometheus][istio][experiment]") {
  TempDir dir("sluice-sim-traffic");
  const auto files = dir / "web.yaml";
  std::string manifests = sourceFile("examples/canary-istio/rollout.yaml");
  // The example's Services, VirtualService and Rollout up to its steps; then steps of our own: the canary
  // at 20% beside an experiment of the new revision at 30%, whose analysis measures the share of all
  // requests its Service is sent.
  const size_t steps = manifests.find("      steps:\n");
  REQUIRE(steps != std::string::npos);
  manifests = manifests.substr(0, steps) + R"(      steps:
        - setWeight: 20
        - experiment:
            duration: 10m
            templates:
              - {name: preview, specRef: canary, weight: 30}
            analyses:
              - {name: share, templateName: experiment-share}
        - pause: {}
---
apiVersion: sluice.dev/v1alpha1
kind: AnalysisTemplate
metadata:
  name: experiment-share
spec:
  metrics:
    - name: share
      initialDelay: 2m
      interval: 2m
      count: 2
      successCondition: "result[0] > 0.29 && result[0] < 0.31"
      provider:
        prometheus:
          address: http://prometheus.istio-system:9090
          query: |
            sum(rate(istio_requests_total{reporter="source",destination_service_name=~"web-.+-preview"}[1m]))
            /
            sum(rate(istio_requests_total{reporter="source"}[1m]))
)";
  std::ofstream(files) << manifests;
  std::string errors;
  const json report = simulate(
      dir, "'" + files.string() + "'",
      "  duration: 30m\n  readiness: 10s\n  traffic:\n    rps: 100\n    scrapeInterval: 15s\n", errors);
  INFO(errors);
  REQUIRE(report.is_object());
  // The Experiment Successful, the update waits at the pause after it.
  CHECK(report["result"]["phase"] == "Paused");
  CHECK(measured(report) == std::vector<std::string>{"[0.3]", "[0.3]"});
}
