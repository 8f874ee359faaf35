// The three-way strategic merge patch `kubectl apply` sends for built-in kinds: lists merged by their
// key, so that what other writers added to a list survives an apply from git.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kube/strategic_merge.h"

using nlohmann::json;
using sluice::kube::applyStrategicMergePatch;
using sluice::kube::threeWayStrategicMergePatch;

namespace {

json deployment(json containers) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"spec", {{"template", {{"spec", {{"containers", std::move(containers)}}}}}}}};
}
json container(const std::string& name, const std::string& image) {
  return {{"name", name}, {"image", image}};
}

// What the server stores after the patch.
json patched(const json& live, const json& patch) {
  auto r = applyStrategicMergePatch(live, patch, "apps/v1", "Deployment");
  INFO((r ? std::string() : r.error()));
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("strategic apply: a new image changes only that container, a container added by hand stays",
          "[kube][apply]") {
  const json original = deployment(json::array({container("web", "nginx:1.25")}));
  const json modified = deployment(json::array({container("web", "nginx:1.26")}));
  const json live = deployment(json::array({container("web", "nginx:1.25"), container("sidecar", "envoy")}));
  const json patch = threeWayStrategicMergePatch(original, modified, live, "apps/v1", "Deployment");
  CHECK(patch == json{{"spec",
                       {{"template",
                         {{"spec",
                           {{"containers", json::array({{{"image", "nginx:1.26"}, {"name", "web"}}})},
                            {"$setElementOrder/containers", json::array({{{"name", "web"}}})}}}}}}}});
  const json after = patched(live, patch);
  CHECK(after == deployment(json::array({container("web", "nginx:1.26"), container("sidecar", "envoy")})));
}

TEST_CASE("strategic apply: each case sends what kubectl would, and the result is the manifest's",
          "[kube][apply]") {
  struct Case {
    const char* name;
    json original, modified, live, expectedAfter;
  };
  const json web = container("web", "nginx");
  const json side = container("side", "busybox");
  std::vector<Case> cases = {
      {"nothing to change: an empty patch", deployment({web}), deployment({web}), deployment({web}),
       deployment({web})},
      {"a container dropped from git is deleted by its name", deployment({web, side}), deployment({web}),
       deployment({web, side}), deployment({web})},
      {"a container added in git is added", deployment({web}), deployment({web, side}), deployment({web}),
       deployment({web, side})},
      {"a container deleted by hand is put back", deployment({web, side}), deployment({web, side}),
       deployment({web}), deployment({web, side})},
      {"an image changed by hand is set back", deployment({web}), deployment({web}),
       deployment({container("web", "evil")}), deployment({web})},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const json patch = threeWayStrategicMergePatch(c.original, c.modified, c.live, "apps/v1", "Deployment");
    if (c.live == c.expectedAfter) CHECK(patch == json::object());
    CHECK(patched(c.live, patch) == c.expectedAfter);
  }
}

TEST_CASE("strategic apply: env merged by name, server defaults inside an item are no difference",
          "[kube][apply]") {
  json c = container("web", "nginx");
  c["env"] = json::array({{{"name", "A"}, {"value", "1"}}});
  json liveC = c;
  liveC["imagePullPolicy"] = "Always";
  liveC["env"].push_back({{"name", "B"}, {"value", "by-hand"}});
  json wanted = c;
  wanted["env"][0]["value"] = "2";
  const json patch = threeWayStrategicMergePatch(deployment({c}), deployment({wanted}), deployment({liveC}),
                                                 "apps/v1", "Deployment");
  json expected = liveC;
  expected["env"][0]["value"] = "2";
  CHECK(patched(deployment({liveC}), patch) == deployment({expected}));
  CHECK(threeWayStrategicMergePatch(deployment({c}), deployment({c}), deployment({liveC}), "apps/v1",
                                    "Deployment") == json::object());
}

TEST_CASE("strategic apply: finalizers are a set, removed ones go with $deleteFromPrimitiveList",
          "[kube][apply]") {
  const json original = {{"metadata", {{"finalizers", {"a", "b"}}}}};
  const json modified = {{"metadata", {{"finalizers", {"a", "c"}}}}};
  const json live = {{"metadata", {{"finalizers", {"a", "b", "other"}}}}};
  const json patch = threeWayStrategicMergePatch(original, modified, live, "v1", "ConfigMap");
  CHECK(patch == json{{"metadata",
                       {{"finalizers", {"c"}},
                        {"$setElementOrder/finalizers", {"a", "c"}},
                        {"$deleteFromPrimitiveList/finalizers", {"b"}}}}});
  auto r = applyStrategicMergePatch(live, patch, "v1", "ConfigMap");
  REQUIRE(r.ok());
  CHECK(*r == json{{"metadata", {{"finalizers", {"a", "c", "other"}}}}});  // the manifest's order first
}
