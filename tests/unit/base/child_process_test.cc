// ChildProcess on /bin/sh: output into the log, how it ended, stop() reaching the whole process group
// (SIGKILL after the grace when SIGTERM is ignored), and a missing program reported as not found.
#include <signal.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/child_process.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<ChildProcess> spawnShell(const std::string& script, const std::filesystem::path& log) {
  auto child = ChildProcess::spawn({"/bin/sh", "-c", script}, log);
  INFO((child ? std::string() : child.error()));
  REQUIRE(child.ok());
  return std::move(*child);
}

std::string readAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// Gone, or a zombie no one has reaped yet (a container's first process may never reap).
bool gone(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  std::string stat = readAll("/proc/" + std::to_string(pid) + "/stat");
  std::size_t close = stat.rfind(')');
  return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] == 'Z';
}

}  // namespace

TEST_CASE("a child's output goes to its log and how it ended is described", "[base][child_process]") {
  struct Row {
    const char* script;
    const char* log;
    const char* ended;
  };
  const Row rows[] = {
      {"echo out; echo err >&2; exit 3", "out\nerr\n", "exited with status 3"},
      {"cat; echo read nothing", "read nothing\n", "exited with status 0"},  // stdin is /dev/null
      {"kill -9 $$", "", "killed by signal 9"},
  };
  for (const Row& row : rows) {
    INFO(row.script);
    testing::TempDir dir("sluice-child");
    auto child = spawnShell(row.script, dir / "log");
    REQUIRE(testing::waitUntil([&] { return !child->running(); }, 10s));
    CHECK(child->exitDescription() == row.ended);
    CHECK(readAll(dir / "log") == row.log);
  }
}

TEST_CASE("stop ends the child's whole group, with SIGKILL once the grace is over", "[base][child_process]") {
  struct Row {
    const char* name;
    const char* script;
    const char* ended;
    std::chrono::milliseconds atLeast;
  };
  const Row rows[] = {
      {"a child that exits on SIGTERM", "sleep 30 & echo $!; wait", "killed by signal 15", 0ms},
      {"a child that ignores SIGTERM", "trap '' TERM; sleep 30 & echo $!; wait", "killed by signal 9", 300ms},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    testing::TempDir dir("sluice-child");
    auto child = spawnShell(row.script, dir / "log");
    REQUIRE(testing::waitUntil([&] { return !readAll(dir / "log").empty(); }, 10s));
    pid_t grandchild = std::stoi(readAll(dir / "log"));
    auto started = std::chrono::steady_clock::now();
    child->stop(300ms);
    auto took = std::chrono::steady_clock::now() - started;
    CHECK(child->exitDescription() == row.ended);
    CHECK(took >= row.atLeast);
    CHECK(took < 5s);
    CHECK(gone(child->pid()));
    CHECK(testing::waitUntil([&] { return gone(grandchild); }, 5s));
    child->stop();  // idempotent
    CHECK(child->exitDescription() == row.ended);
  }
}

TEST_CASE("a program that does not exist is reported as not found", "[base][child_process]") {
  testing::TempDir dir("sluice-child");
  struct Row {
    std::string program;
    std::string message;
  };
  const Row rows[] = {
      {"sluice-test-no-such-program", "cannot start sluice-test-no-such-program: not found on PATH"},
      {(dir / "missing").string(), "cannot start " + (dir / "missing").string() + ": not found at that path"},
  };
  for (const Row& row : rows) {
    auto child = ChildProcess::spawn({row.program}, dir / "log");
    REQUIRE_FALSE(child.ok());
    CHECK(child.error() == row.message);
  }
}
