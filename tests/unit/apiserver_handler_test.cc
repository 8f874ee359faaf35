// Handler::handle without sockets: requests once mishandled (bytes that are not UTF-8 reaching a JSON
// answer or the store threw instead of answering; the YAML body row was found by the libFuzzer target in
// tests/fuzz), one row each. Every answer must be a Status body, never an exception.
#include <catch2/catch.hpp>

#include "kube/apiserver/handler.h"
#include "kube/apiserver/registry.h"
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
                            .body = body});
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
