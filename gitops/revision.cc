// Flux's revision strings: formatting and parsing.
#include "gitops/revision.h"

#include <algorithm>
#include <cctype>

namespace sluice::gitops {

std::string Revision::str() const {
  std::string out = algorithm + ":" + digest;
  return ref.empty() ? out : ref + "@" + out;
}

std::optional<Revision> parseRevision(const std::string& s) {
  Revision r;
  std::string rest = s;
  // A ref may itself hold '@' (rare but legal in branch names): the digest part follows the last one.
  if (const auto at = s.rfind('@'); at != std::string::npos) {
    r.ref = s.substr(0, at);
    rest = s.substr(at + 1);
    if (r.ref.empty()) return std::nullopt;
  }
  const auto colon = rest.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return std::nullopt;
  r.algorithm = rest.substr(0, colon);
  r.digest = rest.substr(colon + 1);
  const auto isHex = [](unsigned char c) { return std::isxdigit(c) && !std::isupper(c); };
  if (!std::all_of(r.digest.begin(), r.digest.end(), isHex)) return std::nullopt;
  if (!std::all_of(r.algorithm.begin(), r.algorithm.end(), [](unsigned char c) { return std::isalnum(c); }))
    return std::nullopt;
  return r;
}

bool sameContent(const std::string& a, const std::string& b) {
  const auto ra = parseRevision(a);
  const auto rb = parseRevision(b);
  if (!ra || !rb) return a == b;
  return ra->algorithm == rb->algorithm && ra->digest == rb->digest;
}

}  // namespace sluice::gitops
