// libFuzzer entry point for the protobuf request-body decoder. An input whose first byte is below the
// number of kinds below is that kind's raw message (wrapped here in the k8s envelope, so that the fuzzer
// starts inside the message tables); any other input is a whole request body. Crashes, sanitizer reports,
// exceptions and broken invariants are bugs.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "kube/apiserver/request_body.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

struct TypeName {
  const char* apiVersion;
  const char* kind;
};

constexpr std::array kKinds{
    TypeName{"v1", "ConfigMap"},
    TypeName{"v1", "Secret"},
    TypeName{"v1", "Namespace"},
    TypeName{"v1", "ServiceAccount"},
    TypeName{"v1", "Service"},
    TypeName{"v1", "Event"},
    TypeName{"v1", "Pod"},
    TypeName{"apps/v1", "Deployment"},
    TypeName{"batch/v1", "Job"},
    TypeName{"rbac.authorization.k8s.io/v1", "ClusterRole"},
    TypeName{"rbac.authorization.k8s.io/v1", "RoleBinding"},
    TypeName{"networking.k8s.io/v1", "Ingress"},
    TypeName{"coordination.k8s.io/v1", "Lease"},
};

void appendVarint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void appendBytesField(std::string& out, std::uint32_t number, std::string_view bytes) {
  appendVarint(out, (number << 3) | 2);
  appendVarint(out, bytes.size());
  out.append(bytes);
}

std::string envelope(const TypeName& type, std::string_view raw) {
  std::string typeMeta;
  appendBytesField(typeMeta, 1, type.apiVersion);
  appendBytesField(typeMeta, 2, type.kind);
  std::string out("k8s\0", 4);
  appendBytesField(out, 1, typeMeta);
  appendBytesField(out, 2, raw);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string body(input);
  const TypeName* wrapped = nullptr;
  if (!input.empty() && static_cast<std::size_t>(data[0]) < kKinds.size()) {
    wrapped = &kKinds[data[0]];
    body = envelope(*wrapped, input.substr(1));
  }
  auto decoded = sluice::apiserver::decodeProtobufObject(body);
  if (!decoded) {
    const auto& e = decoded.error();
    require(e.code == 400 || e.code == 415);
    require(!e.message.empty());
    (void)sluice::apiserver::statusBody(e).dump();  // throws on invalid UTF-8 in the message
    return 0;
  }
  require(decoded->is_object());
  require(decoded->value("kind", "") != "");
  if (wrapped != nullptr) require((*decoded)["kind"] == wrapped->kind);
  // The JSON must serialize (valid UTF-8 throughout) and read back the same.
  const std::string text = decoded->dump();
  require(nlohmann::json::parse(text) == *decoded);
  return 0;
}
