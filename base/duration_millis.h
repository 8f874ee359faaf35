// Go-style durations at millisecond resolution, for the sub-second delays the embedded cluster's workload
// controllers use
// (`--pod-ready-after 300ms`); base/time.h keeps the one-second resolution of decisions.
#pragma once

#include <chrono>
#include <string_view>

#include "base/result.h"

namespace sluice {

// parseDuration's syntax ("500ms", "1.5s", "2m"; a bare number is seconds) in milliseconds;
// sub-millisecond remainders round up. Negative values are an error.
Result<std::chrono::milliseconds> parseDurationMillis(std::string_view text);

}  // namespace sluice
