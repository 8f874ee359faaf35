// One instant query on a real Prometheus through the provider the analysis uses, for tests that read what
// Prometheus scraped.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "analysis/provider.h"

namespace sluice::testing {

// The query's single value now, or nullopt (an error, an empty result or several series).
inline std::optional<double> queryOne(analysis::Provider& provider, const std::string& address,
                                      const std::string& query) {
  analysis::Metric m;
  m.name = "q";
  m.provider.prometheus = analysis::PrometheusMetric{};
  m.provider.prometheus->address = address;
  m.provider.prometheus->query = query;
  auto r = provider.measure(m, std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()));
  if (!r || r->value.kind() != analysis::Value::Kind::kVector || r->value.asVector().size() != 1)
    return std::nullopt;
  return r->value.asVector()[0];
}

}  // namespace sluice::testing
