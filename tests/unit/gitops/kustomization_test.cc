// The Kustomization's spec as the loader reads it (Flux's manifests unchanged), its errors with field
// paths, and the inventory ids Flux writes.
#include "gitops/kustomization.h"

#include <catch2/catch.hpp>

using namespace sluice::gitops;
using nlohmann::json;

namespace {

json manifest(json spec, const std::string& apiVersion = kKustomizationApiVersion) {
  return {{"apiVersion", apiVersion},
          {"kind", "Kustomization"},
          {"metadata", {{"name", "apps"}, {"namespace", "flux-system"}, {"generation", 3}}},
          {"spec", std::move(spec)}};
}

json minimal() {
  return {{"sourceRef", {{"kind", "GitRepository"}, {"name", "repo"}}}, {"interval", "10m"}, {"prune", true}};
}

}  // namespace

TEST_CASE("a Flux Kustomization reads unchanged, with Flux's defaults", "[gitops][kustomization]") {
  json spec = minimal();
  spec["path"] = "./apps/staging";
  spec["dependsOn"] = json::array({{{"name", "infra"}}});
  spec["healthChecks"] = json::array({{{"kind", "Deployment"}, {"name", "web"}, {"namespace", "default"}}});
  spec["postBuild"] = {{"substitute", {{"cluster_env", "staging"}}},
                       {"substituteFrom", json::array({{{"kind", "ConfigMap"}, {"name", "vars"}}})}};
  spec["images"] = json::array({{{"name", "nginx"}, {"newTag", "1.27"}}});
  spec["decryption"] = {{"provider", "sops"}, {"secretRef", {{"name", "sops-age"}}}};
  spec["serviceAccountName"] = "apps-deployer";
  for (const char* apiVersion : {kKustomizationApiVersion, kFluxKustomizationApiVersion}) {
    INFO(apiVersion);
    auto k = parseKustomization(manifest(spec, apiVersion));
    INFO((k ? "" : k.error()));
    REQUIRE(k);
    CHECK(k->name == "apps");
    CHECK(k->ns == "flux-system");
    CHECK(k->generation == 3);
    CHECK(k->spec.sourceRef.kind == "GitRepository");
    CHECK(k->spec.interval == sluice::Duration{600});
    CHECK(k->spec.effectiveRetryInterval() == sluice::Duration{600});  // defaults to interval
    CHECK(k->spec.effectiveTimeout() == sluice::Duration{570});        // interval - 30s, Flux's code
    CHECK(k->spec.prune);
    CHECK(k->spec.dependsOn.at(0).name == "infra");
    CHECK(k->spec.healthChecks.at(0).apiVersion == "apps/v1");  // Flux's default for health checks
    CHECK(k->spec.hasPostBuild);
    CHECK(k->spec.substitute.at("cluster_env") == "staging");
    CHECK(k->spec.substituteFrom.at(0).kind == "ConfigMap");
    CHECK(k->spec.images.size() == 1);
    REQUIRE(k->spec.decryption);
    CHECK(k->spec.decryption->provider == "sops");
    CHECK(k->spec.decryption->secretRefName == "sops-age");
    CHECK(k->spec.serviceAccountName == "apps-deployer");  // impersonated, no longer ignored
  }
  CHECK(parseKustomization(manifest(minimal()))->spec.serviceAccountName.empty());
  spec["interval"] = "20s";
  CHECK(parseKustomization(manifest(spec))->spec.effectiveTimeout() == sluice::Duration{30});  // at least 30s
}

TEST_CASE("a bad Kustomization spec is refused with the field path of each problem",
          "[gitops][kustomization]") {
  struct Case {
    const char* what;
    std::function<void(json&)> change;
    const char* expected;
  };
  std::vector<Case> cases = {
      {"no interval", [](json& s) { s.erase("interval"); }, "spec.interval: is required"},
      {"a bad interval", [](json& s) { s["interval"] = "often"; }, "spec.interval"},
      {"prune missing", [](json& s) { s.erase("prune"); }, "spec.prune: is required"},
      {"sourceRef without a name", [](json& s) { s["sourceRef"].erase("name"); }, "spec.sourceRef.name"},
      {"substituteFrom of another kind",
       [](json& s) {
         s["postBuild"] = {{"substituteFrom", json::array({{{"kind", "Pod"}, {"name", "x"}}})}};
       },
       "spec.postBuild.substituteFrom[0].kind: must be ConfigMap or Secret"},
      {"a bad variable name",
       [](json& s) {
         s["postBuild"] = {{"substitute", {{"1x", "y"}}}};
       },
       "spec.postBuild.substitute"},
      {"a healthCheck without kind",
       [](json& s) {
         s["healthChecks"] = json::array({{{"name", "web"}}});
       },
       "spec.healthChecks[0].kind"},
      {"a decryption provider other than sops",
       [](json& s) {
         s["decryption"] = {{"provider", "vault"}, {"secretRef", {{"name", "keys"}}}};
       },
       "spec.decryption.provider: must be sops, got \"vault\""},
      {"decryption without the Secret of its keys",
       [](json& s) {
         s["decryption"] = {{"provider", "sops"}};
       },
       "spec.decryption.secretRef: is required"},
      {"a prune that is not a bool", [](json& s) { s["prune"] = "yes"; }, "spec.prune: must be"},
      {"a serviceAccountName that is a user name",
       [](json& s) { s["serviceAccountName"] = "system:serviceaccount:team-a:deployer"; },
       "spec.serviceAccountName: must be the name of a ServiceAccount in the Kustomization's namespace"},
      {"decryption through a service account stays refused",
       [](json& s) {
         s["decryption"] = {
             {"provider", "sops"}, {"secretRef", {{"name", "keys"}}}, {"serviceAccountName", "kms"}};
       },
       "spec.decryption.serviceAccountName"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    json spec = minimal();
    c.change(spec);
    auto k = parseKustomization(manifest(spec));
    REQUIRE_FALSE(k);
    CHECK_THAT(k.error(), Catch::Contains(c.expected));
  }
  json wrong = manifest(minimal());
  wrong["apiVersion"] = "kustomize.config.k8s.io/v1beta1";  // kustomize's own file is not this kind
  auto k = parseKustomization(wrong);
  REQUIRE_FALSE(k);
  CHECK_THAT(k.error(), Catch::Contains("apiVersion"));
}

TEST_CASE("inventory ids are Flux's <namespace>_<name>_<group>_<kind>, and read back",
          "[gitops][inventory]") {
  struct Case {
    json object;
    const char* id;
    const char* v;
  };
  std::vector<Case> cases = {
      {{{"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata", {{"name", "podinfo"}, {"namespace", "default"}}}},
       "default_podinfo_apps_Deployment",
       "v1"},
      {{{"apiVersion", "v1"},
        {"kind", "Service"},
        {"metadata", {{"name", "podinfo"}, {"namespace", "default"}}}},
       "default_podinfo__Service",
       "v1"},
      {{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "foo"}}}},
       "_foo__Namespace",
       "v1"},
      {{{"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", "ClusterRole"},
        {"metadata", {{"name", "system:x"}}}},
       "_system__x_rbac.authorization.k8s.io_ClusterRole",
       "v1"},
      {{{"apiVersion", "sluice.dev/v1alpha1"},
        {"kind", "Rollout"},
        {"metadata", {{"name", "web"}, {"namespace", "apps"}}}},
       "apps_web_sluice.dev_Rollout",
       "v1alpha1"},
  };
  for (const auto& c : cases) {
    INFO(c.id);
    const ObjectKey key = objectKey(c.object);
    const InventoryEntry e = inventoryEntry(key);
    CHECK(e.id == c.id);
    CHECK(e.version == c.v);
    auto back = parseInventoryEntry(e);
    REQUIRE(back);
    CHECK(back->name == key.name);
    CHECK(back->ns == key.ns);
    CHECK(back->group == key.group);
    CHECK(back->kind == key.kind);
    CHECK(back->apiVersion() == c.object["apiVersion"]);
  }
  CHECK_FALSE(parseInventoryEntry({"nonsense", "v1"}));
  const json status = {{"inventory", inventoryJson({{"default_web_apps_Deployment", "v1"}})}};
  CHECK(readInventory(status) == std::vector<InventoryEntry>{{"default_web_apps_Deployment", "v1"}});
  CHECK(readInventory(json::object()).empty());
}

TEST_CASE("a condition set again unchanged keeps its transition time and place", "[gitops][kustomization]") {
  json status = json::object();
  const auto t1 = sluice::timeFromUnix(1000), t2 = sluice::timeFromUnix(2000);
  setCondition(status, "Healthy", "True", "Succeeded", "ok", 1, t1);
  setCondition(status, "Ready", "True", reason::kSucceeded, "Applied revision: r1", 1, t1);
  const json before = status;
  setCondition(status, "Healthy", "True", "Succeeded", "ok", 1, t2);
  setCondition(status, "Ready", "True", reason::kSucceeded, "Applied revision: r1", 1, t2);
  CHECK(status == before);
  CHECK(status["conditions"][0]["type"] == "Ready");
  setCondition(status, "Ready", "False", reason::kBuildFailed, "boom", 1, t2);
  CHECK(findCondition(status, "Ready")->value("lastTransitionTime", "") == sluice::formatRfc3339(t2));
}
