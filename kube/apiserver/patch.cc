// Request bodies to patches: parse, refuse hostile nesting, apply with the kube/ engines, and word the
// failures as the real server's handlers/patch.go does.
#include "kube/apiserver/patch.h"

#include "kube/json_depth.h"
#include "kube/patch.h"
#include "kube/strategic_merge.h"

namespace sluice::apiserver {
namespace {

using nlohmann::json;

// The depth is checked on the raw bytes, before the parser builds anything, as for object bodies.
ApiResult<json> parseBody(const std::string& body) {
  auto parsed = kube::parseJsonBounded(body);
  if (parsed.tooDeep) return badRequest("error decoding patch: " + parsed.message);
  if (!parsed.ok()) return badRequest("error decoding patch: the body is not valid JSON");
  return std::move(parsed.value);
}

ApiResult<json> toApi(kube::PatchResult r) {
  if (r.ok()) return std::move(r).value();
  int code = kube::httpStatus(r.errorKind());
  switch (r.errorKind()) {
    case kube::PatchErrorKind::kBadRequest:
      return badRequest(r.error());
    case kube::PatchErrorKind::kUnprocessable:
      return ApiError{code,
                      "Invalid",
                      "the server rejected our request due to an error in our request",
                      {{"causes", json::array({{{"message", r.error()}}})}}};
    case kube::PatchErrorKind::kTooLarge:
      return ApiError{code, "RequestEntityTooLarge", r.error(), json::object()};
    case kube::PatchErrorKind::kUnsupportedMediaType:
      return ApiError{code, "UnsupportedMediaType", r.error(), json::object()};
    case kube::PatchErrorKind::kInternal:
      break;
  }
  return internalError(r.error());
}

}  // namespace

ApiResult<json> applyMergePatch(const json& original, const std::string& body) {
  auto patch = parseBody(body);
  if (!patch) return patch.error();
  return toApi(kube::applyMergePatch(original, *patch));
}

ApiResult<json> applyJsonPatch(const json& original, const std::string& body) {
  auto patch = parseBody(body);
  if (!patch) return patch.error();
  return toApi(kube::applyJsonPatch(original, *patch));
}

ApiResult<json> applyStrategicMergePatch(const json& original, const std::string& body,
                                         std::string_view apiVersion, std::string_view kind) {
  auto patch = parseBody(body);
  if (!patch) return patch.error();
  return toApi(kube::applyStrategicMergePatch(original, *patch, apiVersion, kind));
}

}  // namespace sluice::apiserver
