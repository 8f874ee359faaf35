// What the embedded API server needs to be reached safely: a CA and a serving certificate (SAN 127.0.0.1
// and localhost) made with OpenSSL on first start, a random admin bearer token, and the kubeconfig that
// carries both to kubectl. All of it lives in the data directory and is reused on restart.
#pragma once

#include <filesystem>
#include <string>

#include "base/result.h"

namespace sluice::apiserver {

struct TlsMaterial {
  std::string caPem;
  std::string certPem;  // the serving certificate, signed by the CA
  std::string keyPem;   // its private key
  std::string token;    // the admin bearer token
};

// Loads ca.crt, server.crt, server.key and token from `dir`, creating whichever is missing (keys and the
// token with mode 0600). A certificate is re-made when its key is missing. Errors name the file. Blocks.
Result<TlsMaterial> loadOrCreateTlsMaterial(const std::filesystem::path& dir);

// Writes `dir`/kubeconfig (mode 0600): one cluster `sluice` at https://127.0.0.1:<port> with the CA inline,
// one user with the token, one context `sluice` (namespace default) set as current. Returns its path.
Result<std::filesystem::path> writeKubeconfig(const std::filesystem::path& dir, const TlsMaterial& tls, int port);

}  // namespace sluice::apiserver
