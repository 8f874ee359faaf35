// A source's artifact: the files of one revision (no `.git`, nothing `.sourceignore` or `spec.ignore`
// excludes) as a gzipped tarball in the controller's storage with its sha256 digest, written atomically,
// old ones garbage-collected; and the reverse, for the Kustomization reconciler.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/result.h"
#include "gitops/source_ignore.h"

namespace sluice::gitops {

// Flux's --artifact-retention-records default: the current artifact and the one before it.
inline constexpr size_t kArtifactRetention = 2;

// "gitrepository/<ns>/<name>": where a GitRepository's artifacts live, relative to the storage root.
std::string artifactDirectory(const std::string& ns, const std::string& name);

// The rules a checkout in `dir` is archived with: Flux's default exclusions unless `specIgnore` is set,
// then every `.sourceignore` file of the tree (each for the files below its directory), then
// `specIgnore`, which may re-include what they exclude.
IgnoreRules ignoreRulesFor(const std::filesystem::path& dir, const std::optional<std::string>& specIgnore);

struct ArtifactFile {
  std::string path;    // relative to the storage root
  std::string digest;  // sha256:<hex> of the file
  int64_t size = 0;
  size_t files = 0;  // regular files archived
};

// Archives the regular files and directories of `sourceDir` (sorted, owner 0, mode 0644 or 0755, time 0,
// so that the same files give the same digest; `.git` and what `rules` exclude left out, symbolic links
// too) into `<storageRoot>/<relativePath>`, through a temporary file renamed into place.
Result<ArtifactFile> writeArtifact(const std::filesystem::path& sourceDir, const IgnoreRules& rules,
                                   const std::filesystem::path& storageRoot, const std::string& relativePath);

// "sha256:<hex>" of a file's content; an error names the file.
Result<std::string> fileDigest(const std::filesystem::path& file);

// Deletes the oldest `*.tar.gz` of `<storageRoot>/<directory>` until `keep` remain, never `current` (a
// path relative to the storage root). Returns how many were deleted.
Result<size_t> garbageCollectArtifacts(const std::filesystem::path& storageRoot, const std::string& directory,
                                       const std::string& current, size_t keep = kArtifactRetention);

// Unpacks the artifact a source's status describes (`path` under `storageRoot`, `digest`) into
// `destination` (created when missing). The file's digest is checked first; an entry with an absolute
// path, a `..` component, or of a kind other than file or directory is refused. An error names the
// artifact and the cause.
Status extractArtifact(const std::filesystem::path& storageRoot, const nlohmann::json& artifact,
                       const std::filesystem::path& destination);

}  // namespace sluice::gitops
