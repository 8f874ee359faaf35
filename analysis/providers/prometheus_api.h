// A client of the Prometheus HTTP API (instant and range queries) and the mapping of its results onto a
// provider result as Argo Rollouts exposes them (docs/design.md §A.13). Used by the Prometheus provider and
// the backtest.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analysis/model.h"
#include "analysis/provider.h"
#include "base/result.h"
#include "base/time.h"

namespace sluice::net {
class HttpClient;
}

namespace sluice::analysis {

struct PrometheusSample {
  double at = 0;     // Unix seconds (fractions possible)
  double value = 0;  // NaN and ±Inf allowed
};

struct PrometheusSeries {
  std::map<std::string, std::string> labels;
  std::vector<PrometheusSample> samples;
};

struct PrometheusQueryResult {
  std::string resultType;                // "scalar", "vector", "matrix" or "string"
  std::vector<PrometheusSeries> series;  // scalar: one series with no labels and one sample; vector: one
                                         // sample per series; matrix: the samples in time order
  std::string stringValue;               // for resultType "string"
  std::vector<std::string> warnings;     // what Prometheus said alongside a successful answer
};

// The largest response body read from Prometheus; a larger one is an error (a query selecting far more
// than a condition can use).
inline constexpr std::size_t kPrometheusMaxResponseBytes = 16u << 20;

// One connection (kept alive) to one Prometheus. Not thread-safe: one per thread. Never throws.
class PrometheusApi {
 public:
  // Takes the address (which may carry a path prefix: http://host:9090/prom), timeout, insecure, headers
  // and basic auth of `connection`; its query and rangeQuery are not used.
  explicit PrometheusApi(const PrometheusMetric& connection);
  PrometheusApi(const PrometheusApi&) = delete;
  PrometheusApi& operator=(const PrometheusApi&) = delete;
  ~PrometheusApi();

  // GET /api/v1/query?query=Q&time=AT. Blocks up to the connection's timeout. An error names the address
  // and the cause: unreachable, timed out, an HTTP status with Prometheus's error text (a PromQL syntax
  // error), a response that is not the API's JSON, or one larger than kPrometheusMaxResponseBytes.
  Result<PrometheusQueryResult> query(const std::string& promql, Time at);

  // GET /api/v1/query_range?query=Q&start=S&end=E&step=STEP; errors as query(). Prometheus refuses more
  // than 11,000 points per series: the caller chunks longer spans.
  Result<PrometheusQueryResult> queryRange(const std::string& promql, Time start, Time end, Duration step);

  // The address requests go to, without a trailing slash and without credentials.
  const std::string& address() const { return shownAddress_; }

 private:
  Result<PrometheusQueryResult> get(const std::string& endpoint, const std::string& parameters,
                                    const std::string& promql);

  PrometheusMetric connection_;
  std::string base_;          // the address without a trailing slash
  std::string shownAddress_;  // base_ without user information
  std::unique_ptr<net::HttpClient> http_;
};

// Parses the body of a Prometheus API answer (success or error) given with its HTTP status. An error
// for status "error" carries errorType, error and the HTTP status; also for a body that is not the API's
// JSON (with a snippet of it).
Result<PrometheusQueryResult> parsePrometheusResponse(long httpStatus, const std::string& body);

// §A.13: scalar -> a number, vector -> a list of numbers (labels dropped; an empty vector is an empty list),
// matrix -> every sample of every series in one list; "string" or anything else -> an error. `text` is
// what Argo stores: "0.97" or "[0.97,0.5]", NaN as NaN, infinities as +Inf / -Inf. Warnings go into the
// metadata under "warnings" (joined by "; ").
Result<ProviderResult> toProviderResult(const PrometheusQueryResult& result);

// Go's strconv.FormatFloat(v, 'f', -1, 64), which Argo uses for the stored value: the shortest decimal
// that reads back to v, never in exponent form; "NaN", "+Inf", "-Inf".
std::string formatSampleValue(double value);

}  // namespace sluice::analysis
