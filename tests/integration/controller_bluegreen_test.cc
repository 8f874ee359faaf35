// Blue-green end to end: the controller runs a blue-green Rollout on the embedded API server over HTTPS
// (CRDs applied by the real kubectl, people's promote through `kubectl sluice`), and the Services'
// selectors are what the users' traffic follows: the active one moves only to a fully available
// ReplicaSet, in one write, and back on a failed post-promotion analysis; a failed pre-promotion analysis
// never touches it.
#include <atomic>
#include <catch2/catch.hpp>
#include <set>

#include "controller_env.h"
#include "engine/rollout.h"
#include "net/http_server.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

// The blue-green Rollout "web": 3 pods of `image`, behind web-active and web-preview, with `extra` merged
// into spec.strategy.blueGreen.
json bgWebRollout(const std::string& image, const json& extra = json::object()) {
  json r = webRollout(image, 3, json::array());
  json strategy = {{"activeService", "web-active"}, {"previewService", "web-preview"}};
  strategy.update(extra);
  r["spec"]["strategy"] = {{"blueGreen", strategy}};
  return r;
}

struct BlueGreenEnv {
  ControllerEnv env{std::chrono::milliseconds(300)};

  BlueGreenEnv() {
    for (const char* name : {"web-active", "web-preview"}) {
      const json service = {
          {"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"selector", {{"app", "web"}}}, {"ports", json::array({{{"port", 80}, {"targetPort", 8080}}})}}}};
      apply(std::string(name) + ".json", service);
    }
    env.startController();
  }
  void apply(const std::string& file, const json& object) {
    env.cluster.ok("apply -f " + env.cluster.writeFile(file, object.dump()));
  }
  void applyRollout(const json& rollout) { apply("web.json", rollout); }
  // The pod-template hash a Service selects ("" when none).
  std::string selected(const std::string& service) {
    const json svc = env.cluster.getJson("svc " + service + " -n default");
    return svc.value(json::json_pointer("/spec/selector"), json::object())
        .value(engine::kPodTemplateHashLabel, "");
  }
  // spec.replicas and available pods of the Rollout's ReplicaSet of `hash` (-1, -1 when there is none).
  std::pair<int, int> replicaSet(const std::string& hash) {
    const json list = env.cluster.getJson("replicasets -n default");
    for (const auto& rs : list["items"]) {
      if (rs["metadata"]["labels"].value(engine::kPodTemplateHashLabel, "") != hash) continue;
      return {rs["spec"].value("replicas", 0), rs.value(json::json_pointer("/status/availableReplicas"), 0)};
    }
    return {-1, -1};
  }
  std::string status(const std::string& field) {
    return env.rollout("web").value(json::json_pointer("/status/" + field), std::string());
  }
  // Deploys v1 and waits until it is Healthy behind both Services; returns its hash.
  std::string deployFirst(const json& rollout) {
    applyRollout(rollout);
    REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
    const std::string v1 = status("stableRS");
    REQUIRE(selected("web-active") == v1);
    REQUIRE(selected("web-preview") == v1);
    return v1;
  }
  std::string plugin(const std::string& args) {
    auto r = env.cluster.plugin(args);
    INFO("kubectl sluice " << args << "\n" << r.output);
    REQUIRE(r.exitCode == 0);
    return r.output;
  }
};

// A web metric source: its first `passes` answers are {"ok": 1}, which passes `result == 1`, the later
// ones {"ok": 0}, which fails it.
struct CheckSource {
  std::atomic<int> passes{0};
  std::atomic<int> answered{0};
  std::unique_ptr<net::HttpServer> server;
  CheckSource() {
    auto s = net::HttpServer::start("--test", "127.0.0.1:0", [this](const std::string&) {
      const int ok = answered++ < passes.load() ? 1 : 0;
      return net::HttpAnswer{200, "application/json", json{{"ok", ok}}.dump()};
    });
    REQUIRE(s.ok());
    server = std::move(*s);
  }
  json analysisTemplate(const std::string& name) const {
    return json::parse(R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "AnalysisTemplate",
      "metadata": {"name": ")" +
                       name + R"(", "namespace": "default"},
      "spec": {"metrics": [{"name": "check", "interval": "1s", "count": 2, "successCondition": "result == 1",
        "provider": {"web": {"url": "http://127.0.0.1:)" +
                       std::to_string(server->port()) + R"(/check", "jsonPath": "{$.ok}"}}}]}})");
  }
};

}  // namespace

TEST_CASE("a blue-green Rollout promoted by hand on the cluster switches its active Service once",
          "[controller][e2e][bluegreen]") {
  BlueGreenEnv bg;
  const json manual = {
      {"previewReplicaCount", 1}, {"autoPromotionEnabled", false}, {"scaleDownDelaySeconds", 2}};
  const std::string v1 = bg.deployFirst(bgWebRollout("registry.example/web:v1", manual));

  bg.applyRollout(bgWebRollout("registry.example/web:v2", manual));
  REQUIRE(bg.env.waitRollout("web", [&](const json& r) {
    return phaseOf(r) == "Paused" && r["status"].value("currentPodHash", v1) != v1;
  }));
  const std::string v2 = bg.status("currentPodHash");
  CHECK(bg.status("pauseConditions/0/reason") == "BlueGreenPause");
  CHECK(bg.selected("web-preview") == v2);
  CHECK(bg.selected("web-active") == v1);
  CHECK(bg.replicaSet(v2).first == 1);  // previewReplicaCount until promoted

  // Promoted: the new ReplicaSet grows to 3; the active Service moves to it only once all 3 are available.
  bg.plugin("promote web");
  std::set<std::string> activeSeen;
  bool switchedEarly = false;
  REQUIRE(bg.env.waitRollout("web", [&](const json& r) {
    const std::string active = bg.selected("web-active");
    activeSeen.insert(active);
    if (active == v2 && bg.replicaSet(v2).second < 3) switchedEarly = true;
    return phaseOf(r) == "Healthy" && r["status"].value("stableRS", "") == v2;
  }));
  CHECK_FALSE(switchedEarly);
  CHECK(activeSeen == std::set<std::string>{v1, v2});
  CHECK(bg.selected("web-active") == v2);
  CHECK(bg.status("blueGreen/activeSelector") == v2);
  // The old pods go after scaleDownDelaySeconds.
  REQUIRE(bg.env.waitRollout(
      "web", [&](const json&) { return bg.replicaSet(v1).first == 0; }, std::chrono::seconds(20)));
}

TEST_CASE("a blue-green Rollout auto-promotes after autoPromotionSeconds on the cluster",
          "[controller][e2e][bluegreen]") {
  BlueGreenEnv bg;
  const json timed = {{"autoPromotionSeconds", 3}};
  const std::string v1 = bg.deployFirst(bgWebRollout("registry.example/web:v1", timed));
  bg.applyRollout(bgWebRollout("registry.example/web:v2", timed));
  REQUIRE(bg.env.waitRollout("web", [&](const json& r) { return phaseOf(r) == "Paused"; }));
  const auto pausedAt = std::chrono::steady_clock::now();
  const std::string v2 = bg.status("currentPodHash");
  CHECK(bg.selected("web-active") == v1);
  REQUIRE(bg.env.waitRollout("web", [&](const json&) { return bg.selected("web-active") == v2; }));
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - pausedAt).count();
  CHECK(waited >= 2.0);  // the pause lasted its 3 s (whole seconds on the engine's clock)
  CHECK(waited <= 6.0);
  REQUIRE(bg.env.waitRollout("web", [&](const json& r) {
    return phaseOf(r) == "Healthy" && r["status"].value("stableRS", "") == v2;
  }));
}

TEST_CASE("a failed pre-promotion analysis on the cluster aborts and never touches the active Service",
          "[controller][e2e][bluegreen][analysis]") {
  CheckSource check;
  BlueGreenEnv bg;
  bg.apply("smoke.json", check.analysisTemplate("smoke"));
  const json pre = {{"prePromotionAnalysis", {{"templates", json::array({{{"templateName", "smoke"}}})}}},
                    {"abortScaleDownDelaySeconds", 1}};
  const std::string v1 = bg.deployFirst(bgWebRollout("registry.example/web:v1", pre));
  bg.applyRollout(bgWebRollout("registry.example/web:v2", pre));
  std::set<std::string> activeSeen;
  REQUIRE(bg.env.waitRollout("web", [&](const json& r) {
    activeSeen.insert(bg.selected("web-active"));
    return phaseOf(r) == "Degraded";
  }));
  const json r = bg.env.rollout("web");
  const std::string v2 = r["status"].value("currentPodHash", "");
  CHECK(r["status"].value("abort", false));
  CHECK(r["status"]["blueGreen"]["prePromotionAnalysisRunStatus"].value("status", "") == "Failed");
  CHECK(activeSeen == std::set<std::string>{v1});
  CHECK(bg.selected("web-active") == v1);
  CHECK(bg.selected("web-preview") == v2);
  CHECK(r["status"].value("stableRS", "") == v1);
  // The new ReplicaSet goes after abortScaleDownDelaySeconds; the stable one stays full.
  REQUIRE(bg.env.waitRollout(
      "web", [&](const json&) { return bg.replicaSet(v2).first == 0; }, std::chrono::seconds(20)));
  CHECK(bg.replicaSet(v1).first == 3);
}

TEST_CASE("a failed post-promotion analysis on the cluster switches the active Service back",
          "[controller][e2e][bluegreen][analysis]") {
  CheckSource check;
  BlueGreenEnv bg;
  bg.apply("soak.json", check.analysisTemplate("soak"));
  const json post = {{"postPromotionAnalysis", {{"templates", json::array({{{"templateName", "soak"}}})}}}};
  const std::string v1 = bg.deployFirst(bgWebRollout("registry.example/web:v1", post));
  check.passes = 1;  // the first measurement passes, the second (a second later) fails the run
  bg.applyRollout(bgWebRollout("registry.example/web:v2", post));
  std::vector<std::string> activeHistory;
  REQUIRE(bg.env.waitRollout("web", [&](const json& r) {
    const std::string active = bg.selected("web-active");
    if (activeHistory.empty() || activeHistory.back() != active) activeHistory.push_back(active);
    return phaseOf(r) == "Degraded";
  }));
  const json r = bg.env.rollout("web");
  const std::string v2 = r["status"].value("currentPodHash", "");
  REQUIRE(bg.env.waitRollout("web", [&](const json&) { return bg.selected("web-active") == v1; }));
  if (activeHistory.back() != v1) activeHistory.push_back(v1);
  // On v1, then (after the switch) on v2 while the post-promotion analysis measured, then back.
  CHECK(activeHistory == std::vector<std::string>{v1, v2, v1});
  CHECK(r["status"].value("abort", false));
  CHECK(r["status"].value("stableRS", "") == v1);
  CHECK(r["status"]["blueGreen"]["postPromotionAnalysisRunStatus"].value("status", "") == "Failed");
  CHECK(bg.replicaSet(v1).first == 3);
}

namespace {

// The pods of the ReplicaSet of `hash`: name -> (uid, the label "role", "" when unset).
std::map<std::string, std::pair<std::string, std::string>> podsOf(BlueGreenEnv& bg, const std::string& hash) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  const json list =
      bg.env.cluster.getJson("pods -n default -l " + std::string(engine::kPodTemplateHashLabel) + "=" + hash);
  for (const auto& pod : list["items"]) {
    out[pod["metadata"].value("name", "")] = {
        pod["metadata"].value("uid", ""), pod["metadata"].value("labels", json::object()).value("role", "")};
  }
  return out;
}

}  // namespace

TEST_CASE("blue-green previewMetadata and activeMetadata label the pods in place as their role changes",
          "[controller][e2e][bluegreen][ephemeral]") {
  BlueGreenEnv bg;
  const json roles = {
      {"autoPromotionEnabled", false},
      {"scaleDownDelaySeconds", 30},
      {"activeMetadata", {{"labels", {{"role", "active"}}}}},
      {"previewMetadata", {{"labels", {{"role", "preview"}}}, {"annotations", {{"preview", "yes"}}}}}};
  const std::string v1 = bg.deployFirst(bgWebRollout("registry.example/web:v1", roles));
  REQUIRE(bg.env.waitRollout("web", [&](const json&) { return podsOf(bg, v1).size() == 3; }));
  for (const auto& [pod, seen] : podsOf(bg, v1)) CHECK(seen.second == "active");

  bg.applyRollout(bgWebRollout("registry.example/web:v2", roles));
  REQUIRE(bg.env.waitRollout("web", [&](const json& r) {
    return phaseOf(r) == "Paused" && r["status"].value("currentPodHash", v1) != v1;
  }));
  const std::string v2 = bg.status("currentPodHash");
  REQUIRE(bg.env.waitRollout("web", [&](const json&) { return podsOf(bg, v2).size() == 3; }));
  const auto previewPods = podsOf(bg, v2);
  for (const auto& [pod, seen] : previewPods) CHECK(seen.second == "preview");
  // The plugin marks which ReplicaSet serves which Service, as Argo's does.
  const std::string shown = bg.plugin("get rollout web");
  CHECK_THAT(shown, Catch::Contains("stable,active"));
  CHECK_THAT(shown, Catch::Contains("preview"));
  CHECK_THAT(shown, Catch::Contains("registry.example/web:v2 (preview)"));
  CHECK_THAT(shown, Catch::Contains("registry.example/web:v1 (stable, active)"));

  bg.plugin("promote web");
  REQUIRE(bg.env.waitRollout("web", [&](const json& r) {
    return phaseOf(r) == "Healthy" && r["status"].value("stableRS", "") == v2;
  }));
  // Promoted: the same pods (no restart) now carry the active role, and the preview annotation is gone.
  REQUIRE(bg.env.waitRollout("web", [&](const json&) {
    const auto now = podsOf(bg, v2);
    return std::all_of(now.begin(), now.end(), [](const auto& p) { return p.second.second == "active"; });
  }));
  const auto promotedPods = podsOf(bg, v2);
  CHECK(promotedPods.size() == previewPods.size());
  for (const auto& [pod, seen] : previewPods) {
    REQUIRE(promotedPods.count(pod) == 1);
    CHECK(promotedPods.at(pod).first == seen.first);
  }
  const json rs = bg.env.cluster.getJson("replicaset web-" + v2 + " -n default");
  CHECK(rs["spec"]["template"]["metadata"]["labels"].value("role", "") == "active");
  CHECK_FALSE(rs["spec"]["template"]["metadata"].value("annotations", json::object()).contains("preview"));
  const json pods = bg.env.cluster.getJson("pods -n default -l role=active");
  CHECK(pods["items"].size() >= 3);  // v2's three, and v1's while it waits out its scale-down delay
  // The old ReplicaSet waits out its delay: the plugin says so.
  CHECK_THAT(bg.plugin("get rollout web"), Catch::Contains("delay:"));
}

TEST_CASE("a blue-green Rollout whose Service is missing is InvalidSpec until the Service exists",
          "[controller][e2e][bluegreen]") {
  BlueGreenEnv bg;
  json rollout = bgWebRollout("registry.example/web:v1");
  rollout["spec"]["strategy"]["blueGreen"]["previewService"] = "web-later";
  bg.applyRollout(rollout);
  REQUIRE(bg.env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Degraded"; }));
  CHECK(bg.status("message") ==
        "InvalidSpec: spec.strategy.blueGreen.previewService: Service \"web-later\" not found in namespace "
        "\"default\"");
  CHECK(bg.env.cluster.getJson("replicasets -n default")["items"].empty());
  bg.apply("web-later.json",
           json{{"apiVersion", "v1"},
                {"kind", "Service"},
                {"metadata", {{"name", "web-later"}, {"namespace", "default"}}},
                {"spec", {{"selector", {{"app", "web"}}}, {"ports", json::array({{{"port", 80}}})}}}});
  REQUIRE(bg.env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
  CHECK(bg.selected("web-later") == bg.status("stableRS"));
}
