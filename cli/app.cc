#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <string_view>

#include "cli/commands.h"
#include "cli/completion.h"

namespace sluice::cli {

int run(int argc, char** argv) {
  CLI::App app{
      "Sluice: progressive delivery for Kubernetes. Runs Rollouts step by step (shift traffic, pause,\n"
      "analyse metrics, promote or abort), and simulates a step plan offline before it meets production.\n"
      "GitOps: git sources and Kustomizations applied from them (get, reconcile, diff, tree, ...)."};
  app.require_subcommand(1);
  app.fallthrough(false);
  int exitCode = kExitOk;
  addVersionCommand(app, exitCode);
  addLintCommand(app, exitCode);
  addSimCommand(app, exitCode);
  addAnalysisCommand(app, exitCode);
  addClusterCommand(app, exitCode);
  addControllerCommand(app, exitCode);
  addRolloutCommands(app, exitCode);
  addCompletionCommand(app, exitCode);
  addGetCommand(app, exitCode);
  addListCommand(app, exitCode);
  addGitOpsCommands(app, exitCode);
  // Completion requests: `sluice __complete WORDS...` from the shell scripts, and kubectl's plugin
  // completion, which runs `kubectl_complete-sluice WORDS...` (a link to this binary).
  std::string_view program = argc > 0 ? argv[0] : "";
  program = program.substr(program.rfind('/') == std::string_view::npos ? 0 : program.rfind('/') + 1);
  if (program == "kubectl_complete-sluice") return complete(app, {argv + 1, argv + argc});
  if (argc >= 2 && std::string_view(argv[1]) == "__complete") return complete(app, {argv + 2, argv + argc});
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
