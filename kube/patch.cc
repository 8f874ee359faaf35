// JSON merge patch and JSON patch on nlohmann::json, with the real server's error classes.
#include "kube/patch.h"

#include <string>
#include <utility>
#include <vector>

namespace sluice::kube {

using nlohmann::json;

int httpStatus(PatchErrorKind kind) {
  switch (kind) {
    case PatchErrorKind::kBadRequest:
      return 400;
    case PatchErrorKind::kUnprocessable:
      return 422;
    case PatchErrorKind::kTooLarge:
      return 413;
    case PatchErrorKind::kUnsupportedMediaType:
      return 415;
    case PatchErrorKind::kInternal:
      return 500;
  }
  return 500;
}

namespace {

PatchError tooDeep() {
  return {PatchErrorKind::kBadRequest,
          "the document or patch nests deeper than " + std::to_string(kMaxJsonNestingDepth) + " levels"};
}

}  // namespace

PatchResult applyMergePatch(const json& doc, const json& patch) {
  if (nestedDeeperThan(doc, kMaxJsonNestingDepth) || nestedDeeperThan(patch, kMaxJsonNestingDepth))
    return tooDeep();
  json result = doc;
  result.merge_patch(patch);
  return result;
}

namespace {

PatchError unprocessable(size_t index, const json& op, const std::string& what) {
  std::string where = "operation " + std::to_string(index);
  std::string detail;
  if (op.contains("op") && op["op"].is_string()) detail = op["op"].get<std::string>();
  if (op.contains("path") && op["path"].is_string())
    detail += (detail.empty() ? "" : " ") + op["path"].get<std::string>();
  if (!detail.empty()) where += " (" + detail + ")";
  return {PatchErrorKind::kUnprocessable, where + ": " + what};
}

// Checks the fields an operation needs, as the decoder of the real server does while applying.
std::string missingField(const json& op) {
  if (!op.contains("op") || !op["op"].is_string()) return "operation missing op field";
  const auto name = op["op"].get<std::string>();
  static const char* const kKnown[] = {"add", "remove", "replace", "move", "copy", "test"};
  bool known = false;
  for (const char* k : kKnown) known = known || name == k;
  if (!known) return "unexpected kind: " + name;
  if (!op.contains("path") || !op["path"].is_string()) return "operation missing path field";
  if ((name == "move" || name == "copy") && (!op.contains("from") || !op["from"].is_string()))
    return name + " operation missing from field";
  if ((name == "add" || name == "replace" || name == "test") && !op.contains("value"))
    return name + " operation missing value field";
  return {};
}

}  // namespace

PatchResult applyJsonPatch(const json& doc, const json& patch) {
  if (!patch.is_array())
    return PatchError{PatchErrorKind::kBadRequest, "json: cannot unmarshal " +
                                                       std::string(patch.type_name()) +
                                                       " into Go value of type jsonpatch.Patch"};
  for (const auto& op : patch) {
    if (!op.is_object())
      return PatchError{PatchErrorKind::kBadRequest, "json: cannot unmarshal " + std::string(op.type_name()) +
                                                         " into Go value of type jsonpatch.Operation"};
  }
  if (patch.size() > kMaxJsonPatchOperations)
    return PatchError{PatchErrorKind::kTooLarge, "The allowed maximum operations in a JSON patch is " +
                                                     std::to_string(kMaxJsonPatchOperations) + ", got " +
                                                     std::to_string(patch.size())};
  if (nestedDeeperThan(doc, kMaxJsonNestingDepth) || nestedDeeperThan(patch, kMaxJsonNestingDepth))
    return tooDeep();
  json result = doc;
  for (size_t i = 0; i < patch.size(); ++i) {
    const json& op = patch[i];
    if (auto missing = missingField(op); !missing.empty()) return unprocessable(i, op, missing);
    try {
      // One operation at a time, in place on our own copy, so that the error names the operation that
      // failed and a long patch does not copy the document once per operation.
      result.patch_inplace(json::array({op}));
    } catch (const json::other_error& e) {
      if (e.id == 501) return unprocessable(i, op, "test failed");
      return unprocessable(i, op, e.what());
    } catch (const json::out_of_range& e) {
      return unprocessable(i, op, std::string("doc is missing path: ") + e.what());
    } catch (const json::exception& e) {
      return unprocessable(i, op, e.what());
    }
  }
  return result;
}

nlohmann::json mergePatchBetween(const nlohmann::json& from, const nlohmann::json& to) {
  if (!from.is_object() || !to.is_object()) return to;
  nlohmann::json patch = nlohmann::json::object();
  for (const auto& [key, value] : from.items()) {
    if (!to.contains(key)) patch[key] = nullptr;
  }
  for (const auto& [key, value] : to.items()) {
    const auto old = from.find(key);
    if (old == from.end()) {
      patch[key] = value;
    } else if (*old != value) {
      patch[key] = old->is_object() && value.is_object() ? mergePatchBetween(*old, value) : value;
    }
  }
  return patch;
}

}  // namespace sluice::kube
