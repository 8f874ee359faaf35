// The three patch formats the API server accepts: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
// strategic merge patch for built-in kinds. Pure functions; errors carry the real server's status code.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "kube/apiserver/api_error.h"

namespace sluice::apiserver {

// RFC 7386 merge patch of `body` onto `original`. 400 when the body is not a JSON object.
ApiResult<nlohmann::json> applyMergePatch(const nlohmann::json& original, const std::string& body);

// RFC 6902 JSON patch. 400 for a malformed body or operation; 422 when an operation cannot apply (a missing
// path, a failed `test`); 422 beyond 10,000 operations, as the real server.
ApiResult<nlohmann::json> applyJsonPatch(const nlohmann::json& original, const std::string& body);

// Strategic merge patch for the built-in kinds: merge patch, except that the lists Kubernetes declares
// with a merge key (containers and volumes by name, ports, conditions by type, ownerReferences by uid, ...)
// merge element by element, `metadata.finalizers` merges as a set, and the `$patch`, `$setElementOrder`,
// `$retainKeys` and `$deleteFromPrimitiveList` directives are honoured. 400 for a body that is not an object.
ApiResult<nlohmann::json> applyStrategicMergePatch(const nlohmann::json& original, const std::string& body);

}  // namespace sluice::apiserver
