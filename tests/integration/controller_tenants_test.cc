// Multi-tenancy through the manager, as `sluice controller` runs it: two tenants' Kustomizations from one
// real git repository, each applying as a service account of its own namespace (spec.serviceAccountName,
// else --default-service-account), and the embedded API server standing in for kube-apiserver's RBAC
// deciding what each may write. A tenant's build that reaches into another namespace fails with Flux's
// ReconciliationFailed, names the forbidden object, writes nothing and keeps the last applied revision.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "controller_env.h"
#include "tests/support/git_repo.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

std::string tenantsConfigMap(const std::string& ns, const std::string& name, const std::string& value) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\ndata:\n  value: \"" + value + "\"\n";
}

std::string tenantsKustomizationFile(const std::vector<std::string>& files) {
  std::string s = "resources:\n";
  for (const auto& f : files) s += "- " + f + "\n";
  return s;
}

// A Kustomization in `ns` from the GitRepository default/fleet, applying `path`.
std::string tenantsKustomization(const std::string& ns, const std::string& name, const std::string& path,
                                 const std::string& serviceAccount) {
  json spec = {{"sourceRef", {{"kind", "GitRepository"}, {"name", "fleet"}, {"namespace", "default"}}},
               {"path", path},
               {"interval", "10m"},
               {"retryInterval", "2s"},
               {"prune", true},
               {"wait", true}};
  if (!serviceAccount.empty()) spec["serviceAccountName"] = serviceAccount;
  return json({{"apiVersion", "sluice.dev/v1alpha1"},
               {"kind", "Kustomization"},
               {"metadata", {{"name", name}, {"namespace", ns}}},
               {"spec", spec}})
      .dump();
}

// Each tenant's write access: everything in its own namespace, for one service account.
std::string tenantsRbac(const std::string& ns, const std::string& serviceAccount) {
  return R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":")" + serviceAccount +
         R"(","namespace":")" + ns + R"("}}
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"tenant","namespace":")" +
         ns +
         R"("},"rules":[{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}]}
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"tenant","namespace":")" +
         ns + R"("},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"tenant"},
 "subjects":[{"kind":"ServiceAccount","name":")" +
         serviceAccount + R"("}]})";
}

const json* tenantsCondition(const json& obj, const std::string& type) {
  auto status = obj.find("status");
  if (status == obj.end() || !status->is_object()) return nullptr;
  auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return nullptr;
  for (const auto& c : *conditions)
    if (c.value("type", "") == type) return &c;
  return nullptr;
}

}  // namespace

TEST_CASE(
    "multi-tenancy: each tenant's Kustomization applies as its service account and the embedded server "
    "standing in for kube-apiserver's RBAC refuses what reaches into another namespace",
    "[controller][gitops][tenancy]") {
  TempDir dir;
  GitRepo repo(dir.path() / "repo");
  const std::string c1 =
      repo.commit({{"team-a/app/settings.yaml", tenantsConfigMap("team-a", "settings", "a1")},
                   {"team-a/app/kustomization.yaml", tenantsKustomizationFile({"settings.yaml"})},
                   {"team-a/reach/own.yaml", tenantsConfigMap("team-a", "own", "v1")},
                   {"team-a/reach/kustomization.yaml", tenantsKustomizationFile({"own.yaml"})},
                   {"team-b/app/settings.yaml", tenantsConfigMap("team-b", "settings", "b1")},
                   {"team-b/app/kustomization.yaml", tenantsKustomizationFile({"settings.yaml"})},
                   {"team-b/reach/intruder.yaml", tenantsConfigMap("team-a", "from-team-b", "x")},
                   {"team-b/reach/kustomization.yaml", tenantsKustomizationFile({"intruder.yaml"})}},
                  "two tenants");

  ControllerEnv env;
  env.cluster.ok("create namespace team-a");
  env.cluster.ok("create namespace team-b");
  env.cluster.ok("apply -f " + env.cluster.writeFile("rbac-a.json", tenantsRbac("team-a", "deployer")));
  // team-b names no account: the controller's --default-service-account is its identity.
  env.cluster.ok("apply -f " + env.cluster.writeFile("rbac-b.json", tenantsRbac("team-b", "tenant")));

  controller::ManagerOptions options;
  options.storagePath = (dir.path() / "storage").string();
  options.defaultServiceAccount = "tenant";
  env.startController(options);
  env.cluster.ok("apply -f " +
                 env.cluster.writeFile("source.json",
                                       R"({"apiVersion":"sluice.dev/v1alpha1","kind":"GitRepository",
    "metadata":{"name":"fleet","namespace":"default"},
    "spec":{"url":")" + repo.fileUrl() + R"(","interval":"10m","ref":{"branch":"main"}}})"));
  env.cluster.ok("apply -f " + env.cluster.writeFile(
                                   "tenants.json",
                                   tenantsKustomization("team-a", "app", "./team-a/app", "deployer") + "\n" +
                                       tenantsKustomization("team-a", "reach", "./team-a/reach", "deployer") +
                                       "\n" + tenantsKustomization("team-b", "app", "./team-b/app", "") +
                                       "\n" + tenantsKustomization("team-b", "reach", "./team-b/reach", "")));

  auto kustomization = [&](const std::string& ns, const std::string& name) {
    return env.cluster.getJson("kustomization " + name + " -n " + ns);
  };
  auto readyIs = [&](const std::string& ns, const std::string& name, const std::string& status,
                     const std::string& revision) {
    const json k = kustomization(ns, name);
    const json* ready = tenantsCondition(k, "Ready");
    return ready && ready->value("status", "") == status &&
           k.value(json::json_pointer("/status/lastAttemptedRevision"), std::string()) ==
               "main@sha1:" + revision;
  };
  auto dump = [&] {
    return env.cluster.kubectl("get kustomizations -A -o yaml").output +
           env.cluster.kubectl("get configmaps -A").output;
  };

  // Each tenant's own namespace: applied and Ready, labelled as its Kustomization's.
  const bool ready = waitUntil(
      [&] {
        return readyIs("team-a", "app", "True", c1) && readyIs("team-a", "reach", "True", c1) &&
               readyIs("team-b", "app", "True", c1) && readyIs("team-b", "reach", "False", c1);
      },
      std::chrono::seconds(60));
  INFO(dump());
  REQUIRE(ready);
  CHECK(env.cluster.getJson("configmap settings -n team-a")["data"]["value"] == "a1");
  CHECK(env.cluster.getJson("configmap own -n team-a")["data"]["value"] == "v1");
  CHECK(env.cluster.getJson("configmap settings -n team-b")["data"]["value"] == "b1");

  // --default-service-account: team-b's Kustomization without serviceAccountName went as
  // system:serviceaccount:team-b:tenant, which may not write in team-a.
  {
    const json reach = kustomization("team-b", "reach");
    const json* r = tenantsCondition(reach, "Ready");
    REQUIRE(r);
    CHECK(r->value("reason", "") == "ReconciliationFailed");
    const std::string message = r->value("message", "");
    CHECK_THAT(message,
               Catch::Contains("ConfigMap/team-a/from-team-b: configmaps \"from-team-b\" is forbidden: "
                               "User \"system:serviceaccount:team-b:tenant\" cannot"));
    CHECK_THAT(message, Catch::Contains("in API group \"\" in the namespace \"team-a\""));
    CHECK(reach.value(json::json_pointer("/status/lastAppliedRevision"), std::string()).empty());
    CHECK(env.cluster.kubectl("get configmap from-team-b -n team-a").exitCode != 0);
  }

  // A new commit of team-a's second Kustomization also puts an object in team-b: the revision fails, what
  // it would have changed in team-a stays at the last applied revision, and nothing appears in team-b.
  const std::string c2 = repo.commit(
      {{"team-a/reach/own.yaml", tenantsConfigMap("team-a", "own", "v2")},
       {"team-a/reach/intruder.yaml", tenantsConfigMap("team-b", "intruder", "x")},
       {"team-a/reach/kustomization.yaml", tenantsKustomizationFile({"own.yaml", "intruder.yaml"})}},
      "team-a reaches into team-b");
  env.cluster.ok("annotate gitrepository fleet --overwrite reconcile.sluice.dev/requestedAt=c2");
  const bool failed =
      waitUntil([&] { return readyIs("team-a", "reach", "False", c2); }, std::chrono::seconds(60));
  INFO(dump());
  REQUIRE(failed);
  const json reach = kustomization("team-a", "reach");
  const json* r = tenantsCondition(reach, "Ready");
  REQUIRE(r);
  CHECK(r->value("reason", "") == "ReconciliationFailed");
  CHECK_THAT(r->value("message", ""),
             Catch::Contains("ConfigMap/team-b/intruder: configmaps \"intruder\" is forbidden: User "
                             "\"system:serviceaccount:team-a:deployer\" cannot"));
  CHECK_THAT(r->value("message", ""), Catch::Contains("in the namespace \"team-b\""));
  CHECK(reach.value(json::json_pointer("/status/lastAppliedRevision"), std::string()) == "main@sha1:" + c1);
  CHECK(env.cluster.kubectl("get configmap intruder -n team-b").exitCode != 0);
  CHECK(env.cluster.getJson("configmap own -n team-a")["data"]["value"] == "v1");
  // The other Kustomization of the same tenant and source is applied at the new revision.
  CHECK(waitUntil([&] { return readyIs("team-a", "app", "True", c2); }, std::chrono::seconds(30)));

  // Prune goes as the service account too: once team-a may no longer delete, a file removed from git
  // leaves its object in place and the Kustomization says why.
  env.cluster.ok(R"(patch role tenant -n team-a --type=json -p '[{"op":"replace","path":"/rules/0/verbs",
      "value":["get","list","watch","create","update","patch"]}]')");
  const std::string c3 =
      repo.commit({{"team-a/app/kept.yaml", tenantsConfigMap("team-a", "kept", "k")},
                   {"team-a/app/kustomization.yaml", tenantsKustomizationFile({"kept.yaml"})}},
                  "team-a drops its settings");
  env.cluster.ok("annotate gitrepository fleet --overwrite reconcile.sluice.dev/requestedAt=c3");
  const bool pruneRefused =
      waitUntil([&] { return readyIs("team-a", "app", "False", c3); }, std::chrono::seconds(60));
  INFO(dump());
  REQUIRE(pruneRefused);
  const json app = kustomization("team-a", "app");
  const json* pruned = tenantsCondition(app, "Ready");
  REQUIRE(pruned);
  CHECK(pruned->value("reason", "") == "PruneFailed");
  CHECK_THAT(
      pruned->value("message", ""),
      Catch::Contains("ConfigMap/team-a/settings: configmaps \"settings\" is forbidden: User "
                      "\"system:serviceaccount:team-a:deployer\" cannot delete resource \"configmaps\""));
  CHECK(env.cluster.getJson("configmap settings -n team-a")["data"]["value"] == "a1");
  CHECK(env.cluster.getJson("configmap kept -n team-a")["data"]["value"] == "k");
}

TEST_CASE(
    "multi-tenancy: real kubectl --as is authorized by the embedded server standing in for "
    "kube-apiserver's RBAC",
    "[controller][gitops][tenancy][kubectl]") {
  KubectlEnv cluster;
  cluster.ok("create namespace team-a");
  cluster.ok("create namespace team-b");
  cluster.ok("apply -f " + cluster.writeFile("rbac-a.json", tenantsRbac("team-a", "deployer")));
  cluster.ok("create role cm-reader -n team-b --verb=get --resource=configmaps --resource-name=shared");
  cluster.ok("create rolebinding auditors -n team-b --role=cm-reader --group=auditors");
  cluster.ok("create configmap shared -n team-b --from-literal=k=v");
  cluster.ok("create configmap other -n team-b --from-literal=k=v");
  const std::string as = "--as=system:serviceaccount:team-a:deployer";

  // Allowed in team-a.
  cluster.ok(as + " create configmap mine -n team-a --from-literal=k=v");
  cluster.ok(as + " get configmaps -n team-a");
  cluster.ok(as + " create deployment web -n team-a --image=nginx");
  // Denied in team-b: kubectl prints the server's Status.
  auto created = cluster.kubectl(as + " create configmap theirs -n team-b --from-literal=k=v");
  CHECK(created.exitCode != 0);
  CHECK_THAT(
      created.output,
      // kubectl create words it its own way: "error: failed to create configmap: <the server's message>".
      Catch::Contains("failed to create configmap: configmaps is forbidden: User "
                      "\"system:serviceaccount:team-a:deployer\" cannot create resource \"configmaps\" in "
                      "API group \"\" in the namespace \"team-b\""));
  auto listed = cluster.kubectl(as + " get deployments -n team-b");
  CHECK(listed.exitCode != 0);
  CHECK_THAT(
      listed.output,
      Catch::Contains("deployments.apps is forbidden: User \"system:serviceaccount:team-a:deployer\" cannot "
                      "list resource \"deployments\" in API group \"apps\" in the namespace \"team-b\""));
  auto nodes = cluster.kubectl(as + " get namespaces");
  CHECK(nodes.exitCode != 0);
  CHECK_THAT(nodes.output,
             Catch::Contains("cannot list resource \"namespaces\" in API group \"\" at the cluster "
                             "scope"));
  // --as-group: a group's Role with resourceNames.
  cluster.ok("--as=erin --as-group=auditors get configmap shared -n team-b");
  auto other = cluster.kubectl("--as=erin --as-group=auditors get configmap other -n team-b");
  CHECK(other.exitCode != 0);
  CHECK_THAT(other.output,
             Catch::Contains("configmaps \"other\" is forbidden: User \"erin\" cannot get resource "
                             "\"configmaps\" in API group \"\" in the namespace \"team-b\""));
  // `kubectl sluice` takes kubectl's --as too.
  cluster.ok("apply -k " + shellQuote(std::string(SLUICE_SOURCE_DIR) + "/crds"));
  REQUIRE(waitUntil([&] { return cluster.kubectl("get rollouts -n team-a").exitCode == 0; },
                    std::chrono::seconds(10)));
  auto own = cluster.plugin("get rollouts -n team-a " + as);
  INFO(own.output);
  CHECK(own.exitCode == 0);
  CHECK_THAT(own.output, Catch::Contains("No resources found in team-a namespace."));
  auto theirs = cluster.plugin("get rollouts -n team-b " + as);
  CHECK(theirs.exitCode != 0);
  CHECK_THAT(
      theirs.output,
      Catch::Contains("Error from server (Forbidden): rollouts.sluice.dev is forbidden: User "
                      "\"system:serviceaccount:team-a:deployer\" cannot list resource \"rollouts\" in API "
                      "group \"sluice.dev\" in the namespace \"team-b\""));
  // Nothing was written where it was denied; without --as the admin sees everything.
  CHECK(cluster.kubectl("get configmap theirs -n team-b").exitCode != 0);
  cluster.ok("get configmap mine -n team-a");
}
