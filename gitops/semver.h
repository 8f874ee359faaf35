// Semantic versions of git tags and the range constraints `spec.ref.semver` holds, with the syntax and
// rules of the Masterminds ranges Flux uses: `>=1.0.0 <2.0.0`, `~1.2`, `^1.2.3`, `1.2.x`, `1.0 - 1.4`, `||`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sluice::gitops {

struct SemVer {
  uint64_t major = 0, minor = 0, patch = 0;
  std::vector<std::string> prerelease;  // "rc.1" -> {"rc", "1"}; empty for a release
  std::string build;                    // after '+'; ignored in comparisons

  // -1, 0 or 1 by SemVer 2.0 precedence (a prerelease sorts before its release; build metadata ignored).
  int compare(const SemVer& other) const;
  bool operator<(const SemVer& other) const { return compare(other) < 0; }
};

// A tag as a version: an optional leading 'v', then MAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD] (missing
// parts are 0, as Masterminds reads `v1.2`). nullopt for anything else.
std::optional<SemVer> parseSemVer(std::string_view text);

// A range: alternatives separated by `||`, each a conjunction of comparisons separated by spaces or
// commas. A version with a prerelease matches only an alternative that names a prerelease itself, so
// `>=1.0.0` never picks `2.0.0-rc.1`.
class SemVerRange {
 public:
  // An error says what in `text` could not be read.
  static Result<SemVerRange> parse(std::string_view text);
  bool matches(const SemVer& v) const;

  struct Bound {
    enum class Op { Eq, Ne, Gt, Ge, Lt, Le };
    Op op = Op::Eq;
    SemVer version;
  };

 private:
  struct Alternative {
    std::vector<Bound> bounds;
    bool namesPrerelease = false;
  };
  std::vector<Alternative> alternatives_;
};

// The highest of `tags` (git tag names) that parses as a version and matches `range`; nullopt when none.
std::optional<std::string> highestMatchingTag(const SemVerRange& range, const std::vector<std::string>& tags);

}  // namespace sluice::gitops
