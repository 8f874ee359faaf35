// A source revision as Flux writes it in status: `<ref>@<algorithm>:<digest>` (`main@sha1:4f2c...`), or
// `<algorithm>:<digest>` for a commit checked out without a named ref.
#pragma once

#include <optional>
#include <string>

namespace sluice::gitops {

struct Revision {
  std::string ref;        // "main", "v1.2.0", "refs/pull/1/head"; empty for a bare commit
  std::string algorithm;  // "sha1" (git), "sha256"
  std::string digest;     // lower-case hex

  std::string str() const;
  bool operator==(const Revision&) const = default;
};

// nullopt when `s` is not of either form above.
std::optional<Revision> parseRevision(const std::string& s);

// Whether two revisions name the same content: the digests agree. A Kustomization waits on the ones it
// depends on until they applied the revision it is about to apply, whatever the ref was called.
bool sameContent(const std::string& a, const std::string& b);

}  // namespace sluice::gitops
