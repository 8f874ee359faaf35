// Reading typed fields out of JSON manifests while collecting every problem (wrong types, bad values,
// unknown fields) at its field path, and writing status fields back. Shared by every kind's loader so
// that all of them report alike.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/diagnostics.h"
#include "base/object_meta.h"
#include "base/result.h"
#include "base/source.h"
#include "base/time.h"

namespace sluice::json_fields {

// "string \"abc\"", "number 1.5", "an object": what a value is, for "must be X, got Y" messages.
std::string describeValue(const nlohmann::json& v);

// Sees every field a loader looks up and every value it finds of the wrong JSON type. The loaders are
// the one statement of which fields each kind has, so the check that keeps the CRDs' schemas equal to
// them (a test) learns the fields from the loaders themselves through this, rather than from a second
// list that could drift. Installed per thread by ScopedFieldObserver; no observer costs one load.
class FieldObserver {
 public:
  virtual ~FieldObserver() = default;
  // `key` was asked for in the object at `objectPath` ("" for the root, "spec.steps[0]").
  virtual void lookedUp(const std::string& objectPath, std::string_view key) = 0;
  // The value at `path` was of the wrong JSON type for the field.
  virtual void wrongType(const std::string& path) = 0;
};

// The calling thread's observer, or nullptr.
FieldObserver* currentFieldObserver();

// Installs `observer` for the calling thread while it lives; the previous one is restored afterwards.
class ScopedFieldObserver {
 public:
  explicit ScopedFieldObserver(FieldObserver& observer);
  ~ScopedFieldObserver();
  ScopedFieldObserver(const ScopedFieldObserver&) = delete;
  ScopedFieldObserver& operator=(const ScopedFieldObserver&) = delete;

 private:
  FieldObserver* previous_;
};

// Where diagnostics go while one object is read. Knows the source map, so every problem gets a position.
class Reporter {
 public:
  Reporter(const SourceMap& source, Diagnostics& diags) : source_(source), diags_(diags) {}
  void error(const std::string& path, std::string message) {
    diags_.add(source_.diagnostic(Severity::Error, path, std::move(message)));
  }
  void warning(const std::string& path, std::string message) {
    diags_.add(source_.diagnostic(Severity::Warning, path, std::move(message)));
  }
  void wrongType(const std::string& path, const char* expected, const nlohmann::json& got) {
    if (FieldObserver* o = currentFieldObserver()) o->wrongType(path);
    error(path, std::string("must be ") + expected + ", got " + describeValue(got));
  }

 private:
  const SourceMap& source_;
  Diagnostics& diags_;
};

// ---- scalar readers: each returns nullopt after reporting why ------------------------------------

std::optional<int64_t> readInt64(Reporter& r, const nlohmann::json& v, const std::string& path);
std::optional<int> readInt(Reporter& r, const nlohmann::json& v, const std::string& path);
std::optional<bool> readBool(Reporter& r, const nlohmann::json& v, const std::string& path);
std::optional<std::string> readString(Reporter& r, const nlohmann::json& v, const std::string& path);
std::optional<int64_t> readNonNegative(Reporter& r, const nlohmann::json& v, const std::string& path);
std::optional<Time> readTime(Reporter& r, const nlohmann::json& v, const std::string& path);
// Seconds as an integer, or a duration string ("30s", "1h30m", or a bare "30").
std::optional<Duration> readDuration(Reporter& r, const nlohmann::json& v, const std::string& path);
// A map of string to string, as labels and annotations are.
std::optional<std::map<std::string, std::string>> readStringMap(Reporter& r, const nlohmann::json& v,
                                                                const std::string& path);
// Any JSON object or list, kept as given (pod template, selector, plugin configuration).
std::optional<nlohmann::json> readRawObject(Reporter& r, const nlohmann::json& v, const std::string& path);
std::optional<nlohmann::json> readRawList(Reporter& r, const nlohmann::json& v, const std::string& path);
std::optional<std::vector<std::string>> readStringList(Reporter& r, const nlohmann::json& v,
                                                       const std::string& path);

// The value of `result`, or nullopt after reporting its error at `path`.
template <typename T>
std::optional<T> reportedAt(Reporter& r, const std::string& path, Result<T> result) {
  if (result) return std::move(*result);
  r.error(path, result.error());
  return std::nullopt;
}

// Whether the list `v` holds at most `max` items; otherwise reports at `path` that it holds more `what`
// ("steps") than the limit, so that the caller reads none of them (input_limits.h).
bool withinLimit(Reporter& r, const nlohmann::json& v, const std::string& path, size_t max, const char* what);

// ---- objects -------------------------------------------------------------------------------------

// One JSON object being read. Remembers the keys that were asked for, so that the rest can be reported
// as unknown fields at the end.
class ObjectReader {
 public:
  ObjectReader(Reporter& r, const nlohmann::json& object, std::string path)
      : r_(r), object_(object), path_(std::move(path)) {}

  Reporter& reporter() { return r_; }
  const std::string& path() const { return path_; }
  std::string path(std::string_view key) const { return childPath(path_, key); }

  // The value of `key`, or nullptr when it is absent or null (Kubernetes treats both alike).
  const nlohmann::json* get(std::string_view key);
  bool has(std::string_view key) const;
  // Whether `key` is present at all, even as null.
  bool contains(std::string_view key) const;

  // Reads `key` with `parse` into `out` when it is present and well formed.
  template <typename T, typename Parse>
  void read(std::string_view key, T& out, Parse parse) {
    if (const nlohmann::json* v = get(key)) {
      if (auto parsed = parse(r_, *v, path(key))) out = std::move(*parsed);
    }
  }

  // A string field that must be present and non-empty.
  void readRequired(std::string_view key, std::string& out);

  // A field that is valid upstream but that Sluice does not run: an error when it matters for behaviour.
  void rejectUnsupported(std::string_view key, const std::string& message) {
    if (get(key)) r_.error(path(key), message);
  }
  // A field valid upstream that Sluice does not use: a warning, so a manifest that moves over still loads.
  void ignoreUnsupported(std::string_view key) {
    if (get(key)) r_.warning(path(key), "is not supported by sluice yet and is ignored");
  }
  // Known fields that carry nothing for us (server-managed metadata).
  void ignore(std::initializer_list<std::string_view> keys) {
    for (auto k : keys) get(k);
  }

  // Warns about every field that was never asked for.
  void warnUnknown();

 private:
  Reporter& r_;
  const nlohmann::json& object_;
  std::string path_;
  // The values asked for, by address (stable while object_ lives): cheaper than a set of key strings,
  // and reading runs once per status written.
  std::vector<const nlohmann::json*> known_;
};

// Calls `each(ObjectReader&)` for every element of the list at `v`, checking that it is a list of objects.
template <typename Each>
void forEachObject(Reporter& r, const nlohmann::json& v, const std::string& path, Each each) {
  if (!v.is_array()) {
    r.wrongType(path, "a list", v);
    return;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string itemPath = indexPath(path, i);
    if (!v[i].is_object()) {
      r.wrongType(itemPath, "an object", v[i]);
      continue;
    }
    ObjectReader item(r, v[i], itemPath);
    each(item);
  }
}

// Calls `fill(ObjectReader&)` on the object at `v`; reports a wrong type, warns about unknown fields.
template <typename Fill>
bool readObject(Reporter& r, const nlohmann::json& v, const std::string& path, Fill fill) {
  if (!v.is_object()) {
    r.wrongType(path, "an object", v);
    return false;
  }
  ObjectReader o(r, v, path);
  fill(o);
  o.warnUnknown();
  return true;
}

// Status is written by controllers, not people: unknown fields (newer Argo versions) are ignored.
template <typename Fill>
void readStatusObject(Reporter& r, const nlohmann::json& v, const std::string& path, Fill fill) {
  if (!v.is_object()) {
    r.wrongType(path, "an object", v);
    return;
  }
  ObjectReader o(r, v, path);
  fill(o);
}

// ---- the envelope every kind shares -------------------------------------------------------------

// metadata: name (required), namespace, uid, resourceVersion, generation, labels, annotations; the other
// server-managed fields are accepted and dropped.
void readObjectMeta(ObjectReader& o, ObjectMeta& meta);

// Reads an object of one kind: `apiVersion` (one of `apiVersions`), `kind` (one of `kinds`), metadata into
// `meta`, the required spec by `spec`, then `status` on the top-level reader (it reads "status" itself,
// or leaves it to be reported as an unknown field); unknown top-level fields are warned about.
void readEnvelope(Reporter& r, const nlohmann::json& object, std::string& apiVersion, std::string& kind,
                  std::initializer_list<std::string_view> apiVersions,
                  std::initializer_list<std::string_view> kinds, ObjectMeta& meta,
                  const std::function<void(ObjectReader&)>& spec,
                  const std::function<void(ObjectReader&)>& status);

// Runs `read` on a fresh diagnostics list (an exception becomes an error against the whole document, so
// a defect never takes down a controller or a lint run), then moves the diagnostics into `diags` in
// reading order. Returns whether there was no error.
bool readInOrder(const SourceMap& source, Diagnostics& diags,
                 const std::function<void(Reporter&, Diagnostics&)>& read);

// The errors of `diags` on one line, "path: message; path: message", for callers that return a Result.
std::string joinErrors(const Diagnostics& diags);

// A status sub-object read into a fresh T by `fill(ObjectReader&, T&)`; nullopt when `v` is not an object.
template <typename T, typename Fill>
std::optional<T> readStatusValue(Reporter& r, const nlohmann::json& v, const std::string& path, Fill fill) {
  if (!v.is_object()) {
    r.wrongType(path, "an object", v);
    return std::nullopt;
  }
  T out{};
  ObjectReader o(r, v, path);
  fill(o, out);
  return out;
}

// `v` (an object from the API server, no source to point into) read into a fresh T by
// `fill(ObjectReader&, T&)` at `path`: its unknown fields warned about when `warnUnknown`, else ignored as a
// status' are. An error (its messages joined, an exception among them) when it cannot be read.
template <typename T, typename Fill>
Result<T> readWithoutSource(const nlohmann::json& v, const char* path, bool warnUnknown, Fill fill) {
  Diagnostics diags;
  const SourceMap noSource;
  Reporter r(noSource, diags);
  T out{};
  try {
    if (warnUnknown) {
      readObject(r, v, path, [&](ObjectReader& o) { fill(o, out); });
    } else {
      readStatusObject(r, v, path, [&](ObjectReader& o) { fill(o, out); });
    }
  } catch (const std::exception& e) {
    r.error(path, std::string("cannot be read: ") + e.what());
  }
  if (!diags.hasErrors()) return out;
  return Error{joinErrors(diags)};
}

// ---- writing: fields at their zero value are left out, so patches built from two objects diff cleanly

void putString(nlohmann::json& j, const char* key, const std::string& value);
void putInt(nlohmann::json& j, const char* key, int64_t value);
void putBool(nlohmann::json& j, const char* key, bool value);
void putTime(nlohmann::json& j, const char* key, const std::optional<Time>& value);

}  // namespace sluice::json_fields
