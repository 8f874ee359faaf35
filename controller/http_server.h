// The controller's HTTP endpoints: /metrics, /healthz and /readyz, served by net::HttpServer.
#pragma once

#include "net/http_server.h"

namespace sluice::controller {

// The server lives in net/ (the embedded cluster's data plane serves its /metrics with it too); these
// names keep the controller's callers as they were.
using HttpAnswer = net::HttpAnswer;
using HttpHandler = net::HttpHandler;
using HttpServer = net::HttpServer;

class Manager;
class Metrics;
// The handlers `sluice controller` serves: /metrics; /healthz (200 while the process lives) and /readyz
// (200 once the manager's caches synced, whether it leads or stands by; 503 and the reason before).
HttpHandler metricsHandler(const Metrics& metrics);
HttpHandler healthHandler(const Manager& manager);

}  // namespace sluice::controller
