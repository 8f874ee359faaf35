// Built-in kind validation as the real server words it: a table of field types for the typed-decoding
// check, then metadata and per-kind rules with k8s.io/kubernetes' field paths and messages.
#include "kube/apiserver/validation.h"

#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string_view>

#include "base/base64.h"
#include "kube/apiserver/workload_defaults.h"
#include "kube/apiserver/workloads.h"
#include "kube/names.h"
#include "kube/selectors.h"

namespace sluice::apiserver {
namespace {

using nlohmann::json;

// ---- Typed decoding ----

enum class GoType { kString, kInt32, kInt64, kBool, kObject, kArray, kStringMap, kBytesMap, kStringList };

// One field the typed decoding of a kind checks. `path` is dotted; "[]" steps into every element of an
// array. `goStruct` is the Go struct that holds the field and `goType` its Go type, both as the
// decoder's message names them.
struct TypedField {
  const char* kind;  // "" for every kind
  const char* path;
  const char* goStruct;
  GoType type;
  const char* goType;
};

constexpr TypedField kTypedFields[] = {
    {"", "metadata.name", "ObjectMeta", GoType::kString, "string"},
    {"", "metadata.namespace", "ObjectMeta", GoType::kString, "string"},
    {"", "metadata.generateName", "ObjectMeta", GoType::kString, "string"},
    {"", "metadata.labels", "ObjectMeta", GoType::kStringMap, "map[string]string"},
    {"", "metadata.annotations", "ObjectMeta", GoType::kStringMap, "map[string]string"},
    {"", "metadata.finalizers", "ObjectMeta", GoType::kStringList, "[]string"},
    {"ConfigMap", "data", "ConfigMap", GoType::kStringMap, "map[string]string"},
    {"ConfigMap", "binaryData", "ConfigMap", GoType::kBytesMap, "map[string][]uint8"},
    {"ConfigMap", "immutable", "ConfigMap", GoType::kBool, "bool"},
    {"Secret", "data", "Secret", GoType::kBytesMap, "map[string][]uint8"},
    {"Secret", "stringData", "Secret", GoType::kStringMap, "map[string]string"},
    {"Secret", "type", "Secret", GoType::kString, "v1.SecretType"},
    {"Secret", "immutable", "Secret", GoType::kBool, "bool"},
    {"Service", "spec", "Service", GoType::kObject, "v1.ServiceSpec"},
    {"Service", "spec.type", "ServiceSpec", GoType::kString, "v1.ServiceType"},
    {"Service", "spec.selector", "ServiceSpec", GoType::kStringMap, "map[string]string"},
    {"Service", "spec.ports", "ServiceSpec", GoType::kArray, "[]v1.ServicePort"},
    {"Service", "spec.ports[].name", "ServicePort", GoType::kString, "string"},
    {"Service", "spec.ports[].protocol", "ServicePort", GoType::kString, "v1.Protocol"},
    {"Service", "spec.ports[].port", "ServicePort", GoType::kInt32, "int32"},
    {"Service", "spec.ports[].nodePort", "ServicePort", GoType::kInt32, "int32"},
    {"Deployment", "spec", "Deployment", GoType::kObject, "v1.DeploymentSpec"},
    {"Deployment", "spec.replicas", "DeploymentSpec", GoType::kInt32, "int32"},
    {"Deployment", "spec.minReadySeconds", "DeploymentSpec", GoType::kInt32, "int32"},
    {"Deployment", "spec.revisionHistoryLimit", "DeploymentSpec", GoType::kInt32, "int32"},
    {"Deployment", "spec.progressDeadlineSeconds", "DeploymentSpec", GoType::kInt32, "int32"},
    {"Deployment", "spec.paused", "DeploymentSpec", GoType::kBool, "bool"},
    {"Deployment", "spec.selector", "DeploymentSpec", GoType::kObject, "v1.LabelSelector"},
    {"Deployment", "spec.selector.matchLabels", "LabelSelector", GoType::kStringMap, "map[string]string"},
    {"Deployment", "spec.template.metadata.labels", "ObjectMeta", GoType::kStringMap, "map[string]string"},
    {"ReplicaSet", "spec", "ReplicaSet", GoType::kObject, "v1.ReplicaSetSpec"},
    {"ReplicaSet", "spec.replicas", "ReplicaSetSpec", GoType::kInt32, "int32"},
    {"ReplicaSet", "spec.minReadySeconds", "ReplicaSetSpec", GoType::kInt32, "int32"},
    {"ReplicaSet", "spec.selector", "ReplicaSetSpec", GoType::kObject, "v1.LabelSelector"},
    {"ReplicaSet", "spec.selector.matchLabels", "LabelSelector", GoType::kStringMap, "map[string]string"},
    {"ReplicaSet", "spec.template.metadata.labels", "ObjectMeta", GoType::kStringMap, "map[string]string"},
    {"StatefulSet", "spec", "StatefulSet", GoType::kObject, "v1.StatefulSetSpec"},
    {"StatefulSet", "spec.replicas", "StatefulSetSpec", GoType::kInt32, "int32"},
    {"StatefulSet", "spec.minReadySeconds", "StatefulSetSpec", GoType::kInt32, "int32"},
    {"StatefulSet", "spec.revisionHistoryLimit", "StatefulSetSpec", GoType::kInt32, "int32"},
    {"StatefulSet", "spec.selector", "StatefulSetSpec", GoType::kObject, "v1.LabelSelector"},
    {"StatefulSet", "spec.selector.matchLabels", "LabelSelector", GoType::kStringMap, "map[string]string"},
    {"StatefulSet", "spec.template.metadata.labels", "ObjectMeta", GoType::kStringMap, "map[string]string"},
    {"Job", "spec", "Job", GoType::kObject, "v1.JobSpec"},
    {"Job", "spec.parallelism", "JobSpec", GoType::kInt32, "int32"},
    {"Job", "spec.completions", "JobSpec", GoType::kInt32, "int32"},
    {"Job", "spec.backoffLimit", "JobSpec", GoType::kInt32, "int32"},
    {"Job", "spec.activeDeadlineSeconds", "JobSpec", GoType::kInt64, "int64"},
    {"Lease", "spec.holderIdentity", "LeaseSpec", GoType::kString, "string"},
    {"Lease", "spec.leaseDurationSeconds", "LeaseSpec", GoType::kInt32, "int32"},
};

// Go's name for a JSON value in "cannot unmarshal <value> into": a number carries its text when the
// target is a number (it failed on range or fraction), not when the target is another type.
std::string goValue(const json& v, bool numericTarget) {
  switch (v.type()) {
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "bool";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    default:
      return numericTarget ? "number " + v.dump() : "number";
  }
}

bool fitsInteger(const json& v, GoType type) {
  if (!v.is_number_integer()) return false;
  if (type == GoType::kInt64)
    return !v.is_number_unsigned() || v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX);
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= static_cast<uint64_t>(INT32_MAX);
  const int64_t n = v.get<int64_t>();
  return n >= std::numeric_limits<int32_t>::min() && n <= std::numeric_limits<int32_t>::max();
}

std::string cannotUnmarshal(const std::string& value, const TypedField& f, const std::string& goType) {
  std::string path = f.path;
  for (auto at = path.find("[]"); at != std::string::npos; at = path.find("[]")) path.erase(at, 2);
  return "json: cannot unmarshal " + value + " into Go struct field " + f.goStruct + "." + path +
         " of type " + goType;
}

// The problem with one value of a typed field (null is the zero value: always fine).
std::string valueProblem(const json& v, const TypedField& f) {
  if (v.is_null()) return "";
  switch (f.type) {
    case GoType::kString:
      return v.is_string() ? "" : cannotUnmarshal(goValue(v, false), f, f.goType);
    case GoType::kBool:
      return v.is_boolean() ? "" : cannotUnmarshal(goValue(v, false), f, f.goType);
    case GoType::kInt32:
    case GoType::kInt64:
      return fitsInteger(v, f.type) ? "" : cannotUnmarshal(goValue(v, v.is_number()), f, f.goType);
    case GoType::kObject:
      return v.is_object() ? "" : cannotUnmarshal(goValue(v, false), f, f.goType);
    case GoType::kArray:
      return v.is_array() ? "" : cannotUnmarshal(goValue(v, false), f, f.goType);
    case GoType::kStringList:
      if (!v.is_array()) return cannotUnmarshal(goValue(v, false), f, f.goType);
      for (const auto& item : v) {
        if (!item.is_string()) return cannotUnmarshal(goValue(item, false), f, "string");
      }
      return "";
    case GoType::kStringMap:
    case GoType::kBytesMap:
      if (!v.is_object()) return cannotUnmarshal(goValue(v, false), f, f.goType);
      for (const auto& [key, item] : v.items()) {
        if (item.is_null()) continue;
        if (!item.is_string()) {
          return cannotUnmarshal(goValue(item, false), f, f.type == GoType::kBytesMap ? "[]uint8" : "string");
        }
        // []byte travels as base64, and Go's decoder says where the text stops being base64.
        if (f.type == GoType::kBytesMap && !sluice::base64Decode(item.get_ref<const std::string&>())) {
          return "illegal base64 data in " + std::string(f.path) + "[" + key + "]";
        }
      }
      return "";
  }
  return "";
}

// Walks `path` from `v`, calling `visit` on every value it names (none when a step is absent).
template <typename F>
void eachAt(const json& v, std::string_view path, F&& visit) {
  if (path.empty()) {
    visit(v);
    return;
  }
  const auto dot = path.find('.');
  std::string_view step = path.substr(0, dot);
  std::string_view rest = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  const bool each = step.size() >= 2 && step.substr(step.size() - 2) == "[]";
  if (each) step.remove_suffix(2);
  if (!v.is_object()) return;
  auto it = v.find(std::string(step));
  if (it == v.end()) return;
  if (!each) {
    eachAt(*it, rest, visit);
    return;
  }
  if (!it->is_array()) return;  // the array's own entry reports it
  for (const auto& item : *it) eachAt(item, rest, visit);
}

// ---- Metadata and kinds ----

std::string str(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& at(const json& obj, const char* key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

// Go's %#v of a map[string]string, as the real server prints a labels value in a message.
std::string goMap(const json& labels) {
  if (!labels.is_object() || labels.empty()) return "map[string]string(nil)";
  std::string out = "map[string]string{";
  bool first = true;
  for (const auto& [k, v] : labels.items()) {
    if (!first) out += ", ";
    first = false;
    out += json(k).dump() + ":" + (v.is_string() ? v.dump() : json("").dump());
  }
  return out + "}";
}

void append(std::vector<FieldError>& to, const std::vector<kube::FieldError>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

void nonNegative(std::vector<FieldError>& errs, const json& spec, const char* name, const std::string& path) {
  const json& v = at(spec, name);
  if (v.is_number_integer() && v.get<int64_t>() < 0) {
    errs.push_back(kube::fieldInvalid(path + "." + name, v.dump() + ": must be greater than or equal to 0"));
  }
}

// The selector and template rules the real server's apps validation applies to Deployments,
// ReplicaSets and StatefulSets.
void workloadSpec(std::vector<FieldError>& errs, const std::string& kind, const json& obj, const json* old) {
  const json& spec = at(obj, "spec");
  nonNegative(errs, spec, "replicas", "spec");
  const json& selector = at(spec, "selector");
  if (selector.is_null()) {
    errs.push_back(kube::fieldRequired("spec.selector"));
  } else {
    append(errs, kube::validateLabels(at(selector, "matchLabels"), "spec.selector.matchLabels"));
    const json& ml = at(selector, "matchLabels");
    const json& me = at(selector, "matchExpressions");
    if ((!ml.is_object() || ml.empty()) && (!me.is_array() || me.empty())) {
      std::string what = kind == "StatefulSet" ? "statefulset" : "deployment";
      errs.push_back(kube::fieldInvalid("spec.selector",
                                        "&LabelSelector{MatchLabels:map[string]string{},MatchExpressions:[]"
                                        "LabelSelectorRequirement{},}: empty selector is invalid for " +
                                            what));
    } else if (auto query = labelSelectorQuery(selector); !query || !kube::LabelSelector::parse(*query)) {
      errs.push_back(kube::fieldInvalid("spec.selector", "invalid label selector"));
    }
  }
  const json& templateLabels = at(at(at(spec, "template"), "metadata"), "labels");
  append(errs, kube::validateLabels(templateLabels, "spec.template.metadata.labels"));
  // A missing selector selects nothing, so a template never matches it (the real server reports both).
  const bool emptySelector =
      selector.is_object() && at(selector, "matchLabels").empty() && at(selector, "matchExpressions").empty();
  if (!emptySelector && !selectorMatchesTemplate(obj)) {
    errs.push_back(
        kube::fieldInvalid("spec.template.metadata.labels",
                           goMap(templateLabels) + ": `selector` does not match template `labels`"));
  }
  nonNegative(errs, spec, "minReadySeconds", "spec");
  nonNegative(errs, spec, "revisionHistoryLimit", "spec");
  if (kind == "Deployment") {
    const json& deadline = at(spec, "progressDeadlineSeconds");
    const json& minReady = at(spec, "minReadySeconds");
    if (deadline.is_number_integer()) {
      if (deadline.get<int64_t>() < 0) {
        nonNegative(errs, spec, "progressDeadlineSeconds", "spec");
      } else if (minReady.is_number_integer() && deadline.get<int64_t>() <= minReady.get<int64_t>()) {
        errs.push_back(kube::fieldInvalid("spec.progressDeadlineSeconds",
                                          deadline.dump() + ": must be greater than minReadySeconds"));
      }
    }
  }
  // apps/v1 made the selector immutable: changing it would orphan what the old one selected.
  if (old != nullptr && at(at(*old, "spec"), "selector") != selector) {
    errs.push_back(kube::fieldInvalid("spec.selector", json(selector).dump() + ": field is immutable"));
  }
}

// ConfigMap and Secret keys (a Secret's stringData is merged into data, so only a ConfigMap's data and
// binaryData must not share a key); both kinds cap the total at 1 MiB.
void keyedData(std::vector<FieldError>& errs, const json& obj, std::initializer_list<const char*> fields,
               bool secret) {
  constexpr size_t kMaxBytes = size_t{1024} * 1024;
  size_t total = 0;
  for (const char* f : fields) {
    const json& data = at(obj, f);
    if (!data.is_object()) continue;
    for (const auto& [k, v] : data.items()) {
      const std::string path = std::string(f) + "[" + k + "]";
      for (const auto& why : kube::isConfigMapKey(k)) {
        errs.push_back(kube::fieldInvalid(path, json(k).dump() + ": " + why));
      }
      if (!secret && std::string_view(f) == "binaryData" && at(obj, "data").contains(k)) {
        errs.push_back(kube::fieldInvalid("data[" + k + "]",
                                          json(k).dump() + ": duplicate of key present in binaryData"));
      }
      if (v.is_string()) total += v.get_ref<const std::string&>().size();
    }
  }
  if (total > kMaxBytes) {
    errs.push_back(kube::fieldTooLong(secret ? "data" : "", "must have at most 1048576 bytes"));
  }
}

void serviceSpec(std::vector<FieldError>& errs, const json& obj) {
  const json& spec = at(obj, "spec");
  const std::string type = str(spec.is_object() ? spec : json::object(), "type");
  static const std::set<std::string> kTypes = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"};
  if (!type.empty() && kTypes.count(type) == 0) {
    errs.push_back(kube::fieldNotSupported(
        "spec.type",
        json(type).dump() +
            ": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""));
  }
  const json& ports = at(spec, "ports");
  const bool headless = at(spec, "clusterIP") == "None";
  if ((!ports.is_array() || ports.empty()) && type != "ExternalName" && !headless) {
    errs.push_back(kube::fieldRequired("spec.ports"));
  }
  if (!ports.is_array()) return;
  std::set<std::string> names;
  for (size_t i = 0; i < ports.size(); ++i) {
    const json& p = ports[i];
    const std::string path = "spec.ports[" + std::to_string(i) + "]";
    const std::string name = p.is_object() ? str(p, "name") : "";
    if (name.empty() && ports.size() > 1) errs.push_back(kube::fieldRequired(path + ".name"));
    if (!name.empty()) {
      for (const auto& why : kube::isDNS1123Label(name)) {
        errs.push_back(kube::fieldInvalid(path + ".name", json(name).dump() + ": " + why));
      }
      if (!names.insert(name).second) errs.push_back(kube::fieldDuplicate(path + ".name", json(name).dump()));
    }
    const json& port = at(p, "port");
    if (port.is_null()) {
      errs.push_back(kube::fieldRequired(path + ".port"));
    } else if (port.is_number_integer() && (port.get<int64_t>() < 1 || port.get<int64_t>() > 65535)) {
      errs.push_back(
          kube::fieldInvalid(path + ".port", port.dump() + ": must be between 1 and 65535, inclusive"));
    }
    const json& protocol = at(p, "protocol");
    if (protocol.is_string() && protocol != "TCP" && protocol != "UDP" && protocol != "SCTP") {
      errs.push_back(kube::fieldNotSupported(
          path + ".protocol", protocol.dump() + ": supported values: \"SCTP\", \"TCP\", \"UDP\""));
    }
  }
}

}  // namespace

std::string typeProblem(const std::string& kind, const json& obj) {
  for (const auto& f : kTypedFields) {
    if (*f.kind != '\0' && kind != f.kind) continue;
    std::string problem;
    eachAt(obj, f.path, [&](const json& v) {
      if (problem.empty()) problem = valueProblem(v, f);
    });
    if (!problem.empty()) return problem;
  }
  return "";
}

std::string nameProblem(const std::string& kind, const std::string& name) {
  std::vector<std::string> problems;
  if (kind == "Namespace") {
    problems = kube::isDNS1123Label(name);
  } else if (kind == "Service") {
    problems = kube::isDNS1035Label(name);
  } else if (kind == "Role" || kind == "ClusterRole" || kind == "RoleBinding" ||
             kind == "ClusterRoleBinding") {
    problems = kube::isValidPathSegmentName(name);
  } else {
    problems = kube::isDNS1123Subdomain(name);
  }
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

std::vector<FieldError> validateObject(const std::string& kind, bool custom, const json& obj,
                                       const json* old) {
  std::vector<FieldError> errs;
  const json& meta = at(obj, "metadata");
  const std::string name = str(meta.is_object() ? meta : json::object(), "name");
  if (name.empty()) {
    errs.push_back(kube::fieldRequired("metadata.name", "name or generateName is required"));
  } else if (auto why = nameProblem(custom ? "" : kind, name);
             !why.empty()) {  // a CR's kind may be "Service"
    errs.push_back(kube::fieldInvalid("metadata.name", json(name).dump() + ": " + why));
  }
  append(errs, kube::validateLabels(at(meta, "labels"), "metadata.labels"));
  append(errs, kube::validateAnnotations(at(meta, "annotations"), "metadata.annotations"));
  if (!at(meta, "finalizers").is_null() && !at(meta, "finalizers").is_array()) {
    errs.push_back(kube::fieldInvalid("metadata.finalizers", "must be a list of strings"));
  }
  if (custom) return errs;
  if (kind == "Deployment" || kind == "ReplicaSet" || kind == "StatefulSet") {
    workloadSpec(errs, kind, obj, old);
  }
  for (auto& e : workloadFieldErrors(kind, obj)) errs.push_back(std::move(e));
  if (kind == "ConfigMap") keyedData(errs, obj, {"data", "binaryData"}, false);
  if (kind == "Secret") keyedData(errs, obj, {"data", "stringData"}, true);
  if (kind == "Service") serviceSpec(errs, obj);
  if (kind == "Job") {
    for (const char* f : {"parallelism", "completions", "backoffLimit", "activeDeadlineSeconds"}) {
      nonNegative(errs, at(obj, "spec"), f, "spec");
    }
  }
  return errs;
}

bool selectorMatchesTemplate(const json& workload) {
  const json& spec = at(workload, "spec");
  const json& selector = at(spec, "selector");
  if (!selector.is_object()) return false;
  auto query = labelSelectorQuery(selector);
  if (!query || query->empty()) return false;
  auto parsed = kube::LabelSelector::parse(*query);
  if (!parsed) return false;
  std::map<std::string, std::string> labels;
  const json& templateLabels = at(at(at(spec, "template"), "metadata"), "labels");
  if (templateLabels.is_object()) {
    for (const auto& [k, v] : templateLabels.items()) labels[k] = v.is_string() ? v.get<std::string>() : "";
  }
  return parsed->matches(labels);
}

}  // namespace sluice::apiserver
