// The workload controllers as kubectl sees it: Deployments roll out (rollout status, wait, set image, undo,
// scale), a crash-looping template misses its progress deadline, readiness delays hold, and bare
// ReplicaSets and Pods run. The server's default pod readiness delay is cut to 300ms for speed.
#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "kube/apiserver/store.h"
#include "tests/integration/kubectl_env.h"
#include "tests/support/process.h"

using nlohmann::json;
using sluice::testing::KubectlEnv;
using sluice::testing::waitUntil;

namespace {

constexpr std::chrono::milliseconds kFastReady{300};

json namedDeployment(const std::string& name, int replicas, const std::string& image,
                     const json& templateAnnotations = json::object()) {
  json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", name}, {"labels", {{"app", name}}}}},
            {"spec",
             {{"replicas", replicas},
              {"selector", {{"matchLabels", {{"app", name}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", name}}}}},
                {"spec", {{"containers", json::array({{{"name", "web"}, {"image", image}}})}}}}}}}};
  if (!templateAnnotations.empty()) d["spec"]["template"]["metadata"]["annotations"] = templateAnnotations;
  return d;
}

std::string applyObject(const KubectlEnv& env, const json& object) {
  const std::string file =
      env.writeFile(object["metadata"]["name"].get<std::string>() + ".json", object.dump());
  return env.ok("apply -f " + file);
}

const json* condition(const json& obj, const std::string& type) {
  if (!obj.contains("status") || !obj["status"].contains("conditions")) return nullptr;
  for (const auto& c : obj["status"]["conditions"]) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}

bool podReady(const json& pod) {
  const json* c = condition(pod, "Ready");
  return c && c->value("status", "") == "True";
}

// The ReplicaSets of app `app`, by name.
std::map<std::string, json> replicaSets(const KubectlEnv& env, const std::string& app) {
  std::map<std::string, json> out;
  const json list = env.getJson("replicasets -l app=" + app);
  for (const auto& rs : list["items"]) out[rs["metadata"]["name"]] = rs;
  return out;
}

std::string annotation(const json& obj, const std::string& key) {
  return obj["metadata"].value("annotations", json::object()).value(key, "");
}

int statusInt(const json& obj, const std::string& key) {
  return obj.value("status", json::object()).value(key, 0);
}

// The Deployment's single ReplicaSet with pods, checked against its Deployment.
void checkRolledOut(const KubectlEnv& env, const std::string& name, int replicas, const std::string& image,
                    const std::string& revision) {
  auto d = env.getJson("deployment " + name);
  INFO(d.dump(2));
  CHECK(d["status"]["observedGeneration"] == d["metadata"]["generation"]);
  CHECK(statusInt(d, "replicas") == replicas);
  CHECK(statusInt(d, "updatedReplicas") == replicas);
  CHECK(statusInt(d, "readyReplicas") == replicas);
  CHECK(statusInt(d, "availableReplicas") == replicas);
  CHECK_FALSE(d["status"].contains("unavailableReplicas"));
  CHECK(annotation(d, "deployment.kubernetes.io/revision") == revision);
  const json* available = condition(d, "Available");
  REQUIRE(available);
  CHECK((*available)["status"] == "True");
  CHECK((*available)["reason"] == "MinimumReplicasAvailable");
  const json* progressing = condition(d, "Progressing");
  REQUIRE(progressing);
  CHECK((*progressing)["status"] == "True");
  CHECK((*progressing)["reason"] == "NewReplicaSetAvailable");
  CHECK(progressing->contains("lastUpdateTime"));
  CHECK(progressing->contains("lastTransitionTime"));

  std::string current;
  for (const auto& [rsName, rs] : replicaSets(env, name)) {
    INFO(rs.dump(2));
    const std::string hash = rs["metadata"]["labels"]["pod-template-hash"];
    CHECK(rsName == name + "-" + hash);
    CHECK(rs["spec"]["selector"]["matchLabels"]["pod-template-hash"] == hash);
    CHECK(rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == hash);
    const auto& owner = rs["metadata"]["ownerReferences"][0];
    CHECK(owner["apiVersion"] == "apps/v1");
    CHECK(owner["kind"] == "Deployment");
    CHECK(owner["name"] == name);
    CHECK(owner["uid"] == d["metadata"]["uid"]);
    CHECK(owner["controller"] == true);
    CHECK(owner["blockOwnerDeletion"] == true);
    if (annotation(rs, "deployment.kubernetes.io/revision") == revision) {
      current = rsName;
      CHECK(rs["spec"]["replicas"] == replicas);
      CHECK(statusInt(rs, "replicas") == replicas);
      CHECK(statusInt(rs, "readyReplicas") == replicas);
      CHECK(statusInt(rs, "availableReplicas") == replicas);
      CHECK(statusInt(rs, "fullyLabeledReplicas") == replicas);
      CHECK(rs["status"]["observedGeneration"] == rs["metadata"]["generation"]);
      CHECK(annotation(rs, "deployment.kubernetes.io/desired-replicas") == std::to_string(replicas));
      CHECK(rs["spec"]["template"]["spec"]["containers"][0]["image"] == image);
    } else {
      CHECK(rs["spec"]["replicas"] == 0);
      CHECK(statusInt(rs, "replicas") == 0);
    }
  }
  REQUIRE_FALSE(current.empty());
  CHECK((*progressing)["message"] == "ReplicaSet \"" + current + "\" has successfully progressed.");

  auto pods = env.getJson("pods -l app=" + name)["items"];
  CHECK(pods.size() == static_cast<size_t>(replicas));
  std::set<std::string> ips;
  for (const auto& pod : pods) {
    INFO(pod.dump(2));
    const std::string podName = pod["metadata"]["name"];
    CHECK(podName.rfind(current + "-", 0) == 0);
    CHECK(podName.size() == current.size() + 6);
    CHECK(pod["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet");
    CHECK(pod["metadata"]["ownerReferences"][0]["name"] == current);
    CHECK(pod["metadata"]["ownerReferences"][0]["controller"] == true);
    CHECK(pod["spec"]["nodeName"] == "sluice-node");
    CHECK(pod["status"]["phase"] == "Running");
    CHECK(podReady(pod));
    ips.insert(pod["status"].value("podIP", ""));
    const auto& cs = pod["status"]["containerStatuses"][0];
    CHECK(cs["image"] == image);
    CHECK(cs["ready"] == true);
    CHECK(cs["started"] == true);
    CHECK(cs["restartCount"] == 0);
    CHECK(cs["state"]["running"].contains("startedAt"));
  }
  CHECK(ips.size() == pods.size());
  CHECK_FALSE(ips.count(""));
}

}  // namespace

TEST_CASE("A Deployment rolls out, updates, rolls back and scales as kubectl expects",
          "[integration][kubectl][workloads]") {
  KubectlEnv env(kFastReady);
  CHECK_THAT(applyObject(env, namedDeployment("web", 3, "nginx:1.25")),
             Catch::Contains("deployment.apps/web created"));
  auto d = env.getJson("deployment web");
  // The real server's defaults.
  CHECK(d["spec"]["strategy"]["type"] == "RollingUpdate");
  CHECK(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == "25%");
  CHECK(d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == "25%");
  CHECK(d["spec"]["revisionHistoryLimit"] == 10);
  CHECK(d["spec"]["progressDeadlineSeconds"] == 600);

  CHECK_THAT(env.ok("rollout status deployment/web --timeout=60s"),
             Catch::Contains("deployment \"web\" successfully rolled out"));
  CHECK_THAT(env.ok("wait --for=condition=Available deployment/web --timeout=60s"),
             Catch::Contains("condition met"));
  checkRolledOut(env, "web", 3, "nginx:1.25", "1");
  const std::string first = replicaSets(env, "web").begin()->first;
  // 3 replicas and a 25% surge: one extra pod at most.
  CHECK(annotation(replicaSets(env, "web").begin()->second, "deployment.kubernetes.io/max-replicas") == "4");

  SECTION("a new image rolls to a new ReplicaSet, and undo rolls back to the first") {
    env.ok("set image deployment/web web=nginx:1.26");
    CHECK_THAT(env.ok("rollout status deployment/web --timeout=60s"),
               Catch::Contains("deployment \"web\" successfully rolled out"));
    checkRolledOut(env, "web", 3, "nginx:1.26", "2");
    auto sets = replicaSets(env, "web");
    REQUIRE(sets.size() == 2);
    CHECK(sets[first]["spec"]["replicas"] == 0);
    CHECK(annotation(sets[first], "deployment.kubernetes.io/revision") == "1");
    const json* progressing = condition(env.getJson("deployment web"), "Progressing");
    REQUIRE(progressing);

    CHECK_THAT(env.ok("rollout undo deployment/web"), Catch::Contains("rolled back"));
    CHECK_THAT(env.ok("rollout status deployment/web --timeout=60s"),
               Catch::Contains("deployment \"web\" successfully rolled out"));
    checkRolledOut(env, "web", 3, "nginx:1.25", "3");
    sets = replicaSets(env, "web");
    REQUIRE(sets.size() == 2);
    // The first ReplicaSet is the current one again, under the new revision.
    CHECK(annotation(sets[first], "deployment.kubernetes.io/revision") == "3");
    CHECK(sets[first]["spec"]["replicas"] == 3);
    CHECK_THAT(env.ok("rollout history deployment/web"), Catch::Contains("2 ") && Catch::Contains("3 "));
  }

  SECTION("kubectl scale adds ready pods to the current ReplicaSet") {
    CHECK_THAT(env.ok("scale deployment web --replicas=5"), Catch::Contains("scaled"));
    CHECK_THAT(env.ok("rollout status deployment/web --timeout=60s"),
               Catch::Contains("deployment \"web\" successfully rolled out"));
    checkRolledOut(env, "web", 5, "nginx:1.25", "1");
    CHECK(replicaSets(env, "web").size() == 1);
    env.ok("scale deployment web --replicas=2");
    REQUIRE(waitUntil([&] { return env.getJson("pods -l app=web")["items"].size() == 2; },
                      std::chrono::seconds(30)));
    checkRolledOut(env, "web", 2, "nginx:1.25", "1");
  }
}

TEST_CASE("A Recreate Deployment replaces every old pod before starting new ones",
          "[integration][kubectl][workloads]") {
  KubectlEnv env(kFastReady);
  auto d = namedDeployment("batch", 2, "busybox:1.36");
  d["spec"]["strategy"] = {{"type", "Recreate"}};
  applyObject(env, d);
  env.ok("rollout status deployment/batch --timeout=60s");
  checkRolledOut(env, "batch", 2, "busybox:1.36", "1");
  CHECK_FALSE(env.getJson("deployment batch")["spec"]["strategy"].contains("rollingUpdate"));
  env.ok("set image deployment/batch web=busybox:1.37");
  CHECK_THAT(env.ok("rollout status deployment/batch --timeout=60s"),
             Catch::Contains("deployment \"batch\" successfully rolled out"));
  checkRolledOut(env, "batch", 2, "busybox:1.37", "2");
}

TEST_CASE("A crash-looping Deployment exceeds its progress deadline", "[integration][kubectl][workloads]") {
  KubectlEnv env(kFastReady);
  auto d = namedDeployment("crash", 2, "nginx:1.25", {{"cluster.sluice.dev/fail", "CrashLoopBackOff"}});
  d["spec"]["progressDeadlineSeconds"] = 5;
  applyObject(env, d);
  auto status = env.kubectl("rollout status deployment/crash --timeout=60s");
  INFO(status.output);
  CHECK(status.exitCode != 0);
  CHECK_THAT(status.output, Catch::Contains("deployment \"crash\" exceeded its progress deadline"));

  auto wait = env.kubectl("wait --for=condition=Available deployment/crash --timeout=2s");
  INFO(wait.output);
  CHECK(wait.exitCode != 0);
  CHECK_THAT(wait.output, Catch::Contains("timed out"));

  auto got = env.getJson("deployment crash");
  INFO(got.dump(2));
  const std::string rsName = replicaSets(env, "crash").begin()->first;
  const json* progressing = condition(got, "Progressing");
  REQUIRE(progressing);
  CHECK((*progressing)["status"] == "False");
  CHECK((*progressing)["reason"] == "ProgressDeadlineExceeded");
  CHECK((*progressing)["message"] == "ReplicaSet \"" + rsName + "\" has timed out progressing.");
  const json* available = condition(got, "Available");
  REQUIRE(available);
  CHECK((*available)["status"] == "False");
  CHECK((*available)["reason"] == "MinimumReplicasUnavailable");
  CHECK(statusInt(got, "unavailableReplicas") == 2);
  CHECK(statusInt(got, "availableReplicas") == 0);

  auto pods = env.getJson("pods -l app=crash")["items"];
  REQUIRE(pods.size() == 2);
  for (const auto& pod : pods) {
    INFO(pod.dump(2));
    CHECK(pod["status"]["phase"] == "Running");
    CHECK_FALSE(podReady(pod));
    const auto& cs = pod["status"]["containerStatuses"][0];
    CHECK(cs["ready"] == false);
    CHECK(cs["state"]["waiting"]["reason"] == "CrashLoopBackOff");
    CHECK(cs["restartCount"].get<int>() >= 1);
  }
  // The kubelet keeps restarting the container (after a 10s back-off).
  const std::string podName = pods[0]["metadata"]["name"];
  CHECK(waitUntil(
      [&] {
        return env.getJson("pod " + podName)["status"]["containerStatuses"][0]["restartCount"].get<int>() >=
               2;
      },
      std::chrono::seconds(40)));
  CHECK_THAT(env.ok("get pods -l app=crash"), Catch::Contains(podName));
}

TEST_CASE("sim-ready-after holds a pod's readiness back", "[integration][kubectl][workloads]") {
  KubectlEnv env(kFastReady);
  applyObject(env, namedDeployment("slow", 1, "nginx:1.25", {{"cluster.sluice.dev/ready-after", "3s"}}));
  json pods;
  REQUIRE(waitUntil([&] { return !(pods = env.getJson("pods -l app=slow")["items"]).empty(); },
                    std::chrono::seconds(20)));
  // Well within the 3 seconds (the default here is 300ms): scheduled, not ready.
  INFO(pods.dump(2));
  CHECK_FALSE(podReady(pods[0]));
  CHECK(pods[0]["status"].value("phase", "Pending") == "Pending");
  CHECK(pods[0]["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating");
  CHECK_FALSE(condition(env.getJson("deployment slow"), "Available")->at("status") == "True");
  CHECK_THAT(env.ok("wait --for=condition=Ready pod -l app=slow --timeout=60s"),
             Catch::Contains("condition met"));
  CHECK_THAT(env.ok("rollout status deployment/slow --timeout=60s"),
             Catch::Contains("successfully rolled out"));
}

TEST_CASE("An unreadable cluster annotation is ignored with a Warning Event",
          "[integration][kubectl][workloads]") {
  KubectlEnv env(kFastReady);
  applyObject(env, namedDeployment("odd", 1, "nginx:1.25", {{"cluster.sluice.dev/ready-after", "soon"}}));
  CHECK_THAT(env.ok("rollout status deployment/odd --timeout=60s"),
             Catch::Contains("successfully rolled out"));
  const std::string pod = env.getJson("pods -l app=odd")["items"][0]["metadata"]["name"];
  bool warned = false;
  const json events = env.getJson("events");
  for (const auto& e : events["items"]) {
    if (e["involvedObject"]["name"] == pod && e["type"] == "Warning" &&
        e["reason"] == "InvalidClusterAnnotation") {
      warned = true;
      CHECK_THAT(e["message"].get<std::string>(), Catch::Contains("cluster.sluice.dev/ready-after"));
    }
  }
  CHECK(warned);
}

TEST_CASE("A Deployment with maxSurge and maxUnavailable both 0 is invalid",
          "[integration][kubectl][workloads]") {
  KubectlEnv env(kFastReady);
  auto d = namedDeployment("stuck", 1, "nginx:1.25");
  d["spec"]["strategy"] = {{"type", "RollingUpdate"},
                           {"rollingUpdate", {{"maxSurge", 0}, {"maxUnavailable", 0}}}};
  auto r = env.kubectl("apply -f " + env.writeFile("stuck.json", d.dump()));
  INFO(r.output);
  CHECK(r.exitCode != 0);
  CHECK_THAT(r.output,
             Catch::Contains("spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 "
                             "when `maxSurge` is 0"));
}

TEST_CASE("kubectl sees the real server's 422 for a workload whose selector does not select its template",
          "[integration][kubectl][workloads]") {
  KubectlEnv env(kFastReady);
  auto mismatched = namedDeployment("web", 2, "nginx:1.25");
  mismatched["spec"]["selector"]["matchLabels"]["app"] = "other";
  auto r = env.kubectl("apply -f " + env.writeFile("mismatched.json", mismatched.dump()));
  INFO(r.output);
  CHECK(r.exitCode != 0);
  CHECK_THAT(r.output,
             Catch::Contains("spec.template.metadata.labels: "
                             "Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not "
                             "match template `labels`"));
  auto unselected = namedDeployment("bare", 1, "nginx:1.25");
  unselected["spec"].erase("selector");
  r = env.kubectl("create -f " + env.writeFile("bare.json", unselected.dump()));
  INFO(r.output);
  CHECK(r.exitCode != 0);
  CHECK_THAT(r.output, Catch::Contains("spec.selector: Required value"));
  auto negative = namedDeployment("negative", -3, "nginx:1.25");
  r = env.kubectl("create -f " + env.writeFile("negative.json", negative.dump()));
  INFO(r.output);
  CHECK_THAT(r.output,
             Catch::Contains("spec.replicas: Invalid value: -3: must be greater than or equal to 0"));
  CHECK(env.getJson("deployments")["items"].empty());
}

TEST_CASE("Workloads stored before validation existed never make the simulation create without bound",
          "[integration][kubectl][workloads]") {
  KubectlEnv env(kFastReady);
  env.stop();
  {
    // Written to the store directly, as an older server would have accepted them.
    auto store = sluice::apiserver::Store::open(env.dir() / "data" / "state.db");
    REQUIRE(store.ok());
    auto noSelector = namedDeployment("no-selector", 3, "nginx:1.25");
    noSelector["spec"].erase("selector");
    auto mismatched = namedDeployment("mismatched", 3, "nginx:1.25");
    mismatched["spec"]["selector"]["matchLabels"]["app"] = "other";
    json rs = {{"apiVersion", "apps/v1"},
               {"kind", "ReplicaSet"},
               {"metadata", {{"name", "rs-mismatched"}, {"namespace", "default"}, {"uid", "u-rs"}}},
               {"spec",
                {{"replicas", 3},
                 {"selector", {{"matchLabels", {{"app", "x"}}}}},
                 {"template",
                  {{"metadata", {{"labels", {{"app", "y"}}}}}, {"spec", {{"containers", json::array()}}}}}}}};
    int uid = 0;
    for (json d : {noSelector, mismatched}) {
      d["metadata"]["namespace"] = "default";
      d["metadata"]["uid"] = "u-" + std::to_string(++uid);
      REQUIRE((*store)
                  ->create("apps/deployments/default/" + d["metadata"]["name"].get<std::string>(), d.dump())
                  .ok());
    }
    REQUIRE((*store)->create("apps/replicasets/default/rs-mismatched", rs.dump()).ok());
  }
  env.start();
  // Before the simulation checked selectors, three seconds made dozens of ReplicaSets and pods here.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  CHECK(env.getJson("deployments")["items"].size() == 2);
  CHECK(env.getJson("replicasets")["items"].size() == 1);
  CHECK(env.getJson("pods")["items"].empty());
}

TEST_CASE("A bare ReplicaSet and a bare Pod run too", "[integration][kubectl][workloads]") {
  KubectlEnv env(kFastReady);
  json rs = {
      {"apiVersion", "apps/v1"},
      {"kind", "ReplicaSet"},
      {"metadata", {{"name", "bare"}}},
      {"spec",
       {{"replicas", 2},
        {"selector", {{"matchLabels", {{"app", "bare"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "bare"}, {"tier", "x"}}}, {"annotations", {{"note", "kept"}}}}},
          {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "redis:7"}}})}}}}}}}};
  applyObject(env, rs);
  CHECK_THAT(env.ok("wait --for=condition=Ready pod -l app=bare --timeout=60s"),
             Catch::Contains("condition met"));
  REQUIRE(waitUntil([&] { return statusInt(env.getJson("replicaset bare"), "availableReplicas") == 2; },
                    std::chrono::seconds(20)));
  auto got = env.getJson("replicaset bare");
  CHECK(statusInt(got, "replicas") == 2);
  CHECK(statusInt(got, "readyReplicas") == 2);
  CHECK(statusInt(got, "fullyLabeledReplicas") == 2);
  CHECK(got["status"]["observedGeneration"] == 1);
  auto pods = env.getJson("pods -l app=bare")["items"];
  REQUIRE(pods.size() == 2);
  for (const auto& pod : pods) {
    CHECK(pod["metadata"]["labels"]["tier"] == "x");
    CHECK(pod["metadata"]["annotations"]["note"] == "kept");
    CHECK(pod["metadata"]["ownerReferences"][0]["uid"] == got["metadata"]["uid"]);
  }
  env.ok("scale replicaset bare --replicas=1");
  CHECK(waitUntil([&] { return env.getJson("pods -l app=bare")["items"].size() == 1; },
                  std::chrono::seconds(20)));
  CHECK(waitUntil([&] { return statusInt(env.getJson("replicaset bare"), "replicas") == 1; },
                  std::chrono::seconds(20)));

  // A pod deleted by hand is replaced.
  const std::string survivor = env.getJson("pods -l app=bare")["items"][0]["metadata"]["name"];
  env.ok("delete pod " + survivor + " --wait=false");
  CHECK(waitUntil(
      [&] {
        auto items = env.getJson("pods -l app=bare")["items"];
        return items.size() == 1 && items[0]["metadata"]["name"] != survivor && podReady(items[0]);
      },
      std::chrono::seconds(20)));

  env.ok("run solo --image=nginx:1.25");
  CHECK_THAT(env.ok("wait --for=condition=Ready pod/solo --timeout=60s"), Catch::Contains("condition met"));
  auto solo = env.getJson("pod solo");
  INFO(solo.dump(2));
  CHECK(solo["status"]["phase"] == "Running");
  CHECK(solo["spec"]["nodeName"] == "sluice-node");
  CHECK_FALSE(solo["status"].value("podIP", "").empty());
  CHECK_FALSE(solo["status"].value("hostIP", "").empty());
  CHECK(solo["status"].contains("startTime"));
  for (const char* type : {"PodScheduled", "Initialized", "ContainersReady", "Ready"}) {
    INFO(type);
    REQUIRE(condition(solo, type));
    CHECK(condition(solo, type)->at("status") == "True");
  }
  CHECK(solo["status"]["containerStatuses"][0]["image"] == "nginx:1.25");
  CHECK_FALSE(solo["status"]["containerStatuses"][0].value("imageID", "").empty());
}

TEST_CASE("A restarted server resumes the workloads", "[integration][kubectl][workloads]") {
  KubectlEnv env(kFastReady);
  applyObject(env, namedDeployment("later", 2, "nginx:1.25", {{"cluster.sluice.dev/ready-after", "2s"}}));
  REQUIRE(waitUntil([&] { return env.getJson("pods -l app=later")["items"].size() == 2; },
                    std::chrono::seconds(20)));
  env.restart();
  CHECK_THAT(env.ok("wait --for=condition=Available deployment/later --timeout=60s"),
             Catch::Contains("condition met"));
  CHECK_THAT(env.ok("rollout status deployment/later --timeout=60s"),
             Catch::Contains("successfully rolled out"));
  checkRolledOut(env, "later", 2, "nginx:1.25", "1");
}

TEST_CASE("sluice cluster rejects an unreadable --pod-ready-after", "[integration][cluster][workloads]") {
  sluice::testing::TempDir dir("sluice-cluster-flag");
  auto r = sluice::testing::runCommand(std::string(SLUICE_BINARY) + " cluster --data-dir " +
                                       (dir / "data").string() + " --port 0 --pod-ready-after soon 2>&1");
  INFO(r.output);
  CHECK(r.exitCode == 2);
  CHECK_THAT(r.output, Catch::Contains("--pod-ready-after") && Catch::Contains("soon"));
}

namespace {

json namedJob(const std::string& name, const json& templateAnnotations,
              const json& specExtra = json::object()) {
  json j = {{"apiVersion", "batch/v1"},
            {"kind", "Job"},
            {"metadata", {{"name", name}}},
            {"spec",
             {{"backoffLimit", 0},
              {"template",
               {{"metadata", {{"annotations", templateAnnotations}}},
                {"spec",
                 {{"containers", json::array({{{"name", "check"}, {"image", "busybox:1.36"}}})},
                  {"restartPolicy", "Never"}}}}}}}};
  j["spec"].update(specExtra);
  return j;
}

}  // namespace

TEST_CASE("A Job completes, fails or runs out of its deadline as kubectl wait expects",
          "[integration][kubectl][workloads][job]") {
  KubectlEnv env(kFastReady);
  applyObject(env, namedJob("passes", {{"cluster.sluice.dev/ready-after", "1s"}}));
  applyObject(env, namedJob("crashes", {{"cluster.sluice.dev/fail", "CrashLoopBackOff"}}));
  applyObject(env,
              namedJob("slow", {{"cluster.sluice.dev/ready-after", "1h"}}, {{"activeDeadlineSeconds", 2}}));

  CHECK_THAT(env.ok("wait --for=condition=complete job/passes --timeout=60s"),
             Catch::Contains("condition met"));
  const json passed = env.getJson("job passes");
  INFO(passed.dump(2));
  CHECK(passed["status"]["succeeded"] == 1);
  CHECK(passed["status"].contains("startTime"));
  CHECK(passed["status"].contains("completionTime"));
  CHECK_FALSE(passed["status"].contains("active"));

  CHECK_THAT(env.ok("wait --for=condition=failed job/crashes --timeout=60s"),
             Catch::Contains("condition met"));
  const json crashes = env.getJson("job crashes");
  const json* crashed = condition(crashes, "Failed");
  REQUIRE(crashed);
  CHECK((*crashed)["reason"] == "BackoffLimitExceeded");

  // Active until its deadline, then failed.
  CHECK(waitUntil([&] { return env.getJson("job slow").value(json::json_pointer("/status/active"), 0) == 1; },
                  std::chrono::seconds(10)));
  CHECK_THAT(env.ok("wait --for=condition=failed job/slow --timeout=60s"), Catch::Contains("condition met"));
  const json slow = env.getJson("job slow");
  const json* deadline = condition(slow, "Failed");
  REQUIRE(deadline);
  CHECK((*deadline)["reason"] == "DeadlineExceeded");
  CHECK(slow["status"]["failed"] == 1);
  CHECK_FALSE(slow["status"].contains("completionTime"));
}
