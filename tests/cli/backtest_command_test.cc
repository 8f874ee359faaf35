// `sluice analysis backtest` refusing what it cannot do: a Prometheus it cannot reach, a period with more
// runs than it will play. The real binary, its output and its exit status.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "tests/support/process.h"

namespace {

using sluice::testing::runCommand;

const char* const kTemplate = R"(apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: error-rate
spec:
  metrics:
  - name: error-rate
    interval: 1m
    count: 3
    successCondition: result[0] < 0.05
    provider:
      prometheus:
        address: http://prometheus.example:9090
        query: vector(0.01)
)";

std::string backtest(const std::string& templateFile, const std::string& flags) {
  // Appended piece by piece: GCC 12 warns falsely (array-bounds) on the chained operator+ here.
  std::string command = "'";
  command += SLUICE_BINARY;
  command += "' analysis backtest '";
  command += templateFile;
  command += "' ";
  command += flags;
  command += " 2>&1";
  return command;
}

}  // namespace

TEST_CASE("a backtest against a Prometheus it cannot reach fails with the connection error",
          "[analysis][backtest][cli]") {
  sluice::testing::TempDir dir;
  const std::string file = (dir / "template.yaml").string();
  std::ofstream(file) << kTemplate;
  const std::string address = "http://127.0.0.1:" + std::to_string(sluice::testing::freeLoopbackPort());
  const auto result = runCommand(
      backtest(file, "--prometheus " + address + " --from 2026-01-01T00:00:00Z --to 2026-01-01T01:00:00Z"));
  INFO(result.output);
  CHECK(result.exitCode == 1);
  CHECK_THAT(result.output, Catch::StartsWith("sluice analysis backtest: cannot reach Prometheus at " +
                                              address + ": could not connect"));
  // No report of runs that never measured anything.
  CHECK_THAT(result.output, !Catch::Contains("Backtest of") && !Catch::Contains("Error"));
}

TEST_CASE("a backtest of more runs than the limit is refused before anything is built",
          "[analysis][backtest][cli]") {
  sluice::testing::TempDir dir;
  const std::string file = (dir / "template.yaml").string();
  std::ofstream(file) << kTemplate;
  // A 1 GB address-space limit shows nothing is built for the 166 million runs. AddressSanitizer reserves
  // terabytes of shadow memory at start, so a sanitized build runs the same command without the limit.
#if defined(SLUICE_SANITIZE)
  const std::string limit;
#else
  const std::string limit = "ulimit -v 1000000; ";
#endif
  const auto result = runCommand(
      limit + backtest(file, "--prometheus http://127.0.0.1:1 --from 0 --to 99999999999 --every 10m"));
  INFO(result.output);
  CHECK(result.exitCode == 2);
  CHECK(result.output ==
        "sluice analysis backtest: --from 1970-01-01T00:00:00Z to --to 5138-11-16T09:46:39Z every 10m is "
        "166666667 runs, more than the limit of 100000: shorten the period or raise --every\n");
}
