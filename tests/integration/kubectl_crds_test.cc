// The CRDs and the install kustomization with the real kubectl against our API server: `apply -k crds/`,
// every example accepted unchanged, Argo Rollouts' columns in `kubectl get ro` and `get ar`, `kubectl
// scale` through the scale subresource, a wrong type refused with its field path, and `apply -k install/`
// creating every object as declared.
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <sstream>

#include "base/source.h"
#include "tests/integration/kubectl_env.h"

using nlohmann::json;
using sluice::testing::KubectlEnv;
using sluice::testing::shellQuote;

namespace {

const std::filesystem::path kSourceDir = SLUICE_SOURCE_DIR;

std::string repoPath(const std::string& relative) { return shellQuote((kSourceDir / relative).string()); }

void installCrds(const KubectlEnv& env) {
  auto out = env.ok("apply -k " + repoPath("crds"));
  for (const char* crd :
       {"rollouts", "analysistemplates", "clusteranalysistemplates", "analysisruns", "experiments"}) {
    CHECK_THAT(out, Catch::Contains(std::string("customresourcedefinition.apiextensions.k8s.io/") + crd +
                                    ".sluice.dev created"));
  }
  env.ok(
      "wait --for=condition=Established --timeout=20s crd/rollouts.sluice.dev "
      "crd/analysistemplates.sluice.dev "
      "crd/clusteranalysistemplates.sluice.dev crd/analysisruns.sluice.dev");
}

// `kubectl get ARGS` as whitespace-separated cells, one row a line, the header first. Fine for tables
// whose cells are all filled and hold no spaces.
std::vector<std::vector<std::string>> table(const KubectlEnv& env, const std::string& args) {
  std::istringstream lines(env.ok("get " + args));
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<std::string> cells;
    for (std::string w; words >> w;) cells.push_back(w);
    if (!cells.empty()) rows.push_back(cells);
  }
  return rows;
}

using Cells = std::vector<std::string>;

// Every field `declared` sets is in `actual` with that value (the server may add defaults beside them).
void checkHolds(const json& actual, const json& declared, const std::string& path) {
  INFO(path);
  if (declared.is_object()) {
    REQUIRE(actual.is_object());
    for (const auto& [key, value] : declared.items()) {
      INFO("missing " << path << "." << key);
      REQUIRE(actual.contains(key));
      checkHolds(actual[key], value, path + ("." + key));
    }
  } else if (declared.is_array()) {
    REQUIRE(actual.is_array());
    REQUIRE(actual.size() == declared.size());
    for (size_t i = 0; i < declared.size(); ++i)
      checkHolds(actual[i], declared[i], path + "[" + std::to_string(i) + "]");
  } else {
    CHECK(actual == declared);
  }
}

const char* kRollout = R"(apiVersion: sluice.dev/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "web:1"}]}
  strategy:
    canary:
      steps:
        - setWeight: STEP
        - pause: {}
)";

// kRollout with `setWeight` as its first step's weight, and `strategyExtra` lines after `strategy:`.
std::string rollout(const std::string& setWeight, const std::string& strategyExtra = "") {
  std::string text = kRollout;
  text.replace(text.find("STEP"), 4, setWeight);
  text.insert(text.find("  strategy:\n") + 12, strategyExtra);
  return text;
}

}  // namespace

TEST_CASE(
    "kubectl apply -k crds/ installs the CRDs, and every example Rollout and template is stored unchanged",
    "[integration][kubectl][crds]") {
  KubectlEnv env;
  installCrds(env);
  // canary-istio's VirtualService needs Istio's kinds, as on a cluster with Istio installed.
  env.ok("apply -f " + shellQuote((kSourceDir / "tests/data/mesh-crds/istio.yaml").string()));
  REQUIRE(sluice::testing::waitUntil([&] { return env.kubectl("get virtualservices").exitCode == 0; },
                                     std::chrono::seconds(10)));

  int rollouts = 0;
  int templates = 0;
  std::set<std::string> rolloutNames;  // two examples may name theirs alike: the later apply updates it
  for (const auto& dir : std::filesystem::directory_iterator(kSourceDir / "examples")) {
    if (!dir.is_directory()) continue;
    for (const auto& file : std::filesystem::directory_iterator(dir.path())) {
      if (file.path().extension() != ".yaml" || file.path().filename() == "scenario.yaml") continue;
      auto docs = sluice::loadYamlFile(file.path().string());
      REQUIRE(docs.ok());
      env.ok("apply -f " + shellQuote(file.path().string()));
      for (const auto& doc : *docs) {
        const std::string kind = doc.json.value("kind", "");
        std::string resource;
        if (kind == "Rollout") {
          resource = "rollout.sluice.dev";
          ++rollouts;
          rolloutNames.insert(doc.json["metadata"].value("name", ""));
        } else if (kind == "AnalysisTemplate" || kind == "ClusterAnalysisTemplate") {
          resource = kind == "AnalysisTemplate" ? "analysistemplate.sluice.dev"
                                                : "clusteranalysistemplate.sluice.dev";
          ++templates;
        } else {
          continue;
        }
        // Nothing pruned, nothing changed: what the file says is what the server keeps.
        const std::string name = doc.json["metadata"]["name"];
        INFO(file.path().string() << ": " << kind << " " << name);
        auto stored = env.getJson(resource + (" " + name));
        CHECK(stored["spec"] == doc.json["spec"]);
      }
    }
  }
  CHECK(rollouts == 13);
  CHECK(templates == 5);
  CHECK(env.getJson("ro")["items"].size() == rolloutNames.size());
}

TEST_CASE("kubectl get ro and get ar print Argo Rollouts' columns, and the sluice category lists both",
          "[integration][kubectl][crds]") {
  KubectlEnv env;
  installCrds(env);
  env.ok("apply -f " + repoPath("examples/basic-canary/rollout.yaml"));
  env.patchStatus("ro/worker", {{"replicas", 10}, {"updatedReplicas", 2}, {"availableReplicas", 9}});

  auto ro = table(env, "ro");
  CHECK(ro[0] == Cells{"NAME", "DESIRED", "CURRENT", "UP-TO-DATE", "AVAILABLE", "AGE"});
  REQUIRE(ro.size() == 2);
  CHECK(Cells(ro[1].begin(), ro[1].end() - 1) == Cells{"worker", "10", "10", "2", "9"});
  CHECK_THAT(ro[1].back(), Catch::Matches("[0-9]+s"));

  env.writeFile("run.yaml", R"(apiVersion: sluice.dev/v1alpha1
kind: AnalysisRun
metadata: {name: worker-smoke}
spec:
  metrics:
    - name: up
      successCondition: result == 1
      provider:
        prometheus: {address: "http://prometheus:9090", query: up}
)");
  env.ok("apply -f " + shellQuote((env.dir() / "run.yaml").string()));
  env.patchStatus("ar/worker-smoke", {{"phase", "Running"}});
  auto ar = table(env, "ar");
  CHECK(ar[0] == Cells{"NAME", "STATUS", "AGE"});
  REQUIRE(ar.size() == 2);
  CHECK(ar[1][0] == "worker-smoke");
  CHECK(ar[1][1] == "Running");

  env.ok("apply -f " + repoPath("examples/analysis-templates/templates.yaml"));
  CHECK(table(env, "cat").size() == 2);  // a header and the latency template
  auto all = env.ok("get sluice -o name");
  CHECK_THAT(all, Catch::Contains("rollout.sluice.dev/worker"));
  CHECK_THAT(all, Catch::Contains("analysisrun.sluice.dev/worker-smoke"));
}

TEST_CASE("kubectl scale ro goes through the Rollout's scale subresource", "[integration][kubectl][crds]") {
  KubectlEnv env;
  installCrds(env);
  env.ok("apply -f " + repoPath("examples/basic-canary/rollout.yaml"));
  env.patchStatus("ro/worker", {{"replicas", 10}, {"selector", "app=worker"}});

  CHECK_THAT(env.ok("scale ro/worker --replicas=3"), Catch::Contains("rollout.sluice.dev/worker scaled"));
  CHECK(env.getJson("ro worker")["spec"]["replicas"] == 3);
  auto scale =
      json::parse(env.ok("get --raw /apis/sluice.dev/v1alpha1/namespaces/default/rollouts/worker/scale"));
  CHECK(scale["kind"] == "Scale");
  CHECK(scale["spec"]["replicas"] == 3);
  CHECK(scale["status"]["replicas"] == 10);            // statusReplicasPath: .status.replicas
  CHECK(scale["status"]["selector"] == "app=worker");  // labelSelectorPath: .status.selector
  // The guarded form kubectl sends as a GET and a PUT of the Scale.
  CHECK_THAT(env.ok("scale ro/worker --current-replicas=3 --replicas=5"), Catch::Contains("scaled"));
  CHECK(env.getJson("ro worker")["spec"]["replicas"] == 5);
}

TEST_CASE("the schema refuses a Rollout of the wrong shape, naming the field",
          "[integration][kubectl][crds]") {
  KubectlEnv env;
  installCrds(env);
  struct Row {
    std::string behaviour;
    std::string manifest;
    std::vector<std::string> said;
  };
  const std::vector<Row> rows = {
      {"a string where an integer goes",
       rollout("twenty"),
       {"spec.strategy.canary.steps[0].setWeight", "must be of type integer"}},
      {"a strategy neither Sluice nor Argo Rollouts has",
       rollout("20", "    linear: {steps: 4}\n"),
       {"unknown field \"spec.strategy.linear\""}},
  };
  for (const auto& row : rows) {
    DYNAMIC_SECTION(row.behaviour) {
      auto r = env.kubectl("apply -f " + shellQuote(env.writeFile("bad.yaml", row.manifest)));
      INFO(r.output);
      CHECK(r.exitCode != 0);
      for (const auto& s : row.said) CHECK_THAT(r.output, Catch::Contains(s));
      CHECK(env.getJson("ro")["items"].empty());
    }
  }
  // The same Rollout with an integer is stored.
  env.ok("apply -f " + shellQuote(env.writeFile("good.yaml", rollout("20"))));
  CHECK(env.getJson("ro web")["spec"]["strategy"]["canary"]["steps"][0]["setWeight"] == 20);
}

TEST_CASE(
    "kubectl apply -k install/ creates the namespace, RBAC, controller Deployment and metrics Service as "
    "declared",
    "[integration][kubectl][crds]") {
  KubectlEnv env;
  auto out = env.ok("apply -k " + repoPath("install"));
  for (const char* made :
       {"namespace/sluice-system created", "serviceaccount/sluice-controller created",
        "clusterrole.rbac.authorization.k8s.io/sluice-controller created",
        "clusterrolebinding.rbac.authorization.k8s.io/sluice-controller created",
        "role.rbac.authorization.k8s.io/sluice-controller-leader-election created",
        "rolebinding.rbac.authorization.k8s.io/sluice-controller-leader-election created",
        "clusterrolebinding.rbac.authorization.k8s.io/sluice-controller-gitops created",
        "deployment.apps/sluice-controller created", "service/sluice-controller-metrics created",
        "customresourcedefinition.apiextensions.k8s.io/rollouts.sluice.dev created"}) {
    CHECK_THAT(out, Catch::Contains(made));
  }

  // Every object the kustomization renders is on the server with every field it declares.
  auto rendered = sluice::parseYamlDocuments(env.ok("kustomize " + repoPath("install")), "install");
  REQUIRE(rendered.ok());
  CHECK(rendered->size() == 18);
  for (const auto& doc : *rendered) {
    const json& want = doc.json;
    const std::string kind = want["kind"];
    std::string what = kind + " " + want["metadata"]["name"].get<std::string>();
    if (want["metadata"].contains("namespace"))
      what += " -n " + want["metadata"]["namespace"].get<std::string>();
    INFO(what);
    auto got = env.getJson(what);
    for (const char* part : {"spec", "rules", "roleRef", "subjects"}) {
      if (want.contains(part)) checkHolds(got[part], want[part], part);
    }
    checkHolds(got["metadata"]["labels"], want["metadata"].value("labels", json::object()),
               "metadata.labels");
  }

  // What each object is for, read back from the server.
  auto deploy = env.getJson("deployment sluice-controller -n sluice-system");
  CHECK(deploy["spec"]["replicas"] == 2);
  const json& pod = deploy["spec"]["template"]["spec"];
  CHECK(pod["serviceAccountName"] == "sluice-controller");
  const json& c = pod["containers"][0];
  CHECK(c["args"] ==
        json::parse(R"(["controller", "--leader-elect", "--metrics-addr=:8090", "--health-addr=:8080",
                                      "--storage-path=/data", "--webhook-addr=:9292"])"));
  // The sources' storage on a volume of its own: the root filesystem is read-only.
  CHECK(c["securityContext"]["readOnlyRootFilesystem"] == true);
  CHECK(c["volumeMounts"][0]["mountPath"] == "/data");
  CHECK(pod["volumes"][0]["name"] == c["volumeMounts"][0]["name"]);
  CHECK(c["ports"][0]["containerPort"] == 8090);
  CHECK(c["ports"][1]["containerPort"] == 8080);
  CHECK(c["ports"][2]["containerPort"] == 9292);
  CHECK(c["livenessProbe"]["httpGet"]["path"] == "/healthz");
  CHECK(c["readinessProbe"]["httpGet"]["path"] == "/readyz");
  // GitOps applies any kind anywhere (Flux's rule): cluster-admin, in a binding of its own to remove.
  auto gitops = env.getJson("clusterrolebinding sluice-controller-gitops");
  CHECK(gitops["roleRef"]["name"] == "cluster-admin");
  CHECK(gitops["subjects"][0]["name"] == "sluice-controller");
  CHECK(gitops["subjects"][0]["namespace"] == "sluice-system");
  auto svc = env.getJson("service sluice-controller-metrics -n sluice-system");
  CHECK(svc["spec"]["ports"][0]["port"] == 8090);
  CHECK(svc["spec"]["selector"] == deploy["spec"]["selector"]["matchLabels"]);
  auto hooks = env.getJson("service webhook-receiver -n sluice-system");
  CHECK(hooks["spec"]["ports"][0]["targetPort"] == "webhook");
  CHECK(hooks["spec"]["selector"] == deploy["spec"]["selector"]["matchLabels"]);
  auto binding = env.getJson("clusterrolebinding sluice-controller");
  CHECK(binding["subjects"][0]["namespace"] == "sluice-system");
  // No wildcard anywhere in the controller's rights (the role held in a variable: a range over a
  // temporary's member would read freed memory).
  const auto role = env.getJson("clusterrole sluice-controller");
  REQUIRE(role["rules"].size() > 5);
  for (const auto& rule : role["rules"]) {
    for (const char* list : {"apiGroups", "resources", "verbs"}) {
      for (const auto& item : rule[list]) CHECK(item != "*");
    }
  }

  // Applying again changes nothing.
  auto again = env.ok("apply -k " + repoPath("install"));
  CHECK_THAT(again, !Catch::Contains("created") && !Catch::Contains("configured"));
}
