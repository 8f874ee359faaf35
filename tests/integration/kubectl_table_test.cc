// `kubectl get` printing our server's Tables: the real server's columns for built-in kinds (and -o wide),
// a CRD's additionalPrinterColumns, several kinds at once, `get all`, --show-labels, -L, -A, chunked
// lists, and `get -w` lines after another client's change. Statuses are written by the test itself.
#include <catch2/catch.hpp>
#include <regex>

#include "base/time.h"
#include "tests/integration/kubectl_env.h"

using sluice::testing::ChildProcess;
using sluice::testing::KubectlEnv;
using sluice::testing::waitUntil;

namespace {

// kubectl's aligned output cut into cells: each column starts where its header starts (kubectl pads
// columns with spaces, so a row's cells line up with the header's names).
struct Printed {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

std::vector<std::string> lines(const std::string& out) {
  std::vector<std::string> v;
  std::size_t start = 0;
  while (start < out.size()) {
    auto nl = out.find('\n', start);
    std::string line = out.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!trim(line).empty()) v.push_back(line);
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return v;
}

// Parses one header line and the rows that follow it (until the next header-like line or the end).
Printed parseBlock(const std::vector<std::string>& ls, std::size_t from = 0) {
  Printed p;
  REQUIRE(ls.size() > from);
  const std::string& head = ls[from];
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < head.size(); ++i) {
    bool begins = head[i] != ' ' && (i == 0 || (i >= 2 && head[i - 1] == ' ' && head[i - 2] == ' '));
    if (begins) starts.push_back(i);
  }
  for (std::size_t c = 0; c < starts.size(); ++c) {
    std::size_t end = c + 1 < starts.size() ? starts[c + 1] : std::string::npos;
    p.header.push_back(trim(head.substr(starts[c], end == std::string::npos ? end : end - starts[c])));
  }
  for (std::size_t r = from + 1; r < ls.size(); ++r) {
    if (ls[r].rfind("NAME ", 0) == 0 || ls[r].rfind("NAMESPACE ", 0) == 0) break;
    std::vector<std::string> cells;
    for (std::size_t c = 0; c < starts.size(); ++c) {
      if (starts[c] >= ls[r].size()) {
        cells.emplace_back();
        continue;
      }
      std::size_t end = c + 1 < starts.size() ? starts[c + 1] - starts[c] : std::string::npos;
      cells.push_back(trim(ls[r].substr(starts[c], end)));
    }
    p.rows.push_back(cells);
  }
  return p;
}

Printed get(const KubectlEnv& env, const std::string& args) {
  return parseBlock(lines(env.ok("get " + args)));
}

using Cells = std::vector<std::string>;

bool isAge(const std::string& s) { return std::regex_match(s, std::regex("[0-9]+s")); }

std::string rfc3339Ago(int64_t seconds) {
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  return sluice::formatRfc3339(now - std::chrono::seconds(seconds));
}

void applyText(const KubectlEnv& env, const std::string& file, const std::string& yaml) {
  env.ok("apply -f " + env.writeFile(file, yaml));
}

// A namespaced example.com CRD served as v1 that keeps any field; `versionLines` adds to its version.
std::string crdYaml(const std::string& plural, const std::string& kind, const std::string& versionLines) {
  std::string singular = plural.substr(0, plural.size() - 1);
  return "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: " + plural +
         ".example.com}\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {plural: " + plural +
         ", singular: " + singular + ", kind: " + kind +
         "}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n" + versionLines +
         "    schema:\n      openAPIV3Schema:\n        type: object\n"
         "        x-kubernetes-preserve-unknown-fields: true\n";
}

}  // namespace

TEST_CASE("kubectl get prints the server's columns for built-in kinds", "[integration][kubectl][table]") {
  // The statuses are the test's own, written through the status subresource: no workload controller
  // rewrites them or adds pods.
  KubectlEnv env(std::chrono::milliseconds(2000), false);
  applyText(env, "web.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: "nginx:1.27"}
      - {name: log, image: busybox}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 10.96.0.20
  selector: {app: web}
  ports: [{name: http, port: 80, protocol: TCP}, {name: metrics, port: 9090, protocol: UDP}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec:
  containers: [{name: nginx, image: "nginx:1.27"}]
---
apiVersion: v1
kind: Pod
metadata: {name: held, finalizers: [example.com/hold]}
spec:
  containers: [{name: app, image: busybox}]
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
type: kubernetes.io/basic-auth
stringData: {username: u, password: p}
)");
  env.createConfigMap("settings", {{"a", "1"}, {"b", "2"}});
  env.patchStatus("deployment web",
                  {{"replicas", 3}, {"readyReplicas", 2}, {"updatedReplicas", 3}, {"availableReplicas", 2}});
  env.patchStatus(
      "pod web-1",
      {{"phase", "Running"},
       {"podIP", "10.244.0.5"},
       {"podIPs", {{{"ip", "10.244.0.5"}}}},
       {"containerStatuses",
        {{{"name", "nginx"},
          {"image", "nginx:1.27"},
          {"imageID", ""},
          {"ready", false},
          {"restartCount", 3},
          {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}},
          {"lastState", {{"terminated", {{"exitCode", 1}, {"finishedAt", rfc3339Ago(150)}}}}}}}}});
  env.patchStatus("pod held", {{"phase", "Running"},
                               {"containerStatuses",
                                {{{"name", "app"},
                                  {"image", "busybox"},
                                  {"imageID", ""},
                                  {"ready", true},
                                  {"restartCount", 0},
                                  {"state", {{"running", {{"startedAt", rfc3339Ago(5)}}}}}}}}});
  env.ok("delete pod held --wait=false");

  auto deploy = get(env, "deployment web");
  CHECK(deploy.header == Cells{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"});
  REQUIRE(deploy.rows.size() == 1);
  CHECK(Cells(deploy.rows[0].begin(), deploy.rows[0].end() - 1) == Cells{"web", "2/3", "3", "2"});
  CHECK(isAge(deploy.rows[0][4]));
  auto wide = get(env, "deployments -o wide");
  CHECK(wide.header ==
        Cells{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"});
  REQUIRE(wide.rows.size() == 1);
  CHECK(wide.rows[0][5] == "nginx,log");
  CHECK(wide.rows[0][6] == "nginx:1.27,busybox");
  CHECK(wide.rows[0][7] == "app=web");

  auto pods = get(env, "pods");
  CHECK(pods.header == Cells{"NAME", "READY", "STATUS", "RESTARTS", "AGE"});
  REQUIRE(pods.rows.size() == 2);
  CHECK(Cells(pods.rows[0].begin(), pods.rows[0].begin() + 3) == Cells{"held", "1/1", "Terminating"});
  CHECK(Cells(pods.rows[1].begin(), pods.rows[1].begin() + 3) == Cells{"web-1", "0/1", "CrashLoopBackOff"});
  CHECK(std::regex_match(pods.rows[1][3], std::regex(R"(3 \([2-9]m[0-9]*s? ago\))")));
  auto podsWide = get(env, "pod web-1 -o wide");
  CHECK(podsWide.header == Cells{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE",
                                 "READINESS GATES"});
  REQUIRE(podsWide.rows.size() == 1);
  CHECK(Cells(podsWide.rows[0].begin() + 5, podsWide.rows[0].end()) ==
        Cells{"10.244.0.5", "<none>", "<none>", "<none>"});

  auto svc = get(env, "service web -o wide");
  CHECK(svc.header == Cells{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"});
  REQUIRE(svc.rows.size() == 1);
  CHECK(svc.rows[0][0] == "web");
  CHECK(Cells(svc.rows[0].begin() + 1, svc.rows[0].begin() + 5) ==
        Cells{"ClusterIP", "10.96.0.20", "<none>", "80/TCP,9090/UDP"});
  CHECK(svc.rows[0][6] == "app=web");

  auto cm = get(env, "configmap settings");
  CHECK(cm.header == Cells{"NAME", "DATA", "AGE"});
  REQUIRE(cm.rows.size() == 1);
  CHECK(Cells(cm.rows[0].begin(), cm.rows[0].begin() + 2) == Cells{"settings", "2"});
  auto secret = get(env, "secret creds");
  CHECK(secret.header == Cells{"NAME", "TYPE", "DATA", "AGE"});
  REQUIRE(secret.rows.size() == 1);
  CHECK(Cells(secret.rows[0].begin(), secret.rows[0].begin() + 3) ==
        Cells{"creds", "kubernetes.io/basic-auth", "2"});

  auto ns = get(env, "namespace default");
  CHECK(ns.header == Cells{"NAME", "STATUS", "AGE"});
  REQUIRE(ns.rows.size() == 1);
  CHECK(Cells(ns.rows[0].begin(), ns.rows[0].begin() + 2) == Cells{"default", "Active"});

  // Several kinds: one block each, names qualified by kind.
  auto ls = lines(env.ok("get deploy,cm"));
  auto first = parseBlock(ls);
  CHECK(first.header == Cells{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"});
  REQUIRE(first.rows.size() == 1);
  CHECK(first.rows[0][0] == "deployment.apps/web");
  auto second = parseBlock(ls, 1 + first.rows.size());
  CHECK(second.header == Cells{"NAME", "DATA", "AGE"});
  std::vector<std::string> names;
  for (const auto& r : second.rows) names.push_back(r[0]);
  CHECK(std::find(names.begin(), names.end(), "configmap/settings") != names.end());

  // `get all`: the kinds in the category, each with its own columns.
  auto all = env.ok("get all");
  CHECK_THAT(all, Catch::Contains("pod/web-1"));
  CHECK_THAT(all, Catch::Contains("service/web"));
  CHECK_THAT(all, Catch::Contains("deployment.apps/web"));
  CHECK_THAT(all, Catch::Contains("CrashLoopBackOff"));
  CHECK_THAT(all, Catch::Contains("PORT(S)"));

  // Client-side columns read the row's object metadata.
  auto labelled = get(env, "deployments --show-labels");
  CHECK(labelled.header == Cells{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "LABELS"});
  REQUIRE(labelled.rows.size() == 1);
  CHECK(labelled.rows[0][5] == "app=web");
  auto byLabel = get(env, "pods -L app");
  CHECK(byLabel.header == Cells{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "APP"});
  REQUIRE(byLabel.rows.size() == 2);
  CHECK(byLabel.rows[0][5] == "");
  CHECK(byLabel.rows[1][5] == "web");
  auto everywhere = get(env, "configmaps -A");
  CHECK(everywhere.header == Cells{"NAMESPACE", "NAME", "DATA", "AGE"});
  bool found = false;
  for (const auto& r : everywhere.rows)
    found = found || (r[0] == "default" && r[1] == "settings" && r[2] == "2");
  CHECK(found);

  // A chunked list is one table, with one header.
  env.createConfigMap("more-1", {{"x", "1"}});
  env.createConfigMap("more-2", {});
  auto chunked = get(env, "configmaps --chunk-size=1");
  CHECK(chunked.header == Cells{"NAME", "DATA", "AGE"});
  names.clear();
  for (const auto& r : chunked.rows) names.push_back(r[0] + ":" + r[1]);
  CHECK(names == Cells{"more-1:1", "more-2:0", "settings:2"});
}

TEST_CASE("a CRD's additionalPrinterColumns, and NAME AGE without them", "[integration][kubectl][table]") {
  KubectlEnv env;
  applyText(env, "crds.yaml", crdYaml("widgets", "Widget", R"(    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    - {name: Started, type: date, jsonPath: .status.startedAt}
    - {name: Owner, type: string, jsonPath: .spec.owner, priority: 1}
)") + "---\n" + crdYaml("gadgets", "Gadget", ""));
  env.ok("wait --for=condition=Established crd/widgets.example.com crd/gadgets.example.com --timeout=20s");
  applyText(env, "objects.yaml", R"(apiVersion: example.com/v1
kind: Widget
metadata: {name: w1}
spec: {replicas: 3, owner: team-a}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w2}
spec: {}
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: g1}
)");
  env.patchStatus(
      "widget w1",
      {{"startedAt", rfc3339Ago(3 * 3600 + 20)},
       {"conditions", {{{"type", "Synced"}, {"status", "True"}}, {{"type", "Ready"}, {"status", "False"}}}}});

  auto widgets = get(env, "widgets");
  CHECK(widgets.header == Cells{"NAME", "REPLICAS", "READY", "STARTED"});
  REQUIRE(widgets.rows.size() == 2);
  CHECK(widgets.rows[0] == Cells{"w1", "3", "False", "3h"});
  CHECK(widgets.rows[1] == Cells{"w2", "", "", ""});  // missing values print as empty cells
  auto wide = get(env, "widgets -o wide");
  CHECK(wide.header == Cells{"NAME", "REPLICAS", "READY", "STARTED", "OWNER"});
  REQUIRE(wide.rows.size() == 2);
  CHECK(wide.rows[0][4] == "team-a");

  auto gadgets = get(env, "gadgets");
  CHECK(gadgets.header == Cells{"NAME", "AGE"});
  REQUIRE(gadgets.rows.size() == 1);
  CHECK(gadgets.rows[0][0] == "g1");
  CHECK(isAge(gadgets.rows[0][1]));

  auto crds = get(env, "crds");
  CHECK(crds.header == Cells{"NAME", "CREATED AT"});
  REQUIRE(crds.rows.size() == 2);
  CHECK(crds.rows[0][0] == "gadgets.example.com");
  CHECK(std::regex_match(crds.rows[0][1], std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
}

TEST_CASE("kubectl get -w prints a row for another client's changes", "[integration][kubectl][table]") {
  KubectlEnv env;
  env.createConfigMap("watched", {{"v", "1"}});
  ChildProcess watcher({"/bin/sh", "-c", env.envPrefix() + " exec kubectl get configmaps -w"},
                       env.dir() / "watch.log");
  auto rowsOf = [&] {
    auto ls = lines(watcher.log());
    return ls.empty() ? Printed{} : parseBlock(ls);
  };
  auto hasRow = [&](const std::string& name, const std::string& data, std::size_t count) {
    std::size_t n = 0;
    for (const auto& r : rowsOf().rows) n += r.size() >= 2 && r[0] == name && r[1] == data ? 1 : 0;
    return n >= count;
  };
  REQUIRE(waitUntil([&] { return hasRow("watched", "1", 1); }, std::chrono::seconds(20)));
  env.ok("patch configmap watched --type merge -p '{\"data\":{\"w\":\"2\"}}'");
  env.createConfigMap("later", {{"a", "1"}, {"b", "2"}, {"c", "3"}});
  bool seen = waitUntil([&] { return hasRow("watched", "2", 1) && hasRow("later", "3", 1); },
                        std::chrono::seconds(20));
  INFO(watcher.log());
  CHECK(seen);
  auto printed = rowsOf();
  CHECK(printed.header == Cells{"NAME", "DATA", "AGE"});
  // One header, then the list's rows and one row per change: nothing printed twice.
  std::vector<std::string> order;
  for (const auto& r : printed.rows) order.push_back(r[0] + ":" + r[1]);
  CHECK(order == Cells{"watched:1", "watched:2", "later:3"});
  for (const auto& r : printed.rows) CHECK(isAge(r[2]));
  CHECK(watcher.running());
}
