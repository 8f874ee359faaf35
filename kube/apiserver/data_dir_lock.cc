// flock(2) on DIR/lock: released by the kernel with the last descriptor, so crashes never leave it held.
#include "kube/apiserver/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace sluice::apiserver {

namespace {

// The pid the holder wrote, for the message; empty when unreadable.
std::string holderPid(int fd) {
  char buf[32] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string pid(buf, static_cast<size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.find_first_not_of("0123456789") == std::string::npos ? pid : "";
}

}  // namespace

Result<std::unique_ptr<DataDirLock>> DataDirLock::acquire(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{"cannot create the data directory " + dir.string() + ": " + ec.message()};
  const std::filesystem::path file = dir / "lock";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Error{"cannot open " + file.string() + ": " + std::strerror(errno)};
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string pid = err == EWOULDBLOCK ? holderPid(fd) : "";
    ::close(fd);
    if (err != EWOULDBLOCK) return Error{"cannot lock " + file.string() + ": " + std::strerror(err)};
    return Error{"the data directory " + dir.string() + " is in use by another sluice cluster" +
                 (pid.empty() ? std::string() : " (pid " + pid + ")") +
                 ": stop it first, or give this one another --data-dir"};
  }
  // Ours now: record who holds it, for the next one's message.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for messages; the lock is what matters.
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { ::close(fd_); }

}  // namespace sluice::apiserver
