// A failed Kubernetes API request, one type for both sides: the client decodes the server's Status
// into it, the embedded API server renders it as its Status body (kube/apiserver/api_error.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace sluice::kube {

// Why a request failed: the server answered with an error Status, the exchange failed before an answer
// (unreachable, TLS, timeout), or the client refused or could not build it (credentials, bad input).
enum class ApiErrorKind { kStatus, kTransport, kClient };

// A failed request. For kStatus, `code`, `reason`, `message` and `details` are the Status's (on the
// client, decoded from the body, or from the HTTP status when the body is not a Status). The first four
// fields come first so that the server can write `{404, "NotFound", message, details}`.
struct ApiError {
  int code = 0;         // HTTP status; 0 unless kStatus
  std::string reason;   // "NotFound", "Conflict", ... (Status.reason)
  std::string message;  // the Status message (as kubectl prints it after "Error from server (<reason>): "),
                        // or the transport/client failure in a sentence
  nlohmann::json details = nlohmann::json::object();  // Status.details: name, group, kind, causes
  ApiErrorKind kind = ApiErrorKind::kStatus;
  std::string verb{}, path{};  // what was asked, for messages (client side); {} keeps aggregate
                               // initialisation by the first four fields free of warnings

  // A request the client refused or could not build; `verb` and `path` say which, when known.
  static ApiError client(std::string message, std::string verb = "", std::string path = "");

  bool isNotFound() const { return is(404, "NotFound"); }
  bool isAlreadyExists() const { return is(409, "AlreadyExists"); }
  // 409 Conflict (a stale resourceVersion); AlreadyExists shares the code but not the reason.
  bool isConflict() const { return kind == ApiErrorKind::kStatus && reason == "Conflict"; }
  bool isInvalid() const { return is(422, "Invalid"); }
  bool isExpired() const { return is(410, "Expired") || (kind == ApiErrorKind::kStatus && reason == "Gone"); }
  bool isUnauthorized() const { return is(401, "Unauthorized"); }
  bool isForbidden() const { return is(403, "Forbidden"); }
  bool isTooManyRequests() const { return is(429, "TooManyRequests"); }
  bool isTransport() const { return kind == ApiErrorKind::kTransport; }
  // "GET /api/v1/namespaces/x/configmaps/y: 404 NotFound: configmaps \"y\" not found".
  std::string describe() const;

 private:
  bool is(int c, const char* r) const { return kind == ApiErrorKind::kStatus && (reason == r || code == c); }
};

// A value or an ApiError.
template <typename T>
using ApiResult = Expected<T, ApiError>;

}  // namespace sluice::kube
