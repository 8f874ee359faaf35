#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace sluice::cli {
// Filled in by the simulator work.
void addSimCommand(CLI::App&, int&) {}
}  // namespace sluice::cli
