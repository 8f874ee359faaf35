// trafficRouting.nginx end to end on the embedded API server: the controller builds the canary Ingress from
// the stable one and keeps it in step (each step's weight in its annotations, rebuilt when the stable
// Ingress changes), on an abort puts all traffic back on the stable before it scales the canary down, and
// at the promotion moves the stable Service only while all traffic goes through the canary one, the order
// of the writes read back from the API server's watch.
#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "controller_env.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

const kube::ResourceRef kIngresses{"networking.k8s.io", "v1", "ingresses", true, "Ingress"};
const kube::ResourceRef kServices{"", "v1", "services", true, "Service"};
const char* kWeight = "nginx.ingress.kubernetes.io/canary-weight";

json service(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", {{"selector", {{"app", "web"}}}, {"ports", json::array({{{"port", 80}}})}}}};
}

json stableIngress() {
  return json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"ingressClassName": "nginx", "rules": [{"host": "web.example", "http": {"paths": [
      {"path": "/", "pathType": "Prefix",
       "backend": {"service": {"name": "web-stable", "port": {"number": 80}}}}]}}]}})");
}

json routedRollout(const std::string& image) {
  json r = webRollout(image, 4,
                      json::parse(R"([{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}])"));
  json& canary = r["spec"]["strategy"]["canary"];
  canary["canaryService"] = "web-canary";
  canary["stableService"] = "web-stable";
  canary["trafficRouting"] = {{"nginx", {{"stableIngress", "web"}}}};
  canary["abortScaleDownDelaySeconds"] = 1;
  return r;
}

// The canary Ingress as the server has it (an empty object while there is none).
json canaryIngress(ControllerEnv& env) {
  auto got = env.client->get(kIngresses, "default", "web-web-canary");
  return got ? *got : json::object();
}

std::string weightOf(const json& ingress) {
  return ingress.value(json::json_pointer("/metadata/annotations"), json::object()).value(kWeight, "");
}

// Events of Ingresses, ReplicaSets and Services as the API server's watches deliver them, with their
// resourceVersions (one sequence across all kinds on this server), so the order of writes can be read.
class WriteLog {
 public:
  explicit WriteLog(kube::Client& client) {
    for (const auto* resource : {&kIngresses, &kReplicaSets, &kServices}) {
      threads_.emplace_back([this, &client, resource] {
        kube::WatchOptions options;
        (void)client.watch(
            *resource, "default", options,
            [this](const kube::WatchEvent& e) {
              std::lock_guard lock(mu_);
              if (e.type != "BOOKMARK") events_.push_back(e.object);
              return true;
            },
            &stop_);
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the watches open
  }
  ~WriteLog() {
    stop_.stop();
    for (auto& t : threads_) t.join();
  }
  // The resourceVersion of the first event `match` accepts; 0 when there is none.
  template <typename Match>
  uint64_t first(Match match) {
    std::lock_guard lock(mu_);
    uint64_t best = 0;
    for (const auto& obj : events_) {
      const uint64_t rv = std::stoull(obj["metadata"].value("resourceVersion", "0"));
      if (match(obj) && (best == 0 || rv < best)) best = rv;
    }
    return best;
  }

 private:
  kube::WatchStop stop_;
  std::mutex mu_;
  std::vector<json> events_;
  std::vector<std::thread> threads_;
};

// Starts the controller, applies the Services, the stable Ingress and the Rollout's first revision, and
// waits until it is Healthy.
void startWithStableRevision(ControllerEnv& env) {
  env.startController();
  for (const char* name : {"web-stable", "web-canary"})
    env.cluster.ok("apply -f " + env.cluster.writeFile(std::string(name) + ".json", service(name).dump()));
  env.cluster.ok("apply -f " + env.cluster.writeFile("ingress.json", stableIngress().dump()));
  env.cluster.ok("apply -f " +
                 env.cluster.writeFile("v1.json", routedRollout("registry.example/web:v1").dump()));
  REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
}

}  // namespace

TEST_CASE(
    "trafficRouting.nginx: each step's weight is in the canary Ingress, and an abort moves traffic "
    "back before the canary scales down",
    "[controller][e2e][traffic]") {
  ControllerEnv env(std::chrono::milliseconds(1000));
  startWithStableRevision(env);

  // The first revision: a canary Ingress at weight 0, built from the stable one, owned by the Rollout.
  json canary = canaryIngress(env);
  INFO(canary.dump());
  CHECK(weightOf(canary) == "0");
  CHECK(canary["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary"] == "true");
  CHECK(canary["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "web-canary");
  CHECK(canary["spec"]["ingressClassName"] == "nginx");
  CHECK(canary["metadata"]["ownerReferences"][0]["kind"] == "Rollout");

  // v2: the first step's weight is in the Ingress when the Rollout pauses after it.
  env.cluster.ok("apply -f " +
                 env.cluster.writeFile("v2.json", routedRollout("registry.example/web:v2").dump()));
  REQUIRE(env.waitRollout("web", [](const json& r) {
    return phaseOf(r) == "Paused" && r["status"].value("currentStepIndex", -1) == 1;
  }));
  canary = canaryIngress(env);
  const json status = env.rollout("web")["status"];
  CHECK(weightOf(canary) == "20");
  CHECK(canary["metadata"]["annotations"]["sluice.dev/canary-hash"] == status["currentPodHash"]);
  CHECK(canary["metadata"]["annotations"]["sluice.dev/stable-hash"] == status["stableRS"]);
  CHECK(status["canary"]["weights"]["canary"]["weight"] == 20);

  // Someone annotates the canary Ingress, and the stable Ingress gains a path: the canary Ingress follows
  // the stable one and keeps the foreign annotation.
  env.cluster.ok("annotate ingress web-web-canary other.controller/seen=yes");
  json stable = stableIngress();
  stable["spec"]["rules"][0]["http"]["paths"].push_back(
      {{"path", "/v2"},
       {"pathType", "Prefix"},
       {"backend", {{"service", {{"name", "web-stable"}, {"port", {{"number", 80}}}}}}}});
  env.cluster.ok("apply -f " + env.cluster.writeFile("ingress2.json", stable.dump()));
  bool followed = false;
  for (int i = 0; i < 100 && !followed; ++i) {
    canary = canaryIngress(env);
    followed = canary["spec"]["rules"][0]["http"]["paths"].size() == 2;
    if (!followed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(followed);
  CHECK(canary["spec"]["rules"][0]["http"]["paths"][1]["backend"]["service"]["name"] == "web-canary");
  CHECK(canary["metadata"]["annotations"]["other.controller/seen"] == "yes");

  auto promoted = env.cluster.plugin("promote web");
  REQUIRE(promoted.exitCode == 0);
  REQUIRE(env.waitRollout("web", [](const json& r) {
    return phaseOf(r) == "Paused" && r["status"].value("currentStepIndex", -1) == 3;
  }));
  CHECK(weightOf(canaryIngress(env)) == "50");
  const std::string canaryRS = "web-" + env.rollout("web")["status"].value("currentPodHash", "");

  // Abort: all traffic back on the stable (weight 0 in the Ingress) before the canary ReplicaSet is
  // scaled to 0, as the watch delivers the two writes.
  WriteLog log(*env.client);
  auto aborted = env.cluster.plugin("abort web");
  INFO(aborted.output);
  REQUIRE(aborted.exitCode == 0);
  REQUIRE(env.waitRollout("web", [&](const json& r) {
    auto rs = env.client->get(kReplicaSets, "default", canaryRS);
    return phaseOf(r) == "Degraded" && rs && (*rs)["spec"].value("replicas", -1) == 0;
  }));
  const uint64_t weightZero = log.first([](const json& o) {
    return o["metadata"].value("name", "") == "web-web-canary" && weightOf(o) == "0";
  });
  const uint64_t scaledDown = log.first([&](const json& o) {
    return o["metadata"].value("name", "") == canaryRS && o["spec"].value("replicas", -1) == 0;
  });
  REQUIRE(weightZero > 0);
  REQUIRE(scaledDown > 0);
  CHECK(weightZero < scaledDown);
}

TEST_CASE(
    "trafficRouting.nginx: at the promotion the stable Service moves to the new revision only while the "
    "canary Ingress sends it all traffic, and the weight goes back to 0 only after (no request meets a "
    "Service between revisions)",
    "[controller][e2e][traffic]") {
  ControllerEnv env(std::chrono::milliseconds(500));
  startWithStableRevision(env);
  env.cluster.ok("apply -f " +
                 env.cluster.writeFile("v2.json", routedRollout("registry.example/web:v2").dump()));
  REQUIRE(env.waitRollout("web", [](const json& r) {
    return phaseOf(r) == "Paused" && r["status"].value("currentStepIndex", -1) == 1;
  }));
  const std::string v2 = env.rollout("web")["status"].value("currentPodHash", "");

  WriteLog log(*env.client);
  REQUIRE(env.cluster.plugin("promote web --full").exitCode == 0);
  REQUIRE(env.waitRollout("web", [&](const json& r) {
    return phaseOf(r) == "Healthy" && r["status"].value("stableRS", "") == v2;
  }));
  auto canaryAt = [&](const std::string& weight) {
    return log.first([&](const json& o) {
      return o["metadata"].value("name", "") == "web-web-canary" && weightOf(o) == weight;
    });
  };
  // Seen through the log's own watch, which may trail a read of the object.
  REQUIRE(waitUntil([&] { return canaryAt("0") > 0; }, std::chrono::seconds(10)));
  const uint64_t allOnCanary = canaryAt("100");
  const uint64_t stableMoved = log.first([&](const json& o) {
    return o["metadata"].value("name", "") == "web-stable" &&
           o.value(json::json_pointer("/spec/selector"), json::object())
                   .value(engine::kPodTemplateHashLabel, "") == v2;
  });
  const uint64_t backToStable = canaryAt("0");
  INFO("resourceVersions: canary weight 100 at " << allOnCanary << ", stable Service on v2 at " << stableMoved
                                                 << ", canary weight 0 at " << backToStable);
  REQUIRE(allOnCanary > 0);
  REQUIRE(stableMoved > 0);
  REQUIRE(backToStable > 0);
  CHECK(allOnCanary < stableMoved);
  CHECK(stableMoved < backToStable);
}
