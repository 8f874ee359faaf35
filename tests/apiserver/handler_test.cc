// Handler::handle without sockets: requests once mishandled (bytes that are not UTF-8 reaching a JSON
// answer or the store threw instead of answering; the YAML body row was found by the libFuzzer target in
// tests/fuzz), one row each. Every answer must be a Status body, never an exception.
#include <catch2/catch.hpp>

#include "kube/apiserver/handler.h"
#include "kube/apiserver/registry.h"
#include "kube/json_depth.h"
#include "tests/support/process.h"

using nlohmann::json;
using namespace sluice::apiserver;
using sluice::testing::TempDir;

namespace {

struct HandlerFixture {
  TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<Registry> reg;
  std::unique_ptr<Handler> handler;
  HandlerFixture() {
    auto s = Store::open(dir / "state.db");
    REQUIRE(s.ok());
    store = std::move(s).value();
    auto r = Registry::open(*store);
    REQUIRE(r.ok());
    reg = std::move(r).value();
    handler = std::make_unique<Handler>(*reg, "t0ken", "127.0.0.1:6443");
  }
  Handled call(const std::string& method, const std::string& target, const std::string& contentType = "",
               const std::string& body = "") {
    return handler->handle({.method = method,
                            .target = target,
                            .contentType = contentType,
                            .authorization = "Bearer t0ken",
                            .accept = "",
                            .body = body,
                            .impersonateUser = "",
                            .impersonateGroups = {}});
  }
};

struct Row {
  const char* behaviour;
  const char* method;
  const char* target;
  const char* contentType;
  const char* body;
  int status;
  const char* reason;
};

}  // namespace

TEST_CASE("handler: bytes that are not UTF-8 get Status bodies, never an exception", "[apiserver][handler]") {
  const Row rows[] = {
      {"a name of bytes that are not UTF-8 is named in the 404", "GET",
       "/api/v1/namespaces/default/configmaps/%FF%FE", "", "", 404, "NotFound"},
      {"a namespace of bytes that are not UTF-8 is named in the 404", "DELETE",
       "/api/v1/namespaces/%C3%28/configmaps/x", "", "", 404, "NotFound"},
      {"a dryRun value that is not UTF-8 is quoted in the 400", "POST",
       "/api/v1/namespaces/default/configmaps?dryRun=%FF", "application/json", R"({"metadata":{"name":"a"}})",
       400, "BadRequest"},
      {"a YAML body with bytes that are not UTF-8 is refused before it is stored", "POST",
       "/apis/apps/v1/namespaces/default/deployments", "application/yaml",
       "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, labels: {a: \"\xff\"}}\n", 400,
       "BadRequest"},
  };
  HandlerFixture f;
  for (const auto& row : rows) {
    INFO(row.behaviour);
    Handled h;
    REQUIRE_NOTHROW(h = f.call(row.method, row.target, row.contentType, row.body));
    CHECK(h.response.status == row.status);
    auto body = json::parse(h.response.body, nullptr, false);
    REQUIRE_FALSE(body.is_discarded());
    CHECK(body["kind"] == "Status");
    CHECK(body["code"] == row.status);
    CHECK(body["reason"] == row.reason);
  }
}

TEST_CASE("handler: YAML bodies are read as the JSON they denote", "[apiserver][handler]") {
  HandlerFixture f;
  auto created = f.call("POST", "/api/v1/namespaces/default/configmaps", "application/yaml",
                        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\ndata: {n: \"1\"}\n");
  REQUIRE(created.response.status == 201);
  CHECK(json::parse(created.response.body)["data"]["n"] == "1");
  auto broken = f.call("POST", "/api/v1/namespaces/default/configmaps", "application/yaml", "data: [\n");
  CHECK(broken.response.status == 400);
  CHECK_THAT(broken.response.body, Catch::Contains("error converting YAML to JSON"));
}

TEST_CASE(
    "handler: a YAML body past the reader's item limit is a 400 naming it, the same object in JSON is "
    "stored",
    "[apiserver][handler]") {
  HandlerFixture f;
  json cm = {
      {"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "big"}}}, {"data", json::object()}};
  std::string yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n";
  for (int i = 0; i < 10001; ++i) {
    cm["data"]["k" + std::to_string(i)] = "v";
    yaml += "  k" + std::to_string(i) + ": v\n";
  }
  auto refused = f.call("POST", "/api/v1/namespaces/default/configmaps", "application/yaml", yaml);
  CHECK(refused.response.status == 400);
  CHECK_THAT(refused.response.body,
             Catch::Contains("error converting YAML to JSON") && Catch::Contains("more than 10000 items"));
  auto stored = f.call("POST", "/api/v1/namespaces/default/configmaps", "application/json", cm.dump());
  CHECK(stored.response.status == 201);
}

namespace {

// `depth` arrays, one inside the other.
std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// A Pod whose spec carries `value` under a field the server keeps as it is: the body nests two levels
// more than `value` does.
std::string podWith(const std::string& name, const std::string& value) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name + R"("},"spec":{"x":)" + value +
         "}}";
}

struct StatusRow {
  const char* behaviour;
  const char* method;
  std::string target;
  const char* contentType;
  std::string body;
  int status;
  const char* reason;
  std::string messagePart;
};

void checkRows(HandlerFixture& f, const std::vector<StatusRow>& rows) {
  for (const auto& row : rows) {
    INFO(row.behaviour);
    Handled h;
    REQUIRE_NOTHROW(h = f.call(row.method, row.target, row.contentType, row.body));
    INFO(h.response.body.substr(0, 600));
    CHECK(h.response.status == row.status);
    auto body = json::parse(h.response.body, nullptr, false);
    REQUIRE_FALSE(body.is_discarded());
    if (row.status >= 400) {
      CHECK(body["kind"] == "Status");
      CHECK(body["reason"] == row.reason);
      CHECK_THAT(body.value("message", ""), Catch::Contains(row.messagePart));
    }
  }
}

}  // namespace

TEST_CASE("handler: one nesting limit for every body, checked before anything recurses",
          "[apiserver][handler][limits]") {
  HandlerFixture f;
  const std::string pods = "/api/v1/namespaces/default/pods";
  const std::size_t limit = sluice::kube::kMaxJsonNestingDepth;
  REQUIRE(f.call("POST", pods, "application/json", podWith("target", "1")).response.status == 201);
  const std::string hostile = nested(80000);
  // Arrays to one level below the limit at spec.x, then ten more levels added inside the innermost one.
  std::string innermost = "/spec/x";
  for (std::size_t i = 0; i < limit - 3; ++i) innermost += "/0";
  const std::string deepLanding = R"([{"op":"add","path":"/spec/x","value":)" + nested(limit - 3) +
                                  R"(},{"op":"add","path":")" + innermost + R"(","value":)" + nested(10) +
                                  "}]";
  const std::vector<StatusRow> rows = {
      {"a create 80,000 deep is refused as the real server refuses it", "POST", pods, "application/json",
       podWith("deep", hostile), 400, "BadRequest",
       "the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse "
       "error: invalid character '[' exceeded max depth"},
      {"an update 80,000 deep likewise", "PUT", pods + "/target", "application/json",
       podWith("target", hostile), 400, "BadRequest", "exceeded max depth"},
      {"one level past the limit is refused", "POST", pods, "application/json",
       podWith("past", nested(limit - 1)), 400, "BadRequest", "exceeded max depth (1000 levels)"},
      {"at the limit is stored", "POST", pods, "application/json", podWith("at-limit", nested(limit - 2)),
       201, "", ""},
      {"a YAML body 80,000 deep (flow style)", "POST", pods, "application/yaml",
       "metadata: {name: y}\nspec: {x: " + hostile + "}\n", 400, "BadRequest", "YAML"},
      {"a merge patch 80,000 deep", "PATCH", pods + "/target", "application/merge-patch+json",
       R"({"spec":{"x":)" + hostile + "}}", 400, "BadRequest", "exceeded max depth"},
      {"a strategic merge patch 80,000 deep", "PATCH", pods + "/target",
       "application/strategic-merge-patch+json", R"({"spec":{"x":)" + hostile + "}}", 400, "BadRequest",
       "exceeded max depth"},
      {"a JSON patch 80,000 deep", "PATCH", pods + "/target", "application/json-patch+json",
       R"([{"op":"add","path":"/spec/x","value":)" + hostile + "}]", 400, "BadRequest", "exceeded max depth"},
      {"a JSON patch whose values are within the limit but land too deep", "PATCH", pods + "/target",
       "application/json-patch+json", deepLanding, 422, "Invalid", "nests deeper than 1000 levels"},
      {"a DELETE body 80,000 deep", "DELETE", pods + "/target", "application/json",
       R"({"kind":"DeleteOptions","x":)" + hostile + "}", 400, "BadRequest", "DeleteOptions"},
  };
  checkRows(f, rows);
  // The object at the limit reads back whole, and the server is still answering.
  auto back = f.call("GET", pods + "/at-limit");
  REQUIRE(back.response.status == 200);
  CHECK(sluice::kube::nestedDeeperThan(json::parse(back.response.body), limit - 1));
  CHECK(f.call("GET", pods + "/target").response.status == 200);
}

TEST_CASE("handler: an unknown $patch directive is the client's mistake, not a 500",
          "[apiserver][handler][patch]") {
  HandlerFixture f;
  const std::string cms = "/api/v1/namespaces/default/configmaps";
  REQUIRE(f.call("POST", cms, "application/json", R"({"metadata":{"name":"c"},"data":{"a":"1"}})")
              .response.status == 201);
  checkRows(f, {
                   {"at the top of the patch", "PATCH", cms + "/c", "application/strategic-merge-patch+json",
                    R"({"$patch":"explode"})", 400, "BadRequest", "unknown patch type: \"explode\""},
                   {"inside a map", "PATCH", cms + "/c", "application/strategic-merge-patch+json",
                    R"({"data":{"$patch":"explode"}})", 400, "BadRequest", "unknown patch type"},
               });
  CHECK(json::parse(f.call("GET", cms + "/c").response.body)["data"] == json{{"a", "1"}});
}

TEST_CASE(
    "handler: reads from a resourceVersion the server has not reached are refused, never answered "
    "with current data",
    "[apiserver][handler][resourceversion]") {
  HandlerFixture f;
  const std::string cms = "/api/v1/namespaces/default/configmaps";
  auto created = f.call("POST", cms, "application/json", R"({"metadata":{"name":"c"},"data":{"v":"1"}})");
  REQUIRE(created.response.status == 201);
  const std::string rv1 = json::parse(created.response.body)["metadata"]["resourceVersion"];
  REQUIRE(
      f.call("PATCH", cms + "/c", "application/merge-patch+json", R"({"data":{"v":"2"}})").response.status ==
      200);
  const std::string future = std::to_string(f.reg->currentRevision() + 1000);

  // A watch: the registry refuses to start it, and the server sends that as an ERROR event.
  auto watch = f.call("GET", cms + "?watch=1&resourceVersion=" + future);
  REQUIRE(watch.watch);
  auto started = f.reg->watch(*watch.watch->type, "default", watch.watch->options, [](const WatchEvent&) {});
  REQUIRE_FALSE(started.ok());
  const json status = statusBody(started.error());
  CHECK(status["code"] == 504);
  CHECK(status["reason"] == "Timeout");
  CHECK(status["message"] == "Timeout: Too large resource version: " + future +
                                 ", current: " + std::to_string(f.reg->currentRevision()));
  CHECK(status["details"]["retryAfterSeconds"] == 1);
  CHECK(status["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge");

  checkRows(
      f,
      {
          {"a list from a future revision", "GET", cms + "?resourceVersion=" + future, "", "", 504, "Timeout",
           "Too large resource version: " + future},
          {"an exact list from a future revision", "GET",
           cms + "?resourceVersion=" + future + "&resourceVersionMatch=Exact", "", "", 504, "Timeout",
           "Too large resource version"},
          {"resourceVersionMatch without a resourceVersion", "GET", cms + "?resourceVersionMatch=Exact", "",
           "", 422, "Invalid",
           "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion "
           "is provided"},
          {"Exact with resourceVersion 0", "GET", cms + "?resourceVersion=0&resourceVersionMatch=Exact", "",
           "", 422, "Invalid", "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""},
          {"an unknown match", "GET", cms + "?resourceVersion=1&resourceVersionMatch=Newest", "", "", 422,
           "Invalid", "Unsupported value: \"Newest\""},
      });
  // Exact at a past revision is the state then; NotOlderThan is the newest state.
  auto exact = f.call("GET", cms + "?resourceVersion=" + rv1 + "&resourceVersionMatch=Exact");
  REQUIRE(exact.response.status == 200);
  auto exactList = json::parse(exact.response.body);
  CHECK(exactList["metadata"]["resourceVersion"] == rv1);
  REQUIRE(exactList["items"].size() == 1);
  CHECK(exactList["items"][0]["data"]["v"] == "1");
  auto notOlder = f.call("GET", cms + "?resourceVersion=" + rv1 + "&resourceVersionMatch=NotOlderThan");
  REQUIRE(notOlder.response.status == 200);
  CHECK(json::parse(notOlder.response.body)["items"][0]["data"]["v"] == "2");
}

TEST_CASE("handler: built-in kinds get the real server's type checks and validation",
          "[apiserver][handler][validation]") {
  HandlerFixture f;
  const std::string cms = "/api/v1/namespaces/default/configmaps";
  const std::string secrets = "/api/v1/namespaces/default/secrets";
  const std::string services = "/api/v1/namespaces/default/services";
  const std::string deployments = "/apis/apps/v1/namespaces/default/deployments";
  const std::string replicaSets = "/apis/apps/v1/namespaces/default/replicasets";
  const std::string statefulSets = "/apis/apps/v1/namespaces/default/statefulsets";
  const std::string roles = "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles";
  auto workload = [](const std::string& name, const std::string& spec) {
    return R"({"metadata":{"name":")" + name + R"("},"spec":)" + spec + "}";
  };
  const std::string tmpl =
      R"("template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"i"}]}})";
  const std::vector<StatusRow> rows = {
      {"ConfigMap data as a list", "POST", cms, "application/json",
       R"({"metadata":{"name":"a"},"data":["x"]})", 400, "BadRequest",
       "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal array into Go "
       "struct field ConfigMap.data of type map[string]string"},
      {"ConfigMap data with a number", "POST", cms, "application/json",
       R"({"metadata":{"name":"a"},"data":{"n":1}})", 400, "BadRequest",
       "cannot unmarshal number into Go struct field ConfigMap.data of type string"},
      {"ConfigMap binaryData that is not base64", "POST", cms, "application/json",
       R"({"metadata":{"name":"a"},"binaryData":{"b":"!!"}})", 400, "BadRequest", "illegal base64 data"},
      {"ConfigMap key with a space", "POST", cms, "application/json",
       R"({"metadata":{"name":"a"},"data":{"bad key":"v"}})", 422, "Invalid",
       "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric "
       "characters"},
      {"ConfigMap key in data and binaryData", "POST", cms, "application/json",
       R"({"metadata":{"name":"a"},"data":{"k":"v"},"binaryData":{"k":"dg=="}})", 422, "Invalid",
       "duplicate of key present in binaryData"},
      {"a label key with a space", "POST", cms, "application/json",
       R"({"metadata":{"name":"a","labels":{"bad key":"v"}}})", 422, "Invalid",
       "metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric characters"},
      {"a label value that is a number", "POST", cms, "application/json",
       R"({"metadata":{"name":"a","labels":{"k":1}}})", 400, "BadRequest",
       "cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"},
      {"an annotation key with two slashes", "POST", cms, "application/json",
       R"({"metadata":{"name":"a","annotations":{"a/b/c":"v"}}})", 422, "Invalid", "metadata.annotations"},
      {"Secret data that is not base64", "POST", secrets, "application/json",
       R"({"metadata":{"name":"s"},"data":{"k":"%%%"}})", 400, "BadRequest", "illegal base64 data"},
      {"a Service named 1abc", "POST", services, "application/json",
       R"({"metadata":{"name":"1abc"},"spec":{"ports":[{"port":80}]}})", 422, "Invalid",
       "metadata.name: Invalid value: \"1abc\": a DNS-1035 label must consist of lower case alphanumeric "
       "characters or '-', start with an alphabetic character"},
      {"a Service port 0", "POST", services, "application/json",
       R"({"metadata":{"name":"svc"},"spec":{"ports":[{"port":0}]}})", 422, "Invalid",
       "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"},
      {"a Service port that is a string", "POST", services, "application/json",
       R"({"metadata":{"name":"svc"},"spec":{"ports":[{"port":"80"}]}})", 400, "BadRequest",
       "Go struct field ServicePort.spec.ports.port of type int32"},
      {"a Service of an unknown type", "POST", services, "application/json",
       R"({"metadata":{"name":"svc"},"spec":{"type":"Bogus","ports":[{"port":80}]}})", 422, "Invalid",
       "spec.type: Unsupported value: \"Bogus\""},
      {"a Service without ports", "POST", services, "application/json",
       R"({"metadata":{"name":"svc"},"spec":{}})", 422, "Invalid", "spec.ports: Required value"},
      {"replicas \"three\"", "POST", deployments, "application/json",
       workload("d", R"({"replicas":"three","selector":{"matchLabels":{"app":"web"}},)" + tmpl + "}"), 400,
       "BadRequest",
       "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into "
       "Go "
       "struct field DeploymentSpec.spec.replicas of type int32"},
      {"replicas past int32", "POST", deployments, "application/json",
       workload("d", R"({"replicas":3000000000,"selector":{"matchLabels":{"app":"web"}},)" + tmpl + "}"), 400,
       "BadRequest", "cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas"},
      {"replicas -3", "POST", deployments, "application/json",
       workload("d", R"({"replicas":-3,"selector":{"matchLabels":{"app":"web"}},)" + tmpl + "}"), 422,
       "Invalid", "spec.replicas: Invalid value: -3: must be greater than or equal to 0"},
      {"a Deployment without a selector", "POST", deployments, "application/json",
       workload("d", "{" + tmpl + "}"), 422, "Invalid",
       "[spec.selector: Required value, spec.template.metadata.labels: Invalid value: "
       "map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`]"},
      {"a Deployment whose selector does not match its template", "POST", deployments, "application/json",
       workload("d", R"({"selector":{"matchLabels":{"app":"other"}},)" + tmpl + "}"), 422, "Invalid",
       "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does "
       "not "
       "match template `labels`"},
      {"a Deployment with an empty selector", "POST", deployments, "application/json",
       workload("d", R"({"selector":{},)" + tmpl + "}"), 422, "Invalid",
       "empty selector is invalid for deployment"},
      {"a ReplicaSet whose selector does not match its template", "POST", replicaSets, "application/json",
       workload("rs", R"({"selector":{"matchExpressions":[{"key":"app","operator":"In","values":["x"]}]},)" +
                          tmpl + "}"),
       422, "Invalid", "`selector` does not match template `labels`"},
      {"a StatefulSet with replicas -1", "POST", statefulSets, "application/json",
       workload("s", R"({"replicas":-1,"selector":{"matchLabels":{"app":"web"}},)" + tmpl + "}"), 422,
       "Invalid", "spec.replicas: Invalid value: -1"},
      {"a Role named with a slash-free but percent name", "POST", roles, "application/json",
       R"({"metadata":{"name":"a%b"},"rules":[]})", 422, "Invalid", "may not contain '%'"},
      {"a valid Deployment", "POST", deployments, "application/json",
       workload("web", R"({"replicas":2,"selector":{"matchLabels":{"app":"web"}},)" + tmpl + "}"), 201, "",
       ""},
      {"a valid Service", "POST", services, "application/json",
       R"({"metadata":{"name":"web"},"spec":{"ports":[{"port":80}]}})", 201, "", ""},
      {"a Role name with capitals and colons, as RBAC allows", "POST", roles, "application/json",
       R"({"metadata":{"name":"system:Reader"},"rules":[]})", 201, "", ""},
      {"a selector change on update", "PATCH", deployments + "/web", "application/merge-patch+json",
       R"({"spec":{"selector":{"matchLabels":{"app":"web","tier":"x"}},"template":{"metadata":{"labels":{"tier":"x"}}}}})",
       422, "Invalid",
       "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"web\",\"tier\":\"x\"}}: field is "
       "immutable"},
      {"a patch that makes replicas a string", "PATCH", deployments + "/web", "application/merge-patch+json",
       R"({"spec":{"replicas":"many"}})", 422, "Invalid",
       "patch: Invalid value: json: cannot unmarshal string into Go struct field "
       "DeploymentSpec.spec.replicas"},
      {"scale to \"three\"", "PUT", deployments + "/web/scale", "application/json",
       R"({"metadata":{"name":"web"},"spec":{"replicas":"three"}})", 400, "BadRequest",
       "cannot unmarshal string into Go struct field ScaleSpec.spec.replicas of type int32"},
      {"scale to -3", "PATCH", deployments + "/web/scale", "application/merge-patch+json",
       R"({"spec":{"replicas":-3}})", 422, "Invalid", "spec.replicas: Invalid value: -3"},
  };
  checkRows(f, rows);
  // Nothing refused was stored.
  CHECK(json::parse(f.call("GET", cms).response.body)["items"].empty());
  auto stored = json::parse(f.call("GET", deployments).response.body)["items"];
  REQUIRE(stored.size() == 1);
  CHECK(stored[0]["spec"]["replicas"] == 2);
}

TEST_CASE("handler: 422 causes name each field path", "[apiserver][handler][validation]") {
  HandlerFixture f;
  auto h = f.call(
      "POST", "/apis/apps/v1/namespaces/default/deployments", "application/json",
      R"({"metadata":{"name":"d"},"spec":{"replicas":-1,"template":{"metadata":{"labels":{"app":"web"}}}}})");
  REQUIRE(h.response.status == 422);
  const json status = json::parse(h.response.body);
  std::vector<std::string> fields;
  for (const auto& c : status["details"]["causes"]) fields.push_back(c["field"]);
  CHECK(fields ==
        std::vector<std::string>{"spec.replicas", "spec.selector", "spec.template.metadata.labels"});
}
