// Client-side apply: a create with the last-applied annotation, or a three-way JSON merge patch.
#include "kube/apply.h"

namespace sluice::kube {
namespace {

using nlohmann::json;

// Whether `have` already says everything `want` says: objects key by key (extra keys in `have` are
// fine), lists item by item with the same length, scalars equal.
bool covers(const json& have, const json& want) {
  if (want.is_object()) {
    if (!have.is_object()) return false;
    for (const auto& [key, value] : want.items()) {
      if (value.is_null()) {
        if (have.contains(key)) return false;
        continue;
      }
      if (!have.contains(key) || !covers(have[key], value)) return false;
    }
    return true;
  }
  if (want.is_array()) {
    if (!have.is_array() || have.size() != want.size()) return false;
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (!covers(have[i], want[i])) return false;
    }
    return true;
  }
  return have == want;
}

std::string metaString(const json& obj, const char* field) {
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) return "";
  const json& m = obj["metadata"];
  return m.contains(field) && m[field].is_string() ? m[field].get<std::string>() : "";
}

}  // namespace

json threeWayMergePatch(const json& original, const json& modified, const json& current) {
  json patch = json::object();
  const json empty = json::object();
  const json& orig = original.is_object() ? original : empty;
  const json& cur = current.is_object() ? current : empty;
  for (const auto& [key, value] : orig.items()) {
    if (!modified.contains(key) && cur.contains(key)) patch[key] = nullptr;
  }
  for (const auto& [key, value] : modified.items()) {
    if (value.is_null()) {
      if (cur.contains(key)) patch[key] = nullptr;
      continue;
    }
    if (!cur.contains(key)) {
      patch[key] = value;
    } else if (value.is_object() && cur[key].is_object()) {
      json sub = threeWayMergePatch(orig.contains(key) ? orig[key] : empty, value, cur[key]);
      if (!sub.empty()) patch[key] = std::move(sub);
    } else if (!covers(cur[key], value) || (orig.contains(key) && orig[key] != value)) {
      // A list (or scalar) the live object does not hold yet, or one whose declaration changed since the
      // last apply (an item or a field in an item removed): sent whole.
      patch[key] = value;
    }
  }
  return patch;
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

  json original = json::object();
  if (const json& meta = (*live)["metadata"];
      meta.contains("annotations") && meta["annotations"].is_object()) {
    auto it = meta["annotations"].find(kLastAppliedAnnotation);
    if (it != meta["annotations"].end() && it->is_string()) {
      original = json::parse(it->get<std::string>(), nullptr, false);
      if (!original.is_object()) original = json::object();
    }
  }
  json patch = threeWayMergePatch(original, modified, *live);
  if (patch.empty()) return Applied{ApplyOutcome::kUnchanged, std::move(live).value()};
  auto patched = client.patch(*resource, ns, name, PatchType::kMerge, patch, wo);
  if (!patched) return patched.error();
  return Applied{ApplyOutcome::kConfigured, std::move(patched).value()};
}

}  // namespace sluice::kube
