// Which files of a checkout stay out of its artifact: `.sourceignore` files and `spec.ignore`, both in
// .gitignore syntax, and Flux's default exclusions when `spec.ignore` is not set.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice::gitops {

// Flux's default exclusions (VCS files, images and archives, CI configuration, `.goreleaser.yml`,
// `.sops.yaml`, `.flux.yaml`), in .gitignore syntax.
const std::string& defaultSourceIgnore();

// An ordered list of .gitignore rules from several files; the last rule that matches a path decides, as in
// git. Written here rather than taken from libgit2, whose matcher answers only for the paths of a
// repository's working directory and reads its .gitignore files, not `.sourceignore` or `spec.ignore`.
class IgnoreRules {
 public:
  // Adds the rules of one file's `text`, found in the directory `dir` ("" for the root, "a/b" below it):
  // its patterns match relative to that directory, as the rules of a nested .gitignore do.
  void add(std::string_view text, const std::string& dir = "");

  // Whether `path` (relative to the root, '/'-separated, no leading slash) is excluded by the rules
  // themselves. Callers walking a tree skip an excluded directory whole, as git does (a file below it
  // cannot be re-included).
  bool ignored(const std::string& path, bool isDirectory) const;

  bool empty() const { return rules_.empty(); }

 private:
  struct Rule {
    std::string dir;             // where the rule's file was
    std::string pattern;         // without '!', trailing '/' and (for anchored rules) the leading '/'
    bool negated = false;        // '!': re-includes
    bool directoryOnly = false;  // trailing '/'
    bool anchored = false;       // holds a '/' before its end: matches from `dir`, not at any depth
  };
  std::vector<Rule> rules_;
};

// Whether `name` matches the glob `pattern` as .gitignore reads it: `*` and `?` never match '/', `**`
// matches across directories, `[...]` is a character class (`!` or `^` negates it), `\` escapes.
bool globMatch(std::string_view pattern, std::string_view name);

}  // namespace sluice::gitops
