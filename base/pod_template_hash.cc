// FNV-1a over a JSON value's canonical dump, spread over ten letters.
#include "base/pod_template_hash.h"

#include <nlohmann/json.hpp>
#include <string_view>

namespace sluice {
namespace {

constexpr std::string_view kHashAlphabet = "bcdfghjklmnpqrstvwxz2456789";
constexpr uint32_t kFnvOffset = 2166136261u;
constexpr uint32_t kFnvPrime = 16777619u;

uint32_t fnv1a(std::string_view bytes, uint32_t hash = kFnvOffset) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= kFnvPrime;
  }
  return hash;
}

// Spreads the 32-bit hash over 10 characters of the alphabet. A plain base-27 number would start with
// the same three letters for every hash; mixing each position keeps all ten informative.
std::string encodeHash(uint32_t hash) {
  std::string out;
  for (uint32_t position = 0; position < 10; ++position) {
    uint32_t mixed = kFnvOffset;
    for (int shift = 0; shift < 32; shift += 8) {
      mixed = (mixed ^ ((hash >> shift) & 0xffu)) * kFnvPrime;
    }
    mixed = (mixed ^ position) * kFnvPrime;
    out += kHashAlphabet[mixed % kHashAlphabet.size()];
  }
  return out;
}

}  // namespace

std::string podTemplateHash(const nlohmann::json& podTemplate, int64_t collisionCount) {
  uint32_t hash = fnv1a(podTemplate.dump());
  if (collisionCount > 0) hash = fnv1a(std::to_string(collisionCount), hash);
  return encodeHash(hash);
}

std::string jsonHash(const nlohmann::json& value) { return encodeHash(fnv1a(value.dump())); }

}  // namespace sluice
