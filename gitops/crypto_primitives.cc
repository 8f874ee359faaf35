// OpenSSL EVP calls behind crypto_primitives.h; each context is freed on every path.
#include "gitops/crypto_primitives.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include <memory>

#include "base/openssl_ptr.h"

namespace sluice::gitops::crypto {
namespace {

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

constexpr size_t kTagSize = 16;

}  // namespace

std::optional<std::string> aeadOpen(Aead aead, std::string_view key, std::string_view iv,
                                    std::string_view aad, std::string_view ciphertext, std::string_view tag) {
  const bool gcm = aead == Aead::kAes256Gcm;
  if (key.size() != 32 || tag.size() != kTagSize || iv.empty() || (!gcm && iv.size() != 12))
    return std::nullopt;
  openssl::Ptr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return std::nullopt;
  const EVP_CIPHER* cipher = gcm ? EVP_aes_256_gcm() : EVP_chacha20_poly1305();
  if (EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key), bytes(iv)) != 1)
    return std::nullopt;
  int len = 0;
  if (!aad.empty() &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1)
    return std::nullopt;
  std::string out(ciphertext.size(), '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (!ciphertext.empty() &&
      EVP_DecryptUpdate(ctx.get(), dst, &len, bytes(ciphertext), static_cast<int>(ciphertext.size())) != 1)
    return std::nullopt;
  std::string tagCopy(tag);  // the ctrl takes a non-const pointer
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kTagSize, tagCopy.data()) != 1)
    return std::nullopt;
  int finalLen = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), dst + (ciphertext.empty() ? 0 : len), &finalLen) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> x25519(std::string_view scalar, std::string_view point) {
  if (scalar.size() != 32 || point.size() != 32) return std::nullopt;
  openssl::Ptr<EVP_PKEY> priv(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, bytes(scalar), scalar.size()));
  openssl::Ptr<EVP_PKEY> peer(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, bytes(point), point.size()));
  if (!priv || !peer) return std::nullopt;
  openssl::Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new(priv.get(), nullptr));
  std::string out(32, '\0');
  size_t len = out.size();
  // OpenSSL itself refuses an all-zero shared secret in EVP_PKEY_derive.
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 || len != 32)
    return std::nullopt;
  if (out == std::string(32, '\0')) return std::nullopt;
  return out;
}

std::optional<std::string> x25519Public(std::string_view scalar) {
  if (scalar.size() != 32) return std::nullopt;
  openssl::Ptr<EVP_PKEY> priv(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, bytes(scalar), scalar.size()));
  std::string out(32, '\0');
  size_t len = out.size();
  if (!priv ||
      EVP_PKEY_get_raw_public_key(priv.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      len != 32)
    return std::nullopt;
  return out;
}

std::optional<std::string> hkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info) {
  openssl::Ptr<EVP_KDF> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) return std::nullopt;
  openssl::Ptr<EVP_KDF_CTX> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return std::nullopt;
  std::string digest = "SHA256";
  std::string ikmCopy(ikm);
  std::string saltCopy(salt);
  std::string infoCopy(info);
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikmCopy.data(), ikmCopy.size());
  // HKDF-Extract with no salt uses a string of zeros, which HMAC treats as the empty key: the same thing.
  if (!saltCopy.empty())
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, saltCopy.data(), saltCopy.size());
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, infoCopy.data(), infoCopy.size());
  params[n] = OSSL_PARAM_construct_end();
  std::string out(32, '\0');
  const bool ok =
      EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(), params) == 1;
  OPENSSL_cleanse(ikmCopy.data(), ikmCopy.size());
  if (!ok) return std::nullopt;
  return out;
}

std::string hmacSha256(std::string_view key, std::string_view data) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes(data), data.size(),
       reinterpret_cast<unsigned char*>(out.data()), &len);
  out.resize(len);
  return out;
}

std::string sha512(std::string_view data) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len, EVP_sha512(),
             nullptr);
  out.resize(len);
  return out;
}

bool constantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sluice::gitops::crypto
