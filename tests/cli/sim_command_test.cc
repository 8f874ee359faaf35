// `sluice sim` as a person runs it: the output formats and the exit statuses.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/source.h"

namespace {

const std::string kRepo = SLUICE_SOURCE_DIR;
const std::string kBinary = SLUICE_BINARY;

struct SimRun {
  int status = -1;
  std::string out;
  std::string err;
};

SimRun sluiceSim(const std::string& args) {
  // Names of this process's own: ctest runs the cases of this file in parallel processes.
  static int calls = 0;
  const auto dir = std::filesystem::temp_directory_path();
  const std::string stem = "sluice_sim_test." + std::to_string(::getpid()) + "." + std::to_string(++calls);
  const std::string out = (dir / (stem + ".out")).string();
  const std::string err = (dir / (stem + ".err")).string();
  const std::string cmd =
      "cd '" + kRepo + "' && '" + kBinary + "' sim " + args + " >'" + out + "' 2>'" + err + "'";
  const int raw = std::system(cmd.c_str());
  SimRun r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = sluice::readFile(out).ok() ? *sluice::readFile(out) : "";
  r.err = sluice::readFile(err).ok() ? *sluice::readFile(err) : "";
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

std::string example(const std::string& name) {
  return "examples/" + name + "/rollout.yaml --scenario examples/" + name + "/scenario.yaml";
}

}  // namespace

TEST_CASE("sluice sim exit statuses", "[sim][cli]") {
  struct Row {
    const char* behaviour;
    std::string args;
    int status;
    const char* stderrHas;
  };
  const Row rows[] = {
      {"a finished run", example("canary-nginx"), 0, ""},
      {"a matching expectation", example("analysis-abort") + " --expect Degraded", 0, ""},
      {"an expectation that does not match", example("analysis-abort") + " --expect Healthy", 3,
       "expected Healthy, got Degraded (aborted)"},
      {"an unreadable Rollout file", "examples/no-such/rollout.yaml", 2, "no-such/rollout.yaml"},
      {"an analysis template without outcome", "examples/canary-nginx/rollout.yaml", 2,
       "analysis template \"success-rate\", used by step 3 (analysis: success-rate)"},
      {"a scenario outcome for an unused template",
       "examples/basic-canary/rollout.yaml --scenario examples/canary-nginx/scenario.yaml", 2,
       "analysis template \"success-rate\" is not used by any Rollout"},
      {"a file with no Rollout", "examples/canary-nginx/scenario.yaml", 2, "no Rollout found"},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    const SimRun r = sluiceSim(row.args);
    INFO(r.err);
    CHECK(r.status == row.status);
    CHECK(r.err.find(row.stderrHas) != std::string::npos);
  }
}

TEST_CASE("sluice sim prints a table by default and JSON on request, and writes the SVG", "[sim][cli]") {
  const SimRun table = sluiceSim(example("canary-nginx"));
  REQUIRE(table.status == 0);
  CHECK(table.out.rfind("Rollout web: Healthy at ", 0) == 0);
  CHECK(table.out.find("TIME") != std::string::npos);

  const std::string svg =
      (std::filesystem::temp_directory_path() / ("sluice_sim_test." + std::to_string(::getpid()) + ".svg"))
          .string();
  const SimRun json = sluiceSim(example("analysis-abort") + " -o json --svg '" + svg + "'");
  REQUIRE(json.status == 0);
  const auto report = nlohmann::json::parse(json.out);
  CHECK(report["result"]["phase"] == "Degraded");
  CHECK(report["result"]["aborted"] == true);
  auto chart = sluice::readFile(svg);
  REQUIRE(chart.ok());
  CHECK(chart->find("class=\"abort\"") != std::string::npos);
  std::remove(svg.c_str());
}

TEST_CASE("sluice sim of a blue-green Rollout shows what the active and preview Services select",
          "[sim][cli][bluegreen]") {
  const SimRun table = sluiceSim(example("bluegreen-manual") + " --expect Healthy");
  INFO(table.err);
  REQUIRE(table.status == 0);
  CHECK(table.out.find("ACTIVE") != std::string::npos);
  CHECK(table.out.find("CANARY") == std::string::npos);
  CHECK(table.out.find("PREVIEW-RS") != std::string::npos);
  CHECK(table.out.find("BlueGreenPause") != std::string::npos);

  const std::string svg =
      (std::filesystem::temp_directory_path() / ("sluice_sim_test.bg." + std::to_string(::getpid()) + ".svg"))
          .string();
  const SimRun json = sluiceSim(example("bluegreen-analysis") + " -o json --svg '" + svg + "'");
  REQUIRE(json.status == 0);
  const auto report = nlohmann::json::parse(json.out);
  CHECK(report["strategy"] == "blueGreen");
  const auto& first = report["timeline"][0];
  CHECK(first["active"].is_string());
  CHECK(first.contains("previewReplicas"));
  CHECK_FALSE(first.contains("canaryWeight"));
  auto chart = sluice::readFile(svg);
  REQUIRE(chart.ok());
  CHECK(chart->find("class=\"switch\"") != std::string::npos);
  CHECK(chart->find("class=\"preview\"") != std::string::npos);
  std::remove(svg.c_str());
}

TEST_CASE("sluice sim --help explains the stable image and how metrics drive the analysis templates",
          "[sim][cli]") {
  const SimRun help = sluiceSim("--help");
  CHECK(help.status == 0);
  CHECK(help.out.find("tagged \"previous\"") != std::string::npos);
  CHECK(help.out.find("run by the\nreal analysis engine") != std::string::npos);
  CHECK(help.out.find("{at: 9m, empty: true}") != std::string::npos);
}

TEST_CASE("every example is valid for sluice lint", "[sim][cli]") {
  const std::string cmd = "cd '" + kRepo + "' && '" + kBinary + "' lint examples/*/*.yaml >/dev/null 2>&1";
  const int raw = std::system(cmd.c_str());
  CHECK(WIFEXITED(raw));
  CHECK(WEXITSTATUS(raw) == 0);
}

TEST_CASE("sluice sim locates a YAML error as lint does: file:line:col: error:", "[sim][cli]") {
  const auto path = std::filesystem::temp_directory_path() /
                    ("sluice_sim_test.broken." + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "kind: Rollout\nspec: [\n";
  const SimRun r = sluiceSim("'" + path.string() + "'");
  std::filesystem::remove(path);
  CHECK(r.status == 2);
  CHECK(r.err.rfind(path.string() + ":3:1: error: invalid YAML: ", 0) == 0);
}

TEST_CASE("sluice sim gives each Rollout its own section of the scenario", "[sim][cli][canary-semantics]") {
  const std::string scenario =
      (std::filesystem::temp_directory_path() / ("sluice_sim_test." + std::to_string(::getpid()) + ".yaml"))
          .string();
  const std::string rollouts = "examples/manual-promote/rollout.yaml examples/basic-canary/rollout.yaml";
  {
    std::ofstream out(scenario);
    out << "apiVersion: sluice.dev/v1alpha1\nkind: Scenario\nspec:\n  duration: 3h\n  readiness: 15s\n"
           "  rollouts:\n"
           "    shop:\n      stableImage: registry.example/shop:2.3.1\n"
           "      actions: [{at: 40m, promote: {}}]\n"
           "    worker:\n      actions: [{at: 1m, abort: {}}]\n";
  }
  const SimRun run = sluiceSim(rollouts + " --scenario '" + scenario + "' -o json");
  INFO(run.err);
  REQUIRE(run.status == 0);
  const auto reports = nlohmann::json::parse(run.out);
  REQUIRE(reports.size() == 2);
  CHECK(reports[0]["rollout"] == "shop");
  CHECK(reports[0]["result"]["phase"] == "Healthy");
  CHECK(reports[0]["timeline"][0]["message"] ==
        "new revision registry.example/shop:2.4.0 (stable registry.example/shop:2.3.1)");
  CHECK(reports[1]["rollout"] == "worker");
  CHECK(reports[1]["result"]["phase"] == "Degraded");

  {
    std::ofstream out(scenario);
    out << "apiVersion: sluice.dev/v1alpha1\nkind: Scenario\nspec:\n  rollouts:\n    api: {readiness: 5s}\n";
  }
  const SimRun unknown = sluiceSim(rollouts + " --scenario '" + scenario + "'");
  CHECK(unknown.status == 2);
  CHECK(unknown.err.find("spec.rollouts.api: no Rollout named \"api\" was given") != std::string::npos);
  std::remove(scenario.c_str());
}
