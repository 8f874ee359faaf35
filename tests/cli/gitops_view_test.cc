// What the GitOps commands print, from objects: the get table's columns, when a requested reconcile
// counts as handled, the inventory tree, per-object diffs (a Secret's values never shown) and events.
#include <catch2/catch.hpp>

#include "cli/gitops_view.h"

using namespace sluice;
using namespace sluice::cli;
using nlohmann::json;

namespace gitops_view_test {

json kustomization(const std::string& name, json status, bool suspend = false, int64_t generation = 1) {
  return {{"apiVersion", "sluice.dev/v1alpha1"},
          {"kind", "Kustomization"},
          {"metadata", {{"name", name}, {"namespace", "apps"}, {"generation", generation}}},
          {"spec", {{"suspend", suspend}}},
          {"status", std::move(status)}};
}

json ready(const std::string& status, const std::string& message) {
  return json::array({{{"type", "Ready"}, {"status", status}, {"message", message}}});
}

}  // namespace gitops_view_test

using namespace gitops_view_test;

TEST_CASE("GitOps get table: flux's columns, NAMESPACE with -A, Unknown before the controller wrote",
          "[gitops-cli][view]") {
  std::vector<GitOpsRow> rows = {
      kustomizationRow(
          kustomization("web", {{"lastAppliedRevision", "main@sha1:abc"},
                                {"conditions", ready("True", "Applied revision: main@sha1:abc")}})),
      kustomizationRow(kustomization("api", json::object(), true)),
  };
  auto sp = [](size_t n) { return std::string(n, ' '); };
  CHECK(renderGitOpsTable(rows, false) == "NAME" + sp(3) + "REVISION" + sp(8) + "SUSPENDED" + sp(3) +
                                              "READY" + sp(5) + "MESSAGE\n" +                          //
                                              "api" + sp(4) + sp(16) + "True" + sp(8) + "Unknown\n" +  //
                                              "web" + sp(4) + "main@sha1:abc" + sp(3) + "False" + sp(7) +
                                              "True" + sp(6) + "Applied revision: main@sha1:abc\n");
  CHECK(renderGitOpsTable(rows, true).rfind("NAMESPACE" + sp(3) + "NAME", 0) == 0);
  // -w's lines: the row alone, in the header's columns.
  CHECK(renderGitOpsTable({rows[1]}, false, false) == "api" + sp(4) + sp(11) + "True" + sp(8) + "Unknown\n");
}

TEST_CASE("GitOps reconcile: handled once the value is echoed with Ready settled at the generation",
          "[gitops-cli][view]") {
  struct Row {
    const char* behaviour;
    json status;
    int64_t generation;
    bool handled, isReady;
  };
  const std::vector<Row> rows = {
      {"not yet echoed",
       {{"lastHandledReconcileAt", "t0"}, {"observedGeneration", 1}, {"conditions", ready("True", "")}},
       1,
       false,
       true},
      {"echoed, Ready True",
       {{"lastHandledReconcileAt", "t1"}, {"observedGeneration", 1}, {"conditions", ready("True", "")}},
       1,
       true,
       true},
      {"echoed, Ready False",
       {{"lastHandledReconcileAt", "t1"},
        {"observedGeneration", 1},
        {"conditions", ready("False", "build failed")}},
       1,
       true,
       false},
      {"echoed, Ready Unknown",
       {{"lastHandledReconcileAt", "t1"}, {"observedGeneration", 1}, {"conditions", ready("Unknown", "")}},
       1,
       false,
       false},
      {"echoed for an older generation",
       {{"lastHandledReconcileAt", "t1"}, {"observedGeneration", 1}, {"conditions", ready("True", "")}},
       2,
       false,
       true},
  };
  for (const auto& r : rows) {
    INFO(r.behaviour);
    const ReconcileState s = reconcileState(kustomization("web", r.status, false, r.generation), "t1");
    CHECK(s.handled == r.handled);
    CHECK(s.ready == r.isReady);
  }
}

TEST_CASE("GitOps tree: inventory ids as Kind/ns/name, nested Kustomizations expanded",
          "[gitops-cli][view]") {
  const NestedInventory nested = [](const std::string& ns,
                                    const std::string& name) -> std::optional<std::vector<std::string>> {
    if (ns == "apps" && name == "web")
      return std::vector<std::string>{"apps_web_apps_Deployment", "apps_web__Service"};
    return std::nullopt;
  };
  CHECK(renderInventoryTree("flux", "root",
                            {"_apps__Namespace", "apps_web_sluice.dev_Kustomization",
                             "_system__controller_rbac.authorization.k8s.io_ClusterRole"},
                            nested) ==
        "Kustomization/flux/root\n"
        "├── Namespace/apps\n"
        "├── Kustomization/apps/web\n"
        "│   ├── Deployment/apps/web\n"
        "│   └── Service/apps/web\n"
        "└── ClusterRole/system:controller\n");
}

TEST_CASE("GitOps tree: a Kustomization that applies itself is listed but not expanded again",
          "[gitops-cli][view]") {
  // A bootstrap: `cluster` applies its own directory (itself included) and `apps`, which lists `cluster`.
  const NestedInventory nested = [](const std::string& ns,
                                    const std::string& name) -> std::optional<std::vector<std::string>> {
    if (ns == "flux" && name == "cluster")
      return std::vector<std::string>{"flux_cluster_sluice.dev_Kustomization",
                                      "flux_apps_sluice.dev_Kustomization"};
    if (ns == "flux" && name == "apps")
      return std::vector<std::string>{"flux_cluster_sluice.dev_Kustomization", "apps_web__Service"};
    return std::nullopt;
  };
  CHECK(renderInventoryTree("flux", "cluster",
                            {"flux_cluster_sluice.dev_Kustomization", "flux_apps_sluice.dev_Kustomization"},
                            nested) ==
        "Kustomization/flux/cluster\n"
        "├── Kustomization/flux/cluster\n"
        "└── Kustomization/flux/apps\n"
        "    ├── Kustomization/flux/cluster\n"
        "    └── Service/apps/web\n");
}

TEST_CASE("GitOps diff: changed fields only, volatile metadata left out, Secret values masked",
          "[gitops-cli][view]") {
  const json live = {{"apiVersion", "v1"},
                     {"kind", "ConfigMap"},
                     {"metadata",
                      {{"name", "c"},
                       {"resourceVersion", "7"},
                       {"annotations", {{"kubectl.kubernetes.io/last-applied-configuration", "{}"}}}}},
                     {"data", {{"color", "blue"}, {"size", "1"}}}};
  json merged = live;
  merged["metadata"]["resourceVersion"] = "8";
  merged["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{\"x\":1}";
  CHECK(objectDiff(live, merged).empty());
  merged["data"]["color"] = "green";
  merged["data"].erase("size");
  merged["data"]["shape"] = "round";
  CHECK(objectDiff(live, merged) ==
        "  data.color\n    - blue\n    + green\n"
        "  data.size\n    - 1\n"
        "  data.shape\n    + round\n");

  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "s"}}},
                 {"data", {{"user", "YWRtaW4="}, {"password", "b2xk"}}}};
  json changed = secret;
  changed["data"]["password"] = "bmV3";
  const std::string diff = objectDiff(secret, changed);
  CHECK(diff == "  data.password\n    - *** (before)\n    + *** (after)\n");
  CHECK(objectDiff(secret, secret).empty());
}

TEST_CASE("GitOps build YAML: strings YAML would read as other types are quoted", "[gitops-cli][view]") {
  const json cm = {{"apiVersion", "v1"},
                   {"kind", "ConfigMap"},
                   {"metadata", {{"name", "c"}}},
                   {"data", {{"port", "8080"}, {"on", "true"}, {"name", "web"}}}};
  // Keys in kubectl's order (sorted), documents separated by ---.
  const std::string one =
      "apiVersion: v1\ndata:\n  name: web\n  on: \"true\"\n  port: \"8080\"\nkind: ConfigMap\nmetadata:\n"
      "  name: c\n";
  CHECK(toYamlStream({cm, cm}) == one + "---\n" + one);
}
