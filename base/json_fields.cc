// Field readers and writers shared by the manifest loaders (json_fields.h).
#include "base/json_fields.h"

#include "base/utf8.h"

#include <algorithm>

#include <climits>
#include <cmath>

namespace sluice::json_fields {

using nlohmann::json;

namespace {
thread_local FieldObserver* tlsObserver = nullptr;
}  // namespace

FieldObserver* currentFieldObserver() { return tlsObserver; }

ScopedFieldObserver::ScopedFieldObserver(FieldObserver& observer) : previous_(tlsObserver) {
  tlsObserver = &observer;
}
ScopedFieldObserver::~ScopedFieldObserver() { tlsObserver = previous_; }

std::string describeValue(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return v.get<bool>() ? "bool true" : "bool false";
    case json::value_t::string: {
      std::string s = v.get<std::string>();
      if (s.size() > 40) s = std::string(utf8Prefix(s, 40)) + "...";
      return "string " + json(s).dump(-1, ' ', false, json::error_handler_t::replace);
    }
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: {
      // JSON has no NaN or infinity (dump() writes null); YAML's .nan and .inf reach here as doubles.
      const double d = v.get<double>();
      if (std::isnan(d)) return "number NaN";
      if (std::isinf(d)) return d > 0 ? "number +Inf" : "number -Inf";
      return "number " + v.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "a list";
    default:
      return "an unsupported value";
  }
}

bool withinLimit(Reporter& r, const json& v, const std::string& path, size_t max, const char* what) {
  if (!v.is_array() || v.size() <= max) return true;
  r.error(path, std::to_string(v.size()) + " " + what + ", more than the limit of " + std::to_string(max) +
                    " " + what);
  return false;
}

std::optional<int64_t> readInt64(Reporter& r, const json& v, const std::string& path) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) {
    r.error(path, "is out of range: " + v.dump());
    return std::nullopt;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e15) return static_cast<int64_t>(d);
  }
  r.wrongType(path, "an integer", v);
  return std::nullopt;
}

std::optional<int> readInt(Reporter& r, const json& v, const std::string& path) {
  auto n = readInt64(r, v, path);
  if (!n) return std::nullopt;
  if (*n < INT_MIN || *n > INT_MAX) {
    r.error(path, "is out of range: " + std::to_string(*n));
    return std::nullopt;
  }
  return static_cast<int>(*n);
}

std::optional<bool> readBool(Reporter& r, const json& v, const std::string& path) {
  if (v.is_boolean()) return v.get<bool>();
  r.wrongType(path, "true or false", v);
  return std::nullopt;
}

std::optional<std::string> readString(Reporter& r, const json& v, const std::string& path) {
  if (v.is_string()) return v.get<std::string>();
  r.wrongType(path, "a string", v);
  return std::nullopt;
}

std::optional<int64_t> readNonNegative(Reporter& r, const json& v, const std::string& path) {
  auto n = readInt64(r, v, path);
  if (n && *n < 0) {
    r.error(path, "must not be negative, got " + std::to_string(*n));
    return std::nullopt;
  }
  return n;
}

std::optional<Time> readTime(Reporter& r, const json& v, const std::string& path) {
  if (!v.is_string()) {
    r.wrongType(path, "an RFC 3339 time string", v);
    return std::nullopt;
  }
  return reportedAt(r, path, parseRfc3339(v.get<std::string>()));
}

std::optional<Duration> readDuration(Reporter& r, const json& v, const std::string& path) {
  if (v.is_number()) {
    auto n = readNonNegative(r, v, path);
    if (!n) return std::nullopt;
    return Duration{*n};
  }
  if (!v.is_string()) {
    r.wrongType(path, "a duration (seconds, or a string like \"1h30m\")", v);
    return std::nullopt;
  }
  return reportedAt(r, path, parseDuration(v.get<std::string>()));
}

std::optional<std::map<std::string, std::string>> readStringMap(Reporter& r, const json& v,
                                                                const std::string& path) {
  if (!v.is_object()) {
    r.wrongType(path, "a map of strings", v);
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  bool ok = true;
  for (const auto& [key, value] : v.items()) {
    if (value.is_string()) {
      out[key] = value.get<std::string>();
    } else {
      r.wrongType(childPath(path, key), "a string", value);
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<json> readRawObject(Reporter& r, const json& v, const std::string& path) {
  if (v.is_object()) return v;
  r.wrongType(path, "an object", v);
  return std::nullopt;
}

std::optional<json> readRawList(Reporter& r, const json& v, const std::string& path) {
  if (v.is_array()) return v;
  r.wrongType(path, "a list", v);
  return std::nullopt;
}

std::optional<std::vector<std::string>> readStringList(Reporter& r, const json& v, const std::string& path) {
  if (!v.is_array()) {
    r.wrongType(path, "a list of strings", v);
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (auto s = readString(r, v[i], indexPath(path, i))) out.push_back(*s);
  }
  return out;
}

const json* ObjectReader::get(std::string_view key) {
  if (FieldObserver* o = tlsObserver) o->lookedUp(path_, key);
  auto it = object_.find(key);
  if (it == object_.end()) return nullptr;
  known_.push_back(&*it);
  if (it->is_null()) return nullptr;
  return &*it;
}

bool ObjectReader::has(std::string_view key) const {
  if (FieldObserver* o = tlsObserver) o->lookedUp(path_, key);
  auto it = object_.find(key);
  return it != object_.end() && !it->is_null();
}

bool ObjectReader::contains(std::string_view key) const {
  if (FieldObserver* o = tlsObserver) o->lookedUp(path_, key);
  return object_.find(key) != object_.end();
}

void ObjectReader::readRequired(std::string_view key, std::string& out) {
  if (!has(key)) {
    get(key);  // a null value is known, merely missing
    r_.error(path(key), "is required");
    return;
  }
  read(key, out, readString);
  if (out.empty() && object_.at(std::string(key)).is_string()) r_.error(path(key), "must not be empty");
}

void ObjectReader::warnUnknown() {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (std::find(known_.begin(), known_.end(), &*it) == known_.end())
      r_.warning(path(it.key()), "unknown field");
  }
}

void readObjectMeta(ObjectReader& o, ObjectMeta& meta) {
  // Kubernetes takes generateName instead of a name on create.
  o.read("generateName", meta.generateName, readString);
  if (meta.generateName.empty() && !o.has("name")) {
    o.reporter().error(o.path("name"), "is required (or generateName, for the server to make one)");
  } else if (meta.generateName.empty()) {
    o.readRequired("name", meta.name);
  } else {
    o.read("name", meta.name, readString);
  }
  o.read("namespace", meta.ns, readString);
  o.read("uid", meta.uid, readString);
  o.read("resourceVersion", meta.resourceVersion, readString);
  o.read("generation", meta.generation, readInt64);
  o.read("labels", meta.labels, readStringMap);
  o.read("annotations", meta.annotations, readStringMap);
  o.ignore({"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "finalizers",
            "ownerReferences", "managedFields", "selfLink"});
}

namespace {

// "a, b or c"
std::string oneOf(std::initializer_list<std::string_view> names) {
  std::string out;
  size_t i = 0;
  for (std::string_view n : names) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += n;
    ++i;
  }
  return out;
}

bool listed(std::initializer_list<std::string_view> names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

void readEnvelope(Reporter& r, const nlohmann::json& object, std::string& apiVersion, std::string& kind,
                  std::initializer_list<std::string_view> apiVersions,
                  std::initializer_list<std::string_view> kinds, ObjectMeta& meta,
                  const std::function<void(ObjectReader&)>& spec,
                  const std::function<void(ObjectReader&)>& status) {
  if (!object.is_object()) {
    r.wrongType("", "an object", object);
    return;
  }
  ObjectReader o(r, object, "");
  if (!o.has("apiVersion")) {
    r.error("apiVersion", "is required");
  } else {
    o.read("apiVersion", apiVersion, readString);
    const nlohmann::json& api = object.at("apiVersion");
    if (api.is_string() && !listed(apiVersions, apiVersion))
      r.error("apiVersion", "must be " + oneOf(apiVersions) + ", got " + describeValue(api));
  }
  o.readRequired("kind", kind);
  if (!kind.empty() && !listed(kinds, kind))
    r.error("kind", "must be " + oneOf(kinds) + ", got \"" + kind + "\"");
  if (const nlohmann::json* m = o.get("metadata")) {
    readObject(r, *m, "metadata", [&](ObjectReader& mo) { readObjectMeta(mo, meta); });
  } else {
    r.error("metadata", "is required");
  }
  if (const nlohmann::json* s = o.get("spec")) {
    readObject(r, *s, "spec", [&](ObjectReader& so) { spec(so); });
  } else {
    r.error("spec", "is required");
  }
  status(o);
  o.warnUnknown();
}

bool readInOrder(const SourceMap& source, Diagnostics& diags,
                 const std::function<void(Reporter&, Diagnostics&)>& read) {
  Diagnostics local;
  Reporter r(source, local);
  try {
    read(r, local);
  } catch (const std::exception& e) {
    r.error("", std::string("cannot be read: ") + e.what());
  }
  // Unknown fields are found after their siblings are read: put everything back in reading order.
  std::vector<Diagnostic> found = local.items();
  std::stable_sort(found.begin(), found.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  for (auto& d : found) diags.add(std::move(d));
  return !local.hasErrors();
}

std::string joinErrors(const Diagnostics& diags) {
  std::string message;
  for (const auto& d : diags.items()) {
    if (d.severity == Severity::Error) message += (message.empty() ? "" : "; ") + d.path + ": " + d.message;
  }
  return message;
}

void putString(json& j, const char* key, const std::string& value) {
  if (!value.empty()) j[key] = value;
}
void putInt(json& j, const char* key, int64_t value) {
  if (value != 0) j[key] = value;
}
void putBool(json& j, const char* key, bool value) {
  if (value) j[key] = true;
}
void putTime(json& j, const char* key, const std::optional<Time>& value) {
  if (value) j[key] = formatRfc3339(*value);
}

}  // namespace sluice::json_fields
