// The API server's object semantics, request by request, as the real server behaves (reference §4).
#include <catch2/catch.hpp>

#include "kube/apiserver/registry.h"
#include "tests/support/process.h"

using nlohmann::json;
using namespace sluice::apiserver;
using sluice::testing::TempDir;

namespace {

struct Fixture {
  TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<Registry> reg;
  Fixture() {
    auto s = Store::open(dir / "state.db");
    REQUIRE(s.ok());
    store = std::move(s).value();
    auto r = Registry::open(*store);
    REQUIRE(r.ok());
    reg = std::move(r).value();
  }
  const ResourceType& type(const std::string& group, const std::string& version, const std::string& resource) {
    auto t = reg->find(group, version, resource);
    REQUIRE(t != nullptr);
    held.push_back(t);
    return *t;
  }
  std::vector<std::shared_ptr<const ResourceType>> held;
};

json configMap(const std::string& name, const json& data) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", data}};
}

std::string rvOf(const json& obj) { return obj["metadata"]["resourceVersion"]; }

}  // namespace

TEST_CASE("registry: default namespaces exist and creates fill server-side metadata", "[apiserver][registry]") {
  Fixture f;
  const auto& ns = f.type("", "v1", "namespaces");
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    auto got = f.reg->get(ns, "", name);
    REQUIRE(got.ok());
    CHECK(got.value()["status"]["phase"] == "Active");
  }
  const auto& cms = f.type("", "v1", "configmaps");
  auto created = f.reg->create(cms, "default", configMap("a", {{"k", "v"}}), {});
  REQUIRE(created.ok());
  const json& meta = created.value()["metadata"];
  CHECK(meta["namespace"] == "default");
  CHECK(meta["uid"].get<std::string>().size() == 36);
  CHECK(meta["creationTimestamp"].get<std::string>().back() == 'Z');
  CHECK_FALSE(meta.contains("generation"));  // ConfigMaps do not track generation
  CHECK(std::stoll(rvOf(created.value())) == f.reg->currentRevision());

  auto gen = f.reg->create(cms, "default", {{"metadata", {{"generateName", "web-"}}}}, {});
  REQUIRE(gen.ok());
  CHECK(gen.value()["metadata"]["name"].get<std::string>().size() == 9);
}

TEST_CASE("registry: errors are the real server's Status errors", "[apiserver][registry]") {
  Fixture f;
  const auto& cms = f.type("", "v1", "configmaps");
  const auto& deploys = f.type("apps", "v1", "deployments");
  REQUIRE(f.reg->create(cms, "default", configMap("a", {}), {}).ok());
  struct Row {
    const char* what;
    ApiResult<json> result;
    int code;
    const char* reason;
    const char* message;
  };
  const json stale = [&] {
    json c = configMap("a", {{"x", "1"}});
    c["metadata"]["resourceVersion"] = "1";
    return c;
  }();
  json withRv = configMap("b", {});
  withRv["metadata"]["resourceVersion"] = "5";
  std::vector<Row> rows;
  rows.push_back({"duplicate", f.reg->create(cms, "default", configMap("a", {}), {}), 409, "AlreadyExists",
                  "configmaps \"a\" already exists"});
  rows.push_back({"missing", f.reg->get(cms, "default", "zz"), 404, "NotFound", "configmaps \"zz\" not found"});
  rows.push_back({"missing group", f.reg->get(deploys, "default", "zz"), 404, "NotFound",
                  "deployments.apps \"zz\" not found"});
  rows.push_back({"stale update", f.reg->update(cms, "default", "a", Subresource::kMain, stale, {}), 409, "Conflict",
                  "Operation cannot be fulfilled on configmaps \"a\": the object has been modified; please apply your "
                  "changes to the latest version and try again"});
  rows.push_back({"bad name", f.reg->create(cms, "default", configMap("Bad_Name", {}), {}), 422, "Invalid",
                  "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC "
                  "1123 subdomain must consist of"});
  rows.push_back({"no namespace", f.reg->create(cms, "nowhere", configMap("c", {}), {}), 404, "NotFound",
                  "namespaces \"nowhere\" not found"});
  rows.push_back({"namespace mismatch",
                  f.reg->create(cms, "default", {{"metadata", {{"name", "d"}, {"namespace", "other"}}}}, {}), 400,
                  "BadRequest", "the namespace of the provided object does not match the namespace sent on the request"});
  rows.push_back({"rv on create", f.reg->create(cms, "default", withRv, {}), 400, "BadRequest",
                  "resourceVersion should not be set on objects to be created"});
  rows.push_back({"wrong kind", f.reg->create(cms, "default", {{"kind", "Secret"}, {"metadata", {{"name", "e"}}}}, {}),
                  400, "BadRequest", "the kind in the data (Secret) does not match the expected kind (ConfigMap)"});
  rows.push_back({"bad selector", f.reg->list(cms, "", {"app in web", "", 0, ""}), 400, "BadRequest",
                  "unable to parse requirement"});
  rows.push_back({"bad field", f.reg->list(cms, "", {"", "spec.x=1", 0, ""}), 400, "BadRequest",
                  "field label not supported: spec.x"});
  rows.push_back({"json patch test fails",
                  f.reg->patch(cms, "default", "a", Subresource::kMain, PatchType::kJson,
                               R"([{"op":"test","path":"/data","value":{"q":"1"}}])", {}),
                  422, "Invalid", "the JSON patch could not be applied"});
  rows.push_back({"malformed patch",
                  f.reg->patch(cms, "default", "a", Subresource::kMain, PatchType::kMerge, "{not json", {}), 400,
                  "BadRequest", "error decoding patch"});
  for (const auto& row : rows) {
    INFO(row.what);
    REQUIRE_FALSE(row.result.ok());
    CHECK(row.result.error().code == row.code);
    CHECK(row.result.error().reason == row.reason);
    CHECK_THAT(row.result.error().message, Catch::StartsWith(row.message));
    json body = statusBody(row.result.error());
    CHECK(body["kind"] == "Status");
    CHECK(body["status"] == "Failure");
    CHECK(body["code"] == row.code);
  }
}

TEST_CASE("registry: generation follows spec, status subresource splits the object", "[apiserver][registry]") {
  Fixture f;
  const auto& deploys = f.type("apps", "v1", "deployments");
  json d = {{"metadata", {{"name", "web"}}},
            {"spec", {{"replicas", 1}, {"template", {{"spec", {{"containers", {{{"name", "a"}, {"image", "x:1"}}}}}}}}}},
            {"status", {{"replicas", 99}}}};
  auto created = f.reg->create(deploys, "default", d, {});
  REQUIRE(created.ok());
  CHECK(created.value()["metadata"]["generation"] == 1);
  CHECK_FALSE(created.value().contains("status"));  // dropped on create

  auto labelled = f.reg->patch(deploys, "default", "web", Subresource::kMain, PatchType::kMerge,
                               R"({"metadata":{"labels":{"a":"b"}},"status":{"replicas":5}})", {});
  REQUIRE(labelled.ok());
  CHECK(labelled.value()["metadata"]["generation"] == 1);  // metadata only
  CHECK_FALSE(labelled.value().contains("status"));         // the main endpoint ignores status

  auto status = f.reg->patch(deploys, "default", "web", Subresource::kStatus, PatchType::kMerge,
                             R"({"spec":{"replicas":7},"status":{"replicas":3}})", {});
  REQUIRE(status.ok());
  CHECK(status.value()["status"]["replicas"] == 3);
  CHECK(status.value()["spec"]["replicas"] == 1);  // /status ignores spec
  CHECK(status.value()["metadata"]["generation"] == 1);

  auto spec = f.reg->patch(deploys, "default", "web", Subresource::kMain, PatchType::kMerge,
                           R"({"spec":{"replicas":4}})", {});
  REQUIRE(spec.ok());
  CHECK(spec.value()["metadata"]["generation"] == 2);
  CHECK(spec.value()["status"]["replicas"] == 3);  // kept

  auto scale = f.reg->getSubresource(deploys, "default", "web", Subresource::kScale);
  REQUIRE(scale.ok());
  CHECK(scale.value()["kind"] == "Scale");
  CHECK(scale.value()["spec"]["replicas"] == 4);
  auto scaled = f.reg->patch(deploys, "default", "web", Subresource::kScale, PatchType::kMerge,
                             R"({"spec":{"replicas":6}})", {});
  REQUIRE(scaled.ok());
  CHECK(f.reg->get(deploys, "default", "web").value()["spec"]["replicas"] == 6);
}

TEST_CASE("registry: a no-op write changes nothing and emits nothing; dry run stores nothing", "[apiserver][registry]") {
  Fixture f;
  const auto& cms = f.type("", "v1", "configmaps");
  auto a = f.reg->create(cms, "default", configMap("a", {{"k", "v"}}), {});
  REQUIRE(a.ok());
  std::vector<WatchEvent> events;
  auto w = f.reg->watch(cms, "default", {rvOf(a.value()), "", ""}, [&](const WatchEvent& e) { events.push_back(e); });
  REQUIRE(w.ok());
  int64_t rev = f.reg->currentRevision();
  auto same = f.reg->update(cms, "default", "a", Subresource::kMain, a.value(), {});
  REQUIRE(same.ok());
  CHECK(rvOf(same.value()) == rvOf(a.value()));
  auto samePatch = f.reg->patch(cms, "default", "a", Subresource::kMain, PatchType::kMerge, R"({"data":{"k":"v"}})", {});
  REQUIRE(samePatch.ok());
  CHECK(f.reg->currentRevision() == rev);

  auto dry = f.reg->patch(cms, "default", "a", Subresource::kMain, PatchType::kMerge, R"({"data":{"k":"dry"}})",
                          {true});
  REQUIRE(dry.ok());
  CHECK(dry.value()["data"]["k"] == "dry");
  auto dryCreate = f.reg->create(cms, "default", configMap("b", {}), {true});
  REQUIRE(dryCreate.ok());
  auto dryDelete = f.reg->remove(cms, "default", "a", {true, {}, {}, ""});
  REQUIRE(dryDelete.ok());
  CHECK(f.reg->currentRevision() == rev);
  CHECK(f.reg->get(cms, "default", "a").value()["data"]["k"] == "v");
  CHECK_FALSE(f.reg->get(cms, "default", "b").ok());
  CHECK(events.empty());

  REQUIRE(f.reg->patch(cms, "default", "a", Subresource::kMain, PatchType::kMerge, R"({"data":{"k":"w"}})", {}).ok());
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == "MODIFIED");
}

TEST_CASE("registry: finalizers hold a deleted object until the last one is removed", "[apiserver][registry]") {
  Fixture f;
  const auto& cms = f.type("", "v1", "configmaps");
  json held = configMap("held", {});
  held["metadata"]["finalizers"] = {"example.com/a"};
  REQUIRE(f.reg->create(cms, "default", held, {}).ok());
  std::vector<WatchEvent> events;
  auto w = f.reg->watch(cms, "default", {std::to_string(f.reg->currentRevision()), "", ""},
                        [&](const WatchEvent& e) { events.push_back(e); });
  REQUIRE(w.ok());
  auto del = f.reg->remove(cms, "default", "held", {});
  REQUIRE(del.ok());
  CHECK(del.value()["metadata"].contains("deletionTimestamp"));
  CHECK(f.reg->get(cms, "default", "held").ok());
  auto add = f.reg->patch(cms, "default", "held", Subresource::kMain, PatchType::kMerge,
                          R"({"metadata":{"finalizers":["example.com/a","example.com/b"]}})", {});
  REQUIRE_FALSE(add.ok());
  CHECK(add.error().code == 422);
  auto done = f.reg->patch(cms, "default", "held", Subresource::kMain, PatchType::kMerge,
                           R"({"metadata":{"finalizers":null}})", {});
  REQUIRE(done.ok());
  CHECK_FALSE(f.reg->get(cms, "default", "held").ok());
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == "MODIFIED");
  CHECK(events[1].type == "DELETED");

  auto plain = f.reg->create(cms, "default", configMap("plain", {}), {});
  REQUIRE(plain.ok());
  auto wrongUid = f.reg->remove(cms, "default", "plain", {false, std::string("nope"), {}, ""});
  REQUIRE_FALSE(wrongUid.ok());
  CHECK(wrongUid.error().code == 409);
  auto gone = f.reg->remove(cms, "default", "plain", {});
  REQUIRE(gone.ok());
  CHECK(gone.value()["kind"] == "Status");
  CHECK(gone.value()["status"] == "Success");
  CHECK(gone.value()["details"]["uid"] == plain.value()["metadata"]["uid"]);
}

TEST_CASE("registry: a CRD serves its resources at once, with CR rules", "[apiserver][registry]") {
  Fixture f;
  const auto& crds = f.type("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  json crd = json::parse(R"({"metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com","scope":"Namespaced",
    "names":{"plural":"widgets","singular":"widget","kind":"Widget","shortNames":["wd"]},
    "versions":[{"name":"v1","served":true,"storage":true,"subresources":{"status":{},"scale":{"specReplicasPath":".spec.size","statusReplicasPath":".status.size"}}}]}})");
  auto bad = crd;
  bad["metadata"]["name"] = "wrong.example.com";
  auto badResult = f.reg->create(crds, "", bad, {});
  REQUIRE_FALSE(badResult.ok());
  CHECK(badResult.error().code == 422);
  CHECK(f.reg->find("example.com", "v1", "widgets") == nullptr);

  auto created = f.reg->create(crds, "", crd, {});
  REQUIRE(created.ok());
  bool established = false;
  for (const auto& c : created.value()["status"]["conditions"]) established |= c["type"] == "Established" && c["status"] == "True";
  CHECK(established);
  auto wt = f.reg->find("example.com", "v1", "widgets");
  REQUIRE(wt != nullptr);
  CHECK(wt->shortNames == std::vector<std::string>{"wd"});
  CHECK(wt->scaleSubresource);
  auto w = f.reg->create(*wt, "default", {{"metadata", {{"name", "w1"}}}, {"spec", {{"size", 2}}}, {"status", {{"size", 1}}}}, {});
  REQUIRE(w.ok());
  CHECK(w.value()["apiVersion"] == "example.com/v1");
  CHECK_FALSE(w.value().contains("status"));
  CHECK(w.value()["metadata"]["generation"] == 1);
  // Custom resources need a resourceVersion to be replaced, and take no strategic merge patch.
  json put = w.value();
  put["metadata"].erase("resourceVersion");
  auto unconditional = f.reg->update(*wt, "default", "w1", Subresource::kMain, put, {});
  REQUIRE_FALSE(unconditional.ok());
  CHECK(unconditional.error().code == 422);
  auto smp = f.reg->patch(*wt, "default", "w1", Subresource::kMain, PatchType::kStrategic, "{}", {});
  REQUIRE_FALSE(smp.ok());
  CHECK(smp.error().code == 415);
  auto scale = f.reg->patch(*wt, "default", "w1", Subresource::kScale, PatchType::kMerge, R"({"spec":{"replicas":9}})", {});
  REQUIRE(scale.ok());
  CHECK(f.reg->get(*wt, "default", "w1").value()["spec"]["size"] == 9);

  // Deleting the CRD stops serving the resource and removes its objects.
  REQUIRE(f.reg->remove(crds, "", "widgets.example.com", {}).ok());
  CHECK(f.reg->find("example.com", "v1", "widgets") == nullptr);
  CHECK(f.store->list("example.com/widgets/")->items.empty());
}

TEST_CASE("registry: paginated lists share one resourceVersion; watches honour selectors", "[apiserver][registry]") {
  Fixture f;
  const auto& cms = f.type("", "v1", "configmaps");
  for (int i = 0; i < 5; ++i) {
    json c = configMap("c" + std::to_string(i), {});
    c["metadata"]["labels"] = {{"app", i % 2 == 0 ? "even" : "odd"}};
    REQUIRE(f.reg->create(cms, "default", c, {}).ok());
  }
  auto page1 = f.reg->list(cms, "default", {"app=even", "", 2, ""});
  REQUIRE(page1.ok());
  REQUIRE(page1.value()["items"].size() == 2);
  std::string token = page1.value()["metadata"]["continue"];
  json late = configMap("c8", {});
  late["metadata"]["labels"] = {{"app", "even"}};
  REQUIRE(f.reg->create(cms, "default", late, {}).ok());  // after the snapshot: not on its pages
  auto page2 = f.reg->list(cms, "default", {"app=even", "", 2, token});
  REQUIRE(page2.ok());
  CHECK(page2.value()["metadata"]["resourceVersion"] == page1.value()["metadata"]["resourceVersion"]);
  REQUIRE(page2.value()["items"].size() == 1);
  CHECK(page2.value()["items"][0]["metadata"]["name"] == "c4");
  CHECK_FALSE(page2.value()["metadata"].contains("continue"));

  std::vector<WatchEvent> events;
  auto w = f.reg->watch(cms, "default", {"0", "app=even", ""}, [&](const WatchEvent& e) { events.push_back(e); });
  REQUIRE(w.ok());
  REQUIRE(events.size() == 4);  // synthetic ADDED for c0, c2, c4, c8
  CHECK(events[0].type == "ADDED");
  events.clear();
  REQUIRE(f.reg->patch(cms, "default", "c1", Subresource::kMain, PatchType::kMerge,
                       R"({"metadata":{"labels":{"app":"even"}}})", {}).ok());
  REQUIRE(f.reg->patch(cms, "default", "c0", Subresource::kMain, PatchType::kMerge,
                       R"({"metadata":{"labels":{"app":"odd"}}})", {}).ok());
  REQUIRE(f.reg->patch(cms, "default", "c3", Subresource::kMain, PatchType::kMerge, R"({"data":{"x":"y"}})", {}).ok());
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == "ADDED");  // c1 entered the selection
  CHECK(events[0].object["metadata"]["name"] == "c1");
  CHECK(events[1].type == "DELETED");  // c0 left it: its previous state, at the new revision
  CHECK(events[1].object["metadata"]["labels"]["app"] == "even");
  CHECK(events[1].object["metadata"]["resourceVersion"] == std::to_string(f.reg->currentRevision() - 1));
}

TEST_CASE("registry: names are checked as RFC 1123 subdomains, namespaces as labels", "[apiserver][registry]") {
  struct Row {
    const char* kind;
    const char* name;
    bool ok;
  };
  const std::vector<Row> rows = {
      {"ConfigMap", "web", true},        {"ConfigMap", "web.example.com", true}, {"ConfigMap", "Web", false},
      {"ConfigMap", "-web", false},      {"ConfigMap", "web_1", false},          {"Namespace", "team-a", true},
      {"Namespace", "team.a", false},    {"ConfigMap", "a..b", false},
  };
  for (const auto& row : rows) {
    INFO(row.kind << " " << row.name);
    CHECK(nameProblem(row.kind, row.name).empty() == row.ok);
  }
  CHECK_FALSE(nameProblem("ConfigMap", std::string(254, 'a')).empty());
  CHECK_FALSE(nameProblem("Namespace", std::string(64, 'a')).empty());
}
