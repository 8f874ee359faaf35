// Git's smart HTTP for tests: the real `git http-backend` run as a CGI program per request behind a
// loopback HTTP server (HttpPeer), serving the repositories under one directory, optionally behind HTTP
// basic auth or a bearer token, and optionally over HTTPS.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "tests/support/http_peer.h"

namespace sluice::testing {

struct GitHttpAuth {
  std::string username;  // with password: basic auth required
  std::string password;
  std::string bearerToken;  // a request with `Authorization: Bearer <token>` is let in too
};

class GitHttpServer {
 public:
  // Serves `root` (GIT_PROJECT_ROOT; every repository exported) at url("/<repo>"). With `auth`, a request
  // without the right credentials gets 401 and a `WWW-Authenticate: Basic` challenge.
  // With `tls`, over HTTPS with that certificate.
  explicit GitHttpServer(std::filesystem::path root, GitHttpAuth auth = {},
                         std::optional<PeerTls> tls = std::nullopt);

  // "http://127.0.0.1:PORT" + path ("https://" over TLS).
  std::string url(const std::string& path = "") const { return peer_->url(path); }
  // Requests answered 401.
  int refused() const { return refused_.load(); }
  // All requests received.
  std::vector<PeerRequest> requests() const { return peer_->requests(); }

 private:
  PeerReply handle(const PeerRequest& request);

  std::filesystem::path root_;
  GitHttpAuth auth_;
  std::atomic<int> refused_{0};
  std::unique_ptr<HttpPeer> peer_;
};

}  // namespace sluice::testing
