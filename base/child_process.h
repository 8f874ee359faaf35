// A program Sluice runs beside itself (a real Prometheus for the simulator): a child process in a process
// group of its own, its output in a log file, stopped with everything in its group when the handle goes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace sluice {

class ChildProcess {
 public:
  // Starts argv[0] (looked up on PATH when it holds no '/') with this process's environment, stdin from
  // /dev/null, stdout and stderr into `logFile` (created or truncated). An error names the program and
  // the cause; when there is no such program, it says "not found" (on PATH, or at that path). Never throws.
  static Result<std::unique_ptr<ChildProcess>> spawn(const std::vector<std::string>& argv,
                                                     const std::filesystem::path& logFile);

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // stop().
  ~ChildProcess();

  // Also the id of its process group.
  pid_t pid() const { return pid_; }
  // False once it has exited (then it is reaped). Never blocks.
  bool running();
  // How it ended ("exited with status 1", "killed by signal 9"); empty while it runs.
  std::string exitDescription() const;
  // SIGTERM to the group, then SIGKILL to the group if the child has not exited within `grace`. Blocks
  // until the child is reaped. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  void reap(int status);

  pid_t pid_;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace sluice
