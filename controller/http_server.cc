// The controller's /metrics, /healthz and /readyz handlers.
#include "controller/http_server.h"

#include "controller/manager.h"
#include "controller/metrics.h"

namespace sluice::controller {

HttpHandler metricsHandler(const Metrics& metrics) {
  return [&metrics](const std::string& target) -> HttpAnswer {
    if (target != "/metrics") return {404, "text/plain; charset=utf-8", "not found: " + target + "\n"};
    return {200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()};
  };
}

HttpHandler healthHandler(const Manager& manager) {
  return [&manager](const std::string& target) -> HttpAnswer {
    if (target == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
    if (target == "/readyz") {
      if (!manager.synced())
        return {503, "text/plain; charset=utf-8", "not ready: the informer caches have not synced yet\n"};
      return {200, "text/plain; charset=utf-8", "ok\n"};
    }
    return {404, "text/plain; charset=utf-8", "not found: " + target + "\n"};
  };
}

}  // namespace sluice::controller
