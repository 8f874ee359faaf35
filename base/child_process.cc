#include "base/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "base/clock.h"

extern char** environ;

namespace sluice {

Result<std::unique_ptr<ChildProcess>> ChildProcess::spawn(const std::vector<std::string>& argv,
                                                          const std::filesystem::path& logFile) {
  if (argv.empty() || argv[0].empty()) return Error{"cannot start a program: no program named"};
  const std::string& program = argv[0];
  // Opened here rather than by a spawn file action, so that a spawn error can only be about the program.
  int logFd = open(logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (logFd < 0) {
    return Error{"cannot start " + program + ": cannot open its log file " + logFile.string() + ": " +
                 std::strerror(errno)};
  }
  std::vector<std::string> argStore = argv;
  std::vector<char*> args;
  args.reserve(argStore.size() + 1);
  for (auto& a : argStore) args.push_back(a.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, logFd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, logFd, STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // A group of its own (group id = its pid): stopping it reaches whatever it starts, and a Ctrl-C meant
  // for the caller's terminal group does not kill it behind the caller's back.
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = 0;
  // glibc reports the exec's own errno here (ENOENT for a missing program), not through the child's exit.
  int rc = posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  close(logFd);
  if (rc == ENOENT) {
    return Error{"cannot start " + program + ": not found " +
                 (program.find('/') == std::string::npos ? std::string("on PATH") : "at that path")};
  }
  if (rc != 0) return Error{"cannot start " + program + ": " + std::strerror(rc)};
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() { stop(); }

void ChildProcess::reap(int status) {
  reaped_ = true;
  status_ = status;
}

bool ChildProcess::running() {
  if (reaped_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reap(status);
    return false;
  }
  return r == 0;
}

std::string ChildProcess::exitDescription() const {
  if (!reaped_) return "";
  if (WIFEXITED(status_)) return "exited with status " + std::to_string(WEXITSTATUS(status_));
  if (WIFSIGNALED(status_)) return "killed by signal " + std::to_string(WTERMSIG(status_));
  return "ended";
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) return;
  ::kill(-pid_, SIGTERM);
  auto deadline = realClock().now() + grace;
  while (running() && realClock().now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!running()) return;
  ::kill(-pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reap(status);
}

}  // namespace sluice
