// A provider for backtests: answers Prometheus instant queries on a time grid from a few range queries
// fetched up front, and falls back to the real provider for anything else.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analysis/provider.h"
#include "analysis/providers/prometheus_api.h"

namespace sluice::analysis {

// Points per series in one range query. Prometheus refuses more than 11,000; this stays well under.
inline constexpr int64_t kPrefetchPointsPerQuery = 10000;

// The instants a prefetch covers: from, from + step, ... up to and including `to`.
struct PrefetchGrid {
  Time from;
  Time to;
  Duration step{60};
};

class PrefetchingPrometheusProvider : public Provider {
 public:
  // `fallback` (the real providers, providers.h) takes every measurement the prefetch cannot answer.
  // It must outlive this provider.
  PrefetchingPrometheusProvider(PrefetchGrid grid, Provider& fallback);

  // For a prometheus metric without rangeQuery, at an instant of the grid: the answer an instant query
  // at `at` gives, taken from range queries over the whole grid. The first time a query is seen, one
  // instant query at grid.from learns its result type (a range answer is always a matrix, which loses
  // the scalar/vector distinction), then range queries of kPrefetchPointsPerQuery points each fetch the
  // grid. Anything else (another provider, a rangeQuery metric, an instant off the grid, a query whose
  // type probe or range chunk failed, a string result) goes to the fallback. The result is mapped by
  // toProviderResult, as the real provider maps an instant answer. A vector's series come in the order of
  // their labels (Prometheus leaves an instant vector's order undefined). Blocks for the queries.
  Result<ProviderResult> measure(const Metric& metric, Time at) override;

  struct Stats {
    int64_t typeProbes = 0;    // instant queries that learnt a result type
    int64_t rangeQueries = 0;  // range chunks fetched
    int64_t fromPrefetch = 0;  // measurements answered from prefetched data
    int64_t fromFallback = 0;  // measurements handed to the fallback
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Series {
    std::map<std::string, std::string> labels;
    std::vector<double> values;    // by grid index
    std::vector<uint8_t> present;  // by grid index: a sample exists there
  };
  struct Chunk {
    bool fetched = false;
    bool failed = false;
  };
  struct Prefetched {
    bool usable = false;  // the type probe succeeded with a scalar or vector
    std::string resultType;
    std::vector<std::string> warnings;
    std::vector<Series> series;  // sorted by labels
    std::vector<Chunk> chunks;
    std::unique_ptr<PrometheusApi> api;
  };

  Prefetched& prefetched(const PrometheusMetric& metric);
  // Fetches chunk `c` of `p` if it was not; returns whether its data can be used.
  bool ensureChunk(Prefetched& p, const std::string& query, size_t c);

  PrefetchGrid grid_;
  int64_t points_ = 0;
  Provider& fallback_;
  std::map<std::string, Prefetched> byQuery_;  // address + '\n' + query
  Stats stats_;
};

}  // namespace sluice::analysis
