// The GitOps commands' text: tables, the inventory tree, per-object diffs and the build's YAML.
#include "cli/gitops_view.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "cli/view_text.h"

namespace sluice::cli {

namespace {

using nlohmann::json;

const json* readyCondition(const json& obj) {
  const json& conditions = view::items(obj, "/status/conditions");
  for (const auto& c : conditions) {
    if (c.is_object() && c.value("type", "") == "Ready") return &c;
  }
  return nullptr;
}

GitOpsRow rowOf(const json& obj, std::string revision) {
  GitOpsRow row;
  row.ns = view::str(obj, "/metadata/namespace");
  row.name = view::str(obj, "/metadata/name");
  row.revision = std::move(revision);
  const json suspend = obj.value(json::json_pointer("/spec/suspend"), json(false));
  row.suspended = suspend.is_boolean() && suspend.get<bool>() ? "True" : "False";
  const json* ready = readyCondition(obj);
  row.ready = ready ? ready->value("status", "Unknown") : "Unknown";
  row.message = ready ? ready->value("message", "") : "";
  // One line per row: a multi-line message (a build error) is joined.
  std::replace(row.message.begin(), row.message.end(), '\n', ' ');
  return row;
}

}  // namespace

GitOpsRow gitRepositoryRow(const json& repo) {
  return rowOf(repo, view::str(repo, "/status/artifact/revision"));
}

GitOpsRow kustomizationRow(const json& kustomization) {
  return rowOf(kustomization, view::str(kustomization, "/status/lastAppliedRevision"));
}

std::string renderGitOpsTable(std::vector<GitOpsRow> rows, bool allNamespaces, bool header) {
  std::sort(rows.begin(), rows.end(), [](const GitOpsRow& a, const GitOpsRow& b) {
    return std::tie(a.ns, a.name) < std::tie(b.ns, b.name);
  });
  view::Columns table(3);
  std::vector<view::Columns::Cell> head = {"NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"};
  if (allNamespaces) head.insert(head.begin(), "NAMESPACE");
  table.add(std::move(head));
  for (const auto& r : rows) {
    std::vector<view::Columns::Cell> cells = {r.name, r.revision, r.suspended, r.ready, r.message};
    if (allNamespaces) cells.insert(cells.begin(), r.ns);
    table.add(std::move(cells));
  }
  std::string out = table.render(false);
  if (!header) out.erase(0, out.find('\n') + 1);
  return out;
}

ReconcileState reconcileState(const json& obj, const std::string& requestedAt) {
  ReconcileState s;
  const bool echoed = view::str(obj, "/status/lastHandledReconcileAt") == requestedAt;
  const bool observed =
      view::integer(obj, "/status/observedGeneration", -1) == view::integer(obj, "/metadata/generation", 0);
  const json* ready = readyCondition(obj);
  const std::string status = ready ? ready->value("status", "Unknown") : "Unknown";
  s.handled = echoed && observed && (status == "True" || status == "False");
  s.ready = status == "True";
  s.message = ready ? ready->value("message", "") : "";
  s.revision = obj.value("kind", "") == "Kustomization" ? view::str(obj, "/status/lastAppliedRevision")
                                                        : view::str(obj, "/status/artifact/revision");
  return s;
}

namespace {

struct EntryParts {
  std::string ns, name, group, kind;
};

// `<namespace>_<name>_<group>_<kind>`: the kind and group are the last two fields (neither holds '_'),
// the namespace the first (none holds '_'); the name is what lies between.
std::optional<EntryParts> splitEntry(const std::string& id) {
  const auto k = id.rfind('_');
  if (k == std::string::npos || k == 0) return std::nullopt;
  const auto g = id.rfind('_', k - 1);
  if (g == std::string::npos) return std::nullopt;
  const auto n = id.find('_');
  if (n >= g) return std::nullopt;
  EntryParts p{id.substr(0, n), id.substr(n + 1, g - n - 1), id.substr(g + 1, k - g - 1), id.substr(k + 1)};
  // Flux writes a ':' in a name (RBAC's system:...) as "__".
  for (size_t at = p.name.find("__"); at != std::string::npos; at = p.name.find("__", at + 1))
    p.name.replace(at, 2, ":");
  return p;
}

bool isKustomizationGroup(const std::string& group) {
  return group == "sluice.dev" || group == "kustomize.toolkit.fluxcd.io";
}

// `expanding`: the Kustomizations on the way from the root to here, which are listed again but not
// expanded again (a Kustomization that applies itself, as a bootstrap does, or two that list each other).
void renderChildren(std::string& out, const std::vector<std::string>& ids, const std::string& indent,
                    const NestedInventory& nested, std::set<std::string>& expanding) {
  for (size_t i = 0; i < ids.size(); ++i) {
    const bool last = i + 1 == ids.size();
    out += indent + (last ? "└── " : "├── ") + inventoryObjectName(ids[i]) + "\n";
    auto parts = splitEntry(ids[i]);
    if (!parts || parts->kind != "Kustomization" || !isKustomizationGroup(parts->group)) continue;
    const std::string key = parts->ns + "/" + parts->name;
    if (!expanding.insert(key).second) continue;
    if (auto children = nested(parts->ns, parts->name))
      renderChildren(out, *children, indent + (last ? "    " : "│   "), nested, expanding);
    expanding.erase(key);
  }
}

}  // namespace

std::string inventoryObjectName(const std::string& id) {
  auto p = splitEntry(id);
  if (!p) return id;
  return p->ns.empty() ? p->kind + "/" + p->name : p->kind + "/" + p->ns + "/" + p->name;
}

std::string renderInventoryTree(const std::string& rootNs, const std::string& rootName,
                                const std::vector<std::string>& entryIds, const NestedInventory& nested) {
  std::string out = "Kustomization/" + rootNs + "/" + rootName + "\n";
  std::set<std::string> expanding{rootNs + "/" + rootName};
  renderChildren(out, entryIds, "", nested, expanding);
  return out;
}

namespace {

void maskSecretValues(json& live, json& merged) {
  for (const char* field : {"data", "stringData"}) {
    auto section = [field](json& obj) -> json* {
      return obj.is_object() && obj.contains(field) && obj[field].is_object() ? &obj[field] : nullptr;
    };
    json* a = section(live);
    json* b = section(merged);
    const json before = a ? *a : json::object();
    const json after = b ? *b : json::object();
    auto mask = [](json* values, const json& other, const char* changed) {
      if (!values) return;
      for (auto& [key, value] : values->items()) {
        const bool same = other.contains(key) && other[key] == value;
        value = same ? "***" : changed;
      }
    };
    mask(a, after, "*** (before)");
    mask(b, before, "*** (after)");
  }
}

void dropVolatile(json& obj) {
  if (!obj.is_object()) return;
  obj.erase("status");
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) return;
  json& meta = obj["metadata"];
  for (const char* f : {"resourceVersion", "generation", "managedFields"}) meta.erase(f);
  if (meta.contains("annotations") && meta["annotations"].is_object()) {
    meta["annotations"].erase("kubectl.kubernetes.io/last-applied-configuration");
    if (meta["annotations"].empty()) meta.erase("annotations");
  }
}

std::string scalarText(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string childPath(const std::string& path, const std::string& key) {
  std::string child = path;
  if (!child.empty()) child += '.';
  child += key;
  return child;
}

void diffValues(std::string& out, const std::string& path, const json& a, const json& b) {
  if (a == b) return;
  if (a.is_object() && b.is_object()) {
    for (const auto& [key, value] : a.items()) {
      diffValues(out, childPath(path, key), value, b.contains(key) ? b[key] : json());
    }
    for (const auto& [key, value] : b.items()) {
      if (!a.contains(key)) diffValues(out, childPath(path, key), json(), value);
    }
    return;
  }
  if (a.is_array() && b.is_array() && a.size() == b.size()) {
    for (size_t i = 0; i < a.size(); ++i) diffValues(out, path + "[" + std::to_string(i) + "]", a[i], b[i]);
    return;
  }
  out += "  " + path + "\n";
  if (!a.is_null()) out += "    - " + scalarText(a) + "\n";
  if (!b.is_null()) out += "    + " + scalarText(b) + "\n";
}

}  // namespace

std::string objectDiff(json live, json merged) {
  if (live.value("kind", "") == "Secret" || merged.value("kind", "") == "Secret")
    maskSecretValues(live, merged);
  dropVolatile(live);
  dropVolatile(merged);
  std::string out;
  diffValues(out, "", live, merged);
  return out;
}

std::string renderEvents(std::vector<json> events, bool allNamespaces, Time now) {
  // The time an Event last happened: lastTimestamp, else eventTime (events.k8s.io writers), else when
  // it was created.
  auto when = [](const json& e) {
    for (const char* p : {"/lastTimestamp", "/eventTime", "/metadata/creationTimestamp"}) {
      auto t = parseRfc3339(view::str(e, p));
      if (t) return *t;
    }
    return Time{};
  };
  std::stable_sort(events.begin(), events.end(),
                   [&](const json& a, const json& b) { return when(a) < when(b); });
  view::Columns table(3);
  std::vector<view::Columns::Cell> head = {"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"};
  if (allNamespaces) head.insert(head.begin(), "NAMESPACE");
  table.add(std::move(head));
  for (const auto& e : events) {
    const Time t = when(e);
    std::string message = view::str(e, "/message");
    std::replace(message.begin(), message.end(), '\n', ' ');
    std::vector<view::Columns::Cell> cells = {
        t == Time{} ? std::string("<unknown>") : view::age(now - t), view::str(e, "/type"),
        view::str(e, "/reason"),
        view::str(e, "/involvedObject/kind") + "/" + view::str(e, "/involvedObject/name"), message};
    if (allNamespaces) cells.insert(cells.begin(), view::str(e, "/metadata/namespace"));
    table.add(std::move(cells));
  }
  return table.render(false);
}

namespace {

// Whether YAML's core schema would read the plain scalar `s` as something other than this string.
bool needsQuotes(const std::string& s) {
  if (s.empty()) return true;
  static const char* const kWords[] = {"true", "false", "True", "False", "TRUE", "FALSE", "null", "Null",
                                       "NULL", "~",     "yes",  "no",    "Yes",  "No",    "YES",  "NO",
                                       "on",   "off",   "On",   "Off",   "ON",   "OFF",   "y",    "n"};
  for (const char* w : kWords) {
    if (s == w) return true;
  }
  const json parsed = json::parse(s, nullptr, false);
  return !parsed.is_discarded() && !parsed.is_string();
}

void emit(YAML::Emitter& out, const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, child] : v.items()) {
        out << YAML::Key << key << YAML::Value;
        emit(out, child);
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& child : v) emit(out, child);
      out << YAML::EndSeq;
      break;
    case json::value_t::string: {
      const std::string s = v.get<std::string>();
      if (needsQuotes(s)) out << YAML::DoubleQuoted;
      if (s.find('\n') != std::string::npos) out << YAML::Literal;
      out << s;
      break;
    }
    case json::value_t::boolean:
      out << YAML::TrueFalseBool << v.get<bool>();
      break;
    case json::value_t::null:
      out << YAML::Null;
      break;
    default:  // numbers: as JSON writes them
      out << v.dump();
      break;
  }
}

}  // namespace

std::string toYamlStream(const std::vector<json>& objects) {
  std::string out;
  for (size_t i = 0; i < objects.size(); ++i) {
    YAML::Emitter e;
    emit(e, objects[i]);
    if (i > 0) out += "---\n";
    out += e.c_str();
    out += "\n";
  }
  return out;
}

}  // namespace sluice::cli
