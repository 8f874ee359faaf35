// Shell completion for `sluice` and `kubectl sluice`: `sluice completion bash|zsh` prints a script that asks
// the binary itself (`sluice __complete WORDS... PARTIAL`) for candidates, and kubectl's plugin completion
// runs the same protocol through `kubectl_complete-sluice` (a link to this binary). Candidates come from
// the command tree (verbs, flags) and, for an object's NAME (a Rollout, a Kustomization, a GitRepository),
// from the cluster.
#include "cli/completion.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/kube_access.h"
#include "controller/resources.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"

namespace sluice::cli {

namespace {

// The directives of the protocol kubectl's plugin completion speaks (cobra's): after the candidates, a
// line `:N`. 4: do not fall back to file names; 0: the shell may complete file names.
constexpr int kNoFileCompletion = 4;
constexpr int kDefaultCompletion = 0;

bool hasPrefix(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

CLI::App* subcommandNamed(CLI::App* cmd, const std::string& word) {
  for (CLI::App* sub : cmd->get_subcommands([](CLI::App*) { return true; })) {
    if (sub->check_name(word)) return sub;
  }
  return nullptr;
}

const CLI::Option* optionNamed(const CLI::App* cmd, const std::string& word) {
  for (const CLI::Option* opt : cmd->get_options()) {
    if (!opt->get_positional() && opt->check_name(word)) return opt;
  }
  return nullptr;
}

// Where the partial word stands once the words before it are read.
struct Position {
  CLI::App* cmd = nullptr;
  int positionals = 0;                   // positional arguments already given to `cmd`
  const CLI::Option* pending = nullptr;  // an option whose value the partial word is
  KubeFlags kube;                        // connection flags among the words, for cluster lookups
};

Position locate(CLI::App& root, const std::vector<std::string>& words) {
  Position p;
  p.cmd = &root;
  p.kube.requestTimeout = "2s";
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (hasPrefix(w, "-") && w.size() > 1) {
      const auto eq = w.find('=');
      const std::string name = w.substr(0, eq);
      const CLI::Option* opt = optionNamed(p.cmd, name);
      if (!opt || opt->get_type_size_max() == 0) continue;  // a flag, or unknown
      std::string value;
      if (eq != std::string::npos) {
        value = w.substr(eq + 1);
      } else if (i + 1 < words.size()) {
        value = words[++i];
      } else {
        p.pending = opt;
        continue;
      }
      if (opt->check_name("--namespace")) p.kube.ns = value;
      if (opt->check_name("--context")) p.kube.context = value;
      if (opt->check_name("--kubeconfig")) p.kube.kubeconfig = value;
      continue;
    }
    if (p.positionals == 0) {
      if (CLI::App* sub = subcommandNamed(p.cmd, w)) {
        p.cmd = sub;
        continue;
      }
    }
    ++p.positionals;
  }
  return p;
}

// Names of the objects of `resource` in the namespace the words name; empty when the cluster cannot say.
std::vector<std::string> objectNames(const KubeFlags& flags, const kube::ResourceRef& resource) {
  auto session = connect(flags, "kubectl-sluice-completion");
  if (!session) return {};
  auto list = session->client->list(resource, session->ns);
  if (!list) return {};
  std::vector<std::string> names;
  for (const auto& item : (*list)["items"]) names.push_back(item["metadata"].value("name", ""));
  return names;
}

std::vector<std::string> namespaceNames(const KubeFlags& flags) {
  kube::ResourceRef namespaces{"", "v1", "namespaces", false, "Namespace"};
  return objectNames(flags, namespaces);
}

std::vector<std::string> contextNames(const KubeFlags& flags) {
  std::vector<std::string> files;
  if (!flags.kubeconfig.empty()) {
    files.push_back(flags.kubeconfig);
  } else if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string list = env;
    for (size_t start = 0; start <= list.size();) {
      const size_t colon = std::min(list.find(':', start), list.size());
      if (colon > start) files.push_back(list.substr(start, colon - start));
      start = colon + 1;
    }
  } else if (const char* home = std::getenv("HOME")) {
    files.push_back(std::string(home) + "/.kube/config");
  }
  auto config = kube::loadKubeconfigFiles(files, true);
  std::vector<std::string> names;
  if (config) {
    for (const auto& [name, context] : config->contexts) names.push_back(name);
  }
  return names;
}

// The resource a command's NAME argument names: AnalysisRuns under `get analysisrun`, Experiments under
// `... experiment`, Kustomizations under `... kustomization`, GitRepositories under `... source git`,
// Rollouts elsewhere.
const kube::ResourceRef& resourceOfName(const CLI::App* cmd) {
  static const kube::ResourceRef kustomizations{"sluice.dev", "v1alpha1", "kustomizations", true,
                                                "Kustomization"};
  static const kube::ResourceRef gitRepositories{"sluice.dev", "v1alpha1", "gitrepositories", true,
                                                 "GitRepository"};
  if (cmd->check_name("analysisrun")) return controller::analysisRunsResource();
  if (cmd->check_name("experiment")) return controller::experimentsResource();
  if (cmd->check_name("kustomization")) return kustomizations;
  if (cmd->check_name("git")) return gitRepositories;
  return controller::rolloutsResource();
}

bool takesName(const CLI::App* cmd) {
  for (const CLI::Option* opt : cmd->get_options()) {
    if (opt->get_positional() && opt->get_name() == "NAME") return true;
  }
  return false;
}

}  // namespace

int complete(CLI::App& root, std::vector<std::string> words) {
  const std::string partial = words.empty() ? std::string() : words.back();
  if (!words.empty()) words.pop_back();
  const Position p = locate(root, words);
  std::vector<std::string> candidates;
  int directive = kNoFileCompletion;
  if (p.pending) {
    if (p.pending->check_name("--namespace")) {
      candidates = namespaceNames(p.kube);
    } else if (p.pending->check_name("--context")) {
      candidates = contextNames(p.kube);
    } else {
      directive = kDefaultCompletion;  // files, durations: the shell's own completion
    }
  } else if (hasPrefix(partial, "-")) {
    for (const CLI::Option* opt : p.cmd->get_options()) {
      if (opt->get_positional()) continue;
      for (const auto& l : opt->get_lnames()) candidates.push_back("--" + l);
      for (const auto& s : opt->get_snames()) candidates.push_back("-" + s);
    }
  } else if (p.positionals == 0 && !p.cmd->get_subcommands([](CLI::App*) { return true; }).empty()) {
    for (CLI::App* sub : p.cmd->get_subcommands([](CLI::App*) { return true; })) {
      if (sub->get_group().empty()) continue;  // hidden
      candidates.push_back(sub->get_name());
    }
    // `resume` takes a Rollout's NAME as well as the GitOps kinds (resume kustomization NAME).
    if (takesName(p.cmd)) {
      for (auto& name : objectNames(p.kube, resourceOfName(p.cmd))) candidates.push_back(std::move(name));
    }
  } else if (p.positionals == 0 && takesName(p.cmd)) {
    candidates = objectNames(p.kube, resourceOfName(p.cmd));
  } else {
    directive = kDefaultCompletion;
  }
  for (const auto& c : candidates) {
    if (hasPrefix(c, partial)) std::cout << c << "\n";
  }
  std::cout << ":" << directive << "\n";
  return kExitOk;
}

namespace {

// Both scripts hand the words up to the cursor to `__complete`, then offer the candidates, or file names
// when the binary allows it (directive 0).
constexpr const char* kBashScript =
    R"(# bash completion for sluice and kubectl-sluice: source <(sluice completion bash)
_sluice_complete() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local out directive
  out=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
  directive=${out##*:}
  out=${out%:*}
  COMPREPLY=()
  local line
  while IFS= read -r line; do
    [[ -n $line ]] && COMPREPLY+=("$line")
  done <<< "$out"
  if [[ ${#COMPREPLY[@]} -eq 0 && $(( directive & 4 )) -eq 0 ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _sluice_complete sluice kubectl-sluice
)";

constexpr const char* kZshScript = R"(#compdef sluice kubectl-sluice
# zsh completion for sluice and kubectl-sluice: source <(sluice completion zsh)
_sluice_complete() {
  local -a lines candidates
  local directive
  lines=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  directive=${lines[-1]#:}
  candidates=("${(@)lines[1,-2]}")
  if (( ${#candidates} )); then
    compadd -a candidates
  elif (( ! (directive & 4) )); then
    _files
  fi
}
compdef _sluice_complete sluice kubectl-sluice
)";

}  // namespace

void addCompletionCommand(CLI::App& app, int& exitCode) {
  auto* cmd = app.add_subcommand(
      "completion",
      "Print a completion script: source <(sluice completion bash), or zsh. kubectl completes\n"
      "`kubectl sluice` through kubectl_complete-sluice, a link to this binary on the PATH.");
  auto shell = std::make_shared<std::string>();
  cmd->add_option("SHELL", *shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  cmd->callback([&exitCode, shell] {
    std::cout << (*shell == "bash" ? kBashScript : kZshScript);
    exitCode = kExitOk;
  });
}

}  // namespace sluice::cli
