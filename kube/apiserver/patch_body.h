// The three patch formats the API server accepts, from request bodies: JSON merge patch (RFC 7386),
// JSON patch (RFC 6902) and strategic merge patch for built-in kinds, on the engines in kube/patch.h
// and kube/strategic_merge.h, with failures turned into the real server's Status errors.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "kube/apiserver/api_error.h"

namespace sluice::apiserver {

// RFC 7386 merge patch of `body` onto `original`. 400 when the body is not JSON or nests too deep.
ApiResult<nlohmann::json> applyMergePatch(const nlohmann::json& original, const std::string& body);

// RFC 6902 JSON patch. 400 for a body that is not an array of operations; 422 when an operation cannot
// apply (a missing path, a failed `test`); 413 beyond 10,000 operations, as the real server.
ApiResult<nlohmann::json> applyJsonPatch(const nlohmann::json& original, const std::string& body);

// Strategic merge patch for the built-in kind `apiVersion`/`kind`; 415 for kinds without a schema
// (custom resources), 400/422/500 as the real server classifies bad patches.
ApiResult<nlohmann::json> applyStrategicMergePatch(const nlohmann::json& original, const std::string& body,
                                                   std::string_view apiVersion, std::string_view kind);

}  // namespace sluice::apiserver
