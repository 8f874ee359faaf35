// A scripted HTTP/1.1 peer on 127.0.0.1 for tests: it answers each request as the test's handler says
// (status, headers, body, chunked streaming, delays, silence, an oversized body) and records what it
// received, so tests can assert the method, path, query, headers and body a client sent. Plain HTTP, or
// HTTPS with a certificate the test gives.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::testing {

// One request as received.
struct PeerRequest {
  std::string method;
  std::string target;  // path and query as sent
  std::string path;    // target up to '?'
  std::string query;   // after '?', still encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;    // de-chunked
  int connection = 0;  // which accepted connection carried it (1, 2, ...): shows keep-alive reuse

  // The first header of that name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
};

// How to answer one request.
struct PeerReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When non-empty, the body is sent with Transfer-Encoding: chunked, one chunk per entry, `chunkDelay`
  // apart (`body` is then ignored).
  std::vector<std::string> chunks;
  std::chrono::milliseconds chunkDelay{0};
  // After the chunks, keep the stream open (no terminating chunk) until the client goes or the peer stops.
  bool holdStreamOpen = false;
  std::chrono::milliseconds delay{0};  // before the status line
  bool neverAnswer = false;            // read the request, then stay silent until the client goes away
  std::size_t fillerBytes = 0;  // when non-zero: a body of this many 'x' bytes (with Content-Length), sent
                                // in pieces without holding it in memory
};

// What an HTTPS peer presents: its certificate (followed by any intermediate CA certificates) and key,
// PEM.
struct PeerTls {
  std::string certificateChainPem;
  std::string privateKeyPem;
};

class HttpPeer {
 public:
  using Handler = std::function<PeerReply(const PeerRequest&)>;

  // Starts serving on a free loopback port (chosen by the kernel) in background threads; with `tls`, each
  // connection is a TLS server handshake first (one that fails closes the connection). Throws
  // std::runtime_error when it cannot listen or the certificate or key is not usable (a test setup
  // failure). The handler may run on several threads at once (one per connection).
  explicit HttpPeer(Handler handler, std::optional<PeerTls> tls = std::nullopt);
  HttpPeer(const HttpPeer&) = delete;
  HttpPeer& operator=(const HttpPeer&) = delete;
  // Stops listening, closes every connection (also silent ones) and joins the threads.
  ~HttpPeer();

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" + path ("https://" when serving TLS).
  std::string url(const std::string& path = "") const;
  // The requests received so far, oldest first. Thread-safe.
  std::vector<PeerRequest> requests() const;
  int connectionsAccepted() const { return connections_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::atomic<int> connections_{0};
};

}  // namespace sluice::testing
