// Our API server on the wire, through curl over HTTPS: bad input gets the real server's status codes and
// Status bodies (and the server stays up), discovery and OpenAPI shapes, and watch streams (initial
// events, bookmarks, 410 Expired inside the stream).
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

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
  checkStatus(w.call("POST", kCms, "metadata: {name: y}", "application/yaml"), 415, "UnsupportedMediaType");
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
