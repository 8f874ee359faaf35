// Test support for tests that start real servers (Prometheus, our API server, a loopback HTTP peer):
// a temporary directory removed at the end, a free loopback port from the kernel, and a child process in
// a process group of its own, stopped (with everything it started) when the handle goes, also when the
// test fails.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace sluice::testing {

// A fresh directory under the system's temporary directory, removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "sluice-test");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int freeLoopbackPort();

// A child process started with execvp in a process group of its own; stdout and stderr go to `logFile`.
// The destructor sends SIGTERM to the group, waits up to 5 s, then SIGKILL.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::filesystem::path logFile,
               std::vector<std::string> extraEnv = {});
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running();  // false once it has exited (reaps it)
  int exitStatus() const { return status_; }
  void kill(int signal);  // to the whole group
  void stop();            // SIGTERM, then SIGKILL after 5 s; idempotent
  std::string log() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
  std::filesystem::path logFile_;
};

// Polls `ready` every 50 ms until it is true (returns true) or `timeout` passes (returns false).
bool waitUntil(const std::function<bool()>& ready, std::chrono::milliseconds timeout);

// Runs a command to completion (through /bin/sh -c), capturing stdout and stderr together.
struct CommandResult {
  int exitCode = -1;
  std::string output;
};
CommandResult runCommand(const std::string& shellCommand);

}  // namespace sluice::testing
