// Strategic merge patch (application/strategic-merge-patch+json) for the built-in kinds the embedded
// API server hosts: JSON merge patch plus lists merged by key, set-like primitive lists and the `$`
// directives, driven by a small table of the patch tags the Kubernetes Go types carry.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "kube/patch.h"

namespace sluice::kube {

// True when a strategic merge patch schema exists for this apiVersion and kind: v1 Namespace,
// ConfigMap, Secret, Service, ServiceAccount, Event, Pod; apps/v1 Deployment, ReplicaSet, StatefulSet;
// batch/v1 Job; networking.k8s.io/v1 Ingress, IngressClass; coordination.k8s.io/v1 Lease;
// rbac.authorization.k8s.io/v1 Role, RoleBinding, ClusterRole, ClusterRoleBinding;
// apiextensions.k8s.io/v1 CustomResourceDefinition. Pure, thread-safe.
bool hasStrategicMergeSchema(std::string_view apiVersion, std::string_view kind);

// Applies a strategic merge patch to `original` (both JSON objects) as apimachinery's
// StrategicMergeMapPatch does:
//  - maps merge recursively; null deletes a key; scalars and untagged lists replace;
//  - lists tagged patchStrategy=merge with a patchMergeKey (spec.containers by name, ports by
//    containerPort, Service spec.ports by port, env by name, volumes by name, volumeMounts by mountPath,
//    imagePullSecrets by name, conditions by type, metadata.ownerReferences by uid, ...) merge element
//    by element; primitive lists tagged merge (metadata.finalizers) merge as sets;
//  - directives: "$patch": "replace" | "delete" in a map, "$patch": "replace" | "delete" as a list
//    element, "$retainKeys", "$setElementOrder/<field>", "$deleteFromPrimitiveList/<field>". They never
//    appear in the result.
// Fields the table does not know (including custom fields of a built-in kind) merge as in JSON merge
// patch rather than failing, which the real server would reject later while decoding.
// Errors: an apiVersion/kind with no schema (custom resources) -> kUnsupportedMediaType with the real
// server's 415 message; a patch or original that is not an object, or a directive in the wrong shape
// -> kBadRequest; `$retainKeys` not covering the patch, lists of lists -> kUnprocessable; a merge-keyed
// element without its key, an unknown `$patch` value -> kInternal (as the real server reports them).
// Pure, thread-safe.
PatchResult applyStrategicMergePatch(const nlohmann::json& original, const nlohmann::json& patch,
                                     std::string_view apiVersion, std::string_view kind);

// Whether `have` already says everything `want` says: objects key by key (extra keys in `have` are
// fine, a null in `want` means the key must be absent), lists item by item with the same length,
// scalars equal. Fields a server fills in (defaults) are thus no difference. Pure.
bool jsonCovers(const nlohmann::json& have, const nlohmann::json& want);

// The three-way strategic merge patch `kubectl apply` sends for a built-in kind: from `current` (live)
// to `modified` (the manifest), given `original` (what was applied last time). Keys of `original`
// missing from `modified` are deleted; lists tagged merge are merged by their key: an item applied
// before and gone from the manifest is deleted with `$patch: delete`, a new item added, a changed one
// sent as its changed fields with its key; items others added to the live list are kept. Primitive set
// lists add what is missing and remove with `$deleteFromPrimitiveList`. Other lists and scalars are
// sent whole when the live value does not hold them or their declaration changed. An empty object means
// nothing to change. Without a schema for the kind (hasStrategicMergeSchema), every list is replaced
// whole, as in a JSON merge patch. Pure.
nlohmann::json threeWayStrategicMergePatch(const nlohmann::json& original, const nlohmann::json& modified,
                                           const nlohmann::json& current, std::string_view apiVersion,
                                           std::string_view kind);

}  // namespace sluice::kube
