// The real kubectl's `create <generator>` commands, which send protobuf request bodies, against our API
// server: each stored object must hold what the command asked for, and nothing a JSON client would not
// have sent.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <vector>

#include "base/base64.h"
#include "tests/integration/kubectl_env.h"

using nlohmann::json;
using sluice::testing::KubectlEnv;
using sluice::testing::shellQuote;

namespace {

// `args` with `flags` added before a `--` that starts a container's command.
std::string withFlags(std::string args, const std::string& flags) {
  args.insert(std::min(args.find(" -- "), args.size()), " " + flags);
  return args;
}

// kubectl -v=8 prints each request's headers: the generators must really have sent protobuf.
void requireProtobufPost(const KubectlEnv& env, const std::string& args) {
  auto r = env.kubectl(withFlags(args, "-v=8"));
  INFO("kubectl " << args << " -v=8\n" << r.output);
  REQUIRE(r.exitCode == 0);
  CHECK(r.output.find("Content-Type: application/vnd.kubernetes.protobuf") != std::string::npos);
}

// metadata fields a protobuf body carries as empty strings or zeros, which must not reach the store.
void checkNoEmptyMetadata(const json& obj) {
  const json& m = obj["metadata"];
  for (const char* k : {"generateName", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"}) {
    INFO(k);
    CHECK_FALSE(m.contains(k));
  }
}

}  // namespace

TEST_CASE("kubectl create configmap and secrets send protobuf bodies that store as asked",
          "[integration][kubectl][protobuf]") {
  KubectlEnv env;
  const std::string binary = env.writeFile("logo.bin", std::string("\x89PNG\x00\xff\xfe", 7));
  const std::string text = env.writeFile("app.properties", "color=blue\n");
  requireProtobufPost(env, "create configmap cfg --from-literal=a=b --from-literal=empty= --from-file=" +
                               binary + " --from-file=" + text);
  auto cm = env.getJson("configmap cfg");
  CHECK(cm["data"] == json({{"a", "b"}, {"empty", ""}, {"app.properties", "color=blue\n"}}));
  CHECK(cm["binaryData"] ==
        json({{"logo.bin", sluice::base64Encode(std::string("\x89PNG\x00\xff\xfe", 7))}}));
  CHECK(cm["metadata"]["namespace"] == "default");
  CHECK(cm["metadata"]["creationTimestamp"].is_string());
  checkNoEmptyMetadata(cm);

  env.ok(
      "create secret generic creds --from-literal=user=admin --from-literal=pass='s3cr=t' "
      "--type=example.com/creds");
  auto s = env.getJson("secret creds");
  CHECK(s["type"] == "example.com/creds");
  CHECK(s["data"] ==
        json({{"user", sluice::base64Encode("admin")}, {"pass", sluice::base64Encode("s3cr=t")}}));
  checkNoEmptyMetadata(s);

  const auto data = env.dir() / "data";
  env.ok("create secret tls web-tls --cert=" + shellQuote((data / "server.crt").string()) +
         " --key=" + shellQuote((data / "server.key").string()));
  auto tls = env.getJson("secret web-tls");
  CHECK(tls["type"] == "kubernetes.io/tls");
  std::ifstream crt(data / "server.crt");
  std::string crtPem((std::istreambuf_iterator<char>(crt)), std::istreambuf_iterator<char>());
  CHECK(tls["data"]["tls.crt"] == sluice::base64Encode(crtPem));
  CHECK(tls["data"].contains("tls.key"));

  env.ok(
      "create secret docker-registry regcred --docker-server=registry.example --docker-username=u "
      "--docker-password=p --docker-email=u@example.com");
  auto reg = env.getJson("secret regcred");
  CHECK(reg["type"] == "kubernetes.io/dockerconfigjson");
  auto config =
      json::parse(sluice::base64Decode(reg["data"][".dockerconfigjson"].get<std::string>()).value());
  CHECK(config["auths"]["registry.example"]["username"] == "u");
  CHECK(config["auths"]["registry.example"]["password"] == "p");
}

TEST_CASE("kubectl create namespace, serviceaccount, deployment and job",
          "[integration][kubectl][protobuf]") {
  KubectlEnv env;
  requireProtobufPost(env, "create namespace team-a");
  auto ns = env.getJson("namespace team-a");
  CHECK(ns["status"]["phase"] == "Active");
  checkNoEmptyMetadata(ns);

  env.ok("create serviceaccount builder -n team-a");
  auto sa = env.getJson("serviceaccount builder -n team-a");
  CHECK(sa["metadata"]["namespace"] == "team-a");
  CHECK_FALSE(sa.contains("secrets"));

  env.ok("create deployment web --image=nginx:1.27 --image=busybox:1.36 --replicas=3 --port=8080");
  auto d = env.getJson("deployment web");
  CHECK(d["spec"]["replicas"] == 3);
  CHECK(d["spec"]["selector"] == json::parse(R"({"matchLabels":{"app":"web"}})"));
  CHECK(d["metadata"]["labels"] == json({{"app", "web"}}));
  CHECK(d["spec"]["template"]["metadata"]["labels"] == json({{"app", "web"}}));
  const json& containers = d["spec"]["template"]["spec"]["containers"];
  REQUIRE(containers.size() == 2);
  CHECK(containers[0]["name"] == "nginx");
  CHECK(containers[0]["image"] == "nginx:1.27");
  CHECK(containers[0]["ports"] == json::parse(R"([{"containerPort":8080}])"));
  CHECK(containers[1]["name"] == "busybox");
  CHECK(containers[1]["image"] == "busybox:1.36");
  checkNoEmptyMetadata(d);

  // replicas is a pointer in Go: zero must arrive as 0, not be dropped and defaulted to 1.
  env.ok("create deployment idle --image=nginx --replicas=0");
  CHECK(env.getJson("deployment idle")["spec"]["replicas"] == 0);

  env.ok("create job once --image=busybox:1.36 -- echo hello world");
  auto job = env.getJson("job once");
  const json& pod = job["spec"]["template"]["spec"];
  CHECK(pod["restartPolicy"] == "Never");
  REQUIRE(pod["containers"].size() == 1);
  CHECK(pod["containers"][0]["image"] == "busybox:1.36");
  CHECK(pod["containers"][0]["command"] == json({"echo", "hello", "world"}));
}

TEST_CASE("kubectl create service: clusterip, nodeport, loadbalancer, externalname",
          "[integration][kubectl][protobuf]") {
  KubectlEnv env;
  requireProtobufPost(env, "create service clusterip api --tcp=80:8080 --tcp=443:https");
  auto api = env.getJson("service api");
  CHECK(api["spec"]["type"] == "ClusterIP");
  CHECK(api["spec"]["selector"] == json({{"app", "api"}}));
  const json& ports = api["spec"]["ports"];
  REQUIRE(ports.size() == 2);
  CHECK(ports[0]["port"] == 80);
  CHECK(ports[0]["targetPort"] == 8080);
  CHECK(ports[0]["protocol"] == "TCP");
  CHECK(ports[1]["port"] == 443);
  CHECK(ports[1]["targetPort"] == "https");

  env.ok("create service clusterip headless --clusterip=None");
  CHECK(env.getJson("service headless")["spec"]["clusterIP"] == "None");

  env.ok("create service nodeport np --tcp=80:8080 --node-port=30080");
  auto np = env.getJson("service np");
  CHECK(np["spec"]["type"] == "NodePort");
  CHECK(np["spec"]["ports"][0]["nodePort"] == 30080);
  CHECK(np["spec"]["ports"][0]["targetPort"] == 8080);

  env.ok("create service loadbalancer lb --tcp=443:8443");
  auto lb = env.getJson("service lb");
  CHECK(lb["spec"]["type"] == "LoadBalancer");
  CHECK(lb["spec"]["ports"][0]["port"] == 443);

  env.ok("create service externalname ext --external-name=db.example.com");
  auto ext = env.getJson("service ext");
  CHECK(ext["spec"]["type"] == "ExternalName");
  CHECK(ext["spec"]["externalName"] == "db.example.com");
}

TEST_CASE("kubectl create role, clusterrole and their bindings", "[integration][kubectl][protobuf]") {
  KubectlEnv env;
  requireProtobufPost(
      env, "create role reader --verb=get,list --resource=pods,deployments.apps --resource-name=web");
  auto role = env.getJson("role reader");
  REQUIRE(role["rules"].size() == 2);
  CHECK(role["rules"][0] == json::parse(R"({"apiGroups":[""],"resources":["pods"],"resourceNames":["web"],
                                           "verbs":["get","list"]})"));
  CHECK(role["rules"][1] == json::parse(R"({"apiGroups":["apps"],"resources":["deployments"],
                                           "resourceNames":["web"],"verbs":["get","list"]})"));

  env.ok("create clusterrole health --verb=get --non-resource-url=/healthz");
  auto health = env.getJson("clusterrole health");
  CHECK(health["rules"] == json::parse(R"([{"nonResourceURLs":["/healthz"],"verbs":["get"]}])"));

  env.ok("create clusterrole monitoring --aggregation-rule=rbac.example.com/aggregate-to-monitoring=true");
  auto agg = env.getJson("clusterrole monitoring");
  CHECK(agg["aggregationRule"] == json::parse(R"({"clusterRoleSelectors":[
    {"matchLabels":{"rbac.example.com/aggregate-to-monitoring":"true"}}]})"));

  env.ok("create serviceaccount bot");
  env.ok("create rolebinding read --role=reader --user=alice --group=devs --serviceaccount=default:bot");
  auto rb = env.getJson("rolebinding read");
  CHECK(rb["roleRef"] ==
        json::parse(R"({"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"reader"})"));
  CHECK(rb["subjects"] == json::parse(R"([
    {"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"alice"},
    {"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"devs"},
    {"kind":"ServiceAccount","name":"bot","namespace":"default"}])"));

  env.ok("create clusterrolebinding health --clusterrole=health --group=system:authenticated");
  auto crb = env.getJson("clusterrolebinding health");
  CHECK(crb["roleRef"] ==
        json::parse(R"({"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"health"})"));
  CHECK(crb["subjects"] ==
        json::parse(
            R"([{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:authenticated"}])"));
}

TEST_CASE("kubectl create ingress with rules, class, default backend and TLS",
          "[integration][kubectl][protobuf]") {
  KubectlEnv env;
  const std::string args =
      "ingress web --class=nginx --default-backend=fallback:80 "
      "--rule='shop.example.com/api*=api:8080,tls=shop-tls' --rule='shop.example.com/=web:http' "
      "--rule='admin.example.com/*=admin:9090'";
  requireProtobufPost(env, "create " + args);
  auto ing = env.getJson("ingress web");
  const json& spec = ing["spec"];
  CHECK(spec["ingressClassName"] == "nginx");
  CHECK(spec["defaultBackend"] == json::parse(R"({"service":{"name":"fallback","port":{"number":80}}})"));
  CHECK(spec["tls"] == json::parse(R"([{"hosts":["shop.example.com"],"secretName":"shop-tls"}])"));
  // Paths of one host share a rule.
  REQUIRE(spec["rules"].size() == 2);
  CHECK(spec["rules"][0] == json::parse(R"({"host":"shop.example.com","http":{"paths":[
    {"path":"/api","pathType":"Prefix","backend":{"service":{"name":"api","port":{"number":8080}}}},
    {"path":"/","pathType":"Exact","backend":{"service":{"name":"web","port":{"name":"http"}}}}]}})"));
  CHECK(spec["rules"][1] == json::parse(R"({"host":"admin.example.com","http":{"paths":[
    {"path":"/","pathType":"Prefix","backend":{"service":{"name":"admin","port":{"number":9090}}}}]}})"));
  // The same object rendered by kubectl itself as JSON.
  auto client = json::parse(env.ok("create " + args + " --dry-run=client -o json"));
  CHECK(spec == client["spec"]);
}

TEST_CASE("kubectl create --dry-run=server with a protobuf body writes nothing",
          "[integration][kubectl][protobuf]") {
  KubectlEnv env;
  auto out = env.ok("create configmap ghost --from-literal=a=b --dry-run=server -o json");
  auto shown = json::parse(out);
  CHECK(shown["data"] == json({{"a", "b"}}));
  CHECK(shown["metadata"]["name"] == "ghost");
  auto get = env.kubectl("get configmap ghost");
  CHECK(get.exitCode != 0);
  CHECK(get.output.find("NotFound") != std::string::npos);
  env.ok("create deployment phantom --image=nginx --dry-run=server");
  CHECK(env.kubectl("get deployment phantom").exitCode != 0);
}

TEST_CASE("what a protobuf create stores is what kubectl renders as JSON for the same command",
          "[integration][kubectl][protobuf]") {
  KubectlEnv env;
  struct Row {
    const char* create;  // the generator and its flags
    const char* get;     // the object it makes
    std::vector<const char*> fields;
  };
  const Row rows[] = {
      {"configmap cmp --from-literal=a=b --from-literal=c=", "configmap cmp", {"data"}},
      {"secret generic scmp --from-literal=k=v --type=Opaque", "secret scmp", {"data", "type"}},
      {"role rcmp --verb=get,watch --resource=configmaps,jobs.batch", "role rcmp", {"rules"}},
      {"clusterrole ccmp --verb=get --non-resource-url=/metrics", "clusterrole ccmp", {"rules"}},
      {"clusterrole acmp --aggregation-rule=team=a", "clusterrole acmp", {"aggregationRule"}},
      {"rolebinding bcmp --clusterrole=view --user=u --serviceaccount=default:default",
       "rolebinding bcmp",
       {"roleRef", "subjects"}},
      {"deployment dcmp --image=nginx:1.27 --replicas=2 --port=80", "deployment dcmp", {"spec"}},
      {"job jcmp --image=busybox -- sh -c 'exit 0'", "job jcmp", {"spec"}},
  };
  for (const auto& row : rows) {
    INFO(row.create);
    auto client =
        json::parse(env.ok(withFlags(std::string("create ") + row.create, "--dry-run=client -o json")));
    env.ok(std::string("create ") + row.create);
    auto stored = env.getJson(row.get);
    if (stored["kind"] == "Deployment") {
      // The server fills in a Deployment's defaults, as the real one does; kubectl's rendering has none.
      json& spec = stored["spec"];
      CHECK(spec["progressDeadlineSeconds"] == 600);
      CHECK(spec["revisionHistoryLimit"] == 10);
      CHECK(spec["strategy"] ==
            json::parse(
                R"({"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}})"));
      spec.erase("progressDeadlineSeconds");
      spec.erase("revisionHistoryLimit");
      spec["strategy"] = json::object();
    }
    for (const char* field : row.fields) {
      INFO(field);
      CHECK(stored[field] == client[field]);
    }
    CHECK(stored["metadata"].value("labels", json::object()) ==
          client["metadata"].value("labels", json::object()));
  }
}
