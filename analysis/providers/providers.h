// The providers that take real measurements, and the one factory that picks among them by the field set in
// a metric's `provider` (prometheus, web).
#pragma once

#include <memory>

#include "analysis/provider.h"

namespace sluice::analysis {

// A Provider that hands each measurement to the provider named by the field set in `metric.provider`
// (creating it on first use and keeping it, so connections are reused). A metric with no provider this
// build runs is an error naming the metric. Not thread-safe: one per thread. Never throws.
std::unique_ptr<Provider> makeProvider();

// Instant queries at the evaluation time, or `rangeQuery` (start, end and step evaluated against it); the
// result mapped as docs/design.md §A.13 says. Without an address, ARGO_ROLLOUTS_PROMETHEUS_ADDRESS is used,
// as Argo does; a timeout of 0 means the default 30 s. Metadata: `query`, `rangeQuery` (the evaluated start,
// end and step) and `warnings`. Keeps one kept-alive connection per distinct connection. Not thread-safe.
std::unique_ptr<Provider> makePrometheusProvider();

// One HTTP request per measurement; the first `jsonPath` match of a JSON answer is the result, a body that
// is not JSON is a string result (§A.14). Metadata: `url` (without user information) and `method`. Not
// thread-safe.
std::unique_ptr<Provider> makeWebProvider();

}  // namespace sluice::analysis
