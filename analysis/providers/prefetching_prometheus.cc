// Range queries chunked over the backtest's grid, answered back one instant at a time.
#include "analysis/providers/prefetching_prometheus.h"

#include <algorithm>
#include <cmath>

namespace sluice::analysis {

PrefetchingPrometheusProvider::PrefetchingPrometheusProvider(PrefetchGrid grid, Provider& fallback)
    : grid_(grid), fallback_(fallback) {
  if (grid_.step.count() <= 0) grid_.step = Duration{1};
  points_ = grid_.to < grid_.from ? 0 : (grid_.to - grid_.from) / grid_.step + 1;
}

PrefetchingPrometheusProvider::Prefetched& PrefetchingPrometheusProvider::prefetched(
    const PrometheusMetric& metric) {
  const std::string key = metric.address + "\n" + metric.query;
  auto it = byQuery_.find(key);
  if (it != byQuery_.end()) return it->second;
  Prefetched& p = byQuery_[key];
  p.api = std::make_unique<PrometheusApi>(metric);
  ++stats_.typeProbes;
  auto probe = p.api->query(metric.query, grid_.from);
  if (!probe || (probe->resultType != "scalar" && probe->resultType != "vector")) return p;
  p.usable = true;
  p.resultType = probe->resultType;
  p.chunks.resize(static_cast<size_t>((points_ + kPrefetchPointsPerQuery - 1) / kPrefetchPointsPerQuery));
  return p;
}

bool PrefetchingPrometheusProvider::ensureChunk(Prefetched& p, const std::string& query, size_t c) {
  Chunk& chunk = p.chunks[c];
  if (chunk.fetched) return !chunk.failed;
  chunk.fetched = true;
  const int64_t first = static_cast<int64_t>(c) * kPrefetchPointsPerQuery;
  const int64_t last = std::min(points_, first + kPrefetchPointsPerQuery) - 1;
  ++stats_.rangeQueries;
  auto answer =
      p.api->queryRange(query, grid_.from + first * grid_.step, grid_.from + last * grid_.step, grid_.step);
  if (!answer || answer->resultType != "matrix") {
    chunk.failed = true;
    return false;
  }
  for (const auto& w : answer->warnings) {
    if (std::find(p.warnings.begin(), p.warnings.end(), w) == p.warnings.end()) p.warnings.push_back(w);
  }
  for (const auto& s : answer->series) {
    auto it = std::lower_bound(p.series.begin(), p.series.end(), s.labels,
                               [](const Series& a, const auto& labels) { return a.labels < labels; });
    if (it == p.series.end() || it->labels != s.labels) {
      Series fresh;
      fresh.labels = s.labels;
      fresh.values.assign(static_cast<size_t>(points_), 0);
      fresh.present.assign(static_cast<size_t>(points_), 0);
      it = p.series.insert(it, std::move(fresh));
    }
    for (const auto& sample : s.samples) {
      const double offset = sample.at - static_cast<double>(toUnix(grid_.from));
      const auto index = static_cast<int64_t>(std::llround(offset / static_cast<double>(grid_.step.count())));
      if (index < first || index > last) continue;
      it->values[static_cast<size_t>(index)] = sample.value;
      it->present[static_cast<size_t>(index)] = 1;
    }
  }
  return true;
}

Result<ProviderResult> PrefetchingPrometheusProvider::measure(const Metric& metric, Time at) {
  const auto& prom = metric.provider.prometheus;
  const bool onGrid = at >= grid_.from && at <= grid_.to && (at - grid_.from) % grid_.step == Duration{0};
  if (!prom || prom->rangeQuery || prom->address.empty() || prom->query.empty() || !onGrid || points_ == 0) {
    ++stats_.fromFallback;
    return fallback_.measure(metric, at);
  }
  Prefetched& p = prefetched(*prom);
  const int64_t index = (at - grid_.from) / grid_.step;
  if (!p.usable || !ensureChunk(p, prom->query, static_cast<size_t>(index / kPrefetchPointsPerQuery))) {
    ++stats_.fromFallback;
    return fallback_.measure(metric, at);
  }
  PrometheusQueryResult answer;
  answer.resultType = p.resultType;
  answer.warnings = p.warnings;
  const double atSeconds = static_cast<double>(toUnix(at));
  for (const auto& s : p.series) {
    if (!s.present[static_cast<size_t>(index)]) continue;
    answer.series.push_back(
        PrometheusSeries{s.labels, {PrometheusSample{atSeconds, s.values[static_cast<size_t>(index)]}}});
  }
  if (p.resultType == "scalar" && answer.series.size() != 1) {
    // A scalar always has a value; without one here the instant query knows better.
    ++stats_.fromFallback;
    return fallback_.measure(metric, at);
  }
  ++stats_.fromPrefetch;
  auto result = toProviderResult(answer);
  if (result) result->metadata["query"] = prom->query;
  return result;
}

}  // namespace sluice::analysis
