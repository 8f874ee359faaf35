// One function per subcommand: each adds itself to the app and sets `exitCode` when it runs.
#pragma once

namespace CLI {
class App;
}

namespace sluice::cli {

// Exit statuses shared by the subcommands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;       // the command ran and the answer is "no" (lint found errors)
inline constexpr int kExitInvalidInput = 2;  // bad flags, unreadable or invalid files
inline constexpr int kExitMismatch = 3;      // sim --expect did not match

void addVersionCommand(CLI::App& app, int& exitCode);
void addLintCommand(CLI::App& app, int& exitCode);
void addSimCommand(CLI::App& app, int& exitCode);
void addAnalysisCommand(CLI::App& app, int& exitCode);
// `sluice analysis backtest`, added under the `analysis` subcommand.
void addBacktestCommand(CLI::App& analysisCommand, int& exitCode);
void addClusterCommand(CLI::App& app, int& exitCode);
void addControllerCommand(CLI::App& app, int& exitCode);
// The plugin's read-only views: `get rollout|analysisrun` and `list rollouts`.
void addGetCommand(CLI::App& app, int& exitCode);
void addListCommand(CLI::App& app, int& exitCode);
// The plugin's verbs on one Rollout: promote, abort, retry rollout, pause, resume, set image, undo, status.
void addRolloutCommands(CLI::App& app, int& exitCode);
// The GitOps verbs (get sources git / kustomizations, reconcile, suspend, resume, build, diff, tree,
// events). Adds to `get` and `resume`, so it is called after addGetCommand and addRolloutCommands.
void addGitOpsCommands(CLI::App& app, int& exitCode);

}  // namespace sluice::cli
