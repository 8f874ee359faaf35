// SOPS-encrypted YAML and JSON documents, decrypted with age identities before a Kustomization applies
// them: the data key unwrapped from the `sops.age` recipients, every value checked and decrypted, and
// the document's MAC verified.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sluice::gitops {

// Whether `document` carries SOPS metadata (a top-level `sops` mapping in its first YAML document or in
// its JSON object; `sops_` keys in a dotenv file). Cheap to call on any manifest; false for malformed input.
bool hasSopsMetadata(std::string_view document, const std::string& fileName);

// Whether decryption verifies the document's MAC. Verify for a file as it was committed. Flux skips
// the check for objects that come out of `kustomize build`, which adds labels, a namespace or a name
// prefix to them (values the MAC covers, so it no longer matches); each encrypted value is still
// authenticated on its own, with its field path.
enum class MacCheck { kVerify, kSkip };

// A SOPS document's format: SOPS's YAML, JSON and dotenv stores.
enum class SopsFormat { kYaml, kJson, kDotenv };

// Decrypts a SOPS document with the first of `identities` (validated `AGE-SECRET-KEY-1...` strings, as
// parseAgeIdentities returns them) that unwraps the data key of one of its age recipients.
//
// The format comes from `fileName`: `.json` is JSON, `.env` SOPS's dotenv format (KEY=value lines, the
// metadata in `sops_` keys), anything else YAML (a multi-document stream is decrypted document by
// document, with the metadata of the first, as SOPS writes it). A document
// without SOPS metadata is returned unchanged, byte for byte. Otherwise the result is the plaintext
// document without its `sops` block, in the same format (YAML comments are dropped: SOPS neither
// authenticates them nor treats an undecryptable one as an error).
//
// Errors name `fileName` and, where a value is at fault, its field path and line; they never contain a
// decrypted value, the data key or an identity. Every value that the document's rules
// (`unencrypted_suffix`, `encrypted_suffix`, `unencrypted_regex`, `encrypted_regex`) say is encrypted must
// decrypt with its path as additional data, and the MAC (SHA-512 over the plaintext values, or over the
// encrypted ones with `mac_only_encrypted`) must match the one stored: a mismatch is an error, unless
// `mac` is kSkip. Pure, thread-safe.
Result<std::string> decryptSopsDocument(std::string_view document, const std::string& fileName,
                                        const std::vector<std::string>& identities,
                                        MacCheck mac = MacCheck::kVerify);
// As above, in `format` whatever `fileName` ends with (a Secret's data entry, an env file named .txt);
// `fileName` only names the document in errors.
Result<std::string> decryptSopsDocument(std::string_view document, const std::string& fileName,
                                        SopsFormat format, const std::vector<std::string>& identities,
                                        MacCheck mac = MacCheck::kVerify);

}  // namespace sluice::gitops
