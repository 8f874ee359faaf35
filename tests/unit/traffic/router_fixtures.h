// What the router tests share: a Rollout routed as a test says, and golden files under
// tests/golden/traffic/ (rewritten with SLUICE_UPDATE_GOLDEN=1).
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/source.h"
#include "engine/rollout_json.h"
#include "kube/patch.h"
#include "traffic/router.h"

namespace sluice::testing {

// The Rollout "web" (namespace shop, services web-canary and web-stable) whose trafficRouting holds
// `fields` (`"nginx": {...}`, more fields after a comma); parsed without a diagnostic, not even a warning.
inline engine::Rollout routedRollout(const std::string& fields) {
  const std::string text = R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "Rollout",
    "metadata": {"name": "web", "namespace": "shop", "uid": "uid-web"},
    "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:2"}]}},
      "strategy": {"canary": {"canaryService": "web-canary", "stableService": "web-stable",
        "trafficRouting": {)" +
                           fields + R"(}, "steps": [{"setWeight": 10}]}}}})";
  Diagnostics diags;
  auto parsed = engine::parseRollout(nlohmann::json::parse(text), SourceMap(), diags);
  INFO(diags.format());
  REQUIRE(parsed);
  REQUIRE(diags.empty());
  return *parsed;
}

// The ownerReferences Argo Rollouts gives an object it makes for the Rollout `name`.
inline nlohmann::json argoOwnerReferences(const std::string& name) {
  return nlohmann::json::array({{{"apiVersion", "argoproj.io/v1alpha1"},
                                 {"kind", "Rollout"},
                                 {"name", name},
                                 {"uid", "argo-uid"},
                                 {"controller", true}}});
}

// Checks `actual` against tests/golden/traffic/<name>.json, or writes it there with SLUICE_UPDATE_GOLDEN set.
inline void checkGolden(const std::string& name, const nlohmann::json& actual) {
  const std::string path = std::string(SLUICE_SOURCE_DIR) + "/tests/golden/traffic/" + name + ".json";
  if (std::getenv("SLUICE_UPDATE_GOLDEN")) {
    std::ofstream(path) << actual.dump(2) << "\n";
    return;
  }
  auto text = readFile(path);
  INFO("no golden file " << path << ": run with SLUICE_UPDATE_GOLDEN=1 to write it");
  REQUIRE(text);
  INFO("expected " << path << ", got:\n" << actual.dump(2));
  CHECK(nlohmann::json::parse(*text) == actual);
}

// The live objects by kind and name; writes are applied as the API server would apply them.
struct Objects {
  std::map<std::pair<std::string, std::string>, nlohmann::json> byKey;

  Objects& add(const nlohmann::json& object) {
    byKey[{object["kind"].get<std::string>(), object["metadata"]["name"].get<std::string>()}] = object;
    return *this;
  }
  nlohmann::json& at(const std::string& kind, const std::string& name) { return byKey.at({kind, name}); }

  traffic::ObjectLookup lookup() const {
    return
        [objects = byKey](const std::string& kind, const std::string& name) -> std::optional<nlohmann::json> {
          const auto it = objects.find({kind, name});
          if (it == objects.end()) return std::nullopt;
          return it->second;
        };
  }

  // A create of an object that exists, or a patch or delete of one that does not, fails the test (the API
  // server would refuse them).
  void apply(const traffic::Writes& writes) {
    for (const auto& write : writes) {
      const std::pair<std::string, std::string> key{write.kind, write.name};
      if (write.op == traffic::ObjectWrite::Op::Delete) {
        REQUIRE(byKey.erase(key) == 1);
        continue;
      }
      if (write.op == traffic::ObjectWrite::Op::Create) {
        REQUIRE(byKey.count(key) == 0);
        byKey[key] = write.body;
        continue;
      }
      REQUIRE(byKey.count(key) == 1);
      auto patched = kube::applyMergePatch(byKey[key], write.body);
      REQUIRE(patched.ok());
      byKey[key] = *patched;
    }
  }
};

// Sets `weights` through `router`, applies the writes and checks the router reads them back as in force,
// after which the same weights need no write.
inline void setAndReadBack(const traffic::Router& router, Objects& objects,
                           const engine::SetTrafficWeight& weights) {
  INFO("canary weight " << weights.canaryWeight << ", stable weight " << weights.stableWeight);
  auto writes = router.setWeight(objects.lookup(), weights);
  REQUIRE(writes.ok());
  CHECK_FALSE(writes->empty());
  objects.apply(*writes);
  auto seen = router.inForce(objects.lookup());
  REQUIRE(seen.ok());
  REQUIRE(seen->has_value());
  CHECK(**seen == engine::splitOf(weights));
  auto again = router.setWeight(objects.lookup(), weights);
  REQUIRE(again.ok());
  CHECK(again->empty());
}

// Sets each of `steps` on `objects`: each a single merge patch of the one object `kind`/`name` (the one of
// 10% checked against the golden file `golden`), read back in force; `check` then looks at the object.
template <class Check>
void stepWeightsThrough(const traffic::Router& router, Objects& objects,
                        const std::vector<engine::SetTrafficWeight>& steps, const std::string& kind,
                        const std::string& name, const std::string& golden, Check check) {
  for (const auto& weights : steps) {
    auto writes = router.setWeight(objects.lookup(), weights);
    REQUIRE(writes.ok());
    REQUIRE(writes->size() == 1);
    CHECK((*writes)[0].op == traffic::ObjectWrite::Op::MergePatch);
    CHECK((*writes)[0].kind == kind);
    CHECK((*writes)[0].name == name);
    if (weights.canaryWeight == 10) checkGolden(golden, (*writes)[0].body);
    setAndReadBack(router, objects, weights);
    check(weights);
  }
}

// The Ingress "web" (namespace shop) whose one rule sends everything to the ALB action `action`.
inline nlohmann::json albActionIngress(const std::string& action = "web-stable") {
  return nlohmann::json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"rules": [{"http": {"paths": [{"path": "/*", "pathType": "ImplementationSpecific",
      "backend": {"service": {"name": ")" +
                               action + R"(", "port": {"name": "use-annotation"}}}}]}}]}})");
}

// The VirtualService "web" (namespace shop) whose route "primary" sends all to the web-stable host, none to
// web-canary.
inline nlohmann::json hostSplitVirtualService() {
  return nlohmann::json::parse(R"({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"hosts": ["web"], "http": [{"name": "primary", "route": [
      {"destination": {"host": "web-stable"}, "weight": 100},
      {"destination": {"host": "web-canary"}, "weight": 0}]}]}})");
}

// Both setting a weight and reading the weights in force fail with `error` on `objects`.
inline void checkRefused(const traffic::Router& router, const Objects& objects, const std::string& error) {
  auto writes = router.setWeight(objects.lookup(), {10, 90, "canaryhash", "stablehash"});
  REQUIRE_FALSE(writes.ok());
  CHECK(writes.error() == error);
  auto seen = router.inForce(objects.lookup());
  REQUIRE_FALSE(seen.ok());
  CHECK(seen.error() == error);
}

// After weights 10/90 are set, `edit` changes the object `kind`/`name` as someone else might: the router
// no longer reads the weights as in force, and the next setWeight writes that one object again, after
// which they are.
template <class Edit>
void checkWrittenAgainAfter(const traffic::Router& router, Objects objects, const std::string& kind,
                            const std::string& name, Edit edit) {
  const engine::SetTrafficWeight ten{10, 90, "canaryhash", "stablehash"};
  auto set = router.setWeight(objects.lookup(), ten);
  REQUIRE(set.ok());
  objects.apply(*set);
  REQUIRE(router.inForce(objects.lookup())->has_value());
  edit(objects.at(kind, name));
  auto seen = router.inForce(objects.lookup());
  REQUIRE(seen.ok());
  CHECK_FALSE(seen->has_value());
  auto writes = router.setWeight(objects.lookup(), ten);
  REQUIRE(writes.ok());
  REQUIRE(writes->size() == 1);
  objects.apply(*writes);
  auto after = router.inForce(objects.lookup());
  REQUIRE(after.ok());
  REQUIRE(after->has_value());
  CHECK(**after == engine::TrafficInForce{10, 90, "canaryhash", "stablehash"});
}

// Takes the managed header route `name` away, in one Catch2 section by a step of that name without a
// match, in another by removeManagedRoutes (after which there is nothing left to remove).
inline void removeHeaderRoute(const traffic::Router& router, Objects& objects, const std::string& name) {
  SECTION("by a step without match") {
    auto removed = router.setHeaderRoute(objects.lookup(), {name, {}});
    REQUIRE(removed.ok());
    objects.apply(*removed);
  }
  SECTION("by removeManagedRoutes") {
    auto removed = router.removeManagedRoutes(objects.lookup());
    REQUIRE(removed.ok());
    objects.apply(*removed);
    auto none = router.removeManagedRoutes(objects.lookup());
    REQUIRE(none.ok());
    CHECK(none->empty());
  }
}

}  // namespace sluice::testing
