// Golden tests: each example under examples/ is simulated and its JSON report compared with
// tests/golden/<example>.json. Run with SLUICE_UPDATE_GOLDEN=1 to rewrite the golden files after a
// change in behaviour that is meant (and read the diff before committing it).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sim/report.h"
#include "sim/simulator.h"

using namespace sluice;
using namespace sluice::sim;
using nlohmann::json;

namespace {

const std::string kSourceDir = SLUICE_SOURCE_DIR;

// One line per difference: "/timeline/3/canaryWeight: 30 -> 20", with at most `limit` lines.
std::string describeDiff(const json& expected, const json& actual, size_t limit = 40) {
  std::string out;
  size_t n = 0;
  for (const auto& op : json::diff(expected, actual)) {
    if (n++ == limit) {
      out += "  ...\n";
      break;
    }
    const std::string path = op["path"];
    const std::string kind = op["op"];
    const json::json_pointer ptr(path);
    const std::string before = kind == "add" ? "(none)" : expected.at(ptr).dump();
    const std::string after = kind == "remove" ? "(none)" : op["value"].dump();
    out += "  " + path + ": " + before + " -> " + after + "\n";
  }
  return out;
}

// rollout.yaml, then the example's other manifests (templates) in name order, as a user passes them.
std::vector<std::string> manifests(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".yaml" && name != "rollout.yaml" && name != "scenario.yaml")
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  files.insert(files.begin(), dir + "rollout.yaml");
  return files;
}

json simulateExample(const std::string& name) {
  const std::string dir = kSourceDir + "/examples/" + name + "/";
  Diagnostics diags;
  auto input = loadSimInput(manifests(dir), dir + "scenario.yaml", diags);
  INFO(diags.format());
  REQUIRE(input);
  REQUIRE(input->rollouts.size() == 1);
  SimOptions options;
  for (const auto& t : input->templates) options.templates.push_back(t.analysisTemplate);
  auto result = simulate(input->rollouts.front(), input->scenario, options);
  INFO((result ? std::string() : result.error()));
  REQUIRE(result);
  return toJson(*result);
}

}  // namespace

TEST_CASE("each example simulates exactly as its golden file says", "[sim][golden]") {
  struct Row {
    const char* example;
    const char* phase;  // the outcome the example exists to show
    bool aborted;
  };
  const Row rows[] = {
      {"canary-nginx", "Healthy", false},     {"analysis-abort", "Degraded", true},
      {"manual-promote", "Healthy", false},   {"update-mid-rollout", "Healthy", false},
      {"basic-canary", "Healthy", false},     {"analysis-templates", "Degraded", true},
      {"restart", "Healthy", false},          {"workload-ref", "Healthy", false},
      {"canary-istio", "Healthy", false},     {"bluegreen-analysis", "Healthy", false},
      {"bluegreen-manual", "Healthy", false}, {"experiment-step", "Healthy", false},
  };
  const bool update = std::getenv("SLUICE_UPDATE_GOLDEN") != nullptr;
  for (const auto& row : rows) {
    INFO("example " << row.example);
    const json actual = simulateExample(row.example);
    CHECK(actual["result"]["phase"] == row.phase);
    CHECK(actual["result"]["aborted"] == row.aborted);

    const std::string goldenPath = kSourceDir + "/tests/golden/" + row.example + ".json";
    if (update) {
      std::ofstream(goldenPath) << actual.dump(2) << "\n";
      continue;
    }
    auto text = readFile(goldenPath);
    INFO("no golden file: run the tests with SLUICE_UPDATE_GOLDEN=1 to write it");
    REQUIRE(text);
    const json expected = json::parse(*text);
    INFO("the simulation differs from " << goldenPath << " (expected -> actual):\n"
                                        << describeDiff(expected, actual)
                                        << "if the change is meant, rerun with SLUICE_UPDATE_GOLDEN=1");
    CHECK(expected == actual);
  }
}

TEST_CASE("a simulation is deterministic", "[sim][golden]") {
  CHECK(simulateExample("analysis-abort") == simulateExample("analysis-abort"));
}
