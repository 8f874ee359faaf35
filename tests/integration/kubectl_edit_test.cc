// The real kubectl against our API server: patch (merge, json, strategic), label, annotate, delete (by
// name, by label, with a finalizer a second client removes), get -w seeing another client's change, and
// the refusal of clients without the token or over plain HTTP.
#include <catch2/catch.hpp>

#include "tests/integration/kubectl_env.h"

using sluice::testing::ChildProcess;
using sluice::testing::KubectlEnv;
using sluice::testing::runCommand;
using sluice::testing::shellQuote;
using sluice::testing::waitUntil;

TEST_CASE("kubectl patch with merge, json and strategic patches, label and annotate",
          "[integration][kubectl]") {
  KubectlEnv env;
  env.createConfigMap("p", {{"a", "1"}, {"b", "2"}});
  env.ok("patch configmap p --type merge -p '{\"data\":{\"a\":\"10\",\"b\":null}}'");
  auto cm = env.getJson("configmap p");
  CHECK(cm["data"] == nlohmann::json({{"a", "10"}}));

  env.ok("patch configmap p --type json -p '[{\"op\":\"add\",\"path\":\"/data/c\",\"value\":\"3\"}]'");
  CHECK(env.getJson("configmap p")["data"]["c"] == "3");
  auto failedTest = env.kubectl(
      "patch configmap p --type json -p '[{\"op\":\"test\",\"path\":\"/data/a\",\"value\":\"x\"}]'");
  CHECK(failedTest.exitCode != 0);
  CHECK(env.getJson("configmap p")["data"]["a"] == "10");

  env.ok("apply -f " + env.writeFile("deploy.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: "nginx:1.25", ports: [{containerPort: 80}]}
)"));
  env.ok(
      "patch deployment web -p "
      "'{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.27\"}]}}}}"
      "'");
  auto d = env.getJson("deployment web");
  auto containers = d["spec"]["template"]["spec"]["containers"];
  REQUIRE(containers.size() == 1);
  CHECK(containers[0]["image"] == "nginx:1.27");
  CHECK(containers[0]["ports"][0]["containerPort"] == 80);
  CHECK(d["metadata"]["generation"] == 2);

  env.ok("label configmap p tier=backend");
  env.ok("annotate configmap p note='hello world'");
  cm = env.getJson("configmap p");
  CHECK(cm["metadata"]["labels"]["tier"] == "backend");
  CHECK(cm["metadata"]["annotations"]["note"] == "hello world");
  env.ok("label configmap p tier-");
  CHECK_FALSE(
      env.getJson("configmap p")["metadata"].value("labels", nlohmann::json::object()).contains("tier"));
  auto rv = env.getJson("configmap p")["metadata"]["resourceVersion"];
  // A patch that changes nothing writes nothing.
  env.ok("patch configmap p --type merge -p '{\"data\":{\"a\":\"10\"}}'");
  CHECK(env.getJson("configmap p")["metadata"]["resourceVersion"] == rv);
}

TEST_CASE("kubectl delete by name, by label, and with a finalizer removed by a second client",
          "[integration][kubectl]") {
  KubectlEnv env;
  env.createConfigMap("a", {{"k", "v"}});
  env.createConfigMap("b", {{"k", "v"}});
  env.createConfigMap("c", {{"k", "v"}});
  env.ok("label configmap b c group=old");
  CHECK_THAT(env.ok("delete configmap a"), Catch::Contains("configmap \"a\" deleted"));
  CHECK(env.kubectl("get configmap a").exitCode != 0);
  auto byLabel = env.ok("delete configmaps -l group=old");
  CHECK_THAT(byLabel, Catch::Contains("configmap \"b\" deleted"));
  CHECK_THAT(byLabel, Catch::Contains("configmap \"c\" deleted"));
  CHECK(env.getJson("configmaps -l group=old")["items"].empty());

  env.writeFile(
      "held.yaml",
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [example.com/hold]\n");
  env.ok("apply -f " + (env.dir() / "held.yaml").string());
  // kubectl delete waits for the object to go; a second client removes the finalizer meanwhile.
  ChildProcess deleter(
      {"/bin/sh", "-c", env.envPrefix() + " exec kubectl delete configmap held --timeout=60s"},
      env.dir() / "delete.log");
  REQUIRE(waitUntil(
      [&] {
        auto j = runCommand(env.envPrefix() +
                            " kubectl get configmap held -o jsonpath='{.metadata.deletionTimestamp}'");
        return !j.output.empty() && j.exitCode == 0;
      },
      std::chrono::seconds(20)));
  CHECK(deleter.running());  // still waiting: the finalizer holds the object
  auto held = env.getJson("configmap held");
  CHECK(held["metadata"]["finalizers"][0] == "example.com/hold");
  auto addFinalizer = env.kubectl(
      "patch configmap held --type merge -p "
      "'{\"metadata\":{\"finalizers\":[\"example.com/hold\",\"x.io/new\"]}}'");
  CHECK(addFinalizer.exitCode != 0);
  CHECK_THAT(addFinalizer.output,
             Catch::Contains("no new finalizers can be added if the object is being deleted"));
  env.ok("patch configmap held --type json -p '[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]'");
  REQUIRE(waitUntil([&] { return !deleter.running(); }, std::chrono::seconds(30)));
  INFO(deleter.log());
  CHECK(deleter.exitStatus() == 0);
  CHECK_THAT(deleter.log(), Catch::Contains("configmap \"held\" deleted"));
  CHECK(env.kubectl("get configmap held").exitCode != 0);
}

TEST_CASE("kubectl get -w shows a change another client makes", "[integration][kubectl]") {
  KubectlEnv env;
  env.createConfigMap("watched", {{"v", "1"}});
  ChildProcess watcher(
      {"/bin/sh", "-c",
       env.envPrefix() + " exec kubectl get configmap watched -w -o jsonpath='{.data.v}{\"\\n\"}'"},
      env.dir() / "watch.log");
  REQUIRE(
      waitUntil([&] { return watcher.log().find("1\n") != std::string::npos; }, std::chrono::seconds(20)));
  env.ok("patch configmap watched --type merge -p '{\"data\":{\"v\":\"2\"}}'");
  bool seen =
      waitUntil([&] { return watcher.log().find("2\n") != std::string::npos; }, std::chrono::seconds(20));
  INFO(watcher.log());
  CHECK(seen);
  CHECK(watcher.running());

  // A label-selected watch over the collection sees a new object enter the selection.
  ChildProcess selected(
      {"/bin/sh", "-c", env.envPrefix() + " exec kubectl get configmaps -w -l app=w -o name"},
      env.dir() / "selected.log");
  env.createConfigMap("other", {{"v", "1"}});
  env.createConfigMap("joins", {{"v", "1"}});
  env.ok("label configmap joins app=w");
  bool joined = waitUntil([&] { return selected.log().find("configmap/joins") != std::string::npos; },
                          std::chrono::seconds(20));
  INFO(selected.log());
  CHECK(joined);
  CHECK(selected.log().find("configmap/other") == std::string::npos);
}

TEST_CASE("no token, a wrong token or plain HTTP gets nothing", "[integration][kubectl][security]") {
  KubectlEnv env;
  env.createConfigMap("secret-data", {{"password", "hunter2"}});
  const std::string port = std::to_string(env.server().port());
  const std::string ca = (env.dir() / "data" / "ca.crt").string();

  auto writeConfig = [&](const std::string& name, const std::string& server, const std::string& userLines) {
    return env.writeFile(
        name, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + server +
                  "\n    certificate-authority: " + ca + "\nusers:\n- name: u\n  user:\n" + userLines +
                  "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n");
  };
  auto run = [&](const std::string& config) {
    return runCommand("KUBECONFIG=" + shellQuote(config) +
                      " KUBECACHEDIR=" + shellQuote((env.dir() / "cache2").string()) +
                      " kubectl get configmap secret-data -o yaml </dev/null 2>&1");
  };
  // Without credentials kubectl asks for a user name on the 401; with no terminal it gives up.
  auto noToken = run(writeConfig("none.yaml", "https://127.0.0.1:" + port, "    {}\n"));
  CHECK(noToken.exitCode != 0);
  CHECK(noToken.output.find("hunter2") == std::string::npos);

  auto wrong = run(writeConfig("wrong.yaml", "https://127.0.0.1:" + port, "    token: not-the-token\n"));
  CHECK(wrong.exitCode != 0);
  CHECK_THAT(wrong.output, Catch::Contains("You must be logged in to the server"));
  CHECK(wrong.output.find("hunter2") == std::string::npos);

  auto plain =
      run(writeConfig("plain.yaml", "http://127.0.0.1:" + port, "    token: " + env.server().token() + "\n"));
  CHECK(plain.exitCode != 0);
  CHECK(plain.output.find("hunter2") == std::string::npos);

  // Directly: no Authorization header, and plain HTTP even with the right token.
  auto curlNoToken = runCommand("curl -sS --cacert " + shellQuote(ca) + " https://127.0.0.1:" + port +
                                "/api/v1/namespaces/default/configmaps/secret-data");
  CHECK_THAT(curlNoToken.output, Catch::Contains("\"code\":401"));
  CHECK(curlNoToken.output.find("hunter2") == std::string::npos);
  auto curlPlain =
      runCommand("curl -sS -H 'Authorization: Bearer " + env.server().token() + "' http://127.0.0.1:" + port +
                 "/api/v1/namespaces/default/configmaps/secret-data");
  CHECK_THAT(curlPlain.output, Catch::Contains("Client sent an HTTP request to an HTTPS server"));
  CHECK(curlPlain.output.find("hunter2") == std::string::npos);
  auto curlOk = runCommand("curl -sS --cacert " + shellQuote(ca) + " -H 'Authorization: Bearer " +
                           env.server().token() + "' https://127.0.0.1:" + port +
                           "/api/v1/namespaces/default/configmaps/secret-data");
  CHECK_THAT(curlOk.output, Catch::Contains("hunter2"));
}

TEST_CASE("kubectl scale through the scale subresource, and edit with a scripted editor",
          "[integration][kubectl]") {
  KubectlEnv env;
  env.ok("apply -f " + env.writeFile("deploy.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: "nginx:1.25"}]
)"));
  CHECK_THAT(env.ok("scale deployment web --replicas=3"), Catch::Contains("deployment.apps/web scaled"));
  auto d = env.getJson("deployment web");
  CHECK(d["spec"]["replicas"] == 3);
  CHECK(d["metadata"]["generation"] == 2);

  env.ok("apply -f " + env.writeFile("crd.yaml", R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: pools.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: pools, singular: pool, kind: Pool}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.size, statusReplicasPath: .status.size}
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
)"));
  env.ok("wait --for=condition=Established crd/pools.example.com --timeout=20s");
  env.ok("apply -f " +
         env.writeFile("pool.yaml",
                       "apiVersion: example.com/v1\nkind: Pool\nmetadata: {name: p}\nspec: {size: 1}\n"));
  CHECK_THAT(env.ok("scale pool p --replicas=4"), Catch::Contains("pool.example.com/p scaled"));
  CHECK(env.getJson("pool p")["spec"]["size"] == 4);

  env.createConfigMap("edited", {{"greeting", "one"}});
  auto editor = env.writeFile("editor.sh", "#!/bin/sh\nsed -i 's/greeting: one/greeting: two/' \"$1\"\n");
  std::filesystem::permissions(editor, std::filesystem::perms::owner_all);
  auto r = runCommand(env.envPrefix() + " KUBE_EDITOR=" + shellQuote(editor) +
                      " kubectl edit configmap edited 2>&1");
  INFO(r.output);
  CHECK(r.exitCode == 0);
  CHECK_THAT(r.output, Catch::Contains("configmap/edited edited"));
  CHECK(env.getJson("configmap edited")["data"]["greeting"] == "two");
}
