// Staged apply, immutable-field recreation and prune for a Kustomization's objects.
#include "gitops/apply_set.h"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "gitops/health.h"
#include "kube/apply.h"
#include "kube/client.h"

namespace sluice::gitops {

using nlohmann::json;

namespace {

// Flux's kind order within a stage; kinds not listed come after them, webhook configurations last.
int kindRank(const std::string& kind) {
  static const std::map<std::string, int> ranks = [] {
    const char* order[] = {"CustomResourceDefinition",
                           "Namespace",
                           "ClusterRole",
                           "ClusterClass",
                           "RuntimeClass",
                           "PriorityClass",
                           "StorageClass",
                           "VolumeSnapshotClass",
                           "IngressClass",
                           "GatewayClass",
                           "ClusterRoleBinding",
                           "ResourceQuota",
                           "ServiceAccount",
                           "Role",
                           "RoleBinding",
                           "ConfigMap",
                           "Secret",
                           "Service",
                           "LimitRange",
                           "Deployment",
                           "StatefulSet",
                           "CronJob",
                           "PodDisruptionBudget"};
    std::map<std::string, int> m;
    int i = 0;
    for (const char* k : order) m[k] = i++;
    m["MutatingWebhookConfiguration"] = 1000;
    m["ValidatingWebhookConfiguration"] = 1001;
    return m;
  }();
  auto it = ranks.find(kind);
  return it == ranks.end() ? 500 : it->second;
}

std::string metaValue(const json& obj, const char* section, const char* key) {
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) return "";
  const json& m = obj["metadata"];
  if (!m.contains(section) || !m[section].is_object()) return "";
  auto it = m[section].find(key);
  return it != m[section].end() && it->is_string() ? it->get<std::string>() : "";
}

bool disabledBy(const json& obj, const char* key) {
  return metaValue(obj, "annotations", key) == kDisabled || metaValue(obj, "labels", key) == kDisabled;
}

std::string serverMessage(const kube::ApiError& e) {
  return e.kind == kube::ApiErrorKind::kStatus && !e.message.empty() ? e.message : e.describe();
}

// Polls until `done` holds for the live object (or it is gone, when `untilGone`), or the timeout.
template <typename Done>
bool poll(kube::Client& client, const Clock& clock, const kube::ResourceRef& r, const std::string& ns,
          const std::string& name, std::chrono::milliseconds timeout, Done done) {
  const auto end = clock.now() + timeout;
  for (;;) {
    auto live = client.get(r, ns, name);
    if (done(live)) return true;
    if (clock.now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// Waits for the cluster definitions just applied: CRDs Established, Namespaces present and not
// terminating. An error names the first that did not become ready.
std::string waitForDefinitions(kube::Client& client, const Clock& clock, const std::vector<json>& stored,
                               std::chrono::milliseconds timeout) {
  for (const auto& obj : stored) {
    const std::string kind = obj.value("kind", "");
    if (kind != "CustomResourceDefinition" && kind != "Namespace") continue;
    auto r = client.resourceFor(obj.value("apiVersion", ""), kind);
    if (!r) return serverMessage(r.error());
    const ObjectKey key = objectKey(obj);
    Health last;
    const bool ready =
        poll(client, clock, *r, key.ns, key.name, timeout, [&](const kube::ApiResult<json>& live) {
          if (!live) return false;
          last = assessHealth(*live);
          return last.state == HealthState::kCurrent;
        });
    if (!ready)
      return key.describe() + " did not become ready within " + std::to_string(timeout.count() / 1000) +
             "s: " + last.message;
  }
  return "";
}

}  // namespace

const char* applyActionName(ApplyAction a) {
  switch (a) {
    case ApplyAction::kCreated:
      return "created";
    case ApplyAction::kConfigured:
      return "configured";
    case ApplyAction::kUnchanged:
      return "unchanged";
    case ApplyAction::kSkipped:
      return "skipped";
    case ApplyAction::kDeleted:
      return "deleted";
  }
  return "unknown";
}

std::string ChangeEntry::str() const { return key.describe() + " " + applyActionName(action); }

bool ApplyReport::changed() const {
  return std::any_of(entries.begin(), entries.end(), [](const ChangeEntry& e) {
    return e.action == ApplyAction::kCreated || e.action == ApplyAction::kConfigured;
  });
}

int applyStage(const json& obj) {
  const std::string kind = obj.value("kind", "");
  if (kind == "CustomResourceDefinition" || kind == "Namespace" || kind == "ClusterRole") return 0;
  if (kind.size() > 5 && kind.ends_with("Class")) return 1;
  return 2;
}

void sortForApply(std::vector<json>& objects) {
  auto sortKey = [](const json& o) {
    const ObjectKey k = objectKey(o);
    return std::make_tuple(applyStage(o), kindRank(k.kind), k.kind, k.ns, k.name);
  };
  std::stable_sort(objects.begin(), objects.end(),
                   [&](const json& a, const json& b) { return sortKey(a) < sortKey(b); });
}

void setOwnerLabels(json& obj, const std::string& ownerName, const std::string& ownerNamespace) {
  json& labels = obj["metadata"]["labels"];
  if (!labels.is_object()) labels = json::object();
  labels[kOwnerNameLabel] = ownerName;
  labels[kOwnerNamespaceLabel] = ownerNamespace;
}

bool reconcileDisabled(const json& obj) { return disabledBy(obj, kReconcileAnnotation); }
bool pruneDisabled(const json& obj) { return disabledBy(obj, kPruneAnnotation); }

namespace {

bool immutableRefusal(const kube::ApiError& e) {
  return e.isInvalid() && serverMessage(e).find("immutable") != std::string::npos;
}

// Sets the namespace as the resource's scope wants it and the ownership labels; the object's key.
ObjectKey prepare(json& obj, const kube::ResourceRef& resource, const ApplySetOptions& options) {
  ObjectKey key = objectKey(obj);
  if (resource.namespaced) {
    if (key.ns.empty()) key.ns = options.defaultNamespace;
    obj["metadata"]["namespace"] = key.ns;
  } else {
    obj["metadata"].erase("namespace");
    key.ns.clear();
  }
  setOwnerLabels(obj, options.ownerName, options.ownerNamespace);
  return key;
}

kube::ApplyOptions applyOptions(const json& obj, const ApplySetOptions& options) {
  kube::ApplyOptions ao;
  ao.fieldManager = options.fieldManager;
  ao.compareFirst = true;
  const bool disabledHere = reconcileDisabled(obj);
  ao.leaveAlone = [disabledHere](const json& live) { return disabledHere || reconcileDisabled(live); };
  return ao;
}

// The dry run of validateFirst: the first refusal, or "".
std::string dryRunAll(kube::Client& client, const std::vector<json>& objects,
                      const ApplySetOptions& options) {
  for (json obj : objects) {
    if (!obj.is_object() || !obj.contains("metadata") || !obj["metadata"].is_object()) continue;
    auto resource = client.resourceFor(obj.value("apiVersion", ""), obj.value("kind", ""));
    if (!resource) continue;  // a kind this build's CRDs will define: checked when applied
    const ObjectKey key = prepare(obj, *resource, options);
    kube::ApplyOptions ao = applyOptions(obj, options);
    ao.dryRun = true;
    auto applied = kube::apply(client, obj, ao);
    // NotFound: its namespace comes with this build; checked when applied.
    if (!applied && !applied.error().isNotFound() && !(options.force && immutableRefusal(applied.error())))
      return key.describe() + ": " + serverMessage(applied.error());
  }
  return "";
}

}  // namespace

ApplyReport applyAll(kube::Client& client, std::vector<json> objects, const ApplySetOptions& options) {
  ApplyReport report;
  sortForApply(objects);
  if (options.validateFirst) {
    report.error = dryRunAll(client, objects, options);
    if (!report.ok()) return report;
  }
  int stage = -1;
  std::vector<json> stageStored;
  for (auto& obj : objects) {
    if (!obj.is_object() || !obj.contains("metadata") || !obj["metadata"].is_object()) {
      report.error = "an object without metadata in the build";
      return report;
    }
    const int s = applyStage(obj);
    if (s != stage) {
      if (stage == 0) {
        if (auto e = waitForDefinitions(client, *options.clock, stageStored, options.waitTimeout);
            !e.empty()) {
          report.error = e;
          return report;
        }
      }
      stage = s;
      stageStored.clear();
    }
    auto resource = client.resourceFor(obj.value("apiVersion", ""), obj.value("kind", ""));
    if (!resource) {
      report.error = objectKey(obj).describe() + ": " + serverMessage(resource.error());
      return report;
    }
    const ObjectKey key = prepare(obj, *resource, options);
    const kube::ApplyOptions ao = applyOptions(obj, options);
    auto applied = kube::apply(client, obj, ao);
    bool recreated = false;
    if (!applied && options.force && immutableRefusal(applied.error())) {
      // Flux's force: the object is deleted and created again from the build.
      kube::DeleteOptions del;
      del.propagationPolicy = "Background";
      auto removed = client.remove(*resource, key.ns, key.name, del);
      if (!removed && !removed.error().isNotFound()) {
        report.error = key.describe() + ": deleting it to recreate it: " + serverMessage(removed.error());
        return report;
      }
      const bool gone =
          poll(client, *options.clock, *resource, key.ns, key.name, options.waitTimeout,
               [](const kube::ApiResult<json>& live) { return !live && live.error().isNotFound(); });
      if (!gone) {
        report.error = key.describe() + ": still present after deleting it to recreate it";
        return report;
      }
      applied = kube::apply(client, obj, ao);
      recreated = true;
    }
    if (!applied) {
      report.error = key.describe() + ": " + serverMessage(applied.error());
      return report;
    }
    ApplyAction action = ApplyAction::kUnchanged;
    switch (applied->outcome) {
      case kube::ApplyOutcome::kCreated:
        action = ApplyAction::kCreated;
        break;
      case kube::ApplyOutcome::kConfigured:
        action = ApplyAction::kConfigured;
        break;
      case kube::ApplyOutcome::kUnchanged:
        action = ApplyAction::kUnchanged;
        break;
      case kube::ApplyOutcome::kSkipped:
        action = ApplyAction::kSkipped;
        break;
    }
    if (recreated) action = ApplyAction::kCreated;
    report.entries.push_back({key, action});
    report.stored.push_back(applied->object);
    stageStored.push_back(applied->object);
  }
  if (stage == 0) report.error = waitForDefinitions(client, *options.clock, stageStored, options.waitTimeout);
  return report;
}

PreviewReport previewAll(kube::Client& client, std::vector<json> objects, const ApplySetOptions& options) {
  PreviewReport report;
  sortForApply(objects);
  for (auto& obj : objects) {
    if (!obj.is_object() || !obj.contains("metadata") || !obj["metadata"].is_object()) {
      report.error = "an object without metadata in the build";
      return report;
    }
    ObjectPreview preview;
    auto resource = client.resourceFor(obj.value("apiVersion", ""), obj.value("kind", ""));
    if (!resource) {
      // A kind the build's own CRDs define: it can only be created.
      preview.key = objectKey(obj);
      if (preview.key.ns.empty()) preview.key.ns = options.defaultNamespace;
      preview.unchecked = true;
      report.objects.push_back(std::move(preview));
      continue;
    }
    preview.key = prepare(obj, *resource, options);
    kube::ApplyOptions ao = applyOptions(obj, options);
    ao.dryRun = true;
    auto applied = kube::apply(client, obj, ao);
    if (!applied) {
      if (applied.error().isNotFound()) {  // its namespace comes with this build
        preview.unchecked = true;
        report.objects.push_back(std::move(preview));
        continue;
      }
      report.error = preview.key.describe() + ": " + serverMessage(applied.error());
      return report;
    }
    switch (applied->outcome) {
      case kube::ApplyOutcome::kCreated:
        preview.merged = std::move(applied->object);
        break;
      case kube::ApplyOutcome::kUnchanged:
        preview.live = applied->object;
        preview.merged = std::move(applied->object);
        break;
      case kube::ApplyOutcome::kSkipped:
        preview.live = std::move(applied->object);
        preview.unchecked = true;
        break;
      case kube::ApplyOutcome::kConfigured: {
        auto live = client.get(*resource, preview.key.ns, preview.key.name);
        if (!live) {
          report.error = preview.key.describe() + ": " + serverMessage(live.error());
          return report;
        }
        preview.live = std::move(*live);
        preview.merged = std::move(applied->object);
        break;
      }
    }
    report.objects.push_back(std::move(preview));
  }
  return report;
}

std::vector<InventoryEntry> staleEntries(const std::vector<InventoryEntry>& before,
                                         const std::vector<InventoryEntry>& now) {
  std::set<std::string> keep;
  for (const auto& e : now) keep.insert(e.id);
  std::vector<json> stale;
  for (const auto& e : before) {
    if (keep.count(e.id)) continue;
    auto key = parseInventoryEntry(e);
    if (!key) continue;
    stale.push_back({{"apiVersion", key->apiVersion()},
                     {"kind", key->kind},
                     {"metadata", {{"name", key->name}, {"namespace", key->ns}}}});
  }
  sortForApply(stale);
  std::reverse(stale.begin(), stale.end());
  std::vector<InventoryEntry> out;
  out.reserve(stale.size());
  for (const auto& o : stale) out.push_back(inventoryEntry(objectKey(o)));
  return out;
}

PruneReport prune(kube::Client& client, const std::vector<InventoryEntry>& stale,
                  const std::string& ownerName, const std::string& ownerNamespace) {
  PruneReport report;
  for (const auto& entry : stale) {
    auto key = parseInventoryEntry(entry);
    if (!key) continue;
    auto resource = client.resourceFor(key->apiVersion(), key->kind);
    if (!resource) {  // the kind is no longer served (its CRD went first): nothing left to delete
      report.entries.push_back({*key, ApplyAction::kDeleted});
      continue;
    }
    auto live = client.get(*resource, key->ns, key->name);
    if (!live) {
      if (live.error().isNotFound()) {
        report.entries.push_back({*key, ApplyAction::kDeleted});
        continue;
      }
      report.failed.push_back(entry);
      if (report.error.empty()) report.error = key->describe() + ": " + serverMessage(live.error());
      continue;
    }
    const bool ours = metaValue(*live, "labels", kOwnerNameLabel) == ownerName &&
                      metaValue(*live, "labels", kOwnerNamespaceLabel) == ownerNamespace;
    if (!ours || pruneDisabled(*live) || reconcileDisabled(*live)) {
      report.entries.push_back({*key, ApplyAction::kSkipped});
      continue;
    }
    kube::DeleteOptions del;
    del.propagationPolicy = "Background";
    auto removed = client.remove(*resource, key->ns, key->name, del);
    if (!removed && !removed.error().isNotFound()) {
      report.failed.push_back(entry);
      if (report.error.empty()) report.error = key->describe() + ": " + serverMessage(removed.error());
      continue;
    }
    report.entries.push_back({*key, ApplyAction::kDeleted});
  }
  return report;
}

}  // namespace sluice::gitops
