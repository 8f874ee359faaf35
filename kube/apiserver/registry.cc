// Object semantics of the embedded API server (the real server's generic registry and strategies, cut to
// what kubectl and controllers rely on), over the SQLite log in store.h.
#include "kube/apiserver/registry.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <shared_mutex>

#include "base/base64.h"
#include "base/time.h"
#include "kube/apiserver/patch_body.h"
#include "kube/apiserver/validation.h"
#include "kube/apiserver/workload_defaults.h"
#include "kube/json_depth.h"
#include "kube/names.h"
#include "kube/selectors.h"

namespace sluice::apiserver {
namespace {

using nlohmann::json;

constexpr int kUpdateAttempts = 16;

ResourceType builtin(std::string group, std::string version, std::string resource, std::string singular,
                     std::string kind, bool namespaced, std::vector<std::string> shortNames = {},
                     std::vector<std::string> categories = {}, bool status = false, bool scale = false,
                     bool generation = false) {
  ResourceType t;
  t.group = std::move(group);
  t.version = std::move(version);
  t.resource = std::move(resource);
  t.singular = std::move(singular);
  t.kind = std::move(kind);
  t.namespaced = namespaced;
  t.shortNames = std::move(shortNames);
  t.categories = std::move(categories);
  t.statusSubresource = status;
  t.scaleSubresource = scale;
  t.tracksGeneration = generation;
  return t;
}

std::vector<ResourceType> builtinTypes() {
  std::vector<ResourceType> t = {
      builtin("", "v1", "namespaces", "namespace", "Namespace", false, {"ns"}, {}, true),
      builtin("", "v1", "configmaps", "configmap", "ConfigMap", true, {"cm"}),
      builtin("", "v1", "secrets", "secret", "Secret", true),
      builtin("", "v1", "services", "service", "Service", true, {"svc"}, {"all"}, true),
      builtin("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, {"sa"}),
      builtin("", "v1", "events", "event", "Event", true, {"ev"}),
      builtin("", "v1", "pods", "pod", "Pod", true, {"po"}, {"all"}, true),
      builtin("apps", "v1", "deployments", "deployment", "Deployment", true, {"deploy"}, {"all"}, true, true,
              true),
      builtin("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, {"rs"}, {"all"}, true, true,
              true),
      builtin("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, {"sts"}, {"all"}, true, true,
              true),
      builtin("batch", "v1", "jobs", "job", "Job", true, {}, {"all"}, true, false, true),
      builtin("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, {"ing"}, {}, true, false,
              true),
      builtin("networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", false),
      builtin("coordination.k8s.io", "v1", "leases", "lease", "Lease", true),
      builtin("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true),
      builtin("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true),
      builtin("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false),
      builtin("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding",
              "ClusterRoleBinding", false),
      builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
              "CustomResourceDefinition", false, {"crd", "crds"}, {"api-extensions"}, true, false, true),
  };
  const std::map<std::string, std::vector<std::string>> fields = {
      {"events",
       {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
        "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
        "reportingComponent", "source.component", "type"}},
      {"pods",
       {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "status.phase", "status.podIP", "status.nominatedNodeName"}},
      {"secrets", {"type"}},
      {"namespaces", {"status.phase"}},
      {"replicasets", {"status.replicas"}},
      {"jobs", {"status.successful"}},
  };
  for (auto& type : t) {
    if (auto it = fields.find(type.resource); it != fields.end()) type.selectableFields = it->second;
    if (type.resource == "leases") type.unconditionalUpdate = false;
    if (type.scaleSubresource) type.labelSelectorPath = ".status.selector";
  }
  return t;
}

std::vector<std::string> stringList(const json& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const auto& e : v) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

std::string str(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The types a CRD serves, one per served version.
std::vector<ResourceType> crdTypes(const json& crd) {
  std::vector<ResourceType> out;
  const json spec = crd.value("spec", json::object());
  const json names = spec.value("names", json::object());
  for (const auto& v : spec.value("versions", json::array())) {
    if (!v.is_object() || !v.value("served", false)) continue;
    ResourceType t;
    t.group = str(spec, "group");
    t.version = str(v, "name");
    t.resource = str(names, "plural");
    t.singular = str(names, "singular");
    if (t.singular.empty()) {
      t.singular = str(names, "kind");
      std::transform(t.singular.begin(), t.singular.end(), t.singular.begin(), ::tolower);
    }
    t.kind = str(names, "kind");
    t.namespaced = str(spec, "scope") != "Cluster";
    t.shortNames = stringList(names.value("shortNames", json::array()));
    t.categories = stringList(names.value("categories", json::array()));
    const json sub = v.value("subresources", json::object());
    t.statusSubresource = sub.contains("status");
    if (sub.contains("scale") && sub["scale"].is_object()) {
      t.scaleSubresource = true;
      t.specReplicasPath = sub["scale"].value("specReplicasPath", ".spec.replicas");
      t.statusReplicasPath = sub["scale"].value("statusReplicasPath", ".status.replicas");
      t.labelSelectorPath = sub["scale"].value("labelSelectorPath", "");
    }
    t.tracksGeneration = true;
    t.custom = true;
    t.unconditionalUpdate = false;
    const json schema = v.value("schema", json::object()).value("openAPIV3Schema", json());
    if (schema.is_object()) {
      auto compiled = compileSchema(schema);
      if (compiled.ok()) t.schema = std::make_shared<const CompiledSchema>(std::move(compiled).value());
    }
    for (const auto& f : v.value("selectableFields", json::array())) {
      std::string path = f.is_object() ? str(f, "jsonPath") : "";
      if (!path.empty() && path[0] == '.') t.selectableFields.push_back(path.substr(1));
    }
    if (v.contains("additionalPrinterColumns") && v["additionalPrinterColumns"].is_array()) {
      t.printerColumns = v["additionalPrinterColumns"];
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::string newUid() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = 0;
  uint64_t b = 0;
  {
    std::lock_guard lock(mu);
    a = rng();
    b = rng();
  }
  a = (a & 0xffffffffffff0fffULL) | 0x4000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string randomSuffix() {
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  static std::mutex mu;
  static std::mt19937 rng{std::random_device{}()};
  std::lock_guard lock(mu);
  std::string s;
  for (int i = 0; i < 5; ++i) s += alphabet[rng() % (sizeof alphabet - 1)];
  return s;
}

// Parses a resourceVersion; nullopt when it is not a decimal number.
std::optional<int64_t> parseRv(const std::string& rv) {
  if (rv.empty() || rv.size() > 18) return std::nullopt;
  int64_t n = 0;
  for (char c : rv) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

json metadataOf(const json& obj) {
  auto it = obj.find("metadata");
  return it != obj.end() && it->is_object() ? *it : json::object();
}

// The object without metadata and (when status is a subresource) status: what generation tracks.
json specPart(const json& obj, bool withoutStatus) {
  json copy = obj;
  copy.erase("metadata");
  if (withoutStatus) copy.erase("status");
  copy.erase("apiVersion");
  copy.erase("kind");
  return copy;
}

// Reads a dotted JSON path (".spec.replicas") from an object; null when absent.
json readPath(const json& obj, const std::string& path) {
  const json* cur = &obj;
  std::size_t start = path.empty() || path[0] != '.' ? 0 : 1;
  while (start < path.size()) {
    auto dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object() || !cur->contains(part)) return nullptr;
    cur = &(*cur)[part];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return *cur;
}

void writePath(json& obj, const std::string& path, const json& value) {
  json* cur = &obj;
  std::size_t start = path.empty() || path[0] != '.' ? 0 : 1;
  while (start < path.size()) {
    auto dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object()) *cur = json::object();
    if (dot == std::string::npos) {
      (*cur)[part] = value;
      return;
    }
    cur = &(*cur)[part];
    start = dot + 1;
  }
}

// A Namespace's spec.finalizers (the namespace controller's "kubernetes" and any other's).
std::vector<std::string> specFinalizers(const json& ns) {
  auto spec = ns.find("spec");
  if (spec == ns.end() || !spec->is_object()) return {};
  return stringList(spec->value("finalizers", json::array()));
}

// Sets `to`'s spec.finalizers to `from`'s (absent if absent).
void copySpecFinalizers(const json& from, json& to) {
  json fins = readPath(from, ".spec.finalizers");
  if (!to.contains("spec") || !to["spec"].is_object()) to["spec"] = json::object();
  if (fins.is_array()) {
    to["spec"]["finalizers"] = fins;
  } else {
    to["spec"].erase("finalizers");
  }
}

// Namespaces the real server's lifecycle admission refuses to delete.
bool immortalNamespace(const std::string& name) {
  return name == "default" || name == "kube-system" || name == "kube-public";
}

// Checks DeleteOptions as the real server does (a 422 on DeleteOptions.meta.k8s.io) and folds the
// deprecated orphanDependents into the policy.
ApiResult<std::string> effectivePolicy(const DeleteOptions& options) {
  const std::string& p = options.propagationPolicy;
  if (options.orphanDependents && !p.empty()) {
    return invalid(
        "DeleteOptions", "meta.k8s.io", "",
        {kube::fieldInvalid("propagationPolicy",
                            "\"" + p + "\": orphanDependents and deletionPropagation cannot be both set")});
  }
  if (!p.empty() && p != "Foreground" && p != "Background" && p != "Orphan") {
    return invalid(
        "DeleteOptions", "meta.k8s.io", "",
        {kube::fieldNotSupported(
            "propagationPolicy",
            "\"" + p + "\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"")});
  }
  if (options.orphanDependents) return std::string(*options.orphanDependents ? "Orphan" : "Background");
  return p;
}

// The revision a list reads at, from its resourceVersion and resourceVersionMatch, checked as the real
// server's ValidateListOptions and storage do: 0 for the newest state, N for Exact.
ApiResult<int64_t> listRevision(const ListOptions& options, int64_t current) {
  const std::string& rv = options.resourceVersion;
  const std::string& match = options.resourceVersionMatch;
  std::vector<FieldError> errs;
  if (!match.empty()) {
    if (rv.empty()) {
      errs.push_back(kube::fieldForbidden(
          "resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided"));
    }
    if (!options.continueToken.empty()) {
      errs.push_back(kube::fieldForbidden("resourceVersionMatch",
                                          "resourceVersionMatch is forbidden when continue is provided"));
    }
    if (match != "Exact" && match != "NotOlderThan") {
      errs.push_back(kube::fieldNotSupported(
          "resourceVersionMatch", json(match).dump(-1, ' ', false, json::error_handler_t::replace) +
                                      ": supported values: \"Exact\", \"NotOlderThan\", \"\""));
    }
    if (match == "Exact" && rv == "0") {
      errs.push_back(kube::fieldForbidden(
          "resourceVersionMatch", "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""));
    }
  }
  if (!errs.empty()) return invalid("ListOptions", "meta.k8s.io", "", errs);
  if (rv.empty()) return int64_t{0};
  auto n = parseRv(rv);
  if (!n) return badRequest("invalid resource version: " + rv);
  // Never the current data as if it were the state at a revision that does not exist yet.
  if (*n > current) return tooLargeResourceVersion(*n, current);
  return match == "Exact" ? *n : int64_t{0};
}

std::set<std::string> selectable(const ResourceType& t) {
  std::set<std::string> out = {"metadata.name", "metadata.namespace"};
  out.insert(t.selectableFields.begin(), t.selectableFields.end());
  return out;
}

}  // namespace

std::vector<std::string> finalizersOnDelete(const std::vector<std::string>& finalizers,
                                            const std::string& policy) {
  if (policy.empty()) return finalizers;
  std::vector<std::string> out;
  for (const auto& f : finalizers) {
    if (f != kOrphanFinalizer && f != kForegroundDeletionFinalizer) out.push_back(f);
  }
  if (policy == "Orphan") out.push_back(kOrphanFinalizer);
  if (policy == "Foreground") out.push_back(kForegroundDeletionFinalizer);
  return out;
}

struct Registry::Impl {
  Store& store;
  mutable std::shared_mutex typesMu;
  std::vector<std::shared_ptr<const ResourceType>> types;
  int64_t typesGen = 0;
  // Tells registries in one process apart in the per-thread decode cache below (two stores can hold the
  // same key at the same revision with different bytes; an address can be reused).
  const uint64_t instance = nextInstance();

  const Clock& clock;
  Impl(Store& s, const Clock& c) : store(s), clock(c) {}

  // metav1.Time now, on the registry's clock.
  std::string nowRfc3339() const { return formatRfc3339(toSeconds(clock.wallNow())); }

  static uint64_t nextInstance() {
    static std::atomic<uint64_t> counter{0};
    return ++counter;
  }

  std::shared_ptr<const ResourceType> findType(const std::string& group, const std::string& version,
                                               const std::string& resource) const {
    std::shared_lock lock(typesMu);
    for (const auto& t : types) {
      if (t->group == group && t->version == version && t->resource == resource) return t;
    }
    return nullptr;
  }

  // Rebuilds the type list from the built-ins and the stored CRDs.
  void rebuildTypes() {
    std::vector<std::shared_ptr<const ResourceType>> next;
    for (auto& t : builtinTypes()) next.push_back(std::make_shared<const ResourceType>(std::move(t)));
    auto crds = store.list("apiextensions.k8s.io/customresourcedefinitions/");
    if (crds.ok()) {
      for (const auto& row : crds->items) {
        json crd = json::parse(row.value, nullptr, false);
        if (crd.is_discarded()) continue;
        if (crd.contains("metadata") && crd["metadata"].contains("deletionTimestamp")) continue;
        for (auto& t : crdTypes(crd)) next.push_back(std::make_shared<const ResourceType>(std::move(t)));
      }
    }
    std::unique_lock lock(typesMu);
    types = std::move(next);
    ++typesGen;
  }

  static std::string key(const ResourceType& t, const std::string& ns, const std::string& name) {
    return t.namespaced ? t.keyPrefix() + ns + "/" + name : t.keyPrefix() + name;
  }

  static json decode(const ResourceType& t, const std::string& value, int64_t rev) {
    json obj = json::parse(value, nullptr, false);
    if (obj.is_discarded() || !obj.is_object()) obj = json::object();
    obj["apiVersion"] = t.apiVersion();
    obj["kind"] = t.kind;
    obj["metadata"]["resourceVersion"] = std::to_string(rev);
    return obj;
  }

  // decode() for a store event, shared by every watch of the same type version: the store hands one event
  // to all its watchers in turn on the writing thread, so the last decoding is kept there, keyed by what
  // determines it (the key and revision fix the bytes). With a hundred watchers a write is parsed once,
  // not a hundred times, while later writes wait.
  static const json& decodeEvent(uint64_t instance, const ResourceType& t, const StoreEvent& e,
                                 bool previous) {
    struct Entry {
      uint64_t instance = 0;
      std::string key;
      int64_t revision = -1;
      std::string apiVersion;
      json obj;
    };
    thread_local Entry cached[2];
    Entry& c = cached[previous ? 1 : 0];
    std::string apiVersion = t.apiVersion();
    if (c.instance != instance || c.revision != e.revision || c.key != e.key || c.apiVersion != apiVersion) {
      c.obj = decode(t, previous ? *e.previous : e.value, e.revision);
      c.instance = instance;
      c.key = e.key;
      c.revision = e.revision;
      c.apiVersion = std::move(apiVersion);
    }
    return c.obj;
  }

  static std::string encode(json obj) {
    if (obj.contains("metadata") && obj["metadata"].is_object()) obj["metadata"].erase("resourceVersion");
    return obj.dump();
  }

  static ApiError fromStore(const StoreError& e, const ResourceType& t, const std::string& name) {
    switch (e.code) {
      case StoreErrc::kNotFound:
        return notFound(t.resource, t.group, name);
      case StoreErrc::kAlreadyExists:
        return alreadyExists(t.resource, t.group, name);
      case StoreErrc::kConflict:
        return conflict(t.resource, t.group, name);
      case StoreErrc::kCompacted:
        return expired(e.message);
      case StoreErrc::kIo:
        break;
    }
    return internalError(e.message);
  }

  // Checks of the object's own fields shared by create and update: kind and apiVersion, name.
  static std::optional<ApiError> checkTypeMeta(const ResourceType& t, const json& body) {
    if (!body.is_object()) return badRequest("the body of the request must be a JSON object");
    std::string apiVersion = str(body, "apiVersion");
    std::string kind = str(body, "kind");
    if (!apiVersion.empty() && apiVersion != t.apiVersion()) {
      return badRequest("the API version in the data (" + apiVersion +
                        ") does not match the expected API version (" + t.apiVersion() + ")");
    }
    if (!kind.empty() && kind != t.kind) {
      return badRequest("the kind in the data (" + kind + ") does not match the expected kind (" + t.kind +
                        ")");
    }
    if (body.contains("metadata") && !body["metadata"].is_object()) {
      return badRequest("metadata must be an object");
    }
    return std::nullopt;
  }

  // The real server decodes a body into its Go type before anything else: a field of the wrong JSON
  // type is a 400 for a create or update, and a 422 on `patch` when a patch produced it.
  static std::optional<ApiError> checkTypes(const ResourceType& t, const json& obj, bool isBody,
                                            const std::string& name = "") {
    if (t.custom) return std::nullopt;
    std::string problem = typeProblem(t.kind, obj);
    if (problem.empty()) return std::nullopt;
    if (!isBody) return invalid(t.kind, t.group, name, {kube::fieldInvalid("patch", problem)});
    return badRequest(t.kind + " in version \"" + t.version + "\" cannot be handled as a " + t.kind + ": " +
                      problem);
  }

  // The real server's validation: metadata and the kind's rules (validation.h), then a CRD's own.
  std::vector<FieldError> validate(const ResourceType& t, const json& obj, const json* old) const {
    std::vector<FieldError> errs = validateObject(t.kind, t.custom, obj, old);
    const std::string name = str(metadataOf(obj), "name");
    if (t.kind == "CustomResourceDefinition") {
      json spec = obj.value("spec", json::object());
      json names = spec.value("names", json::object());
      std::string group = str(spec, "group");
      std::string plural = str(names, "plural");
      if (group.empty()) errs.push_back(kube::fieldRequired("spec.group"));
      if (plural.empty()) errs.push_back(kube::fieldRequired("spec.names.plural"));
      if (str(names, "kind").empty()) errs.push_back(kube::fieldRequired("spec.names.kind"));
      std::string scope = str(spec, "scope");
      if (scope != "Namespaced" && scope != "Cluster") {
        errs.push_back(kube::fieldNotSupported(
            "spec.scope", "\"" + scope + "\": supported values: \"Cluster\", \"Namespaced\""));
      }
      if (!group.empty() && !plural.empty() && name != plural + "." + group) {
        errs.push_back(kube::fieldInvalid("metadata.name",
                                          "\"" + name + "\": must be spec.names.plural+\".\"+spec.group"));
      }
      int storage = 0;
      const json versions = spec.value("versions", json::array());
      for (std::size_t i = 0; versions.is_array() && i < versions.size(); ++i) {
        const json& v = versions[i];
        if (!v.is_object() || !v.contains("schema")) continue;
        const json schema = v["schema"].is_object() ? v["schema"].value("openAPIV3Schema", json()) : json();
        if (!schema.is_object()) continue;
        auto compiled = compileSchema(schema);
        if (!compiled.ok()) {
          errs.push_back(
              kube::fieldInvalid("spec.versions[" + std::to_string(i) + "].schema", compiled.error()));
        }
      }
      for (const auto& v : versions) storage += v.is_object() && v.value("storage", false) ? 1 : 0;
      if (!versions.is_array() || versions.empty()) {
        errs.push_back(kube::fieldInvalid("spec.versions", "must have at least one version"));
      } else if (storage != 1) {
        errs.push_back(
            kube::fieldInvalid("spec.versions", "must have exactly one version marked as storage version"));
      }
    }
    return errs;
  }

  // Prunes, defaults and validates a custom resource against its version's schema.
  static std::optional<ApiError> checkSchema(const ResourceType& t, json& obj, const WriteOptions& options) {
    if (!t.schema) return std::nullopt;
    auto outcome = validateAndDefault(*t.schema, obj, options.fieldValidation);
    if (!outcome.strictError.empty()) return badRequest(outcome.strictError);
    if (!outcome.errors.empty())
      return invalid(t.kind, t.group, str(metadataOf(obj), "name"), outcome.errors);
    return std::nullopt;
  }

  // What the server sets on a CRD it accepts: Established and NamesAccepted, accepted names, stored versions.
  void setCrdStatus(json& crd) const {
    json spec = crd.value("spec", json::object());
    std::string now = nowRfc3339();
    json stored = json::array();
    for (const auto& v : spec.value("versions", json::array())) {
      if (v.is_object() && v.value("storage", false)) stored.push_back(v.value("name", ""));
    }
    crd["status"] = {{"acceptedNames", spec.value("names", json::object())},
                     {"storedVersions", stored},
                     {"conditions", json::array({{{"type", "NamesAccepted"},
                                                  {"status", "True"},
                                                  {"lastTransitionTime", now},
                                                  {"reason", "NoConflicts"},
                                                  {"message", "no conflicts found"}},
                                                 {{"type", "Established"},
                                                  {"status", "True"},
                                                  {"lastTransitionTime", now},
                                                  {"reason", "InitialNamesAccepted"},
                                                  {"message", "the initial names have been accepted"}}})}};
  }

  // Kind-specific fields set on create.
  void prepareForCreate(const ResourceType& t, json& obj) const {
    if (t.kind == "Namespace") {
      obj["status"] = {{"phase", "Active"}};
      // The namespace controller's finalizer, so that deletion empties the namespace before it goes.
      auto fins = specFinalizers(obj);
      if (std::find(fins.begin(), fins.end(), kNamespaceFinalizer) == fins.end()) {
        if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = json::object();
        fins.push_back(kNamespaceFinalizer);
        obj["spec"]["finalizers"] = fins;
      }
    } else if (t.statusSubresource) {
      obj.erase("status");
    }
    if (t.kind == "CustomResourceDefinition") setCrdStatus(obj);
    if (t.kind == "Deployment" || t.kind == "ReplicaSet" || t.kind == "StatefulSet") {
      if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = json::object();
      if (!obj["spec"].contains("replicas")) obj["spec"]["replicas"] = 1;
    }
    applyWorkloadDefaults(t.kind, obj);
  }

  // The next state of an object from its current one and what the request asked for.
  json prepareForUpdate(const ResourceType& t, Subresource sub, const json& current, json desired) const {
    json out;
    if (sub == Subresource::kStatus) {
      out = current;
      if (desired.contains("status")) {
        out["status"] = desired["status"];
      } else {
        out.erase("status");
      }
      if (t.kind == "Deployment")
        out["metadata"]["labels"] = metadataOf(current).value("labels", json::object());
    } else if (sub == Subresource::kFinalize) {
      // /finalize takes spec.finalizers from the request and nothing else.
      out = current;
      copySpecFinalizers(desired, out);
    } else {
      out = std::move(desired);
      if (t.statusSubresource) {
        if (current.contains("status")) {
          out["status"] = current["status"];
        } else {
          out.erase("status");
        }
      }
      if (t.kind == "Namespace") {
        // Only /finalize changes a Namespace's spec.finalizers.
        copySpecFinalizers(current, out);
      }
    }
    json& meta = out["metadata"];
    if (!meta.is_object()) meta = json::object();
    const json curMeta = metadataOf(current);
    for (const char* keep : {"name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                             "deletionGracePeriodSeconds", "generation"}) {
      if (curMeta.contains(keep)) {
        meta[keep] = curMeta[keep];
      } else {
        meta.erase(keep);
      }
    }
    meta.erase("generateName");
    if (curMeta.contains("generateName")) meta["generateName"] = curMeta["generateName"];
    meta.erase("resourceVersion");
    out["apiVersion"] = t.apiVersion();
    out["kind"] = t.kind;
    if (t.tracksGeneration && sub == Subresource::kMain) {
      bool changed = specPart(out, t.statusSubresource) != specPart(current, t.statusSubresource);
      if (changed) meta["generation"] = curMeta.value("generation", int64_t{0}) + 1;
    }
    if (t.kind == "CustomResourceDefinition" && sub == Subresource::kMain) setCrdStatus(out);
    if (sub == Subresource::kMain) applyWorkloadDefaults(t.kind, out);
    return out;
  }

  static bool sameObject(json a, json b) {
    if (a.contains("metadata")) a["metadata"].erase("resourceVersion");
    if (b.contains("metadata")) b["metadata"].erase("resourceVersion");
    return a == b;
  }

  void afterWrite(const ResourceType& t) {
    if (t.kind == "CustomResourceDefinition") rebuildTypes();
  }

  // Read-modify-write with compare-and-swap, retried while other writers get in between (the real
  // server's GuaranteedUpdate). `transform` turns the current object into the desired one.
  ApiResult<json> guaranteedUpdate(const ResourceType& t, const std::string& ns, const std::string& name,
                                   Subresource sub, const WriteOptions& options, bool isPut,
                                   const std::function<ApiResult<json>(const json&)>& transform) {
    const std::string k = key(t, ns, name);
    for (int attempt = 0; attempt < kUpdateAttempts; ++attempt) {
      auto row = store.get(k);
      if (!row) return fromStore(row.error(), t, name);
      json current = decode(t, row->value, row->revision);
      auto desired = transform(current);
      if (!desired) return desired.error();
      // A JSON patch can add a deep value at a deep path: the result is held to the request-body limit.
      if (kube::nestedDeeperThan(*desired, kube::kMaxJsonNestingDepth)) {
        return invalid(
            t.kind, t.group, name,
            {kube::fieldInvalid("patch", "the patched object nests deeper than " +
                                             std::to_string(kube::kMaxJsonNestingDepth) + " levels")});
      }
      if (auto bad = checkTypeMeta(t, *desired)) return *bad;
      if (auto bad = checkTypes(t, *desired, isPut, name)) return *bad;
      json dmeta = metadataOf(*desired);
      std::string bodyName = str(dmeta, "name");
      if (!bodyName.empty() && bodyName != name) {
        std::string message = "the name of the object (" + bodyName;
        message += ") does not match the name on the URL (";
        message += name;
        message += ")";
        return badRequest(message);
      }
      std::string bodyNs = str(dmeta, "namespace");
      if (t.namespaced && !bodyNs.empty() && bodyNs != ns) {
        return badRequest(
            "the namespace of the provided object does not match the namespace sent on the request");
      }
      std::string rv = str(dmeta, "resourceVersion");
      if (!rv.empty() && rv != std::to_string(row->revision)) return conflict(t.resource, t.group, name);
      if (rv.empty() && isPut && !t.unconditionalUpdate) {
        return invalid(
            t.kind, t.group, name,
            {kube::fieldInvalid("metadata.resourceVersion", "0: must be specified for an update")});
      }
      json next = prepareForUpdate(t, sub, current, std::move(*desired));
      if (auto errs = validate(t, next, &current); !errs.empty()) return invalid(t.kind, t.group, name, errs);
      if (auto bad = checkSchema(t, next, options)) return *bad;
      const json curMeta = metadataOf(current);
      const json nextMeta = metadataOf(next);
      if (curMeta.contains("deletionTimestamp")) {
        std::set<std::string> had;
        for (const auto& f : stringList(curMeta.value("finalizers", json::array()))) had.insert(f);
        for (const auto& f : stringList(nextMeta.value("finalizers", json::array()))) {
          if (had.count(f) == 0) {
            return invalid(t.kind, t.group, name,
                           {kube::fieldForbidden(
                               "metadata.finalizers",
                               "no new finalizers can be added if the object is being deleted, found new "
                               "finalizers [\"" +
                                   f + "\"]")});
          }
        }
      }
      if (sameObject(next, current)) return current;
      bool finalize = nextMeta.contains("deletionTimestamp") &&
                      stringList(nextMeta.value("finalizers", json::array())).empty() &&
                      (t.kind != "Namespace" || specFinalizers(next).empty());
      if (options.dryRun) {
        next["metadata"]["resourceVersion"] = std::to_string(row->revision);
        return next;
      }
      if (finalize) {
        auto gone = store.remove(k, row->revision);
        if (!gone) {
          if (gone.error().code == StoreErrc::kConflict && (rv.empty() || !isPut)) continue;
          return fromStore(gone.error(), t, name);
        }
        afterWrite(t);
        next["metadata"]["resourceVersion"] = std::to_string(gone->revision);
        return next;
      }
      auto written = store.update(k, encode(next), row->revision);
      if (!written) {
        // A patched object carries the resourceVersion it was read at, so a concurrent write is retried
        // on the new state; the next attempt finds a resourceVersion the patch itself set stale.
        if (written.error().code == StoreErrc::kConflict && (rv.empty() || !isPut)) continue;
        return fromStore(written.error(), t, name);
      }
      afterWrite(t);
      next["metadata"]["resourceVersion"] = std::to_string(written->revision);
      return next;
    }
    return conflict(t.resource, t.group, name);
  }

  // A write through /scale: `toScale` turns the current Scale into the desired one, whose spec.replicas
  // lands at the type's specReplicasPath. Returns the resulting Scale.
  ApiResult<json> scaleUpdate(const ResourceType& t, const std::string& ns, const std::string& name,
                              const WriteOptions& options,
                              const std::function<ApiResult<json>(const json&)>& toScale) {
    if (!t.scaleSubresource) return notFound(t.resource, t.group, name);
    auto result = guaranteedUpdate(
        t, ns, name, Subresource::kMain, options, false, [&](const json& current) -> ApiResult<json> {
          auto scale = toScale(scaleOf(t, current));
          if (!scale) return scale.error();
          json replicas = scale->is_object() ? readPath(*scale, ".spec.replicas") : json();
          if (!replicas.is_null() && (!replicas.is_number_integer() || replicas.get<int64_t>() > INT32_MAX ||
                                      replicas.get<int64_t>() < INT32_MIN)) {
            // As the real server's decoding of a Scale: spec.replicas is an int32.
            return badRequest(
                "Scale in version \"v1\" cannot be handled as a Scale: json: cannot unmarshal " +
                std::string(replicas.is_string()   ? "string"
                            : replicas.is_number() ? "number " + replicas.dump()
                                                   : replicas.type_name()) +
                " into Go struct field ScaleSpec.spec.replicas of type int32");
          }
          if (!replicas.is_number_integer() || replicas.get<int64_t>() < 0) {
            return invalid("Scale", "autoscaling", name,
                           {kube::fieldInvalid("spec.replicas",
                                               replicas.dump() + ": must be greater than or equal to 0")});
          }
          json next = current;
          writePath(next, t.specReplicasPath, replicas);
          std::string rv = str(metadataOf(*scale), "resourceVersion");
          if (!rv.empty()) next["metadata"]["resourceVersion"] = rv;
          return next;
        });
    if (!result) return result.error();
    return scaleOf(t, *result);
  }

  static json scaleOf(const ResourceType& t, const json& obj) {
    json meta = metadataOf(obj);
    json scaleMeta = json::object();
    for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
      if (meta.contains(k)) scaleMeta[k] = meta[k];
    }
    json replicas = readPath(obj, t.specReplicasPath);
    json status = {{"replicas", readPath(obj, t.statusReplicasPath).is_number()
                                    ? readPath(obj, t.statusReplicasPath)
                                    : json(0)}};
    if (!t.labelSelectorPath.empty()) {
      json sel = readPath(obj, t.labelSelectorPath);
      if (sel.is_string()) status["selector"] = sel;
    }
    if (t.kind == "Deployment" || t.kind == "ReplicaSet" || t.kind == "StatefulSet") {
      // Built-ins publish their selector as a string in the Scale.
      json ml = readPath(obj, ".spec.selector.matchLabels");
      if (ml.is_object()) {
        std::string s;
        for (const auto& [k, v] : ml.items())
          s += (s.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
        status["selector"] = s;
      }
    }
    return {{"kind", "Scale"},
            {"apiVersion", "autoscaling/v1"},
            {"metadata", scaleMeta},
            {"spec", {{"replicas", replicas.is_number() ? replicas : json(0)}}},
            {"status", status}};
  }
};

Registry::Registry(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Registry::~Registry() = default;

ApiResult<std::unique_ptr<Registry>> Registry::open(Store& store, const Clock& clock) {
  auto impl = std::make_unique<Impl>(store, clock);
  impl->rebuildTypes();
  std::unique_ptr<Registry> reg(new Registry(std::move(impl)));
  auto nsType = reg->find("", "v1", "namespaces");
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    if (store.get(std::string("core/namespaces/") + ns).ok()) continue;
    auto created = reg->create(*nsType, "", {{"metadata", {{"name", ns}}}}, {});
    if (!created) return created.error();
  }
  return reg;
}

std::shared_ptr<const ResourceType> Registry::find(const std::string& group, const std::string& version,
                                                   const std::string& resource) const {
  return impl_->findType(group, version, resource);
}

std::vector<std::shared_ptr<const ResourceType>> Registry::types() const {
  std::shared_lock lock(impl_->typesMu);
  return impl_->types;
}

int64_t Registry::typesGeneration() const {
  std::shared_lock lock(impl_->typesMu);
  return impl_->typesGen;
}

int64_t Registry::currentRevision() const { return impl_->store.currentRevision(); }

const Clock& Registry::clock() const { return impl_->clock; }

ApiResult<json> Registry::get(const ResourceType& type, const std::string& ns,
                              const std::string& name) const {
  auto row = impl_->store.get(Impl::key(type, ns, name));
  if (!row) return Impl::fromStore(row.error(), type, name);
  return Impl::decode(type, row->value, row->revision);
}

ApiResult<json> Registry::list(const ResourceType& type, const std::string& ns,
                               const ListOptions& options) const {
  auto labels = kube::LabelSelector::parse(options.labelSelector);
  if (!labels) return badRequest("unable to parse requirement: " + labels.error());
  auto fields = kube::FieldSelector::parse(options.fieldSelector, selectable(type));
  if (!fields) return badRequest(fields.error());
  std::string prefix = type.keyPrefix() + (type.namespaced && !ns.empty() ? ns + "/" : "");
  auto requested = listRevision(options, impl_->store.currentRevision());
  if (!requested) return requested.error();
  int64_t atRev = *requested;
  const bool exact = atRev != 0;
  std::string startAfter;
  if (!options.continueToken.empty()) {
    auto decoded = sluice::base64Decode(options.continueToken);
    auto colon = decoded ? decoded->find(':') : std::string::npos;
    std::optional<int64_t> rev =
        colon == std::string::npos ? std::nullopt : parseRv(decoded->substr(0, colon));
    if (!rev) return badRequest("continue key is not valid: " + options.continueToken);
    atRev = *rev;
    startAfter = decoded->substr(colon + 1);
    if (startAfter.rfind(prefix, 0) != 0)
      return badRequest("continue key is not valid: it belongs to another list");
  }
  json items = json::array();
  std::string lastKey;
  bool more = false;
  std::size_t limit = options.limit > 0 ? static_cast<std::size_t>(options.limit) : 0;
  int64_t listRev = atRev;
  while (true) {
    auto page = impl_->store.list(prefix, startAfter, limit == 0 ? 0 : limit, atRev);
    if (!page) {
      if (page.error().code == StoreErrc::kCompacted && exact) {
        return expired("The resourceVersion for the provided list is too old.");
      }
      if (page.error().code == StoreErrc::kCompacted) {
        return expired(
            "The provided continue parameter is too old to display a consistent list result. You can start a "
            "new "
            "list without the continue parameter.");
      }
      return Impl::fromStore(page.error(), type, "");
    }
    if (atRev == 0) atRev = page->revision;
    listRev = atRev;
    for (const auto& row : page->items) {
      if (limit != 0 && items.size() == limit) {
        more = true;
        break;
      }
      json obj = Impl::decode(type, row.value, row.revision);
      startAfter = row.key;
      if (!labels->matchesObject(obj) || !fields->matchesObject(obj)) continue;
      items.push_back(std::move(obj));
      lastKey = row.key;
    }
    if (more || !page->more) {
      more = more || (page->more && limit != 0 && items.size() == limit);
      break;
    }
    if (limit != 0 && items.size() == limit) {
      more = true;
      break;
    }
  }
  json meta = {{"resourceVersion", std::to_string(listRev)}};
  if (more) meta["continue"] = sluice::base64Encode(std::to_string(listRev) + ":" + lastKey);
  return json{
      {"kind", type.listKind()}, {"apiVersion", type.apiVersion()}, {"metadata", meta}, {"items", items}};
}

ApiResult<json> Registry::create(const ResourceType& type, const std::string& ns, json body,
                                 const WriteOptions& options) {
  if (auto bad = Impl::checkTypeMeta(type, body)) return *bad;
  if (auto bad = Impl::checkTypes(type, body, true)) return *bad;
  json& meta = body["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (type.namespaced) {
    std::string bodyNs = str(meta, "namespace");
    if (!bodyNs.empty() && bodyNs != ns) {
      return badRequest(
          "the namespace of the provided object does not match the namespace sent on the request");
    }
    meta["namespace"] = ns;
  } else {
    meta.erase("namespace");
  }
  if (!str(meta, "resourceVersion").empty()) {
    return badRequest("resourceVersion should not be set on objects to be created");
  }
  std::string name = str(meta, "name");
  if (name.empty() && !str(meta, "generateName").empty()) {
    name = str(meta, "generateName") + randomSuffix();
    meta["name"] = name;
  }
  body["apiVersion"] = type.apiVersion();
  body["kind"] = type.kind;
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  meta["uid"] = newUid();
  meta["creationTimestamp"] = impl_->nowRfc3339();
  if (type.tracksGeneration) {
    meta["generation"] = 1;
  } else {
    meta.erase("generation");
  }
  impl_->prepareForCreate(type, body);
  if (auto errs = impl_->validate(type, body, nullptr); !errs.empty())
    return invalid(type.kind, type.group, name, errs);
  if (auto bad = Impl::checkSchema(type, body, options)) return *bad;
  if (type.namespaced) {
    auto nsRow = impl_->store.get("core/namespaces/" + ns);
    if (!nsRow) return notFound("namespaces", "", ns);
    json nsObj = json::parse(nsRow->value, nullptr, false);
    if (nsObj.is_object() && metadataOf(nsObj).contains("deletionTimestamp")) {
      ApiError e =
          forbidden(type.resource, type.group, name,
                    "unable to create new content in namespace " + ns + " because it is being terminated");
      e.details["causes"] = json::array({{{"reason", "NamespaceTerminating"},
                                          {"message", "namespace " + ns + " is being terminated"},
                                          {"field", "metadata.namespace"}}});
      return e;
    }
  }
  if (options.dryRun) {
    if (impl_->store.get(Impl::key(type, ns, name)).ok())
      return alreadyExists(type.resource, type.group, name);
    return body;
  }
  auto written = impl_->store.create(Impl::key(type, ns, name), Impl::encode(body));
  if (!written) return Impl::fromStore(written.error(), type, name);
  impl_->afterWrite(type);
  body["metadata"]["resourceVersion"] = std::to_string(written->revision);
  return body;
}

ApiResult<json> Registry::update(const ResourceType& type, const std::string& ns, const std::string& name,
                                 Subresource sub, json body, const WriteOptions& options) {
  if (sub == Subresource::kScale) {
    return impl_->scaleUpdate(type, ns, name, options, [&](const json&) -> ApiResult<json> { return body; });
  }
  if ((sub == Subresource::kStatus && !type.statusSubresource) ||
      (sub == Subresource::kFinalize && type.kind != "Namespace"))
    return notFound(type.resource, type.group, name);
  return impl_->guaranteedUpdate(type, ns, name, sub, options, true,
                                 [&](const json&) -> ApiResult<json> { return body; });
}

ApiResult<json> Registry::patch(const ResourceType& type, const std::string& ns, const std::string& name,
                                Subresource sub, PatchType patchType, const std::string& body,
                                const WriteOptions& options) {
  if (patchType == PatchType::kStrategic && type.custom) {
    return unsupportedMediaType("application/json-patch+json, application/merge-patch+json");
  }
  auto apply = [&](const json& target) -> ApiResult<json> {
    switch (patchType) {
      case PatchType::kMerge:
        return applyMergePatch(target, body);
      case PatchType::kJson:
        return applyJsonPatch(target, body);
      case PatchType::kStrategic:
        return applyStrategicMergePatch(target, body, type.apiVersion(), type.kind);
    }
    return badRequest("unknown patch type");
  };
  if (sub == Subresource::kScale) return impl_->scaleUpdate(type, ns, name, options, apply);
  if ((sub == Subresource::kStatus && !type.statusSubresource) ||
      (sub == Subresource::kFinalize && type.kind != "Namespace"))
    return notFound(type.resource, type.group, name);
  return impl_->guaranteedUpdate(type, ns, name, sub, options, false, apply);
}

ApiResult<json> Registry::getSubresource(const ResourceType& type, const std::string& ns,
                                         const std::string& name, Subresource sub) const {
  if (sub == Subresource::kStatus && !type.statusSubresource)
    return notFound(type.resource, type.group, name);
  if (sub == Subresource::kScale && !type.scaleSubresource) return notFound(type.resource, type.group, name);
  auto obj = get(type, ns, name);
  if (!obj || sub != Subresource::kScale) return obj;
  return Impl::scaleOf(type, *obj);
}

ApiResult<json> Registry::remove(const ResourceType& type, const std::string& ns, const std::string& name,
                                 const DeleteOptions& options) {
  auto policy = effectivePolicy(options);
  if (!policy) return policy.error();
  const bool isNamespace = type.kind == "Namespace";
  if (isNamespace && immortalNamespace(name)) {
    return forbidden(type.resource, type.group, name, "this namespace may not be deleted");
  }
  const std::string k = Impl::key(type, ns, name);
  for (int attempt = 0; attempt < kUpdateAttempts; ++attempt) {
    auto row = impl_->store.get(k);
    if (!row) return Impl::fromStore(row.error(), type, name);
    json current = Impl::decode(type, row->value, row->revision);
    json meta = metadataOf(current);
    if (options.preconditionUid && *options.preconditionUid != str(meta, "uid")) {
      return conflictMessage(type.resource, type.group, name,
                             "Precondition failed: UID in precondition: " + *options.preconditionUid +
                                 ", UID in object meta: " + str(meta, "uid"));
    }
    if (options.preconditionResourceVersion &&
        *options.preconditionResourceVersion != str(meta, "resourceVersion")) {
      return conflictMessage(
          type.resource, type.group, name,
          "Precondition failed: ResourceVersion in precondition: " + *options.preconditionResourceVersion +
              ", ResourceVersion in object meta: " + str(meta, "resourceVersion"));
    }
    const auto had = stringList(meta.value("finalizers", json::array()));
    const auto keep = finalizersOnDelete(had, *policy);
    const bool deleting = meta.contains("deletionTimestamp");
    if (!keep.empty() || (isNamespace && !specFinalizers(current).empty())) {
      // Finalizers keep the object: mark it, and the last finalizer's removal deletes it. A Namespace's
      // spec.finalizers hold it Terminating while the namespace controller empties it.
      if (deleting && keep == had) return current;
      json next = current;
      if (!deleting) {
        next["metadata"]["deletionTimestamp"] = impl_->nowRfc3339();
        if (isNamespace) {
          next["status"]["phase"] = "Terminating";
        } else {
          next["metadata"]["deletionGracePeriodSeconds"] = 0;
          if (meta.value("generation", int64_t{0}) > 0)
            next["metadata"]["generation"] = meta.value("generation", int64_t{0}) + 1;
        }
      }
      if (keep.empty()) {
        next["metadata"].erase("finalizers");
      } else {
        next["metadata"]["finalizers"] = keep;
      }
      if (options.dryRun) return next;
      auto written = impl_->store.update(k, Impl::encode(next), row->revision);
      if (!written) {
        if (written.error().code == StoreErrc::kConflict) continue;
        return Impl::fromStore(written.error(), type, name);
      }
      next["metadata"]["resourceVersion"] = std::to_string(written->revision);
      return next;
    }
    json status = {{"kind", "Status"},
                   {"apiVersion", "v1"},
                   {"metadata", json::object()},
                   {"status", "Success"},
                   {"details", {{"name", name}, {"kind", type.resource}, {"uid", str(meta, "uid")}}}};
    if (!type.group.empty()) status["details"]["group"] = type.group;
    if (options.dryRun) return status;
    if (type.kind == "CustomResourceDefinition") {
      // Deleting a CRD deletes its custom resources.
      std::string group = str(current.value("spec", json::object()), "group");
      std::string plural =
          str(current.value("spec", json::object()).value("names", json::object()), "plural");
      std::string prefix = group;
      prefix += "/";
      prefix += plural;
      prefix += "/";
      auto rows = impl_->store.list(prefix);
      if (rows) {
        for (const auto& r : rows->items) (void)impl_->store.remove(r.key);
      }
    }
    auto gone = impl_->store.remove(k, row->revision);
    if (!gone) {
      if (gone.error().code == StoreErrc::kConflict) continue;
      return Impl::fromStore(gone.error(), type, name);
    }
    impl_->afterWrite(type);
    return status;
  }
  return conflict(type.resource, type.group, name);
}

namespace {

// Holds the store subscription for a registry watch.
class StoreBackedWatch : public RegistryWatch {
 public:
  explicit StoreBackedWatch(std::unique_ptr<StoreWatch> w) : w_(std::move(w)) {}

 private:
  std::unique_ptr<StoreWatch> w_;
};

}  // namespace

ApiResult<std::unique_ptr<RegistryWatch>> Registry::watch(
    const ResourceType& type, const std::string& ns, const WatchOptions& options,
    const std::function<void(const WatchEvent&)>& sink) {
  auto labels = kube::LabelSelector::parse(options.labelSelector);
  if (!labels) return badRequest("unable to parse requirement: " + labels.error());
  auto fields = kube::FieldSelector::parse(options.fieldSelector, selectable(type));
  if (!fields) return badRequest(fields.error());
  std::string prefix = type.keyPrefix() + (type.namespaced && !ns.empty() ? ns + "/" : "");
  int64_t from = 0;
  if (options.resourceVersion.empty() || options.resourceVersion == "0") {
    // Start with the current state as ADDED events, then everything after it.
    auto snapshot = impl_->store.list(prefix);
    if (!snapshot) return Impl::fromStore(snapshot.error(), type, "");
    for (const auto& row : snapshot->items) {
      json obj = Impl::decode(type, row.value, row.revision);
      if (labels->matchesObject(obj) && fields->matchesObject(obj)) sink({"ADDED", std::move(obj)});
    }
    from = snapshot->revision;
  } else {
    auto rv = parseRv(options.resourceVersion);
    if (!rv) return badRequest("invalid resource version: " + options.resourceVersion);
    // The real server's watch cache waits up to 3 s for a revision it has not seen, then gives up; here
    // the store is the only source of revisions, so a future one is refused at once.
    if (const int64_t current = impl_->store.currentRevision(); *rv > current) {
      return tooLargeResourceVersion(*rv, current);
    }
    from = *rv;
  }
  auto matches = [labels = *labels, fields = *fields](const json& obj) {
    return labels.matchesObject(obj) && fields.matchesObject(obj);
  };
  ResourceType t = type;
  auto w =
      impl_->store.watch(prefix, from, [t, matches, sink, instance = impl_->instance](const StoreEvent& e) {
        const json& obj = Impl::decodeEvent(instance, t, e, false);
        bool now = matches(obj);
        if (e.type == StoreEvent::Type::kAdded) {
          if (now) sink({"ADDED", obj});
          return;
        }
        if (e.type == StoreEvent::Type::kDeleted) {
          if (now) sink({"DELETED", obj});
          return;
        }
        bool before = e.previous ? matches(Impl::decodeEvent(instance, t, e, true)) : false;
        if (now && before) {
          sink({"MODIFIED", obj});
        } else if (now) {
          sink({"ADDED", obj});
        } else if (before) {
          // Leaving the selector reads as a deletion carrying the previous state at the new revision.
          sink({"DELETED", Impl::decodeEvent(instance, t, e, true)});
        }
      });
  if (!w) {
    if (w.error().code == StoreErrc::kCompacted) {
      return expired("too old resource version: " + options.resourceVersion + " (" +
                     std::to_string(impl_->store.compactedRevision()) + ")");
    }
    return Impl::fromStore(w.error(), type, "");
  }
  return std::unique_ptr<RegistryWatch>(new StoreBackedWatch(std::move(w).value()));
}

ApiResult<std::unique_ptr<RegistryWatch>> Registry::watchAll(
    const std::function<void(const ResourceType&, const WatchEvent&)>& sink) {
  // Keys are "<group>/<resource>/..."; the type is the first served version of that resource. The map is
  // rebuilt only when the set of types changes, since this runs for every write.
  struct KeyTypes {
    std::mutex mu;
    int64_t generation = -1;
    std::map<std::string, std::shared_ptr<const ResourceType>> byPrefix;
  };
  auto cache = std::make_shared<KeyTypes>();
  auto typeOfKey = [this, cache](const std::string& key) -> std::shared_ptr<const ResourceType> {
    auto first = key.find('/');
    auto second = first == std::string::npos ? std::string::npos : key.find('/', first + 1);
    if (second == std::string::npos) return nullptr;
    std::lock_guard lock(cache->mu);
    if (int64_t generation = typesGeneration(); generation != cache->generation) {
      cache->byPrefix.clear();
      for (const auto& t : types()) cache->byPrefix.emplace(t->keyPrefix(), t);
      cache->generation = generation;
    }
    auto it = cache->byPrefix.find(key.substr(0, second + 1));
    return it == cache->byPrefix.end() ? nullptr : it->second;
  };
  auto snapshot = impl_->store.list("");
  if (!snapshot) return internalError(snapshot.error().message);
  for (const auto& row : snapshot->items) {
    if (auto t = typeOfKey(row.key)) sink(*t, {"ADDED", Impl::decode(*t, row.value, row.revision)});
  }
  auto w = impl_->store.watch("", snapshot->revision, [typeOfKey, sink](const StoreEvent& e) {
    auto t = typeOfKey(e.key);
    if (!t) return;
    const char* kind = e.type == StoreEvent::Type::kAdded     ? "ADDED"
                       : e.type == StoreEvent::Type::kDeleted ? "DELETED"
                                                              : "MODIFIED";
    sink(*t, {kind, Impl::decode(*t, e.value, e.revision)});
  });
  if (!w) return internalError(w.error().message);
  return std::unique_ptr<RegistryWatch>(new StoreBackedWatch(std::move(w).value()));
}

}  // namespace sluice::apiserver
