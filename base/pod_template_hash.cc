// SHA-256 over a JSON value's canonical dump, 64 bits of it written as ten letters.
#include "base/pod_template_hash.h"

#include <openssl/sha.h>

#include <nlohmann/json.hpp>
#include <string_view>

namespace sluice {
namespace {

constexpr std::string_view kHashAlphabet = "bcdfghjklmnpqrstvwxz2456789";

// The first 64 bits of the SHA-256 digest of `bytes`.
uint64_t digest64(const std::string& bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | digest[i];
  return value;
}

// Ten base-27 digits of the value: 27^10 (about 2^47.5) names, each digit drawn from all of the value, so
// two templates share a name only by chance of one in about 2e14.
std::string encodeHash(uint64_t value) {
  std::string out(10, ' ');
  for (char& c : out) {
    c = kHashAlphabet[value % kHashAlphabet.size()];
    value /= kHashAlphabet.size();
  }
  return out;
}

}  // namespace

std::string podTemplateHash(const nlohmann::json& podTemplate, int64_t collisionCount) {
  std::string bytes = podTemplate.dump();
  if (collisionCount > 0) bytes += "\n" + std::to_string(collisionCount);
  return encodeHash(digest64(bytes));
}

std::string jsonHash(const nlohmann::json& value) { return encodeHash(digest64(value.dump())); }

}  // namespace sluice
