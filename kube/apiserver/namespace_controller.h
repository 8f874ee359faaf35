// The embedded API server's namespace controller: what kube-controller-manager does with a Terminating
// namespace. It deletes every namespaced object in it (built-in and custom), reports what remains in the
// namespace's status conditions, and removes the `kubernetes` finalizer once nothing is left, which lets
// the namespace go.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "kube/apiserver/api_error.h"

namespace sluice::apiserver {

class Registry;

// What a pass over a Terminating namespace found after its deletions.
struct NamespaceContent {
  std::map<std::string, int> remainingByResource;   // "configmaps." / "widgets.example.com" -> objects left
  std::map<std::string, int> remainingByFinalizer;  // finalizer -> objects it still holds
  std::vector<std::string> deleteErrors;            // deletions that failed (not for a finalizer)
};

// The namespace's status.conditions for `content`, as the real controller words them
// (NamespaceDeletionDiscoveryFailure, NamespaceDeletionGroupVersionParsingFailure,
// NamespaceDeletionContentFailure, NamespaceContentRemaining, NamespaceFinalizersRemaining). A condition
// whose status is unchanged from `previous` keeps its lastTransitionTime; the others take `now`.
nlohmann::json namespaceDeletionConditions(const NamespaceContent& content, const nlohmann::json& previous,
                                           const std::string& now);

// Runs in its own thread over Registry::watchAll and acts through the Registry only. A Terminating
// namespace left by a previous run is picked up again on start.
class NamespaceController {
 public:
  // Starts watching and working. An error means the registry could not be watched.
  static ApiResult<std::unique_ptr<NamespaceController>> start(Registry& registry);
  NamespaceController(const NamespaceController&) = delete;
  NamespaceController& operator=(const NamespaceController&) = delete;
  // Stops the worker (finishing the namespace in hand) and the watch.
  ~NamespaceController();

 private:
  struct Impl;
  explicit NamespaceController(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::apiserver
