// The `sluice` command line. The same binary installed as `kubectl-sluice` is the kubectl plugin.
#pragma once

namespace sluice::cli {

// Parses the arguments and runs the subcommand. Returns the process exit status: 0 success, 2 invalid
// input or usage, other values as each subcommand documents.
int run(int argc, char** argv);

}  // namespace sluice::cli
