// Strategic merge patch: the merge itself, and the patch tags (patchStrategy, patchMergeKey) of the
// Kubernetes API types the embedded server hosts, transcribed from k8s.io/api's struct tags.
#include "kube/strategic_merge.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sluice::kube {

using nlohmann::json;

namespace {

// ---- The schema: for each field of a struct, how its list merges and what its elements hold. ----

struct Schema;
using SchemaPtr = std::shared_ptr<const Schema>;

enum class ListStrategy { kReplace, kMerge };

struct Field {
  ListStrategy list = ListStrategy::kReplace;
  std::string mergeKey;  // empty for a primitive list merged as a set
  SchemaPtr schema;      // the struct this field (or each list element) holds; null if unknown
};

struct Schema {
  std::map<std::string, Field, std::less<>> fields;

  const Field* find(std::string_view name) const {
    auto it = fields.find(name);
    return it == fields.end() ? nullptr : &it->second;
  }
};

Field sub(SchemaPtr s) { return Field{ListStrategy::kReplace, "", std::move(s)}; }
Field mergeBy(std::string key, SchemaPtr s = nullptr) {
  return Field{ListStrategy::kMerge, std::move(key), std::move(s)};
}
Field setList() { return Field{ListStrategy::kMerge, "", nullptr}; }

SchemaPtr make(std::map<std::string, Field, std::less<>> fields) {
  auto s = std::make_shared<Schema>();
  s->fields = std::move(fields);
  return s;
}

struct Schemas {
  std::map<std::string, SchemaPtr, std::less<>> byKind;  // "apiVersion/Kind"
};

// Status with conditions merged by type: the shape most kinds share.
SchemaPtr conditionsStatus() { return make({{"conditions", mergeBy("type")}}); }

const Schemas& schemas() {
  static const Schemas table = [] {
    // ObjectMeta: finalizers are a set, ownerReferences merge by uid.
    auto meta = make({{"finalizers", setList()}, {"ownerReferences", mergeBy("uid")}});
    auto container = make({
        {"ports", mergeBy("containerPort")},
        {"env", mergeBy("name")},
        {"volumeMounts", mergeBy("mountPath")},
        {"volumeDevices", mergeBy("devicePath")},
        // envFrom, args, command, resizePolicy carry no patch strategy: replaced.
    });
    auto podSpec = make({
        {"containers", mergeBy("name", container)},
        {"initContainers", mergeBy("name", container)},
        {"ephemeralContainers", mergeBy("name", container)},
        {"volumes", mergeBy("name")},  // patchStrategy=merge,retainKeys
        {"imagePullSecrets", mergeBy("name")},
        {"hostAliases", mergeBy("ip")},
        {"topologySpreadConstraints", mergeBy("topologyKey")},
        {"schedulingGates", mergeBy("name")},
        {"resourceClaims", mergeBy("name")},
        // tolerations, readinessGates carry no patch strategy: replaced.
    });
    auto podStatus = make({
        {"conditions", mergeBy("type")},
        {"podIPs", mergeBy("ip")},
        {"hostIPs", mergeBy("ip")},
    });
    auto templateSpec = make({{"metadata", sub(meta)}, {"spec", sub(podSpec)}});
    auto withTemplate = make({{"template", sub(templateSpec)}});
    auto object = [&](SchemaPtr spec, SchemaPtr status) {
      std::map<std::string, Field, std::less<>> f{{"metadata", sub(meta)}};
      if (spec) f.emplace("spec", sub(std::move(spec)));
      if (status) f.emplace("status", sub(std::move(status)));
      return make(std::move(f));
    };
    const auto plain = object(nullptr, nullptr);

    Schemas t;
    auto add = [&](const char* apiVersion, const char* kind, SchemaPtr s) {
      t.byKind[std::string(apiVersion) + "/" + kind] = std::move(s);
    };
    add("v1", "Namespace", object(nullptr, conditionsStatus()));
    add("v1", "ConfigMap", plain);
    add("v1", "Secret", plain);
    add("v1", "Service", object(make({{"ports", mergeBy("port")}}), conditionsStatus()));
    add("v1", "ServiceAccount", make({{"metadata", sub(meta)}, {"secrets", mergeBy("name")}}));
    add("v1", "Event", plain);
    add("v1", "Pod", object(podSpec, podStatus));
    // Deployment spec.strategy is patchStrategy=retainKeys: `$retainKeys` is honoured wherever it is.
    add("apps/v1", "Deployment", object(withTemplate, conditionsStatus()));
    add("apps/v1", "ReplicaSet", object(withTemplate, conditionsStatus()));
    add("apps/v1", "StatefulSet", object(withTemplate, conditionsStatus()));
    add("batch/v1", "Job", object(withTemplate, conditionsStatus()));
    // Ingress rules and tls carry no patch strategy: replaced.
    add("networking.k8s.io/v1", "Ingress", plain);
    add("networking.k8s.io/v1", "IngressClass", plain);
    add("coordination.k8s.io/v1", "Lease", plain);
    for (const char* kind : {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"})
      add("rbac.authorization.k8s.io/v1", kind, plain);
    // CustomResourceDefinition status.conditions is listType=map without a patch strategy: replaced.
    add("apiextensions.k8s.io/v1", "CustomResourceDefinition", plain);
    return t;
  }();
  return table;
}

const Schema* findSchema(std::string_view apiVersion, std::string_view kind) {
  std::string key;
  key.reserve(apiVersion.size() + kind.size() + 1);
  key.append(apiVersion).append("/").append(kind);
  const auto& byKind = schemas().byKind;
  auto it = byKind.find(key);
  return it == byKind.end() ? nullptr : it->second.get();
}

// ---- The merge. ----

constexpr std::string_view kPatch = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kSetElementOrder = "$setElementOrder/";
constexpr std::string_view kDeleteFromPrimitiveList = "$deleteFromPrimitiveList/";

// Thrown inside the merge only, caught in applyStrategicMergePatch.
struct MergeFailure {
  PatchError error;
};

[[noreturn]] void fail(PatchErrorKind kind, std::string message) {
  throw MergeFailure{{kind, std::move(message)}};
}

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

json mergeMap(json original, const json& patch, const Schema* schema);
json mergeValue(const json* original, const json& patch, const Field* field);

// A value taken from the patch where the original has nothing to merge with: its directives are
// still honoured and stripped.
json fromPatch(const json& patch, const Field* field) { return mergeValue(nullptr, patch, field); }

const Schema* schemaOf(const Field* field) { return field ? field->schema.get() : nullptr; }

bool isMergeList(const Field* field) { return field && field->list == ListStrategy::kMerge; }

// Whether `item` (a map) carries `key` equal to `value`.
bool keyEquals(const json& item, const std::string& key, const json& value) {
  if (!item.is_object()) return false;
  auto it = item.find(key);
  return it != item.end() && *it == value;
}

// Index of the element matching `item` in `list` (by merge key for maps, by value otherwise), or -1.
long indexIn(const json& list, const json& item, const std::string& mergeKey) {
  if (!list.is_array()) return -1;
  for (size_t i = 0; i < list.size(); ++i) {
    if (mergeKey.empty()) {
      if (list[i] == item) return static_cast<long>(i);
    } else if (item.is_object() && item.contains(mergeKey) && keyEquals(list[i], mergeKey, item[mergeKey])) {
      return static_cast<long>(i);
    }
  }
  return -1;
}

// Sorts `items` by their position in `order`; items absent from `order` keep their relative order
// after the others.
std::vector<json> sortedBy(std::vector<json> items, const json& order, const std::string& mergeKey) {
  std::stable_sort(items.begin(), items.end(), [&](const json& a, const json& b) {
    long ia = indexIn(order, a, mergeKey);
    long ib = indexIn(order, b, mergeKey);
    if (ia < 0) ia = static_cast<long>(order.size());
    if (ib < 0) ib = static_cast<long>(order.size());
    return ia < ib;
  });
  return items;
}

// The final order of a merged list, as apimachinery computes it: the items named by the patch (or
// by its $setElementOrder list) in the patch's order, the server-only items in the server's order,
// interleaved by the server order where both are known; otherwise the patch's item comes first.
json orderMerged(const json& merged, const json& patchOrder, const json& serverOrder,
                 const std::string& mergeKey) {
  std::vector<json> fromPatchItems, serverOnly;
  for (const auto& item : merged) {
    if (indexIn(patchOrder, item, mergeKey) >= 0)
      fromPatchItems.push_back(item);
    else
      serverOnly.push_back(item);
  }
  fromPatchItems = sortedBy(std::move(fromPatchItems), patchOrder, mergeKey);
  serverOnly = sortedBy(std::move(serverOnly), serverOrder, mergeKey);
  json out = json::array();
  size_t i = 0, j = 0;
  while (i < serverOnly.size() || j < fromPatchItems.size()) {
    if (j >= fromPatchItems.size()) {
      out.push_back(std::move(serverOnly[i++]));
    } else if (i >= serverOnly.size()) {
      out.push_back(std::move(fromPatchItems[j++]));
    } else {
      const long li = indexIn(serverOrder, serverOnly[i], mergeKey);
      const long ri = indexIn(serverOrder, fromPatchItems[j], mergeKey);
      if (li >= 0 && ri >= 0 && li < ri)
        out.push_back(std::move(serverOnly[i++]));
      else
        out.push_back(std::move(fromPatchItems[j++]));
    }
  }
  return out;
}

// The element type the merge of two lists works on; lists of lists are refused as upstream does.
void checkElements(const json& original, const json& patch) {
  const json* first = nullptr;
  for (const json* list : {&original, &patch}) {
    for (const auto& item : *list) {
      if (item.is_array()) fail(PatchErrorKind::kUnprocessable, "Lists of lists are not supported");
      if (first && (first->is_object() != item.is_object()))
        fail(PatchErrorKind::kBadRequest,
             "list element types are not identical: " + original.dump() + " " + patch.dump());
      if (!first) first = &item;
    }
  }
}

std::string noMergeKey(const json& item, const std::string& key) {
  return "map: " + item.dump() + " does not contain declared merge key: " + key;
}

// Merges a list tagged patchStrategy=merge.
json mergeList(const json& original, const json& patch, const Field& field) {
  if (original.empty() && patch.empty()) return original;
  checkElements(original, patch);
  const bool maps =
      std::any_of(original.begin(), original.end(), [](const json& v) { return v.is_object(); }) ||
      std::any_of(patch.begin(), patch.end(), [](const json& v) { return v.is_object(); });
  json merged = json::array();
  json patchItems = json::array();
  if (!maps) {
    // A set of scalars: the union, first occurrence kept.
    for (const json* list : {&original, &patch})
      for (const auto& v : *list)
        if (indexIn(merged, v, "") < 0) merged.push_back(v);
    patchItems = patch;
    return orderMerged(merged, patchItems, original, "");
  }
  if (field.mergeKey.empty()) fail(PatchErrorKind::kInternal, "cannot merge lists without merge key");
  const std::string& key = field.mergeKey;
  json base = original;
  bool replace = false;
  for (const auto& item : patch) {
    auto directive = item.find(kPatch);
    if (directive == item.end()) {
      patchItems.push_back(item);
      continue;
    }
    if (*directive == "delete") {
      if (!item.contains(key)) fail(PatchErrorKind::kBadRequest, noMergeKey(item, key));
      json kept = json::array();
      for (auto& o : base)
        if (!keyEquals(o, key, item[key])) kept.push_back(std::move(o));
      base = std::move(kept);
    } else if (*directive == "replace") {
      replace = true;
    } else if (*directive == "merge") {
      fail(PatchErrorKind::kBadRequest, "merging lists cannot yet be specified in the patch");
    } else {
      fail(PatchErrorKind::kBadRequest,
           "unknown patch type: " + directive->dump() + " in map: " + item.dump());
    }
  }
  if (replace) {
    json out = json::array();
    for (const auto& item : patchItems) out.push_back(fromPatch(item, &field));
    return out;
  }
  for (const auto& item : patchItems) {
    if (!item.contains(key)) fail(PatchErrorKind::kBadRequest, noMergeKey(item, key));
  }
  merged = base;
  for (const auto& item : patchItems) {
    const long at = indexIn(merged, item, key);
    if (at >= 0) {
      merged[static_cast<size_t>(at)] = mergeMap(merged[static_cast<size_t>(at)], item, schemaOf(&field));
    } else {
      merged.push_back(fromPatch(item, &field));
    }
  }
  return orderMerged(merged, patchItems, base, key);
}

// Merges one field's value. `original` is null when the original has no such key.
json mergeValue(const json* original, const json& patch, const Field* field) {
  if (patch.is_object()) {
    if (original && original->is_object()) return mergeMap(*original, patch, schemaOf(field));
    return mergeMap(json::object(), patch, schemaOf(field));
  }
  if (patch.is_array()) {
    if (isMergeList(field)) {
      const json empty = json::array();
      return mergeList(original && original->is_array() ? *original : empty, patch, *field);
    }
    // Replaced: the patch's elements, their directives honoured within each element.
    json out = json::array();
    for (const auto& item : patch)
      out.push_back(item.is_object() ? mergeMap(json::object(), item, schemaOf(field)) : item);
    return out;
  }
  return patch;
}

void applyRetainKeys(json& original, const json& patch) {
  auto it = patch.find(kRetainKeys);
  if (it == patch.end()) return;
  if (!it->is_array()) fail(PatchErrorKind::kBadRequest, "invalid patch format of retainKeys");
  for (const auto& [k, v] : patch.items()) {
    if (v.is_null() || startsWith(k, kDeleteFromPrimitiveList) || startsWith(k, kSetElementOrder) ||
        k == kRetainKeys || k == kPatch)
      continue;
    if (std::find(it->begin(), it->end(), json(k)) == it->end())
      fail(PatchErrorKind::kBadRequest, "invalid patch format of retainKeys");
  }
  json kept = json::object();
  for (auto& [k, v] : original.items())
    if (std::find(it->begin(), it->end(), json(k)) != it->end()) kept[k] = std::move(v);
  original = std::move(kept);
}

json mergeMap(json original, const json& patch, const Schema* schema) {
  if (auto directive = patch.find(kPatch); directive != patch.end()) {
    if (*directive == "replace") {
      json rest = patch;
      rest.erase(std::string(kPatch));
      return mergeMap(json::object(), rest, schema);
    }
    if (*directive == "delete") return json::object();
    fail(PatchErrorKind::kBadRequest,
         "unknown patch type: " + directive->dump() + " in map: " + patch.dump());
  }
  applyRetainKeys(original, patch);

  // Removals from set-like primitive lists come first, as upstream processes them.
  for (const auto& [k, v] : patch.items()) {
    if (!startsWith(k, kDeleteFromPrimitiveList)) continue;
    if (!v.is_array()) fail(PatchErrorKind::kBadRequest, "Invalid patch format of primitive list");
    const std::string name = k.substr(kDeleteFromPrimitiveList.size());
    auto target = original.find(name);
    if (target == original.end() || !target->is_array()) continue;
    json kept = json::array();
    for (auto& item : *target)
      if (std::find(v.begin(), v.end(), item) == v.end()) kept.push_back(std::move(item));
    *target = std::move(kept);
  }

  // The server's order of each list an ordering hint names, before the merge changes it.
  std::map<std::string, json> serverOrder;
  for (const auto& [k, v] : patch.items()) {
    if (!startsWith(k, kSetElementOrder)) continue;
    auto target = original.find(k.substr(kSetElementOrder.size()));
    if (target != original.end()) serverOrder[k] = *target;
  }

  for (const auto& [k, v] : patch.items()) {
    if (k == kRetainKeys || startsWith(k, kDeleteFromPrimitiveList) || startsWith(k, kSetElementOrder))
      continue;
    if (v.is_null()) {
      original.erase(k);
      continue;
    }
    const Field* field = schema ? schema->find(k) : nullptr;
    auto current = original.find(k);
    original[k] = mergeValue(current == original.end() ? nullptr : &*current, v, field);
  }

  // Ordering hints: the named list takes the order given, server-only items interleaved.
  for (const auto& [k, v] : patch.items()) {
    if (!startsWith(k, kSetElementOrder)) continue;
    if (!v.is_array()) fail(PatchErrorKind::kBadRequest, "invalid patch format of setElementOrder list");
    const std::string name = k.substr(kSetElementOrder.size());
    auto target = original.find(name);
    if (target == original.end() || !target->is_array()) continue;
    const Field* field = schema ? schema->find(name) : nullptr;
    const std::string key = field ? field->mergeKey : std::string();
    for (const auto& item : v) {
      if (!key.empty() && (!item.is_object() || !item.contains(key)))
        fail(PatchErrorKind::kBadRequest, "invalid patch format of setElementOrder list");
    }
    auto before = serverOrder.find(k);
    *target = orderMerged(*target, v, before == serverOrder.end() ? json::array() : before->second, key);
  }
  return original;
}

// ---- The three-way patch, as kubectl computes it for `apply`. ----

json findByKey(const json& list, const std::string& key, const json& value) {
  if (!list.is_array()) return nullptr;
  for (const auto& item : list)
    if (keyEquals(item, key, value)) return item;
  return nullptr;
}

bool containsValue(const json& list, const json& v) {
  return list.is_array() && std::find(list.begin(), list.end(), v) != list.end();
}

json threeWayMap(const json& original, const json& modified, const json& current, const Schema* schema);

// A list merged by key: deletions of what was applied before and is gone now, then each item that is
// new or whose declared fields the live item does not hold. Null when nothing is to change.
json threeWayKeyedList(const json& original, const json& modified, const json& current, const Field& field) {
  const std::string& key = field.mergeKey;
  json items = json::array();
  if (original.is_array()) {
    for (const auto& o : original) {
      if (!o.is_object() || !o.contains(key)) continue;
      if (findByKey(modified, key, o[key]).is_null() && !findByKey(current, key, o[key]).is_null())
        items.push_back({{std::string(kPatch), "delete"}, {key, o[key]}});
    }
  }
  for (const auto& m : modified) {
    const json live = findByKey(current, key, m[key]);
    if (live.is_null()) {
      items.push_back(m);
      continue;
    }
    const json before = findByKey(original, key, m[key]);
    json sub = threeWayMap(before.is_object() ? before : json::object(), m, live, schemaOf(&field));
    if (sub.empty()) continue;
    sub[key] = m[key];
    items.push_back(std::move(sub));
  }
  return items.empty() ? json() : items;
}

json threeWayMap(const json& original, const json& modified, const json& current, const Schema* schema) {
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
      continue;
    }
    const json& live = cur[key];
    const json& before = orig.contains(key) ? orig[key] : json();
    const Field* field = schema ? schema->find(key) : nullptr;
    if (value.is_object() && live.is_object()) {
      json sub = threeWayMap(before, value, live, schemaOf(field));
      if (!sub.empty()) patch[key] = std::move(sub);
    } else if (value.is_array() && live.is_array() && isMergeList(field) && field->mergeKey.empty()) {
      json added = json::array();
      for (const auto& v : value)
        if (!containsValue(live, v)) added.push_back(v);
      json removed = json::array();
      if (before.is_array()) {
        for (const auto& v : before)
          if (!containsValue(value, v) && containsValue(live, v)) removed.push_back(v);
      }
      if (!added.empty()) {
        patch[key] = std::move(added);
        patch[std::string(kSetElementOrder) + key] = value;  // the manifest's order, as kubectl keeps it
      }
      if (!removed.empty()) patch[std::string(kDeleteFromPrimitiveList) + key] = std::move(removed);
    } else if (value.is_array() && live.is_array() && isMergeList(field) &&
               std::all_of(value.begin(), value.end(),
                           [&](const json& v) { return v.is_object() && v.contains(field->mergeKey); })) {
      json items = threeWayKeyedList(before, value, live, *field);
      if (!items.is_null()) {
        patch[key] = std::move(items);
        json order = json::array();
        for (const auto& v : value) order.push_back({{field->mergeKey, v[field->mergeKey]}});
        patch[std::string(kSetElementOrder) + key] = std::move(order);
      }
    } else if (!jsonCovers(live, value) || (!before.is_null() && before != value)) {
      patch[key] = value;
    }
  }
  return patch;
}

}  // namespace

bool hasStrategicMergeSchema(std::string_view apiVersion, std::string_view kind) {
  return findSchema(apiVersion, kind) != nullptr;
}

PatchResult applyStrategicMergePatch(const json& original, const json& patch, std::string_view apiVersion,
                                     std::string_view kind) {
  const Schema* schema = findSchema(apiVersion, kind);
  if (!schema)
    return PatchError{PatchErrorKind::kUnsupportedMediaType,
                      "the body of the request was in an unknown format - accepted media types "
                      "include: application/json-patch+json, application/merge-patch+json"};
  if (!patch.is_object())
    return PatchError{PatchErrorKind::kBadRequest, "json: cannot unmarshal " +
                                                       std::string(patch.type_name()) +
                                                       " into Go value of type map[string]interface {}"};
  if (!original.is_object()) return PatchError{PatchErrorKind::kInternal, "Invalid JSON document"};
  if (nestedDeeperThan(original, kMaxJsonNestingDepth) || nestedDeeperThan(patch, kMaxJsonNestingDepth))
    return PatchError{PatchErrorKind::kBadRequest, "the document or patch nests deeper than " +
                                                       std::to_string(kMaxJsonNestingDepth) + " levels"};
  try {
    return mergeMap(original, patch, schema);
  } catch (const MergeFailure& f) {
    return f.error;
  } catch (const json::exception& e) {
    return PatchError{PatchErrorKind::kInternal, e.what()};
  }
}

bool jsonCovers(const json& have, const json& want) {
  if (want.is_object()) {
    if (!have.is_object()) return false;
    for (const auto& [key, value] : want.items()) {
      if (value.is_null()) {
        if (have.contains(key)) return false;
        continue;
      }
      if (!have.contains(key) || !jsonCovers(have[key], value)) return false;
    }
    return true;
  }
  if (want.is_array()) {
    if (!have.is_array() || have.size() != want.size()) return false;
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (!jsonCovers(have[i], want[i])) return false;
    }
    return true;
  }
  return have == want;
}

json threeWayStrategicMergePatch(const json& original, const json& modified, const json& current,
                                 std::string_view apiVersion, std::string_view kind) {
  return threeWayMap(original, modified, current, findSchema(apiVersion, kind));
}

}  // namespace sluice::kube
