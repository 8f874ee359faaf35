// LocalPrometheus against Debian's real prometheus: series pushed by remote write at virtual timestamps
// around 2026-01-01 and queried at virtual instants (PromQL evaluated by Prometheus itself), pushes it
// refuses with its own message, and starts that fail or stop leaving no process and no directory behind.
#include <signal.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analysis/providers/prometheus_api.h"
#include "sim/local_prometheus.h"
#include "sim/simulator.h"
#include "tests/support/process.h"

using namespace sluice;
using sluice::sim::LocalPrometheus;
using sluice::sim::LocalPrometheusOptions;
using sluice::sim::Series;

namespace {

Time at(int virtualSeconds) { return sim::kEpoch + Duration(virtualSeconds); }

std::unique_ptr<LocalPrometheus> startOrFail(const LocalPrometheusOptions& options = {}) {
  auto started = LocalPrometheus::start(options);
  INFO((started ? std::string() : started.error()));
  REQUIRE(started.ok());
  return std::move(*started);
}

// The answer to an instant query at a virtual instant, as {labels -> value}.
std::map<std::map<std::string, std::string>, double> query(LocalPrometheus& prometheus,
                                                           const std::string& promql, Time when) {
  analysis::PrometheusMetric connection;
  connection.address = prometheus.address();
  analysis::PrometheusApi api(connection);
  auto result = api.query(promql, when);
  INFO(promql << " at " << formatRfc3339(when));
  INFO((result ? std::string() : result.error()));
  REQUIRE(result.ok());
  REQUIRE(result->resultType == "vector");
  std::map<std::map<std::string, std::string>, double> out;
  for (const auto& s : result->series) {
    REQUIRE(s.samples.size() == 1);
    out[s.labels] = s.samples[0].value;
  }
  return out;
}

// Whether any process on the machine has `text` in its command line (a data directory, say).
bool anyProcessMentions(const std::string& text) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(text) != std::string::npos) return true;
  }
  return false;
}

// ---- The traffic pushed for the PromQL case ----------------------------------------------------------
// One sample every 5 s from virtual 0 s to 600 s. The counter grows 10 a second up to 300 s and 2 a second
// after; the histogram gets the same 1000 observations every 5 s, cumulative per bucket as below.
constexpr int kStep = 5;
constexpr int kEnd = 600;
constexpr int kRateChangesAt = 300;

double counterAt(int s) {
  return s <= kRateChangesAt ? 10.0 * s : 10.0 * kRateChangesAt + 2.0 * (s - kRateChangesAt);
}

struct Bucket {
  const char* le;
  double per5s;  // cumulative observations added every 5 s
};
constexpr Bucket kBuckets[] = {{"0.05", 600}, {"0.1", 900}, {"0.25", 980},
                               {"0.5", 995},  {"1", 1000},  {"+Inf", 1000}};

// The samples in (from, to], as the simulator will push them before a measurement at `to`.
std::vector<Series> trafficBetween(int from, int to) {
  Series counter{{{"__name__", "sluice_test_requests_total"}, {"service", "web"}}, {}};
  std::vector<Series> buckets;
  for (const Bucket& b : kBuckets) {
    buckets.push_back({{{"__name__", "sluice_test_request_duration_seconds_bucket"}, {"le", b.le}}, {}});
  }
  int first = from < 0 ? 0 : (from / kStep + 1) * kStep;  // the first instant on the grid after `from`
  for (int s = first; s <= to && s <= kEnd; s += kStep) {
    counter.samples.push_back({at(s), counterAt(s)});
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      buckets[i].samples.push_back({at(s), kBuckets[i].per5s * s / kStep});
    }
  }
  std::vector<Series> all{counter};
  all.insert(all.end(), buckets.begin(), buckets.end());
  return all;
}

}  // namespace

TEST_CASE("series pushed in batches are measured by real PromQL at virtual instants",
          "[sim][local_prometheus]") {
  auto prometheus = startOrFail();

  // rate() over [1m] at each instant, with everything up to that instant pushed just before, as the
  // simulator does. 2.42 selects the range with both ends included, so a minute of 5 s samples needs no
  // extrapolation and the values are exact but for the last bit: Prometheus multiplies the increase by
  // 1/range (2100 * (1/300) is 7.0000000000000009).
  struct Row {
    int second;
    double rate;
    const char* why;
  };
  const Row rows[] = {
      {60, 10, "the first minute, counted from the sample at 0 s"},
      {180, 10, "steady at 10/s"},
      {kRateChangesAt, 10, "the window ends on the change"},
      {330, (30 * 10 + 30 * 2) / 60.0, "half the window at 10/s, half at 2/s"},
      {360, 2, "the whole window after the change"},
      {kEnd, 2, "the last sample"},
  };
  int pushedUpTo = -1;
  for (const Row& row : rows) {
    INFO(row.why);
    Status pushed = prometheus->push(trafficBetween(pushedUpTo, row.second));
    INFO(pushed.error());
    REQUIRE(pushed.ok());
    pushedUpTo = row.second;
    auto rate = query(*prometheus, "rate(sluice_test_requests_total[1m])", at(row.second));
    REQUIRE(rate.size() == 1);
    CHECK(rate.begin()->first == std::map<std::string, std::string>{{"service", "web"}});
    CHECK(rate.begin()->second == Approx(row.rate).epsilon(1e-15));
  }

  // Linear interpolation inside the bucket the rank falls in.
  struct Quantile {
    double q;
    double expected;
  };
  const Quantile quantiles[] = {
      {0.5, 0.05 * 500 / 600},          // rank 500 of 1000 in (0, 0.05] holding 600
      {0.9, 0.1},                       // rank 900: exactly the top of (0.05, 0.1]
      {0.99, 0.25 + 0.25 * 10.0 / 15},  // rank 990: 10 of the 15 in (0.25, 0.5]
      {1.0, 1.0},                       // the top of the highest finite bucket
  };
  for (const Quantile& row : quantiles) {
    std::string promql = "histogram_quantile(" + std::to_string(row.q) +
                         ", sum by (le) (rate(sluice_test_request_duration_seconds_bucket[1m])))";
    auto result = query(*prometheus, promql, at(kEnd));
    REQUIRE(result.size() == 1);
    CHECK(result.begin()->second == Approx(row.expected).epsilon(1e-12));
  }
}

TEST_CASE("an empty Prometheus takes samples from decades before the wall clock", "[sim][local_prometheus]") {
  auto prometheus = startOrFail();
  const Time y2000 = timeFromUnix(946684800);  // 2000-01-01T00:00:00Z
  Status pushed =
      prometheus->push({{{{"__name__", "sluice_test_old"}}, {{y2000, 1}, {y2000 + Duration(60), 2}}}});
  INFO(pushed.error());
  REQUIRE(pushed.ok());
  auto old = query(*prometheus, "sluice_test_old", y2000 + Duration(60));
  REQUIRE(old.size() == 1);
  CHECK(old.begin()->second == 2);
}

TEST_CASE("hours of pushed series are compacted into blocks and still measured exactly",
          "[sim][local_prometheus]") {
  auto prometheus = startOrFail();
  // During virtual hour h the counter grows h + 1 a second; a sample every 15 s, pushed 10 minutes at a time.
  constexpr int kHours = 8;
  constexpr int kEvery = 15;
  constexpr int kBatch = 600;
  auto valueAt = [](int s) {
    double v = 0;
    for (int h = 0; h < s / 3600; ++h) v += (h + 1) * 3600.0;
    return v + (s / 3600 + 1) * static_cast<double>(s % 3600);
  };
  for (int from = 0; from < kHours * 3600; from += kBatch) {
    Series counter{{{"__name__", "sluice_test_long_total"}}, {}};
    for (int s = from; s < from + kBatch; s += kEvery) counter.samples.push_back({at(s), valueAt(s)});
    Status pushed = prometheus->push({counter});
    INFO(pushed.error());
    REQUIRE(pushed.ok());
  }
  // Prometheus cuts the head into a block once it spans more than 3 hours; a block is a directory with a
  // meta.json.
  auto hasBlock = [&] {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(prometheus->dataDir(), ec)) {
      if (std::filesystem::exists(entry.path() / "meta.json")) return true;
    }
    return false;
  };
  INFO(prometheus->log());
  REQUIRE(testing::waitUntil(hasBlock, std::chrono::seconds(60)));
  for (int h = 0; h < kHours; ++h) {
    INFO("hour " << h);
    auto rate = query(*prometheus, "rate(sluice_test_long_total[5m])", at(h * 3600 + 1800));
    REQUIRE(rate.size() == 1);
    CHECK(rate.begin()->second == Approx(h + 1).epsilon(1e-15));
  }
}

TEST_CASE("a push Prometheus refuses is an error with its message, and stores nothing",
          "[sim][local_prometheus]") {
  Series a{{{"__name__", "sluice_test_a"}}, {{at(100), 1}}};
  Series late{{{"__name__", "sluice_test_a"}}, {{at(50), 2}}};
  Series again{{{"__name__", "sluice_test_a"}}, {{at(100), 2}}};
  Series hourAfter{{{"__name__", "sluice_test_a"}}, {{at(100 + 3600 + 600), 1}}};
  Series otherEarly{{{"__name__", "sluice_test_b"}}, {{at(100), 1}}};
  Series nameless{{{"service", "web"}}, {{at(200), 1}}};
  // A good series in the refused request too: Prometheus takes all of a request or none of it.
  Series fresh{{{"__name__", "sluice_test_fresh"}}, {{at(4400), 7}}};

  struct Row {
    const char* name;
    std::vector<Series> before;
    std::vector<Series> refused;
    const char* message;
  };
  const Row rows[] = {
      {"a sample older than the last of its series", {a}, {fresh, late}, "out of order sample"},
      {"a second value at the same instant", {a}, {fresh, again}, "duplicate sample for timestamp"},
      {"a new series over an hour behind the newest sample",
       {a, hourAfter},
       {fresh, otherEarly},
       "out of bounds"},
      {"a series without __name__",
       {},
       {fresh, nameless},
       R"(the series {service="web"}: it has no __name__)"},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      auto prometheus = startOrFail();
      Status before = prometheus->push(row.before);
      INFO(before.error());
      REQUIRE(before.ok());
      Status refused = prometheus->push(row.refused);
      REQUIRE_FALSE(refused.ok());
      CHECK_THAT(refused.error(), Catch::Contains(row.message));
      CHECK(query(*prometheus, "sluice_test_fresh", at(4400)).empty());
    }
  }
}

TEST_CASE("start reports why Prometheus did not come up, and leaves nothing running",
          "[sim][local_prometheus]") {
  testing::TempDir dir("sluice-local-prometheus");
  std::filesystem::path notADirectory = dir / "data-file";
  std::ofstream(notADirectory) << "not a TSDB\n";
  std::filesystem::path slowDir = dir / "slow";

  struct Row {
    const char* name;
    LocalPrometheusOptions options;
    std::vector<std::string> messageParts;
  };
  LocalPrometheusOptions missing;
  missing.binary = "sluice-test-no-such-prometheus";
  LocalPrometheusOptions missingPath;
  missingPath.binary = (dir / "bin" / "prometheus").string();
  LocalPrometheusOptions exits;
  exits.dataDir = notADirectory;
  LocalPrometheusOptions slow;
  slow.dataDir = slowDir;
  slow.readyTimeout = std::chrono::milliseconds(1);
  const Row rows[] = {
      {"a binary not on PATH",
       missing,
       {"sluice-test-no-such-prometheus", "not found on PATH", "`prometheus`"}},
      {"a path that does not exist", missingPath, {missingPath.binary, "not found at that path"}},
      {"a data directory that is a file",
       exits,
       {"prometheus exited with status", "its log ends with", notADirectory.string()}},
      {"not ready in time", slow, {"prometheus was not ready within 1 ms (stopped)", "its log ends with"}},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      auto started = LocalPrometheus::start(row.options);
      REQUIRE_FALSE(started.ok());
      for (const std::string& part : row.messageParts) CHECK_THAT(started.error(), Catch::Contains(part));
      if (!row.options.dataDir.empty()) CHECK_FALSE(anyProcessMentions(row.options.dataDir.string()));
    }
  }
}

TEST_CASE("destroying a LocalPrometheus ends its process, and a given data directory outlives it",
          "[sim][local_prometheus]") {
  SECTION("the temporary data directory goes with it") {
    auto prometheus = startOrFail();
    pid_t pid = prometheus->pid();
    std::filesystem::path data = prometheus->dataDir();
    REQUIRE(::kill(pid, 0) == 0);
    REQUIRE(std::filesystem::is_directory(data));
    prometheus.reset();
    CHECK(::kill(pid, 0) == -1);
    CHECK(errno == ESRCH);
    CHECK_FALSE(std::filesystem::exists(data));
  }
  SECTION("a restart on the same data directory still has what was pushed") {
    testing::TempDir dir("sluice-local-prometheus");
    LocalPrometheusOptions options;
    options.dataDir = dir / "data";
    auto first = startOrFail(options);
    Status pushed = first->push({{{{"__name__", "sluice_test_kept"}}, {{at(10), 42}}}});
    INFO(pushed.error());
    REQUIRE(pushed.ok());
    pid_t pid = first->pid();
    first.reset();
    CHECK(::kill(pid, 0) == -1);
    auto second = startOrFail(options);
    auto kept = query(*second, "sluice_test_kept", at(10));
    REQUIRE(kept.size() == 1);
    CHECK(kept.begin()->second == 42);
  }
}
