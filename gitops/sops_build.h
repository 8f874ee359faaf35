// SOPS decryption around a Kustomization's build, where Flux's kustomize-controller does it: the files
// that kustomize generators and patches read are decrypted in the build's copy before kustomize runs, and
// the built objects that carry SOPS metadata (or Secrets whose data entries are SOPS files) after it,
// before postBuild substitution. The source itself is never written.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sluice::gitops {

class SopsBuildDecryptor {
 public:
  // `identities`: validated age identities (ageIdentitiesFromSecret). Never printed.
  explicit SopsBuildDecryptor(std::vector<std::string> identities);

  // Decrypts in place, under `copyRoot` (the build's copy of the source), the SOPS-encrypted files that
  // the kustomization file in `dir` reads: secretGenerator and configMapGenerator `files` and `envs`
  // (`env`), and `patches[].path`; then the same in every local directory it lists in `resources` and
  // `components`. References that leave `copyRoot`, remote ones, and files without SOPS metadata are left
  // alone. Each file's MAC is verified (it is decrypted as committed). Errors name the file by its path
  // in the source ("apps/web/app.env"), never a value. Blocks on file I/O.
  Status decryptSources(const std::filesystem::path& copyRoot, const std::filesystem::path& dir) const;

  // One object of kustomize's output, as YAML text, named `object` ("Secret/ns/name") in errors:
  // nullopt when there is nothing to decrypt (no SOPS metadata, not a Secret with an encrypted data
  // entry, or annotated kustomize.toolkit.fluxcd.io/decrypt: disabled); else the decrypted object as
  // YAML (a whole document without its `sops` block, or the Secret with each encrypted data entry
  // decrypted and base64-encoded again). The MAC of a whole object is not checked (kustomize changed
  // it: labels, namespace), as Flux; each value is still authenticated. Pure.
  Result<std::optional<std::string>> decryptObject(std::string_view yaml, const std::string& object) const;

 private:
  std::vector<std::string> identities_;
};

}  // namespace sluice::gitops
