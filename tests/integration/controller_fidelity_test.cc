// The simulator predicts the controller. Each plan is simulated with the scenario's readiness equal to the
// embedded cluster's pod-ready-after, then run by the controller on that cluster (over HTTPS, the CRDs
// applied by the real kubectl), with the same person's actions at the same instants after the update. The
// sequences of (step index, canary weight, phase) must be equal, and each transition must follow the one
// before it after the predicted interval, within a second (the engine's clock has whole seconds) plus the
// controller's latency.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <mutex>
#include <optional>
#include <sstream>
#include <stop_token>
#include <thread>

#include "analysis/model_json.h"
#include "analysis/providers/providers.h"
#include "base/pod_behaviour.h"
#include "base/quantity.h"
#include "base/source.h"
#include "controller_env.h"
#include "engine/rollout_json.h"
#include "engine/steering.h"
#include "net/http_server.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "tests/support/prometheus_harness.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

const kube::ResourceRef kRollouts{"sluice.dev", "v1alpha1", "rollouts", true, "Rollout"};
const kube::ResourceRef kDeployments{"apps", "v1", "deployments", true, "Deployment"};
const kube::ResourceRef kIngresses{"networking.k8s.io", "v1", "ingresses", true, "Ingress"};
const kube::ResourceRef kVirtualServices{"networking.istio.io", "v1beta1", "virtualservices", true,
                                         "VirtualService"};
// At the controller's default version, v1alpha1, whose weights are quantities.
const kube::ResourceRef kTrafficSplits{"split.smi-spec.io", "v1alpha1", "trafficsplits", true,
                                       "TrafficSplit"};
const kube::ResourceRef kHttpRoutes{"gateway.networking.k8s.io", "v1", "httproutes", true, "HTTPRoute"};
const kube::ResourceRef kFidelityServices{"", "v1", "services", true, "Service"};

// Which object carries the canary's weight when a router sets it, and where in it: the weight a person
// sees. A missing object carries none (0: all on the stable).
struct RoutedWeight {
  kube::ResourceRef resource;
  std::string name;
  std::function<int(const json& live)> canaryWeight;
  // When set, the stable's weight is compared too (an experiment's templates take theirs from it).
  std::function<int(const json& live)> stableWeight = {};
};

// The weight of the first entry naming `target` at `nameKey` in the lists at `lists` (JSON pointers; a
// list under a list is reached through `nested`); 0 when none does. Weights may be quantities ("30").
int listedWeight(const json& live, const std::string& lists, const std::string& nested,
                 const std::string& nameKey, const std::string& target) {
  auto entries = [](const json& obj, const std::string& pointer) {
    const json::json_pointer at(pointer);
    return obj.contains(at) && obj[at].is_array() ? obj[at] : json::array();
  };
  for (const auto& outer : entries(live, lists)) {
    for (const auto& entry : nested.empty() ? json::array({outer}) : entries(outer, nested)) {
      if (!entry.contains(json::json_pointer(nameKey)) || entry[json::json_pointer(nameKey)] != target)
        continue;
      return static_cast<int>(std::lround(quantityValue(entry.value("weight", json(0))).value_or(-1)));
    }
  }
  return 0;
}

// ingress-nginx: the canary Ingress's canary-weight annotation.
RoutedWeight canaryIngressWeight(const std::string& canaryIngress) {
  return {kIngresses, canaryIngress, [](const json& live) {
            return std::stoi(live.value(json::json_pointer("/metadata/annotations"), json::object())
                                 .value("nginx.ingress.kubernetes.io/canary-weight", "0"));
          }};
}

// Istio: the route destination of the canary's host in the VirtualService.
RoutedWeight virtualServiceWeight(const std::string& name, const std::string& canaryHost) {
  return {kVirtualServices, name, [canaryHost](const json& live) {
            return listedWeight(live, "/spec/http", "/route", "/destination/host", canaryHost);
          }};
}

// SMI: the canary Service's backend in the TrafficSplit.
RoutedWeight trafficSplitWeight(const std::string& name, const std::string& canaryService) {
  return {kTrafficSplits, name, [canaryService](const json& live) {
            return listedWeight(live, "/spec/backends", "", "/service", canaryService);
          }};
}

// Gateway API: the canary Service's backendRef in the HTTPRoute's rules.
RoutedWeight httpRouteWeight(const std::string& name, const std::string& canaryService) {
  return {kHttpRoutes, name, [canaryService](const json& live) {
            return listedWeight(live, "/spec/rules", "/backendRefs", "/name", canaryService);
          }};
}

// What a person sees of a Rollout at one instant.
struct Visible {
  int step = -1;
  int canaryWeight = 0;
  std::string phase;
  // With Plan::compareScale: the ReplicaSets' desired sizes (spec.replicas) of the canary (0 when not
  // updating) and of the stable; -1 otherwise.
  int canaryDesired = -1;
  int stableDesired = -1;
  // Blue-green: the pod-template hash the active and the preview Service select ("" for none).
  std::string active = "";
  std::string preview = "";
  int stableWeight = -1;  // with RoutedWeight::stableWeight; -1 otherwise
  bool operator==(const Visible& o) const = default;
};

std::ostream& operator<<(std::ostream& os, const Visible& v) {
  os << "(step " << v.step << ", canary " << v.canaryWeight << "%, " << v.phase;
  if (v.canaryDesired >= 0)
    os << ", replicas " << v.canaryDesired << " canary " << v.stableDesired << " stable";
  if (!v.active.empty() || !v.preview.empty()) os << ", active " << v.active << " preview " << v.preview;
  if (v.stableWeight >= 0) os << ", stable " << v.stableWeight << "%";
  return os << ")";
}

struct Transition {
  double at = 0;  // seconds after the update
  Visible state;
};

// How long the machine kept this process from running: a thread that asks to sleep 20 ms at a time and
// records by how much each sleep overran. On an idle machine that is next to nothing; on a machine
// loaded by other builds and tests, the controller (and this test's own observations) were held up by
// about as much, which a timing comparison must allow for and report, not count as a misprediction.
class StallMonitor {
 public:
  explicit StallMonitor(std::chrono::steady_clock::time_point t0)
      : t0_(t0), thread_([this](const std::stop_token& stop) { run(stop); }) {}

  // The overrun recorded between `from` and `to` (seconds after t0).
  double stalledBetween(double from, double to) {
    const std::lock_guard lock(mutex_);
    double total = 0;
    for (const auto& [at, overrun] : overruns_)
      if (at > from && at <= to) total += overrun;
    return total;
  }

 private:
  void run(const std::stop_token& stop) {
    constexpr auto kTick = std::chrono::milliseconds(20);
    while (!stop.stop_requested()) {
      const auto before = std::chrono::steady_clock::now();
      std::this_thread::sleep_for(kTick);
      const auto after = std::chrono::steady_clock::now();
      const double overrun = std::chrono::duration<double>(after - before - kTick).count();
      if (overrun > 0.005) {
        const std::lock_guard lock(mutex_);
        overruns_.emplace_back(std::chrono::duration<double>(after - t0_).count(), overrun);
      }
    }
  }

  std::chrono::steady_clock::time_point t0_;
  std::mutex mutex_;
  std::vector<std::pair<double, double>> overruns_;  // (seconds after t0, overrun in seconds)
  std::jthread thread_;
};

std::string describe(const std::vector<Transition>& seq) {
  std::ostringstream os;
  for (const auto& t : seq) os << "\n  " << std::fixed << std::setprecision(1) << t.at << "s " << t.state;
  return os.str();
}

// A plan: the Rollout as first applied (its stable revision), the Rollout the update applies, and what a
// person does after the update (Update actions carry the image to set).
struct Plan {
  json stable;
  json updated;
  std::vector<sim::PersonAction> actions;
  // With spec.workloadRef: the Deployment holding the template, first applied (stable) and as the update
  // applies it; `stable` and `updated` are then the same Rollout.
  std::optional<json> stableDeployment;
  std::optional<json> updatedDeployment;
  // Objects the plan needs on the cluster first (the Services and Ingress of a traffic-routed one).
  std::vector<json> objects;
  // With trafficRouting: the canary weight is the routing object's (the canary Ingress, the VirtualService,
  // the TrafficSplit, the HTTPRoute), not the canary's share of pods.
  std::optional<RoutedWeight> routedWeight;
  // How the simulator ends the AnalysisRuns of each template (the cluster runs them for real).
  std::map<std::string, sim::AnalysisOutcome> analysisRuns;
  // AnalysisTemplates and ClusterAnalysisTemplates that both sides run for real: the cluster measures their
  // metrics through their providers, the simulator through `metrics` (the scenario's spec.metrics).
  std::vector<json> templates;
  std::map<std::string, std::vector<sim::MetricPoint>> metrics;
  // The cluster runs its simulated data plane (for Prometheus to scrape).
  bool dataPlane = false;
  // The simulator runs it too (spec.traffic), over `objects`, and measures prometheus metrics on it.
  std::optional<sim::TrafficSpec> traffic;
  // Called at the instant the update is applied on the cluster (the simulation's time 0).
  std::function<void()> onUpdate;
  // Compare the canary's and the stable's desired sizes too (setCanaryScale, dynamicStableScale).
  bool compareScale = false;

  // The objects whose spec.template is the Rollout's, before and after the update.
  const json& stableHolder() const { return stableDeployment ? *stableDeployment : stable; }
  const json& updatedHolder() const { return updatedDeployment ? *updatedDeployment : updated; }
};

std::string imageOf(const json& holder) {
  return holder["spec"]["template"]["spec"]["containers"][0].value("image", "");
}

sim::PersonAction action(int at, sim::PersonAction::Kind kind, std::string image = "") {
  sim::PersonAction a;
  a.at = Duration{at};
  a.kind = kind;
  a.image = std::move(image);
  return a;
}

// The simulator's sequence: the state each instant settles in, from the first instant of the new revision's
// steps; `passing` gets the states it goes through within an instant, which a cluster may show for the
// moment its writes take to come back through the watch (at a promotion behind a router: the canary at
// 100% until the stable Service selects it).
std::vector<Transition> predict(const Plan& plan, Duration readiness, std::vector<Visible>& passing) {
  Diagnostics diags;
  auto parsed = engine::parseRollout(plan.updated, SourceMap(), diags);
  REQUIRE(parsed);
  sim::Scenario scenario;
  scenario.readiness = readiness;
  scenario.stableImage = imageOf(plan.stableHolder());
  scenario.actions = plan.actions;
  scenario.analysisRuns = plan.analysisRuns;
  scenario.metrics = plan.metrics;
  scenario.duration = Duration{600};
  sim::SimOptions options;
  for (const auto& t : plan.templates) {
    auto parsedTemplate = analysis::parseAnalysisTemplate(t, SourceMap(), diags);
    INFO(diags.format());
    REQUIRE(parsedTemplate);
    options.templates.push_back(*parsedTemplate);
  }
  options.stableTemplate = plan.stableHolder()["spec"]["template"];
  std::unique_ptr<analysis::Provider> prometheus;
  if (plan.traffic) {
    scenario.traffic = plan.traffic;
    options.clusterObjects = plan.objects;
    prometheus = analysis::makeProvider();
    options.prometheusProvider = prometheus.get();
  }
  auto result = sim::simulate(sim::RolloutInput{plan.updated, SourceMap(), *parsed, plan.updatedDeployment},
                              scenario, options);
  REQUIRE(result.ok());
  std::vector<Transition> out;
  for (size_t i = 0; i < result->timeline.size(); ++i) {
    const auto& row = result->timeline[i];
    Visible v{row.step.value_or(-1), row.canaryWeight, row.phase};
    if (result->blueGreen) {
      v.active = row.active.value_or("");
      v.preview = row.preview.value_or("");
    }
    if (plan.compareScale) {
      v.canaryDesired = row.canary.desired;
      v.stableDesired = row.stable.desired;
    }
    if (plan.routedWeight && plan.routedWeight->stableWeight) v.stableWeight = row.stableWeight;
    if (i + 1 < result->timeline.size() && result->timeline[i + 1].t == row.t) {
      passing.push_back(v);
      continue;
    }
    if (out.empty() || !(out.back().state == v))
      out.push_back({std::chrono::duration<double>(row.t).count(), v});
  }
  return out;
}

// The controller's side, as the simulator computes it: the canary's share of available pods when nothing
// routes traffic, the routing object's weight when a router does. `revision`: the status's currentPodHash.
Visible observe(ControllerEnv& env, const Plan& plan, const std::string& name, std::string& revision) {
  auto r = env.client->get(kRollouts, "default", name);
  REQUIRE(r.ok());
  const json& status = r->value("status", json::object());
  revision = status.value("currentPodHash", "");
  Visible v;
  v.step = status.value("currentStepIndex", -1);
  v.phase = status.value("phase", "Progressing");
  const std::string current = status.value("currentPodHash", "");
  const bool updating = current != status.value("stableRS", "");
  auto sets = env.client->list(kReplicaSets, "default");
  REQUIRE(sets.ok());
  int total = 0, canary = 0;
  if (plan.compareScale) v.canaryDesired = v.stableDesired = 0;
  for (const auto& rs : (*sets)["items"]) {
    const json owners = rs["metadata"].value("ownerReferences", json::array());
    if (owners.empty() || owners[0].value("kind", "") != "Rollout" || owners[0].value("name", "") != name)
      continue;
    // Without a router traffic follows the ready pods (a Service's endpoints), available or not yet.
    const int ready = rs.value(json::json_pointer("/status/readyReplicas"), 0);
    total += ready;
    const std::string hash = rs["metadata"]["labels"].value(engine::kPodTemplateHashLabel, "");
    if (updating && hash == current) canary += ready;
    if (plan.compareScale) {
      const int desired = rs.value(json::json_pointer("/spec/replicas"), 1);
      if (updating && hash == current) v.canaryDesired = desired;
      if (hash == status.value("stableRS", "")) v.stableDesired = desired;
    }
  }
  v.canaryWeight = total ? static_cast<int>(std::lround(100.0 * canary / total)) : 0;
  const json blueGreen = r->value(json::json_pointer("/spec/strategy/blueGreen"), json());
  if (blueGreen.is_object()) {  // the Services' selectors are what a person sees, not a weight
    v.canaryWeight = 0;
    auto selects = [&](const std::string& service) {
      auto live = env.client->get(kFidelityServices, "default", service);
      return live ? live->value(json::json_pointer("/spec/selector"), json::object())
                        .value(engine::kPodTemplateHashLabel, "")
                  : std::string();
    };
    v.active = selects(blueGreen.value("activeService", ""));
    v.preview = selects(blueGreen.value("previewService", ""));
  }
  if (const auto& routed = plan.routedWeight) {
    auto live = env.client->get(routed->resource, "default", routed->name);
    v.canaryWeight = live ? routed->canaryWeight(*live) : 0;
    if (routed->stableWeight) v.stableWeight = live ? routed->stableWeight(*live) : 100;
  }
  return v;
}

// Carries out a person's action as `kubectl sluice` will: the engine's steering patches, spec then status.
void act(ControllerEnv& env, const Plan& plan, const std::string& name, const sim::PersonAction& a) {
  if (a.kind == sim::PersonAction::Kind::Update) {
    // The template where it is kept: in the Rollout, or in the Deployment its workloadRef names.
    const kube::ResourceRef& holder = plan.updatedDeployment ? kDeployments : kRollouts;
    const std::string holderName =
        plan.updatedDeployment ? (*plan.updatedDeployment)["metadata"].value("name", "") : name;
    auto r = env.client->get(holder, "default", holderName);
    REQUIRE(r.ok());
    json containers = (*r)["spec"]["template"]["spec"]["containers"];
    containers[0]["image"] = a.image;
    REQUIRE(env.client
                ->patch(holder, "default", holderName, kube::PatchType::kMerge,
                        {{"spec", {{"template", {{"spec", {{"containers", containers}}}}}}}})
                .ok());
    return;
  }
  auto r = env.client->get(kRollouts, "default", name);
  REQUIRE(r.ok());
  Diagnostics diags;
  auto rollout = engine::parseRollout(*r, SourceMap(), diags);
  REQUIRE(rollout);
  Result<engine::SteeringPatch> patch = Error{"no patch"};
  switch (a.kind) {
    case sim::PersonAction::Kind::Promote:
      patch = engine::promotePatch(*rollout);
      break;
    case sim::PersonAction::Kind::Abort:
      patch = engine::abortPatch(*rollout);
      break;
    case sim::PersonAction::Kind::Retry:
      patch = engine::retryPatch(*rollout);
      break;
    case sim::PersonAction::Kind::Restart:
      patch = engine::restartPatch(*rollout, toSeconds(std::chrono::system_clock::now()) + a.in);
      break;
    default:
      FAIL("the test does not carry out " << sim::describeAction(a));
  }
  if (!patch) FAIL(sim::describeAction(a) << " refused: " << patch.error());
  if (!patch->spec.is_null())
    REQUIRE(env.client->patch(kRollouts, "default", name, kube::PatchType::kMerge, patch->spec).ok());
  if (!patch->status.is_null())
    REQUIRE(
        env.client->patch(kRollouts, "default", name, kube::PatchType::kMerge, patch->status, {}, "status")
            .ok());
}

bool terminal(const std::string& phase) { return phase == "Healthy" || phase == "Degraded"; }

// Runs the plan on the cluster: the stable revision to Healthy, then the update, observed every 50 ms
// until the final predicted state holds with no action left. States seen for under 300 ms are the
// instants between a pod becoming ready and the controller's reaction to it, not states of the plan.
std::vector<Transition> runOnCluster(ControllerEnv& env, const Plan& plan, const Visible& final,
                                     std::optional<StallMonitor>& stalls) {
  const std::string name = plan.stable["metadata"]["name"];
  for (size_t i = 0; i < plan.objects.size(); ++i)
    env.cluster.ok("apply -f " +
                   env.cluster.writeFile("object-" + std::to_string(i) + ".json", plan.objects[i].dump()));
  for (size_t i = 0; i < plan.templates.size(); ++i)
    env.cluster.ok("apply -f " + env.cluster.writeFile("template-" + std::to_string(i) + ".json",
                                                       plan.templates[i].dump()));
  if (plan.stableDeployment)
    env.cluster.ok("apply -f " +
                   env.cluster.writeFile(name + "-deployment.json", plan.stableDeployment->dump()));
  env.cluster.ok("apply -f " + env.cluster.writeFile(name + "-stable.json", plan.stable.dump()));
  REQUIRE(env.waitRollout(name, [](const json& r) {
    return r.value(json::json_pointer("/status/phase"), std::string()) == "Healthy";
  }));
  const std::string stableRevision = env.rollout(name)["status"].value("currentPodHash", "");
  env.cluster.ok("apply -f " + env.cluster.writeFile(name + "-update.json",
                                                     plan.updatedDeployment ? plan.updatedDeployment->dump()
                                                                            : plan.updated.dump()));
  const auto t0 = std::chrono::steady_clock::now();
  stalls.emplace(t0);
  if (plan.onUpdate) plan.onUpdate();
  auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  std::vector<Transition> seen;
  size_t nextAction = 0;
  double lastActed = 0;
  while (since() < 120) {
    if (nextAction < plan.actions.size() &&
        since() >= std::chrono::duration<double>(plan.actions[nextAction].at).count()) {
      act(env, plan, name, plan.actions[nextAction++]);
      lastActed = since();
    }
    std::string revision;
    const Visible v = observe(env, plan, name, revision);
    const double t = since();
    if (revision == stableRevision && seen.empty()) {  // the controller has not seen the update yet
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (seen.empty() || !(seen.back().state == v)) {
      if (!seen.empty() && seen.size() > 1 && t - seen.back().at < 0.3) seen.pop_back();
      if (seen.empty() || !(seen.back().state == v)) seen.push_back({t, v});
    }
    // Done once the final state has held for a second with every action carried out (and a second given
    // to the last action, which may leave the state as it was for a moment: a restart once Healthy).
    if (nextAction == plan.actions.size() && v == final && terminal(v.phase) &&
        t - std::max(seen.back().at, lastActed) > 1.0)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return seen;
}

// Simulates the plan, runs it on a fresh cluster whose pods are ready after a second, compares; returns
// the Rollout as it ends on the cluster. `prepare` readies the cluster first and may adapt the plan to it.
json checkPrediction(Plan plan, const std::function<void(ControllerEnv&, Plan&)>& prepare = {}) {
  const auto podReadyAfter = std::chrono::milliseconds(1000);
  ControllerEnv env(podReadyAfter, plan.dataPlane);
  if (prepare) prepare(env, plan);
  env.startController();
  std::vector<Visible> passing;
  const auto predicted = predict(plan, std::chrono::duration_cast<Duration>(podReadyAfter), passing);
  REQUIRE(!predicted.empty());
  std::optional<StallMonitor> stalls;
  const auto seen = runOnCluster(env, plan, predicted.back().state, stalls);
  // What the cluster showed, less the states the simulator passes through within an instant where the
  // prediction has moved on from them (they take the controller a round trip through the watch).
  std::vector<Transition> actual;
  for (const auto& t : seen) {
    const bool expected = actual.size() < predicted.size() && t.state == predicted[actual.size()].state;
    if (!expected && std::find(passing.begin(), passing.end(), t.state) != passing.end()) continue;
    actual.push_back(t);
  }
  INFO("predicted:" << describe(predicted) << "\non the cluster:" << describe(seen));
  REQUIRE(actual.size() == predicted.size());
  for (size_t i = 0; i < actual.size(); ++i) CHECK(actual[i].state == predicted[i].state);
  for (size_t i = 1; i < actual.size(); ++i) {
    const double expected = predicted[i].at - predicted[i - 1].at;
    const double took = actual[i].at - actual[i - 1].at;
    const double stalled = stalls->stalledBetween(actual[i - 1].at, actual[i].at);
    INFO("transition " << i << " to " << predicted[i].state << ": predicted after " << expected << "s, took "
                       << took << "s, the machine stalled this process for " << stalled << "s meanwhile");
    // Decisions are made at one-second resolution (a pause counts from its start truncated to the second),
    // and each state is seen through a watch: a transition may look up to a second and the latency of
    // seeing the state before it shorter than predicted.
    CHECK(took >= expected - 1.25);
    CHECK(took <= expected + 1.5 + stalled);
  }
  return env.rollout(plan.stable["metadata"]["name"]);
}

json withImage(json rollout, const std::string& image) {
  rollout["spec"]["template"]["spec"]["containers"][0]["image"] = image;
  return rollout;
}

// The first object of `kind` in the example's `file`, in namespace default.
json exampleObject(const std::string& folder, const std::string& file, const std::string& kind) {
  auto docs = loadYamlFile(std::string(SLUICE_SOURCE_DIR) + "/examples/" + folder + "/" + file);
  REQUIRE(docs.ok());
  for (auto& doc : *docs) {
    if (doc.json.value("kind", "") != kind) continue;
    json object = doc.json;
    object["metadata"]["namespace"] = "default";
    return object;
  }
  FAIL("no " << kind << " in examples/" << folder << "/" << file);
  return {};
}

// "2m" as "2s": an example's minutes as seconds (the logic unchanged).
std::string minutesAsSeconds(std::string d) {
  if (!d.empty() && d.back() == 'm') d.back() = 's';
  return d;
}

// The example's Rollout with its pauses in seconds where it says minutes (the logic unchanged).
json fromExample(const std::string& folder) {
  auto docs = loadYamlFile(std::string(SLUICE_SOURCE_DIR) + "/examples/" + folder + "/rollout.yaml");
  REQUIRE(docs.ok());
  for (auto& doc : *docs) {
    if (doc.json.value("kind", "") != "Rollout") continue;
    json r = doc.json;
    r["metadata"]["namespace"] = "default";
    if (!r["spec"]["strategy"].contains("canary")) return r;  // blue-green: no steps
    for (auto& step : r["spec"]["strategy"]["canary"]["steps"]) {
      if (!step.contains("pause") || !step["pause"].contains("duration")) continue;
      step["pause"]["duration"] = minutesAsSeconds(step["pause"]["duration"]);
    }
    return r;
  }
  FAIL("no Rollout in examples/" << folder);
  return {};
}

// The plan of an example: its Rollout with its pauses in seconds where they say minutes, the other objects
// of its rollout.yaml applied first, its templates (with templates.yaml's) with their intervals at the same
// scale, the stable revision its scenario names, and the people's actions and metrics of its scenario at
// the same scale (minutes to seconds). Without a scenario: the defaults.
Plan examplePlan(const std::string& folder) {
  Plan plan;
  plan.updated = fromExample(folder);
  const std::string dir = std::string(SLUICE_SOURCE_DIR) + "/examples/" + folder + "/";
  for (const char* file : {"rollout.yaml", "templates.yaml"}) {
    if (!std::filesystem::exists(dir + file)) continue;
    auto docs = loadYamlFile(dir + file);
    REQUIRE(docs.ok());
    for (auto& doc : *docs) {
      const std::string kind = doc.json.value("kind", "");
      if (kind == "Rollout") continue;
      json object = doc.json;
      if (kind != "ClusterAnalysisTemplate") object["metadata"]["namespace"] = "default";
      if (kind != "AnalysisTemplate" && kind != "ClusterAnalysisTemplate") {
        plan.objects.push_back(object);
        continue;
      }
      for (auto& metric : object["spec"]["metrics"]) {
        for (const char* field : {"interval", "initialDelay"})
          if (metric.contains(field)) metric[field] = minutesAsSeconds(metric[field]);
      }
      plan.templates.push_back(object);
    }
  }
  sim::Scenario scenario = sim::defaultScenario();
  if (std::filesystem::exists(dir + "scenario.yaml")) {
    Diagnostics diags;
    auto loaded = sim::loadScenarioFile(dir + "scenario.yaml", diags);
    INFO(diags.format());
    REQUIRE(loaded);
    scenario = *loaded;
  }
  plan.stable = withImage(plan.updated, scenario.stableImage.value_or(imageOf(plan.updated) + "-previous"));
  for (sim::PersonAction a : scenario.actions) {
    a.at /= 60;
    a.in /= 60;
    plan.actions.push_back(a);
  }
  for (auto [name, outcome] : scenario.analysisRuns) {
    outcome.after /= 60;
    plan.analysisRuns[name] = outcome;
  }
  for (auto [name, points] : scenario.metrics) {
    for (auto& p : points) p.at /= 60;
    plan.metrics[name] = points;
  }
  const json routing =
      plan.updated.value(json::json_pointer("/spec/strategy/canary/trafficRouting"), json::object());
  const json nginx = routing.value("nginx", json());
  if (nginx.is_object())
    plan.routedWeight = canaryIngressWeight(plan.updated["metadata"].value("name", "") + "-" +
                                            nginx.value("stableIngress", "") + "-canary");
  const json vs = routing.value(json::json_pointer("/istio/virtualService/name"), json());
  if (vs.is_string())
    plan.routedWeight = virtualServiceWeight(
        vs.get<std::string>(),
        plan.updated.value(json::json_pointer("/spec/strategy/canary/canaryService"), ""));
  return plan;
}

// The Services web-stable and web-canary and the Ingress web sending to web-stable.
std::vector<json> routedObjects() {
  std::vector<json> objects;
  for (const char* service : {"web-stable", "web-canary"}) {
    objects.push_back({{"apiVersion", "v1"},
                       {"kind", "Service"},
                       {"metadata", {{"name", service}, {"namespace", "default"}}},
                       {"spec", {{"selector", {{"app", "web"}}}, {"ports", json::array({{{"port", 80}}})}}}});
  }
  objects.push_back(json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
      "backend": {"service": {"name": "web-stable", "port": {"number": 80}}}}]}}]}})"));
  return objects;
}

// A real Prometheus scraping the cluster's data plane every second.
std::unique_ptr<PrometheusHarness> scrapingDataPlane(ControllerEnv& env) {
  PrometheusOptions options;
  options.scrapeTargets = {"127.0.0.1:" + std::to_string(env.cluster.server().trafficMetricsPort())};
  return std::make_unique<PrometheusHarness>(options);
}

json canary(json steps, int replicas = 4) {
  return webRollout("registry.example/web:v1", replicas, std::move(steps));
}

// A canary of `steps` routed by `trafficRouting` between the Services web-canary and web-stable (applied
// first, with the Ingress web), updated to v2.
Plan routedCanary(json steps, const json& trafficRouting) {
  Plan plan;
  plan.stable = canary(std::move(steps));
  json& strategy = plan.stable["spec"]["strategy"]["canary"];
  strategy["canaryService"] = "web-canary";
  strategy["stableService"] = "web-stable";
  strategy["trafficRouting"] = trafficRouting;
  plan.updated = withImage(plan.stable, "registry.example/web:v2");
  plan.objects = routedObjects();
  return plan;
}

// setWeight steps with timed pauses between them.
json weightSteps() {
  return json::parse(R"([{"setWeight": 20}, {"pause": {"duration": "3s"}},
                         {"setWeight": 60}, {"pause": {"duration": "3s"}}])");
}

}  // namespace

TEST_CASE("the simulator predicts the controller: the basic canary example, its pauses in seconds",
          "[controller][e2e][fidelity]") {
  Plan plan;
  plan.updated = fromExample("basic-canary");
  plan.stable = withImage(plan.updated, "registry.example/worker:1.7");
  checkPrediction(plan);
}

TEST_CASE(
    "the simulator predicts the controller: the update-mid-rollout example (routed by ingress-nginx), a new "
    "image mid-way restarts the steps",
    "[controller][e2e][fidelity][traffic]") {
  checkPrediction(examplePlan("update-mid-rollout"));
}

TEST_CASE(
    "the simulator predicts the controller: the manual-promote example (routed by ingress-nginx), its "
    "indefinite pause promoted by a person",
    "[controller][e2e][fidelity][traffic]") {
  checkPrediction(examplePlan("manual-promote"));
}

TEST_CASE("the simulator predicts the controller: abort, then retry to the end",
          "[controller][e2e][fidelity]") {
  Plan plan;
  plan.stable = canary(json::parse(R"([{"setWeight": 50}, {"pause": {}}])"));
  plan.updated = withImage(plan.stable, "registry.example/web:v2");
  plan.actions = {action(4, sim::PersonAction::Kind::Abort), action(8, sim::PersonAction::Kind::Retry),
                  action(13, sim::PersonAction::Kind::Promote)};
  checkPrediction(plan);
}

TEST_CASE(
    "the simulator predicts the controller: an experiment step waits for its Experiment's duration counted "
    "from when its pods are available",
    "[controller][e2e][fidelity][experiment]") {
  Plan plan;
  plan.stable = canary(json::parse(R"([
    {"experiment": {"duration": "3s", "templates": [{"name": "baseline", "specRef": "stable"},
                                                    {"name": "canary", "specRef": "canary", "replicas": 2}]}},
    {"setWeight": 50}, {"pause": {"duration": "2s"}}])"));
  plan.updated = withImage(plan.stable, "registry.example/web:v2");
  const json r = checkPrediction(plan);
  CHECK(r["status"].value("stableRS", "") == r["status"].value("currentPodHash", "-"));
}

TEST_CASE(
    "the simulator predicts the controller: pods that never become ready abort at the progress deadline",
    "[controller][e2e][fidelity]") {
  Plan plan;
  plan.stable = canary(json::parse(R"([{"setWeight": 50}, {"pause": {"duration": "2s"}}])"));
  plan.stable["spec"]["progressDeadlineSeconds"] = 5;
  plan.stable["spec"]["progressDeadlineAbort"] = true;
  plan.updated = withImage(plan.stable, "registry.example/web:v2");
  plan.updated["spec"]["template"]["metadata"]["annotations"][kFailAnnotation] = "CrashLoopBackOff";
  const json r = checkPrediction(plan);
  // Aborted back to the stable revision, the reason in the status.
  CHECK(r["status"].value("abort", false));
  CHECK_THAT(r["status"].value("message", ""), Catch::Contains("timed out progressing"));
}

TEST_CASE(
    "the simulator predicts the controller: the restart example, pods replaced one at a time now and at a "
    "set time",
    "[controller][e2e][fidelity]") {
  const json r = checkPrediction(examplePlan("restart"));
  CHECK(r["status"].value("restartedAt", "") == r["spec"].value("restartAt", "-"));
}

TEST_CASE("the simulator predicts the controller: the workloadRef example, its update made in the Deployment",
          "[controller][e2e][fidelity][workload]") {
  Plan plan;
  plan.stable = plan.updated = fromExample("workload-ref");
  plan.updatedDeployment = exampleObject("workload-ref", "deployment.yaml", "Deployment");
  plan.stableDeployment = withImage(*plan.updatedDeployment, "registry.example/cart:1.3");
  plan.actions = {action(3, sim::PersonAction::Kind::Update, "registry.example/cart:1.5")};
  const json r = checkPrediction(plan);
  CHECK_FALSE(r["status"].value("workloadObservedGeneration", "").empty());
}

TEST_CASE(
    "the simulator predicts the controller: a canary routed by ingress-nginx, its weights read from the "
    "canary Ingress",
    "[controller][e2e][fidelity][traffic]") {
  Plan plan = routedCanary(weightSteps(), {{"nginx", {{"stableIngress", "web"}}}});
  plan.routedWeight = canaryIngressWeight("web-web-canary");
  checkPrediction(plan);
}

TEST_CASE(
    "the simulator predicts the controller: a canary routed by SMI, its weights read from the TrafficSplit "
    "(SMI's CRD as a fixture, no mesh)",
    "[controller][e2e][fidelity][traffic][smi]") {
  Plan plan = routedCanary(weightSteps(), {{"smi", json::object()}});
  // Read at the controller's default version, v1alpha1: every weight written is a quantity string.
  int read = 0;
  bool quantities = true;
  RoutedWeight split = trafficSplitWeight("web", "web-canary");
  plan.routedWeight =
      RoutedWeight{split.resource, split.name, [&, weight = split.canaryWeight](const json& live) {
                     ++read;
                     for (const auto& b : live["spec"]["backends"])
                       quantities = quantities && b["weight"].is_string();
                     return weight(live);
                   }};
  checkPrediction(
      plan, [](ControllerEnv& env, Plan&) { env.cluster.installMeshCrds("smi.yaml", "trafficsplits"); });
  CHECK(read > 0);
  CHECK(quantities);
}

TEST_CASE(
    "the simulator predicts the controller: an experiment step's weighted template takes its share from the "
    "stable in the TrafficSplit while the Experiment runs (SMI's CRD as a fixture, no mesh)",
    "[controller][e2e][fidelity][traffic][smi][experiment]") {
  Plan plan = routedCanary(json::parse(R"([{"setWeight": 20},
    {"experiment": {"duration": "3s", "templates": [{"name": "preview", "specRef": "canary", "weight": 30}]}},
    {"pause": {"duration": "2s"}}])"),
                           {{"smi", json::object()}});
  // The template's Service is made on the containers' ports.
  for (json* r : {&plan.stable, &plan.updated})
    (*r)["spec"]["template"]["spec"]["containers"][0]["ports"] = {{{"containerPort", 8080}}};
  plan.routedWeight = trafficSplitWeight("web", "web-canary");
  plan.routedWeight->stableWeight = trafficSplitWeight("web", "web-stable").canaryWeight;
  const json r = checkPrediction(
      plan, [](ControllerEnv& env, Plan&) { env.cluster.installMeshCrds("smi.yaml", "trafficsplits"); });
  CHECK(r["status"].value("stableRS", "") == r["status"].value("currentPodHash", "-"));
}

TEST_CASE(
    "the simulator predicts the controller: a canary routed by the Gateway API plugin, its weights read from "
    "the HTTPRoute's backendRefs (Gateway API's CRDs as fixtures, no gateway)",
    "[controller][e2e][fidelity][traffic][gatewayapi]") {
  Plan plan = routedCanary(weightSteps(), json::parse(R"({"plugins": {"argoproj-labs/gatewayAPI":
                                                            {"httpRoute": "web"}}})"));
  plan.objects.push_back(json::parse(R"({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"parentRefs": [{"name": "shop-gateway"}], "rules": [
      {"backendRefs": [{"name": "web-stable", "port": 80, "weight": 100},
                       {"name": "web-canary", "port": 80, "weight": 0}]}]}})"));
  plan.routedWeight = httpRouteWeight("web", "web-canary");
  checkPrediction(
      plan, [](ControllerEnv& env, Plan&) { env.cluster.installMeshCrds("gateway-api.yaml", "httproutes"); });
}

TEST_CASE(
    "the simulator predicts the controller: the canary-nginx example, its success-rate analysis run for real "
    "against a web metric",
    "[controller][e2e][fidelity][traffic][analysis]") {
  Plan plan = examplePlan("canary-nginx");
  // The example leaves its template to the cluster; its scenario says the run succeeds 5 minutes (here
  // seconds) after it starts. On the cluster: a web metric measured twice, 5 s apart, both good.
  REQUIRE(plan.analysisRuns.count("success-rate") == 1);
  REQUIRE(plan.analysisRuns["success-rate"].after == Duration{5});
  auto source = net::HttpServer::start("--test", "127.0.0.1:0", [](const std::string&) {
    return net::HttpAnswer{200, "application/json", R"({"rate": 0.998})"};
  });
  REQUIRE(source.ok());
  plan.objects.push_back(json::parse(R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "AnalysisTemplate",
    "metadata": {"name": "success-rate", "namespace": "default"},
    "spec": {"metrics": [{"name": "success-rate", "interval": "5s", "count": 2,
      "successCondition": "result >= 0.95",
      "provider": {"web": {"url": "http://127.0.0.1:)" +
                                     std::to_string((*source)->port()) +
                                     R"(/rate", "jsonPath": "{$.rate}"}}}]}})"));
  checkPrediction(plan);
}

TEST_CASE(
    "the simulator predicts the controller: the bluegreen-manual example promoted by a person with its "
    "post-promotion soak test run for real against a web metric",
    "[controller][e2e][fidelity][bluegreen][analysis]") {
  Plan plan = examplePlan("bluegreen-manual");
  // The scenario's soak test passes 10 minutes (here seconds) after the switch. On the cluster: a web metric
  // measured twice, 10 s apart, both good.
  REQUIRE(plan.analysisRuns.count("soak") == 1);
  REQUIRE(plan.analysisRuns["soak"].after == Duration{10});
  REQUIRE(plan.actions.size() == 1);
  auto source = net::HttpServer::start("--test", "127.0.0.1:0", [](const std::string&) {
    return net::HttpAnswer{200, "application/json", R"({"ok": 1})"};
  });
  REQUIRE(source.ok());
  plan.objects.push_back(json::parse(R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "AnalysisTemplate",
    "metadata": {"name": "soak", "namespace": "default"},
    "spec": {"metrics": [{"name": "soak", "interval": "10s", "count": 2, "successCondition": "result == 1",
      "provider": {"web": {"url": "http://127.0.0.1:)" +
                                     std::to_string((*source)->port()) +
                                     R"(/ok", "jsonPath": "{$.ok}"}}}]}})"));
  const json r = checkPrediction(plan);
  CHECK(r["status"].value("stableRS", "") == r["status"].value("currentPodHash", "x"));
  CHECK(r["status"]["blueGreen"]["postPromotionAnalysisRunStatus"].value("status", "") == "Successful");
}

TEST_CASE(
    "the simulator predicts the controller: the bluegreen-analysis example with its pre-promotion analysis "
    "run for real on both sides",
    "[controller][e2e][fidelity][bluegreen][analysis]") {
  Plan plan = examplePlan("bluegreen-analysis");
  // The example measures a Prometheus; here both sides measure a web metric instead, the cluster on a
  // local source and the simulator on the same value as the scenario's metric, five times a second apart.
  REQUIRE(plan.templates.size() == 1);
  auto source = net::HttpServer::start("--test", "127.0.0.1:0", [](const std::string&) {
    return net::HttpAnswer{200, "application/json", R"({"rate": 0.996})"};
  });
  REQUIRE(source.ok());
  json& metric = plan.templates[0]["spec"]["metrics"][0];
  REQUIRE(metric["interval"] == "1s");
  metric["successCondition"] = "result >= 0.99";
  metric["provider"] = {{"web",
                         {{"url", "http://127.0.0.1:" + std::to_string((*source)->port()) + "/rate"},
                          {"jsonPath", "{$.rate}"}}}};
  sim::MetricPoint point;
  point.values = {0.996};
  plan.metrics["success-rate"] = {point};
  const json r = checkPrediction(plan);
  CHECK(r["status"].value("stableRS", "") == r["status"].value("currentPodHash", "x"));
  CHECK(r["status"]["blueGreen"]["prePromotionAnalysisRunStatus"].value("status", "") == "Successful");
}

TEST_CASE(
    "the simulator predicts the controller: the analysis-abort example, its error-rate analysis failing for "
    "real against a web metric",
    "[controller][e2e][fidelity][traffic][analysis]") {
  Plan plan = examplePlan("analysis-abort");
  // The scenario fails the run 4 minutes (here seconds) after it starts. On the cluster: a web metric
  // measured every 2 s, whose error rate rises after the second measurement, so the third one (4 s in)
  // fails the run.
  REQUIRE(plan.analysisRuns.count("error-rate") == 1);
  REQUIRE(plan.analysisRuns["error-rate"].phase == "Failed");
  REQUIRE(plan.analysisRuns["error-rate"].after == Duration{4});
  std::atomic<int> measured{0};
  auto source = net::HttpServer::start("--test", "127.0.0.1:0", [&measured](const std::string&) {
    const double rate = ++measured <= 2 ? 0.004 : 0.072;
    return net::HttpAnswer{200, "application/json", json{{"rate", rate}}.dump()};
  });
  REQUIRE(source.ok());
  plan.objects.push_back(json::parse(R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "AnalysisTemplate",
    "metadata": {"name": "error-rate", "namespace": "default"},
    "spec": {"metrics": [{"name": "error-rate", "interval": "2s", "successCondition": "result < 0.05",
      "provider": {"web": {"url": "http://127.0.0.1:)" +
                                     std::to_string((*source)->port()) +
                                     R"(/rate", "jsonPath": "{$.rate}"}}}]}})"));
  const json r = checkPrediction(plan);
  CHECK(r["status"].value("abort", false));
  CHECK(measured.load() == 3);
}

TEST_CASE(
    "the simulator predicts the controller: setCanaryScale and dynamicStableScale behind ingress-nginx, the "
    "ReplicaSets' sizes compared at each step",
    "[controller][e2e][fidelity][traffic]") {
  Plan plan = routedCanary(json::parse(R"([{"setCanaryScale": {"replicas": 1}}, {"setWeight": 25},
                                          {"pause": {"duration": "3s"}},
                                          {"setCanaryScale": {"matchTrafficWeight": true}}, {"setWeight": 50},
                                          {"pause": {"duration": "3s"}}])"),
                           {{"nginx", {{"stableIngress", "web"}}}});
  for (json* r : {&plan.stable, &plan.updated})
    (*r)["spec"]["strategy"]["canary"]["dynamicStableScale"] = true;
  plan.routedWeight = canaryIngressWeight("web-web-canary");
  plan.compareScale = true;
  checkPrediction(plan);
}

TEST_CASE(
    "the simulator predicts the controller: the canary-istio example, its success rate measured on a real "
    "Prometheus from the data plane's istio_requests_total (Istio's CRDs as fixtures, no mesh)",
    "[controller][e2e][fidelity][traffic][analysis][istio]") {
  Plan plan = examplePlan("canary-istio");
  REQUIRE(plan.templates.size() == 1);
  REQUIRE(plan.metrics.count("success-rate") == 1);  // what the simulator measures: 0.998
  REQUIRE(plan.routedWeight);
  plan.dataPlane = true;
  std::unique_ptr<PrometheusHarness> prometheus;
  checkPrediction(plan, [&](ControllerEnv& env, Plan& p) {
    env.cluster.installMeshCrds("istio.yaml", "virtualservices");
    prometheus = scrapingDataPlane(env);
    // The example's Prometheus is the one a user has in the cluster; here, the one scraping the data plane.
    p.templates[0]["spec"]["metrics"][0]["provider"]["prometheus"]["address"] = prometheus->address();
  });
}

// The demo example with the simulator measuring its own simulated traffic on a Prometheus of its own, as
// the cluster's Prometheus scrapes the cluster's (every second, 50 requests a second through the host).
// `errorRate`: the new revision's pod template annotation, as the demo's v3 carries it.
json checkDemoPrediction(const std::string& errorRate) {
  Plan plan = examplePlan("demo");
  REQUIRE(plan.templates.size() == 1);
  REQUIRE(plan.routedWeight);
  plan.dataPlane = true;
  plan.traffic = sim::TrafficSpec{};
  plan.traffic->scrapeInterval = Duration{1};
  if (!errorRate.empty())
    plan.updated["spec"]["template"]["metadata"]["annotations"]["cluster.sluice.dev/error-rate"] = errorRate;
  std::unique_ptr<PrometheusHarness> prometheus;
  return checkPrediction(plan, [&](ControllerEnv& env, Plan& p) {
    prometheus = scrapingDataPlane(env);
    for (json* r : {&p.stable, &p.updated})
      (*r)["metadata"]["annotations"]["demo.sluice.dev/prometheus"] = prometheus->address();
  });
}

TEST_CASE(
    "the simulator predicts the controller: the demo example behind ingress-nginx, its success rate "
    "measured on both sides on a real Prometheus from the data plane's nginx_ingress_controller_requests",
    "[controller][e2e][fidelity][traffic][analysis]") {
  const json r = checkDemoPrediction("");
  CHECK(r["status"].value("phase", "") == "Healthy");
}

TEST_CASE(
    "the simulator predicts the controller: the demo example with a revision answering half its requests "
    "with 500, aborted on both sides by the success rate their Prometheus measures",
    "[controller][e2e][fidelity][traffic][analysis]") {
  const json r = checkDemoPrediction("0.5");
  CHECK(r["status"].value("abort", false));
}

TEST_CASE(
    "the simulator predicts the controller: the analysis-templates example, its step and background "
    "analyses run for real against web metrics that follow its scenario",
    "[controller][e2e][fidelity][traffic][analysis]") {
  Plan plan = examplePlan("analysis-templates");
  REQUIRE(plan.templates.size() == 2);
  REQUIRE(plan.metrics.count("error-rate") == 1);
  REQUIRE(plan.metrics.count("p99-latency") == 1);
  // Each metric answers what the scenario says at this instant, counted from the update (as the
  // simulator counts it): the example's PromQL needs series only its own cluster has, so the cluster's
  // runs read the scenario's values over the web provider instead.
  std::atomic<bool> started{false};
  std::chrono::steady_clock::time_point t0;
  auto valueAt = [&](const std::vector<sim::MetricPoint>& points) {
    const double since =
        started ? std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() : 0;
    json values = json::array();
    for (const auto& p : points)
      if (std::chrono::duration<double>(p.at).count() <= since) values = p.values;
    return values;
  };
  auto source = net::HttpServer::start("--test", "127.0.0.1:0", [&](const std::string& target) {
    const std::string metric = target.substr(1);
    return net::HttpAnswer{200, "application/json",
                           json{{"values", valueAt(plan.metrics.at(metric))}}.dump()};
  });
  REQUIRE(source.ok());
  for (auto& t : plan.templates) {
    json& metric = t["spec"]["metrics"][0];
    metric["provider"] = {
        {"web",
         {{"url", "http://127.0.0.1:" + std::to_string((*source)->port()) + "/" + metric.value("name", "")},
          {"jsonPath", "{$.values}"}}}};
  }
  plan.onUpdate = [&] {
    t0 = std::chrono::steady_clock::now();
    started = true;
  };
  const json r = checkPrediction(plan);
  CHECK(r["status"].value("abort", false));  // the scenario's rising error rate aborts it, as predicted
}

TEST_CASE(
    "the simulator predicts the controller: minReadySeconds holds each step until the pods have been ready "
    "that long",
    "[controller][e2e][fidelity][canary-semantics]") {
  Plan plan;
  plan.stable = canary(json::parse(R"([{"setWeight": 50}, {"pause": {"duration": "2s"}}])"));
  plan.stable["spec"]["minReadySeconds"] = 2;
  plan.updated = withImage(plan.stable, "registry.example/web:v2");
  const json r = checkPrediction(plan);
  CHECK(r["status"].value("phase", "") == "Healthy");
}

TEST_CASE(
    "the simulator predicts the controller: an update back to the previous revision within rollbackWindow "
    "skips the steps",
    "[controller][e2e][fidelity][canary-semantics]") {
  Plan plan;
  plan.stable = canary(json::parse(R"([{"setWeight": 50}, {"pause": {"duration": "2s"}}])"));
  plan.stable["spec"]["rollbackWindow"] = {{"revisions", 1}};
  plan.updated = withImage(plan.stable, "registry.example/web:v2");
  plan.actions = {action(8, sim::PersonAction::Kind::Update, "registry.example/web:v1")};
  const json r = checkPrediction(plan);
  CHECK(r["status"].value("phase", "") == "Healthy");
  CHECK(r["status"].value("currentStepIndex", -1) == 2);
}

TEST_CASE(
    "the simulator predicts the controller: an abort under dynamicStableScale keeps the canary's weight "
    "until the stable's pods are back",
    "[controller][e2e][fidelity][traffic][canary-semantics]") {
  Plan plan = routedCanary(json::parse(R"([{"setWeight": 25}, {"setWeight": 75}, {"pause": {}}])"),
                           {{"nginx", {{"stableIngress", "web"}}}});
  for (json* r : {&plan.stable, &plan.updated})
    (*r)["spec"]["strategy"]["canary"]["dynamicStableScale"] = true;
  plan.routedWeight = canaryIngressWeight("web-web-canary");
  plan.compareScale = true;
  plan.actions = {action(6, sim::PersonAction::Kind::Abort)};
  const json r = checkPrediction(plan);
  CHECK(r["status"].value("abort", false));
}
