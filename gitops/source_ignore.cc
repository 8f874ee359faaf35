// .gitignore rules for artifacts (see source_ignore.h).
#include "gitops/source_ignore.h"

#include <sstream>

namespace sluice::gitops {

const std::string& defaultSourceIgnore() {
  static const std::string text =
      "# VCS\n"
      ".git/\n.gitignore\n.gitmodules\n.gitattributes\n"
      "# images and archives\n"
      "*.jpg\n*.jpeg\n*.gif\n*.png\n*.wmv\n*.flv\n*.tar.gz\n*.zip\n"
      "# CI configuration\n"
      ".github/\n.circleci/\n.travis.yml\n.gitlab-ci.yml\nappveyor.yml\n.drone.yml\ncloudbuild.yaml\n"
      "codeship-services.yml\ncodeship-steps.yml\n"
      "# tools' configuration\n"
      "**/.goreleaser.yml\n**/.sops.yaml\n**/.flux.yaml\n";
  return text;
}

namespace {

// One character class at the start of `p` ("[a-z]", "[!0-9]"); returns its length (0 when malformed)
// and whether `c` is in it.
size_t matchClass(std::string_view p, char c, bool& in) {
  size_t i = 1;
  bool negate = false;
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) {
    negate = true;
    ++i;
  }
  bool found = false;
  bool first = true;
  while (i < p.size() && (first || p[i] != ']')) {
    first = false;
    char lo = p[i];
    if (lo == '\\' && i + 1 < p.size()) lo = p[++i];
    char hi = lo;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hi = p[i + 2];
      if (hi == '\\' && i + 3 < p.size()) {
        hi = p[i + 3];
        ++i;
      }
      i += 2;
    }
    if (c >= lo && c <= hi) found = true;
    ++i;
  }
  if (i >= p.size()) return 0;  // no closing ']'
  in = (found != negate) && c != '/';
  return i + 1;
}

}  // namespace

bool globMatch(std::string_view p, std::string_view s) {
  while (!p.empty()) {
    if (p.substr(0, 2) == "**") {
      std::string_view rest = p.substr(2);
      while (rest.substr(0, 2) == "**") rest.remove_prefix(2);
      if (rest.empty()) return true;  // "a/**": everything below
      if (rest[0] == '/') {
        // "**/": zero or more whole directories.
        rest.remove_prefix(1);
        if (globMatch(rest, s)) return true;
        for (size_t i = 0; i < s.size(); ++i) {
          if (s[i] == '/' && globMatch(rest, s.substr(i + 1))) return true;
        }
        return false;
      }
      for (size_t i = 0; i <= s.size(); ++i) {
        if (globMatch(rest, s.substr(i))) return true;
      }
      return false;
    }
    switch (p[0]) {
      case '*': {
        std::string_view rest = p.substr(1);
        for (size_t i = 0; i <= s.size(); ++i) {
          if (globMatch(rest, s.substr(i))) return true;
          if (i < s.size() && s[i] == '/') break;
        }
        return false;
      }
      case '?':
        if (s.empty() || s[0] == '/') return false;
        p.remove_prefix(1);
        s.remove_prefix(1);
        continue;
      case '[': {
        if (s.empty()) return false;
        bool in = false;
        const size_t len = matchClass(p, s[0], in);
        if (len == 0) {
          // A lone '[' is a literal.
          if (s[0] != '[') return false;
          p.remove_prefix(1);
        } else {
          if (!in) return false;
          p.remove_prefix(len);
        }
        s.remove_prefix(1);
        continue;
      }
      case '\\':
        if (p.size() > 1) p.remove_prefix(1);
        [[fallthrough]];
      default:
        if (s.empty() || s[0] != p[0]) return false;
        p.remove_prefix(1);
        s.remove_prefix(1);
    }
  }
  return s.empty();
}

void IgnoreRules::add(std::string_view text, const std::string& dir) {
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Trailing spaces are dropped unless escaped.
    while (!line.empty() && line.back() == ' ' && !(line.size() > 1 && line[line.size() - 2] == '\\'))
      line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    Rule r;
    r.dir = dir;
    if (line[0] == '!') {
      r.negated = true;
      line.erase(0, 1);
    } else if (line[0] == '\\' && line.size() > 1 && (line[1] == '#' || line[1] == '!')) {
      line.erase(0, 1);
    }
    if (!line.empty() && line.back() == '/') {
      r.directoryOnly = true;
      line.pop_back();
    }
    if (line.empty()) continue;
    r.anchored = line.find('/') != std::string::npos;
    if (line[0] == '/') line.erase(0, 1);
    r.pattern = std::move(line);
    rules_.push_back(std::move(r));
  }
}

bool IgnoreRules::ignored(const std::string& path, bool isDirectory) const {
  // The verdict on `p` alone: the last rule that matches it.
  auto decide = [&](const std::string& p, bool dir) {
    bool out = false;
    for (const Rule& r : rules_) {
      if (r.directoryOnly && !dir) continue;
      std::string_view rel = p;
      if (!r.dir.empty()) {
        if (rel.size() <= r.dir.size() || rel.substr(0, r.dir.size()) != r.dir || rel[r.dir.size()] != '/')
          continue;
        rel.remove_prefix(r.dir.size() + 1);
      }
      std::string_view subject = rel;
      if (!r.anchored) {
        if (auto slash = rel.rfind('/'); slash != std::string_view::npos) subject = rel.substr(slash + 1);
      }
      if (globMatch(r.pattern, subject)) out = !r.negated;
    }
    return out;
  };
  // A path inside an excluded directory is excluded, whatever a later rule says about the path itself.
  for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (decide(path.substr(0, slash), true)) return true;
  }
  return decide(path, isDirectory);
}

}  // namespace sluice::gitops
