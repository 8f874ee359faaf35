// An HTTP(S) client on libcurl: one request at a time, or a streamed response (watch). Shared by the
// metric providers and the Kubernetes client. libcurl stays inside http_client.cc.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace sluice::net {

using Header = std::pair<std::string, std::string>;

// TLS material, each as a file or inline PEM (inline wins when both are set).
struct TlsOptions {
  std::string caFile;
  std::string caPem;
  std::string clientCertFile;
  std::string clientCertPem;
  std::string clientKeyFile;
  std::string clientKeyPem;
  bool insecureSkipVerify = false;
  std::string serverName;  // SNI / verification name when it differs from the URL's host
};

struct Request {
  std::string method = "GET";
  std::string url;  // absolute; query already encoded (see urlEncode)
  std::vector<Header> headers;
  std::string body;
  std::chrono::milliseconds timeout{30000};         // the whole exchange; 0 = none (watch streams)
  std::chrono::milliseconds connectTimeout{10000};  // connecting alone
  std::size_t maxResponseBytes = 64u << 20;         // a larger body fails the request ("too large")
  TlsOptions tls;
  std::optional<std::pair<std::string, std::string>> basicAuth;  // user, password
};

struct Response {
  long status = 0;              // the HTTP status; any status is a Response, not an error
  std::vector<Header> headers;  // names as received
  std::string body;             // empty for stream()

  // The first header of that name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
};

// Why an exchange failed before a status arrived (or while reading the body).
enum class FailureKind { kUnreachable, kTimeout, kTls, kTooLarge, kAborted, kOther };

struct Failure {
  FailureKind kind = FailureKind::kOther;
  std::string message;  // a sentence a person can act on: names the URL (without credentials) and the cause
};

// The outcome of one exchange: a Response or a Failure.
class Outcome {
 public:
  Outcome(Response r) : response_(std::move(r)) {}  // NOLINT(google-explicit-constructor)
  Outcome(Failure f) : failure_(std::move(f)) {}    // NOLINT(google-explicit-constructor)
  bool ok() const { return response_.has_value(); }
  const Response& response() const { return *response_; }  // precondition: ok()
  Response& response() { return *response_; }
  const Failure& failure() const { return *failure_; }  // precondition: !ok()

 private:
  std::optional<Response> response_;
  std::optional<Failure> failure_;
};

// Ends a stream() from another thread at once, even while no data arrives. Thread-safe; once cancelled it
// stays cancelled. One stream at a time may use it.
class Cancellation {
 public:
  Cancellation();
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;
  ~Cancellation();
  void cancel();
  bool cancelled() const;

  struct State;  // opaque: defined where libcurl is
  State& state() const { return *state_; }

 private:
  std::unique_ptr<State> state_;
};

// One connection cache (keep-alive) per client. Not thread-safe: one client per thread. Never throws.
class HttpClient {
 public:
  HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  // Sends the request and reads the whole response (bounded by maxResponseBytes). Blocks.
  Outcome send(const Request& request);

  // Sends the request and hands the body to `onData` as it arrives, chunk by chunk (not split on lines:
  // the caller frames). `onData` returns false to end the exchange early (then the Outcome is the
  // response so far, not a failure). Blocks until the stream ends, fails or is ended. maxResponseBytes does
  // not apply: a watch is unbounded, and the caller holds only what it keeps. A `cancel` cancelled from
  // another thread ends the exchange at once like an `onData` that returns false; such a stream runs on
  // its own connection, closed when it ends.
  Outcome stream(const Request& request, const std::function<bool(std::string_view)>& onData,
                 const Cancellation* cancel = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes a query parameter value (RFC 3986 unreserved characters kept).
std::string urlEncode(std::string_view text);

}  // namespace sluice::net
