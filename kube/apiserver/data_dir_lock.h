// One server per data directory: an exclusive lock on DIR/lock for the life of the process, so that a
// second `sluice cluster` on the same directory refuses to start instead of writing beside the first
// (both would acknowledge writes, and after a restart one side's writes would be gone).
#pragma once

#include <filesystem>
#include <memory>

#include "base/result.h"

namespace sluice::apiserver {

// Holds the lock until destroyed (or the process ends: the kernel drops it then, even on SIGKILL, so a
// crashed server never leaves a stale lock behind).
class DataDirLock {
 public:
  // Creates `dir` when missing and locks DIR/lock without waiting. Errors: the directory or the lock file
  // cannot be made, or another process holds the lock (the message names the directory and that
  // process's pid when it wrote one).
  static Result<std::unique_ptr<DataDirLock>> acquire(const std::filesystem::path& dir);
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace sluice::apiserver
