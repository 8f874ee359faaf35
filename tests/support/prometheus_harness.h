// A real Prometheus for tests and benchmarks: metric history written as OpenMetrics with explicit
// timestamps, turned into TSDB blocks by promtool, served by Debian's prometheus on a free loopback port
// (optionally also scraping live targets), stopped with its process group when the harness goes.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "base/time.h"

namespace sluice::testing {

class ChildProcess;
class TempDir;

// ---- The standard series ------------------------------------------------------------------------------
// One sample a minute at start + m minutes for m in [0, minutes). Every value is exact:
//
//  http_requests_total{service="healthy",code="200"}  = 999 * m     (counter)
//  http_requests_total{service="healthy",code="500"}  =   1 * m     -> 5xx ratio 0.001 everywhere
//  http_requests_total{service="degrading",code="200"}: +995 a minute before degradeAtMinute, +900 from it
//  http_requests_total{service="degrading",code="500"}: +5 a minute before degradeAtMinute,  +100 from it
//      -> 5xx ratio over [5m] 0.005 while the window lies before degradeAtMinute, 0.1 once it lies after
//  flaky_gauge{service="flaky"} = 0.5, except: no sample at the minutes with m % 60 in [20, 40) (a gap
//      longer than the 5-minute lookback, so instant queries in it see nothing), and NaN at m % 60 == 45
//  http_request_duration_seconds{service="healthy"} (histogram): every minute 1000 observations, cumulative
//      per minute: le=0.05: 600, le=0.1: 900, le=0.25: 980, le=0.5: 995, le=1: 1000, le=+Inf: 1000;
//      _count += 1000, _sum += 75 a minute.
struct StandardHistory {
  Time start = timeFromUnix(1790812800);  // 2026-10-01T00:00:00Z (minute-aligned)
  int minutes = 180;
  int degradeAtMinute = 120;

  Time at(int minute) const { return start + std::chrono::minutes(minute); }
};

inline constexpr double kHealthyErrorRatio = 0.001;
inline constexpr double kDegradingErrorRatioBefore = 0.005;
inline constexpr double kDegradingErrorRatioAfter = 0.1;
inline constexpr double kFlakyGaugeValue = 0.5;
// The histogram's upper bounds and cumulative counts per minute (the last bound is +Inf).
inline constexpr double kHistogramBounds[] = {0.05, 0.1, 0.25, 0.5, 1.0};
inline constexpr double kHistogramCumulative[] = {600, 900, 980, 995, 1000};
inline constexpr double kHistogramPerMinute = 1000;

// Writes the standard series for the minutes [fromMinute, toMinute) (toMinute < 0: to the end) as
// OpenMetrics text, ending with "# EOF". Values depend on the minute only, so ranges written apart add up
// to the whole history. Streams: 31 days is about 43 MB of text.
void writeStandardHistory(std::ostream& out, const StandardHistory& history, int fromMinute = 0,
                          int toMinute = -1);

// How many minutes of the standard history go into one promtool import.
inline constexpr int kMinutesPerImportFile = 1440;

// histogram_quantile's answer for the standard histogram (any window, since every minute is the same):
// linear interpolation inside the bucket where the rank falls, as Prometheus computes it.
double standardHistogramQuantile(double q);

// ---- The server --------------------------------------------------------------------------------------
struct PrometheusOptions {
  std::string openMetrics;                         // history to import (OpenMetrics text); empty: none
  std::filesystem::path openMetricsFile;           // or a file holding it (wins when set)
  std::optional<StandardHistory> standardHistory;  // also import the standard series (a day per import)
  std::vector<std::string> scrapeTargets;          // "127.0.0.1:PORT", scraped every second
  std::chrono::milliseconds readyTimeout{60000};   // for /-/ready
};

class PrometheusHarness {
 public:
  // Imports the history with promtool, starts prometheus on a free port over it and waits until
  // /-/ready answers 200. Blocks. Throws std::runtime_error with promtool's or prometheus's output when a
  // step fails or readiness times out (a test setup failure).
  explicit PrometheusHarness(const PrometheusOptions& options);
  PrometheusHarness(const PrometheusHarness&) = delete;
  PrometheusHarness& operator=(const PrometheusHarness&) = delete;
  // Stops the process group and removes the data directory.
  ~PrometheusHarness();

  // "http://127.0.0.1:PORT".
  std::string address() const;
  int port() const { return port_; }
  // What prometheus has written to stdout and stderr so far.
  std::string log() const;
  // How long promtool took to create the blocks, in seconds.
  double importSeconds() const { return importSeconds_; }

 private:
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
  double importSeconds_ = 0;
};

}  // namespace sluice::testing
