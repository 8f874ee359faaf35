// Schemas of the Kubernetes protobuf messages the API server decodes: for each message, its field
// numbers with the JSON name and kind of each field. The numbers are those of the generated.proto files
// of k8s.io/api and k8s.io/apimachinery; one table per message, in protobuf_schema.cc.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace sluice::apiserver::pb {

enum class Kind : std::uint8_t {
  kString,
  kInt32,
  kInt64,
  kBool,
  kBytes,         // base64 in JSON
  kMessage,       // a nested message: `message` says which
  kInline,        // a nested message whose fields JSON shows in the parent (Go's `json:",inline"`)
  kStringMap,     // map<string, string>
  kBytesMap,      // map<string, bytes>: values base64 in JSON
  kQuantityMap,   // map<string, resource.Quantity>: values strings in JSON
  kIntOrString,   // intstr.IntOrString {type, intVal, strVal}: a JSON number or string
  kQuantity,      // resource.Quantity {string}: a JSON string
  kTime,          // metav1.Time {seconds, nanos}: RFC 3339 to the second, null when zero
  kMicroTime,     // metav1.MicroTime: RFC 3339 with six fractional digits, null when zero
  kRawExtension,  // runtime.RawExtension / metav1.FieldsV1 {raw}: the raw bytes are the JSON value
  kUnsupported,   // a real field this server does not decode: the request gets a 415
};

// Field flags.
inline constexpr std::uint8_t kRepeated = 1;
// Keep the zero value ("", 0, false) when it is on the wire: a Go pointer field, or one without
// `omitempty`. Without it a zero scalar is left out, as Go's JSON encoding leaves it out.
inline constexpr std::uint8_t kKeepZero = 2;

struct MessageSchema;

struct FieldSchema {
  std::uint32_t number = 0;
  std::string_view json;
  Kind kind = Kind::kString;
  std::uint8_t flags = 0;
  const MessageSchema* message = nullptr;  // for kMessage and kInline
};

struct MessageSchema {
  std::string_view name;  // the Go type, for error messages
  // True when `fields` lists every field Kubernetes defines (as of 1.32): an unlisted number then comes
  // from a newer API and is dropped, as the real server drops it. When false, an unlisted number is a
  // field this server does not decode, and the request is refused rather than silently losing data.
  bool complete = true;
  std::vector<FieldSchema> fields;

  const FieldSchema* field(std::uint32_t number) const;
};

// The schema of a top-level object, by its apiVersion and kind; nullptr when this server has none.
const MessageSchema* findObjectSchema(std::string_view apiVersion, std::string_view kind);

}  // namespace sluice::apiserver::pb
