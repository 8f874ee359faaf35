// `sluice analysis eval`, run as a user runs it: the real binary, its output and its exit status.
#include <catch2/catch.hpp>
#include <string>

#include "tests/support/process.h"

namespace {

struct Run {
  int exitCode;
  std::string output;  // stdout and stderr together
};

std::string shellQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

Run runEval(const std::string& condition, const std::string& resultJson) {
  // Appended piece by piece: GCC 12 warns (a false -Wstringop-overflow) on the chain of operator+.
  std::string command = SLUICE_BINARY;
  command.append(" analysis eval ").append(shellQuoted(condition));
  command.append(" --result ").append(shellQuoted(resultJson)).append("");
  auto run = sluice::testing::runCommand(command);
  REQUIRE(run.exitCode >= 0);
  return {run.exitCode, run.output};
}

TEST_CASE("sluice analysis eval prints true or false (exit 0) or the error (exit 2)", "[analysis][cli]") {
  struct Row {
    const char* condition;
    const char* result;
    int exitCode;
    const char* output;  // exit 0: the whole output; exit 2: a fragment of the error
  };
  const Row rows[] = {
      {"result >= 0.95", "0.97", 0, "true\n"},
      {"result >= 0.95", "0.5", 0, "false\n"},
      {"len(result) == 0 || result[0] >= 0.95", "[]", 0, "true\n"},
      {"all(result, {# < 1000})", "[10, 2000]", 0, "false\n"},
      {"isNaN(result) || result >= 0.95", "NaN", 0, "true\n"},
      {"result == 'ok'", "\"ok\"", 0, "true\n"},
      {"default(result, 0) < 0.05", "null", 0, "true\n"},
      {"result[0] >= 0.95", "[]", 2, "result is empty: the query returned no data"},
      {"result >= 0.95", "[0.97, 0.99]", 2, "cannot compare a list of 2 numbers with a number"},
      {"median(result) > 1", "[1]", 2, "column 1: unknown function \"median\""},
      {"result > )", "1", 2, "column 10: unexpected token \")\""},
      {"result", "1", 2, "the condition gives a number, not true or false"},
      {"result.ok && result.ratio >= 0.95", "{\"ok\": true, \"ratio\": 0.97}", 0, "true\n"},
      {"(result ?? 0) < 0.05", "null", 0, "true\n"},
      {"len(result) > 0 ? filter(result, # > 1)[-1] == 3 : false", "[1, 3]", 0, "true\n"},
      {"result > 1", "{\"a\": 1}", 2, "cannot compare an object with a number"},
      {"result.missing > 1", "{\"a\": 1}", 2, "result.missing is nil"},
      {"result > 1", "[1,", 2, "--result: the result is not valid JSON"},
      {"'é' == 'e' ≥ 1", "1", 2, "column 12: unexpected character \"≥\""},
      {"result > 1\a", "1", 2, "column 11: unexpected control character U+0007"},
      {"result == \"é\\ü\"", "1", 2, "column 13: unknown escape \\ü in a string"},
      {"result[-1] == \"é\" && result[0] == 1", "[1, \"é\"]", 0, "true\n"},
      {"result > 1", "[1, \"é\"]", 2, "cannot compare a list of 2 values with a number"},
  };
  for (const Row& row : rows) {
    INFO(row.condition << " with " << row.result);
    const Run run = runEval(row.condition, row.result);
    CHECK(run.exitCode == row.exitCode);
    if (row.exitCode == 0) {
      CHECK(run.output == row.output);
    } else {
      CHECK_THAT(run.output, Catch::StartsWith("sluice analysis eval: ") && Catch::Contains(row.output));
    }
  }
}

TEST_CASE("a --result nested past the limit is an error, not a crash", "[analysis][cli][limits]") {
  // 65,000 levels: what made the command segfault while it printed its error.
  const Run deep = runEval("result > 1", "[1, " + std::string(65'000, '[') + std::string(65'000, ']') + "]");
  CHECK(deep.exitCode == 2);
  CHECK(
      deep.output ==
      "sluice analysis eval: --result: the result is nested deeper than 200 levels, the limit on nesting in "
      "an input\n");
  const Run underLimit = runEval("result > 1", std::string(199, '[') + std::string(199, ']'));
  CHECK(underLimit.exitCode == 2);
  CHECK_THAT(underLimit.output, Catch::Contains("cannot compare a list of 1 value with a number"));
}

}  // namespace
