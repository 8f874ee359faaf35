// The few primitives age and SOPS decryption need, on OpenSSL's EVP interface: X25519, HKDF-SHA-256,
// HMAC-SHA-256, SHA-512 and the two AEADs (ChaCha20-Poly1305, AES-256-GCM).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sluice::gitops::crypto {

enum class Aead { kChaCha20Poly1305, kAes256Gcm };

// Authenticated decryption: the plaintext, or nullopt when the tag does not verify (wrong key, altered
// ciphertext, nonce or additional data) or a parameter has the wrong size. `iv` may have any length
// GCM accepts (SOPS uses 32 bytes); ChaCha20-Poly1305 takes 12.
std::optional<std::string> aeadOpen(Aead aead, std::string_view key, std::string_view iv,
                                    std::string_view aad, std::string_view ciphertext, std::string_view tag);

// X25519(scalar, point), 32 bytes; nullopt for a malformed input or an all-zero result (a low-order
// point, which age must refuse).
std::optional<std::string> x25519(std::string_view scalar, std::string_view point);

// The X25519 public key of a 32-byte secret scalar.
std::optional<std::string> x25519Public(std::string_view scalar);

// HKDF-SHA-256 (RFC 5869): 32 bytes of output keying material. An empty salt is the RFC's default.
std::optional<std::string> hkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info);

std::string hmacSha256(std::string_view key, std::string_view data);
std::string sha512(std::string_view data);

// Whether two byte strings are equal, in time independent of where they differ.
bool constantTimeEqual(std::string_view a, std::string_view b);

}  // namespace sluice::gitops::crypto
