// Patch engines. Strategic merge covers the merge-keyed lists of the built-in kinds this server hosts;
// the full schema-driven engine (kube/strategic_merge.h) replaces it once available.
#include "kube/apiserver/patch.h"

#include <map>

namespace sluice::apiserver {
namespace {

using nlohmann::json;

ApiResult<json> parseBody(const std::string& body) {
  try {
    return json::parse(body);
  } catch (const json::exception& e) {
    return badRequest(std::string("error decoding patch: ") + e.what());
  }
}

// The merge key of a list field in the built-in kinds, by field name ("" when the list is replaced).
std::string mergeKey(const std::string& field, const json& patchList, const json& originalList) {
  static const std::map<std::string, std::string> keys = {
      {"containers", "name"},   {"initContainers", "name"}, {"ephemeralContainers", "name"},
      {"volumes", "name"},      {"env", "name"},            {"imagePullSecrets", "name"},
      {"volumeMounts", "mountPath"}, {"volumeDevices", "devicePath"}, {"conditions", "type"},
      {"ownerReferences", "uid"}, {"hostAliases", "ip"},  {"topologySpreadConstraints", "topologyKey"},
  };
  if (field == "ports") {
    // Container ports merge by containerPort, Service ports by port.
    for (const json* list : {&patchList, &originalList}) {
      for (const auto& e : *list) {
        if (e.is_object() && e.contains("containerPort")) return "containerPort";
        if (e.is_object() && e.contains("port")) return "port";
      }
    }
    return "";
  }
  auto it = keys.find(field);
  return it == keys.end() ? "" : it->second;
}

bool isSetList(const std::string& field) { return field == "finalizers"; }

json strategicMerge(const json& original, const json& patch);

json mergeKeyedList(const json& original, const json& patch, const std::string& key) {
  json out = original.is_array() ? original : json::array();
  for (const auto& p : patch) {
    if (!p.is_object() || !p.contains(key)) {
      out.push_back(p);
      continue;
    }
    bool remove = p.value("$patch", "") == "delete";
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const json& e) { return e.is_object() && e.contains(key) && e[key] == p[key]; });
    if (remove) {
      if (it != out.end()) out.erase(it);
    } else if (it != out.end()) {
      *it = strategicMerge(*it, p);
    } else {
      out.push_back(strategicMerge(json::object(), p));
    }
  }
  return out;
}

json orderBy(const json& list, const json& order, const std::string& key) {
  if (!order.is_array() || !list.is_array()) return list;
  json out = json::array();
  std::vector<bool> used(list.size(), false);
  for (const auto& o : order) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      const json& e = list[i];
      bool same = key.empty() ? e == o : (e.is_object() && o.is_object() && e.contains(key) && o.contains(key) && e[key] == o[key]);
      if (!used[i] && same) {
        used[i] = true;
        out.push_back(e);
        break;
      }
    }
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!used[i]) out.push_back(list[i]);
  }
  return out;
}

json strategicMerge(const json& original, const json& patch) {
  if (!patch.is_object()) return patch;
  if (patch.value("$patch", "") == "replace") {
    json copy = patch;
    copy.erase("$patch");
    return copy;
  }
  json out = original.is_object() ? original : json::object();
  std::map<std::string, json> orders;
  for (const auto& [k, v] : patch.items()) {
    if (k == "$patch" || k == "$retainKeys") continue;
    if (k.rfind("$setElementOrder/", 0) == 0) {
      orders[k.substr(17)] = v;
      continue;
    }
    if (k.rfind("$deleteFromPrimitiveList/", 0) == 0) {
      std::string field = k.substr(25);
      if (out.contains(field) && out[field].is_array() && v.is_array()) {
        json kept = json::array();
        for (const auto& e : out[field]) {
          if (std::find(v.begin(), v.end(), e) == v.end()) kept.push_back(e);
        }
        out[field] = kept;
      }
      continue;
    }
    if (v.is_null()) {
      out.erase(k);
      continue;
    }
    if (v.is_object() && v.value("$patch", "") == "delete") {
      out.erase(k);
      continue;
    }
    const json current = out.contains(k) ? out[k] : json();
    if (v.is_array()) {
      std::string key = mergeKey(k, v, current.is_array() ? current : json::array());
      if (!key.empty()) {
        out[k] = mergeKeyedList(current, v, key);
      } else if (isSetList(k)) {
        json merged = current.is_array() ? current : json::array();
        for (const auto& e : v) {
          if (std::find(merged.begin(), merged.end(), e) == merged.end()) merged.push_back(e);
        }
        out[k] = merged;
      } else {
        out[k] = v;
      }
    } else if (v.is_object()) {
      out[k] = strategicMerge(current, v);
    } else {
      out[k] = v;
    }
  }
  for (const auto& [field, order] : orders) {
    if (!out.contains(field)) continue;
    out[field] = orderBy(out[field], order, mergeKey(field, order, out[field]));
  }
  if (patch.contains("$retainKeys") && patch["$retainKeys"].is_array()) {
    const json& retain = patch["$retainKeys"];
    for (auto it = out.begin(); it != out.end();) {
      if (std::find(retain.begin(), retain.end(), it.key()) == retain.end()) {
        it = out.erase(it);
      } else {
        ++it;
      }
    }
  }
  return out;
}

}  // namespace

ApiResult<json> applyMergePatch(const json& original, const std::string& body) {
  auto patch = parseBody(body);
  if (!patch) return patch.error();
  if (!patch->is_object()) return badRequest("error decoding patch: a merge patch must be a JSON object");
  json out = original;
  out.merge_patch(*patch);
  return out;
}

ApiResult<json> applyJsonPatch(const json& original, const std::string& body) {
  auto patch = parseBody(body);
  if (!patch) return patch.error();
  if (!patch->is_array()) return badRequest("error decoding patch: a JSON patch must be an array of operations");
  if (patch->size() > 10000) {
    return ApiError{422, "Invalid", "The allowed maximum operations in a JSON patch is 10000, got " +
                                        std::to_string(patch->size()),
                    {}};
  }
  try {
    return original.patch(*patch);
  } catch (const json::parse_error& e) {
    return badRequest(std::string("the JSON patch is malformed: ") + e.what());
  } catch (const json::type_error& e) {
    return badRequest(std::string("the JSON patch is malformed: ") + e.what());
  } catch (const json::exception& e) {
    return ApiError{422, "Invalid", std::string("the JSON patch could not be applied: ") + e.what(), {}};
  }
}

ApiResult<json> applyStrategicMergePatch(const json& original, const std::string& body) {
  auto patch = parseBody(body);
  if (!patch) return patch.error();
  if (!patch->is_object()) return badRequest("error decoding patch: a strategic merge patch must be a JSON object");
  return strategicMerge(original, *patch);
}

}  // namespace sluice::apiserver
