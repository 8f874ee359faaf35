#include <CLI/CLI.hpp>
#include <iostream>

#include "base/version.h"
#include "cli/commands.h"

namespace sluice::cli {

void addVersionCommand(CLI::App& app, int& exitCode) {
  auto* cmd = app.add_subcommand("version", "Print the version of sluice");
  cmd->callback([&exitCode] {
    std::cout << "sluice " << SLUICE_VERSION << "\n";
    exitCode = kExitOk;
  });
}

}  // namespace sluice::cli
