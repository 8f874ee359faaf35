// A field error as k8s.io/apimachinery's field.Error formats it, shared by schema validation and name
// checks, so that the API server can build its 422 message and Status causes from one type.
#pragma once

#include <string>

namespace sluice::kube {

struct FieldError {
  std::string field;   // "spec.replicas", "spec.items[0].name", "spec.labels[key]"
  std::string reason;  // the Status cause reason: FieldValueInvalid, FieldValueRequired, ...
  std::string
      detail;  // "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\""
  // `field: detail`, the text the server lists in its 422 message and the cause's message.
  std::string message() const { return field + ": " + detail; }
};

}  // namespace sluice::kube
