// The three patch engines against Kubernetes' documented behaviour: apimachinery's strategic merge
// patch test cases and patch tags, RFC 7386 and RFC 6902 examples, and the status codes the real API
// server answers with (endpoints/handlers/patch.go).
#include <catch2/catch.hpp>

#include "kube/patch.h"
#include "kube/strategic_merge.h"

using namespace sluice::kube;
using nlohmann::json;

namespace {

struct Row {
  const char* name;
  const char* apiVersion;
  const char* kind;
  const char* original;
  const char* patch;
  const char* expected;
};

}  // namespace

TEST_CASE("strategic merge patch merges lists by the keys the Kubernetes types declare",
          "[kube][patch][smp]") {
  const Row rows[] = {
      {"containers merge by name, other fields kept", "v1", "Pod",
       R"({"spec":{"containers":[{"name":"a","image":"a:1","ports":[{"containerPort":80}]},{"name":"b","image":"b:1"}]}})",
       R"({"spec":{"containers":[{"name":"b","image":"b:2"}]}})",
       R"({"spec":{"containers":[{"name":"a","image":"a:1","ports":[{"containerPort":80}]},{"name":"b","image":"b:2"}]}})"},
      // apimachinery orders a new element before server-only ones it cannot place (mergeSortedSlice).
      {"a new container goes before the server-only ones", "apps/v1", "Deployment",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:1"}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"c:1"}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"c:1"},{"name":"a","image":"a:1"}]}}}})"},
      {"env merges by name inside a container merged by name", "apps/v1", "Deployment",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","env":[{"name":"X","value":"1"},{"name":"Y","value":"2"}]}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","env":[{"name":"Y","value":"3"}]}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","env":[{"name":"X","value":"1"},{"name":"Y","value":"3"}]}]}}}})"},
      {"envFrom has no patch strategy and is replaced", "v1", "Pod",
       R"({"spec":{"containers":[{"name":"a","envFrom":[{"configMapRef":{"name":"one"}}]}]}})",
       R"({"spec":{"containers":[{"name":"a","envFrom":[{"secretRef":{"name":"two"}}]}]}})",
       R"({"spec":{"containers":[{"name":"a","envFrom":[{"secretRef":{"name":"two"}}]}]}})"},
      {"container ports merge by containerPort", "v1", "Pod",
       R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80,"name":"http"}]}]}})",
       R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80,"protocol":"TCP"}]}]}})",
       R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80,"name":"http","protocol":"TCP"}]}]}})"},
      {"Service ports merge by port", "v1", "Service",
       R"({"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443,"targetPort":8443}]}})",
       R"({"spec":{"ports":[{"port":443,"targetPort":9443}]}})",
       R"({"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443,"targetPort":9443}]}})"},
      {"volumes merge by name and volumeMounts by mountPath", "v1", "Pod",
       R"({"spec":{"volumes":[{"name":"v","emptyDir":{}}],"containers":[{"name":"a","volumeMounts":[{"mountPath":"/d","name":"v"}]}]}})",
       R"({"spec":{"volumes":[{"name":"w","emptyDir":{}}],"containers":[{"name":"a","volumeMounts":[{"mountPath":"/d","readOnly":true}]}]}})",
       R"({"spec":{"volumes":[{"name":"w","emptyDir":{}},{"name":"v","emptyDir":{}}],"containers":[{"name":"a","volumeMounts":[{"mountPath":"/d","name":"v","readOnly":true}]}]}})"},
      {"tolerations have no patch strategy and are replaced", "v1", "Pod",
       R"({"spec":{"tolerations":[{"key":"a","operator":"Exists"}]}})",
       R"({"spec":{"tolerations":[{"key":"b","operator":"Exists"}]}})",
       R"({"spec":{"tolerations":[{"key":"b","operator":"Exists"}]}})"},
      {"imagePullSecrets merge by name", "v1", "Pod", R"({"spec":{"imagePullSecrets":[{"name":"one"}]}})",
       R"({"spec":{"imagePullSecrets":[{"name":"two"}]}})",
       R"({"spec":{"imagePullSecrets":[{"name":"two"},{"name":"one"}]}})"},
      {"status conditions merge by type", "apps/v1", "Deployment",
       R"({"status":{"conditions":[{"type":"Available","status":"False"},{"type":"Progressing","status":"True"}]}})",
       R"({"status":{"conditions":[{"type":"Available","status":"True"}]}})",
       R"({"status":{"conditions":[{"type":"Available","status":"True"},{"type":"Progressing","status":"True"}]}})"},
      {"ownerReferences merge by uid", "v1", "ConfigMap",
       R"({"metadata":{"ownerReferences":[{"uid":"1","name":"a"}]}})",
       R"({"metadata":{"ownerReferences":[{"uid":"1","controller":true}]}})",
       R"({"metadata":{"ownerReferences":[{"uid":"1","name":"a","controller":true}]}})"},
      {"finalizers merge as a set", "v1", "ConfigMap", R"({"metadata":{"finalizers":["a","b"]}})",
       R"({"metadata":{"finalizers":["b","c"]}})", R"({"metadata":{"finalizers":["a","b","c"]}})"},
      {"Ingress rules have no patch strategy and are replaced", "networking.k8s.io/v1", "Ingress",
       R"({"spec":{"rules":[{"host":"a"}]}})", R"({"spec":{"rules":[{"host":"b"}]}})",
       R"({"spec":{"rules":[{"host":"b"}]}})"},
      {"ConfigMap data merges as a map and null deletes", "v1", "ConfigMap", R"({"data":{"a":"1","b":"2"}})",
       R"({"data":{"a":null,"c":"3"}})", R"({"data":{"b":"2","c":"3"}})"},
      {"Role rules are replaced", "rbac.authorization.k8s.io/v1", "Role", R"({"rules":[{"verbs":["get"]}]})",
       R"({"rules":[{"verbs":["list"]}]})", R"({"rules":[{"verbs":["list"]}]})"},
      {"a field the table does not know merges like JSON merge patch", "v1", "Pod",
       R"({"spec":{"custom":{"a":1,"b":[1]}}})", R"({"spec":{"custom":{"b":[2]}}})",
       R"({"spec":{"custom":{"a":1,"b":[2]}}})"},
      {"a value of another type replaces the original", "v1", "ConfigMap", R"({"data":{"a":"1"}})",
       R"({"data":["x"]})", R"({"data":["x"]})"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto out =
        applyStrategicMergePatch(json::parse(row.original), json::parse(row.patch), row.apiVersion, row.kind);
    REQUIRE(out.ok());
    CHECK(out.value() == json::parse(row.expected));
  }
}

TEST_CASE("strategic merge patch honours and strips the $ directives", "[kube][patch][smp]") {
  const Row rows[] = {
      {"$patch: delete in a list element removes the element by merge key", "v1", "Pod",
       R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]}})",
       R"({"spec":{"containers":[{"name":"a","$patch":"delete"}]}})",
       R"({"spec":{"containers":[{"name":"b"}]}})"},
      {"$patch: replace in a list replaces the whole list", "v1", "Pod",
       R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]}})",
       R"({"spec":{"containers":[{"name":"c"},{"$patch":"replace"}]}})",
       R"({"spec":{"containers":[{"name":"c"}]}})"},
      {"$patch: replace in a map replaces the map", "v1", "ConfigMap", R"({"data":{"a":"1","b":"2"}})",
       R"({"data":{"c":"3","$patch":"replace"}})", R"({"data":{"c":"3"}})"},
      {"$patch: delete in a map empties it", "v1", "ConfigMap", R"({"data":{"a":"1"}})",
       R"({"data":{"$patch":"delete"}})", R"({"data":{}})"},
      {"$deleteFromPrimitiveList removes from a set", "v1", "ConfigMap",
       R"({"metadata":{"finalizers":["a","b","c"]}})",
       R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b"]}})",
       R"({"metadata":{"finalizers":["a","c"]}})"},
      {"$retainKeys clears the keys it does not list", "apps/v1", "Deployment",
       R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})",
       R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})",
       R"({"spec":{"strategy":{"type":"Recreate"}}})"},
      {"$setElementOrder orders the merged list", "v1", "Pod",
       R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]}})",
       R"({"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],"containers":[{"name":"a","image":"x"}]}})",
       R"({"spec":{"containers":[{"name":"b"},{"name":"a","image":"x"}]}})"},
      {"$setElementOrder interleaves server-only items by the server order", "v1", "ConfigMap",
       R"({"metadata":{"finalizers":["a","b","c"]}})",
       R"({"metadata":{"$setElementOrder/finalizers":["c","a"]}})",
       R"({"metadata":{"finalizers":["b","c","a"]}})"},
      {"directives in a value the original lacks are honoured too", "v1", "Pod", R"({"spec":{}})",
       R"({"spec":{"containers":[{"name":"a","$patch":"delete"},{"name":"b"}]}})",
       R"({"spec":{"containers":[{"name":"b"}]}})"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto out =
        applyStrategicMergePatch(json::parse(row.original), json::parse(row.patch), row.apiVersion, row.kind);
    REQUIRE(out.ok());
    CHECK(out.value() == json::parse(row.expected));
  }
}

TEST_CASE("strategic merge patch errors carry the real server's class", "[kube][patch][smp]") {
  struct ErrRow {
    const char* name;
    const char* apiVersion;
    const char* kind;
    const char* patch;
    PatchErrorKind expected;
    const char* messagePart;
  };
  const ErrRow rows[] = {
      {"a custom resource has no strategic merge schema", "sluice.dev/v1alpha1", "Rollout", R"({"spec":{}})",
       PatchErrorKind::kUnsupportedMediaType, "the body of the request was in an unknown format"},
      {"a patch that is not an object", "v1", "Pod", R"([1])", PatchErrorKind::kBadRequest,
       "cannot unmarshal array"},
      {"$retainKeys that is not a list", "apps/v1", "Deployment",
       R"({"spec":{"strategy":{"$retainKeys":"type"}}})", PatchErrorKind::kBadRequest,
       "invalid patch format of retainKeys"},
      {"a patch key outside $retainKeys", "apps/v1", "Deployment",
       R"({"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{}}}})", PatchErrorKind::kBadRequest,
       "invalid patch format of retainKeys"},
      {"$deleteFromPrimitiveList that is not a list", "v1", "ConfigMap",
       R"({"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}})", PatchErrorKind::kBadRequest,
       "Invalid patch format of primitive list"},
      {"$setElementOrder that is not a list", "v1", "Pod", R"({"spec":{"$setElementOrder/containers":{}}})",
       PatchErrorKind::kBadRequest, "invalid patch format of setElementOrder list"},
      {"a list of lists", "v1", "ConfigMap", R"({"metadata":{"finalizers":[["a"]]}})",
       PatchErrorKind::kUnprocessable, "Lists of lists are not supported"},
      {"a merge-keyed element without its key", "v1", "Pod", R"({"spec":{"containers":[{"image":"x"}]}})",
       PatchErrorKind::kBadRequest, "does not contain declared merge key: name"},
      {"an unknown $patch value", "v1", "ConfigMap", R"({"data":{"$patch":"explode"}})",
       PatchErrorKind::kBadRequest, "unknown patch type"},
      {"an unknown $patch value at the top", "v1", "ConfigMap", R"({"$patch":"explode"})",
       PatchErrorKind::kBadRequest, "unknown patch type: \"explode\""},
      {"an unknown $patch value in a merged list", "v1", "Pod",
       R"({"spec":{"containers":[{"name":"a","$patch":"explode"}]}})", PatchErrorKind::kBadRequest,
       "unknown patch type"},
      {"maps and scalars in one merged list", "v1", "Pod", R"({"spec":{"containers":["a"]}})",
       PatchErrorKind::kBadRequest, "list element types are not identical"},
      {"$patch: merge in a list", "v1", "Pod", R"({"spec":{"containers":[{"$patch":"merge"}]}})",
       PatchErrorKind::kBadRequest, "merging lists cannot yet be specified in the patch"},
  };
  const json original =
      json::parse(R"({"spec":{"containers":[{"name":"a"}]},"metadata":{"finalizers":["x"]}})");
  for (const auto& row : rows) {
    INFO(row.name);
    auto out = applyStrategicMergePatch(original, json::parse(row.patch), row.apiVersion, row.kind);
    REQUIRE_FALSE(out.ok());
    CHECK(out.errorKind() == row.expected);
    CHECK_THAT(out.error(), Catch::Contains(row.messagePart));
  }
  CHECK(httpStatus(PatchErrorKind::kUnsupportedMediaType) == 415);
  CHECK(httpStatus(PatchErrorKind::kBadRequest) == 400);
  CHECK(httpStatus(PatchErrorKind::kUnprocessable) == 422);
  CHECK(httpStatus(PatchErrorKind::kInternal) == 500);
}

TEST_CASE("every built-in kind the server hosts has a strategic merge schema", "[kube][patch][smp]") {
  const std::pair<const char*, const char*> kinds[] = {
      {"v1", "Namespace"},
      {"v1", "ConfigMap"},
      {"v1", "Secret"},
      {"v1", "Service"},
      {"v1", "ServiceAccount"},
      {"v1", "Event"},
      {"v1", "Pod"},
      {"apps/v1", "Deployment"},
      {"apps/v1", "ReplicaSet"},
      {"apps/v1", "StatefulSet"},
      {"batch/v1", "Job"},
      {"networking.k8s.io/v1", "Ingress"},
      {"networking.k8s.io/v1", "IngressClass"},
      {"coordination.k8s.io/v1", "Lease"},
      {"rbac.authorization.k8s.io/v1", "Role"},
      {"rbac.authorization.k8s.io/v1", "RoleBinding"},
      {"rbac.authorization.k8s.io/v1", "ClusterRole"},
      {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding"},
      {"apiextensions.k8s.io/v1", "CustomResourceDefinition"},
  };
  for (const auto& [apiVersion, kind] : kinds) {
    INFO(apiVersion << " " << kind);
    CHECK(hasStrategicMergeSchema(apiVersion, kind));
    // Every kind merges metadata.finalizers as a set.
    auto out =
        applyStrategicMergePatch(json::parse(R"({"metadata":{"finalizers":["a"]}})"),
                                 json::parse(R"({"metadata":{"finalizers":["a"]}})"), apiVersion, kind);
    REQUIRE(out.ok());
    CHECK(out.value()["metadata"]["finalizers"] == json::array({"a"}));
  }
  CHECK_FALSE(hasStrategicMergeSchema("v1", "Rollout"));
  CHECK_FALSE(hasStrategicMergeSchema("apps/v1beta1", "Deployment"));
}

TEST_CASE("JSON merge patch follows RFC 7386", "[kube][patch][merge]") {
  // The examples of RFC 7386 appendix A.
  const std::tuple<const char*, const char*, const char*> rows[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", R"(null)", R"(null)"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const auto& [doc, patch, expected] : rows) {
    INFO(doc << " + " << patch);
    auto out = applyMergePatch(json::parse(doc), json::parse(patch));
    REQUIRE(out.ok());
    CHECK(out.value() == json::parse(expected));
  }
}

TEST_CASE("JSON patch applies RFC 6902 operations", "[kube][patch][jsonpatch]") {
  const std::tuple<const char*, const char*, const char*, const char*> rows[] = {
      {"add a member", R"({"a":1})", R"([{"op":"add","path":"/b","value":2}])", R"({"a":1,"b":2})"},
      {"add into an array", R"({"l":[1,3]})", R"([{"op":"add","path":"/l/1","value":2}])",
       R"({"l":[1,2,3]})"},
      {"append with -", R"({"l":[1]})", R"([{"op":"add","path":"/l/-","value":2}])", R"({"l":[1,2]})"},
      {"remove", R"({"a":1,"b":2})", R"([{"op":"remove","path":"/a"}])", R"({"b":2})"},
      {"replace", R"({"a":1})", R"([{"op":"replace","path":"/a","value":"x"}])", R"({"a":"x"})"},
      {"move", R"({"a":{"b":1}})", R"([{"op":"move","from":"/a/b","path":"/c"}])", R"({"a":{},"c":1})"},
      {"copy", R"({"a":1})", R"([{"op":"copy","from":"/a","path":"/b"}])", R"({"a":1,"b":1})"},
      {"a passing test then a change", R"({"a":1})",
       R"([{"op":"test","path":"/a","value":1},{"op":"replace","path":"/a","value":2}])", R"({"a":2})"},
      {"escaped keys", R"({"metadata":{"labels":{"a/b":"1"}}})",
       R"([{"op":"replace","path":"/metadata/labels/a~1b","value":"2"}])",
       R"({"metadata":{"labels":{"a/b":"2"}}})"},
      {"an empty patch changes nothing", R"({"a":1})", R"([])", R"({"a":1})"},
  };
  for (const auto& [name, doc, patch, expected] : rows) {
    INFO(name);
    auto out = applyJsonPatch(json::parse(doc), json::parse(patch));
    REQUIRE(out.ok());
    CHECK(out.value() == json::parse(expected));
  }
}

TEST_CASE("JSON patch errors: decoding is 400, applying is 422, too many operations 413",
          "[kube][patch][jsonpatch]") {
  const std::tuple<const char*, const char*, PatchErrorKind, const char*> rows[] = {
      {"not an array", R"({"op":"add"})", PatchErrorKind::kBadRequest, "cannot unmarshal object"},
      {"an operation that is not an object", R"([1])", PatchErrorKind::kBadRequest,
       "cannot unmarshal number"},
      {"a failing test", R"([{"op":"test","path":"/a","value":2}])", PatchErrorKind::kUnprocessable,
       "test failed"},
      {"a missing path to remove", R"([{"op":"remove","path":"/zz"}])", PatchErrorKind::kUnprocessable,
       "operation 0 (remove /zz)"},
      {"a missing path to replace", R"([{"op":"replace","path":"/x/y","value":1}])",
       PatchErrorKind::kUnprocessable, "doc is missing path"},
      {"an unknown op", R"([{"op":"frobnicate","path":"/a"}])", PatchErrorKind::kUnprocessable,
       "unexpected kind: frobnicate"},
      {"no op", R"([{"path":"/a"}])", PatchErrorKind::kUnprocessable, "operation missing op field"},
      {"no path", R"([{"op":"add","value":1}])", PatchErrorKind::kUnprocessable,
       "operation missing path field"},
      {"no value", R"([{"op":"add","path":"/b"}])", PatchErrorKind::kUnprocessable, "missing value field"},
      {"no from", R"([{"op":"move","path":"/b"}])", PatchErrorKind::kUnprocessable, "missing from field"},
      {"a path that is not a pointer", R"([{"op":"add","path":"a","value":1}])",
       PatchErrorKind::kUnprocessable, "operation 0"},
  };
  const json doc = json::parse(R"({"a":1})");
  for (const auto& [name, patch, kind, part] : rows) {
    INFO(name);
    auto out = applyJsonPatch(doc, json::parse(patch));
    REQUIRE_FALSE(out.ok());
    CHECK(out.errorKind() == kind);
    CHECK_THAT(out.error(), Catch::Contains(part));
  }
  // A failing operation leaves nothing half-applied: the caller keeps its document.
  auto partial = applyJsonPatch(
      doc, json::parse(R"([{"op":"add","path":"/b","value":2},{"op":"test","path":"/a","value":9}])"));
  REQUIRE_FALSE(partial.ok());
  CHECK(partial.error().find("operation 1") != std::string::npos);

  json many = json::array();
  for (size_t i = 0; i <= kMaxJsonPatchOperations; ++i)
    many.push_back({{"op", "test"}, {"path", "/a"}, {"value", 1}});
  auto tooMany = applyJsonPatch(doc, many);
  REQUIRE_FALSE(tooMany.ok());
  CHECK(tooMany.errorKind() == PatchErrorKind::kTooLarge);
  CHECK(httpStatus(tooMany.errorKind()) == 413);
}

TEST_CASE("a patch result converts to a Result for callers that need only the message", "[kube][patch]") {
  sluice::Result<json> ok = applyMergePatch(json::object(), json::parse(R"({"a":1})"));
  REQUIRE(ok.ok());
  CHECK(ok.value() == json::parse(R"({"a":1})"));
  sluice::Result<json> bad = applyJsonPatch(json::object(), json::parse(R"([{"op":"remove","path":"/x"}])"));
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error(), Catch::Contains("/x"));
}

TEST_CASE("hostile nesting is refused before any engine recurses into it", "[kube][patch]") {
  json deep = json::object();
  for (size_t i = 0; i < kMaxJsonNestingDepth + 5; ++i) deep = json{{"a", std::move(deep)}};
  CHECK(nestedDeeperThan(deep, kMaxJsonNestingDepth));
  CHECK_FALSE(nestedDeeperThan(json::parse(R"({"a":[{"b":1}]})"), 3));
  CHECK(nestedDeeperThan(json::parse(R"({"a":[{"b":{}}]})"), 3));
  auto smp = applyStrategicMergePatch(json::object(), deep, "v1", "ConfigMap");
  REQUIRE_FALSE(smp.ok());
  CHECK(smp.errorKind() == PatchErrorKind::kBadRequest);
  auto merge = applyMergePatch(deep, json::object());
  REQUIRE_FALSE(merge.ok());
  CHECK(merge.errorKind() == PatchErrorKind::kBadRequest);
  auto jp = applyJsonPatch(deep, json::array());
  REQUIRE_FALSE(jp.ok());
  CHECK(jp.errorKind() == PatchErrorKind::kBadRequest);
}

TEST_CASE("mergePatchBetween gives the merge patch from one document to another, and nothing more",
          "[kube][patch]") {
  const json from = json::parse(R"({"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2], "f": "x"})");
  const json to = json::parse(R"({"a": 1, "b": {"c": 5}, "e": [2], "g": true})");
  const json patch = mergePatchBetween(from, to);
  CHECK(patch == json::parse(R"({"b": {"c": 5, "d": null}, "e": [2], "f": null, "g": true})"));
  auto applied = applyMergePatch(from, patch);
  REQUIRE(applied.ok());
  CHECK(*applied == to);
  CHECK(mergePatchBetween(to, to) == json::object());
}
