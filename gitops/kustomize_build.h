// Building a Kustomization's directory with the real kustomize (a `kustomize` binary, or the one built
// into kubectl), after writing the Kustomization's own overlay (targetNamespace, name affixes, common
// metadata, patches, images, components) into a temporary copy, as Flux does; then postBuild variable
// substitution.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gitops/kustomization.h"

namespace sluice::gitops {

class SopsBuildDecryptor;

class KustomizeBuilder {
 public:
  // `binary`: the program to run. Empty: `kustomize` when one is on PATH, else `kubectl` (run as
  // `kubectl kustomize`). A path or name ending in "kubectl" is run as `kubectl kustomize`, anything else
  // as `<binary> build`. `tempRoot`: where the copies are made (empty: the system's temp directory).
  explicit KustomizeBuilder(std::string binary = "", std::filesystem::path tempRoot = {});
  ~KustomizeBuilder();
  KustomizeBuilder(const KustomizeBuilder&) = delete;
  KustomizeBuilder& operator=(const KustomizeBuilder&) = delete;

  // The command line that builds `dir` into `output`.
  std::vector<std::string> command(const std::filesystem::path& dir,
                                   const std::filesystem::path& output) const;

  // Builds spec.path of the artifact extracted at `root`: lays `root` out in a temporary directory (the
  // directory at spec.path copied, the rest linked; the source is never written), generates
  // kustomization.yaml where there is none (every file holding a Kubernetes object, recursively; a
  // sub-directory with its own kustomization.yaml as one resource), adds the overlay, runs kustomize (at most
  // `timeout`), then substitutes `vars` (when spec.hasPostBuild). With `decryptor` (spec.decryption), the
  // files kustomize reads are decrypted in the copy before it runs and the objects after it, before
  // substitution (sops_build.h); the source is then copied whole (never linked) and the output is not kept.
  // Errors: "kustomization path not found: PATH"; kustomize's own message with the temporary directory
  // written as the source's paths; a YAML error with its file and line; "decryption failed for ..." naming
  // the file or the object; a substitution error naming the object. Blocks. Thread-safe.
  //
  // Without a decryptor, kustomize's output is kept (up to 16 MiB, least recently used out) by `root`,
  // `revision` (the source's), spec.path and the overlay, and reused: what `root` holds at a revision must
  // not change while the builder lives (an artifact's directory is named by its digest). So an interval with
  // nothing new runs no kustomize, and Kustomizations that build the same path with different variables share
  // one run, concurrent ones included. Remote bases a kustomization names by URL are read again only when the
  // source's revision changes.
  Result<std::vector<nlohmann::json>> build(const std::filesystem::path& root, const KustomizationSpec& spec,
                                            const std::map<std::string, std::string>& vars,
                                            std::chrono::milliseconds timeout,
                                            const SopsBuildDecryptor* decryptor = nullptr,
                                            const std::string& revision = "") const;

  // How many builds ran kustomize, and how many reused a kept output (for benchmarks and tests).
  long kustomizeRuns() const { return kustomizeRuns_; }
  long cacheHits() const { return cacheHits_; }

 private:
  struct Cache;
  Result<std::string> run(const std::filesystem::path& root, const KustomizationSpec& spec,
                          std::chrono::milliseconds timeout, const SopsBuildDecryptor* decryptor) const;

  std::string binary_;
  std::filesystem::path tempRoot_;
  std::unique_ptr<Cache> cache_;
  mutable std::atomic<long> kustomizeRuns_{0};
  mutable std::atomic<long> cacheHits_{0};
};

// Substitutes `${var}`, `${var:=default}`, `${var:-default}` (default when unset or empty), `${var=default}`
// and `${var-default}` (default when unset) in `text`; an undefined variable becomes "", `$${var}` is
// written `${var}` unsubstituted. Errors: an unterminated `${`, a bad variable name, an operator other
// than these. Pure.
Result<std::string> substituteVariables(std::string_view text,
                                        const std::map<std::string, std::string>& vars);

// Splits kustomize's output into objects and substitutes each (its YAML text, as Flux does, so that
// `replicas: ${n}` becomes a number), except objects annotated kustomize.toolkit.fluxcd.io/substitute:
// disabled. `substitute` false: parse only. With `decryptor`, each object is decrypted first. Errors name
// the object.
Result<std::vector<nlohmann::json>> parseBuildOutput(std::string_view yaml, bool substitute,
                                                     const std::map<std::string, std::string>& vars,
                                                     const SopsBuildDecryptor* decryptor = nullptr);

}  // namespace sluice::gitops
