// Client-side apply, as `kubectl apply` without --server-side: what was applied is kept in the object's
// kubectl.kubernetes.io/last-applied-configuration annotation, and a three-way merge patch takes the live
// object from what was applied last time to what is desired now. Fields nobody declared (set by the
// server or by other writers) are left alone; fields dropped from the manifest are removed.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "kube/client.h"

namespace sluice::kube {

inline constexpr const char* kLastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

// kSkipped: the live object was left alone (ApplyOptions.leaveAlone).
enum class ApplyOutcome { kCreated, kConfigured, kUnchanged, kSkipped };

struct ApplyOptions {
  std::string ns;  // for a namespaced object without metadata.namespace; empty: the client's namespace
  bool dryRun = false;
  std::string fieldManager = "sluice";
  // When the three-way patch is not empty, send it first as a dry run and write only when the object
  // it would make differs from the live one (resourceVersion, generation and managedFields aside): a
  // patch that changes nothing the server keeps writes nothing.
  bool compareFirst = false;
  // When set and true for the live object, nothing is written (kSkipped): an object its owner has
  // taken out of our hands.
  std::function<bool(const nlohmann::json& live)> leaveAlone;
};

struct Applied {
  ApplyOutcome outcome = ApplyOutcome::kUnchanged;
  nlohmann::json object;  // the object as stored (or as it would be, on a dry run)
};

// Creates `desired` or patches the live object towards it: a strategic merge patch for the built-in kinds
// hasStrategicMergeSchema knows (kube/strategic_merge.h), a JSON merge patch for the others. The resource
// comes from discovery (apiVersion and kind). Errors: those of the requests, or a kClient error for an object
// without apiVersion, kind or metadata.name.
ApiResult<Applied> apply(Client& client, const nlohmann::json& desired, const ApplyOptions& options = {});

// The three-way JSON merge patch from `current` to `modified`, given `original` (what was applied
// before): keys of `original` missing from `modified` are deleted, and what `modified` says that `current`
// does not already hold is set. Lists are replaced whole, when their declaration changed since `original`
// or when `current`'s does not already contain every field `modified`'s declares, item by item (fields the
// server filled in, such as defaults, are not a difference).
// An empty object means nothing to change. Pure.
nlohmann::json threeWayMergePatch(const nlohmann::json& original, const nlohmann::json& modified,
                                  const nlohmann::json& current);

}  // namespace sluice::kube
