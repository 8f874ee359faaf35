#include "base/base64.h"

#include <openssl/evp.h>

namespace sluice {

std::string base64Encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64Decode(std::string_view in) {
  std::string out(in.size() / 4 * 3 + 4, '\0');
  EVP_ENCODE_CTX* ctx = EVP_ENCODE_CTX_new();
  if (ctx == nullptr) return std::nullopt;
  EVP_DecodeInit(ctx);
  int len = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  int rc = EVP_DecodeUpdate(ctx, dst, &len, reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
  int total = len;
  if (rc >= 0) {
    rc = EVP_DecodeFinal(ctx, dst + total, &len);
    total += len;
  }
  EVP_ENCODE_CTX_free(ctx);
  if (rc < 0) return std::nullopt;
  out.resize(static_cast<size_t>(total));
  return out;
}

}  // namespace sluice
