// The API server's object semantics, independent of HTTP: the resource types served (built-in kinds and
// those CustomResourceDefinitions add), and create, read, update, patch, delete and watch with the real
// server's rules (uid, creationTimestamp, global resourceVersion, generation, optimistic concurrency, the
// status subresource, finalizers, dry run, no-op writes, Status errors).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kube/apiserver/api_error.h"
#include "kube/apiserver/store.h"
#include "kube/openapi_schema.h"

namespace sluice::apiserver {

// One served resource in one version.
struct ResourceType {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;  // plural, lower case: "deployments"
  std::string singular;
  std::string kind;
  bool namespaced = true;
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;
  bool statusSubresource = false;
  bool scaleSubresource = false;
  std::string specReplicasPath = ".spec.replicas";
  std::string statusReplicasPath = ".status.replicas";
  std::string labelSelectorPath;  // e.g. ".status.selector"; empty: none
  bool tracksGeneration = false;
  bool custom = false;              // served because a CRD declares it
  bool unconditionalUpdate = true;  // PUT without resourceVersion allowed (not for CRs and Leases)
  nlohmann::json printerColumns = nlohmann::json::array();  // CRD additionalPrinterColumns of this version
  // Fields a field selector may name besides metadata.name and metadata.namespace (e.g. Events'
  // involvedObject.uid, which `kubectl describe` uses).
  std::vector<std::string> selectableFields;
  // A CRD version's compiled openAPIV3Schema: objects are pruned, defaulted and validated against it.
  std::shared_ptr<const kube::CompiledSchema> schema;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string groupVersionPath() const {
    return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  }
  std::string listKind() const { return kind + "List"; }
  // The storage key prefix, shared by every version of the resource: "core/pods/", "apps/deployments/".
  std::string keyPrefix() const {
    return (group.empty() ? std::string("core") : group) + "/" + resource + "/";
  }
};

// kFinalize: a Namespace's /finalize, which writes spec.finalizers only.
enum class Subresource { kMain, kStatus, kScale, kFinalize };

struct WriteOptions {
  bool dryRun = false;  // dryRun=All: everything but the write
  // fieldValidation: unknown fields of schema-checked objects are an error (Strict), dropped with a
  // warning (Warn, the real server's default) or dropped silently (Ignore).
  kube::FieldValidation fieldValidation = kube::FieldValidation::kWarn;
};

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  int64_t limit = 0;
  std::string continueToken;
  // As the real server: "" or "0" lists the newest state; N with resourceVersionMatch "" or NotOlderThan
  // lists the newest state if it is at least N; with Exact, the state at N exactly (410 once compacted).
  // N past the newest revision is 504 Too large resource version, whatever the match.
  std::string resourceVersion;
  std::string resourceVersionMatch;
};

struct DeleteOptions {
  bool dryRun = false;
  std::optional<std::string> preconditionUid;
  std::optional<std::string> preconditionResourceVersion;
  // "", "Background", "Foreground" or "Orphan" (anything else is 422, as the real server answers). Foreground
  // and Orphan leave the object with the `foregroundDeletion` or `orphan` finalizer for the garbage
  // collector; "" keeps whichever of those the object already has.
  std::string propagationPolicy;
  std::optional<bool> orphanDependents;  // the deprecated form: true is Orphan, false Background
};

// The finalizers the garbage collector acts on.
inline constexpr const char* kForegroundDeletionFinalizer = "foregroundDeletion";
inline constexpr const char* kOrphanFinalizer = "orphan";
// The namespace controller's entry in a Namespace's spec.finalizers.
inline constexpr const char* kNamespaceFinalizer = "kubernetes";

// The finalizers an object keeps when deleted with `policy` (already validated): Orphan puts `orphan` in
// place of `foregroundDeletion`, Foreground the reverse, Background drops both, and "" leaves them as
// they are. Other finalizers stay, in order.
std::vector<std::string> finalizersOnDelete(const std::vector<std::string>& finalizers,
                                            const std::string& policy);

enum class PatchType { kMerge, kJson, kStrategic };

struct WatchOptions {
  std::string resourceVersion;  // "" or "0": synthetic ADDED events for the current state first
  std::string labelSelector;
  std::string fieldSelector;
};

// One event as a watch stream sends it: type ADDED, MODIFIED, DELETED or ERROR (object: a Status).
struct WatchEvent {
  std::string type;
  nlohmann::json object;
};

// A live watch; destroying it stops deliveries.
class RegistryWatch {
 public:
  virtual ~RegistryWatch() = default;
};

// Thread-safe; every call may block on the store's write lock but never on the network.
class Registry {
 public:
  // Builds the registry over `store`: built-in types, types of the CRDs stored, and the `default`,
  // `kube-system`, `kube-public` and `kube-node-lease` namespaces when missing. An error means the store
  // failed.
  static ApiResult<std::unique_ptr<Registry>> open(Store& store);
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  // The type served at group/version/resource, or nullptr.
  std::shared_ptr<const ResourceType> find(const std::string& group, const std::string& version,
                                           const std::string& resource) const;
  // Every served type, built-ins first, in a stable order (for discovery).
  std::vector<std::shared_ptr<const ResourceType>> types() const;
  // Bumped whenever the set of types changes (a CRD created, changed or deleted).
  int64_t typesGeneration() const;

  // `ns` is ignored for cluster-scoped types. Results are whole objects with apiVersion, kind and
  // metadata.resourceVersion set.
  ApiResult<nlohmann::json> get(const ResourceType& type, const std::string& ns,
                                const std::string& name) const;
  // The list object ({kind: <Kind>List, metadata: {resourceVersion, continue}, items}). `ns` empty: all.
  // 422 for resourceVersionMatch without a resourceVersion or with a continue token, an unknown match,
  // or Exact with "0"; 400 for a resourceVersion that is not a number.
  ApiResult<nlohmann::json> list(const ResourceType& type, const std::string& ns,
                                 const ListOptions& options) const;
  // 201-style create; returns the stored object.
  ApiResult<nlohmann::json> create(const ResourceType& type, const std::string& ns, nlohmann::json body,
                                   const WriteOptions& options);
  // PUT on the object or a subresource.
  ApiResult<nlohmann::json> update(const ResourceType& type, const std::string& ns, const std::string& name,
                                   Subresource sub, nlohmann::json body, const WriteOptions& options);
  // PATCH on the object or a subresource. Strategic merge on custom resources is 415.
  ApiResult<nlohmann::json> patch(const ResourceType& type, const std::string& ns, const std::string& name,
                                  Subresource sub, PatchType patchType, const std::string& body,
                                  const WriteOptions& options);
  // GET of a subresource (status: the object; scale: an autoscaling/v1 Scale).
  ApiResult<nlohmann::json> getSubresource(const ResourceType& type, const std::string& ns,
                                           const std::string& name, Subresource sub) const;
  // DELETE. Returns a Status Success, or the object when finalizers keep it (with deletionTimestamp). A
  // Namespace goes Terminating (phase, deletionTimestamp) while spec.finalizers holds it; `default`,
  // `kube-system` and `kube-public` are 403.
  ApiResult<nlohmann::json> remove(const ResourceType& type, const std::string& ns, const std::string& name,
                                   const DeleteOptions& options);
  // Starts a watch; `sink` receives events on the store's writing thread (or inside this call for the
  // initial ones) and must not block. 410 Expired for a compacted start revision; 504 Timeout (Too large
  // resource version) for one past the newest revision; 400 for bad selectors. The real server sends the
  // last two as an ERROR event in a 200 stream, and so does ours.
  ApiResult<std::unique_ptr<RegistryWatch>> watch(const ResourceType& type, const std::string& ns,
                                                  const WatchOptions& options,
                                                  const std::function<void(const WatchEvent&)>& sink);
  // Watches every object of every served type: `sink` first gets an ADDED event for each stored object
  // (inside this call), then every change as it commits, with the object's type. Same threading rules as
  // watch(). For in-process controllers.
  ApiResult<std::unique_ptr<RegistryWatch>> watchAll(
      const std::function<void(const ResourceType&, const WatchEvent&)>& sink);
  // The current storage revision.
  int64_t currentRevision() const;

 private:
  struct Impl;
  explicit Registry(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::apiserver
