// The Kustomization kind (sluice.dev/v1alpha1, and Flux's kustomize.toolkit.fluxcd.io/v1 unchanged): its
// spec read and validated with field paths, and the status fields Flux writes (conditions, revisions,
// inventory).
#pragma once

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

inline constexpr const char* kKustomizationApiVersion = "sluice.dev/v1alpha1";
inline constexpr const char* kFluxKustomizationApiVersion = "kustomize.toolkit.fluxcd.io/v1";
inline constexpr const char* kKustomizationFinalizer = "finalizers.sluice.dev";

// Labels and annotations on the objects a Kustomization applies.
inline constexpr const char* kOwnerNameLabel = "kustomize.sluice.dev/name";
inline constexpr const char* kOwnerNamespaceLabel = "kustomize.sluice.dev/namespace";
inline constexpr const char* kReconcileAnnotation = "kustomize.sluice.dev/reconcile";
inline constexpr const char* kPruneAnnotation = "kustomize.sluice.dev/prune";
inline constexpr const char* kSubstituteAnnotation = "kustomize.toolkit.fluxcd.io/substitute";
// `disabled` on a built object: applied as it is, not decrypted (Flux's annotation).
inline constexpr const char* kDecryptAnnotation = "kustomize.toolkit.fluxcd.io/decrypt";
inline constexpr const char* kDisabled = "disabled";

struct CrossNamespaceRef {
  std::string apiVersion;  // health checks: default apps/v1, as Flux
  std::string kind;
  std::string name;
  std::string ns;  // empty: the Kustomization's namespace
};

struct SubstituteFrom {
  std::string kind;  // ConfigMap or Secret
  std::string name;
  bool optional = false;
};

// spec.decryption: SOPS with the age identities of a Secret in the Kustomization's namespace.
struct Decryption {
  std::string provider;       // "sops", the only provider, as Flux
  std::string secretRefName;  // spec.decryption.secretRef.name: the Secret's `*.agekey` entries
};

struct KustomizationSpec {
  CrossNamespaceRef sourceRef;
  std::string path;  // inside the artifact; "" or "./" is its root
  Duration interval{0};
  std::optional<Duration> retryInterval;  // default: interval
  std::optional<Duration> timeout;        // default: interval - 30s, at least 30s (Flux's code)
  bool prune = false;
  bool wait = false;
  bool force = false;
  bool suspend = false;
  std::vector<CrossNamespaceRef> healthChecks;
  std::vector<CrossNamespaceRef> dependsOn;  // name and ns only
  std::string targetNamespace;
  std::string namePrefix;
  std::string nameSuffix;
  std::map<std::string, std::string> commonLabels;       // commonMetadata.labels
  std::map<std::string, std::string> commonAnnotations;  // commonMetadata.annotations
  nlohmann::json patches = nlohmann::json::array();      // [{patch, target}] as kustomize takes them
  nlohmann::json images = nlohmann::json::array();       // [{name, newName, newTag, digest}]
  std::vector<std::string> components;
  bool hasPostBuild = false;
  std::map<std::string, std::string> substitute;
  std::vector<SubstituteFrom> substituteFrom;
  std::optional<Decryption> decryption;
  // Every apply, dry run, prune and health read of the Kustomization goes out impersonating
  // system:serviceaccount:<its namespace>:<this name>; empty: the controller's --default-service-account,
  // else the controller itself.
  std::string serviceAccountName;

  Duration effectiveRetryInterval() const { return retryInterval.value_or(interval); }
  Duration effectiveTimeout() const;
};

struct Kustomization {
  std::string name;
  std::string ns;
  int64_t generation = 0;
  KustomizationSpec spec;
};

// Reads a Kustomization object (either apiVersion). Every problem is reported at its field path
// ("spec.interval: must be a duration ...") with the source position when `source` knows it; unknown
// spec fields are warnings. Errors make the result nullopt.
std::optional<Kustomization> readKustomization(const nlohmann::json& obj, const SourceMap& source,
                                               Diagnostics& diags);
// As above, the errors joined on one line.
Result<Kustomization> parseKustomization(const nlohmann::json& obj);

// ---- status ----

// One applied object in status.inventory.entries: id `<namespace>_<name>_<group>_<kind>` (a ':' in the
// name written "__", as Flux), v its version.
struct InventoryEntry {
  std::string id;
  std::string version;
  bool operator==(const InventoryEntry&) const = default;
};

struct ObjectKey {
  std::string ns;  // empty for cluster-scoped objects
  std::string name;
  std::string group;  // "" for the core group
  std::string version;
  std::string kind;
  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "Deployment/default/web", as Flux names objects in messages.
  std::string describe() const;
};

InventoryEntry inventoryEntry(const ObjectKey& key);
// The key of an entry; nullopt for an id that is not of the form above.
std::optional<ObjectKey> parseInventoryEntry(const InventoryEntry& entry);
// The key of a manifest (apiVersion, kind, metadata.name, metadata.namespace).
ObjectKey objectKey(const nlohmann::json& obj);

// status.inventory as stored; an absent or malformed inventory reads as empty.
std::vector<InventoryEntry> readInventory(const nlohmann::json& status);
nlohmann::json inventoryJson(const std::vector<InventoryEntry>& entries);

// Flux's condition types and reasons.
namespace reason {
inline constexpr const char* kSucceeded = "ReconciliationSucceeded";
inline constexpr const char* kProgressing = "Progressing";
inline constexpr const char* kArtifactFailed = "ArtifactFailed";
inline constexpr const char* kBuildFailed = "BuildFailed";
inline constexpr const char* kReconciliationFailed = "ReconciliationFailed";
inline constexpr const char* kPruneFailed = "PruneFailed";
inline constexpr const char* kHealthCheckFailed = "HealthCheckFailed";
inline constexpr const char* kDependencyNotReady = "DependencyNotReady";
inline constexpr const char* kHealthSucceeded = "Succeeded";
inline constexpr const char* kInvalidSpec = "InvalidSpec";
}  // namespace reason

// Sets (or replaces) the condition `type` in status.conditions; lastTransitionTime moves only when the
// status changes, so that an unchanged condition writes nothing.
void setCondition(nlohmann::json& status, const std::string& type, const std::string& conditionStatus,
                  const std::string& reason, const std::string& message, int64_t observedGeneration,
                  Time now);
void removeCondition(nlohmann::json& status, const std::string& type);
// The condition `type`, or nullptr.
const nlohmann::json* findCondition(const nlohmann::json& status, const std::string& type);

}  // namespace sluice::gitops
