// Time and durations. Sluice's decisions are made at one-second resolution, the resolution of
// Kubernetes timestamps (metav1.Time), so that a status written and read back decides the same.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace sluice {

using Duration = std::chrono::seconds;
using Time = std::chrono::sys_seconds;

inline Time timeFromUnix(int64_t seconds) { return Time{Duration{seconds}}; }
inline int64_t toUnix(Time t) { return t.time_since_epoch().count(); }

// RFC 3339 in UTC with a trailing Z, second precision: "2026-11-27T22:14:30Z".
std::string formatRfc3339(Time t);
// metav1.MicroTime's form, microseconds kept: "2026-11-28T03:08:00.123456Z" (Lease and Event times).
std::string formatRfc3339Micro(std::chrono::system_clock::time_point t);
// The wall time as Kubernetes timestamps (metav1.Time) hold it: whole seconds.
inline Time toSeconds(std::chrono::system_clock::time_point t) { return std::chrono::floor<Duration>(t); }
// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)"; fractions are dropped.
Result<Time> parseRfc3339(std::string_view text);

// Go-style duration strings as Kubernetes and Argo Rollouts accept them: "30s", "5m", "1h30m",
// "1.5h", "250ms". A bare number is seconds. Sub-second remainders round up to the next second.
// Negative values are an error.
Result<Duration> parseDuration(std::string_view text);

// The shortest readable form: "0s", "45s", "5m", "1h30m", "2h0m5s" style without zero parts ("2h5s").
std::string formatDuration(Duration d);

}  // namespace sluice
