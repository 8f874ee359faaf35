// What the benchmarks read of a process they started (`sluice cluster`, `sluice controller`): its memory
// and CPU from /proc, and the wait for the line it logs once it serves.
#pragma once

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_cluster.h"
#include "tests/support/process.h"

namespace sluice::bench {

// A field of /proc/PID/status in KiB ("VmRSS:", "VmHWM:"), or -1.
inline long statusKiB(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
  }
  return -1;
}

// User plus system CPU seconds of the process and of the children it waited for (a controller's kustomize
// runs): fields 14 to 17 of /proc/PID/stat.
inline double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(all.substr(all.rfind(')') + 2));  // after "pid (comm) "
  std::string f;
  long ticks = 0;
  for (int i = 3; i <= 17 && rest >> f; ++i) {
    if (i >= 14) ticks += std::stol(f);  // utime, stime, cutime, cstime
  }
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The process's resident memory now and at its peak, as counters named `<when>_VmRSS_KiB` and
// `<when>_VmHWM_KiB`.
inline void recordMemory(benchmark::State& state, pid_t pid, const std::string& when) {
  state.counters[when + "_VmRSS_KiB"] = static_cast<double>(statusKiB(pid, "VmRSS:"));
  state.counters[when + "_VmHWM_KiB"] = static_cast<double>(statusKiB(pid, "VmHWM:"));
}

// Starts `argv` with its output in `log`, and waits up to two minutes for `readyLine` in it.
inline std::unique_ptr<testing::ChildProcess> startAndWait(std::vector<std::string> argv,
                                                           const std::filesystem::path& log,
                                                           const std::string& readyLine) {
  auto p = std::make_unique<testing::ChildProcess>(std::move(argv), log);
  if (!testing::waitUntil([&] { return p->log().find(readyLine) != std::string::npos; },
                          std::chrono::seconds(120)))
    benchFail("no \"" + readyLine + "\" in:\n" + p->log());
  return p;
}

}  // namespace sluice::bench
