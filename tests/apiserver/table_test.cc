// The Table convertor: Accept negotiation, ages, the built-in kinds' columns and cells, CRD printer
// columns, the list metadata and row objects, and Tables in a watch stream.
#include <catch2/catch.hpp>

#include "kube/apiserver/registry.h"
#include "kube/apiserver/table.h"

using nlohmann::json;
using namespace sluice;
using namespace sluice::apiserver;

namespace {

const Time kNow = timeFromUnix(1790812800);  // 2026-10-01T00:00:00Z

std::string ago(int64_t seconds) { return formatRfc3339(kNow - Duration(seconds)); }

ResourceType builtinType(const std::string& kind, const std::string& apiVersion = "v1") {
  ResourceType t;
  auto slash = apiVersion.find('/');
  t.group = slash == std::string::npos ? "" : apiVersion.substr(0, slash);
  t.version = slash == std::string::npos ? apiVersion : apiVersion.substr(slash + 1);
  t.kind = kind;
  return t;
}

ResourceType customType(json printerColumns) {
  ResourceType t;
  t.group = "example.com";
  t.version = "v1";
  t.kind = "Widget";
  t.custom = true;
  t.printerColumns = std::move(printerColumns);
  return t;
}

// The header a wide `kubectl get` prints: every column name, upper-cased by kubectl.
std::vector<std::string> columnNames(const json& table) {
  std::vector<std::string> out;
  for (const auto& c : table["columnDefinitions"]) out.push_back(c["name"]);
  return out;
}

json metadata(const std::string& name, int64_t ageSeconds) {
  return {{"name", name},
          {"namespace", "default"},
          {"creationTimestamp", ago(ageSeconds)},
          {"resourceVersion", "42"},
          {"uid", "u-1"},
          {"labels", {{"app", "web"}}}};
}

// Parses JSON text in which AGO:n stands for the timestamp n seconds before kNow.
json withTimes(std::string text) {
  for (auto at = text.find("AGO:"); at != std::string::npos; at = text.find("AGO:")) {
    auto end = text.find_first_not_of("0123456789", at + 4);
    text.replace(at, end - at, ago(std::stoll(text.substr(at + 4, end - at - 4))));
  }
  return json::parse(text);
}

json cellsOf(const ResourceType& type, const json& object) {
  return buildTable(type, object, TableOptions{}, kNow)["rows"][0]["cells"];
}

}  // namespace

TEST_CASE("ages render as the real server's HumanDuration", "[apiserver][table]") {
  struct Row {
    int64_t seconds;
    const char* text;
  };
  const Row rows[] = {
      {-5, "<invalid>"},
      {-1, "0s"},
      {0, "0s"},
      {5, "5s"},
      {119, "119s"},
      {120, "2m"},
      {182, "3m2s"},
      {599, "9m59s"},
      {600, "10m"},
      {179 * 60 + 59, "179m"},
      {3 * 3600, "3h"},
      {5 * 3600 + 10 * 60 + 7, "5h10m"},
      {8 * 3600, "8h"},
      {47 * 3600, "47h"},
      {48 * 3600, "2d"},
      {2 * 86400 + 3 * 3600, "2d3h"},
      {8 * 86400, "8d"},
      {400 * 86400, "400d"},
      {730 * 86400, "2y"},
      {(3 * 365 + 20) * 86400, "3y20d"},
      {9 * 365 * 86400, "9y"},
  };
  for (const Row& row : rows) {
    INFO(row.seconds);
    CHECK(humanDuration(Duration(row.seconds)) == row.text);
  }
}

TEST_CASE("a Table is served when the Accept header puts it before plain JSON", "[apiserver][table]") {
  struct Row {
    const char* accept;
    std::optional<std::string> version;
  };
  const Row rows[] = {
      {"application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
       "application/json",
       "meta.k8s.io/v1"},
      {"application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json", "meta.k8s.io/v1beta1"},
      {"application/json; as=Table; g=meta.k8s.io; v=v1", "meta.k8s.io/v1"},
      {"application/json;as=Table;v=v2;g=meta.k8s.io,application/json", std::nullopt},
      {"application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json", std::nullopt},
      {"application/json, application/json;as=Table;v=v1;g=meta.k8s.io", std::nullopt},
      {"application/json", std::nullopt},
      {"*/*", std::nullopt},
      {"", std::nullopt},
      {"application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json", std::nullopt},
  };
  for (const Row& row : rows) {
    INFO(row.accept);
    CHECK(acceptedTableVersion(row.accept) == row.version);
  }
  CHECK(parseIncludeObject("").value() == IncludeObject::kMetadata);
  CHECK(parseIncludeObject("None").value() == IncludeObject::kNone);
  CHECK(parseIncludeObject("Object").value() == IncludeObject::kObject);
  auto bad = parseIncludeObject("Everything");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == 400);
  CHECK(bad.error().message == "unrecognized includeObject value: \"Everything\"");
}

TEST_CASE("pod rows: READY, STATUS and RESTARTS as kubectl shows them", "[apiserver][table]") {
  const ResourceType pods = builtinType("Pod");
  const json columns =
      buildTable(pods, {{"metadata", metadata("p", 1)}}, TableOptions{}, kNow)["columnDefinitions"];
  CHECK(columnNames({{"columnDefinitions", columns}}) ==
        std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node",
                                 "Readiness Gates"});
  std::vector<int> priorities;
  for (const auto& c : columns) priorities.push_back(c["priority"]);
  CHECK(priorities == std::vector<int>{0, 0, 0, 0, 0, 1, 1, 1, 1});
  CHECK(columns[0]["format"] == "name");

  // Objects as JSON text; AGO:n stands for the timestamp n seconds before kNow.
  struct Row {
    const char* name;
    const char* pod;    // metadata comes from metadata("p", 60) merged with the pod's own
    const char* cells;  // NAME READY STATUS RESTARTS AGE IP NODE NOMINATED-NODE READINESS-GATES
  };
  const Row rows[] = {
      {"pending, nothing reported",
       R"({"spec":{"containers":[{"name":"app"},{"name":"proxy"}]},"status":{"phase":"Pending"}})",
       R"(["p","0/2","Pending","0","60s","<none>","<none>","<none>","<none>"])"},
      {"running, one of two ready",
       R"({"spec":{"containers":[{"name":"app"},{"name":"proxy"}]},
           "status":{"phase":"Running","podIP":"10.0.0.7","podIPs":[{"ip":"10.0.0.7"}],"containerStatuses":[
             {"name":"app","ready":true,"restartCount":0,"state":{"running":{"startedAt":"AGO:50"}}},
             {"name":"proxy","ready":false,"restartCount":0,"state":{"running":{"startedAt":"AGO:50"}}}]}})",
       R"(["p","1/2","Running","0","60s","10.0.0.7","<none>","<none>","<none>"])"},
      {"crash looping, restarts with the age of the last",
       R"({"spec":{"containers":[{"name":"app"}],"nodeName":"node-1"},
           "status":{"phase":"Running","containerStatuses":[
             {"name":"app","ready":false,"restartCount":3,"state":{"waiting":{"reason":"CrashLoopBackOff"}},
              "lastState":{"terminated":{"exitCode":1,"finishedAt":"AGO:130"}}}]}})",
       R"~(["p","0/1","CrashLoopBackOff","3 (2m10s ago)","60s","<none>","node-1","<none>","<none>"])~"},
      {"terminated without a reason shows the exit code",
       R"({"spec":{"containers":[{"name":"app"}]},
           "status":{"phase":"Running","containerStatuses":[{"name":"app","state":{"terminated":{"exitCode":137}}}]}})",
       R"(["p","0/1","ExitCode:137","0","60s","<none>","<none>","<none>","<none>"])"},
      {"an init container still running",
       R"({"spec":{"initContainers":[{"name":"init"}],"containers":[{"name":"app"}]},
           "status":{"phase":"Pending","initContainerStatuses":[{"name":"init","state":{"running":{}}}]}})",
       R"(["p","0/1","Init:0/1","0","60s","<none>","<none>","<none>","<none>"])"},
      {"being deleted",
       R"({"metadata":{"deletionTimestamp":"AGO:1"},"spec":{"containers":[{"name":"app"}]},
           "status":{"phase":"Running","containerStatuses":[
             {"name":"app","ready":true,"state":{"running":{"startedAt":"AGO:50"}}}]}})",
       R"(["p","1/1","Terminating","0","60s","<none>","<none>","<none>","<none>"])"},
      {"readiness gates count the true conditions",
       R"({"spec":{"containers":[{"name":"app"}],"readinessGates":[{"conditionType":"example.com/lb"}]},
           "status":{"phase":"Running","nominatedNodeName":"node-2",
                     "conditions":[{"type":"example.com/lb","status":"False"}]}})",
       R"(["p","0/1","Running","0","60s","<none>","<none>","node-2","0/1"])"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    json pod = withTimes(row.pod);
    json meta = metadata("p", 60);
    if (pod.contains("metadata")) meta.update(pod["metadata"]);
    pod["metadata"] = meta;
    CHECK(cellsOf(pods, pod) == json::parse(row.cells));
  }

  json done = json::parse(R"({"spec":{"containers":[{"name":"app"}]},"status":{"phase":"Succeeded",
      "containerStatuses":[{"name":"app","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})");
  done["metadata"] = metadata("job-pod", 60);
  json row = buildTable(pods, done, TableOptions{}, kNow)["rows"][0];
  CHECK(row["cells"][2] == "Completed");
  CHECK(row["conditions"] == json::parse(R"([{"type":"Completed","status":"True","reason":"Succeeded",
      "message":"The pod has completed successfully."}])"));
}

TEST_CASE("workload, service and config rows carry the real printers' cells", "[apiserver][table]") {
  // Objects as JSON text (metadata from metadata(NAME, AGE) is added); AGO:n: n seconds before kNow.
  struct Row {
    const char* kind;
    const char* apiVersion;
    const char* name;
    int64_t age;
    const char* object;
    std::vector<std::string> columns;
    const char* cells;
  };
  const std::string podTemplate =
      R"({"spec":{"containers":[{"name":"web","image":"nginx:1.27"},{"name":"log","image":"busybox"}]}})";
  const std::vector<std::string> deployColumns = {"Name", "Ready",      "Up-to-date", "Available",
                                                  "Age",  "Containers", "Images",     "Selector"};
  const std::vector<std::string> jobColumns = {"Name", "Status",     "Completions", "Duration",
                                               "Age",  "Containers", "Images",      "Selector"};
  const std::vector<std::string> svcColumns = {"Name",    "Type", "Cluster-IP", "External-IP",
                                               "Port(s)", "Age",  "Selector"};
  const Row rows[] = {
      {"Deployment", "apps/v1", "web", 200,
       R"({"spec":{"replicas":3,"template":TEMPLATE,"selector":{"matchLabels":{"app":"web"},"matchExpressions":[
            {"key":"tier","operator":"In","values":["fe","be"]},{"key":"canary","operator":"DoesNotExist"}]}},
           "status":{"replicas":3,"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}})",
       deployColumns,
       R"~(["web","2/3",3,2,"3m20s","web,log","nginx:1.27,busybox","app=web,!canary,tier in (be,fe)"])~"},
      {"Deployment", "apps/v1", "fresh", 5, R"({"spec":{"replicas":2,"template":TEMPLATE}})", deployColumns,
       R"(["fresh","0/2",0,0,"5s","web,log","nginx:1.27,busybox",""])"},
      {"ReplicaSet",
       "apps/v1",
       "web-abc",
       7200,
       R"({"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":TEMPLATE},
           "status":{"replicas":2,"readyReplicas":1}})",
       {"Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"},
       R"(["web-abc",3,2,1,"120m","web,log","nginx:1.27,busybox","app=web"])"},
      {"StatefulSet",
       "apps/v1",
       "db",
       90000,
       R"({"spec":{"replicas":3,"template":TEMPLATE},"status":{"readyReplicas":3}})",
       {"Name", "Ready", "Age", "Containers", "Images"},
       R"(["db","3/3","25h","web,log","nginx:1.27,busybox"])"},
      {"Job", "batch/v1", "migrate", 600,
       R"({"spec":{"completions":1,"template":TEMPLATE},
           "status":{"succeeded":1,"startTime":"AGO:590","completionTime":"AGO:545",
                     "conditions":[{"type":"Complete","status":"True"}]}})",
       jobColumns, R"(["migrate","Complete","1/1","45s","10m","web,log","nginx:1.27,busybox",""])"},
      {"Job", "batch/v1", "batch", 30,
       R"({"spec":{"parallelism":3,"template":TEMPLATE},"status":{"startTime":"AGO:20"}})", jobColumns,
       R"(["batch","Running","0/1 of 3","20s","30s","web,log","nginx:1.27,busybox",""])"},
      {"Service", "v1", "web", 60,
       R"({"spec":{"clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],"selector":{"tier":"fe","app":"web"},
                   "ports":[{"port":80,"protocol":"TCP"},{"port":53,"protocol":"UDP"}]}})",
       svcColumns, R"(["web","ClusterIP","10.96.0.10","<none>","80/TCP,53/UDP","60s","app=web,tier=fe"])"},
      {"Service", "v1", "lb", 60,
       R"({"spec":{"type":"LoadBalancer","ports":[{"port":443,"nodePort":30443}]}})", svcColumns,
       R"(["lb","LoadBalancer","<none>","<pending>","443:30443/TCP","60s","<none>"])"},
      {"Service", "v1", "ext", 60, R"({"spec":{"type":"ExternalName","externalName":"db.example.com"}})",
       svcColumns, R"(["ext","ExternalName","<none>","db.example.com","<none>","60s","<none>"])"},
      {"ConfigMap",
       "v1",
       "settings",
       60,
       R"({"data":{"a":"1","b":"2"},"binaryData":{"c":"AA=="}})",
       {"Name", "Data", "Age"},
       R"(["settings",3,"60s"])"},
      {"Secret",
       "v1",
       "token",
       60,
       R"({"data":{"t":"eA=="}})",
       {"Name", "Type", "Data", "Age"},
       R"(["token","Opaque",1,"60s"])"},
      {"Namespace",
       "v1",
       "team-a",
       60,
       R"({"status":{"phase":"Active"}})",
       {"Name", "Status", "Age"},
       R"(["team-a","Active","60s"])"},
      {"ServiceAccount", "v1", "default", 60, "{}", {"Name", "Secrets", "Age"}, R"(["default",0,"60s"])"},
      {"Event",
       "v1",
       "web.1",
       60,
       R"({"involvedObject":{"kind":"Deployment","name":"web"},"type":"Normal","reason":"ScalingReplicaSet",
           "message":" Scaled up to 3 \n","firstTimestamp":"AGO:300","lastTimestamp":"AGO:30","count":4,
           "source":{"component":"deployment-controller"}})",
       {"Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count",
        "Name"},
       R"(["30s","Normal","ScalingReplicaSet","deployment/web","","deployment-controller","Scaled up to 3","5m",4,
           "web.1"])"},
      {"Ingress",
       "networking.k8s.io/v1",
       "web",
       60,
       R"({"spec":{"ingressClassName":"nginx","rules":[{"host":"a.example.com"},{"host":"b.example.com"}],
                   "tls":[{"hosts":["a.example.com"]}]},
           "status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.1"}]}}})",
       {"Name", "Class", "Hosts", "Address", "Ports", "Age"},
       R"(["web","nginx","a.example.com,b.example.com","192.0.2.1","80, 443","60s"])"},
      {"IngressClass",
       "networking.k8s.io/v1",
       "nginx",
       60,
       R"({"spec":{"controller":"k8s.io/ingress-nginx"}})",
       {"Name", "Controller", "Parameters", "Age"},
       R"(["nginx","k8s.io/ingress-nginx","<none>","60s"])"},
      {"Lease",
       "coordination.k8s.io/v1",
       "leader",
       60,
       R"({"spec":{"holderIdentity":"pod-a"}})",
       {"Name", "Holder", "Age"},
       R"(["leader","pod-a","60s"])"},
      {"Role",
       "rbac.authorization.k8s.io/v1",
       "reader",
       60,
       "{}",
       {"Name", "Created At"},
       R"(["reader","AGO:60"])"},
      {"RoleBinding",
       "rbac.authorization.k8s.io/v1",
       "read",
       60,
       R"({"roleRef":{"kind":"Role","name":"reader"},"subjects":[{"kind":"User","name":"ann"},
           {"kind":"ServiceAccount","name":"ci","namespace":"tools"},{"kind":"User","name":"bob"}]})",
       {"Name", "Role", "Age", "Users", "Groups", "ServiceAccounts"},
       R"(["read","Role/reader","60s","ann, bob","","tools:ci"])"},
      {"CustomResourceDefinition",
       "apiextensions.k8s.io/v1",
       "widgets.example.com",
       60,
       "{}",
       {"Name", "Created At"},
       R"(["widgets.example.com","AGO:60"])"},
  };
  for (const Row& row : rows) {
    INFO(row.kind << " " << row.name);
    std::string text = row.object;
    for (auto at = text.find("TEMPLATE"); at != std::string::npos; at = text.find("TEMPLATE")) {
      text.replace(at, 8, podTemplate);
    }
    json object = withTimes(text);
    object["metadata"] = metadata(row.name, row.age);
    const ResourceType type = builtinType(row.kind, row.apiVersion);
    json table = buildTable(type, object, TableOptions{}, kNow);
    CHECK(columnNames(table) == row.columns);
    CHECK(table["rows"][0]["cells"] == withTimes(row.cells));
  }
}

TEST_CASE("CRD printer columns: typed cells from JSONPath, Age by default", "[apiserver][table]") {
  const ResourceType widgets = customType(json::parse(R"([
      {"name":"Replicas","type":"integer","jsonPath":".spec.replicas"},
      {"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"},
      {"name":"Ratio","type":"number","jsonPath":".status.ratio","priority":1},
      {"name":"Paused","type":"boolean","jsonPath":".spec.paused","description":"Whether it waits."},
      {"name":"Started","type":"date","jsonPath":".status.startedAt"},
      {"name":"Spec","type":"string","jsonPath":".spec.labels"}])"));
  json w1 = {{"apiVersion", "example.com/v1"},
             {"kind", "Widget"},
             {"metadata", metadata("w1", 60)},
             {"spec", {{"replicas", 3}, {"paused", false}, {"labels", {{"b", 2}, {"a", "x"}}}}},
             {"status",
              {{"ratio", 0.25},
               {"startedAt", ago(3 * 3600 + 5 * 60)},
               {"conditions",
                {{{"type", "Synced"}, {"status", "True"}}, {{"type", "Ready"}, {"status", "False"}}}}}}};
  json w2 = {
      {"metadata", metadata("w2", 30)}, {"spec", {{"replicas", 2.9}}}, {"status", {{"startedAt", "soon"}}}};
  json list = {{"kind", "WidgetList"}, {"metadata", {{"resourceVersion", "77"}}}, {"items", {w1, w2}}};
  json table = buildTable(widgets, list, TableOptions{}, kNow);
  CHECK(columnNames(table) ==
        std::vector<std::string>{"Name", "Replicas", "Ready", "Ratio", "Paused", "Started", "Spec"});
  CHECK(table["columnDefinitions"][3]["priority"] == 1);
  CHECK(table["columnDefinitions"][4]["description"] == "Whether it waits.");
  CHECK(table["columnDefinitions"][1]["description"] ==
        "Custom resource definition column (in JSONPath format): .spec.replicas");
  CHECK(table["rows"][0]["cells"] ==
        json::parse(R"(["w1",3,"False",0.25,false,"3h5m","{\"a\":\"x\",\"b\":2}"])"));
  CHECK(table["rows"][1]["cells"] == json::parse(R"(["w2",2,null,null,null,"<invalid>",null])"));

  const ResourceType plain = customType(json::array());
  json t = buildTable(plain, w1, TableOptions{}, kNow);
  CHECK(columnNames(t) == std::vector<std::string>{"Name", "Age"});
  CHECK(t["columnDefinitions"][1]["type"] == "date");
  CHECK(t["rows"][0]["cells"] == json::array({"w1", "60s"}));
  CHECK(t["metadata"]["resourceVersion"] == "42");
}

TEST_CASE("list Tables carry the list's metadata and each row's object as asked", "[apiserver][table]") {
  const ResourceType cms = builtinType("ConfigMap");
  json list = {{"kind", "ConfigMapList"},
               {"apiVersion", "v1"},
               {"metadata", {{"resourceVersion", "120"}, {"continue", "tok"}, {"remainingItemCount", 4}}},
               {"items", {{{"metadata", metadata("a", 10)}, {"data", {{"k", "v"}}}}}}};
  json table = buildTable(cms, list, TableOptions{}, kNow);
  CHECK(table["kind"] == "Table");
  CHECK(table["apiVersion"] == "meta.k8s.io/v1");
  CHECK(table["metadata"] ==
        json::parse(R"({"resourceVersion":"120","continue":"tok","remainingItemCount":4})"));
  json object = table["rows"][0]["object"];
  CHECK(object["kind"] == "PartialObjectMetadata");
  CHECK(object["apiVersion"] == "meta.k8s.io/v1");
  CHECK(object["metadata"] == metadata("a", 10));
  CHECK_FALSE(object.contains("data"));

  TableOptions full{"meta.k8s.io/v1beta1", IncludeObject::kObject, false};
  json asObject = buildTable(cms, list, full, kNow);
  CHECK(asObject["apiVersion"] == "meta.k8s.io/v1beta1");
  CHECK(asObject["rows"][0]["object"]["kind"] == "ConfigMap");
  CHECK(asObject["rows"][0]["object"]["apiVersion"] == "v1");
  CHECK(asObject["rows"][0]["object"]["data"]["k"] == "v");

  json none = buildTable(cms, list, TableOptions{"meta.k8s.io/v1", IncludeObject::kNone, false}, kNow);
  CHECK(none["rows"][0]["object"].is_null());

  json empty = buildTable(cms, {{"metadata", {{"resourceVersion", "9"}}}, {"items", json::array()}},
                          TableOptions{}, kNow);
  CHECK(empty["rows"] == json::array());
  CHECK(columnNames(empty) == std::vector<std::string>{"Name", "Data", "Age"});
}

TEST_CASE("a watch's Tables: columns in the first event only, Status untouched", "[apiserver][table]") {
  auto cms = std::make_shared<ResourceType>(builtinType("ConfigMap"));
  WatchTableWriter writer(cms, TableOptions{});
  json cm = {{"metadata", metadata("a", 10)}, {"data", {{"k", "v"}}}};
  json first = writer.convert(cm, false, kNow);
  CHECK(columnNames(first) == std::vector<std::string>{"Name", "Data", "Age"});
  CHECK(first["rows"].size() == 1);
  CHECK(first["metadata"]["resourceVersion"] == "42");
  json second = writer.convert(cm, false, kNow);
  CHECK(second["columnDefinitions"] == json::array());
  CHECK(second["rows"][0]["cells"] == json::array({"a", 1, "10s"}));

  json status = {{"kind", "Status"}, {"apiVersion", "v1"}, {"code", 410}, {"reason", "Expired"}};
  CHECK(writer.convert(status, false, kNow) == status);

  json bookmark = {{"kind", "ConfigMap"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", "99"}}}};
  json marked = writer.convert(bookmark, true, kNow);
  CHECK(marked["kind"] == "Table");
  CHECK(marked["rows"] == json::array());
  CHECK(marked["metadata"]["resourceVersion"] == "99");
}
