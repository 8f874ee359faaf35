// The embedded server standing in for kube-apiserver's RBAC: requests that impersonate a user
// (Impersonate-User / Impersonate-Group) are allowed or denied by the stored Roles, ClusterRoles and
// their bindings, with the real server's 403 wording. One row per rule shape, through Handler::handle.
#include <catch2/catch.hpp>

#include "kube/apiserver/handler.h"
#include "kube/apiserver/rbac.h"
#include "kube/apiserver/registry.h"
#include "tests/support/process.h"

using nlohmann::json;
using namespace sluice::apiserver;
using sluice::testing::TempDir;

namespace {

constexpr const char* kRbacTestSa = "system:serviceaccount:team-a:deployer";

struct RbacFixture {
  TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<Registry> reg;
  std::unique_ptr<Handler> handler;
  RbacFixture() {
    auto s = Store::open(dir / "state.db");
    REQUIRE(s.ok());
    store = std::move(s).value();
    auto r = Registry::open(*store);
    REQUIRE(r.ok());
    reg = std::move(r).value();
    handler = std::make_unique<Handler>(*reg, "t0ken", "127.0.0.1:6443");
  }
  Handled as(const std::string& user, const std::vector<std::string>& groups, const std::string& method,
             const std::string& target, const std::string& body = "") {
    HttpRequest req;
    req.method = method;
    req.target = target;
    req.contentType = body.empty() ? "" : "application/json";
    if (method == "PATCH") req.contentType = "application/merge-patch+json";
    req.authorization = "Bearer t0ken";
    req.body = body;
    req.impersonateUser = user;
    req.impersonateGroups = groups;
    return handler->handle(req);
  }
  // As the admin token (no impersonation); the request must succeed.
  void admin(const std::string& method, const std::string& target, const std::string& body) {
    auto h = as("", {}, method, target, body);
    INFO(method << " " << target << ": " << h.response.body);
    REQUIRE(h.response.status < 300);
  }
};

const std::string kRbacApi = "/apis/rbac.authorization.k8s.io/v1";

// Two tenants' namespaces, a Deployment and two ConfigMaps in each, and the RBAC objects the rows use.
void rbacSeed(RbacFixture& f) {
  for (const char* ns : {"team-a", "team-b"}) {
    f.admin("POST", "/api/v1/namespaces", R"({"metadata":{"name":")" + std::string(ns) + R"("}})");
    f.admin("POST", "/apis/apps/v1/namespaces/" + std::string(ns) + "/deployments",
            R"({"metadata":{"name":"web"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
               "template":{"metadata":{"labels":{"app":"web"}},
               "spec":{"containers":[{"name":"c","image":"nginx"}]}}}})");
    for (const char* cm : {"settings", "other"})
      f.admin("POST", "/api/v1/namespaces/" + std::string(ns) + "/configmaps",
              R"({"metadata":{"name":")" + std::string(cm) + R"("},"data":{"k":"v"}})");
  }
  auto role = [&](const std::string& ns, const std::string& name, const std::string& rules) {
    f.admin("POST", kRbacApi + "/namespaces/" + ns + "/roles",
            R"({"metadata":{"name":")" + name + R"("},"rules":)" + rules + "}");
  };
  auto clusterRole = [&](const std::string& name, const std::string& rules) {
    f.admin("POST", kRbacApi + "/clusterroles",
            R"({"metadata":{"name":")" + name + R"("},"rules":)" + rules + "}");
  };
  auto binding = [&](const std::string& ns, const std::string& name, const std::string& roleKind,
                     const std::string& roleName, const std::string& subjects) {
    const std::string body = R"({"metadata":{"name":")" + name +
                             R"("},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":")" + roleKind +
                             R"(","name":")" + roleName + R"("},"subjects":)" + subjects + "}";
    if (ns.empty())
      f.admin("POST", kRbacApi + "/clusterrolebindings", body);
    else
      f.admin("POST", kRbacApi + "/namespaces/" + ns + "/rolebindings", body);
  };
  // The tenant's deployer: a few verbs on Deployments, in team-a only (a subject without a namespace is
  // the binding's namespace's).
  role(
      "team-a", "apps-writer",
      R"([{"apiGroups":["apps"],"resources":["deployments"],"verbs":["get","list","create","patch","update"]}])");
  binding("team-a", "deployer", "Role", "apps-writer", R"([{"kind":"ServiceAccount","name":"deployer"}])");
  // A subresource by name.
  role("team-a", "status-reader",
       R"([{"apiGroups":["apps"],"resources":["deployments/status"],"verbs":["get"]}])");
  binding("team-a", "alice-status", "Role", "status-reader",
          R"([{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"alice"}])");
  // resourceNames: one ConfigMap, to a group.
  role(
      "team-a", "one-config",
      R"([{"apiGroups":[""],"resources":["configmaps"],"resourceNames":["settings"],"verbs":["get","update"]}])");
  binding("team-a", "auditors", "Role", "one-config",
          R"([{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"auditors"}])");
  // A ClusterRole bound by a RoleBinding: in that namespace only; "*/scale" and apiGroups "*".
  clusterRole("scaler", R"([{"apiGroups":["*"],"resources":["*/scale"],"verbs":["get"]}])");
  binding(
      "team-a", "team-a-scalers", "ClusterRole", "scaler",
      R"([{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:serviceaccounts:team-a"}])");
  // A ClusterRoleBinding: everywhere, cluster-scoped resources included.
  clusterRole("namespace-reader",
              R"([{"apiGroups":[""],"resources":["namespaces"],"verbs":["get","list"]}])");
  binding("", "carol-namespaces", "ClusterRole", "namespace-reader",
          R"([{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"carol"}])");
  clusterRole("everything", R"([{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}])");
  binding("", "admins", "ClusterRole", "everything",
          R"([{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"admins"}])");
  // Every authenticated user may get (not list) CRDs.
  clusterRole(
      "crd-getter",
      R"([{"apiGroups":["apiextensions.k8s.io"],"resources":["customresourcedefinitions"],"verbs":["get"]}])");
  binding("", "authenticated-crds", "ClusterRole", "crd-getter",
          R"([{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"system:authenticated"}])");
  // A service account of another namespace, granted in team-b by its namespace.
  role("team-b", "config-reader", R"([{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}])");
  binding("team-b", "team-a-reads", "Role", "config-reader",
          R"([{"kind":"ServiceAccount","name":"deployer","namespace":"team-a"}])");
  // An aggregated ClusterRole: its own rules are empty, the ones it selects by label grant.
  f.admin("POST", kRbacApi + "/clusterroles",
          R"({"metadata":{"name":"monitoring"},"aggregationRule":{"clusterRoleSelectors":[
               {"matchLabels":{"example.com/aggregate-to-monitoring":"true"}}]},"rules":[]})");
  f.admin(
      "POST", kRbacApi + "/clusterroles",
      R"({"metadata":{"name":"monitoring-endpoints","labels":{"example.com/aggregate-to-monitoring":"true"}},
              "rules":[{"apiGroups":[""],"resources":["services"],"verbs":["list"]}]})");
  binding("", "grace-monitoring", "ClusterRole", "monitoring",
          R"([{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"grace"}])");
  // A binding to a Role that does not exist.
  binding("team-a", "dangling", "Role", "missing",
          R"([{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"dave"}])");
}

struct RbacRow {
  const char* behaviour;
  const char* user;
  std::vector<std::string> groups;
  const char* method;
  std::string target;
  std::string body;
  int status;
  std::string message;  // for a 403: the whole message; else empty
};

std::string rbacDenied(const std::string& subject, const std::string& user, const std::string& rest) {
  return subject + " is forbidden: User \"" + user + "\" cannot " + rest;
}

}  // namespace

TEST_CASE("rbac: the embedded server stands in for kube-apiserver's RBAC on impersonated requests",
          "[apiserver][rbac]") {
  RbacFixture f;
  rbacSeed(f);
  const std::string depA = "/apis/apps/v1/namespaces/team-a/deployments";
  const std::string depB = "/apis/apps/v1/namespaces/team-b/deployments";
  const std::string cmA = "/api/v1/namespaces/team-a/configmaps";
  const std::string cmB = "/api/v1/namespaces/team-b/configmaps";
  const std::string sa = kRbacTestSa;
  const std::string patch = R"({"metadata":{"labels":{"touched":"yes"}}})";
  const std::string newDeployment =
      R"({"metadata":{"name":"api"},"spec":{"selector":{"matchLabels":{"app":"api"}},
      "template":{"metadata":{"labels":{"app":"api"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}})";
  const std::vector<RbacRow> rows = {
      {"a Role's verb on its resource in its namespace",
       sa.c_str(),
       {},
       "PATCH",
       depA + "/web",
       patch,
       200,
       ""},
      {"the same verb in another namespace",
       sa.c_str(),
       {},
       "PATCH",
       depB + "/web",
       patch,
       403,
       rbacDenied("deployments.apps \"web\"", sa,
                  "patch resource \"deployments\" in API group \"apps\" in the namespace \"team-b\"")},
      {"create is allowed where the Role is bound", sa.c_str(), {}, "POST", depA, newDeployment, 201, ""},
      {"create names no object in the denial",
       sa.c_str(),
       {},
       "POST",
       depB,
       newDeployment,
       403,
       rbacDenied("deployments.apps", sa,
                  "create resource \"deployments\" in API group \"apps\" in the namespace \"team-b\"")},
      {"a list of every namespace is at the cluster scope",
       sa.c_str(),
       {},
       "GET",
       "/apis/apps/v1/deployments",
       "",
       403,
       rbacDenied("deployments.apps", sa,
                  "list resource \"deployments\" in API group \"apps\" at the cluster scope")},
      {"a verb the rule does not hold (watch)",
       sa.c_str(),
       {},
       "GET",
       depA + "?watch=true",
       "",
       403,
       rbacDenied("deployments.apps", sa,
                  "watch resource \"deployments\" in API group \"apps\" in the namespace \"team-a\"")},
      {"delete is not granted",
       sa.c_str(),
       {},
       "DELETE",
       depA + "/web",
       "",
       403,
       rbacDenied("deployments.apps \"web\"", sa,
                  "delete resource \"deployments\" in API group \"apps\" in the namespace \"team-a\"")},
      {"a group the service account is in (system:serviceaccounts:team-a), */scale",
       sa.c_str(),
       {},
       "GET",
       depA + "/web/scale",
       "",
       200,
       ""},
      {"a ClusterRole bound by a RoleBinding grants nothing outside its namespace",
       sa.c_str(),
       {},
       "GET",
       depB + "/web/scale",
       "",
       403,
       rbacDenied("deployments.apps \"web\"", sa,
                  "get resource \"deployments/scale\" in API group \"apps\" in the namespace \"team-b\"")},
      {"groups asked for replace the service account's own",
       sa.c_str(),
       {"auditors"},
       "GET",
       depA + "/web/scale",
       "",
       403,
       rbacDenied("deployments.apps \"web\"", sa,
                  "get resource \"deployments/scale\" in API group \"apps\" in the namespace \"team-a\"")},
      {"the core group is not the apps group",
       sa.c_str(),
       {},
       "GET",
       cmA + "/settings",
       "",
       403,
       rbacDenied("configmaps \"settings\"", sa,
                  "get resource \"configmaps\" in API group \"\" in the namespace \"team-a\"")},
      {"a ServiceAccount subject of another namespace, bound in team-b",
       sa.c_str(),
       {},
       "GET",
       cmB + "/settings",
       "",
       200,
       ""},
      {"another namespace's service account of the same name",
       "system:serviceaccount:team-b:deployer",
       {},
       "PATCH",
       depA + "/web",
       patch,
       403,
       rbacDenied("deployments.apps \"web\"", "system:serviceaccount:team-b:deployer",
                  "patch resource \"deployments\" in API group \"apps\" in the namespace \"team-a\"")},
      {"a subresource rule grants that subresource", "alice", {}, "GET", depA + "/web/status", "", 200, ""},
      {"a subresource rule does not grant the object",
       "alice",
       {},
       "GET",
       depA + "/web",
       "",
       403,
       rbacDenied("deployments.apps \"web\"", "alice",
                  "get resource \"deployments\" in API group \"apps\" in the namespace \"team-a\"")},
      {"resourceNames: the named object, through a group",
       "erin",
       {"auditors"},
       "GET",
       cmA + "/settings",
       "",
       200,
       ""},
      {"resourceNames: another object",
       "erin",
       {"auditors"},
       "GET",
       cmA + "/other",
       "",
       403,
       rbacDenied("configmaps \"other\"", "erin",
                  "get resource \"configmaps\" in API group \"\" in the namespace \"team-a\"")},
      {"resourceNames never grant a list",
       "erin",
       {"auditors"},
       "GET",
       cmA,
       "",
       403,
       rbacDenied("configmaps", "erin",
                  "list resource \"configmaps\" in API group \"\" in the namespace \"team-a\"")},
      {"a user without the group",
       "erin",
       {},
       "GET",
       cmA + "/settings",
       "",
       403,
       rbacDenied("configmaps \"settings\"", "erin",
                  "get resource \"configmaps\" in API group \"\" in the namespace \"team-a\"")},
      {"a ClusterRoleBinding: a namespace by name",
       "carol",
       {},
       "GET",
       "/api/v1/namespaces/team-b",
       "",
       200,
       ""},
      {"a ClusterRoleBinding: the namespaces list", "carol", {}, "GET", "/api/v1/namespaces", "", 200, ""},
      {"a cluster-scoped create",
       "carol",
       {},
       "POST",
       "/api/v1/namespaces",
       R"({"metadata":{"name":"team-c"}})",
       403,
       rbacDenied("namespaces", "carol",
                  "create resource \"namespaces\" in API group \"\" at the cluster scope")},
      {"a namespace's own request is in that namespace",
       sa.c_str(),
       {},
       "GET",
       "/api/v1/namespaces/team-a",
       "",
       403,
       rbacDenied("namespaces \"team-a\"", sa,
                  "get resource \"namespaces\" in API group \"\" in the namespace \"team-a\"")},
      {"verbs, groups and resources \"*\"", "frank", {"admins"}, "DELETE", cmB + "/other", "", 200, ""},
      {"system:authenticated is every impersonated user's",
       "nobody",
       {},
       "GET",
       "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/absent.example.com",
       "",
       404,
       ""},
      {"... with its verbs only",
       "nobody",
       {},
       "GET",
       "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
       "",
       403,
       rbacDenied(
           "customresourcedefinitions.apiextensions.k8s.io", "nobody",
           "list resource \"customresourcedefinitions\" in API group \"apiextensions.k8s.io\" at the cluster "
           "scope")},
      {"a denial is 403 even for an object that does not exist",
       sa.c_str(),
       {},
       "GET",
       depB + "/absent",
       "",
       403,
       rbacDenied("deployments.apps \"absent\"", sa,
                  "get resource \"deployments\" in API group \"apps\" in the namespace \"team-b\"")},
      {"a binding to a missing Role says so",
       "dave",
       {},
       "GET",
       cmA + "/settings",
       "",
       403,
       rbacDenied("configmaps \"settings\"", "dave",
                  "get resource \"configmaps\" in API group \"\" in the namespace \"team-a\": RBAC: "
                  "role.rbac.authorization.k8s.io \"missing\" not found")},
      {"an aggregated ClusterRole grants what it selects",
       "grace",
       {},
       "GET",
       "/api/v1/namespaces/team-b/services",
       "",
       200,
       ""},
      {"... and nothing else",
       "grace",
       {},
       "GET",
       "/api/v1/namespaces/team-b/pods",
       "",
       403,
       rbacDenied("pods", "grace", "list resource \"pods\" in API group \"\" in the namespace \"team-b\"")},
      {"system:masters may do anything", "root", {"system:masters"}, "DELETE", cmB + "/other", "", 404, ""},
      {"discovery is open to every user", "nobody", {}, "GET", "/apis/apps/v1", "", 200, ""},
      {"no impersonation: the token's full access", "", {}, "DELETE", cmB + "/settings", "", 200, ""},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour << ": " << row.method << " " << row.target << " as " << row.user);
    Handled h = f.as(row.user, row.groups, row.method, row.target, row.body);
    INFO(h.response.body);
    CHECK(h.response.status == row.status);
    if (row.status != 403) continue;
    auto body = json::parse(h.response.body, nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body["kind"] == "Status");
    CHECK(body["status"] == "Failure");
    CHECK(body["reason"] == "Forbidden");
    CHECK(body["code"] == 403);
    CHECK(body["message"] == row.message);
  }
  // What the denied writes did not do.
  auto b = f.as("", {}, "GET", depB + "/web");
  CHECK(json::parse(b.response.body)["metadata"].value("labels", json::object()).count("touched") == 0);
  CHECK(f.as("", {}, "GET", depB + "/api").response.status == 404);
  CHECK(f.as("", {}, "GET", "/api/v1/namespaces/team-c").response.status == 404);
  CHECK(f.as("", {}, "GET", depA + "/web").response.status == 200);
}

TEST_CASE("rbac: a 403 carries the real server's Status details", "[apiserver][rbac]") {
  RbacFixture f;
  rbacSeed(f);
  Handled h = f.as(kRbacTestSa, {}, "PATCH", "/apis/apps/v1/namespaces/team-b/deployments/web",
                   R"({"metadata":{"labels":{"a":"b"}}})");
  REQUIRE(h.response.status == 403);
  auto body = json::parse(h.response.body);
  CHECK(body["details"] == json({{"name", "web"}, {"group", "apps"}, {"kind", "deployments"}}));
  CHECK(body["apiVersion"] == "v1");
}

TEST_CASE("rbac: Impersonate-Group without Impersonate-User is a bad request", "[apiserver][rbac]") {
  RbacFixture f;
  Handled h = f.as("", {"admins"}, "GET", "/api/v1/namespaces/default/configmaps");
  CHECK(h.response.status == 400);
  CHECK(json::parse(h.response.body)["reason"] == "BadRequest");
}

TEST_CASE("rbac: an impersonated service account's groups are kube-apiserver's", "[apiserver][rbac]") {
  CHECK(impersonatedUser(kRbacTestSa, {}).groups == std::vector<std::string>{"system:serviceaccounts",
                                                                             "system:serviceaccounts:team-a",
                                                                             "system:authenticated"});
  CHECK(impersonatedUser("alice", {}).groups == std::vector<std::string>{"system:authenticated"});
  CHECK(impersonatedUser("alice", {"devs"}).groups ==
        std::vector<std::string>{"devs", "system:authenticated"});
  CHECK(impersonatedUser(kRbacTestSa, {"devs"}).groups ==
        std::vector<std::string>{"devs", "system:authenticated"});
  CHECK(impersonatedUser("alice", {"system:authenticated"}).groups ==
        std::vector<std::string>{"system:authenticated"});
  CHECK(impersonatedUser("alice", {"system:unauthenticated"}).groups ==
        std::vector<std::string>{"system:unauthenticated"});
}
