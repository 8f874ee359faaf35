// Errors the API server answers with: an HTTP code, a reason and a message, rendered as the real
// server's `Status` body (kind Status, status Failure, details with name, group and kind).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>

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
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const ApiError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

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
ApiError expired(std::string message);
ApiError unsupportedMediaType(const std::string& accepted);
ApiError methodNotAllowed(const std::string& verb, const std::string& resource);
ApiError internalError(const std::string& message);

}  // namespace sluice::apiserver
