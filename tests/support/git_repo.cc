// A git repository driven by the git command line (see git_repo.h).
#include "tests/support/git_repo.h"

#include <fstream>
#include <stdexcept>

#include "tests/support/process.h"

namespace sluice::testing {

namespace {
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

GitRepo::GitRepo(std::filesystem::path dir, const std::string& branch) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
  git("init -q -b " + quote(branch));
  git("config user.email test@example.com");
  git("config user.name Test");
  git("config commit.gpgsign false");
}

std::string GitRepo::git(const std::string& args) const {
  auto r = runCommand("git -C " + quote(dir_.string()) + " " + args);
  if (r.exitCode != 0) throw std::runtime_error("git " + args + ": " + r.output);
  while (!r.output.empty() && r.output.back() == '\n') r.output.pop_back();
  return r.output;
}

std::string GitRepo::commit(const std::map<std::string, std::string>& files, const std::string& message) {
  for (const auto& [path, content] : files) {
    const auto p = dir_ / path;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  git("add -A");
  git("commit -q --allow-empty -m " + quote(message));
  return git("rev-parse HEAD");
}

void GitRepo::tag(const std::string& name, bool annotated) {
  git(std::string("tag ") + (annotated ? "-a -m " + quote("release " + name) + " " : "") + quote(name));
}

}  // namespace sluice::testing
