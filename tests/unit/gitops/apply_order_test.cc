// The order Flux applies a build in: cluster definitions, then class definitions, then the rest, each
// stage in its kind order; and which objects a prune may delete.
#include <catch2/catch.hpp>

#include "gitops/apply_set.h"

using namespace sluice::gitops;
using nlohmann::json;

namespace {
json object(const std::string& apiVersion, const std::string& kind, const std::string& name,
            const std::string& ns = "") {
  json o = {{"apiVersion", apiVersion}, {"kind", kind}, {"metadata", {{"name", name}}}};
  if (!ns.empty()) o["metadata"]["namespace"] = ns;
  return o;
}
std::vector<std::string> kinds(const std::vector<json>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects)
    out.push_back(o["kind"].get<std::string>() + "/" + o["metadata"]["name"].get<std::string>());
  return out;
}
}  // namespace

TEST_CASE("a build is applied in Flux's stages and kind order", "[gitops][apply]") {
  std::vector<json> objects = {
      object("example.com/v1", "Widget", "w", "apps"),
      object("apps/v1", "Deployment", "web", "apps"),
      object("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "hook"),
      object("v1", "Service", "web", "apps"),
      object("networking.k8s.io/v1", "IngressClass", "nginx"),
      object("v1", "ConfigMap", "b", "apps"),
      object("v1", "ConfigMap", "a", "apps"),
      object("rbac.authorization.k8s.io/v1", "ClusterRole", "reader"),
      object("v1", "Namespace", "apps"),
      object("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"),
  };
  sortForApply(objects);
  CHECK(kinds(objects) == std::vector<std::string>{"CustomResourceDefinition/widgets.example.com",
                                                   "Namespace/apps", "ClusterRole/reader",
                                                   "IngressClass/nginx", "ConfigMap/a", "ConfigMap/b",
                                                   "Service/web", "Deployment/web", "Widget/w",
                                                   "ValidatingWebhookConfiguration/hook"});
  CHECK(applyStage(objects[0]) == 0);
  CHECK(applyStage(objects[3]) == 1);
  CHECK(applyStage(objects[8]) == 2);
}

TEST_CASE("stale entries are the old inventory's ids missing from the new one, deleted in reverse order",
          "[gitops][apply]") {
  const std::vector<InventoryEntry> before = {{"_apps__Namespace", "v1"},
                                              {"apps_web_apps_Deployment", "v1"},
                                              {"apps_web__Service", "v1"},
                                              {"apps_cfg__ConfigMap", "v1"}};
  // The version does not matter: a Deployment now at another version is the same object.
  const std::vector<InventoryEntry> now = {{"apps_web_apps_Deployment", "v2"}};
  const auto stale = staleEntries(before, now);
  std::vector<std::string> ids;
  for (const auto& e : stale) ids.push_back(e.id);
  CHECK(ids == std::vector<std::string>{"apps_web__Service", "apps_cfg__ConfigMap", "_apps__Namespace"});
}

TEST_CASE("ownership labels and the opt-out annotations", "[gitops][apply]") {
  json o = object("v1", "ConfigMap", "c", "apps");
  setOwnerLabels(o, "apps", "flux-system");
  CHECK(o["metadata"]["labels"][kOwnerNameLabel] == "apps");
  CHECK(o["metadata"]["labels"][kOwnerNamespaceLabel] == "flux-system");
  CHECK_FALSE(reconcileDisabled(o));
  o["metadata"]["annotations"][kReconcileAnnotation] = "disabled";
  CHECK(reconcileDisabled(o));
  o["metadata"]["labels"][kPruneAnnotation] = "disabled";
  CHECK(pruneDisabled(o));
}
