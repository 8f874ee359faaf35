// The GitRepository kind: its spec read and validated from JSON (every problem at its field path), Flux's
// defaults, and its status (conditions, artifact) to and from JSON. Field names, conditions and reasons are
// Flux's source-controller's, so a Flux manifest loads by changing only its apiVersion.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/diagnostics.h"
#include "base/result.h"
#include "base/source.h"
#include "base/time.h"

namespace sluice::gitops {

inline constexpr const char* kGitRepositoryKind = "GitRepository";
inline constexpr const char* kSluiceSourceApiVersion = "sluice.dev/v1alpha1";
// Flux's versions of the kind, which the offline loaders read unchanged.
inline constexpr const char* kFluxSourceApiVersion = "source.toolkit.fluxcd.io/v1";
inline constexpr const char* kFluxSourceApiVersionBeta2 = "source.toolkit.fluxcd.io/v1beta2";
// Set to any new value to ask for a fetch now; the value handled is echoed in status.lastHandledReconcileAt.
inline constexpr const char* kRequestedAtAnnotation = "reconcile.sluice.dev/requestedAt";

struct GitRepositoryRef {
  std::string branch;
  std::string tag;
  std::string semver;
  std::string name;    // a full ref: refs/heads/main, refs/pull/420/head
  std::string commit;  // a commit's hex id; with `branch`, the branch it is fetched from

  // The branch fetched when no field is set, as Flux.
  static constexpr const char* kDefaultBranch = "master";
};

struct GitRepositorySpec {
  std::string url;
  std::string secretRefName;  // spec.secretRef.name; empty: no credentials
  Duration interval{0};       // required
  Duration timeout{60};       // every git operation of one fetch
  GitRepositoryRef ref;       // branch "master" when spec.ref is absent or empty
  std::optional<std::string> ignore;
  bool suspend = false;
};

struct GitRepository {
  std::string apiVersion;
  std::string name;
  std::string ns;
  int64_t generation = 0;
  std::map<std::string, std::string> annotations;
  GitRepositorySpec spec;
};

// Reads and validates a GitRepository (apiVersion sluice.dev/v1alpha1 or Flux's). Every problem goes to
// `diags` at its field path (`spec.ref.semver`), located through `source` when the object came from a
// file; nullopt when there is an error. Unknown fields are warnings. Never throws.
std::optional<GitRepository> parseGitRepository(const nlohmann::json& object, const SourceMap& source,
                                                Diagnostics& diags);

// ---- status -------------------------------------------------------------------------------------

// A source's condition types and reasons, Flux's (the Kustomization's are in kustomization.h).
namespace source_condition {
inline constexpr const char* kReady = "Ready";
inline constexpr const char* kReconciling = "Reconciling";
inline constexpr const char* kStalled = "Stalled";
inline constexpr const char* kFetchFailed = "FetchFailed";
inline constexpr const char* kArtifactInStorage = "ArtifactInStorage";
inline constexpr const char* kArtifactOutdated = "ArtifactOutdated";
inline constexpr const char* kStorageOperationFailed = "StorageOperationFailed";
}  // namespace source_condition
namespace source_reason {
inline constexpr const char* kSucceeded = "Succeeded";
inline constexpr const char* kProgressing = "Progressing";
inline constexpr const char* kProgressingWithRetry = "ProgressingWithRetry";
inline constexpr const char* kGitOperationFailed = "GitOperationFailed";
inline constexpr const char* kAuthenticationFailed = "AuthenticationFailed";
inline constexpr const char* kUrlInvalid = "URLInvalid";
inline constexpr const char* kNewRevision = "NewRevision";
inline constexpr const char* kArchiveOperationFailed = "ArchiveOperationFailed";
// Not Flux's (its API server refuses such a spec before a controller sees it): the spec does not validate.
inline constexpr const char* kInvalidSpec = "InvalidSpec";
}  // namespace source_reason

struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
  int64_t observedGeneration = 0;
  Time lastTransitionTime{};
};

struct Artifact {
  std::string path;      // relative to the storage root: gitrepository/<ns>/<name>/<commit>.tar.gz
  std::string url;       // where a consumer downloads it
  std::string revision;  // main@sha1:<hex>
  std::string digest;    // sha256:<hex> of the file
  Time lastUpdateTime{};
  int64_t size = 0;
};

struct GitRepositoryStatus {
  int64_t observedGeneration = 0;
  std::vector<Condition> conditions;
  std::optional<Artifact> artifact;
  std::optional<std::string> observedIgnore;  // the spec.ignore the artifact was built with
  std::string lastHandledReconcileAt;

  const Condition* find(const std::string& type) const;
  // Sets the condition `c.type`, keeping lastTransitionTime when its status did not change (`now`
  // otherwise), as Kubernetes' conditions do.
  void set(Condition c, Time now);
  void remove(const std::string& type);
};

nlohmann::json artifactToJson(const Artifact& a);
nlohmann::json statusToJson(const GitRepositoryStatus& s);
// Tolerant, as status is written by controllers: unknown fields are ignored; malformed ones are an error.
Result<GitRepositoryStatus> statusFromJson(const nlohmann::json& status);

}  // namespace sluice::gitops
