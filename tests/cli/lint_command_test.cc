// `sluice lint`, run as a person runs it: the real binary on files under tests/data/lint/, checking what
// it prints and its exit status.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <string>

#include "tests/support/process.h"

namespace {

struct CommandResult {
  std::string out;
  int exitStatus = -1;
};

// Runs `sluice ARGS` in the source directory, so file names in the output are relative and stable.
CommandResult runSluice(const std::string& args) {
  // Appended piece by piece: GCC 12 warns falsely (stringop-overflow) on the chained operator+ here.
  std::string command = "cd '";
  command += SLUICE_SOURCE_DIR;
  command += "' && '";
  command += SLUICE_BINARY;
  command += "' ";
  command += args;
  command += " 2>/dev/null";
  auto run = sluice::testing::runCommand(command);
  return {run.output, run.exitCode};
}

// One run of `sluice lint` and what it must print (stdout) and exit with.
struct LintCase {
  const char* behaviour;
  std::string args;
  std::string out;
  int exitStatus;
};

void checkLint(const std::vector<LintCase>& rows) {
  for (const auto& row : rows) {
    INFO(row.behaviour);
    const CommandResult result = runSluice(row.args);
    CHECK(result.out == row.out);
    CHECK(result.exitStatus == row.exitStatus);
  }
}

}  // namespace

TEST_CASE("lint prints each problem and a summary, and its exit status says whether there were errors",
          "[cli][lint]") {
  const std::vector<LintCase> rows = {
      {"a valid Rollout beside a Service", "lint tests/data/lint/valid.yaml",
       "0 errors, 0 warnings in 1 file\n", 0},
      {"an Argo manifest unchanged", "lint tests/data/lint/argo.yaml", "0 errors, 0 warnings in 1 file\n", 0},
      {"Argo's Traefik, Ambassador and APISIX examples unchanged", "lint tests/data/lint/argo-routers.yaml",
       "0 errors, 0 warnings in 1 file\n", 0},
      {"ALB routing with header routes and ping-pong Services, and App Mesh routing",
       "lint tests/data/lint/aws-routers.yaml", "0 errors, 0 warnings in 1 file\n", 0},
      {"Argo's job metrics", "lint tests/data/lint/argo-job.yaml", "0 errors, 0 warnings in 1 file\n", 0},
      {"Argo's Experiment and experiment step", "lint tests/data/lint/argo-experiment.yaml",
       "0 errors, 0 warnings in 1 file\n", 0},
      {"a job metric's pod template without restartPolicy", "lint tests/data/lint/argo-job-invalid.yaml",
       "tests/data/lint/argo-job-invalid.yaml:12:13: error: "
       "spec.metrics[0].provider.job.spec.template.spec.restartPolicy: must be Never or OnFailure in a Job's "
       "pod template (it defaults to Always)\n"
       "1 error, 0 warnings in 1 file\n",
       1},
      {"warnings alone do not fail", "lint tests/data/lint/warning-only.yaml",
       "tests/data/lint/warning-only.yaml:18:7: warning: spec.strategy.canary.stepz: unknown field\n"
       "0 errors, 1 warning in 1 file\n",
       0},
      {"errors fail, and every problem of every document is listed", "lint tests/data/lint/problems.yaml",
       "tests/data/lint/problems.yaml:7:3: warning: spec.replicaz: unknown field\n"
       "tests/data/lint/problems.yaml:20:9: error: spec.strategy.canary.steps[0].setWeight: must be an "
       "integer, got "
       "string \"abc\"\n"
       "tests/data/lint/problems.yaml:21:17: error: spec.strategy.canary.steps[1].pause.duration: must not "
       "be "
       "negative, got -5\n"
       "2 errors, 1 warning in 1 file\n",
       1},
      {"validation rules are reported", "lint tests/data/lint/invalid-rules.yaml",
       "tests/data/lint/invalid-rules.yaml:22:9: error: spec.strategy.canary.steps[0].setCanaryScale: needs "
       "trafficRouting\n"
       "tests/data/lint/invalid-rules.yaml:23:9: error: spec.strategy.canary.steps[1].setWeight: must be "
       "between 0 "
       "and 100, got 150\n"
       "2 errors, 0 warnings in 1 file\n",
       1},
      {"blue-green rules, and the analysis templates across the files", "lint tests/data/lint/bluegreen.yaml",
       "tests/data/lint/bluegreen.yaml:11:5: error: spec.strategy.blueGreen.activeService: is required\n"
       "tests/data/lint/bluegreen.yaml:25:7: error: spec.strategy.blueGreen.previewService: must differ from "
       "activeService (both are \"web\")\n"
       "tests/data/lint/bluegreen.yaml:39:7: warning: spec.strategy.blueGreen.autoPromotionSeconds: is "
       "ignored "
       "with autoPromotionEnabled: false (the rollout waits for a promote); remove one of them\n"
       "tests/data/lint/bluegreen.yaml:72:18: error: spec.strategy.blueGreen.activeMetadata.labels.app: must "
       "not set a label the Rollout's selector or the pod-template hash uses\n"
       "tests/data/lint/bluegreen.yaml:55:11: warning: "
       "spec.strategy.blueGreen.prePromotionAnalysis.templates[0].templateName: AnalysisTemplate smoke-tests "
       "is in none of the given files: it must exist in the cluster for the analysis to run, and sluice sim "
       "needs it given\n"
       "tests/data/lint/bluegreen.yaml:56:7: warning: spec.strategy.blueGreen.postPromotionAnalysis: gives "
       "no value for the argument \"service\" that AnalysisTemplate error-rate (as given) declares without "
       "one: its run would end in Error\n"
       "3 errors, 3 warnings in 1 file\n",
       1},
      {"Argo's plugins are refused by name with what to use instead, and Istio subsets need no Services",
       "lint tests/data/lint/plugins.yaml",
       "tests/data/lint/plugins.yaml:16:11: error: "
       "spec.strategy.canary.trafficRouting.plugins[\"argoproj-labs/contour\"]: the router plugin "
       "\"argoproj-labs/contour\" is a Go binary Argo Rollouts loads; Sluice loads no plugins: its built-in "
       "routers are nginx, istio, smi, traefik, ambassador, apisix, alb, appMesh and the Gateway API "
       "(plugins[\"argoproj-labs/gatewayAPI\"])\n"
       "tests/data/lint/plugins.yaml:31:9: error: spec.strategy.canary.steps[0].plugin: the step plugin "
       "\"argoproj-labs/step-exec\" is a Go binary Argo Rollouts loads; Sluice loads no plugins: use an "
       "analysis step (a web or prometheus metric) for a check, or a pause and kubectl sluice promote for a "
       "gate\n"
       "tests/data/lint/plugins.yaml:58:7: error: spec.metrics[0].provider.plugin: the metric plugin "
       "\"argoproj-labs/sample-prometheus\" is a Go binary Argo Rollouts loads; Sluice loads no plugins: "
       "query the metric with the prometheus provider, the web provider if it has an HTTP API, or the job "
       "provider to run it as a Job\n"
       "3 errors, 0 warnings in 1 file\n",
       1},
      {"generateName stands for a name, as Kubernetes takes it, and is checked as a name prefix",
       "lint tests/data/lint/generate-name.yaml",
       "tests/data/lint/generate-name.yaml:16:3: error: metadata.generateName: Invalid value: \"Smoke_\": a "
       "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
       "must "
       "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
       "tests/data/lint/generate-name.yaml:26:1: error: metadata.name: is required (or generateName, for the "
       "server to make one)\n"
       "2 errors, 0 warnings in 1 file\n",
       1},
      {"malformed YAML is an error", "lint tests/data/lint/malformed.yaml",
       "tests/data/lint/malformed.yaml:4:5: error: invalid YAML: end of map flow not found\n"
       "1 error, 0 warnings in 1 file\n",
       1},
      {"nested aliases are refused, not expanded", "lint tests/data/lint/alias-bomb.yaml",
       "tests/data/lint/alias-bomb.yaml:2:10: error: invalid YAML: too many nodes once aliases are expanded\n"
       "1 error, 0 warnings in 1 file\n",
       1},
      {"a stray comma is an error, not a hang", "lint tests/data/lint/stray-comma.yaml",
       "tests/data/lint/stray-comma.yaml:2:1: error: invalid YAML: unexpected \",\" outside a flow "
       "collection\n"
       "1 error, 0 warnings in 1 file\n",
       1},
      {"several files are summed up",
       "lint tests/data/lint/valid.yaml tests/data/lint/warning-only.yaml tests/data/lint/argo.yaml",
       "tests/data/lint/warning-only.yaml:18:7: warning: spec.strategy.canary.stepz: unknown field\n"
       "0 errors, 1 warning in 3 files\n",
       0},
      {"an unreadable file is a usage problem, and the summary counts only the files read",
       "lint tests/data/lint/no-such-file.yaml tests/data/lint/valid.yaml",
       "0 errors, 0 warnings in 1 file; 1 not read\n", 2},
      {"a missing file alone: nothing was checked, and the summary says so",
       "lint tests/data/lint/no-such-file.yaml", "0 errors, 0 warnings in 0 files; 1 not read\n", 2},
      {"no file at all is a usage problem", "lint", "", 2},
  };
  checkLint(rows);
}

TEST_CASE("lint --help explains the output and the exit statuses", "[cli][lint]") {
  const CommandResult result = runSluice("lint --help");
  CHECK(result.exitStatus == 0);
  CHECK_THAT(result.out, Catch::Contains("FILE:LINE:COL"));
  CHECK_THAT(result.out, Catch::Contains("0 no errors"));
  CHECK_THAT(result.out, Catch::Contains("1 errors found"));
  CHECK_THAT(result.out, Catch::Contains("2 a file could not be read or no file was given"));
  CHECK_THAT(result.out, Catch::Contains("argoproj.io/v1alpha1"));
}

TEST_CASE("lint says when it checked nothing, and lints a directory recursively", "[cli][lint]") {
  const std::string kinds =
      "(Rollout, Experiment, AnalysisTemplate, ClusterAnalysisTemplate, AnalysisRun, Scenario, GitRepository "
      "or Kustomization)";
  const std::vector<LintCase> rows = {
      {"an empty file", "lint tests/data/lint/empty.yaml",
       "tests/data/lint/empty.yaml: warning: the file holds no document of a known kind " + kinds +
           ": nothing was checked\n"
           "0 errors, 1 warning in 1 file\n",
       0},
      {"a file of other kinds only", "lint tests/data/lint/services-only.yaml",
       "tests/data/lint/services-only.yaml: warning: no document of a known kind " + kinds +
           ": nothing was checked\n"
           "0 errors, 1 warning in 1 file\n",
       0},
      {"kind in the wrong case, kind that is a list, no kind", "lint tests/data/lint/kinds.yaml",
       "tests/data/lint/kinds.yaml:4:1: warning: kind: \"rollout\" is not Rollout (kinds are "
       "case-sensitive): no known kind " +
           kinds +
           ", not checked\n"
           "tests/data/lint/kinds.yaml:9:1: warning: kind: must be a string, got a list: no known kind " +
           kinds +
           ", not checked\n"
           "tests/data/lint/kinds.yaml:13:1: warning: the document has no kind: no known kind " +
           kinds +
           ", not checked\n"
           "0 errors, 3 warnings in 1 file\n",
       0},
      {"a scenario is read as sluice sim reads it", "lint tests/data/lint/scenario.yaml",
       "tests/data/lint/scenario.yaml:9:10: warning: spec.metrics.error-rate[1].at: 0s is also the time of "
       "spec.metrics.error-rate[0]: only the later of the two is used\n"
       "tests/data/lint/scenario.yaml:11:8: warning: spec.actions[0].at: 2h is after the end of the "
       "simulation (spec.duration 1h): the action never happens\n"
       "tests/data/lint/scenario.yaml:12:26: error: spec.actions[1].promote.ful: unknown field\n"
       "1 error, 2 warnings in 1 file\n",
       1},
      {"a directory: every .yaml and .yml under it, in name order, hidden directories left out, templates "
       "found across its files",
       "lint tests/data/lint/tree",
       "tests/data/lint/tree/apps/web/typo.yml:18:7: warning: spec.strategy.canary.stepz: unknown field\n"
       "tests/data/lint/tree/services.yaml: warning: no document of a known kind " +
           kinds +
           ": nothing was checked\n"
           "0 errors, 2 warnings in 4 files\n",
       0},
  };
  checkLint(rows);
}

TEST_CASE("lint reports what would fail later: conditions, arg references, names, numbers", "[cli][lint]") {
  const std::vector<LintCase> rows = {
      {"conditions that do not compile and args no one declared", "lint tests/data/lint/conditions.yaml",
       "tests/data/lint/conditions.yaml:17:5: error: spec.metrics[0].successCondition: does not compile: "
       "column 15: unexpected end of the condition: expected \")\"\n"
       "tests/data/lint/conditions.yaml:21:5: error: spec.metrics[1].failureCondition: does not compile: "
       "column 1: unknown function \"median\": supported are len, all, any, none, one, filter, count, sum, "
       "mean, min, max, abs, isNaN, isInf, isNil, default, asInt, asFloat\n"
       "tests/data/lint/conditions.yaml:26:9: error: spec.metrics[2].provider.prometheus.query: "
       "{{args.nope}}: no argument \"nope\" in spec.args\n"
       "tests/data/lint/conditions.yaml:31:5: error: spec.metrics[3].successCondition: does not compile "
       "(args substituted): column 17: unexpected end of the condition: expected \")\"\n"
       "tests/data/lint/conditions.yaml:39:5: error: spec.metrics[5].successCondition: does not compile: "
       "column 12: unexpected character \"≥\"\n"
       "5 errors, 0 warnings in 1 file\n",
       1},
      {"a condition over the length limit", "lint tests/data/lint/long-condition.yaml",
       "tests/data/lint/long-condition.yaml:11:5: error: spec.metrics[0].successCondition: is 5113 "
       "characters, more than the limit of 4096\n"
       "1 error, 0 warnings in 1 file\n",
       1},
      {"names the API server refuses", "lint tests/data/lint/names.yaml",
       "tests/data/lint/names.yaml:5:3: error: metadata.name: Invalid value: \"Bad_Name..x\": a lowercase "
       "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
       "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
       "tests/data/lint/names.yaml:24:3: error: metadata.name: Invalid value: "
       "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": must be no more than 253 characters\n"
       "2 errors, 0 warnings in 1 file\n",
       1},
      {"a name that is not UTF-8", "lint tests/data/lint/bad-utf8.yaml",
       "tests/data/lint/bad-utf8.yaml:4:12: error: invalid YAML: the text is not valid UTF-8 (byte 0xFF)\n"
       "1 error, 0 warnings in 1 file\n",
       1},
      {"a NUL byte", "lint tests/data/lint/nul-byte.yaml",
       "tests/data/lint/nul-byte.yaml:5:11: error: invalid YAML: a NUL byte (U+0000) is not allowed; write "
       "it escaped in a double-quoted string\n"
       "1 error, 0 warnings in 1 file\n",
       1},
      {"NaN and infinite weights, and absurd replicas", "lint tests/data/lint/numbers.yaml",
       "tests/data/lint/numbers.yaml:20:9: error: spec.strategy.canary.steps[0].setWeight: must be an "
       "integer, got number NaN\n"
       "tests/data/lint/numbers.yaml:21:9: error: spec.strategy.canary.steps[1].setWeight: must be an "
       "integer, got number +Inf\n"
       "tests/data/lint/numbers.yaml:7:3: warning: spec.replicas: 2147483647 replicas is more than 10000, "
       "most likely a mistake\n"
       "2 errors, 1 warning in 1 file\n",
       1},
  };
  checkLint(rows);
}

TEST_CASE("lint refuses input past the limits fast, naming the limit and the file", "[cli][lint][limits]") {
  sluice::testing::TempDir dir;
  auto write = [&dir](const std::string& name, const std::string& text) {
    std::string path = (dir / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  };
  const std::string rollout =
      "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: big\nspec:\n  selector:\n"
      "    matchLabels: {app: big}\n  template:\n    metadata:\n      labels: {app: big}\n    spec:\n"
      "      containers:\n      - {name: app, image: app:1}\n  strategy:\n    canary:\n      steps:\n";
  auto steps = [](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += "      - setWeight: " + std::to_string(i % 100) + "\n";
    return out;
  };
  std::string bigStep = rollout + steps(1000);
  while (bigStep.size() <= (8u << 20)) bigStep += "#" + std::string(1 << 16, ' ') + "\n";
  struct Row {
    const char* behaviour;
    std::string file;
    std::string out;  // with FILE for the file's path
    int exitStatus;
  };
  const std::vector<Row> rows = {
      {"1,000 steps are fine", write("steps-1000.yaml", rollout + steps(1000)),
       "0 errors, 0 warnings in 1 file\n", 0},
      {"1,001 steps are not", write("steps-1001.yaml", rollout + steps(1001)),
       "FILE:16:7: error: spec.strategy.canary.steps: 1001 steps, more than the limit of 1000 steps\n"
       "1 error, 0 warnings in 1 file\n",
       1},
      {"a list of 10,001 steps is refused while the file is scanned",
       write("steps-10001.yaml", rollout + steps(10'001)),
       "FILE:10017:9: error: a list of more than 10000 items, the limit on one list in an input file\n"
       "1 error, 0 warnings in 1 file\n",
       1},
      {"YAML nested 10,000 deep", write("deep.yaml", std::string(10'000, '[') + std::string(10'000, ']')),
       "FILE:1:201: error: nested deeper than 200 levels, the limit on nesting in an input file\n"
       "1 error, 0 warnings in 1 file\n",
       1},
      {"a file over the size limit is not read", write("big.yaml", bigStep),
       "0 errors, 0 warnings in 0 files; 1 not read\n", 2},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    const auto start = std::chrono::steady_clock::now();
    const CommandResult result = runSluice("lint '" + row.file + "'");
    const auto took = std::chrono::steady_clock::now() - start;
    std::string expected = row.out;
    for (size_t at = expected.find("FILE"); at != std::string::npos; at = expected.find("FILE", at))
      expected.replace(at, 4, row.file);
    CHECK(result.out == expected);
    CHECK(result.exitStatus == row.exitStatus);
    // Far under what the whole file would cost; generous for a loaded machine.
    CHECK(took < std::chrono::seconds(10));
  }
}
