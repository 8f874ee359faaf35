// What the router tests share: a Rollout routed as a test says, and golden files under
// tests/golden/traffic/ (rewritten with SLUICE_UPDATE_GOLDEN=1).
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "base/source.h"
#include "engine/rollout_json.h"

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

}  // namespace sluice::testing
