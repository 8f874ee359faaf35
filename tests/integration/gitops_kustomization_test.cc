// The Kustomization reconciler against the embedded API server over HTTPS, with the real kustomize (the
// one in kubectl) building source directories on disk that stand in for artifacts, and the real kubectl
// changing and deleting what it applied.
#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <mutex>
#include <set>

#include "controller/kustomization_reconciler.h"
#include "controller_env.h"
#include "kube/client.h"

namespace {

using nlohmann::json;
using sluice::controller::KustomizationReconciler;
using sluice::controller::ReconcileOutcome;
using sluice::controller::SourceArtifact;
using sluice::testing::ControllerEnv;
using sluice::testing::shellQuote;
using sluice::testing::TempDir;

// A source's artifact on disk: files written by the test, and the revision it is "at".
class Source {
 public:
  void write(const std::string& path, const std::string& content) {
    auto p = dir_ / path;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  void remove(const std::string& path) { std::filesystem::remove(dir_ / path); }
  // A new commit: the revision moves on.
  void commit() {
    std::lock_guard<std::mutex> lock(mu_);
    ++commit_;
  }
  std::string revision() const {
    std::lock_guard<std::mutex> lock(mu_);
    return "main@sha1:" + std::string(39, '0') + std::to_string(commit_ % 10);
  }
  sluice::controller::SourceResolver resolver() {
    return [this](const json&) -> sluice::Result<SourceArtifact> {
      if (auto failure = failureMessage(); !failure.empty()) return sluice::Error{failure};
      return SourceArtifact{dir_.path(), revision(), nullptr};
    };
  }
  // The resolver fails with `message` (empty: it works again).
  void failWith(const std::string& message) {
    std::lock_guard<std::mutex> lock(mu_);
    failure_ = message;
  }
  std::string failureMessage() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failure_;
  }
  const std::filesystem::path& path() const { return dir_.path(); }

 private:
  TempDir dir_{"sluice-source"};
  mutable std::mutex mu_;
  int commit_ = 1;
  std::string failure_;
};

const char* kDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:IMAGE
)";

std::string deployment(const std::string& tag) {
  std::string s = kDeployment;
  return s.replace(s.find("IMAGE"), 5, tag);
}

const char* kService = R"(apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - port: 80
)";

std::string configMap(const std::string& name, const std::string& value) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  value: \"" + value +
         "\"\n";
}

// A Kustomization `name` in default with these spec fields over the defaults.
json kustomization(const std::string& name, json extra = json::object()) {
  json spec = {{"sourceRef", {{"kind", "GitRepository"}, {"name", "repo"}}},
               {"interval", "1m"},
               {"timeout", "40s"},
               {"prune", true}};
  spec.update(extra);
  return {{"apiVersion", "sluice.dev/v1alpha1"},
          {"kind", "Kustomization"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", spec}};
}

struct Fixture {
  explicit Fixture(bool countWrites = true, double qps = 40) {
    // The reconciler's own client, counting its writes.
    sluice::kube::KubeconfigOptions o;
    o.kubeconfigFlag = env.cluster.server().kubeconfigPath().string();
    auto config = sluice::kube::loadClientConfig(o);
    REQUIRE(config.ok());
    sluice::kube::ClientOptions options;
    options.qps = qps;  // the controller's default, unless a figure asks for the server's own pace
    options.burst = static_cast<int>(2 * qps);
    if (countWrites) {
      options.onRequest = [this](const sluice::kube::RequestRecord& r) {
        if (r.verb != "GET" && r.verb != "WATCH" && r.query.find("dryRun") == std::string::npos) ++writes;
      };
    }
    auto c = sluice::kube::Client::create(*config, options);
    REQUIRE(c.ok());
    client = std::move(*c);
    sluice::controller::KustomizationReconcilerOptions ro;
    ro.healthPollInterval = std::chrono::milliseconds(200);
    reconciler =
        std::make_unique<KustomizationReconciler>(*client, source.resolver(), sluice::realClock(), ro);
  }

  void create(const json& k) {
    env.cluster.ok("apply -f " + shellQuote(env.cluster.writeFile(
                                     k["metadata"]["name"].get<std::string>() + ".json", k.dump())));
  }
  ReconcileOutcome reconcile(const std::string& name = "apps") {
    return reconciler->reconcile("default/" + name);
  }
  json get(const std::string& what) { return env.cluster.getJson(what); }
  json ks(const std::string& name = "apps") { return get("kustomization " + name); }
  static json ready(const json& k) { return sluice::testing::conditionOf(k, "Ready"); }
  bool exists(const std::string& what) { return env.cluster.kubectl("get " + what).exitCode == 0; }
  // The store's resourceVersion now: every write anywhere moves it.
  std::string clusterVersion() {
    sluice::kube::ResourceRef cms{"", "v1", "configmaps", true, "ConfigMap"};
    auto list = client->list(cms, "");
    REQUIRE(list.ok());
    return (*list)["metadata"].value("resourceVersion", "");
  }

  ControllerEnv env;
  Source source;
  std::unique_ptr<sluice::kube::Client> client;
  std::unique_ptr<KustomizationReconciler> reconciler;
  std::atomic<int> writes{0};
};

}  // namespace

TEST_CASE(
    "a Kustomization applies its build, sets drift back, recreates what was deleted, and an interval "
    "without drift writes nothing",
    "[gitops][kustomization]") {
  Fixture f;
  f.source.write("deploy/deployment.yaml", deployment("1.25"));
  f.source.write("deploy/service.yaml", kService);
  f.source.write("deploy/config.yaml", configMap("settings", "${greeting:=hello} from ${cluster_env}"));
  f.source.write("deploy/notes.yaml",
                 "just: a values file, not an object\n");  // left out of the generated list
  f.env.cluster.createConfigMap("cluster-vars", {{"cluster_env", "staging"}});
  f.create(kustomization(
      "apps", {{"path", "./deploy"},
               {"wait", true},
               {"postBuild",
                {{"substituteFrom", json::array({{{"kind", "ConfigMap"}, {"name", "cluster-vars"}}})}}}}));

  auto outcome = f.reconcile();
  json k = f.ks();
  INFO(k.dump(2));
  CHECK(outcome.kind == ReconcileOutcome::Kind::RequeueAfter);
  CHECK(outcome.after == sluice::Duration{60});
  CHECK(Fixture::ready(k)["status"] == "True");
  CHECK(Fixture::ready(k)["reason"] == "ReconciliationSucceeded");
  CHECK(Fixture::ready(k)["message"] == "Applied revision: " + f.source.revision());
  CHECK(k["status"]["lastAppliedRevision"] == f.source.revision());
  CHECK(k["status"]["lastAttemptedRevision"] == f.source.revision());
  CHECK(k["metadata"]["finalizers"] == json::array({"finalizers.sluice.dev"}));
  std::set<std::string> ids;
  for (const auto& e : k["status"]["inventory"]["entries"])
    ids.insert(e["id"].get<std::string>() + " " + e["v"].get<std::string>());
  CHECK(ids == std::set<std::string>{"default_settings__ConfigMap v1", "default_web__Service v1",
                                     "default_web_apps_Deployment v1"});
  json cm = f.get("configmap settings");
  CHECK(cm["data"]["value"] == "hello from staging");
  CHECK(cm["metadata"]["labels"]["kustomize.sluice.dev/name"] == "apps");
  CHECK(cm["metadata"]["labels"]["kustomize.sluice.dev/namespace"] == "default");
  CHECK(f.get("deployment web")["status"].value("readyReplicas", 0) == 1);  // wait: true waited for it

  SECTION("an interval with no drift writes nothing") {
    const std::string before = f.clusterVersion();
    const int writesBefore = f.writes;
    outcome = f.reconcile();
    CHECK(outcome.kind == ReconcileOutcome::Kind::RequeueAfter);
    CHECK(f.writes == writesBefore);
    CHECK(f.clusterVersion() == before);
  }
  SECTION("kubectl's changes to managed fields are set back, a deleted object is recreated") {
    f.env.cluster.ok("patch deployment web --type merge -p '{\"spec\":{\"replicas\":3}}'");
    f.env.cluster.ok("patch configmap settings --type merge -p '{\"data\":{\"value\":\"edited by hand\"}}'");
    f.env.cluster.ok("delete service web");
    outcome = f.reconcile();
    CHECK(Fixture::ready(f.ks())["status"] == "True");
    CHECK(f.get("deployment web")["spec"]["replicas"] == 1);
    CHECK(f.get("configmap settings")["data"]["value"] == "hello from staging");
    CHECK(f.get("service web")["metadata"]["labels"]["kustomize.sluice.dev/name"] == "apps");
  }
  SECTION("an object annotated reconcile: disabled is left as people made it") {
    f.env.cluster.ok("annotate configmap settings kustomize.sluice.dev/reconcile=disabled");
    f.env.cluster.ok("patch configmap settings --type merge -p '{\"data\":{\"value\":\"mine now\"}}'");
    f.reconcile();
    CHECK(Fixture::ready(f.ks())["status"] == "True");
    CHECK(f.get("configmap settings")["data"]["value"] == "mine now");
  }
}

TEST_CASE("a new image in git changes only that container: a container added by hand stays (strategic merge)",
          "[gitops][kustomization]") {
  Fixture f;
  f.source.write("deployment.yaml", deployment("1.25"));
  f.create(kustomization("apps"));
  f.reconcile();
  REQUIRE(Fixture::ready(f.ks())["status"] == "True");
  // kubectl patch sends a strategic merge patch: the sidecar joins the list.
  f.env.cluster.ok(
      "patch deployment web -p "
      "'{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"sidecar\",\"image\":\"envoy:1\"}]}}}}"
      "'");
  f.source.write("deployment.yaml", deployment("1.26"));
  f.source.commit();
  f.reconcile();
  REQUIRE(Fixture::ready(f.ks())["status"] == "True");
  const json containers = f.get("deployment web")["spec"]["template"]["spec"]["containers"];
  INFO(containers.dump());
  REQUIRE(containers.size() == 2);
  std::map<std::string, std::string> images;
  for (const auto& c : containers) images[c["name"]] = c["image"];
  CHECK(images == std::map<std::string, std::string>{{"web", "nginx:1.26"}, {"sidecar", "envoy:1"}});
}

TEST_CASE("a file removed from git is pruned, unless prune is off or the object opts out",
          "[gitops][kustomization]") {
  Fixture f;
  f.source.write("a.yaml", configMap("a", "1"));
  f.source.write("b.yaml", configMap("b", "2"));
  f.source.write("c.yaml", configMap("c", "3"));
  f.create(kustomization("apps"));
  f.reconcile();
  REQUIRE(Fixture::ready(f.ks())["status"] == "True");
  f.env.cluster.ok("annotate configmap c kustomize.sluice.dev/prune=disabled");
  f.source.remove("b.yaml");
  f.source.remove("c.yaml");
  f.source.commit();
  f.reconcile();
  json k = f.ks();
  INFO(k.dump(2));
  CHECK(Fixture::ready(k)["status"] == "True");
  CHECK(f.exists("configmap a"));
  CHECK_FALSE(f.exists("configmap b"));
  CHECK(f.exists("configmap c"));  // prune: disabled
  CHECK(k["status"]["inventory"]["entries"] == json::array({{{"id", "default_a__ConfigMap"}, {"v", "v1"}}}));

  // With prune off, a removed file's object is left, and no longer tracked.
  f.env.cluster.ok("patch kustomization apps --type merge -p '{\"spec\":{\"prune\":false}}'");
  f.source.write("a.yaml", configMap("a2", "1"));
  f.source.commit();
  f.reconcile();
  CHECK(f.exists("configmap a"));
  CHECK(f.exists("configmap a2"));
}

TEST_CASE("a bad revision leaves the last good one applied and says why with Flux's reason",
          "[gitops][kustomization]") {
  Fixture f;
  f.source.write("kustomization.yaml", "resources:\n  - config.yaml\n  - deployment.yaml\n");
  f.source.write("config.yaml", configMap("settings", "good"));
  f.source.write("deployment.yaml", deployment("1.25"));
  f.create(kustomization("apps", {{"retryInterval", "15s"}}));
  f.reconcile();
  REQUIRE(Fixture::ready(f.ks())["status"] == "True");
  const std::string good = f.source.revision();

  struct Case {
    const char* what;
    std::function<void(Source&)> breakIt;
    const char* reason;
    const char* message;
  };
  std::vector<Case> cases = {
      {"a YAML error",
       [](Source& s) {
         s.write("config.yaml", configMap("settings", "bad"));
         s.write("deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: [unclosed\n");
       },
       "BuildFailed", "deployment.yaml"},
      {"a kustomization naming a file that is not there",
       [](Source& s) {
         s.write("config.yaml", configMap("settings", "bad"));
         s.write("kustomization.yaml",
                 "resources:\n  - config.yaml\n  - deployment.yaml\n  - missing.yaml\n");
       },
       "BuildFailed", "missing.yaml"},
      {"an apply the server refuses (a Deployment's selector is immutable)",
       [](Source& s) {
         s.write("config.yaml", configMap("settings", "bad"));
         std::string d = deployment("1.25");
         for (size_t p; (p = d.find("app: web")) != std::string::npos;) d.replace(p, 8, "app: other");
         s.write("deployment.yaml", d);
       },
       "ReconciliationFailed", "Deployment/default/web: "},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.what) {
      c.breakIt(f.source);
      f.source.commit();
      auto outcome = f.reconcile();
      json k = f.ks();
      INFO(k.dump(2));
      CHECK(outcome.kind == ReconcileOutcome::Kind::RequeueAfter);
      CHECK(outcome.after == sluice::Duration{15});  // retryInterval
      CHECK(Fixture::ready(k)["status"] == "False");
      CHECK(Fixture::ready(k)["reason"] == c.reason);
      CHECK_THAT(Fixture::ready(k)["message"].get<std::string>(), Catch::Contains(c.message));
      CHECK(k["status"]["lastAppliedRevision"] == good);
      CHECK(k["status"]["lastAttemptedRevision"] == f.source.revision());
      CHECK(f.get("configmap settings")["data"]["value"] == "good");  // nothing of the bad revision applied
      CHECK(f.get("deployment web")["spec"]["selector"]["matchLabels"]["app"] == "web");
    }
  }
}

TEST_CASE("force recreates an object whose immutable field changed in git", "[gitops][kustomization]") {
  Fixture f;
  f.source.write("deployment.yaml", deployment("1.25"));
  f.create(kustomization("apps", {{"force", true}}));
  f.reconcile();
  REQUIRE(Fixture::ready(f.ks())["status"] == "True");
  const std::string uid = f.get("deployment web")["metadata"]["uid"];
  std::string d = deployment("1.25");
  for (size_t p; (p = d.find("app: web")) != std::string::npos;) d.replace(p, 8, "app: other");
  f.source.write("deployment.yaml", d);
  f.source.commit();
  f.reconcile();
  json k = f.ks();
  INFO(k.dump(2));
  CHECK(Fixture::ready(k)["status"] == "True");
  const json live = f.get("deployment web");
  CHECK(live["spec"]["selector"]["matchLabels"]["app"] == "other");
  CHECK(live["metadata"]["uid"] != uid);
}

TEST_CASE("a CRD and its custom resources in one build: the CRD is Established before its CRs are applied",
          "[gitops][kustomization]") {
  Fixture f;
  f.source.write("crd.yaml", R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
)");
  f.source.write("widget.yaml",
                 "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n");
  f.source.write("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: widgets\n");
  f.source.write("widget2.yaml",
                 "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w2\n  namespace: "
                 "widgets\nspec:\n  size: 1\n");
  f.create(kustomization("apps", {{"wait", true}}));
  f.reconcile();
  json k = f.ks();
  INFO(k.dump(2));
  CHECK(Fixture::ready(k)["status"] == "True");
  CHECK(f.get("widget w1")["spec"]["size"] == 3);
  CHECK(f.get("widget w2 -n widgets")["spec"]["size"] == 1);
  CHECK(k["status"]["inventory"]["entries"].size() == 4);
}

TEST_CASE("dependsOn: a Kustomization waits for the ones it depends on to be Ready at the same revision",
          "[gitops][kustomization]") {
  Fixture f;
  f.source.write("infra/config.yaml", configMap("infra", "1"));
  f.source.write("apps/config.yaml", configMap("app", "1"));
  f.create(kustomization("infra", {{"path", "infra"}}));
  f.create(kustomization("apps", {{"path", "apps"}, {"dependsOn", json::array({{{"name", "infra"}}})}}));

  auto outcome = f.reconcile("apps");
  CHECK(outcome.after == sluice::Duration{30});
  CHECK(Fixture::ready(f.ks("apps"))["reason"] == "DependencyNotReady");
  CHECK_FALSE(f.exists("configmap app"));

  f.reconcile("infra");
  REQUIRE(Fixture::ready(f.ks("infra"))["status"] == "True");
  f.reconcile("apps");
  CHECK(Fixture::ready(f.ks("apps"))["status"] == "True");
  CHECK(f.exists("configmap app"));

  // A new revision: apps waits until infra has applied it.
  f.source.write("apps/config.yaml", configMap("app", "2"));
  f.source.commit();
  f.reconcile("apps");
  json k = f.ks("apps");
  CHECK(Fixture::ready(k)["reason"] == "DependencyNotReady");
  CHECK_THAT(Fixture::ready(k)["message"].get<std::string>(), Catch::Contains("infra"));
  CHECK(f.get("configmap app")["data"]["value"] == "1");
  f.reconcile("infra");
  f.reconcile("apps");
  CHECK(Fixture::ready(f.ks("apps"))["status"] == "True");
  CHECK(f.get("configmap app")["data"]["value"] == "2");
}

TEST_CASE("deleting a Kustomization deletes its objects with prune, and leaves them without",
          "[gitops][kustomization]") {
  for (bool prune : {true, false}) {
    DYNAMIC_SECTION("prune: " << prune) {
      Fixture f;
      f.source.write("config.yaml", configMap("settings", "x"));
      f.create(kustomization("apps", {{"prune", prune}}));
      f.reconcile();
      REQUIRE(Fixture::ready(f.ks())["status"] == "True");
      f.env.cluster.ok("delete kustomization apps --wait=false");
      CHECK(f.exists("kustomization apps"));  // held by the finalizer
      f.reconcile();
      CHECK(sluice::testing::waitUntil([&] { return !f.exists("kustomization apps"); },
                                       std::chrono::seconds(10)));
      CHECK(f.exists("configmap settings") == !prune);
    }
  }
}

TEST_CASE("a Kustomization with wait: true waits for its Rollout to become Healthy",
          "[gitops][kustomization]") {
  Fixture f(false);
  // The Rollout reconcilers only: this test's own reconciler is the one that applies the Kustomization.
  sluice::controller::ManagerOptions options;
  options.controllers = {"rollouts"};
  f.env.startController(options);
  json rollout = sluice::testing::webRollout(
      "nginx:1.25", 2, json::array({{{"setWeight", 50}}, {{"pause", {{"duration", "1s"}}}}}));
  rollout["metadata"].erase("namespace");
  f.source.write("rollout.yaml", rollout.dump());
  f.create(kustomization("apps", {{"wait", true}}));
  f.reconcile();
  json k = f.ks();
  INFO(k.dump(2));
  CHECK(Fixture::ready(k)["status"] == "True");
  CHECK(f.env.rollout("web")["status"]["phase"] == "Healthy");
  bool healthy = false;
  for (const auto& c : k["status"]["conditions"])
    if (c["type"] == "Healthy") healthy = c["status"] == "True";
  CHECK(healthy);

  // A new image in git: the canary runs, and the Kustomization is Ready only once it is promoted.
  rollout["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26";
  f.source.write("rollout.yaml", rollout.dump());
  f.source.commit();
  f.reconcile();
  k = f.ks();
  CHECK(Fixture::ready(k)["status"] == "True");
  const json r = f.env.rollout("web");
  CHECK(r["status"]["phase"] == "Healthy");
  CHECK(r["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26");
  CHECK(r["status"]["currentStepIndex"] == 2);

  // A timeout short of the canary's pause: HealthCheckFailed, the revision not recorded as applied.
  const std::string applied = f.ks()["status"]["lastAppliedRevision"];
  f.env.cluster.ok("patch kustomization apps --type merge -p '{\"spec\":{\"timeout\":\"1s\"}}'");
  rollout["spec"]["strategy"]["canary"]["steps"] =
      json::array({{{"setWeight", 50}}, {{"pause", {{"duration", "30s"}}}}});
  rollout["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27";
  f.source.write("rollout.yaml", rollout.dump());
  f.source.commit();
  f.reconcile();
  k = f.ks();
  INFO(k.dump(2));
  CHECK(Fixture::ready(k)["reason"] == "HealthCheckFailed");
  CHECK_THAT(Fixture::ready(k)["message"].get<std::string>(), Catch::Contains("Rollout/default/web"));
  CHECK(k["status"]["lastAppliedRevision"] == applied);
}

TEST_CASE("a missing artifact is ArtifactFailed and a suspended Kustomization is not applied",
          "[gitops][kustomization]") {
  Fixture f;
  f.source.write("config.yaml", configMap("settings", "1"));
  f.create(kustomization("apps", {{"retryInterval", "20s"}}));
  f.reconcile();
  REQUIRE(Fixture::ready(f.ks())["status"] == "True");
  const std::string good = f.source.revision();

  f.source.failWith("GitRepository default/repo has no artifact yet");
  f.source.write("config.yaml", configMap("settings", "2"));
  auto outcome = f.reconcile();
  json k = f.ks();
  CHECK(outcome.after == sluice::Duration{20});
  CHECK(Fixture::ready(k)["reason"] == "ArtifactFailed");
  CHECK(Fixture::ready(k)["message"] == "GitRepository default/repo has no artifact yet");
  CHECK(k["status"]["lastAppliedRevision"] == good);
  CHECK(f.get("configmap settings")["data"]["value"] == "1");

  f.source.failWith("");
  f.env.cluster.ok("patch kustomization apps --type merge -p '{\"spec\":{\"suspend\":true}}'");
  f.source.commit();
  outcome = f.reconcile();
  CHECK(outcome.kind == ReconcileOutcome::Kind::Done);
  CHECK(f.get("configmap settings")["data"]["value"] == "1");
  f.env.cluster.ok("patch kustomization apps --type merge -p '{\"spec\":{\"suspend\":false}}'");
  f.reconcile();
  CHECK(Fixture::ready(f.ks())["status"] == "True");
  CHECK(f.get("configmap settings")["data"]["value"] == "2");
}

// Figures, not a timed test: `integration_tests "[.kustomization-figures]"` prints them.
TEST_CASE("figures: one Kustomization of 200 ConfigMaps, applied then an interval with no drift",
          "[.kustomization-figures]") {
  const double qps = GENERATE(40.0, 5000.0);
  Fixture f(true, qps);
  for (int i = 0; i < 200; ++i)
    f.source.write("cm-" + std::to_string(i) + ".yaml", configMap("cm-" + std::to_string(i), "v"));
  f.create(kustomization("apps"));
  auto t0 = std::chrono::steady_clock::now();
  f.reconcile();
  auto t1 = std::chrono::steady_clock::now();
  REQUIRE(Fixture::ready(f.ks())["status"] == "True");
  const int writesBefore = f.writes;
  auto t2 = std::chrono::steady_clock::now();
  f.reconcile();
  auto t3 = std::chrono::steady_clock::now();
  CHECK(f.writes == writesBefore);
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  WARN("client at " << qps << " qps: first apply of 200 objects: " << ms(t1 - t0) << " ms, " << writesBefore
                    << " writes; no-drift interval: " << ms(t3 - t2) << " ms, " << (f.writes - writesBefore)
                    << " writes");
}
