// A small HTTP/1.1 server for the controller's /metrics, /healthz and /readyz: GET only, one thread,
// one short request at a time (scrapes and probes), bound before start() returns so the port is known.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/result.h"

namespace sluice::controller {

struct HttpAnswer {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

// Answers a GET of `target` (the path, without the query).
using HttpHandler = std::function<HttpAnswer(const std::string& target)>;

class HttpServer {
 public:
  // Listens on `address` ("HOST:PORT", ":PORT" for every interface; port 0 picks a free one) and serves
  // `handler` on its own thread until the server is destroyed. An error naming `flag` when the address
  // is malformed or cannot be bound.
  static Result<std::unique_ptr<HttpServer>> start(const std::string& flag, const std::string& address,
                                                   HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Manager;
class Metrics;
// The handlers `sluice controller` serves: /metrics; /healthz (200 while the process lives) and /readyz
// (200 once the manager's caches synced, whether it leads or stands by; 503 and the reason before).
HttpHandler metricsHandler(const Metrics& metrics);
HttpHandler healthHandler(const Manager& manager);

}  // namespace sluice::controller
