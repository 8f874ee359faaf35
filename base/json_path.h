// The subset of Kubernetes JSONPath that the web metric provider's `jsonPath` and a CRD's
// additionalPrinterColumns use: one braced expression of field names, indexes, wildcards, recursive descent
// and filters, e.g. {$.data.ratio}, {.items[*].latency}, {.status.conditions[?(@.type=="Ready")].status}.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sluice {

// Every node `path` selects in `doc`, in document order (a wildcard expands arrays in index order and
// objects in key order). Supported inside the braces: an optional leading `$` or `@`; `.name` and
// `['name']` (also "name"); `[N]` with negative N counting from the end; `[*]` and `.*`; recursive descent
// `..name` and `..*` (the node itself first, then its descendants, depth first); filters on arrays
// `[?(@.a.b == "x")]` with ==, !=, <, <=, >, >= against a string, number, boolean or another `@` path, and
// `[?(@.a)]` for presence. A comparison whose sides are missing or of different types does not match. An
// empty list means no match. An error (with the position, counted from 1, of the offending character) is a
// path outside this subset or one that does not parse: slices, unions, text outside the braces. Pure;
// thread-safe.
Result<std::vector<nlohmann::json>> jsonPathMatches(const nlohmann::json& doc, std::string_view path);

// A matched value as Kubernetes JSONPath prints it: strings bare, numbers as Go's %v writes them (1.5,
// 1e+06), booleans as true/false, null as "null", objects and arrays as compact JSON.
std::string jsonPathText(const nlohmann::json& value);

}  // namespace sluice
