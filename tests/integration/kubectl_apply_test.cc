// The real kubectl against our API server: apply (-f and -k), create, replace, diff, server-side apply,
// and a restart on the same data directory.
#include <catch2/catch.hpp>

#include "tests/integration/kubectl_env.h"

using sluice::testing::KubectlEnv;

namespace {

std::string configMapYaml(const std::string& value) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  labels:\n    app: web\ndata:\n  "
         "greeting: " +
         value + "\n";
}

std::string deploymentYaml(const std::string& image) {
  return R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: )" +
         image + R"(
        ports:
        - containerPort: 8080
      - name: sidecar
        image: busybox:1
)";
}

}  // namespace

TEST_CASE("kubectl apply -f creates, then configures, then leaves unchanged", "[integration][kubectl]") {
  KubectlEnv env;
  auto file = env.writeFile("cm.yaml", configMapYaml("hello"));
  CHECK_THAT(env.ok("apply -f " + file), Catch::Contains("configmap/web-config created"));
  auto cm = env.getJson("configmap web-config");
  CHECK(cm["data"]["greeting"] == "hello");
  CHECK(cm["metadata"]["namespace"] == "default");
  CHECK(cm["metadata"]["uid"].get<std::string>().size() == 36);
  CHECK(cm["metadata"]["annotations"].contains("kubectl.kubernetes.io/last-applied-configuration"));
  const std::string rv1 = cm["metadata"]["resourceVersion"];

  env.writeFile("cm.yaml", configMapYaml("bonjour"));
  CHECK_THAT(env.ok("apply -f " + file), Catch::Contains("configmap/web-config configured"));
  cm = env.getJson("configmap web-config");
  CHECK(cm["data"]["greeting"] == "bonjour");
  const std::string rv2 = cm["metadata"]["resourceVersion"];
  CHECK(std::stoll(rv2) > std::stoll(rv1));

  CHECK_THAT(env.ok("apply -f " + file), Catch::Contains("configmap/web-config unchanged"));
  CHECK(env.getJson("configmap web-config")["metadata"]["resourceVersion"] == rv2);

  // A Deployment: changing one container's image keeps the other fields of the list (strategic merge by
  // name), and bumps the generation.
  auto deploy = env.writeFile("deploy.yaml", deploymentYaml("nginx:1.25"));
  CHECK_THAT(env.ok("apply -f " + deploy), Catch::Contains("deployment.apps/web created"));
  auto d = env.getJson("deployment web");
  CHECK(d["metadata"]["generation"] == 1);
  env.writeFile("deploy.yaml", deploymentYaml("nginx:1.26"));
  CHECK_THAT(env.ok("apply -f " + deploy), Catch::Contains("deployment.apps/web configured"));
  d = env.getJson("deployment web");
  CHECK(d["metadata"]["generation"] == 2);
  auto containers = d["spec"]["template"]["spec"]["containers"];
  REQUIRE(containers.size() == 2);
  CHECK(containers[0]["name"] == "web");
  CHECK(containers[0]["image"] == "nginx:1.26");
  CHECK(containers[0]["ports"][0]["containerPort"] == 8080);
  CHECK(containers[1]["image"] == "busybox:1");
}

TEST_CASE("kubectl create, replace and get in every output format", "[integration][kubectl]") {
  KubectlEnv env;
  env.createNamespace("team-a");
  auto file = env.writeFile("cm.yaml", configMapYaml("one"));
  CHECK_THAT(env.ok("create -f " + file), Catch::Contains("configmap/web-config created"));
  CHECK_THAT(env.ok("create -n team-a -f " + file), Catch::Contains("configmap/web-config created"));
  auto again = env.kubectl("create -f " + file);
  CHECK(again.exitCode != 0);
  CHECK_THAT(again.output, Catch::Contains("Error from server (AlreadyExists)"));
  CHECK_THAT(again.output, Catch::Contains("configmaps \"web-config\" already exists"));
  env.createConfigMap("other", {{"k", "v"}});

  CHECK_THAT(env.ok("get configmap web-config -o yaml"), Catch::Contains("greeting: one"));
  CHECK(env.ok("get configmap web-config -o jsonpath='{.data.greeting}'") == "one");
  CHECK_THAT(env.ok("get configmaps -o wide"), Catch::Contains("web-config"));
  auto all = env.ok("get configmaps -A");
  CHECK_THAT(all, Catch::Contains("team-a"));
  CHECK_THAT(all, Catch::Contains("NAMESPACE"));
  auto labelled = env.getJson("configmaps -l app=web");
  REQUIRE(labelled["items"].size() == 1);
  CHECK(labelled["items"][0]["metadata"]["name"] == "web-config");
  auto byField = env.getJson("configmaps -A --field-selector metadata.namespace=team-a");
  REQUIRE(byField["items"].size() == 1);
  CHECK(byField["items"][0]["metadata"]["namespace"] == "team-a");
  auto notThis = env.getJson("configmaps --field-selector metadata.name!=web-config");
  REQUIRE(notThis["items"].size() == 1);
  CHECK(notThis["items"][0]["metadata"]["name"] == "other");
  auto missing = env.kubectl("get configmap nope");
  CHECK(missing.exitCode != 0);
  CHECK_THAT(missing.output, Catch::Contains("Error from server (NotFound): configmaps \"nope\" not found"));
  auto nsMissing = env.kubectl("create -n no-such-ns -f " + file);
  CHECK(nsMissing.exitCode != 0);
  CHECK_THAT(nsMissing.output, Catch::Contains("namespaces \"no-such-ns\" not found"));

  env.writeFile("cm.yaml", configMapYaml("two"));
  CHECK_THAT(env.ok("replace -f " + file), Catch::Contains("configmap/web-config replaced"));
  CHECK(env.getJson("configmap web-config")["data"]["greeting"] == "two");
  CHECK(env.getJson("configmap web-config -n team-a")["data"]["greeting"] == "one");

  auto describe = env.ok("describe configmap web-config");
  CHECK_THAT(describe, Catch::Contains("Name:"));
  CHECK_THAT(describe, Catch::Contains("web-config"));
  CHECK_THAT(describe, Catch::Contains("two"));
}

TEST_CASE("kubectl diff shows the change and writes nothing", "[integration][kubectl]") {
  KubectlEnv env;
  auto file = env.writeFile("cm.yaml", configMapYaml("before"));
  env.ok("apply -f " + file);
  auto rv = env.getJson("configmap web-config")["metadata"]["resourceVersion"];
  env.writeFile("cm.yaml", configMapYaml("after"));
  auto diff = env.kubectl("diff -f " + file);
  INFO(diff.output);
  CHECK(diff.exitCode == 1);  // 1: differences found
  CHECK_THAT(diff.output, Catch::Contains("+  greeting: after"));
  CHECK_THAT(diff.output, Catch::Contains("-  greeting: before"));
  auto cm = env.getJson("configmap web-config");
  CHECK(cm["data"]["greeting"] == "before");
  CHECK(cm["metadata"]["resourceVersion"] == rv);
  // A dry-run create writes nothing either.
  nlohmann::json dry = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "dry"}}}};
  env.ok("create --dry-run=server -f " + env.writeFile("dry.json", dry.dump()));
  CHECK(env.kubectl("get configmap dry").exitCode != 0);
}

TEST_CASE("kubectl apply --server-side says clearly that it is not available", "[integration][kubectl]") {
  KubectlEnv env;
  auto file = env.writeFile("cm.yaml", configMapYaml("x"));
  auto r = env.kubectl("apply --server-side -f " + file);
  CHECK(r.exitCode != 0);
  CHECK_THAT(r.output, Catch::Contains("Server-side apply not available on the server"));
  CHECK(env.kubectl("get configmap web-config").exitCode != 0);
}

TEST_CASE("kubectl apply -k with a CRD and its custom resources", "[integration][kubectl]") {
  KubectlEnv env;
  env.writeFile("app/kustomization.yaml",
                "resources:\n- crd.yaml\n- deploy.yaml\n- svc.yaml\n- widgets.yaml\nconfigMapGenerator:\n"
                "- name: app-settings\n  literals:\n  - mode=fast\n");
  env.writeFile("app/deploy.yaml", deploymentYaml("nginx:1.25"));
  env.writeFile(
      "app/svc.yaml",
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n"
      "  - port: 80\n    targetPort: 8080\n");
  env.writeFile("app/crd.yaml", R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd], categories: [all]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
)");
  env.writeFile("app/widgets.yaml",
                "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n---\n"
                "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w2\nspec:\n  size: 5\n");
  // As with a real cluster, the custom resources cannot be mapped before their CRD exists: the first apply
  // creates the rest and reports them; the second, once the CRD is established, creates them.
  auto first = env.kubectl("apply -k " + (env.dir() / "app").string());
  INFO(first.output);
  CHECK_THAT(first.output,
             Catch::Contains("customresourcedefinition.apiextensions.k8s.io/widgets.example.com created"));
  env.ok("wait --for=condition=Established crd/widgets.example.com --timeout=20s");
  auto second = env.ok("apply -k " + (env.dir() / "app").string());
  CHECK_THAT(second, Catch::Contains("widget.example.com/w1 created"));
  CHECK_THAT(second, Catch::Contains("widget.example.com/w2 created"));
  CHECK_THAT(second, Catch::Contains("deployment.apps/web unchanged"));

  auto widgets = env.getJson("widgets");
  REQUIRE(widgets["items"].size() == 2);
  CHECK(widgets["items"][1]["spec"]["size"] == 5);
  CHECK(widgets["items"][0]["metadata"]["generation"] == 1);
  CHECK(env.getJson("wd w1")["kind"] == "Widget");  // the short name resolves
  CHECK(env.getJson("service web")["spec"]["ports"][0]["port"] == 80);
  auto cms = env.getJson("configmaps");
  bool generated = false;
  for (const auto& cm : cms["items"]) {
    if (cm["metadata"]["name"].get<std::string>().rfind("app-settings-", 0) == 0) {
      generated = cm["data"]["mode"] == "fast";
    }
  }
  CHECK(generated);
  CHECK_THAT(env.ok("get all"), Catch::Contains("widget.example.com/w1"));

  // A change to a custom resource goes through as a merge patch, and bumps its generation.
  env.writeFile("app/widgets.yaml",
                "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 4\n---\n"
                "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w2\nspec:\n  size: 5\n");
  CHECK_THAT(env.ok("apply -k " + (env.dir() / "app").string()),
             Catch::Contains("widget.example.com/w1 configured"));
  auto w1 = env.getJson("widget w1");
  CHECK(w1["spec"]["size"] == 4);
  CHECK(w1["metadata"]["generation"] == 2);
}

TEST_CASE("a restarted server on the same directory has every object", "[integration][kubectl]") {
  KubectlEnv env;
  env.createConfigMap("keep", {{"a", "1"}});
  env.createNamespace("stays");
  auto before = env.getJson("configmap keep");
  env.restart();
  auto after = env.getJson("configmap keep");
  CHECK(after["metadata"]["uid"] == before["metadata"]["uid"]);
  CHECK(after["data"]["a"] == "1");
  CHECK(env.getJson("namespace stays")["status"]["phase"] == "Active");
  env.createConfigMap("next", {{"b", "2"}});
  CHECK(std::stoll(env.getJson("configmap next")["metadata"]["resourceVersion"].get<std::string>()) >
        std::stoll(before["metadata"]["resourceVersion"].get<std::string>()));
}
