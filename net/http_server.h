// A small HTTP/1.1 server for scrape and probe endpoints (the controller's /metrics, /healthz and /readyz,
// the embedded data plane's /metrics) and for webhooks (the Receivers'): one thread, one short request at
// a time, bound before start() returns so the port is known.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/result.h"

namespace sluice::net {

struct HttpAnswer {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

// Answers a GET of `target` (the path, without the query).
using HttpHandler = std::function<HttpAnswer(const std::string& target)>;

// A request whose body was read whole (within the server's body limit).
struct HttpRequest {
  std::string method;                          // "POST", "GET", ...
  std::string target;                          // the path, without the query
  std::map<std::string, std::string> headers;  // names in lower case; a repeated header's last value
  std::string body;

  // The header's value, "" when absent; `name` in any case.
  std::string header(const std::string& name) const;
};

// Answers any request; called on the server's one thread.
using HttpRequestHandler = std::function<HttpAnswer(const HttpRequest& request)>;

class HttpServer {
 public:
  // Listens on `address` ("HOST:PORT", ":PORT" for every interface; port 0 picks a free one) and serves
  // `handler` on its own thread until the server is destroyed. An error naming `flag` when the address
  // is malformed or cannot be bound.
  static Result<std::unique_ptr<HttpServer>> start(const std::string& flag, const std::string& address,
                                                   HttpHandler handler);
  // The same for every method: a body above `bodyLimit` bytes is answered 413 without calling `handler`.
  static Result<std::unique_ptr<HttpServer>> start(const std::string& flag, const std::string& address,
                                                   HttpRequestHandler handler, size_t bodyLimit);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::net
