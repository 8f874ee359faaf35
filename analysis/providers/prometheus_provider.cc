// The Prometheus provider: an instant query at the evaluation time, or a range query whose start and end
// are evaluated against it; one PrometheusApi (and so one kept-alive connection) per distinct connection.
#include <cstdlib>
#include <map>
#include <string>

#include "analysis/providers/prometheus_api.h"
#include "analysis/providers/providers.h"
#include "analysis/providers/time_expression.h"

namespace sluice::analysis {
namespace {

// Argo Rollouts' fallback when a metric names no address.
constexpr const char* kAddressEnv = "ARGO_ROLLOUTS_PROMETHEUS_ADDRESS";

// What makes two metrics share a connection: everything of PrometheusMetric except the query.
std::string connectionKey(const PrometheusMetric& m) {
  std::string key = m.address + '\n' + std::to_string(m.timeoutSeconds()) + '\n' + (m.insecure ? "1" : "0");
  for (const auto& h : m.headers) key += '\n' + h.key + ':' + h.value;
  if (m.basicAuth) key += '\n' + m.basicAuth->username + ':' + m.basicAuth->password;
  return key;
}

class PrometheusProvider final : public Provider {
 public:
  Result<ProviderResult> measure(const Metric& metric, Time at) override {
    PrometheusMetric connection = *metric.provider.prometheus;
    if (connection.address.empty()) {
      const char* fromEnv = std::getenv(kAddressEnv);  // NOLINT(concurrency-mt-unsafe): read-only use
      if (fromEnv == nullptr || *fromEnv == '\0') {
        return Error{"the Prometheus address is not configured: set provider.prometheus.address (or " +
                     std::string(kAddressEnv) + ")"};
      }
      connection.address = fromEnv;
    }
    if (connection.query.empty()) return Error{"provider.prometheus.query is empty"};
    PrometheusApi& api = apiFor(connection);

    ProviderResult out;
    Result<PrometheusQueryResult> answer = Error{""};
    if (connection.rangeQuery) {
      const PrometheusRangeQuery& range = *connection.rangeQuery;
      auto start = evaluateTimeExpression(range.start, at);
      if (!start) return Error{"provider.prometheus.rangeQuery.start: " + start.error()};
      auto end = evaluateTimeExpression(range.end, at);
      if (!end) return Error{"provider.prometheus.rangeQuery.end: " + end.error()};
      auto step = parseDuration(range.step);
      if (!step) return Error{"provider.prometheus.rangeQuery.step: " + step.error()};
      if (step->count() <= 0) return Error{"provider.prometheus.rangeQuery.step must be at least 1s"};
      if (*end < *start) {
        return Error{"provider.prometheus.rangeQuery: end (" + formatRfc3339(*end) + ") is before start (" +
                     formatRfc3339(*start) + ")"};
      }
      answer = api.queryRange(connection.query, *start, *end, *step);
      out.metadata["rangeQuery"] =
          "start=" + formatRfc3339(*start) + " end=" + formatRfc3339(*end) + " step=" + formatDuration(*step);
    } else {
      answer = api.query(connection.query, at);
    }
    if (!answer) return Error{answer.error()};
    auto result = toProviderResult(*answer);
    if (!result) return Error{result.error()};
    result->metadata.insert(out.metadata.begin(), out.metadata.end());
    result->metadata["query"] = connection.query;
    return result;
  }

 private:
  PrometheusApi& apiFor(const PrometheusMetric& connection) {
    auto& slot = apis_[connectionKey(connection)];
    if (!slot) slot = std::make_unique<PrometheusApi>(connection);
    return *slot;
  }

  std::map<std::string, std::unique_ptr<PrometheusApi>> apis_;
};

}  // namespace

std::unique_ptr<Provider> makePrometheusProvider() { return std::make_unique<PrometheusProvider>(); }

}  // namespace sluice::analysis
