// Shell completion: the `__complete` protocol (kubectl's plugin completion, cobra's format) and the
// `completion bash|zsh` scripts that use it.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace sluice::cli {

// Prints the candidates for the last of `words` (the word being typed; the ones before it are the
// command line after the program name), one per line, then `:DIRECTIVE` (4: no file names, 0: the shell
// may offer file names). Verbs and flags come from `root`'s tree; a rollout's NAME, --namespace and
// --context from the cluster and kubeconfig. Returns the exit status (always 0: completion never fails
// loudly).
int complete(CLI::App& root, std::vector<std::string> words);

// `sluice completion bash|zsh`.
void addCompletionCommand(CLI::App& app, int& exitCode);

}  // namespace sluice::cli
