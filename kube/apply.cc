// Client-side apply: a create with the last-applied annotation, or a three-way JSON merge patch.
#include "kube/apply.h"

#include "kube/strategic_merge.h"

namespace sluice::kube {
namespace {

using nlohmann::json;

std::string metaString(const json& obj, const char* field) {
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) return "";
  const json& m = obj["metadata"];
  return m.contains(field) && m[field].is_string() ? m[field].get<std::string>() : "";
}

// Whether two versions of an object hold the same content, the fields every write changes aside.
bool sameStoredContent(json a, json b) {
  for (json* o : {&a, &b}) {
    if (!o->contains("metadata") || !(*o)["metadata"].is_object()) continue;
    for (const char* f : {"resourceVersion", "managedFields", "generation"}) (*o)["metadata"].erase(f);
  }
  return a == b;
}

}  // namespace

json threeWayMergePatch(const json& original, const json& modified, const json& current) {
  // The strategic patch with no schema: every list is replaced whole, as JSON merge patch does.
  return threeWayStrategicMergePatch(original, modified, current, "", "");
}

ApiResult<Applied> apply(Client& client, const json& desired, const ApplyOptions& options) {
  auto bad = [](const std::string& message) { return ApiError::client(message, "APPLY"); };
  if (!desired.is_object()) return bad("apply: the object must be a JSON object");
  std::string apiVersion = desired.value("apiVersion", "");
  std::string kind = desired.value("kind", "");
  std::string name = metaString(desired, "name");
  if (apiVersion.empty() || kind.empty()) return bad("apply: apiVersion and kind are required");
  if (name.empty()) return bad("apply " + kind + ": metadata.name is required");
  auto resource = client.resourceFor(apiVersion, kind);
  if (!resource) return resource.error();
  std::string ns;
  if (resource->namespaced) {
    ns = metaString(desired, "namespace");
    if (ns.empty()) ns = options.ns.empty() ? client.config().ns : options.ns;
  }

  // What is recorded: the manifest as given (with its namespace), without the annotation itself.
  json recorded = desired;
  if (resource->namespaced) recorded["metadata"]["namespace"] = ns;
  if (recorded["metadata"].contains("annotations") && recorded["metadata"]["annotations"].is_object()) {
    recorded["metadata"]["annotations"].erase(kLastAppliedAnnotation);
    if (recorded["metadata"]["annotations"].empty()) recorded["metadata"].erase("annotations");
  }
  json modified = recorded;
  modified["metadata"]["annotations"][kLastAppliedAnnotation] = recorded.dump();

  WriteOptions wo;
  wo.dryRun = options.dryRun;
  wo.fieldManager = options.fieldManager;
  auto live = client.get(*resource, ns, name);
  if (!live && live.error().isNotFound()) {
    auto created = client.create(*resource, ns, modified, wo);
    if (created) return Applied{ApplyOutcome::kCreated, std::move(created).value()};
    if (!created.error().isAlreadyExists()) return created.error();
    live = client.get(*resource, ns, name);  // created meanwhile by someone else: patch it instead
  }
  if (!live) return live.error();
  if (options.leaveAlone && options.leaveAlone(*live))
    return Applied{ApplyOutcome::kSkipped, std::move(live).value()};

  json original = json::object();
  if (const json& meta = (*live)["metadata"];
      meta.contains("annotations") && meta["annotations"].is_object()) {
    auto it = meta["annotations"].find(kLastAppliedAnnotation);
    if (it != meta["annotations"].end() && it->is_string()) {
      original = json::parse(it->get<std::string>(), nullptr, false);
      if (!original.is_object()) original = json::object();
    }
  }
  // Built-in kinds get the strategic merge patch kubectl sends (lists merged by key); custom resources,
  // which have no patch tags, a JSON merge patch.
  const bool strategic = hasStrategicMergeSchema(apiVersion, kind);
  json patch = strategic ? threeWayStrategicMergePatch(original, modified, *live, apiVersion, kind)
                         : threeWayMergePatch(original, modified, *live);
  if (patch.empty()) return Applied{ApplyOutcome::kUnchanged, std::move(live).value()};
  const PatchType type = strategic ? PatchType::kStrategic : PatchType::kMerge;
  if (options.compareFirst && !options.dryRun) {
    WriteOptions dry = wo;
    dry.dryRun = true;
    auto preview = client.patch(*resource, ns, name, type, patch, dry);
    if (!preview) return preview.error();
    if (sameStoredContent(*preview, *live)) return Applied{ApplyOutcome::kUnchanged, std::move(live).value()};
  }
  auto patched = client.patch(*resource, ns, name, type, patch, wo);
  if (!patched) return patched.error();
  return Applied{ApplyOutcome::kConfigured, std::move(patched).value()};
}

}  // namespace sluice::kube
