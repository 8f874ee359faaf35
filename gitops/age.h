// age v1 decryption (age-encryption.org/v1) with native X25519 identities, the format SOPS uses to wrap
// a document's data key. Decryption only: the controller never encrypts.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sluice::gitops {

// The identities (`AGE-SECRET-KEY-1...`) in a key file's text, as `age-keygen` writes it: one per line,
// blank lines and `#` comments ignored, several keys allowed. Each returned string is a validated
// identity in upper case. An error names the offending line by number and never quotes it (it may be a
// mistyped key); a text without any identity is an error too.
Result<std::vector<std::string>> parseAgeIdentities(const std::string& text);

// The identities of a Kustomization's decryption Secret (a Secret object as the API returns it): every
// `data` (base64) or `stringData` entry whose name ends in `.agekey`, each read as by parseAgeIdentities;
// entries with other names (Flux's `.asc`, `sops.vault-token`, ...) are left alone. An error names the
// Secret and the entry, never its content; a Secret without any `.agekey` identity is an error too.
Result<std::vector<std::string>> ageIdentitiesFromSecret(const nlohmann::json& secret);

// The recipient (`age1...`) of a validated identity; an error when `identity` is not one. Pure.
Result<std::string> ageRecipient(const std::string& identity);

// Decrypts an age file, binary or ASCII-armored (`-----BEGIN AGE ENCRYPTED FILE-----`), with the first
// of `identities` that unwraps an X25519 stanza of its header. The header MAC and every payload chunk
// are authenticated: a file that is truncated, extended or altered anywhere is an error, as is one for
// which no identity matches. Messages say what failed and never contain key material or plaintext.
// Pure, thread-safe.
Result<std::string> ageDecrypt(std::string_view file, const std::vector<std::string>& identities);

}  // namespace sluice::gitops
