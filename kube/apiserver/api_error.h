// Errors the API server answers with: an HTTP code, a reason and a message, rendered as the real
// server's `Status` body (kind Status, status Failure, details with name, group and kind).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>

#include "base/result.h"

namespace sluice::apiserver {

struct ApiError {
  int code = 500;
  std::string reason;   // "NotFound", "AlreadyExists", "Conflict", "Invalid", ...
  std::string message;  // as kubectl prints it after "Error from server (<reason>): "
  nlohmann::json details = nlohmann::json::object();  // {name, group, kind, causes[]}; may stay empty
};

// The Status object for an error: {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",...}.
nlohmann::json statusBody(const ApiError& error);

// A value or an ApiError.
template <typename T>
using ApiResult = Expected<T, ApiError>;

// The common errors, worded as the real server words them. `resource` is the plural resource and
// `group` its API group ("" for core); messages name "<resource>[.<group>] \"<name>\"".
ApiError badRequest(std::string message);
ApiError notFound(const std::string& resource, const std::string& group, const std::string& name);
ApiError alreadyExists(const std::string& resource, const std::string& group, const std::string& name);
ApiError conflict(const std::string& resource, const std::string& group, const std::string& name);
ApiError conflictMessage(const std::string& resource, const std::string& group, const std::string& name,
                         const std::string& why);
// 422: `<Kind>[.<group>] "<name>" is invalid: <field>: <detail>` with one cause per field error.
struct FieldError {
  std::string field;   // "metadata.name"
  std::string type;    // "Invalid value", "Required value", "Forbidden"
  std::string detail;  // the rest of the message: `"Bad_Name": a lowercase RFC 1123 ...`
};
ApiError invalid(const std::string& kind, const std::string& group, const std::string& name,
                 const std::vector<FieldError>& errors);
// 403: `<res>[.<group>] "<name>" is forbidden: <why>` (`<res>[.<group>] is forbidden: ...` without a name).
ApiError forbidden(const std::string& resource, const std::string& group, const std::string& name,
                   const std::string& why);
ApiError expired(std::string message);
// 504 Timeout for a read from a resourceVersion past the newest one: "Timeout: Too large resource
// version: <requested>, current: <current>", a ResourceVersionTooLarge cause and retryAfterSeconds 1, as
// the real server's storage.NewTooLargeResourceVersionError (client-go's reflector retries on it).
ApiError tooLargeResourceVersion(int64_t requested, int64_t current);
ApiError unsupportedMediaType(const std::string& accepted);
ApiError methodNotAllowed(const std::string& verb, const std::string& resource);
ApiError internalError(const std::string& message);

}  // namespace sluice::apiserver
