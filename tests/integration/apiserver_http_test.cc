// Our API server on the wire, through curl over HTTPS: bad input gets the real server's status codes and
// Status bodies (and the server stays up), discovery and OpenAPI shapes, and watch streams (initial
// events, bookmarks, 410 Expired inside the stream).
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "kube/apiserver/server.h"
#include "tests/integration/kubectl_env.h"
#include "tests/support/process.h"

using nlohmann::json;
using sluice::testing::runCommand;
using sluice::testing::shellQuote;
using sluice::testing::TempDir;

namespace {

struct Reply {
  int code = 0;
  std::string body;
  json parsed() const { return json::parse(body, nullptr, false); }
};

class Wire {
 public:
  explicit Wire(sluice::apiserver::ServerOptions options = {}) : dir_("sluice-http") {
    options.dataDir = dir_ / "data";
    auto s = sluice::apiserver::ApiServer::start(options);
    INFO((s ? std::string() : s.error()));
    REQUIRE(s.ok());
    server_ = std::move(s).value();
  }

  Reply call(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& contentType = "application/json", const std::string& extra = "") {
    std::string bodyFile = (dir_ / "req.body").string();
    std::string outFile = (dir_ / "resp.body").string();
    std::ofstream(bodyFile, std::ios::binary) << body;
    std::string cmd = "curl -sS -o " + shellQuote(outFile) + " -w '%{http_code}' --cacert " +
                      shellQuote((dir_ / "data" / "ca.crt").string()) + " -H 'Authorization: Bearer " +
                      server_->token() + "' -X " + method + " " + extra;
    if (!body.empty())
      cmd += " -H 'Content-Type: " + contentType + "' --data-binary @" + shellQuote(bodyFile);
    cmd += " " + shellQuote(url(path)) + " 2>&1";
    auto r = runCommand(cmd);
    Reply reply;
    reply.code = std::atoi(r.output.c_str());
    std::ifstream in(outFile, std::ios::binary);
    reply.body.assign(std::istreambuf_iterator<char>(in), {});
    return reply;
  }

  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  // Streams a watch for at most `seconds` and returns the event lines.
  std::vector<json> watch(const std::string& path, int seconds, const std::string& extra = "") {
    auto r = runCommand("curl -sSN --max-time " + std::to_string(seconds) + " --cacert " +
                        shellQuote((dir_ / "data" / "ca.crt").string()) + " -H 'Authorization: Bearer " +
                        server_->token() + "' " + extra + " " + shellQuote(url(path)) + " 2>/dev/null");
    std::vector<json> events;
    std::size_t start = 0;
    while (start < r.output.size()) {
      auto nl = r.output.find('\n', start);
      if (nl == std::string::npos) break;
      auto e = json::parse(r.output.substr(start, nl - start), nullptr, false);
      if (!e.is_discarded()) events.push_back(e);
      start = nl + 1;
    }
    return events;
  }

  // Sends `bytes` as they are over a TLS connection (openssl s_client) and returns what came back within
  // `seconds`: for requests curl will not send (broken chunk framing, a body cut short).
  std::string raw(const std::string& bytes, int seconds = 5) {
    std::string file = (dir_ / "raw.req").string();
    std::ofstream(file, std::ios::binary) << bytes;
    return runCommand("timeout " + std::to_string(seconds) +
                      " openssl s_client -quiet -verify_quiet -connect 127.0.0.1:" +
                      std::to_string(server_->port()) + " < " + shellQuote(file) + " 2>/dev/null")
        .output;
  }

  sluice::apiserver::ApiServer& server() { return *server_; }

 private:
  TempDir dir_;
  std::unique_ptr<sluice::apiserver::ApiServer> server_;
};

const char* kCms = "/api/v1/namespaces/default/configmaps";

void checkStatus(const Reply& r, int code, const std::string& reason) {
  INFO("HTTP " << r.code << ": " << r.body);
  CHECK(r.code == code);
  auto s = r.parsed();
  REQUIRE_FALSE(s.is_discarded());
  CHECK(s["kind"] == "Status");
  CHECK(s["status"] == "Failure");
  CHECK(s["code"] == code);
  CHECK(s["reason"] == reason);
}

}  // namespace

TEST_CASE("bad requests get the real server's status codes and Status bodies", "[integration][apiserver]") {
  Wire w;
  REQUIRE(w.call("POST", kCms, R"({"metadata":{"name":"a"},"data":{"k":"v"}})").code == 201);
  checkStatus(w.call("POST", kCms, "{\"metadata\":"), 400, "BadRequest");
  checkStatus(w.call("POST", kCms, "[1,2]"), 400, "BadRequest");
  checkStatus(w.call("POST", kCms, "metadata: {name: y}", "text/plain"), 415, "UnsupportedMediaType");
  checkStatus(w.call("POST", kCms, R"({"kind":"Secret","metadata":{"name":"s"}})"), 400, "BadRequest");
  checkStatus(w.call("POST", kCms, R"({"metadata":{"name":"Not_DNS"}})"), 422, "Invalid");
  checkStatus(w.call("POST", kCms, R"({"metadata":{"name":"a"}})"), 409, "AlreadyExists");
  checkStatus(w.call("GET", std::string(kCms) + "/zz"), 404, "NotFound");
  checkStatus(w.call("GET", "/api/v1/namespaces/default/nonsense"), 404, "NotFound");
  checkStatus(w.call("GET", std::string(kCms) + "?labelSelector=a%20in%20b"), 400, "BadRequest");
  checkStatus(w.call("PATCH", std::string(kCms) + "/a", "{}", "application/x-unknown"), 415,
              "UnsupportedMediaType");
  auto ssa = w.call("PATCH", std::string(kCms) + "/a", "{}", "application/apply-patch+yaml");
  checkStatus(ssa, 415, "UnsupportedMediaType");
  CHECK_THAT(ssa.body, Catch::Contains("application/strategic-merge-patch+json"));
  checkStatus(w.call("PATCH", std::string(kCms) + "/a", R"([{"op":"test","path":"/data/k","value":"x"}])",
                     "application/json-patch+json"),
              422, "Invalid");
  checkStatus(w.call("PATCH", std::string(kCms) + "/a", R"([{"op":"bogus","path":"/data"}])",
                     "application/json-patch+json"),
              422, "Invalid");
  checkStatus(w.call("PATCH", std::string(kCms) + "/a", R"({"op":"add"})", "application/json-patch+json"),
              400, "BadRequest");
  checkStatus(w.call("PUT", std::string(kCms) + "/a", R"({"metadata":{"name":"a","resourceVersion":"1"}})"),
              409, "Conflict");
  checkStatus(
      w.call("POST", kCms,
             "{\"metadata\":{\"name\":\"big\"},\"data\":{\"k\":\"" + std::string(4 << 20, 'x') + "\"}}"),
      413, "RequestEntityTooLarge");
  checkStatus(w.call("POST", kCms, R"({"metadata":{"name":"x"}})", "application/json", "-G -d dryRun=Some"),
              400, "BadRequest");
  // A propagationPolicy the real server does not know, in the body or the query: 422 on DeleteOptions.
  auto badPolicy = w.call("DELETE", std::string(kCms) + "/a", R"({"propagationPolicy":"Bogus"})");
  checkStatus(badPolicy, 422, "Invalid");
  CHECK(
      badPolicy.parsed()["message"] ==
      "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Bogus\": supported "
      "values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"");
  CHECK(badPolicy.parsed()["details"]["causes"][0]["reason"] == "FieldValueNotSupported");
  checkStatus(w.call("DELETE", std::string(kCms) + "/a?propagationPolicy=foreground"), 422, "Invalid");
  checkStatus(
      w.call("DELETE", std::string(kCms) + "/a", R"({"propagationPolicy":"Orphan","orphanDependents":true})"),
      422, "Invalid");
  // Still up, and nothing half-written.
  auto list = w.call("GET", kCms);
  REQUIRE(list.code == 200);
  auto items = list.parsed()["items"];
  REQUIRE(items.size() == 1);
  CHECK(items[0]["data"]["k"] == "v");
}

TEST_CASE("discovery and OpenAPI v3 list every served group version", "[integration][apiserver]") {
  Wire w;
  auto api = w.call("GET", "/api").parsed();
  CHECK(api["versions"] == json::array({"v1"}));
  auto apis = w.call("GET", "/apis").parsed();
  std::set<std::string> groups;
  for (const auto& g : apis["groups"]) groups.insert(g["name"].get<std::string>());
  for (const char* g : {"apps", "batch", "networking.k8s.io", "coordination.k8s.io",
                        "rbac.authorization.k8s.io", "apiextensions.k8s.io"}) {
    CHECK(groups.count(g) == 1);
  }
  auto apps = w.call("GET", "/apis/apps/v1").parsed();
  CHECK(apps["kind"] == "APIResourceList");
  bool deployScale = false;
  for (const auto& r : apps["resources"]) deployScale |= r["name"] == "deployments/scale";
  CHECK(deployScale);
  auto index = w.call("GET", "/openapi/v3").parsed();
  REQUIRE(index["paths"].contains("api/v1"));
  REQUIRE(index["paths"].contains("apis/apps/v1"));
  std::string docUrl = index["paths"]["apis/apps/v1"]["serverRelativeURL"];
  auto doc = w.call("GET", docUrl).parsed();
  auto patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
  CHECK(patch["x-kubernetes-group-version-kind"]["kind"] == "Deployment");
  CHECK(patch["parameters"][0]["name"] == "fieldValidation");
  CHECK(w.call("GET", "/version").parsed()["major"] == "1");
}

TEST_CASE("watch streams: initial events, changes, bookmarks, and 410 inside the stream",
          "[integration][apiserver]") {
  sluice::apiserver::ServerOptions options;
  options.retainRevisions = 5;
  options.bookmarkInterval = std::chrono::seconds(1);
  Wire w(options);
  REQUIRE(w.call("POST", kCms, R"({"metadata":{"name":"a","labels":{"app":"x"}}})").code == 201);
  REQUIRE(w.call("POST", kCms, R"({"metadata":{"name":"b"}})").code == 201);

  auto initial = w.watch(std::string(kCms) + "?watch=true&labelSelector=app%3Dx&timeoutSeconds=2", 10);
  REQUIRE(initial.size() == 1);
  CHECK(initial[0]["type"] == "ADDED");
  CHECK(initial[0]["object"]["kind"] == "ConfigMap");
  CHECK(initial[0]["object"]["metadata"]["name"] == "a");

  auto bookmarks = w.watch(std::string(kCms) + "?watch=true&allowWatchBookmarks=true&resourceVersion=" +
                               initial[0]["object"]["metadata"]["resourceVersion"].get<std::string>() +
                               "&timeoutSeconds=3",
                           10);
  bool sawBookmark = false;
  for (const auto& e : bookmarks) {
    if (e["type"] == "BOOKMARK") {
      sawBookmark = true;
      CHECK(e["object"]["kind"] == "ConfigMap");
      CHECK_FALSE(e["object"]["metadata"]["resourceVersion"].get<std::string>().empty());
    }
  }
  CHECK(sawBookmark);

  // Enough writes that automatic compaction passes revision 1.
  for (int i = 0; i < 20; ++i) {
    REQUIRE(w.call("PATCH", std::string(kCms) + "/b", "{\"data\":{\"i\":\"" + std::to_string(i) + "\"}}",
                   "application/merge-patch+json")
                .code == 200);
  }
  auto expired = w.watch(std::string(kCms) + "?watch=true&resourceVersion=1", 10);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0]["type"] == "ERROR");
  CHECK(expired[0]["object"]["code"] == 410);
  CHECK(expired[0]["object"]["reason"] == "Expired");
}

TEST_CASE("more bad input over HTTPS: YAML, resourceVersions, queries, methods, paths and HTTP framing",
          "[integration][apiserver]") {
  Wire w;
  const std::string cms = kCms;
  // YAML bodies are accepted as the real server accepts them; broken ones are 400.
  auto yaml =
      w.call("POST", cms, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n",
             "application/yaml");
  INFO(yaml.body);
  REQUIRE(yaml.code == 201);
  CHECK(yaml.parsed()["data"]["k"] == "v");
  checkStatus(w.call("POST", cms, "metadata: {name: [y\n", "application/yaml"), 400, "BadRequest");
  checkStatus(w.call("POST", cms, "metadata: {name: a}\n---\nmetadata: {name: b}\n", "application/yaml"), 400,
              "BadRequest");
  checkStatus(w.call("POST", cms, "- just\n- a list\n", "application/yaml"), 400, "BadRequest");
  checkStatus(w.call("POST", cms, ""), 400, "BadRequest");
  // The kind and the apiVersion of the body must be the path's.
  auto wrongVersion =
      w.call("POST", cms, R"({"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"v"}})");
  checkStatus(wrongVersion, 400, "BadRequest");
  CHECK_THAT(wrongVersion.body, Catch::Contains("apps/v1"));
  checkStatus(w.call("PUT", cms + "/from-yaml",
                     R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"from-yaml"}})"),
              400, "BadRequest");
  // Names: not DNS-1123, too long, or not the URL's.
  checkStatus(w.call("POST", cms, R"({"metadata":{"name":"a..b"}})"), 422, "Invalid");
  checkStatus(w.call("POST", cms, "{\"metadata\":{\"name\":\"" + std::string(300, 'a') + "\"}}"), 422,
              "Invalid");
  checkStatus(w.call("PUT", cms + "/from-yaml", R"({"metadata":{"name":"other"}})"), 400, "BadRequest");
  // A resourceVersion that is not one: 400 on lists and watches, 409 on an update (it cannot match).
  checkStatus(w.call("GET", cms + "?resourceVersion=abc"), 400, "BadRequest");
  checkStatus(w.call("GET", cms + "?watch=true&resourceVersion=abc"), 400, "BadRequest");
  checkStatus(
      w.call("PUT", cms + "/from-yaml", R"({"metadata":{"name":"from-yaml","resourceVersion":"abc"}})"), 409,
      "Conflict");
  checkStatus(w.call("GET", cms + "?limit=many"), 400, "BadRequest");
  checkStatus(w.call("GET", cms + "?watch=true&timeoutSeconds=soon"), 400, "BadRequest");
  // A garbage query string is read leniently, as Go's url.Query does: the list still comes.
  auto garbage = w.call("GET", cms + "?%zz=%%&&=&;;&labelSelector&%00");
  INFO(garbage.body);
  CHECK(garbage.code == 200);
  CHECK(garbage.parsed()["items"].size() == 1);
  // Methods no resource serves, and verbs the path does not take.
  checkStatus(w.call("OPTIONS", cms), 405, "MethodNotAllowed");
  checkStatus(w.call("FROB", cms + "/from-yaml"), 405, "MethodNotAllowed");
  checkStatus(w.call("PUT", cms, R"({"metadata":{"name":"x"}})"), 405, "MethodNotAllowed");
  checkStatus(w.call("POST", cms + "/from-yaml", R"({"metadata":{"name":"x"}})"), 405, "MethodNotAllowed");
  // Paths that name nothing.
  for (const char* path :
       {"/", "/nonsense", "/api/v2/namespaces/default/configmaps", "/apis/nogroup/v1/things",
        "/apis/apps/v9/deployments", "/api/v1/namespaces/default/configmaps/from-yaml/bogus",
        "/api/v1/namespaces/default/configmaps/from-yaml/status/extra", "/api/v1/nodes/n1/status",
        "/api/v1/namespaces/default/namespaces"}) {
    INFO(path);
    checkStatus(w.call("GET", path), 404, "NotFound");
  }
  // HTTP framing: a well-formed chunked body is a body like any other; broken chunk framing gets 400 and
  // the connection closed; a body cut short gets nothing (there is no one left to answer).
  auto chunked = w.call("POST", cms, R"({"metadata":{"name":"chunked"},"data":{"c":"1"}})",
                        "application/json", "-H 'Transfer-Encoding: chunked'");
  INFO(chunked.body);
  CHECK(chunked.code == 201);
  const std::string head = "POST " + cms + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                           w.server().token() + "\r\nContent-Type: application/json\r\n";
  auto badChunk = w.raw(head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
  CHECK_THAT(badChunk, Catch::Contains("HTTP/1.1 400"));
  CHECK_THAT(badChunk, Catch::Contains("\"reason\":\"BadRequest\""));
  auto badHeader = w.raw("GET " + cms + " HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n");
  CHECK_THAT(badHeader, Catch::Contains("HTTP/1.1 400"));
  auto cut = w.raw(head + "Content-Length: 100\r\n\r\n{\"metadata\":{\"name\":\"cut\"}", 2);
  CHECK_THAT(cut, !Catch::Contains("HTTP/"));
  auto cutChunk = w.raw(head + "Transfer-Encoding: chunked\r\n\r\n10\r\n{\"metadata\"", 2);
  CHECK_THAT(cutChunk, !Catch::Contains("HTTP/"));

  // Still up, and only the good writes are there.
  auto list = w.call("GET", cms);
  INFO(list.body);
  REQUIRE(list.code == 200);
  const json items = list.parsed()["items"];
  std::set<std::string> names;
  for (const auto& item : items) names.insert(item["metadata"]["name"].get<std::string>());
  CHECK(names == std::set<std::string>{"chunked", "from-yaml"});
}

TEST_CASE("Tables on the wire: lists, single objects, includeObject, one-row watch events",
          "[integration][apiserver][table]") {
  Wire w;
  REQUIRE(w.call("POST", kCms, R"({"metadata":{"name":"a","labels":{"x":"1"}},"data":{"k":"v"}})").code ==
          201);
  REQUIRE(w.call("POST", kCms, R"({"metadata":{"name":"b"}})").code == 201);
  const std::string asTable =
      "-H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
      "g=meta.k8s.io,application/json'";

  auto plain = w.call("GET", kCms).parsed();
  CHECK(plain["kind"] == "ConfigMapList");
  auto list = w.call("GET", kCms, "", "application/json", asTable).parsed();
  CHECK(list["kind"] == "Table");
  CHECK(list["apiVersion"] == "meta.k8s.io/v1");
  CHECK(list["metadata"]["resourceVersion"] == plain["metadata"]["resourceVersion"]);
  std::vector<std::string> columns;
  for (const auto& c : list["columnDefinitions"]) columns.push_back(c["name"]);
  CHECK(columns == std::vector<std::string>{"Name", "Data", "Age"});
  REQUIRE(list["rows"].size() == 2);
  CHECK(list["rows"][0]["cells"][0] == "a");
  CHECK(list["rows"][0]["cells"][1] == 1);
  CHECK(list["rows"][1]["cells"][1] == 0);
  CHECK(list["rows"][0]["object"]["kind"] == "PartialObjectMetadata");
  CHECK(list["rows"][0]["object"]["metadata"]["labels"]["x"] == "1");

  auto page = w.call("GET", std::string(kCms) + "?limit=1", "", "application/json", asTable).parsed();
  CHECK(page["rows"].size() == 1);
  CHECK_FALSE(page["metadata"].value("continue", "").empty());
  CHECK(page["metadata"]["resourceVersion"] == plain["metadata"]["resourceVersion"]);

  auto full =
      w.call("GET", std::string(kCms) + "/a?includeObject=Object", "", "application/json", asTable).parsed();
  REQUIRE(full["rows"].size() == 1);
  CHECK(full["rows"][0]["object"]["kind"] == "ConfigMap");
  CHECK(full["rows"][0]["object"]["data"]["k"] == "v");
  auto bare =
      w.call("GET", std::string(kCms) + "/a?includeObject=None", "", "application/json", asTable).parsed();
  CHECK(bare["rows"][0]["object"].is_null());
  checkStatus(w.call("GET", std::string(kCms) + "?includeObject=All", "", "application/json", asTable), 400,
              "BadRequest");
  checkStatus(w.call("GET", std::string(kCms) + "/zz", "", "application/json", asTable), 404, "NotFound");

  auto events = w.watch(std::string(kCms) + "?watch=true&resourceVersion=0", 2, asTable);
  REQUIRE(events.size() == 2);
  for (const auto& e : events) {
    CHECK(e["type"] == "ADDED");
    CHECK(e["object"]["kind"] == "Table");
    CHECK(e["object"]["rows"].size() == 1);
  }
  CHECK(events[0]["object"]["columnDefinitions"].size() == 3);
  CHECK(events[1]["object"]["columnDefinitions"].empty());
  CHECK(events[1]["object"]["rows"][0]["cells"][0] == "b");
}

TEST_CASE("hostile input over HTTPS: deep bodies, a watch from the future, unknown patch directives",
          "[integration][apiserver][limits]") {
  Wire w;
  const std::string cms = kCms;
  REQUIRE(w.call("POST", cms, R"({"metadata":{"name":"c"},"data":{"a":"1"}})").code == 201);
  // 80,000 levels crashed the process while serialising; now each is a 400 and the server stays up.
  const std::string deep = std::string(80000, '[') + std::string(80000, ']');
  auto create = w.call("POST", "/api/v1/namespaces/default/pods",
                       R"({"metadata":{"name":"deep"},"spec":{"x":)" + deep + "}}");
  checkStatus(create, 400, "BadRequest");
  CHECK_THAT(create.body, Catch::Contains("exceeded max depth"));
  checkStatus(w.call("PUT", cms + "/c", R"({"metadata":{"name":"c"},"data":)" + deep + "}"), 400,
              "BadRequest");
  checkStatus(w.call("POST", cms, "metadata: {name: y}\ndata: " + deep + "\n", "application/yaml"), 400,
              "BadRequest");
  checkStatus(w.call("PATCH", cms + "/c", R"({"data":)" + deep + "}", "application/merge-patch+json"), 400,
              "BadRequest");
  auto explode =
      w.call("PATCH", cms + "/c", R"({"$patch":"explode"})", "application/strategic-merge-patch+json");
  checkStatus(explode, 400, "BadRequest");
  CHECK_THAT(explode.body, Catch::Contains("unknown patch type"));

  // A watch from a revision the server has not reached: 200, then one ERROR event with the real
  // server's 504 and its retry hint, and the stream ends (curl returns well before its time limit).
  const auto list = w.call("GET", cms).parsed();
  const long long current = std::stoll(list["metadata"]["resourceVersion"].get<std::string>());
  const std::string future = std::to_string(current + 100);
  auto start = std::chrono::steady_clock::now();
  auto events = w.watch(cms + "?watch=true&resourceVersion=" + future, 10);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  REQUIRE(events.size() == 1);
  CHECK(events[0]["type"] == "ERROR");
  CHECK(events[0]["object"]["code"] == 504);
  CHECK(events[0]["object"]["reason"] == "Timeout");
  CHECK(events[0]["object"]["message"] ==
        "Timeout: Too large resource version: " + future + ", current: " + std::to_string(current));
  CHECK(events[0]["object"]["details"]["retryAfterSeconds"] == 1);
  auto exact = w.call("GET", cms + "?resourceVersion=" + future + "&resourceVersionMatch=Exact");
  checkStatus(exact, 504, "Timeout");

  // Still serving, with only the good write.
  auto after = w.call("GET", cms);
  REQUIRE(after.code == 200);
  REQUIRE(after.parsed()["items"].size() == 1);
  CHECK(after.parsed()["items"][0]["data"] == json{{"a", "1"}});
}

TEST_CASE("the workload simulation runs a bounded number of pods whatever spec.replicas says",
          "[integration][apiserver][workloads]") {
  sluice::apiserver::ServerOptions options;
  options.podReadyAfter = std::chrono::milliseconds(100);
  options.maxPodsPerReplicaSet = 3;
  Wire w(options);
  const std::string apps = "/apis/apps/v1/namespaces/default/";
  const std::string tmpl =
      R"("selector":{"matchLabels":{"app":"APP"}},"template":{"metadata":{"labels":{"app":"APP"}},"spec":{"containers":[{"name":"c","image":"i"}]}})";
  auto spec = [&](const std::string& app) {
    std::string s = tmpl;
    for (auto at = s.find("APP"); at != std::string::npos; at = s.find("APP")) s.replace(at, 3, app);
    return s;
  };
  REQUIRE(w.call("POST", apps + "replicasets",
                 R"({"metadata":{"name":"bare"},"spec":{"replicas":10,)" + spec("bare") + "}}")
              .code == 201);
  // The largest count the real server accepts: before the cap, the surge arithmetic overflowed on it.
  REQUIRE(w.call("POST", apps + "deployments",
                 R"({"metadata":{"name":"huge"},"spec":{"replicas":2147483647,)" + spec("huge") + "}}")
              .code == 201);
  auto pods = [&](const std::string& app) {
    return w.call("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3D" + app)
        .parsed()["items"]
        .size();
  };
  REQUIRE(sluice::testing::waitUntil([&] { return pods("bare") == 3 && pods("huge") == 3; },
                                     std::chrono::seconds(20)));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // and no more come
  CHECK(pods("bare") == 3);
  CHECK(pods("huge") == 3);
  const json rs = w.call("GET", apps + "replicasets?labelSelector=app%3Dhuge").parsed()["items"];
  REQUIRE(rs.size() == 1);
  CHECK(rs[0]["spec"]["replicas"] == 3);
  CHECK(w.call("GET", apps + "replicasets/bare").parsed()["spec"]["replicas"] == 10);  // kept as written
  const json events =
      w.call("GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dbare")
          .parsed()["items"];
  bool warned = false;
  for (const auto& e : events)
    warned = warned || (e["reason"] == "SimulationLimit" && e["type"] == "Warning");
  CHECK(warned);
}
