// A real Prometheus started beside the simulator: it receives the simulated series by remote write, at
// their virtual timestamps, so that a Rollout's PromQL is evaluated by Prometheus itself at virtual instants.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"

namespace sluice {
class ChildProcess;
namespace net {
class HttpClient;
}
}  // namespace sluice

namespace sluice::sim {

struct LocalPrometheusOptions {
  // The program: a name looked up on PATH, or a path.
  std::string binary = "prometheus";
  // Where Prometheus keeps its TSDB. Empty: a fresh temporary directory, removed with the LocalPrometheus.
  // A given directory is kept; pushes into it must then be newer than what it already holds.
  std::filesystem::path dataDir;
  // How long start() waits for /-/ready.
  std::chrono::milliseconds readyTimeout{30000};
};

struct Sample {
  Time at;
  double value = 0;
};

// One time series: its labels (`__name__` among them; a std::map, so sorted by name as remote write
// requires) and its samples, oldest first.
struct Series {
  std::map<std::string, std::string> labels;
  std::vector<Sample> samples;
};

// One Prometheus process (Debian's `prometheus`, 2.42 or newer) on 127.0.0.1, with the remote write
// receiver on, no scrape jobs, and a retention long enough that no old virtual timestamp is ever dropped.
// Not thread-safe: one thread pushes.
class LocalPrometheus {
 public:
  // Starts Prometheus in a process group of its own on a port the kernel picks, and waits until /-/ready
  // answers 200. Blocks (about a second). The error names the binary; it says "not found" when the binary
  // is not installed, and carries the end of Prometheus's log when it exits or is not ready in time (then
  // it has been stopped). Never throws.
  static Result<std::unique_ptr<LocalPrometheus>> start(const LocalPrometheusOptions& options);

  LocalPrometheus(const LocalPrometheus&) = delete;
  LocalPrometheus& operator=(const LocalPrometheus&) = delete;
  // SIGTERM to its process group, SIGKILL after 5 s; blocks until it has exited, then removes the temporary
  // directory (and the data in it, unless options.dataDir was given).
  ~LocalPrometheus();

  // "http://127.0.0.1:PORT", for PromQL queries (the Prometheus provider's `address`).
  std::string address() const;
  pid_t pid() const;
  const std::filesystem::path& dataDir() const { return dataDir_; }
  // What Prometheus has written to stdout and stderr so far.
  std::string log() const;

  // Sends the series in one remote write 1.0 request (protobuf WriteRequest, snappy-compressed). Blocks
  // until Prometheus has stored them, so a query right after sees them. Prometheus refuses the whole
  // request, storing none of it, when a sample is not newer than the last one stored for its series
  // ("out of order sample", "duplicate sample for timestamp") or lies more than an hour before the newest
  // sample of any series ("out of bounds"): push in virtual-time order. The error carries Prometheus's
  // message, or names the series without `__name__`.
  Status push(const std::vector<Series>& series);

 private:
  LocalPrometheus() = default;

  std::filesystem::path workDir_;  // temporary: config and log, the data too by default
  std::filesystem::path dataDir_;
  std::string address_;
  std::unique_ptr<ChildProcess> process_;
  std::unique_ptr<net::HttpClient> http_;
};

}  // namespace sluice::sim
