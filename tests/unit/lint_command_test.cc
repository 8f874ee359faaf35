// `sluice lint`, run as a person runs it: the real binary on files under tests/data/lint/, checking what
// it prints and its exit status.
#include <sys/wait.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

namespace {

struct CommandResult {
  std::string out;
  int exitStatus = -1;
};

// Runs `sluice ARGS` in the source directory, so file names in the output are relative and stable.
CommandResult runSluice(const std::string& args) {
  const std::string command =
      std::string("cd '") + SLUICE_SOURCE_DIR + "' && '" + SLUICE_BINARY + "' " + args + " 2>/dev/null";
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  if (WIFEXITED(status)) result.exitStatus = WEXITSTATUS(status);
  return result;
}

}  // namespace

TEST_CASE("lint prints each problem and a summary, and its exit status says whether there were errors",
          "[cli][lint]") {
  struct Row {
    const char* behaviour;
    std::string args;
    std::string out;
    int exitStatus;
  };
  const std::vector<Row> rows = {
      {"a valid Rollout beside a Service", "lint tests/data/lint/valid.yaml",
       "0 errors, 0 warnings in 1 file\n", 0},
      {"an Argo manifest unchanged", "lint tests/data/lint/argo.yaml", "0 errors, 0 warnings in 1 file\n", 0},
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
      {"an unreadable file is a usage problem",
       "lint tests/data/lint/no-such-file.yaml tests/data/lint/valid.yaml",
       "0 errors, 0 warnings in 2 files\n", 2},
      {"no file at all is a usage problem", "lint", "", 2},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    const CommandResult result = runSluice(row.args);
    CHECK(result.out == row.out);
    CHECK(result.exitStatus == row.exitStatus);
  }
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
