// The plugin's read-only views (`get rollout`, `get rollouts`, `get analysisrun`): golden renderings of the
// objects in tests/data/get/ against tests/golden/get/, and the rules behind each column, row by row.
// Run with SLUICE_UPDATE_GOLDEN=1 to rewrite the golden files after a change meant (read the diff).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/analysis_run_view.h"
#include "cli/experiment_view.h"
#include "cli/rollout_view.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::cli;
using nlohmann::json;

namespace {

const std::string kSourceDir = SLUICE_SOURCE_DIR;
// Every age in the fixtures is taken against this instant.
const Time kNow = *parseRfc3339("2026-01-01T00:10:00Z");

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

json fixture(const std::string& name) {
  return json::parse(readFile(kSourceDir + "/tests/data/get/" + name));
}

std::vector<json> vec(const json& array) { return {array.begin(), array.end()}; }

// The first line where the two texts differ, both sides shown, for a readable failure.
std::string firstDifference(const std::string& expected, const std::string& actual) {
  std::istringstream e(expected), a(actual);
  std::string le, la;
  for (int line = 1;; ++line) {
    const bool moreE = static_cast<bool>(std::getline(e, le));
    const bool moreA = static_cast<bool>(std::getline(a, la));
    if (!moreE && !moreA) return "";
    if (le != la || moreE != moreA)
      return "line " + std::to_string(line) + ":\n  expected: " + (moreE ? le : "(end)") +
             "\n  actual:   " + (moreA ? la : "(end)");
  }
}

void checkGolden(const std::string& name, const std::string& actual) {
  const std::string path = kSourceDir + "/tests/golden/get/" + name;
  if (const char* update = std::getenv("SLUICE_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << actual;
  }
  const std::string expected = readFile(path);
  INFO("golden " << path << "\n" << firstDifference(expected, actual) << "\nactual:\n" << actual);
  CHECK(expected == actual);
}

RolloutView midRolloutView() {
  const json f = fixture("canary-mid-rollout.json");
  return buildRolloutView(f["rollout"], vec(f["replicaSets"]), vec(f["pods"]), vec(f["analysisRuns"]), {},
                          kNow);
}

// A canary Rollout of 4 replicas with `steps`, its status `status`.
json canary(json steps, json status) {
  return {{"metadata", {{"name", "web"}, {"namespace", "default"}, {"uid", "ro-web"}}},
          {"spec", {{"replicas", 4}, {"strategy", {{"canary", {{"steps", std::move(steps)}}}}}}},
          {"status", std::move(status)}};
}

json replicaSet(const std::string& hash, int replicas, int available, json extraStatus = json::object()) {
  json status = {{"replicas", replicas}, {"availableReplicas", available}};
  status.update(extraStatus);
  return {{"metadata",
           {{"name", "web-" + hash},
            {"uid", "rs-" + hash},
            {"labels", {{"sluice.dev/pod-template-hash", hash}}},
            {"annotations", {{"sluice.dev/revision", "1"}}},
            {"ownerReferences", json::array({{{"kind", "Rollout"}, {"name", "web"}, {"uid", "ro-web"}}})}}},
          {"spec", {{"replicas", replicas}}},
          {"status", std::move(status)}};
}

json pod(const std::string& hash, const std::string& name, json status) {
  return {{"metadata",
           {{"name", name},
            {"labels", {{"sluice.dev/pod-template-hash", hash}}},
            {"ownerReferences", json::array({{{"kind", "ReplicaSet"}, {"uid", "rs-" + hash}}})}}},
          {"spec", {{"containers", json::array({{{"name", "web"}}, {{"name", "sidecar"}}})}}},
          {"status", std::move(status)}};
}

}  // namespace

TEST_CASE("get rollout renders a canary mid-rollout as its golden files, plain and coloured", "[cli][get]") {
  const RolloutView v = midRolloutView();
  checkGolden("canary-mid-rollout.txt", renderRolloutView(v, false));
  checkGolden("canary-mid-rollout.color.txt", renderRolloutView(v, true));
}

TEST_CASE("get rollout shows only what belongs to the Rollout, newest revision first", "[cli][get]") {
  const RolloutView v = midRolloutView();
  REQUIRE(v.revisions.size() == 2);
  CHECK(v.revisions[0].revision == 2);
  CHECK(v.revisions[1].revision == 1);
  // The Deployment's ReplicaSet and its pod carry app=web too; the other Rollout's run is left out.
  REQUIRE(v.revisions[0].replicaSets.size() == 1);
  CHECK(v.revisions[0].replicaSets[0].roles == std::vector<std::string>{"canary"});
  CHECK(v.revisions[0].replicaSets[0].pods.size() == 1);
  CHECK(v.revisions[1].replicaSets[0].roles == std::vector<std::string>{"stable"});
  CHECK(v.revisions[1].replicaSets[0].pods.size() == 3);
  REQUIRE(v.revisions[0].analysisRuns.size() == 1);
  CHECK(v.revisions[0].analysisRuns[0].successful == 2);
  CHECK(v.revisions[0].analysisRuns[0].failed == 1);
  CHECK(v.revisions[1].analysisRuns[0].name == "web-aaa111-1");
}

TEST_CASE("get rollout's step and weights follow the status as Argo's plugin shows them", "[cli][get]") {
  const json steps = json::parse(R"([{"setWeight": 25}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}])");
  struct Row {
    const char* name;
    json status;
    int canaryAvailable;  // pods of the canary's ReplicaSet
    const char* step;
    const char* setWeight;
    const char* actualWeight;
  };
  const Row rows[] = {
      {"at a pause after setWeight 25, one of four pods canary",
       {{"currentStepIndex", 1}, {"currentPodHash", "new"}, {"stableRS", "old"}, {"availableReplicas", 4}},
       1,
       "1/4",
       "25",
       "25"},
      {"the first step, before any pod of the canary is available",
       {{"currentStepIndex", 0}, {"currentPodHash", "new"}, {"stableRS", "old"}, {"availableReplicas", 3}},
       0,
       "0/4",
       "25",
       "0"},
      {"every step done",
       {{"currentStepIndex", 4}, {"currentPodHash", "new"}, {"stableRS", "new"}},
       4,
       "4/4",
       "100",
       "100"},
      {"aborted: no weight on the canary",
       {{"currentStepIndex", 2}, {"abort", true}, {"currentPodHash", "new"}, {"stableRS", "old"}},
       0,
       "2/4",
       "0",
       "0"},
      {"a traffic router's weight in force",
       {{"currentStepIndex", 3},
        {"currentPodHash", "new"},
        {"stableRS", "old"},
        {"availableReplicas", 4},
        {"canary", {{"weights", {{"canary", {{"weight", 40}}}, {"stable", {{"weight", 60}}}}}}}},
       2,
       "3/4",
       "50",
       "40"},
      {"no status yet", json::object(), 0, "", "25", "0"},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      const std::vector<json> sets = {replicaSet("new", row.canaryAvailable, row.canaryAvailable),
                                      replicaSet("old", 3, 3)};
      const RolloutView v = buildRolloutView(canary(steps, row.status), sets, {}, {}, {}, kNow);
      CHECK(v.step == row.step);
      CHECK(v.setWeight == row.setWeight);
      CHECK(v.actualWeight == row.actualWeight);
    }
  }
}

TEST_CASE("get rollout names each ReplicaSet's state and each pod's", "[cli][get]") {
  const json ready = {
      {"phase", "Running"},
      {"containerStatuses", json::array({{{"ready", true}, {"state", {{"running", json::object()}}}},
                                         {{"ready", true}, {"state", {{"running", json::object()}}}}})}};
  const json crashing = {
      {"phase", "Running"},
      {"containerStatuses", json::array({{{"ready", false},
                                          {"restartCount", 4},
                                          {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}}},
                                         {{"ready", true}, {"state", {{"running", json::object()}}}}})}};
  const json creating = {
      {"phase", "Pending"},
      {"containerStatuses",
       json::array({{{"ready", false}, {"state", {{"waiting", {{"reason", "ContainerCreating"}}}}}}})}};
  struct Row {
    const char* name;
    json rs;
    std::vector<json> pods;
    const char* rsStatus;
    const char* podStatus;
    const char* podSymbol;
  };
  const Row rows[] = {
      {"all pods available", replicaSet("h", 1, 1), {pod("h", "p", ready)}, "Healthy", "Running", "✔"},
      {"a pod still starting",
       replicaSet("h", 1, 0),
       {pod("h", "p", creating)},
       "Progressing",
       "ContainerCreating",
       "◌"},
      {"a pod crash-looping",
       replicaSet("h", 1, 0),
       {pod("h", "p", crashing)},
       "Degraded",
       "CrashLoopBackOff",
       "✖"},
      {"pods that cannot be created",
       replicaSet("h", 1, 0,
                  {{"conditions", json::array({{{"type", "ReplicaFailure"}, {"status", "True"}}})}}),
       {},
       "Degraded",
       "",
       ""},
      {"scaled to zero", replicaSet("h", 0, 0), {}, "ScaledDown", "", ""},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      const RolloutView v =
          buildRolloutView(canary(json::array(), json::object()), {row.rs}, row.pods, {}, {}, kNow);
      REQUIRE(v.revisions.size() == 1);
      const ReplicaSetView& rs = v.revisions[0].replicaSets.at(0);
      CHECK(rs.status == row.rsStatus);
      if (!row.pods.empty()) {
        REQUIRE(rs.pods.size() == 1);
        CHECK(rs.pods[0].status == row.podStatus);
        const std::string text = renderRolloutView(v, false);
        CHECK(text.find(std::string(row.podSymbol) + " " + row.podStatus) != std::string::npos);
      }
    }
  }
  SECTION("a pod's info counts its ready containers and its restarts") {
    const RolloutView v = buildRolloutView(canary(json::array(), json::object()), {replicaSet("h", 1, 0)},
                                           {pod("h", "p", crashing)}, {}, {}, kNow);
    CHECK(renderRolloutView(v, false).find("ready:1/2,restarts:4") != std::string::npos);
  }
}

TEST_CASE("get rollout says Progressing while the controller has not seen the latest spec", "[cli][get]") {
  json r = canary(json::array({{{"setWeight", 50}}}), {{"phase", "Healthy"}, {"observedGeneration", "1"}});
  r["metadata"]["generation"] = 2;
  const RolloutView v = buildRolloutView(r, {}, {}, {}, {}, kNow);
  CHECK(v.phase == "Progressing");
  CHECK(v.message == "waiting for rollout spec update to be observed");
  r["status"]["observedGeneration"] = "2";
  CHECK(buildRolloutView(r, {}, {}, {}, {}, kNow).phase == "Healthy");
}

TEST_CASE("get rollouts -A renders its golden table, sorted by namespace then name", "[cli][get]") {
  std::vector<RolloutRow> rows;
  const json list = fixture("rollouts.json");
  for (const json& r : list["items"]) rows.push_back(rolloutRow(r));
  checkGolden("rollouts-all-namespaces.txt", renderRolloutTable(rows, true));
  checkGolden("rollouts.txt", renderRolloutTable(rows, false));
  CHECK(renderRolloutTable({}, true).empty());
}

TEST_CASE("get analysisrun renders every metric and measurement as its golden files", "[cli][get]") {
  const auto v = buildAnalysisRunView(fixture("analysis-run.json"), kNow);
  checkGolden("analysis-run.txt", renderAnalysisRunView(v, false));
  checkGolden("analysis-run.color.txt", renderAnalysisRunView(v, true));
  REQUIRE(v.metrics.size() == 3);
  CHECK(v.metrics[0].measurements.size() == 2);
  // The metric with no result yet is there, Pending.
  CHECK(v.metrics[2].phase == "Pending");
  // A Secret's value is never read, only where it comes from.
  CHECK(v.args.at(1) == "api-token from Secret prometheus key token");
}

TEST_CASE("get refuses what kubectl refuses, and says why it cannot reach a cluster", "[cli][get]") {
  const testing::TempDir dir("sluice-get");
  // A cluster nobody listens on: the connection is refused at once.
  const std::string kubeconfig = (dir / "kubeconfig").string();
  std::ofstream(kubeconfig) << R"(apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]
current-context: x
)";
  struct Row {
    const char* behaviour;
    std::string args;
    int exitCode;
    const char* says;
  };
  const Row rows[] = {
      {"watching needs a name", "get rollouts -w", 2, "error: -w needs a Rollout NAME"},
      {"a name across all namespaces", "get rollout web -A", 2,
       "error: a resource cannot be retrieved by name across all namespaces"},
      {"a timeout that is no duration", "get rollout web -w --timeout soon", 2, "error: --timeout: "},
      {"an unreadable kubeconfig", "get rollout web --kubeconfig " + (dir / "missing").string(), 1,
       "error: "},
      {"no server answering", "get rollout web --kubeconfig " + kubeconfig, 1,
       "Unable to connect to the server: "},
      {"no server answering a list", "list rollouts -A --kubeconfig " + kubeconfig, 1,
       "Unable to connect to the server: "},
  };
  for (const Row& row : rows) {
    SECTION(row.behaviour) {
      const auto r = testing::runCommand("HOME=" + dir.path().string() + " KUBECONFIG=" + kubeconfig + " " +
                                         SLUICE_BINARY + " " + row.args + " 2>&1");
      INFO(r.output);
      CHECK(r.exitCode == row.exitCode);
      CHECK(r.output.rfind(row.says, 0) == 0);
    }
  }
}

TEST_CASE("get experiment shows its templates' ReplicaSets and its AnalysisRuns under it", "[cli][get]") {
  const auto v = buildExperimentView(fixture("experiment.json"), kNow);
  CHECK(v.rollout == "web");
  REQUIRE(v.templates.size() == 2);
  CHECK(v.templates[1].replicaSet == "web-6fb8d4c9f7-2-0-canary");
  CHECK(v.templates[1].ready == 1);
  CHECK(v.analyses[1].phase == "Successful");
  checkGolden("experiment.txt", renderExperimentView(v, false));
}

TEST_CASE(
    "get rollout shows an experiment step's Experiment under its revision with its ReplicaSets pods "
    "and AnalysisRuns",
    "[cli][get][experiment]") {
  const json f = fixture("canary-experiment-step.json");
  const RolloutView v = buildRolloutView(f["rollout"], vec(f["replicaSets"]), vec(f["pods"]),
                                         vec(f["analysisRuns"]), vec(f["experiments"]), kNow);
  REQUIRE(v.revisions.size() == 2);
  // Under revision 2, the one it was made for; the other Rollout's Experiment, its ReplicaSet and its run
  // are left out, and the Experiment's ReplicaSets are not the Rollout's.
  CHECK(v.revisions[0].revision == 2);
  CHECK(v.revisions[0].replicaSets.size() == 1);
  CHECK(v.revisions[1].experiments.empty());
  REQUIRE(v.revisions[0].experiments.size() == 1);
  const ExperimentTreeView& ex = v.revisions[0].experiments[0];
  CHECK(ex.name == "web-bbb222-2-0");
  CHECK(ex.phase == "Running");
  REQUIRE(ex.replicaSets.size() == 2);
  CHECK(ex.replicaSets[0].name == "web-bbb222-2-0-baseline");
  CHECK(ex.replicaSets[0].status == "Healthy");
  CHECK(ex.replicaSets[0].pods.size() == 1);
  CHECK(ex.replicaSets[1].status == "Progressing");
  REQUIRE(ex.analysisRuns.size() == 1);
  CHECK(ex.analysisRuns[0].name == "web-bbb222-2-0-compare");
  CHECK(v.revisions[0].analysisRuns.empty());
  CHECK(v.revisions[1].analysisRuns.size() == 1);
  checkGolden("canary-experiment-step.txt", renderRolloutView(v, false));
}
