// The subset of Kubernetes JSONPath the web provider's `jsonPath` uses: one braced expression of field
// names, indexes and wildcards, e.g. {$}, {$.data.ratio}, {.items[0].value}, {$.items[*].latency}.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sluice::analysis {

// Every node `path` selects in `doc`, in document order (a wildcard expands arrays in index order and
// objects in key order). Supported inside the braces: an optional leading `$`; `.name` and `['name']`
// (also "name"); `[N]` with negative N counting from the end; `[*]` and `.*`. An empty list means no
// match. An error (with the position, counted from 1, of the offending character) is a path outside this
// subset or one that does not parse: recursive descent `..`, filters `[?()]`, slices, unions, text outside
// the braces. Pure; thread-safe.
Result<std::vector<nlohmann::json>> jsonPathMatches(const nlohmann::json& doc, std::string_view path);

}  // namespace sluice::analysis
