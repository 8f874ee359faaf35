// The garbage collector's and the namespace controller's decisions, as kube-controller-manager makes them:
// a row per case.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kube/apiserver/garbage_collector.h"
#include "kube/apiserver/namespace_controller.h"

using nlohmann::json;
using namespace sluice::apiserver;

namespace {

OwnerReference ref(const std::string& uid, bool block = false) {
  return {"v1", "ConfigMap", "owner-" + uid, uid, block};
}

}  // namespace

TEST_CASE("garbage collector: what happens to a dependent, given its owners", "[apiserver][gc]") {
  using S = OwnerState;
  using A = DependentAction;
  struct Row {
    const char* name;
    std::vector<OwnerReference> owners;
    std::map<std::string, OwnerState> states;
    std::vector<std::string> finalizers;
    bool hasDependents;
    A::Kind kind;
    std::vector<std::string> removeUids;
    std::string policy;
  };
  const std::vector<Row> rows = {
      {"no owners: nothing", {}, {}, {}, false, A::kNothing, {}, ""},
      {"owner present: nothing", {ref("a")}, {{"a", S::kSolid}}, {}, false, A::kNothing, {}, ""},
      {"only owner gone: deleted in the background",
       {ref("a")},
       {{"a", S::kAbsent}},
       {},
       true,
       A::kDelete,
       {},
       "Background"},
      {"one of two owners gone: its reference goes",
       {ref("a"), ref("b")},
       {{"a", S::kAbsent}, {"b", S::kSolid}},
       {},
       false,
       A::kRemoveReferences,
       {"a"},
       ""},
      {"all owners gone: deleted",
       {ref("a"), ref("b")},
       {{"a", S::kAbsent}, {"b", S::kAbsent}},
       {},
       false,
       A::kDelete,
       {},
       "Background"},
      {"owner waiting, leaf dependent: background",
       {ref("a", true)},
       {{"a", S::kWaitingForDependents}},
       {},
       false,
       A::kDelete,
       {},
       "Background"},
      {"owner waiting, dependent with dependents: foreground too",
       {ref("a", true)},
       {{"a", S::kWaitingForDependents}},
       {},
       true,
       A::kDelete,
       {},
       "Foreground"},
      {"waiting owner beside a solid one: its reference goes",
       {ref("a"), ref("b")},
       {{"a", S::kWaitingForDependents}, {"b", S::kSolid}},
       {},
       false,
       A::kRemoveReferences,
       {"a"},
       ""},
      {"the dependent's own orphan finalizer decides",
       {ref("a")},
       {{"a", S::kAbsent}},
       {"orphan"},
       true,
       A::kDelete,
       {},
       "Orphan"},
      {"an owner of a kind not served counts as present", {ref("a")}, {}, {}, false, A::kNothing, {}, ""},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto action = decideForDependent(row.owners, row.states, row.finalizers, row.hasDependents);
    CHECK(action.kind == row.kind);
    CHECK(action.removeUids == row.removeUids);
    CHECK(action.policy == row.policy);
  }
}

TEST_CASE("garbage collector: a foreground owner waits only for dependents that block it",
          "[apiserver][gc]") {
  CHECK(foregroundOwnerReleased("a", {}));
  CHECK(foregroundOwnerReleased("a", {{ref("a", false)}}));
  CHECK_FALSE(foregroundOwnerReleased("a", {{ref("a", false)}, {ref("b", true), ref("a", true)}}));
  CHECK(foregroundOwnerReleased("a", {{ref("b", true)}}));  // blocks another owner, not this one
}

TEST_CASE("garbage collector: ownerReferences are read by uid, entries without one skipped",
          "[apiserver][gc]") {
  json obj = {{"metadata",
               {{"ownerReferences",
                 {{{"apiVersion", "apps/v1"},
                   {"kind", "ReplicaSet"},
                   {"name", "web"},
                   {"uid", "u1"},
                   {"blockOwnerDeletion", true},
                   {"controller", true}},
                  {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "nouid"}},
                  "junk"}}}}};
  auto refs = ownerReferencesOf(obj);
  REQUIRE(refs.size() == 1);
  CHECK(refs[0].apiVersion == "apps/v1");
  CHECK(refs[0].kind == "ReplicaSet");
  CHECK(refs[0].name == "web");
  CHECK(refs[0].uid == "u1");
  CHECK(refs[0].blockOwnerDeletion);
  CHECK(ownerReferencesOf(json::object()).empty());
}

TEST_CASE("namespace controller: conditions say what remains, worded as the real controller",
          "[apiserver][namespace]") {
  NamespaceContent held;
  held.remainingByResource = {{"widgets.example.com", 1}, {"configmaps.", 2}};
  held.remainingByFinalizer = {{"example.com/hold", 1}};
  json c = namespaceDeletionConditions(held, json(), "2026-01-01T00:00:00Z");
  REQUIRE(c.size() == 5);
  CHECK(c[0]["type"] == "NamespaceDeletionDiscoveryFailure");
  CHECK(c[0]["status"] == "False");
  CHECK(c[2]["type"] == "NamespaceDeletionContentFailure");
  CHECK(c[2]["message"] == "All content successfully deleted, may be waiting on finalization");
  CHECK(c[3]["type"] == "NamespaceContentRemaining");
  CHECK(c[3]["status"] == "True");
  CHECK(c[3]["reason"] == "SomeResourcesRemain");
  CHECK(c[3]["message"] ==
        "Some resources are remaining: configmaps. has 2 resource instances, widgets.example.com has 1 "
        "resource instances");
  CHECK(c[4]["type"] == "NamespaceFinalizersRemaining");
  CHECK(c[4]["status"] == "True");
  CHECK(c[4]["reason"] == "SomeFinalizersRemain");
  CHECK(c[4]["message"] ==
        "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances");

  // Once empty, the changed conditions take the new time and the unchanged ones keep theirs.
  json later = namespaceDeletionConditions({}, c, "2026-01-01T00:05:00Z");
  CHECK(later[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z");
  CHECK(later[3]["status"] == "False");
  CHECK(later[3]["reason"] == "ContentRemoved");
  CHECK(later[3]["message"] == "All content successfully removed");
  CHECK(later[3]["lastTransitionTime"] == "2026-01-01T00:05:00Z");
  CHECK(later[4]["reason"] == "ContentHasNoFinalizers");
  CHECK(later[4]["message"] == "All content-preserving finalizers finished");
}
