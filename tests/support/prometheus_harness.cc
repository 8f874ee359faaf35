// The real-Prometheus harness: the standard series generator, promtool import, and the prometheus
// process on a free port with its own data directory.
#include "tests/support/prometheus_harness.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "net/http_client.h"
#include "tests/support/process.h"

namespace sluice::testing {
namespace {

// One OpenMetrics sample line; values here are whole numbers, 0.5, or NaN.
void sample(std::ostream& out, const char* name, const std::string& labels, double value, Time at) {
  char line[256];
  int n = 0;
  if (value != value) {  // NaN
    n = std::snprintf(line, sizeof(line), "%s{%s} NaN %lld\n", name, labels.c_str(),
                      static_cast<long long>(toUnix(at)));
  } else {
    n = std::snprintf(line, sizeof(line), "%s{%s} %.17g %lld\n", name, labels.c_str(), value,
                      static_cast<long long>(toUnix(at)));
  }
  out.write(line, n);
}

// A counter that grows by `before` a minute up to minute degradeAtMinute - 1, then by `after`: its value at
// minute m is the sum of the increments of the minutes before it.
void counter(std::ostream& out, const StandardHistory& h, int from, int to, const std::string& labels,
             double before, double after) {
  const int switchAt = std::max(h.degradeAtMinute - 1, 0);
  for (int m = from; m < to; ++m) {
    const int early = std::min(m, switchAt);
    sample(out, "http_requests_total", labels, before * early + after * (m - early), h.at(m));
  }
}

}  // namespace

void writeStandardHistory(std::ostream& out, const StandardHistory& h, int fromMinute, int toMinute) {
  const int from = std::max(fromMinute, 0);
  const int to = toMinute < 0 ? h.minutes : std::min(toMinute, h.minutes);
  out << "# TYPE http_requests counter\n";
  counter(out, h, from, to, R"(service="healthy",code="200")", 999, 999);
  counter(out, h, from, to, R"(service="healthy",code="500")", 1, 1);
  counter(out, h, from, to, R"(service="degrading",code="200")", 995, 900);
  counter(out, h, from, to, R"(service="degrading",code="500")", 5, 100);

  out << "# TYPE flaky_gauge gauge\n";
  for (int m = from; m < to; ++m) {
    int inHour = m % 60;
    if (inHour >= 20 && inHour < 40) continue;
    double v = inHour == 45 ? std::numeric_limits<double>::quiet_NaN() : kFlakyGaugeValue;
    sample(out, "flaky_gauge", R"(service="flaky")", v, h.at(m));
  }

  out << "# TYPE http_request_duration_seconds histogram\n";
  const char* les[] = {"0.05", "0.1", "0.25", "0.5", "1", "+Inf"};
  for (int b = 0; b < 6; ++b) {
    double perMinute = b < 5 ? kHistogramCumulative[b] : kHistogramPerMinute;
    std::string labels = std::string(R"(service="healthy",le=")") + les[b] + "\"";
    for (int m = from; m < to; ++m)
      sample(out, "http_request_duration_seconds_bucket", labels, perMinute * m, h.at(m));
  }
  for (int m = from; m < to; ++m) {
    sample(out, "http_request_duration_seconds_count", R"(service="healthy")", kHistogramPerMinute * m,
           h.at(m));
  }
  for (int m = from; m < to; ++m) {
    sample(out, "http_request_duration_seconds_sum", R"(service="healthy")", 75.0 * m, h.at(m));
  }
  out << "# EOF\n";
}

double standardHistogramQuantile(double q) {
  // Prometheus's bucketQuantile over the buckets with +Inf last.
  const int n = 6;
  double bounds[n];
  double counts[n];
  for (int i = 0; i < 5; ++i) {
    bounds[i] = kHistogramBounds[i];
    counts[i] = kHistogramCumulative[i];
  }
  bounds[5] = std::numeric_limits<double>::infinity();
  counts[5] = kHistogramPerMinute;
  double rank = q * counts[n - 1];
  int b = 0;
  while (b < n - 1 && counts[b] < rank) ++b;
  if (b == n - 1) return bounds[n - 2];
  double start = 0;
  double count = counts[b];
  if (b > 0) {
    start = bounds[b - 1];
    count -= counts[b - 1];
    rank -= counts[b - 1];
  }
  return start + (bounds[b] - start) * (rank / count);
}

PrometheusHarness::PrometheusHarness(const PrometheusOptions& options)
    : dir_(std::make_unique<TempDir>("sluice-prometheus")) {
  auto data = *dir_ / "data";
  std::filesystem::create_directories(data);

  std::vector<std::filesystem::path> files;
  if (!options.openMetricsFile.empty()) {
    files.push_back(options.openMetricsFile);
  } else if (!options.openMetrics.empty()) {
    files.push_back(*dir_ / "history.om");
    std::ofstream(files.back()) << options.openMetrics;
  }
  if (options.standardHistory) {
    // promtool reads its whole input once per 2-hour block, so a month in one file takes minutes; a file a
    // day keeps the import linear in the span.
    const StandardHistory& h = *options.standardHistory;
    for (int from = 0; from < h.minutes; from += kMinutesPerImportFile) {
      files.push_back(*dir_ / ("standard-" + std::to_string(from) + ".om"));
      std::ofstream out(files.back());
      writeStandardHistory(out, h, from, from + kMinutesPerImportFile);
    }
  }
  // The imports spend most of their time syncing blocks to disk, so four run at once; each writes its
  // blocks (whole 2-hour ranges, disjoint from the others') straight into the data directory.
  auto started = std::chrono::steady_clock::now();
  if (!files.empty()) {
    auto list = *dir_ / "imports.txt";
    {
      std::ofstream out(list);
      for (const auto& file : files) out << file.string() << '\n';
    }
    CommandResult imported =
        runCommand("xargs -P 4 -I FILE promtool tsdb create-blocks-from openmetrics --quiet FILE '" +
                   data.string() + "' < '" + list.string() + "'");
    if (imported.exitCode != 0) {
      throw std::runtime_error("promtool could not import the history (exit " +
                               std::to_string(imported.exitCode) + "):\n" + imported.output);
    }
  }
  importSeconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  auto config = *dir_ / "prometheus.yml";
  {
    std::ofstream cfg(config);
    if (options.scrapeTargets.empty()) {
      cfg << "global: {}\n";
    } else {
      cfg << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
          << "scrape_configs:\n  - job_name: test\n    scrape_interval: 1s\n    static_configs:\n"
          << "      - targets: [";
      for (std::size_t i = 0; i < options.scrapeTargets.size(); ++i) {
        cfg << (i > 0 ? ", " : "") << '"' << options.scrapeTargets[i] << '"';
      }
      cfg << "]\n";
    }
  }

  port_ = freeLoopbackPort();
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"prometheus", "--config.file=" + config.string(),
                               "--storage.tsdb.path=" + data.string(),
                               "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                               "--storage.tsdb.retention.time=100000d", "--log.level=warn"},
      *dir_ / "prometheus.log");

  net::HttpClient http;
  net::Request ready;
  ready.url = address() + "/-/ready";
  ready.timeout = std::chrono::seconds(2);
  bool up = waitUntil(
      [&] {
        if (!process_->running()) return true;  // exited: fail at once with its log
        auto outcome = http.send(ready);
        return outcome.ok() && outcome.response().status == 200;
      },
      options.readyTimeout);
  if (!up || !process_->running()) {
    throw std::runtime_error("prometheus did not become ready on port " + std::to_string(port_) + ":\n" +
                             log());
  }
}

PrometheusHarness::~PrometheusHarness() {
  if (process_) process_->stop();
}

std::string PrometheusHarness::address() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string PrometheusHarness::log() const { return process_ ? process_->log() : std::string(); }

}  // namespace sluice::testing
