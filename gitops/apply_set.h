// Applying a build's objects to the cluster in Flux's stages (cluster definitions first, waited for;
// then class definitions; then the rest), with kubectl's client-side three-way apply and our ownership
// labels; and pruning what a new build no longer holds.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "gitops/kustomization.h"

namespace sluice::kube {
class Client;
}

namespace sluice::gitops {

enum class ApplyAction { kCreated, kConfigured, kUnchanged, kSkipped, kDeleted };
const char* applyActionName(ApplyAction a);  // "created", "configured", "unchanged", "skipped", "deleted"

struct ChangeEntry {
  ObjectKey key;
  ApplyAction action = ApplyAction::kUnchanged;
  // "Deployment/default/web configured", as Flux's change set lines.
  std::string str() const;
};

struct ApplyReport {
  // Each object that was applied (or skipped), in order, up to the first failure; with the object as
  // stored, for the health checks.
  std::vector<ChangeEntry> entries;
  std::vector<nlohmann::json> stored;
  // Empty when every object was applied; else the failing object and the server's message.
  std::string error;
  bool ok() const { return error.empty(); }
  // Whether anything was created or configured (drift corrected or a new revision applied).
  bool changed() const;
};

struct ApplySetOptions {
  std::string ownerName;  // the Kustomization: the ownership labels' values
  std::string ownerNamespace;
  bool force = false;  // recreate an object whose update the server refuses over an immutable field
  std::string defaultNamespace = "default";  // for namespaced objects the build left without one
  std::string fieldManager = "sluice-kustomize";
  std::chrono::milliseconds waitTimeout{60000};  // cluster definitions becoming ready; deletions for force
  const Clock* clock = &realClock();  // measures waitTimeout (the polls sleep 100 ms between reads)
  // Dry-run every object whose kind is already served before writing any: a refusal then leaves the
  // cluster as it was (objects of a kind the same build defines can only be checked when applied).
  bool validateFirst = false;
};

// 0: cluster definitions (CustomResourceDefinition, Namespace, ClusterRole); 1: class definitions (kinds
// ending in "Class"); 2: everything else. Pure.
int applyStage(const nlohmann::json& obj);
// Orders objects as Flux applies them: by stage, then its kind order (CRDs, Namespaces, ... ConfigMaps,
// Secrets, Services, ..., Deployments, ...; webhook configurations last), then namespace and name. Pure.
void sortForApply(std::vector<nlohmann::json>& objects);

void setOwnerLabels(nlohmann::json& obj, const std::string& ownerName, const std::string& ownerNamespace);
// kustomize.sluice.dev/reconcile: disabled (or prune: disabled) as an annotation or a label.
bool reconcileDisabled(const nlohmann::json& obj);
bool pruneDisabled(const nlohmann::json& obj);

// Applies `objects` (a build's output) in order and stage by stage; each gets the ownership labels. An
// object unchanged since the last apply costs one GET and no write; one whose three-way patch would not
// change what the server stores (a dry run says so) no write either. An object annotated
// kustomize.sluice.dev/reconcile: disabled (live or in the build) is not written once it exists.
// Stops at the first failure; what was applied before it is in the report. Blocks (waits for CRDs to be
// Established and Namespaces to exist before the next stage).
ApplyReport applyAll(kube::Client& client, std::vector<nlohmann::json> objects,
                     const ApplySetOptions& options);

// What applyAll would do to one object, found without writing.
struct ObjectPreview {
  ObjectKey key;
  nlohmann::json live;    // as stored now; null when the object does not exist
  nlohmann::json merged;  // as the server would store it after the apply; null when not created (below)
  // Not checked by the server: its kind or its namespace comes with the same build (it would be
  // created), or it is annotated reconcile: disabled (left alone).
  bool unchecked = false;
};

struct PreviewReport {
  std::vector<ObjectPreview> objects;  // in apply order
  std::string error;                   // the first object the server refused, and why
  bool ok() const { return error.empty(); }
};

// The same apply as applyAll (ownership labels, namespaces, three-way patch) sent as a server-side dry
// run, object by object, with the live object beside what it would become: `flux diff`'s comparison.
// Stops at the first refusal. Blocks.
PreviewReport previewAll(kube::Client& client, std::vector<nlohmann::json> objects,
                         const ApplySetOptions& options);

// The entries of `before` whose id is not in `now` (the version ignored), in reverse apply order.
std::vector<InventoryEntry> staleEntries(const std::vector<InventoryEntry>& before,
                                         const std::vector<InventoryEntry>& now);

struct PruneReport {
  std::vector<ChangeEntry> entries;    // deleted (or already gone), and skipped
  std::vector<InventoryEntry> failed;  // not deleted because the request failed: to keep in the inventory
  std::string error;
  bool ok() const { return error.empty(); }
};

// Deletes the objects of `stale` (background propagation) that still carry the owner's labels and are
// not annotated prune: disabled or reconcile: disabled; an object already gone, or of a kind no longer
// served, counts as deleted. Blocks.
PruneReport prune(kube::Client& client, const std::vector<InventoryEntry>& stale,
                  const std::string& ownerName, const std::string& ownerNamespace);

}  // namespace sluice::gitops
