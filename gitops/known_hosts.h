// OpenSSH known_hosts, as a GitRepository's Secret carries it: parsed once, then asked whether the key an
// SSH server offered is the one recorded for that host.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace sluice::gitops {

class KnownHosts {
 public:
  // Reads `text` in OpenSSH's format: `[marker] hosts keytype base64-key [comment]` a line, hosts as a
  // comma list of names, `[host]:port`, `*`/`?` patterns, `!` negations or hashed `|1|salt|hash` entries.
  // An error names the line and what is wrong with it.
  static Result<KnownHosts> parse(const std::string& text);

  // Whether the server `host` (as knownHostsName() gives it: "host" or "[host]:port") may present the key
  // `keyType` (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, ...) with the wire-format blob `key`. The error
  // says which, for a person: no entry for the host, or a different key (with the offered key's SHA256
  // fingerprint, as ssh prints it), or a revoked key.
  Status verify(const std::string& host, const std::string& keyType, const std::string& key) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::vector<std::string> patterns;  // plain or hashed ("|1|salt|hash")
    std::string keyType;
    std::string key;  // decoded blob
    bool revoked = false;
    int line = 0;
  };
  static bool hostMatches(const Entry& e, const std::string& host);
  std::vector<Entry> entries_;
};

// "SHA256:<base64 without padding>" of a key blob, as ssh-keygen -l prints it.
std::string sshFingerprint(const std::string& key);

}  // namespace sluice::gitops
