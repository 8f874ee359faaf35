// Reading a Kustomization's spec with field paths, and the status pieces Flux writes.
#include "gitops/kustomization.h"

#include <algorithm>
#include <regex>

#include "base/json_fields.h"

namespace sluice::gitops {

using json_fields::ObjectReader;
using json_fields::readEnvelope;
using json_fields::readInOrder;
using json_fields::Reporter;
using nlohmann::json;

namespace {

std::string metaString(const json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto f = m->find(field);
  return f != m->end() && f->is_string() ? f->get<std::string>() : "";
}

// A reference to another object: `requireKind` for sourceRef, an optional apiVersion for health checks.
void readRef(ObjectReader& o, CrossNamespaceRef& ref, bool withKind) {
  if (withKind) {
    o.read("apiVersion", ref.apiVersion, json_fields::readString);
    o.readRequired("kind", ref.kind);
  }
  o.readRequired("name", ref.name);
  o.read("namespace", ref.ns, json_fields::readString);
}

void readPostBuild(ObjectReader& o, KustomizationSpec& spec) {
  Reporter& r = o.reporter();
  o.read("substitute", spec.substitute, json_fields::readStringMap);
  static const std::regex kVarName("^[_[:alpha:]][_[:alpha:][:digit:]]*$");
  for (const auto& [name, value] : spec.substitute) {
    if (!std::regex_match(name, kVarName))
      r.error(childPath(o.path("substitute"), name),
              "is not a variable name (letters, digits and '_', not starting with a digit)");
  }
  if (const json* from = o.get("substituteFrom")) {
    json_fields::forEachObject(r, *from, o.path("substituteFrom"), [&](ObjectReader& item) {
      SubstituteFrom s;
      item.readRequired("kind", s.kind);
      item.readRequired("name", s.name);
      item.read("optional", s.optional, json_fields::readBool);
      if (!s.kind.empty() && s.kind != "ConfigMap" && s.kind != "Secret")
        r.error(item.path("kind"), "must be ConfigMap or Secret, got \"" + s.kind + "\"");
      item.warnUnknown();
      spec.substituteFrom.push_back(std::move(s));
    });
  }
  o.ignoreUnsupported("substituteStrategy");
}

// Flux's decryption block. Only SOPS with age keys from a Secret runs here: a secret-less setup (cloud
// KMS through the service account) would leave the files encrypted, so it is refused, not ignored.
void readDecryption(ObjectReader& d, KustomizationSpec& spec) {
  Reporter& r = d.reporter();
  Decryption dec;
  d.readRequired("provider", dec.provider);
  if (!dec.provider.empty() && dec.provider != "sops")
    r.error(d.path("provider"), "must be sops, got \"" + dec.provider + "\"");
  if (const json* ref = d.get("secretRef")) {
    json_fields::readObject(r, *ref, d.path("secretRef"),
                            [&](ObjectReader& s) { s.readRequired("name", dec.secretRefName); });
  } else {
    r.error(d.path("secretRef"), "is required: the Secret whose .agekey entries hold the age identities");
  }
  d.rejectUnsupported("serviceAccountName", "decryption through a service account is not supported");
  spec.decryption = std::move(dec);
}

void readSpec(ObjectReader& o, KustomizationSpec& spec) {
  Reporter& r = o.reporter();
  if (const json* v = o.get("sourceRef")) {
    json_fields::readObject(r, *v, o.path("sourceRef"),
                            [&](ObjectReader& s) { readRef(s, spec.sourceRef, true); });
  } else {
    r.error(o.path("sourceRef"), "is required");
  }
  o.read("path", spec.path, json_fields::readString);
  if (const json* v = o.get("interval")) {
    // Checked only once it reads as a duration: one problem, one error.
    if (auto d = json_fields::readDuration(r, *v, o.path("interval"))) {
      spec.interval = *d;
      if (*d <= Duration{0}) r.error(o.path("interval"), "must be longer than 0s");
    }
  } else {
    r.error(o.path("interval"), "is required");
  }
  if (o.get("retryInterval")) {
    Duration d{0};
    o.read("retryInterval", d, json_fields::readDuration);
    spec.retryInterval = d;
  }
  if (o.get("timeout")) {
    Duration d{0};
    o.read("timeout", d, json_fields::readDuration);
    spec.timeout = d;
  }
  if (!o.has("prune")) r.error(o.path("prune"), "is required (true or false)");
  o.read("prune", spec.prune, json_fields::readBool);
  o.read("wait", spec.wait, json_fields::readBool);
  o.read("force", spec.force, json_fields::readBool);
  o.read("suspend", spec.suspend, json_fields::readBool);
  if (const json* v = o.get("healthChecks")) {
    json_fields::forEachObject(r, *v, o.path("healthChecks"), [&](ObjectReader& item) {
      CrossNamespaceRef ref;
      readRef(item, ref, true);
      if (ref.apiVersion.empty()) ref.apiVersion = "apps/v1";  // Flux's default
      item.warnUnknown();
      spec.healthChecks.push_back(std::move(ref));
    });
  }
  if (const json* v = o.get("dependsOn")) {
    json_fields::forEachObject(r, *v, o.path("dependsOn"), [&](ObjectReader& item) {
      CrossNamespaceRef ref;
      readRef(item, ref, false);
      item.ignoreUnsupported("readyExpr");
      item.warnUnknown();
      spec.dependsOn.push_back(std::move(ref));
    });
  }
  o.read("targetNamespace", spec.targetNamespace, json_fields::readString);
  if (spec.targetNamespace.size() > 63) r.error(o.path("targetNamespace"), "must be at most 63 characters");
  o.read("namePrefix", spec.namePrefix, json_fields::readString);
  o.read("nameSuffix", spec.nameSuffix, json_fields::readString);
  for (const auto* affix : {"namePrefix", "nameSuffix"}) {
    const std::string& s = std::string_view(affix) == "namePrefix" ? spec.namePrefix : spec.nameSuffix;
    if (s.size() > 200) r.error(o.path(affix), "must be at most 200 characters");
  }
  if (const json* v = o.get("commonMetadata")) {
    json_fields::readObject(r, *v, o.path("commonMetadata"), [&](ObjectReader& m) {
      m.read("labels", spec.commonLabels, json_fields::readStringMap);
      m.read("annotations", spec.commonAnnotations, json_fields::readStringMap);
    });
  }
  if (const json* v = o.get("patches")) {
    json_fields::forEachObject(r, *v, o.path("patches"), [&](ObjectReader& item) {
      std::string patch;
      item.readRequired("patch", patch);
      if (const json* t = item.get("target")) json_fields::readRawObject(r, *t, item.path("target"));
      item.warnUnknown();
    });
    spec.patches = *v;
  }
  if (const json* v = o.get("images")) {
    json_fields::forEachObject(r, *v, o.path("images"), [&](ObjectReader& item) {
      std::string name;
      item.readRequired("name", name);
      std::string ignored;
      for (const char* k : {"newName", "newTag", "digest"}) item.read(k, ignored, json_fields::readString);
      item.warnUnknown();
    });
    spec.images = *v;
  }
  o.read("components", spec.components, json_fields::readStringList);
  if (const json* v = o.get("postBuild")) {
    spec.hasPostBuild = true;
    json_fields::readObject(r, *v, o.path("postBuild"), [&](ObjectReader& p) { readPostBuild(p, spec); });
  }
  if (const json* v = o.get("decryption")) {
    json_fields::readObject(r, *v, o.path("decryption"), [&](ObjectReader& d) { readDecryption(d, spec); });
  }
  o.read("serviceAccountName", spec.serviceAccountName, json_fields::readString);
  if (!spec.serviceAccountName.empty() && (spec.serviceAccountName.find(':') != std::string::npos ||
                                           spec.serviceAccountName.find('/') != std::string::npos))
    r.error(o.path("serviceAccountName"),
            "must be the name of a ServiceAccount in the Kustomization's namespace");
  // Valid in Flux, not run here: an error where skipping it would change what is applied.
  o.rejectUnsupported("kubeConfig", "remote clusters are not supported");
  o.ignoreUnsupported("deletionPolicy");
  o.ignoreUnsupported("ignoreMissingComponents");
  o.ignoreUnsupported("healthCheckExprs");
  o.ignoreUnsupported("ignore");
  o.ignoreUnsupported("buildMetadata");
}

}  // namespace

Duration KustomizationSpec::effectiveTimeout() const {
  if (timeout) return *timeout;
  return std::max(interval - Duration{30}, Duration{30});
}

std::optional<Kustomization> readKustomization(const json& obj, const SourceMap& source, Diagnostics& diags) {
  Kustomization k;
  ObjectMeta meta;
  std::string apiVersion;
  std::string kind;
  const bool ok = readInOrder(source, diags, [&](Reporter& r, Diagnostics&) {
    readEnvelope(
        r, obj, apiVersion, kind, {kKustomizationApiVersion, kFluxKustomizationApiVersion}, {"Kustomization"},
        meta, [&](ObjectReader& o) { readSpec(o, k.spec); },
        [](ObjectReader& o) { o.get("status"); });  // the controller's
  });
  if (!ok) return std::nullopt;
  k.name = std::move(meta.name);
  k.ns = std::move(meta.ns);
  k.generation = meta.generation;
  return k;
}

Result<Kustomization> parseKustomization(const json& obj) {
  Diagnostics diags;
  auto k = readKustomization(obj, SourceMap(), diags);
  if (!k) return Error{json_fields::joinErrors(diags)};
  return std::move(*k);
}

// ---- inventory ----

std::string ObjectKey::describe() const {
  return ns.empty() ? kind + "/" + name : kind + "/" + ns + "/" + name;
}

InventoryEntry inventoryEntry(const ObjectKey& key) {
  std::string name;
  for (char c : key.name) name += c == ':' ? std::string("__") : std::string(1, c);
  return {key.ns + "_" + name + "_" + key.group + "_" + key.kind, key.version};
}

std::optional<ObjectKey> parseInventoryEntry(const InventoryEntry& entry) {
  // namespace and kind hold no '_', group none either (DNS names); the name is what lies between.
  const std::string& id = entry.id;
  const auto first = id.find('_');
  const auto last = id.rfind('_');
  if (first == std::string::npos || last == first) return std::nullopt;
  const auto groupStart = id.rfind('_', last - 1);
  if (groupStart == std::string::npos || groupStart <= first) return std::nullopt;
  ObjectKey k;
  k.ns = id.substr(0, first);
  std::string name = id.substr(first + 1, groupStart - first - 1);
  for (size_t pos; (pos = name.find("__")) != std::string::npos;) name.replace(pos, 2, ":");
  k.name = name;
  k.group = id.substr(groupStart + 1, last - groupStart - 1);
  k.kind = id.substr(last + 1);
  k.version = entry.version;
  if (k.name.empty() || k.kind.empty() || k.version.empty()) return std::nullopt;
  return k;
}

ObjectKey objectKey(const json& obj) {
  ObjectKey k;
  const std::string apiVersion = obj.value("apiVersion", "");
  if (auto slash = apiVersion.find('/'); slash != std::string::npos) {
    k.group = apiVersion.substr(0, slash);
    k.version = apiVersion.substr(slash + 1);
  } else {
    k.version = apiVersion;
  }
  k.kind = obj.value("kind", "");
  k.name = metaString(obj, "name");
  k.ns = metaString(obj, "namespace");
  return k;
}

std::vector<InventoryEntry> readInventory(const json& status) {
  std::vector<InventoryEntry> out;
  if (!status.is_object()) return out;
  auto inv = status.find("inventory");
  if (inv == status.end() || !inv->is_object()) return out;
  auto entries = inv->find("entries");
  if (entries == inv->end() || !entries->is_array()) return out;
  for (const auto& e : *entries) {
    if (e.is_object() && !e.value("id", "").empty()) out.push_back({e.value("id", ""), e.value("v", "")});
  }
  return out;
}

json inventoryJson(const std::vector<InventoryEntry>& entries) {
  json list = json::array();
  for (const auto& e : entries) list.push_back({{"id", e.id}, {"v", e.version}});
  return {{"entries", list}};
}

// ---- conditions ----

const json* findCondition(const json& status, const std::string& type) {
  if (!status.is_object() || !status.contains("conditions") || !status["conditions"].is_array())
    return nullptr;
  for (const auto& c : status["conditions"]) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

void removeCondition(json& status, const std::string& type) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) return;
  auto& list = status["conditions"];
  for (auto it = list.begin(); it != list.end();) {
    it = it->is_object() && it->value("type", "") == type ? list.erase(it) : it + 1;
  }
  if (list.empty()) status.erase("conditions");
}

void setCondition(json& status, const std::string& type, const std::string& conditionStatus,
                  const std::string& reason, const std::string& message, int64_t observedGeneration,
                  Time now) {
  std::string since = formatRfc3339(now);
  if (const json* old = findCondition(status, type); old && old->value("status", "") == conditionStatus)
    since = old->value("lastTransitionTime", since);
  json c = {{"type", type},
            {"status", conditionStatus},
            {"reason", reason},
            {"message", message},
            {"observedGeneration", observedGeneration},
            {"lastTransitionTime", since}};
  if (!status.contains("conditions") || !status["conditions"].is_array())
    status["conditions"] = json::array();
  auto& list = status["conditions"];
  for (auto& existing : list) {
    if (existing.is_object() && existing.value("type", "") == type) {
      existing = std::move(c);  // in place: the order stays, so an unchanged status compares equal
      return;
    }
  }
  // Flux's order: Ready first, then the rest as they came.
  if (type == "Ready") {
    list.insert(list.begin(), std::move(c));
  } else {
    list.push_back(std::move(c));
  }
}

}  // namespace sluice::gitops
