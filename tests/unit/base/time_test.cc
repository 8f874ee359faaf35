#include <catch2/catch.hpp>

#include "base/time.h"

using namespace sluice;

TEST_CASE("parseDuration accepts what Argo Rollouts accepts", "[base][duration]") {
  struct Row {
    const char* text;
    int64_t seconds;
  };
  const Row rows[] = {
      {"30", 30},     {"30s", 30}, {"5m", 300}, {"1h", 3600}, {"1h30m", 5400},
      {"1.5h", 5400}, {"90s", 90}, {"0s", 0},   {"250ms", 1}, {"2h0m5s", 7205},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto d = parseDuration(row.text);
    REQUIRE(d.ok());
    CHECK(d->count() == row.seconds);
  }
}

TEST_CASE("parseDuration rejects bad durations with a message", "[base][duration]") {
  for (const char* bad : {"", "-5s", "5x", "abc", "1.2.3s", "s", "5 m"}) {
    INFO(bad);
    auto d = parseDuration(bad);
    REQUIRE_FALSE(d.ok());
    CHECK_FALSE(d.error().empty());
  }
}

TEST_CASE("formatDuration is the short readable form", "[base][duration]") {
  CHECK(formatDuration(Duration{0}) == "0s");
  CHECK(formatDuration(Duration{45}) == "45s");
  CHECK(formatDuration(Duration{300}) == "5m");
  CHECK(formatDuration(Duration{5400}) == "1h30m");
  CHECK(formatDuration(Duration{7205}) == "2h5s");
}

TEST_CASE("RFC 3339 round trip", "[base][time]") {
  auto t = parseRfc3339("2026-11-27T22:14:30Z");
  REQUIRE(t.ok());
  CHECK(formatRfc3339(*t) == "2026-11-27T22:14:30Z");
  auto offset = parseRfc3339("2026-11-27T23:14:30.123+01:00");
  REQUIRE(offset.ok());
  CHECK(*offset == *t);
  CHECK_FALSE(parseRfc3339("2026-13-01T00:00:00Z").ok());
  CHECK_FALSE(parseRfc3339("2026-02-30T00:00:00Z").ok());
  CHECK_FALSE(parseRfc3339("yesterday").ok());
}

TEST_CASE("MicroTime keeps microseconds, zero-padded, and drops what is finer", "[base][time]") {
  using std::chrono::microseconds;
  using std::chrono::nanoseconds;
  const std::chrono::system_clock::time_point at{std::chrono::seconds(1764299280)};  // 2025-11-28T03:08:00Z
  struct Row {
    std::chrono::system_clock::duration after;
    const char* want;
  };
  const Row rows[] = {
      {microseconds(0), "2025-11-28T03:08:00.000000Z"},
      {microseconds(7), "2025-11-28T03:08:00.000007Z"},
      {microseconds(123456), "2025-11-28T03:08:00.123456Z"},
      {microseconds(999999), "2025-11-28T03:08:00.999999Z"},
      {std::chrono::duration_cast<std::chrono::system_clock::duration>(nanoseconds(1500)),
       "2025-11-28T03:08:00.000001Z"},
      {std::chrono::seconds(61), "2025-11-28T03:09:01.000000Z"},
  };
  for (const auto& row : rows) {
    INFO(row.want);
    CHECK(formatRfc3339Micro(at + row.after) == row.want);
  }
}
