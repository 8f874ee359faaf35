// The standard metric history the Prometheus tests and the backtest rely on: exact values at the minutes
// the header documents, and pieces written apart that add up to the whole (the harness imports a day
// per file).
#include <catch2/catch.hpp>
#include <map>
#include <sstream>

#include "tests/support/prometheus_harness.h"

using sluice::testing::StandardHistory;

namespace {

// Sample lines keyed by "series timestamp", the value as written.
std::map<std::string, std::string> samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::size_t valueEnd = line.rfind(' ');
    std::size_t valueStart = line.rfind(' ', valueEnd - 1);
    out[line.substr(0, valueStart) + " " + line.substr(valueEnd + 1)] =
        line.substr(valueStart + 1, valueEnd - valueStart - 1);
  }
  return out;
}

std::string written(const StandardHistory& h, int from = 0, int to = -1) {
  std::ostringstream out;
  sluice::testing::writeStandardHistory(out, h, from, to);
  return out.str();
}

}  // namespace

TEST_CASE("the standard history has the documented values", "[prometheus][history]") {
  StandardHistory h;
  h.minutes = 130;
  h.degradeAtMinute = 120;
  std::string text = written(h);
  CHECK(text.ends_with("# EOF\n"));
  auto s = samples(text);
  auto at = [&](int minute) { return " " + std::to_string(sluice::toUnix(h.at(minute))); };
  CHECK(s.at(R"(http_requests_total{service="healthy",code="200"})" + at(10)) == "9990");
  CHECK(s.at(R"(http_requests_total{service="healthy",code="500"})" + at(10)) == "10");
  // 5 a minute up to minute 119, then 100 a minute.
  CHECK(s.at(R"(http_requests_total{service="degrading",code="500"})" + at(119)) == "595");
  CHECK(s.at(R"(http_requests_total{service="degrading",code="500"})" + at(122)) == "895");
  CHECK(s.at(R"(http_requests_total{service="degrading",code="200"})" + at(122)) ==
        std::to_string(995 * 119 + 900 * 3));
  CHECK(s.at(R"(flaky_gauge{service="flaky"})" + at(10)) == "0.5");
  CHECK(s.at(R"(flaky_gauge{service="flaky"})" + at(45)) == "NaN");
  CHECK(s.count(R"(flaky_gauge{service="flaky"})" + at(20)) == 0);
  CHECK(s.count(R"(flaky_gauge{service="flaky"})" + at(39)) == 0);
  CHECK(s.at(R"(http_request_duration_seconds_bucket{service="healthy",le="0.25"})" + at(2)) == "1960");
  CHECK(s.at(R"(http_request_duration_seconds_bucket{service="healthy",le="+Inf"})" + at(2)) == "2000");
  CHECK(s.count(R"(http_requests_total{service="healthy",code="200"})" + at(130)) ==
        0);  // 130 minutes: 0..129
}

TEST_CASE("the standard history written in pieces adds up to the whole", "[prometheus][history]") {
  StandardHistory h;
  h.minutes = 3000;
  h.degradeAtMinute = 1500;
  auto whole = samples(written(h));
  std::map<std::string, std::string> pieces;
  for (int from = 0; from < h.minutes; from += 1440) {
    auto piece = samples(written(h, from, from + 1440));
    pieces.insert(piece.begin(), piece.end());
  }
  CHECK(pieces.size() == whole.size());
  CHECK(pieces == whole);
}

TEST_CASE("the standard histogram's quantiles interpolate inside the bucket", "[prometheus][history]") {
  CHECK(sluice::testing::standardHistogramQuantile(0.5) == Approx(0.05 / 600 * 500));
  CHECK(sluice::testing::standardHistogramQuantile(0.9) == Approx(0.1));
  CHECK(sluice::testing::standardHistogramQuantile(0.99) == Approx(0.25 + 0.25 * 10 / 15));
  CHECK(sluice::testing::standardHistogramQuantile(1.0) == Approx(1.0));
}
