// Manifest builders for the Rollout loader tests: one valid Rollout whose lines are fixed, so a table row
// can name the line a diagnostic must point at, and a loader that returns what parseRollout reported.
#pragma once

#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "base/source.h"
#include "engine/rollout_json.h"

namespace sluice::testing {

// A valid Rollout. The canary body that `withCanary` adds starts on line 15, at an indent of 6.
inline const std::string kBaseRollout =
    "apiVersion: sluice.dev/v1alpha1\n"                // 1
    "kind: Rollout\n"                                  // 2
    "metadata:\n"                                      // 3
    "  name: web\n"                                    // 4
    "spec:\n"                                          // 5
    "  selector:\n"                                    // 6
    "    matchLabels: {app: web}\n"                    // 7
    "  template:\n"                                    // 8
    "    metadata:\n"                                  // 9
    "      labels: {app: web}\n"                       // 10
    "    spec:\n"                                      // 11
    "      containers: [{name: web, image: web:1}]\n"  // 12
    "  strategy:\n"                                    // 13
    "    canary:\n";                                   // 14

// Traffic-routing preludes for a canary body; each takes 5 lines, so steps: is on line 20, steps[0] on 21.
inline const std::string kIstio =
    "canaryService: c\nstableService: s\ntrafficRouting:\n  istio: {virtualService: {name: vs}}\n"
    "  managedRoutes: [{name: hr}, {name: mr}]\n";
inline const std::string kNginx =
    "canaryService: c\nstableService: s\ntrafficRouting:\n  nginx: {stableIngress: ing}\n"
    "  managedRoutes: [{name: hr}, {name: mr}]\n";
inline const std::string kSmi =
    "canaryService: c\nstableService: s\ntrafficRouting:\n  smi: {}\n"
    "  managedRoutes: [{name: hr}, {name: mr}]\n";

inline std::string indented(const std::string& body, int spaces) {
  std::string out;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    out += std::string(spaces, ' ') + body.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

// The base Rollout with `body` (YAML at indent 0) as spec.strategy.canary.
inline std::string withCanary(const std::string& body) { return kBaseRollout + indented(body, 6); }

// `text` with its first occurrence of `from` replaced by `to`; the test fails if `from` is missing.
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// The base Rollout with extra spec fields (YAML at indent 0) inserted from line 6 on.
inline std::string withSpec(const std::string& fields, const std::string& canaryBody = "{}") {
  return replaced(withCanary(canaryBody), "spec:\n", "spec:\n" + indented(fields, 2));
}

struct Loaded {
  std::optional<engine::Rollout> rollout;
  Diagnostics diags;
};

// Parses the first document of `yaml` as a Rollout.
inline Loaded loadRollout(const std::string& yaml) {
  auto docs = parseYamlDocuments(yaml, "t.yaml");
  INFO(yaml);
  REQUIRE(docs.ok());
  REQUIRE(!docs->empty());
  Loaded out;
  out.rollout = engine::parseRollout(docs->front().json, docs->front().source, out.diags);
  return out;
}

// The diagnostic at `path` whose message contains `fragment`, or nullptr.
inline const Diagnostic* findDiagnostic(const Diagnostics& diags, const std::string& path,
                                        const std::string& fragment) {
  for (const auto& d : diags.items()) {
    if (d.path == path && d.message.find(fragment) != std::string::npos) return &d;
  }
  return nullptr;
}

// One row of a diagnostics table: a manifest, and the one diagnostic it must produce.
struct DiagnosticCase {
  const char* behaviour;
  std::string yaml;
  std::string path;
  std::string fragment;
  int line;
  Severity severity = Severity::Error;
};

// Checks one row against what a loader reported: `diags` and whether it produced a value. An error means
// no value; a warning alone still gives one.
inline void checkDiagnostics(const DiagnosticCase& row, const Diagnostics& diags, bool producedValue) {
  INFO(row.behaviour);
  INFO(diags.format());
  const Diagnostic* d = findDiagnostic(diags, row.path, row.fragment);
  REQUIRE(d != nullptr);
  CHECK(d->severity == row.severity);
  CHECK(d->line == row.line);
  CHECK(d->file == "t.yaml");
  CHECK(producedValue == !diags.hasErrors());
}

inline void checkDiagnosticCase(const DiagnosticCase& row) {
  const Loaded loaded = loadRollout(row.yaml);
  checkDiagnostics(row, loaded.diags, loaded.rollout.has_value());
}

}  // namespace sluice::testing
