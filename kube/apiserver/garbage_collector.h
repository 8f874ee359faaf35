// The embedded API server's garbage collector: what kube-controller-manager does with ownerReferences.
// Dependents whose owners are all gone are deleted (background cascade), owners deleted in the foreground
// wait for their blocking dependents, and orphaned dependents lose their reference to the owner.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "kube/apiserver/api_error.h"

namespace sluice::apiserver {

class Registry;

// One entry of metadata.ownerReferences.
struct OwnerReference {
  std::string apiVersion;
  std::string kind;
  std::string name;
  std::string uid;
  bool blockOwnerDeletion = false;
};

// The object's metadata.ownerReferences; entries without a uid are skipped.
std::vector<OwnerReference> ownerReferencesOf(const nlohmann::json& object);

// How a dependent sees one of its owners (matched by uid, never by name).
enum class OwnerState {
  kAbsent,                // gone, or a new object with the same name and another uid
  kSolid,                 // present and not waiting for its dependents (or its kind is not served)
  kWaitingForDependents,  // being deleted in the foreground: its dependents go first
};

// What the collector does with an object that has owners and is not being deleted itself.
struct DependentAction {
  enum Kind { kNothing, kRemoveReferences, kDelete };
  Kind kind = kNothing;
  std::vector<std::string> removeUids;  // kRemoveReferences: the owners whose references go
  std::string policy;                   // kDelete: the propagation policy the deletion uses
};

// The decision for a dependent, as the real collector makes it: with a solid owner left, the references
// to absent owners and to owners waiting for their dependents are removed; with none, the dependent is
// deleted (in the foreground when an owner waits for it and it has dependents of its own, or when its own
// finalizers ask for it; orphaning when they ask for that). An owner missing from `states` counts as solid.
DependentAction decideForDependent(const std::vector<OwnerReference>& owners,
                                   const std::map<std::string, OwnerState>& states,
                                   const std::vector<std::string>& finalizers, bool hasDependents);

// Whether an owner deleted in the foreground may drop its `foregroundDeletion` finalizer: no remaining
// dependent (given by its ownerReferences) blocks it with blockOwnerDeletion in its reference to the owner.
bool foregroundOwnerReleased(const std::string& ownerUid,
                             const std::vector<std::vector<OwnerReference>>& dependentsOwners);

// The collector: a graph of every object's owners fed by Registry::watchAll, and one worker thread that
// acts through the Registry only. Pending work (objects whose owners went while it was stopped, owners
// holding `foregroundDeletion` or `orphan`) resumes on the next start over the same store.
class GarbageCollector {
 public:
  // Loads the graph from the current objects and starts the worker. An error means the registry could not
  // be watched.
  static ApiResult<std::unique_ptr<GarbageCollector>> start(Registry& registry);
  GarbageCollector(const GarbageCollector&) = delete;
  GarbageCollector& operator=(const GarbageCollector&) = delete;
  // Stops the worker (finishing the object in hand) and the watch.
  ~GarbageCollector();

 private:
  struct Impl;
  explicit GarbageCollector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::apiserver
