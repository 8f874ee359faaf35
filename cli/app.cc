#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"

namespace sluice::cli {

int run(int argc, char** argv) {
  CLI::App app{
      "Sluice: progressive delivery for Kubernetes. Runs Rollouts step by step (shift traffic, pause,\n"
      "analyse metrics, promote or abort), and simulates a step plan offline before it meets production."};
  app.require_subcommand(1);
  app.fallthrough(false);
  int exitCode = kExitOk;
  addVersionCommand(app, exitCode);
  addLintCommand(app, exitCode);
  addSimCommand(app, exitCode);
  addAnalysisCommand(app, exitCode);
  addClusterCommand(app, exitCode);
  addControllerCommand(app, exitCode);
  addGetCommand(app, exitCode);
  addListCommand(app, exitCode);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitInvalidInput;
  }
  return exitCode;
}

}  // namespace sluice::cli
