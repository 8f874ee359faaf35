// What the GitOps commands print, as pure functions of API objects: `get` tables, `tree`, `diff` of one
// object (Secret values masked), `events` and the YAML of `build`. The commands in gitops_commands.cc
// fetch the objects and print these.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"

namespace sluice::cli {

// One row of `get sources git` / `get kustomizations`, as flux prints it: REVISION is the artifact's
// revision for a source and lastAppliedRevision for a Kustomization; READY and MESSAGE are the Ready
// condition's status and message ("Unknown" and "" before the controller wrote one).
struct GitOpsRow {
  std::string ns, name, revision, suspended, ready, message;
};
GitOpsRow gitRepositoryRow(const nlohmann::json& repo);
GitOpsRow kustomizationRow(const nlohmann::json& kustomization);

// The table: NAMESPACE (with `allNamespaces`) NAME REVISION SUSPENDED READY MESSAGE, sorted by
// namespace and name; with `header` false only the rows (the lines `-w` prints as objects change).
std::string renderGitOpsTable(std::vector<GitOpsRow> rows, bool allNamespaces, bool header = true);

// How a reconcile the CLI asked for stands: not yet handled by the controller, or handled with Ready
// True or False (and its message). `requestedAt`: the annotation's value the CLI wrote.
struct ReconcileState {
  bool handled = false;
  bool ready = false;
  std::string message;   // the Ready condition's
  std::string revision;  // the artifact's revision (source) or lastAppliedRevision (Kustomization)
};
ReconcileState reconcileState(const nlohmann::json& obj, const std::string& requestedAt);

// "Kind/namespace/name", or "Kind/name" for a cluster-scoped object, from an inventory id
// (`<namespace>_<name>_<group>_<kind>`); the id itself when it cannot be read.
std::string inventoryObjectName(const std::string& id);

// `tree kustomization NAME`: the Kustomization, then its inventory as a tree (├── └── │). `nested`
// answers the inventory entries of a Kustomization the tree holds (Kind Kustomization of our group or
// Flux's), by namespace and name; nullopt when it cannot be read (shown as a leaf).
using NestedInventory =
    std::function<std::optional<std::vector<std::string>>(const std::string& ns, const std::string& name)>;
std::string renderInventoryTree(const std::string& rootNs, const std::string& rootName,
                                const std::vector<std::string>& entryIds, const NestedInventory& nested);

// The differences between the live object and the one a dry-run apply would store, as lines of
// `  PATH` then `    - OLD` / `    + NEW`; "" when they hold the same content. Fields every write changes
// (resourceVersion, generation, managedFields, kubectl's last-applied annotation) and status are left
// out. A Secret's data and stringData values are masked: "***" when equal, "*** (before)" and
// "*** (after)" when they differ, so that a diff never prints a secret.
std::string objectDiff(nlohmann::json live, nlohmann::json merged);

// `events`: LAST SEEN TYPE REASON OBJECT MESSAGE (NAMESPACE first with `allNamespaces`), oldest first.
// `events` are core v1 Events; `now` ages them.
std::string renderEvents(std::vector<nlohmann::json> events, bool allNamespaces, Time now);

// The objects as a YAML stream (documents separated by `---`), strings quoted where YAML would read
// them as another type.
std::string toYamlStream(const std::vector<nlohmann::json>& objects);

}  // namespace sluice::cli
