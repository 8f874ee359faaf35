// `sluice lint` on GitRepositories and Kustomizations, as a person runs it: the real binary on files under
// tests/data/lint/gitops-*, checking what it prints and its exit status.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace {

struct GitOpsLintRun {
  std::string out;
  int exitStatus = -1;
};

// Runs `sluice lint ARGS` in the source directory, so file names in the output are relative and stable.
GitOpsLintRun runGitOpsLint(const std::string& args) {
  std::string command = "cd '";
  command += SLUICE_SOURCE_DIR;
  command += "' && '";
  command += SLUICE_BINARY;
  command += "' lint ";
  command += args;
  command += " 2>/dev/null";
  auto run = sluice::testing::runCommand(command);
  return {run.output, run.exitCode};
}

struct GitOpsLintCase {
  const char* behaviour;
  std::string args;
  std::string out;
  int exitStatus;
};

}  // namespace

TEST_CASE("lint checks GitRepositories and Kustomizations with the controller's loaders",
          "[cli][lint][gitops]") {
  const std::vector<GitOpsLintCase> rows = {
      {"a source and its Kustomizations, in sluice's and Flux's apiVersions",
       "tests/data/lint/gitops-valid.yaml", "0 errors, 0 warnings in 1 file\n", 0},
      {"every field in error at its line and path", "tests/data/lint/gitops-problems.yaml",
       "tests/data/lint/gitops-problems.yaml:8:3: error: spec.url: URL \"git.example.com/fleet\" has no "
       "scheme: use "
       "file://, http://, https://, ssh:// or git://, or the scp-like user@host:path\n"
       "tests/data/lint/gitops-problems.yaml:9:3: error: spec.interval: invalid duration \"5 minutes\": "
       "missing unit "
       "(s, m or h)\n"
       "tests/data/lint/gitops-problems.yaml:10:3: error: spec.timeout: invalid duration \"soon\": want a "
       "number "
       "followed by a unit (s, m, h)\n"
       "tests/data/lint/gitops-problems.yaml:11:3: warning: spec.ref: names no branch, tag, semver, name or "
       "commit: "
       "the branch master is fetched\n"
       "tests/data/lint/gitops-problems.yaml:22:3: error: spec.interval: invalid duration \"10x\": unknown "
       "unit "
       "\"x\"\n"
       "tests/data/lint/gitops-problems.yaml:23:3: error: spec.timeout: negative duration \"-1m\"\n"
       "tests/data/lint/gitops-problems.yaml:26:5: error: spec.decryption.provider: must be sops, got "
       "\"vault\"\n"
       "6 errors, 1 warning in 1 file\n",
       1},
      {"kustomize's own kustomization.yaml is another kind, skipped",
       "tests/data/lint/gitops-kustomize-file.yaml",
       "tests/data/lint/gitops-kustomize-file.yaml: warning: no document of a known kind (Rollout, "
       "Experiment, AnalysisTemplate, ClusterAnalysisTemplate, AnalysisRun, Scenario, GitRepository or "
       "Kustomization): nothing was checked\n"
       "0 errors, 1 warning in 1 file\n",
       0},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    const GitOpsLintRun result = runGitOpsLint(row.args);
    CHECK(result.out == row.out);
    CHECK(result.exitStatus == row.exitStatus);
  }
}

TEST_CASE("lint checks sourceRefs and dependsOn across the files it is given", "[cli][lint][gitops]") {
  const std::vector<GitOpsLintCase> rows = {
      {"a GitRepository in none of the files is a warning: it may be in the cluster",
       "tests/data/lint/gitops-apps.yaml",
       "tests/data/lint/gitops-apps.yaml:10:5: warning: spec.sourceRef.name: GitRepository flux-system/fleet "
       "is in "
       "none of the given files: it must exist in the cluster for the Kustomization to apply\n"
       "0 errors, 1 warning in 1 file\n",
       0},
      {"the same Kustomization with the file that holds its GitRepository",
       "tests/data/lint/gitops-apps.yaml tests/data/lint/gitops-valid.yaml",
       "0 errors, 0 warnings in 2 files\n", 0},
      {"a dependsOn cycle is an error on each dependency in it, a self-dependency too",
       "tests/data/lint/gitops-cycle.yaml",
       "tests/data/lint/gitops-cycle.yaml:11:7: error: spec.dependsOn[0]: dependsOn cycle among the "
       "Kustomizations "
       "a, b: none of them ever becomes ready\n"
       "tests/data/lint/gitops-cycle.yaml:22:7: error: spec.dependsOn[0]: dependsOn cycle among the "
       "Kustomizations "
       "a, b: none of them ever becomes ready\n"
       "tests/data/lint/gitops-cycle.yaml:34:7: error: spec.dependsOn[1]: Kustomization c depends on itself: "
       "it "
       "never becomes ready\n"
       "3 errors, 0 warnings in 1 file\n",
       1},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    const GitOpsLintRun result = runGitOpsLint(row.args);
    CHECK(result.out == row.out);
    CHECK(result.exitStatus == row.exitStatus);
  }
}
