// The three PATCH bodies the Kubernetes API accepts (JSON merge patch, JSON patch, strategic merge
// patch), applied to JSON objects, with errors classified the way the real API server reports them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>

#include "base/result.h"
#include "kube/json_depth.h"

namespace sluice::kube {

// How the real kube-apiserver (endpoints/handlers/patch.go, 1.32) reports a failed patch. The server
// maps each to its status code; httpStatus() gives it.
enum class PatchErrorKind {
  // 400 BadRequest: the body is not a patch of this type (not JSON, not an array of operations, an
  // operation without "op" or "path", a strategic-merge directive in the wrong shape), or a strategic
  // merge patch the merge cannot follow: an unknown `$patch` value, `$patch: merge` in a list, a
  // merge-keyed list element without its merge key, maps and scalars mixed in one list. The real server
  // lets those last ones through as plain Go errors and so answers 500; they are the client's mistake,
  // and a 500 would say the server failed, so we answer 400 with the real server's message.
  kBadRequest,
  // 422 Invalid: the patch is well formed but cannot be applied (a failing `test`, a path that does not
  // exist, `$retainKeys` not matching the patch, a list of lists). The real server answers with the
  // generic message "the server rejected our request due to an error in our request" and puts the
  // detail (our message) in details.causes[0].message.
  kUnprocessable,
  // 413 RequestEntityTooLarge: a JSON patch with more than 10,000 operations.
  kTooLarge,
  // 415 UnsupportedMediaType: strategic merge patch on a kind with no built-in schema (custom resources).
  kUnsupportedMediaType,
  // 500 InternalError: the server's own failure (a stored document that is not an object, a merge
  // list without a merge key in our schema tables).
  kInternal,
};

// The status code the real server answers with for `kind`.
int httpStatus(PatchErrorKind kind);

struct PatchError {
  PatchErrorKind kind = PatchErrorKind::kBadRequest;
  std::string message;
};

// The patched object, or a classified error. Reads like Result<nlohmann::json> (ok(), value(),
// error()) and converts to it, so callers that only need the message can ignore the kind.
class [[nodiscard]] PatchResult : public Expected<nlohmann::json, PatchError> {
 public:
  using Expected<nlohmann::json, PatchError>::Expected;

  // Precondition: !ok().
  const std::string& error() const { return Expected::error().message; }
  PatchErrorKind errorKind() const { return Expected::error().kind; }

  operator Result<nlohmann::json>() && {  // NOLINT(google-explicit-constructor)
    if (ok()) return std::move(*this).value();
    return Error{std::move(*this).Expected::error().message};
  }
};

// RFC 7386 JSON merge patch: objects merge recursively, null deletes a key, anything else (arrays
// included) replaces. A patch that is not an object replaces the whole document, as the RFC says.
// Fails only on input nested deeper than kMaxJsonNestingDepth (kBadRequest). Pure, thread-safe.
PatchResult applyMergePatch(const nlohmann::json& doc, const nlohmann::json& patch);

// The JSON merge patch that turns `from` into `to`: members of `from` missing from `to` are null, members
// that differ are `to`'s (objects diffed member by member, anything else replaced whole); an empty object
// when they are equal. What a controller sends to change an object in one write with no field it did not
// change. `to` must hold no null value (a merge patch cannot set one).
nlohmann::json mergePatchBetween(const nlohmann::json& from, const nlohmann::json& to);

// The real server's cap on JSON patch operations.
inline constexpr size_t kMaxJsonPatchOperations = 10000;

// RFC 6902 JSON patch (add, remove, replace, move, copy, test), applied in order, all or nothing.
// As in the real server, which decodes the body first (400) and applies it second (422): a patch that
// is not an array of objects -> kBadRequest; more than kMaxJsonPatchOperations operations ->
// kTooLarge; anything wrong while applying (an unknown "op", a missing "path", "from" or "value", a
// path that is not a JSON pointer or does not resolve, a failing `test`) -> kUnprocessable. The message
// names the operation's index and path. Input nested deeper than kMaxJsonNestingDepth -> kBadRequest.
// Pure, thread-safe.
PatchResult applyJsonPatch(const nlohmann::json& doc, const nlohmann::json& patch);

}  // namespace sluice::kube
