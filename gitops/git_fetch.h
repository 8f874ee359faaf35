// Fetching a GitRepository's ref with libgit2 into a persistent cache (a bare repository per
// GitRepository), so that the next fetch transfers only the objects the cache lacks, and checking a fetched
// commit out into a directory. libgit2 1.5 has no shallow fetch (it came in 1.7): the first fetch of a ref
// transfers its whole history.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/result.h"
#include "gitops/git_repository.h"
#include "gitops/revision.h"

namespace sluice::gitops {

// Credentials from a GitRepository's Secret: HTTP basic (`username`, `password`) or a bearer token
// (`bearerToken`), and for HTTPS the CA certificates to trust (`ca.crt`, or `caFile` as older Flux
// versions named it); SSH: `identity` (a private key, PEM or OpenSSH), `identity.pub` (optional),
// `password` (the identity's passphrase, optional) and `known_hosts`.
struct GitCredentials {
  std::string username;
  std::string password;
  std::string bearerToken;
  std::string identity;
  std::string identityPub;
  std::string knownHosts;
  // PEM, one or more certificates. When set, an HTTPS server's certificate must chain to one of them
  // (and name the host); when empty, to the system's trust store.
  std::string caCert;
};

// The credentials of a Secret object (its base64 `data`, and `stringData` as written before the API server
// folds it in). An error names the key that is not valid base64, or the CA key that holds no certificate.
Result<GitCredentials> credentialsFromSecret(const nlohmann::json& secret);

struct FetchRequest {
  std::string url;
  GitRepositoryRef ref;
  GitCredentials credentials;
  std::chrono::milliseconds timeout{60000};
  std::filesystem::path cacheDir;  // the bare repository; created on the first fetch
};

struct FetchResult {
  Revision revision;          // main@sha1:<hex>
  std::string commit;         // the commit's full hex id
  std::string commitMessage;  // its first line
  // What the transfer carried, from libgit2's statistics: with a warm cache only the new objects.
  uint64_t receivedObjects = 0;
  uint64_t receivedBytes = 0;
};

struct FetchError {
  enum class Kind {
    Auth,         // the server refused the credentials, or asked for some and there are none
    RefNotFound,  // no such branch, tag, ref, commit, or no tag in the semver range
    Unreachable,  // no connection (refused, unknown host, no route, no TLS), or not a git repository there
    HostKey,      // the SSH host key is not the one known_hosts holds, or known_hosts is missing or bad
    Certificate,  // the HTTPS server's certificate: unknown authority, another host's, expired
    Timeout,      // the fetch ran past its timeout
    InvalidUrl,
    Storage,  // the cache could not be written
    Other,
  };
  Kind kind = Kind::Other;
  std::string message;  // names the URL (without password) and what to do
};

// Connects to `request.url`, resolves the ref (commit > name > semver > tag > branch; the highest tag in a
// semver range), fetches only that ref into the cache, and returns the commit. Blocks for up to
// `request.timeout`: connecting, and every read and write of git:// and HTTP(S), give up at the deadline
// (git_socket.h); over SSH only the connect and the transfer's progress are bounded. Over HTTPS the server's
// certificate is checked before anything is sent: against `credentials.caCert` when set (tls_verify.h),
// for this request only, else by libgit2 against the system's trust store. Thread-safe for different
// caches.
Expected<FetchResult, FetchError> fetchRef(const FetchRequest& request);

// Writes the tree of `commit` (as fetched into `cacheDir`) into `destination`, which must not exist.
// Submodules are left out.
Status checkoutCommit(const std::filesystem::path& cacheDir, const std::string& commit,
                      const std::filesystem::path& destination);

}  // namespace sluice::gitops
