// `sluice lint` for the GitOps kinds: GitRepository and Kustomization (sluice.dev/v1alpha1 and Flux's
// apiVersions), each read by the loader the controller uses, and the checks that need every file of the
// run: a sourceRef to a GitRepository none of them holds, and dependsOn cycles.
#pragma once

#include <string>
#include <vector>

#include "base/diagnostics.h"

namespace sluice {
struct Document;
}

namespace sluice::cli {

class GitOpsLint {
 public:
  // Whether `kind` and `apiVersion` are a GitOps kind lint checks. kustomize's own Kustomization
  // (kustomize.config.k8s.io, the kustomization.yaml of a directory) is not one.
  static bool handles(const std::string& kind, const std::string& apiVersion);

  // Lints one document of a kind `handles` accepts: the loader's problems at their field paths, and a
  // GitRepository whose ref names nothing. Remembers what the checks across files need.
  void lint(const Document& doc, Diagnostics& diags);

  // The checks across every document linted so far: a Kustomization's sourceRef to a GitRepository that
  // no given file holds is a warning (it may well be in the cluster already, as a bootstrap's is); a
  // dependsOn cycle among the given Kustomizations is an error on each of its members.
  Diagnostics crossChecks() const;

 private:
  struct KustomizationSeen {
    std::string key;  // namespace/name ("" namespace: the same for all that leave it out)
    std::string sourceKind;
    std::string sourceKey;
    Diagnostic sourceAt;  // spec.sourceRef.name, message to fill
    std::vector<std::string> dependsOn;
    std::vector<Diagnostic> dependsOnAt;
  };
  std::vector<std::string> gitRepositories_;
  std::vector<KustomizationSeen> kustomizations_;
};

}  // namespace sluice::cli
