// The real server's checks on the built-in kinds, applied by the registry to every write: the JSON types
// its typed decoding accepts, the common metadata rules (names per kind, labels, annotations) and the
// per-kind rules a user meets first (workload selectors and replica counts, ConfigMap and Secret keys,
// Service types and ports). Pure functions, so the rules are tested as tables.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kube/apiserver/api_error.h"

namespace sluice::apiserver {

// The first field of `obj` (a `kind` of the core, apps or batch groups) whose JSON type the real
// server's typed decoding refuses, worded as Go's decoder words it: "json: cannot unmarshal array into
// Go struct field ConfigMap.data of type map[string]string". Empty when every checked field fits.
// The real server answers such a create or update with 400 "<Kind> in version "v1" cannot be handled
// as a <Kind>: <this>". Pure.
std::string typeProblem(const std::string& kind, const nlohmann::json& obj);

// Checks a name as the real server does for the kind: Namespaces need an RFC 1123 label, Services an
// RFC 1035 label, RBAC objects a path segment, other kinds an RFC 1123 subdomain. Returns the message
// after `metadata.name: Invalid value: "<name>": `, or "" if valid. Pure.
std::string nameProblem(const std::string& kind, const std::string& name);

// The field errors of the real server's validation of `obj` of a built-in `kind` (custom resources get
// the metadata rules only): metadata (name, labels, annotations), then the kind's own rules. `old` is
// the stored object on an update (selectors of apps/v1 workloads are immutable), null on a create.
// Field paths and wording follow the real server's 422 causes. Pure.
std::vector<FieldError> validateObject(const std::string& kind, bool custom, const nlohmann::json& obj,
                                       const nlohmann::json* old);

// Whether a workload's spec.selector selects its spec.template's labels (false for a missing or empty
// selector, which selects nothing here). The workload simulation acts only on workloads where it does,
// so that nothing stored before validation existed makes it create without bound. Pure.
bool selectorMatchesTemplate(const nlohmann::json& workload);

}  // namespace sluice::apiserver
