// Kubernetes name, label and annotation rules (k8s.io/apimachinery/pkg/util/validation and
// ValidateObjectMeta), with the real server's messages, so that bad names get the same 422 text.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kube/field_error.h"

namespace sluice::kube {

inline constexpr size_t kDNS1123LabelMaxLength = 63;
inline constexpr size_t kDNS1123SubdomainMaxLength = 253;
inline constexpr size_t kQualifiedNameMaxLength = 63;
inline constexpr size_t kLabelValueMaxLength = 63;
// The total size of an object's annotations (keys plus values), in bytes.
inline constexpr size_t kTotalAnnotationSizeLimit = size_t{256} * 1024;

// Each returns the reasons `value` is not valid, worded as apimachinery's IsDNS1123Label and friends
// ("must be no more than 63 characters", "a lowercase RFC 1123 label must consist of ..."); an empty
// list means valid. Pure, thread-safe.

// An RFC 1123 label, e.g. a Namespace name: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters.
std::vector<std::string> isDNS1123Label(std::string_view value);
// An RFC 1035 label, e.g. a Service name: [a-z]([-a-z0-9]*[a-z0-9])?, at most 63 characters (a letter
// first, unlike an RFC 1123 label, so that the name can be a DNS name on its own).
std::vector<std::string> isDNS1035Label(std::string_view value);
// A path segment, the names of RBAC objects: anything but "." and "..", without '/' or '%'.
std::vector<std::string> isValidPathSegmentName(std::string_view value);
// A ConfigMap or Secret key: at most 253 alphanumerics, '-', '_' or '.'.
std::vector<std::string> isConfigMapKey(std::string_view value);
// An RFC 1123 subdomain, most objects' names: labels joined by '.', at most 253 characters.
std::vector<std::string> isDNS1123Subdomain(std::string_view value);
// A label or annotation key: an optional DNS subdomain prefix and '/', then a name of at most 63
// alphanumerics, '-', '_' or '.', starting and ending alphanumeric.
std::vector<std::string> isQualifiedName(std::string_view value);
// A label value: empty, or at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric.
std::vector<std::string> isValidLabelValue(std::string_view value);

// metadata.labels: every key a qualified name, every value a label value. `path` is the field path
// of the map ("metadata.labels"); errors name `path` for a bad key and `path[key]` for a bad value.
// A non-object is a type error. Pure.
std::vector<FieldError> validateLabels(const nlohmann::json& labels, const std::string& path);

// metadata.annotations: every key a qualified name (checked lowercased, as the real server does),
// values strings, and keys plus values together at most kTotalAnnotationSizeLimit bytes. Pure.
std::vector<FieldError> validateAnnotations(const nlohmann::json& annotations, const std::string& path);

// An object name: an RFC 1123 subdomain, or a label when `labelOnly` (Namespaces). Errors name
// `path` ("metadata.name") with the value: `metadata.name: Invalid value: "Foo": a lowercase RFC
// 1123 subdomain must consist of ...`; an empty name is `metadata.name: Required value: name or
// generateName is required`. Pure.
std::vector<FieldError> validateObjectName(std::string_view name, bool labelOnly, const std::string& path);

}  // namespace sluice::kube
