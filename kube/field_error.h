// A field error as k8s.io/apimachinery's field.Error formats it, shared by schema validation, name
// checks and the embedded API server's own checks, so that the server builds its 422 message and Status
// causes from one type.
#pragma once

#include <string>
#include <utility>

namespace sluice::kube {

struct FieldError {
  std::string field;   // "spec.replicas", "spec.items[0].name", "spec.labels[key]"
  std::string reason;  // the Status cause reason: FieldValueInvalid, FieldValueRequired, ...
  std::string
      detail;  // "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\""
  // `field: detail`, the text the server lists in its 422 message and the cause's message.
  std::string message() const { return field + ": " + detail; }
};

// The common kinds, worded as field.Required, field.Invalid, field.Forbidden and field.NotSupported
// word them; `what` is the rest of the message (for Invalid and NotSupported it starts with the value).
inline FieldError fieldRequired(std::string field, const std::string& what = "") {
  return {std::move(field), "FieldValueRequired",
          what.empty() ? "Required value" : "Required value: " + what};
}
inline FieldError fieldInvalid(std::string field, const std::string& what) {
  return {std::move(field), "FieldValueInvalid", "Invalid value: " + what};
}
inline FieldError fieldForbidden(std::string field, const std::string& what) {
  return {std::move(field), "FieldValueForbidden", "Forbidden: " + what};
}
inline FieldError fieldTooLong(std::string field, const std::string& what) {
  return {std::move(field), "FieldValueTooLong", "Too long: " + what};
}
inline FieldError fieldDuplicate(std::string field, const std::string& what) {
  return {std::move(field), "FieldValueDuplicate", "Duplicate value: " + what};
}
inline FieldError fieldNotSupported(std::string field, const std::string& what) {
  return {std::move(field), "FieldValueNotSupported", "Unsupported value: " + what};
}

}  // namespace sluice::kube
