// A real git repository for tests, made and changed with the `git` command line: files committed, tags,
// branches; its commits' ids read back with `git rev-parse`.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace sluice::testing {

class GitRepo {
 public:
  // `git init` in `dir` (created) with `branch` as the first branch, and a committer identity.
  explicit GitRepo(std::filesystem::path dir, const std::string& branch = "main");

  // Runs `git -C DIR ARGS` (ARGS shell-quoted as needed); throws std::runtime_error with the output when
  // it fails. Returns stdout and stderr, trailing newline removed.
  std::string git(const std::string& args) const;

  // Writes `files` (path -> content; parents created), stages everything and commits; returns the id.
  std::string commit(const std::map<std::string, std::string>& files, const std::string& message = "change");
  // A lightweight tag, or an annotated one, on HEAD.
  void tag(const std::string& name, bool annotated = false);

  const std::filesystem::path& dir() const { return dir_; }
  std::string fileUrl() const { return "file://" + dir_.string(); }

 private:
  std::filesystem::path dir_;
};

}  // namespace sluice::testing
