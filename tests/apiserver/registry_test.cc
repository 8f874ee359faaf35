// The API server's object semantics, request by request, as the real server behaves (docs/design.md §B.4).
#include <catch2/catch.hpp>

#include "kube/apiserver/registry.h"
#include "kube/apiserver/validation.h"
#include "tests/support/process.h"

using nlohmann::json;
using namespace sluice::apiserver;
using sluice::testing::TempDir;

namespace {

// List options by position (designated initializers that skip members warn under -Wextra).
ListOptions listOptions(std::string labelSelector, std::string fieldSelector = "", int64_t limit = 0,
                        std::string continueToken = "") {
  ListOptions o;
  o.labelSelector = std::move(labelSelector);
  o.fieldSelector = std::move(fieldSelector);
  o.limit = limit;
  o.continueToken = std::move(continueToken);
  return o;
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<Registry> reg;
  explicit Fixture(const sluice::Clock& clock = sluice::realClock()) {
    auto s = Store::open(dir / "state.db");
    REQUIRE(s.ok());
    store = std::move(s).value();
    auto r = Registry::open(*store, clock);
    REQUIRE(r.ok());
    reg = std::move(r).value();
  }
  const ResourceType& type(const std::string& group, const std::string& version,
                           const std::string& resource) {
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

TEST_CASE("registry: default namespaces exist and creates fill server-side metadata",
          "[apiserver][registry]") {
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
  rows.push_back(
      {"missing", f.reg->get(cms, "default", "zz"), 404, "NotFound", "configmaps \"zz\" not found"});
  rows.push_back({"missing group", f.reg->get(deploys, "default", "zz"), 404, "NotFound",
                  "deployments.apps \"zz\" not found"});
  rows.push_back(
      {"stale update", f.reg->update(cms, "default", "a", Subresource::kMain, stale, {}), 409, "Conflict",
       "Operation cannot be fulfilled on configmaps \"a\": the object has been modified; please apply your "
       "changes to the latest version and try again"});
  rows.push_back(
      {"bad name", f.reg->create(cms, "default", configMap("Bad_Name", {}), {}), 422, "Invalid",
       "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC "
       "1123 subdomain must consist of"});
  rows.push_back({"no namespace", f.reg->create(cms, "nowhere", configMap("c", {}), {}), 404, "NotFound",
                  "namespaces \"nowhere\" not found"});
  rows.push_back({"namespace mismatch",
                  f.reg->create(cms, "default", {{"metadata", {{"name", "d"}, {"namespace", "other"}}}}, {}),
                  400, "BadRequest",
                  "the namespace of the provided object does not match the namespace sent on the request"});
  rows.push_back({"rv on create", f.reg->create(cms, "default", withRv, {}), 400, "BadRequest",
                  "resourceVersion should not be set on objects to be created"});
  rows.push_back(
      {"wrong kind", f.reg->create(cms, "default", {{"kind", "Secret"}, {"metadata", {{"name", "e"}}}}, {}),
       400, "BadRequest", "the kind in the data (Secret) does not match the expected kind (ConfigMap)"});
  rows.push_back({"bad selector", f.reg->list(cms, "", listOptions("app in web")), 400, "BadRequest",
                  "unable to parse requirement"});
  rows.push_back({"bad field", f.reg->list(cms, "", listOptions("", "spec.x=1")), 400, "BadRequest",
                  "field label not supported: spec.x"});
  rows.push_back({"json patch test fails",
                  f.reg->patch(cms, "default", "a", Subresource::kMain, PatchType::kJson,
                               R"([{"op":"test","path":"/data","value":{"q":"1"}}])", {}),
                  422, "Invalid", "the server rejected our request due to an error in our request"});
  rows.push_back({"malformed patch",
                  f.reg->patch(cms, "default", "a", Subresource::kMain, PatchType::kMerge, "{not json", {}),
                  400, "BadRequest", "error decoding patch"});
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

TEST_CASE("registry: generation follows spec, status subresource splits the object",
          "[apiserver][registry]") {
  Fixture f;
  const auto& deploys = f.type("apps", "v1", "deployments");
  json d = {{"metadata", {{"name", "web"}}},
            {"spec",
             {{"replicas", 1},
              {"selector", {{"matchLabels", {{"app", "web"}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", "web"}}}}},
                {"spec", {{"containers", {{{"name", "a"}, {"image", "x:1"}}}}}}}}}},
            {"status", {{"replicas", 99}}}};
  auto created = f.reg->create(deploys, "default", d, {});
  REQUIRE(created.ok());
  CHECK(created.value()["metadata"]["generation"] == 1);
  CHECK_FALSE(created.value().contains("status"));  // dropped on create

  auto labelled = f.reg->patch(deploys, "default", "web", Subresource::kMain, PatchType::kMerge,
                               R"({"metadata":{"labels":{"a":"b"}},"status":{"replicas":5}})", {});
  REQUIRE(labelled.ok());
  CHECK(labelled.value()["metadata"]["generation"] == 1);  // metadata only
  CHECK_FALSE(labelled.value().contains("status"));        // the main endpoint ignores status

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

TEST_CASE("registry: a no-op write changes nothing and emits nothing, dry run stores nothing",
          "[apiserver][registry]") {
  Fixture f;
  const auto& cms = f.type("", "v1", "configmaps");
  auto a = f.reg->create(cms, "default", configMap("a", {{"k", "v"}}), {});
  REQUIRE(a.ok());
  std::vector<WatchEvent> events;
  auto w = f.reg->watch(cms, "default", {rvOf(a.value()), "", ""},
                        [&](const WatchEvent& e) { events.push_back(e); });
  REQUIRE(w.ok());
  int64_t rev = f.reg->currentRevision();
  auto same = f.reg->update(cms, "default", "a", Subresource::kMain, a.value(), {});
  REQUIRE(same.ok());
  CHECK(rvOf(same.value()) == rvOf(a.value()));
  auto samePatch =
      f.reg->patch(cms, "default", "a", Subresource::kMain, PatchType::kMerge, R"({"data":{"k":"v"}})", {});
  REQUIRE(samePatch.ok());
  CHECK(f.reg->currentRevision() == rev);

  auto dry = f.reg->patch(cms, "default", "a", Subresource::kMain, PatchType::kMerge,
                          R"({"data":{"k":"dry"}})", {true});
  REQUIRE(dry.ok());
  CHECK(dry.value()["data"]["k"] == "dry");
  auto dryCreate = f.reg->create(cms, "default", configMap("b", {}), {true});
  REQUIRE(dryCreate.ok());
  auto dryDelete = f.reg->remove(cms, "default", "a", {true, {}, {}, "", {}});
  REQUIRE(dryDelete.ok());
  CHECK(f.reg->currentRevision() == rev);
  CHECK(f.reg->get(cms, "default", "a").value()["data"]["k"] == "v");
  CHECK_FALSE(f.reg->get(cms, "default", "b").ok());
  CHECK(events.empty());

  REQUIRE(
      f.reg->patch(cms, "default", "a", Subresource::kMain, PatchType::kMerge, R"({"data":{"k":"w"}})", {})
          .ok());
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == "MODIFIED");
}

TEST_CASE("registry: creation and deletion times come from the registry's clock", "[apiserver][registry]") {
  sluice::ManualClock clock(std::chrono::sys_days{std::chrono::year{2026} / 11 / 28} + std::chrono::hours(3));
  Fixture f(clock);
  const auto& cms = f.type("", "v1", "configmaps");
  json held = configMap("held", {});
  held["metadata"]["finalizers"] = {"example.com/a"};
  auto created = f.reg->create(cms, "default", held, {});
  REQUIRE(created.ok());
  CHECK((*created)["metadata"]["creationTimestamp"] == "2026-11-28T03:00:00Z");
  clock.advance(std::chrono::seconds(90) + std::chrono::milliseconds(700));  // metav1.Time: whole seconds
  auto deleted = f.reg->remove(cms, "default", "held", {});
  REQUIRE(deleted.ok());
  CHECK((*deleted)["metadata"]["deletionTimestamp"] == "2026-11-28T03:01:30Z");
  CHECK((*deleted)["metadata"]["creationTimestamp"] == "2026-11-28T03:00:00Z");
}

TEST_CASE("registry: finalizers hold a deleted object until the last one is removed",
          "[apiserver][registry]") {
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
  auto wrongUid = f.reg->remove(cms, "default", "plain", {false, std::string("nope"), {}, "", {}});
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
  json crd = json::parse(
      R"({"metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com","scope":"Namespaced",
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
  for (const auto& c : created.value()["status"]["conditions"])
    established |= c["type"] == "Established" && c["status"] == "True";
  CHECK(established);
  auto wt = f.reg->find("example.com", "v1", "widgets");
  REQUIRE(wt != nullptr);
  CHECK(wt->shortNames == std::vector<std::string>{"wd"});
  CHECK(wt->scaleSubresource);
  auto w =
      f.reg->create(*wt, "default",
                    {{"metadata", {{"name", "w1"}}}, {"spec", {{"size", 2}}}, {"status", {{"size", 1}}}}, {});
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
  auto scale = f.reg->patch(*wt, "default", "w1", Subresource::kScale, PatchType::kMerge,
                            R"({"spec":{"replicas":9}})", {});
  REQUIRE(scale.ok());
  CHECK(f.reg->get(*wt, "default", "w1").value()["spec"]["size"] == 9);

  // A schema prunes, defaults and validates custom resources.
  json gadgets = json::parse(R"({"metadata":{"name":"gadgets.example.com"},"spec":{"group":"example.com",
    "scope":"Namespaced","names":{"plural":"gadgets","kind":"Gadget"},
    "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object",
      "properties":{"spec":{"type":"object","properties":{"size":{"type":"integer","default":1},
      "color":{"type":"string","enum":["red","blue"]}}}}}}}]}})");
  REQUIRE(f.reg->create(crds, "", gadgets, {}).ok());
  auto gt = f.reg->find("example.com", "v1", "gadgets");
  REQUIRE(gt != nullptr);
  auto defaulted =
      f.reg->create(*gt, "default", {{"metadata", {{"name", "g1"}}}, {"spec", {{"extra", true}}}}, {});
  REQUIRE(defaulted.ok());
  CHECK(defaulted.value()["spec"] == json({{"size", 1}}));  // defaulted, unknown field pruned
  auto wrongType =
      f.reg->create(*gt, "default", {{"metadata", {{"name", "g2"}}}, {"spec", {{"size", "big"}}}}, {});
  REQUIRE_FALSE(wrongType.ok());
  CHECK(wrongType.error().code == 422);
  CHECK_THAT(wrongType.error().message, Catch::StartsWith("Gadget.example.com \"g2\" is invalid: spec.size"));
  WriteOptions strict;
  strict.fieldValidation = sluice::apiserver::FieldValidation::kStrict;
  auto unknown =
      f.reg->create(*gt, "default", {{"metadata", {{"name", "g3"}}}, {"spec", {{"extra", 1}}}}, strict);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == 400);
  CHECK_THAT(unknown.error().message, Catch::Contains("unknown field \"spec.extra\""));
  auto badPatch = f.reg->patch(*gt, "default", "g1", Subresource::kMain, PatchType::kMerge,
                               R"({"spec":{"color":"green"}})", {});
  REQUIRE_FALSE(badPatch.ok());
  CHECK(badPatch.error().code == 422);

  // Deleting the CRD stops serving the resource and removes its objects.
  REQUIRE(f.reg->remove(crds, "", "widgets.example.com", {}).ok());
  CHECK(f.reg->find("example.com", "v1", "widgets") == nullptr);
  CHECK(f.store->list("example.com/widgets/")->items.empty());
}

TEST_CASE("registry: paginated lists share one resourceVersion, watches honour selectors",
          "[apiserver][registry]") {
  Fixture f;
  const auto& cms = f.type("", "v1", "configmaps");
  for (int i = 0; i < 5; ++i) {
    json c = configMap("c" + std::to_string(i), {});
    c["metadata"]["labels"] = {{"app", i % 2 == 0 ? "even" : "odd"}};
    REQUIRE(f.reg->create(cms, "default", c, {}).ok());
  }
  auto page1 = f.reg->list(cms, "default", listOptions("app=even", "", 2));
  REQUIRE(page1.ok());
  REQUIRE(page1.value()["items"].size() == 2);
  std::string token = page1.value()["metadata"]["continue"];
  json late = configMap("c8", {});
  late["metadata"]["labels"] = {{"app", "even"}};
  REQUIRE(f.reg->create(cms, "default", late, {}).ok());  // after the snapshot: not on its pages
  auto page2 = f.reg->list(cms, "default", listOptions("app=even", "", 2, token));
  REQUIRE(page2.ok());
  CHECK(page2.value()["metadata"]["resourceVersion"] == page1.value()["metadata"]["resourceVersion"]);
  REQUIRE(page2.value()["items"].size() == 1);
  CHECK(page2.value()["items"][0]["metadata"]["name"] == "c4");
  CHECK_FALSE(page2.value()["metadata"].contains("continue"));

  std::vector<WatchEvent> events;
  auto w =
      f.reg->watch(cms, "default", {"0", "app=even", ""}, [&](const WatchEvent& e) { events.push_back(e); });
  REQUIRE(w.ok());
  REQUIRE(events.size() == 4);  // synthetic ADDED for c0, c2, c4, c8
  CHECK(events[0].type == "ADDED");
  events.clear();
  REQUIRE(f.reg
              ->patch(cms, "default", "c1", Subresource::kMain, PatchType::kMerge,
                      R"({"metadata":{"labels":{"app":"even"}}})", {})
              .ok());
  REQUIRE(f.reg
              ->patch(cms, "default", "c0", Subresource::kMain, PatchType::kMerge,
                      R"({"metadata":{"labels":{"app":"odd"}}})", {})
              .ok());
  REQUIRE(
      f.reg->patch(cms, "default", "c3", Subresource::kMain, PatchType::kMerge, R"({"data":{"x":"y"}})", {})
          .ok());
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == "ADDED");  // c1 entered the selection
  CHECK(events[0].object["metadata"]["name"] == "c1");
  CHECK(events[1].type == "DELETED");  // c0 left it: its previous state, at the new revision
  CHECK(events[1].object["metadata"]["labels"]["app"] == "even");
  CHECK(events[1].object["metadata"]["resourceVersion"] == std::to_string(f.reg->currentRevision() - 1));
}

TEST_CASE("registry: names are checked as RFC 1123 subdomains, namespaces as labels",
          "[apiserver][registry]") {
  struct Row {
    const char* kind;
    const char* name;
    bool ok;
  };
  const std::vector<Row> rows = {
      {"ConfigMap", "web", true},     {"ConfigMap", "web.example.com", true}, {"ConfigMap", "Web", false},
      {"ConfigMap", "-web", false},   {"ConfigMap", "web_1", false},          {"Namespace", "team-a", true},
      {"Namespace", "team.a", false}, {"ConfigMap", "a..b", false},
  };
  for (const auto& row : rows) {
    INFO(row.kind << " " << row.name);
    CHECK(nameProblem(row.kind, row.name).empty() == row.ok);
  }
  CHECK_FALSE(nameProblem("ConfigMap", std::string(254, 'a')).empty());
  CHECK_FALSE(nameProblem("Namespace", std::string(64, 'a')).empty());
}

TEST_CASE("registry: propagation policies leave the garbage collector's finalizers, as the real server",
          "[apiserver][registry][gc]") {
  struct Row {
    const char* name;
    std::vector<std::string> had;
    const char* policy;
    std::vector<std::string> kept;
  };
  const std::vector<Row> rows = {
      {"no policy keeps what is there", {"a.io/x", "orphan"}, "", {"a.io/x", "orphan"}},
      {"background drops both", {"foregroundDeletion", "a.io/x", "orphan"}, "Background", {"a.io/x"}},
      {"foreground adds its own", {}, "Foreground", {"foregroundDeletion"}},
      {"foreground replaces orphan", {"orphan", "a.io/x"}, "Foreground", {"a.io/x", "foregroundDeletion"}},
      {"orphan replaces foreground", {"foregroundDeletion"}, "Orphan", {"orphan"}},
      {"orphan once", {"orphan"}, "Orphan", {"orphan"}},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    CHECK(finalizersOnDelete(row.had, row.policy) == row.kept);
  }

  Fixture f;
  const auto& cms = f.type("", "v1", "configmaps");
  for (const char* name : {"fg", "or", "bg"})
    REQUIRE(f.reg->create(cms, "default", configMap(name, {}), {}).ok());
  DeleteOptions foreground;
  foreground.propagationPolicy = "Foreground";
  auto fg = f.reg->remove(cms, "default", "fg", foreground);
  REQUIRE(fg.ok());
  CHECK(fg.value()["metadata"].contains("deletionTimestamp"));
  CHECK(fg.value()["metadata"]["finalizers"] == json::array({"foregroundDeletion"}));
  CHECK(f.reg->get(cms, "default", "fg").ok());  // kept until the collector is done
  // Deleting again in the background (kubectl's default) takes the foreground finalizer away: gone.
  DeleteOptions background;
  background.propagationPolicy = "Background";
  auto again = f.reg->remove(cms, "default", "fg", background);
  REQUIRE(again.ok());
  CHECK(again.value()["kind"] == "Status");
  CHECK_FALSE(f.reg->get(cms, "default", "fg").ok());

  DeleteOptions orphan;
  orphan.orphanDependents = true;  // the deprecated spelling of Orphan
  auto orphaned = f.reg->remove(cms, "default", "or", orphan);
  REQUIRE(orphaned.ok());
  CHECK(orphaned.value()["metadata"]["finalizers"] == json::array({"orphan"}));

  auto bg = f.reg->remove(cms, "default", "bg", background);
  REQUIRE(bg.ok());
  CHECK(bg.value()["status"] == "Success");

  REQUIRE(f.reg->create(cms, "default", configMap("x", {}), {}).ok());
  DeleteOptions bogus;
  bogus.propagationPolicy = "Sometimes";
  auto bad = f.reg->remove(cms, "default", "x", bogus);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == 422);
  CHECK(bad.error().message ==
        "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Sometimes\": "
        "supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"");
  CHECK(f.reg->get(cms, "default", "x").ok());
}

TEST_CASE("registry: a deleted namespace is Terminating until /finalize empties spec.finalizers",
          "[apiserver][registry][namespace]") {
  Fixture f;
  const auto& nss = f.type("", "v1", "namespaces");
  const auto& cms = f.type("", "v1", "configmaps");
  auto team = f.reg->create(nss, "", {{"metadata", {{"name", "team"}}}}, {});
  REQUIRE(team.ok());
  CHECK(team.value()["spec"]["finalizers"] == json::array({"kubernetes"}));
  REQUIRE(f.reg->create(cms, "team", configMap("a", {}), {}).ok());
  // A plain update cannot drop the controller's finalizer.
  json edited = team.value();
  edited["spec"]["finalizers"] = json::array();
  auto updated = f.reg->update(nss, "", "team", Subresource::kMain, edited, {});
  REQUIRE(updated.ok());
  CHECK(updated.value()["spec"]["finalizers"] == json::array({"kubernetes"}));

  auto del = f.reg->remove(nss, "", "team", {});
  REQUIRE(del.ok());
  CHECK(del.value()["status"]["phase"] == "Terminating");
  CHECK(del.value()["metadata"].contains("deletionTimestamp"));
  // Its content stays until the namespace controller deletes it; nothing new may come in.
  CHECK(f.reg->get(cms, "team", "a").ok());
  auto refused = f.reg->create(cms, "team", configMap("b", {}), {});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == 403);
  CHECK(refused.error().reason == "Forbidden");
  CHECK(refused.error().message ==
        "configmaps \"b\" is forbidden: unable to create new content in namespace team because it is being "
        "terminated");
  CHECK(refused.error().details["causes"][0]["reason"] == "NamespaceTerminating");

  auto finalized =
      f.reg->update(nss, "", "team", Subresource::kFinalize,
                    {{"metadata", {{"name", "team"}}}, {"spec", {{"finalizers", json::array()}}}}, {});
  REQUIRE(finalized.ok());
  auto gone = f.reg->get(nss, "", "team");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == 404);

  for (const char* immortal : {"default", "kube-system", "kube-public"}) {
    INFO(immortal);
    auto no = f.reg->remove(nss, "", immortal, {});
    REQUIRE_FALSE(no.ok());
    CHECK(no.error().code == 403);
    CHECK(no.error().message ==
          "namespaces \"" + std::string(immortal) + "\" is forbidden: this namespace may not be deleted");
    CHECK(f.reg->get(nss, "", immortal).value()["status"]["phase"] == "Active");
  }
  auto missing = f.reg->create(cms, "nowhere", configMap("c", {}), {});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == "namespaces \"nowhere\" not found");
}
