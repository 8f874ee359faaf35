// Garbage collection and namespace deletion, seen through the real kubectl: `kubectl delete` with each
// --cascade, owner chains built by hand (ConfigMaps owning ConfigMaps, a ReplicaSet owning Pods), a
// namespace emptied of built-in and custom resources, and collection resuming after a restart.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kube/apiserver/registry.h"
#include "kube/apiserver/store.h"
#include "tests/integration/kubectl_env.h"
#include "tests/support/process.h"

using nlohmann::json;
using sluice::testing::ChildProcess;
using sluice::testing::KubectlEnv;
using sluice::testing::runCommand;
using sluice::testing::waitUntil;

namespace {

constexpr std::chrono::seconds kCollectTimeout{30};

std::string uidOf(const KubectlEnv& env, const std::string& what) {
  return env.getJson(what)["metadata"]["uid"].get<std::string>();
}

json ownerRef(const std::string& apiVersion, const std::string& kind, const std::string& name,
              const std::string& uid, bool block = false) {
  return {{"apiVersion", apiVersion},
          {"kind", kind},
          {"name", name},
          {"uid", uid},
          {"blockOwnerDeletion", block}};
}

json configMapOwnerRef(const KubectlEnv& env, const std::string& name, bool block = false) {
  return ownerRef("v1", "ConfigMap", name, uidOf(env, "configmap " + name), block);
}

// `kubectl create -f` of `obj` in `ns`.
void create(const KubectlEnv& env, const json& obj, const std::string& ns = "default") {
  std::string file =
      "obj-" + obj["kind"].get<std::string>() + "-" + obj["metadata"]["name"].get<std::string>() + ".json";
  env.ok("create -n " + ns + " -f " + env.writeFile(file, obj.dump()));
}

json ownedConfigMap(const std::string& name, const std::vector<json>& owners,
                    const std::vector<std::string>& finalizers = {}) {
  json cm = {
      {"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", {{"k", "v"}}}};
  if (!owners.empty()) cm["metadata"]["ownerReferences"] = owners;
  if (!finalizers.empty()) cm["metadata"]["finalizers"] = finalizers;
  return cm;
}

bool gone(const KubectlEnv& env, const std::string& what) {
  auto r = env.kubectl("get " + what);
  return r.exitCode != 0 && r.output.find("NotFound") != std::string::npos;
}

void requireGone(const KubectlEnv& env, const std::string& what) {
  INFO("waiting for " << what << " to go");
  REQUIRE(waitUntil([&] { return gone(env, what); }, kCollectTimeout));
}

const char* kWidgetCrd = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
)";

}  // namespace

TEST_CASE("kubectl delete cascades in the background: dependents go, a shared one loses the reference",
          "[integration][kubectl][gc]") {
  KubectlEnv env;
  env.createConfigMap("owner", {{"k", "v"}});
  env.createConfigMap("other", {{"k", "v"}});
  create(env, ownedConfigMap("dep1", {configMapOwnerRef(env, "owner")}));
  create(env, ownedConfigMap("dep2", {configMapOwnerRef(env, "owner")}));
  create(env,
         ownedConfigMap("grandchild", {configMapOwnerRef(env, "dep1")}));  // a chain: owner -> dep1 -> this
  create(env, ownedConfigMap("shared", {configMapOwnerRef(env, "owner"), configMapOwnerRef(env, "other")}));
  // Owners are matched by uid: a same-named object with another uid does not own this one.
  env.createConfigMap("namesake", {{"k", "v"}});
  create(env, ownedConfigMap("stale", {ownerRef("v1", "ConfigMap", "namesake",
                                                "5b4d6bb0-0000-4000-8000-000000000000")}));

  // An owner in another namespace cannot own it either: the reference dangles, whatever the owner does.
  env.createNamespace("elsewhere");
  create(env, ownedConfigMap("cross", {configMapOwnerRef(env, "other")}), "elsewhere");

  CHECK_THAT(env.ok("delete configmap owner"), Catch::Contains("configmap \"owner\" deleted"));
  requireGone(env, "configmap dep1");
  requireGone(env, "configmap dep2");
  requireGone(env, "configmap grandchild");
  requireGone(env, "configmap stale");
  requireGone(env, "configmap cross -n elsewhere");
  auto shared = env.getJson("configmap shared");
  REQUIRE(shared["metadata"]["ownerReferences"].size() == 1);
  CHECK(shared["metadata"]["ownerReferences"][0]["name"] == "other");
  CHECK(shared["metadata"]["ownerReferences"][0]["uid"] == uidOf(env, "configmap other"));
  CHECK(env.getJson("configmap namesake")["metadata"]["name"] == "namesake");
  CHECK(env.getJson("configmap other")["metadata"]["name"] == "other");

  // A ReplicaSet owning Pods, as its controller would have made them.
  create(env, {{"apiVersion", "apps/v1"},
               {"kind", "ReplicaSet"},
               {"metadata", {{"name", "web"}}},
               {"spec",
                {{"replicas", 2},
                 {"selector", {{"matchLabels", {{"app", "web"}}}}},
                 {"template",
                  {{"metadata", {{"labels", {{"app", "web"}}}}},
                   {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "nginx:1.25"}}})}}}}}}}});
  json rsRef = ownerRef("apps/v1", "ReplicaSet", "web", uidOf(env, "replicaset web"), true);
  rsRef["controller"] = true;
  for (const char* pod : {"web-a", "web-b"}) {
    create(env, {{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata",
                  {{"name", pod}, {"labels", {{"app", "web"}}}, {"ownerReferences", json::array({rsRef})}}},
                 {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "nginx:1.25"}}})}}}});
  }
  env.ok("delete replicaset web");
  requireGone(env, "pod web-a");
  requireGone(env, "pod web-b");
}

TEST_CASE("kubectl delete --cascade=foreground keeps the owner until a blocking dependent's finalizer goes",
          "[integration][kubectl][gc]") {
  KubectlEnv env;
  env.createConfigMap("owner", {{"k", "v"}});
  create(env, ownedConfigMap("held", {configMapOwnerRef(env, "owner", true)}, {"example.com/hold"}));
  create(env, ownedConfigMap("free", {configMapOwnerRef(env, "owner", true)}));

  env.ok("delete configmap owner --cascade=foreground --wait=false");
  requireGone(env, "configmap free");
  REQUIRE(waitUntil([&] { return env.getJson("configmap held")["metadata"].contains("deletionTimestamp"); },
                    kCollectTimeout));
  // The dependent's finalizer holds it, and it holds the owner: still visible, marked, with the finalizer.
  auto owner = env.getJson("configmap owner");
  CHECK(owner["metadata"].contains("deletionTimestamp"));
  CHECK(owner["metadata"]["finalizers"] == json::array({"foregroundDeletion"}));

  // A second client finishes its work on the dependent: both go.
  env.ok("patch configmap held --type json -p '[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]'");
  requireGone(env, "configmap held");
  requireGone(env, "configmap owner");
}

TEST_CASE("kubectl delete --cascade=orphan leaves the dependents without the reference",
          "[integration][kubectl][gc]") {
  KubectlEnv env;
  env.createConfigMap("owner", {{"k", "v"}});
  env.createConfigMap("keeper", {{"k", "v"}});
  create(env, ownedConfigMap("dep1", {configMapOwnerRef(env, "owner", true)}));
  create(env, ownedConfigMap("dep2", {configMapOwnerRef(env, "owner"), configMapOwnerRef(env, "keeper")}));

  // kubectl waits for the owner to go, which is after the references are gone.
  CHECK_THAT(env.ok("delete configmap owner --cascade=orphan"),
             Catch::Contains("configmap \"owner\" deleted"));
  CHECK(gone(env, "configmap owner"));
  auto dep1 = env.getJson("configmap dep1");
  CHECK_FALSE(dep1["metadata"].contains("ownerReferences"));
  auto dep2 = env.getJson("configmap dep2");
  REQUIRE(dep2["metadata"]["ownerReferences"].size() == 1);
  CHECK(dep2["metadata"]["ownerReferences"][0]["name"] == "keeper");
}

TEST_CASE("kubectl delete namespace: Terminating, creates refused, content and custom resources deleted",
          "[integration][kubectl][namespace]") {
  KubectlEnv env;
  env.ok("apply -f " + env.writeFile("crd.yaml", kWidgetCrd));
  env.ok("wait --for=condition=Established crd/widgets.example.com --timeout=20s");
  env.createNamespace("team");
  env.createConfigMap("a", {{"k", "v"}}, "team");
  env.createConfigMap("b", {{"k", "v"}}, "team");
  create(
      env,
      {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "s"}}}, {"stringData", {{"p", "q"}}}},
      "team");
  create(env, {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w1"}}}}, "team");
  create(env,
         {{"apiVersion", "example.com/v1"},
          {"kind", "Widget"},
          {"metadata", {{"name", "w2"}, {"finalizers", json::array({"example.com/hold"})}}}},
         "team");
  env.createConfigMap("elsewhere", {{"k", "v"}});  // another namespace's content stays

  CHECK_THAT(env.ok("delete namespace team --wait=false"), Catch::Contains("namespace \"team\" deleted"));
  auto ns = env.getJson("namespace team");
  CHECK(ns["status"]["phase"] == "Terminating");
  CHECK(ns["metadata"].contains("deletionTimestamp"));
  CHECK(ns["spec"]["finalizers"] == json::array({"kubernetes"}));

  auto refused =
      env.kubectl("create -n team -f " + env.writeFile("late.json", ownedConfigMap("late", {}).dump()));
  CHECK(refused.exitCode != 0);
  CHECK_THAT(refused.output, Catch::Contains("Error from server (Forbidden)"));
  CHECK_THAT(refused.output,
             Catch::Contains("configmaps \"late\" is forbidden: unable to create new content in "
                             "namespace team because it is being terminated"));

  // Everything without a finalizer goes; the held widget stays, marked, and the conditions say why.
  requireGone(env, "configmap a -n team");
  requireGone(env, "configmap b -n team");
  requireGone(env, "secret s -n team");
  requireGone(env, "widget w1 -n team");
  json conditions;
  REQUIRE(waitUntil(
      [&] {
        conditions = env.getJson("namespace team")["status"].value("conditions", json::array());
        return conditions.size() == 5;
      },
      kCollectTimeout));
  INFO(conditions.dump(2));
  for (const auto& c : conditions) {
    if (c["type"] == "NamespaceFinalizersRemaining") {
      CHECK(c["status"] == "True");
      CHECK(
          c["message"] ==
          "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances");
    }
    if (c["type"] == "NamespaceContentRemaining") {
      CHECK(c["status"] == "True");
      CHECK(c["message"] == "Some resources are remaining: widgets.example.com has 1 resource instances");
    }
  }
  CHECK(env.getJson("widget w2 -n team")["metadata"].contains("deletionTimestamp"));
  CHECK(env.getJson("namespace team")["status"]["phase"] == "Terminating");

  // A second client removes the widget's finalizer: the widget, then the namespace, go.
  env.ok("patch widget w2 -n team --type merge -p '{\"metadata\":{\"finalizers\":null}}'");
  requireGone(env, "namespace team");
  CHECK(env.getJson("configmap elsewhere")["metadata"]["name"] == "elsewhere");

  // A namespace of the same name starts empty.
  env.createNamespace("team");
  CHECK(env.getJson("configmaps -n team")["items"].empty());
  CHECK(env.getJson("widgets -n team")["items"].empty());
  // kubectl's default wait ends when the (empty) namespace is gone.
  CHECK_THAT(env.ok("delete namespace team --timeout=30s"), Catch::Contains("namespace \"team\" deleted"));
  CHECK(gone(env, "namespace team"));

  for (const char* immortal : {"default", "kube-system", "kube-public"}) {
    auto no = env.kubectl(std::string("delete namespace ") + immortal);
    CHECK(no.exitCode != 0);
    CHECK_THAT(no.output, Catch::Contains(std::string("Error from server (Forbidden): namespaces \"") +
                                          immortal + "\" is forbidden: this namespace may not be deleted"));
  }
  CHECK(env.getJson("namespace default")["status"]["phase"] == "Active");
  auto missing =
      env.kubectl("create -n nowhere -f " + env.writeFile("x.json", ownedConfigMap("x", {}).dump()));
  CHECK_THAT(missing.output, Catch::Contains("namespaces \"nowhere\" not found"));
}

TEST_CASE("collection left pending while the server was down resumes on restart",
          "[integration][kubectl][gc]") {
  KubectlEnv env;
  env.createConfigMap("owner", {{"k", "v"}});
  create(env, ownedConfigMap("dep", {configMapOwnerRef(env, "owner")}));
  env.createConfigMap("fg-owner", {{"k", "v"}});
  create(env, ownedConfigMap("fg-dep", {configMapOwnerRef(env, "fg-owner", true)}));
  env.createNamespace("later");
  env.createConfigMap("inside", {{"k", "v"}}, "later");

  // With the server down, delete through the registry alone: no collector runs to finish the work.
  env.stop();
  {
    using namespace sluice::apiserver;
    auto store = Store::open(env.dir() / "data" / "state.db");
    REQUIRE(store.ok());
    auto reg = Registry::open(**store);
    REQUIRE(reg.ok());
    auto cms = (*reg)->find("", "v1", "configmaps");
    auto nss = (*reg)->find("", "v1", "namespaces");
    REQUIRE(((*reg)->remove(*cms, "default", "owner", {}).ok()));
    DeleteOptions foreground;
    foreground.propagationPolicy = "Foreground";
    REQUIRE(((*reg)->remove(*cms, "default", "fg-owner", foreground).ok()));
    REQUIRE(((*reg)->remove(*nss, "", "later", {}).ok()));
    REQUIRE(((*reg)->get(*cms, "default", "dep").ok()));
    REQUIRE(((*reg)->get(*cms, "later", "inside").ok()));
  }
  env.start();
  requireGone(env, "configmap dep");
  requireGone(env, "configmap fg-dep");
  requireGone(env, "configmap fg-owner");
  requireGone(env, "namespace later");
}
