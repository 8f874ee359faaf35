// The real server's error wording (apimachinery's errors package), as values.
#include "kube/apiserver/api_error.h"

namespace sluice::apiserver {
namespace {

std::string qualified(const std::string& resource, const std::string& group) {
  return group.empty() ? resource : resource + "." + group;
}

nlohmann::json details(const std::string& resource, const std::string& group, const std::string& name) {
  nlohmann::json d = nlohmann::json::object();
  if (!name.empty()) d["name"] = name;
  if (!group.empty()) d["group"] = group;
  d["kind"] = resource;
  return d;
}

}  // namespace

nlohmann::json statusBody(const ApiError& error) {
  nlohmann::json s = {
      {"kind", "Status"},    {"apiVersion", "v1"},       {"metadata", nlohmann::json::object()},
      {"status", "Failure"}, {"message", error.message}, {"reason", error.reason},
      {"code", error.code}};
  if (!error.details.empty()) s["details"] = error.details;
  return s;
}

ApiError badRequest(std::string message) { return {400, "BadRequest", std::move(message), {}}; }

ApiError notFound(const std::string& resource, const std::string& group, const std::string& name) {
  return {404, "NotFound", qualified(resource, group) + " \"" + name + "\" not found",
          details(resource, group, name)};
}

ApiError alreadyExists(const std::string& resource, const std::string& group, const std::string& name) {
  return {409, "AlreadyExists", qualified(resource, group) + " \"" + name + "\" already exists",
          details(resource, group, name)};
}

ApiError conflict(const std::string& resource, const std::string& group, const std::string& name) {
  return conflictMessage(
      resource, group, name,
      "the object has been modified; please apply your changes to the latest version and try "
      "again");
}

ApiError conflictMessage(const std::string& resource, const std::string& group, const std::string& name,
                         const std::string& why) {
  return {409, "Conflict",
          "Operation cannot be fulfilled on " + qualified(resource, group) + " \"" + name + "\": " + why,
          details(resource, group, name)};
}

ApiError invalid(const std::string& kind, const std::string& group, const std::string& name,
                 const std::vector<FieldError>& errors) {
  std::string message = qualified(kind, group) + " \"" + name + "\" is invalid: ";
  nlohmann::json causes = nlohmann::json::array();
  std::string joined;
  for (const auto& e : errors) {
    // An empty type means the detail already carries it ("Invalid value: ...", from schema validation).
    std::string what = e.type.empty() ? e.detail : e.type + (e.detail.empty() ? "" : ": " + e.detail);
    std::string one = e.field + ": " + what;
    if (!joined.empty()) joined += ", ";
    joined += one;
    auto starts = [&](const char* prefix) { return what.rfind(prefix, 0) == 0; };
    std::string reason = starts("Required value")      ? "FieldValueRequired"
                         : starts("Forbidden")         ? "FieldValueForbidden"
                         : starts("Duplicate value")   ? "FieldValueDuplicate"
                         : starts("Not found")         ? "FieldValueNotFound"
                         : starts("Unsupported value") ? "FieldValueNotSupported"
                         : starts("Too long")          ? "FieldValueTooLong"
                                                       : "FieldValueInvalid";
    causes.push_back({{"reason", reason}, {"message", what}, {"field", e.field}});
  }
  message += errors.size() == 1 ? joined : "[" + joined + "]";
  nlohmann::json d = details(kind, group, name);
  d["causes"] = causes;
  return {422, "Invalid", message, d};
}

ApiError forbidden(const std::string& resource, const std::string& group, const std::string& name,
                   const std::string& why) {
  std::string subject =
      name.empty() ? qualified(resource, group) : qualified(resource, group) + " \"" + name + "\"";
  return {403, "Forbidden", subject + " is forbidden: " + why, details(resource, group, name)};
}

ApiError expired(std::string message) { return {410, "Expired", std::move(message), {}}; }

ApiError tooLargeResourceVersion(int64_t requested, int64_t current) {
  return {504,
          "Timeout",
          "Timeout: Too large resource version: " + std::to_string(requested) +
              ", current: " + std::to_string(current),
          {{"causes", nlohmann::json::array({{{"reason", "ResourceVersionTooLarge"},
                                              {"message", "Too large resource version"}}})},
           {"retryAfterSeconds", 1}}};
}

ApiError unsupportedMediaType(const std::string& accepted) {
  return {415,
          "UnsupportedMediaType",
          "the body of the request was in an unknown format - accepted media types include: " + accepted,
          {}};
}

ApiError methodNotAllowed(const std::string& verb, const std::string& resource) {
  return {405, "MethodNotAllowed", verb + " is not supported on resources of kind \"" + resource + "\"", {}};
}

ApiError internalError(const std::string& message) {
  return {500, "InternalError", "Internal error occurred: " + message, {}};
}

}  // namespace sluice::apiserver
