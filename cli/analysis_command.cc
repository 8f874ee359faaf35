// `sluice analysis`: working with analysis. `eval` tests a successCondition or failureCondition against
// a result, the way a measurement would evaluate it.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "analysis/condition.h"
#include "analysis/value.h"
#include "cli/commands.h"

namespace sluice::cli {

namespace {

struct EvalOptions {
  std::string condition;
  std::string result;
};

// Prints true or false (exit 0), or the compile or evaluation error (exit 2).
int runEval(const EvalOptions& options) {
  auto condition = analysis::compile(options.condition);
  if (!condition) {
    std::cerr << "sluice analysis eval: " << condition.error() << "\n";
    return kExitInvalidInput;
  }
  auto result = analysis::parseResultJson(options.result);
  if (!result) {
    std::cerr << "sluice analysis eval: --result: " << result.error() << "\n";
    return kExitInvalidInput;
  }
  auto outcome = condition->evaluate(*result);
  if (!outcome) {
    std::cerr << "sluice analysis eval: " << outcome.error() << "\n";
    return kExitInvalidInput;
  }
  std::cout << (*outcome ? "true" : "false") << "\n";
  return kExitOk;
}

}  // namespace

void addAnalysisCommand(CLI::App& app, int& exitCode) {
  auto* analysis = app.add_subcommand("analysis", "Work with analysis conditions and templates");
  analysis->require_subcommand(1);
  auto options = std::make_shared<EvalOptions>();
  auto* eval = analysis->add_subcommand(
      "eval",
      "Evaluate a successCondition or failureCondition against a metric result. Prints true or false\n"
      "(exit 0), or the error a measurement would report (exit 2).\n"
      "  sluice analysis eval 'len(result) == 0 || result[0] >= 0.95' --result '[0.97, 0.99]'");
  eval->add_option("condition", options->condition, "The condition, as written in the AnalysisTemplate")
      ->required();
  eval->add_option("--result", options->result,
                   "The result as JSON: a number, an array of numbers, null, a bool or a string; \"NaN\", "
                   "\"+Inf\" and \"-Inf\" (quoted or not) are numbers")
      ->required();
  eval->callback([options, &exitCode] { exitCode = runEval(*options); });
  addBacktestCommand(*analysis, exitCode);
}

}  // namespace sluice::cli
