// Standard base64 (RFC 4648, with padding), as Kubernetes uses it for Secret data, kubeconfig
// certificate data and list continue tokens. On OpenSSL, which the project links anyway.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sluice {

// Encodes `in`. Pure, thread-safe.
std::string base64Encode(std::string_view in);

// Decodes `in` (line breaks allowed, as in PEM); nullopt when it is not valid base64. The result may hold
// any bytes, NULs included. Pure, thread-safe.
std::optional<std::string> base64Decode(std::string_view in);

}  // namespace sluice
