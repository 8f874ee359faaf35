// age v1: Bech32 identities, the textual header with its HMAC, X25519 stanzas and the STREAM payload
// (64 KiB ChaCha20-Poly1305 chunks), as the age specification defines them.
#include "gitops/age.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/base64.h"
#include "gitops/crypto_primitives.h"

namespace sluice::gitops {
namespace {

constexpr std::string_view kIdentityHrp = "age-secret-key-";
constexpr std::string_view kRecipientHrp = "age";
constexpr std::string_view kVersionLine = "age-encryption.org/v1";
constexpr std::string_view kArmorBegin = "-----BEGIN AGE ENCRYPTED FILE-----";
constexpr std::string_view kArmorEnd = "-----END AGE ENCRYPTED FILE-----";
constexpr size_t kChunkSize = size_t{64} << 10;
constexpr size_t kTagSize = 16;
constexpr size_t kFileKeySize = 16;
constexpr size_t kStanzaLineWidth = 64;

// Wipes a secret held in a std::string when it goes out of scope.
struct Wiped {
  std::string bytes;
  Wiped() = default;
  explicit Wiped(std::string b) : bytes(std::move(b)) {}
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;
  ~Wiped() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

// ---- Bech32 (BIP 173), the encoding of age keys ----
constexpr std::string_view kBech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

uint32_t bech32Polymod(const std::vector<uint8_t>& values) {
  constexpr std::array<uint32_t, 5> kGen = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  uint32_t chk = 1;
  for (uint8_t v : values) {
    const uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (size_t i = 0; i < kGen.size(); ++i)
      if ((top >> i) & 1) chk ^= kGen[i];
  }
  return chk;
}

std::vector<uint8_t> hrpExpand(std::string_view hrp) {
  std::vector<uint8_t> out;
  for (char c : hrp) out.push_back(static_cast<uint8_t>(c) >> 5);
  out.push_back(0);
  for (char c : hrp) out.push_back(static_cast<uint8_t>(c) & 31);
  return out;
}

// Regroups bits: 5-bit groups to bytes (decode) or bytes to 5-bit groups (encode).
std::optional<std::vector<uint8_t>> convertBits(const std::vector<uint8_t>& in, int from, int to, bool pad) {
  uint32_t acc = 0;
  int bits = 0;
  std::vector<uint8_t> out;
  const uint32_t maxv = (1U << to) - 1;
  for (uint8_t v : in) {
    if ((v >> from) != 0) return std::nullopt;
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push_back(static_cast<uint8_t>((acc >> bits) & maxv));
    }
  }
  if (pad) {
    if (bits > 0) out.push_back(static_cast<uint8_t>((acc << (to - bits)) & maxv));
  } else if (bits >= from || ((acc << (to - bits)) & maxv) != 0) {
    return std::nullopt;
  }
  return out;
}

// The payload bytes of a Bech32 string with human-readable part `hrp` (compared without case); nullopt
// for any other string, a mixed-case one or a bad checksum.
std::optional<std::string> bech32Decode(std::string_view s, std::string_view hrp) {
  const bool hasLower = std::any_of(s.begin(), s.end(), [](unsigned char c) { return std::islower(c); });
  const bool hasUpper = std::any_of(s.begin(), s.end(), [](unsigned char c) { return std::isupper(c); });
  if (hasLower && hasUpper) return std::nullopt;
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto sep = lower.rfind('1');
  if (sep == std::string::npos || lower.substr(0, sep) != hrp || lower.size() - sep < 7) return std::nullopt;
  std::vector<uint8_t> data;
  for (size_t i = sep + 1; i < lower.size(); ++i) {
    const auto pos = kBech32Charset.find(lower[i]);
    if (pos == std::string_view::npos) return std::nullopt;
    data.push_back(static_cast<uint8_t>(pos));
  }
  std::vector<uint8_t> check = hrpExpand(hrp);
  check.insert(check.end(), data.begin(), data.end());
  if (bech32Polymod(check) != 1) return std::nullopt;
  data.resize(data.size() - 6);
  const auto bytes = convertBits(data, 5, 8, false);
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

std::string bech32Encode(std::string_view hrp, std::string_view payload) {
  const auto data = *convertBits(std::vector<uint8_t>(payload.begin(), payload.end()), 8, 5, true);
  std::vector<uint8_t> check = hrpExpand(hrp);
  check.insert(check.end(), data.begin(), data.end());
  check.insert(check.end(), 6, 0);
  const uint32_t mod = bech32Polymod(check) ^ 1;
  std::string out = std::string(hrp) + "1";
  for (uint8_t d : data) out += kBech32Charset[d];
  for (int i = 0; i < 6; ++i) out += kBech32Charset[(mod >> (5 * (5 - i))) & 31];
  return out;
}

std::optional<std::string> identityScalar(std::string_view identity) {
  auto scalar = bech32Decode(identity, kIdentityHrp);
  if (!scalar || scalar->size() != 32) return std::nullopt;
  return scalar;
}

// ---- the file ----

// Canonical unpadded base64, as the age header requires: no '=', no stray bits in the last character.
std::optional<std::string> rawBase64(std::string_view s) {
  const bool alphabet = std::all_of(s.begin(), s.end(),
                                    [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '/'; });
  if (!alphabet || s.size() % 4 == 1) return std::nullopt;
  std::string padded(s);
  padded.append((4 - s.size() % 4) % 4, '=');
  auto out = sluice::base64Decode(padded);
  if (!out) return std::nullopt;
  std::string again = sluice::base64Encode(*out);
  while (!again.empty() && again.back() == '=') again.pop_back();
  if (again != s) return std::nullopt;
  return out;
}

struct Stanza {
  std::vector<std::string> args;  // the type first
  std::string body;
};

struct Header {
  std::vector<Stanza> stanzas;
  std::string macInput;  // the header up to and including "---"
  std::string mac;
  size_t payloadOffset = 0;
};

std::vector<std::string> splitSpaces(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const auto sp = s.find(' ', start);
    const auto end = sp == std::string_view::npos ? s.size() : sp;
    out.emplace_back(s.substr(start, end - start));
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  return out;
}

Result<Header> parseHeader(std::string_view file) {
  size_t pos = 0;
  auto nextLine = [&]() -> std::optional<std::string_view> {
    const auto nl = file.find('\n', pos);
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view line = file.substr(pos, nl - pos);
    pos = nl + 1;
    return line;
  };
  const auto version = nextLine();
  if (!version || *version != kVersionLine)
    return Error{"not an age file (the first line is not \"age-encryption.org/v1\")"};
  Header h;
  while (true) {
    const size_t lineStart = pos;
    const auto line = nextLine();
    if (!line) return Error{"the age header is truncated"};
    if (line->substr(0, 4) == "--- ") {
      h.macInput = std::string(file.substr(0, lineStart + 3));
      auto mac = rawBase64(line->substr(4));
      if (!mac || mac->size() != 32) return Error{"the age header's MAC line is malformed"};
      h.mac = std::move(*mac);
      h.payloadOffset = pos;
      return h;
    }
    if (line->substr(0, 3) != "-> ") return Error{"the age header has a malformed line"};
    Stanza st;
    st.args = splitSpaces(line->substr(3));
    for (const auto& a : st.args)
      if (a.empty()) return Error{"the age header has a stanza with an empty argument"};
    std::string body;
    while (true) {
      const auto bodyLine = nextLine();
      if (!bodyLine) return Error{"the age header is truncated"};
      if (bodyLine->size() > kStanzaLineWidth) return Error{"the age header has an over-long stanza line"};
      body += *bodyLine;
      if (bodyLine->size() < kStanzaLineWidth) break;
    }
    auto decoded = rawBase64(body);
    if (!decoded) return Error{"the age header has a stanza body that is not canonical base64"};
    st.body = std::move(*decoded);
    h.stanzas.push_back(std::move(st));
  }
}

// The binary file inside an ASCII armor; the input itself when it is not armored.
Result<std::string> dearmor(std::string_view file) {
  size_t start = 0;
  while (start < file.size() && std::isspace(static_cast<unsigned char>(file[start]))) ++start;
  if (file.substr(start, kArmorBegin.size()) != kArmorBegin) return std::string(file);
  size_t end = file.size();
  while (end > start && std::isspace(static_cast<unsigned char>(file[end - 1]))) --end;
  std::string_view body = file.substr(start + kArmorBegin.size(), end - start - kArmorBegin.size());
  if (body.size() < kArmorEnd.size() || body.substr(body.size() - kArmorEnd.size()) != kArmorEnd)
    return Error{"the armored age file has no end line"};
  body.remove_suffix(kArmorEnd.size());
  std::string b64;
  for (char c : body) {
    if (c == '\n' || c == '\r') continue;
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '='))
      return Error{"the armored age file holds a character that is not base64"};
    b64 += c;
  }
  auto decoded = sluice::base64Decode(b64);
  if (!decoded || b64.size() % 4 != 0) return Error{"the armored age file is not valid base64"};
  return std::move(*decoded);
}

// The file key of an X25519 stanza for one identity, or nullopt when the stanza is not for it.
std::optional<std::string> unwrapX25519(const Stanza& st, std::string_view scalar,
                                        std::string_view ourPublic) {
  if (st.args.size() != 2 || st.body.size() != kFileKeySize + kTagSize) return std::nullopt;
  const auto share = rawBase64(st.args[1]);
  if (!share || share->size() != 32) return std::nullopt;
  const auto shared = crypto::x25519(scalar, *share);
  if (!shared) return std::nullopt;
  Wiped sharedSecret(*shared);
  const auto wrapKey =
      crypto::hkdfSha256(sharedSecret.bytes, *share + std::string(ourPublic), "age-encryption.org/v1/X25519");
  if (!wrapKey) return std::nullopt;
  Wiped key(*wrapKey);
  const std::string_view body(st.body);
  return crypto::aeadOpen(crypto::Aead::kChaCha20Poly1305, key.bytes, std::string(12, '\0'), "",
                          body.substr(0, kFileKeySize), body.substr(kFileKeySize));
}

Result<std::string> decryptPayload(std::string_view payload, std::string_view fileKey) {
  if (payload.size() < 16) return Error{"the age payload is truncated (no nonce)"};
  const auto key = crypto::hkdfSha256(fileKey, payload.substr(0, 16), "payload");
  if (!key) return Error{"the age payload key could not be derived"};
  Wiped payloadKey(*key);
  std::string_view rest = payload.substr(16);
  if (rest.empty()) return Error{"the age payload is truncated (no chunk)"};
  std::string out;
  uint64_t counter = 0;
  while (!rest.empty()) {
    const size_t take = std::min(rest.size(), kChunkSize + kTagSize);
    const bool last = take == rest.size();
    if (take < kTagSize) return Error{"the age payload is truncated (a chunk shorter than its tag)"};
    if (last && take == kTagSize && counter > 0) return Error{"the age payload ends with an empty chunk"};
    std::string nonce(12, '\0');
    for (int i = 0; i < 8; ++i) nonce[10 - i] = static_cast<char>((counter >> (8 * i)) & 0xff);
    nonce[11] = last ? '\x01' : '\x00';
    const auto chunk =
        crypto::aeadOpen(crypto::Aead::kChaCha20Poly1305, payloadKey.bytes, nonce, "",
                         rest.substr(0, take - kTagSize), rest.substr(take - kTagSize, kTagSize));
    if (!chunk) {
      OPENSSL_cleanse(out.data(), out.size());
      return Error{"the age payload failed authentication at chunk " + std::to_string(counter) +
                   " (truncated or altered)"};
    }
    out += *chunk;
    rest.remove_prefix(take);
    ++counter;
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> parseAgeIdentities(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  int lineNo = 0;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + start, nl - start);
    ++lineNo;
    start = nl + 1;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    if (!identityScalar(line))
      return Error{
          "line " + std::to_string(lineNo) +
          " is not an age X25519 identity (expected AGE-SECRET-KEY-1..., a comment or a blank line)"};
    std::string upper(line);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    out.push_back(std::move(upper));
  }
  if (out.empty()) return Error{"no age identity (AGE-SECRET-KEY-1...) found"};
  return out;
}

Result<std::vector<std::string>> ageIdentitiesFromSecret(const nlohmann::json& secret) {
  const auto meta = secret.value("metadata", nlohmann::json::object());
  const std::string name = "Secret " + (meta.contains("namespace") ? meta.value("namespace", "") + "/" : "") +
                           meta.value("name", std::string("(unnamed)"));
  constexpr std::string_view kSuffix = ".agekey";
  std::vector<std::string> out;
  auto addEntries = [&](const char* field, bool base64) -> Status {
    const auto it = secret.find(field);
    if (it == secret.end() || !it->is_object()) return {};
    for (const auto& [key, value] : it->items()) {
      if (key.size() < kSuffix.size() ||
          key.compare(key.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
        continue;
      std::string where = name;
      where.append(": ").append(field).append(".").append(key).append(": ");
      if (!value.is_string()) return Error{where + "not a string"};
      std::optional<std::string> text = value.get<std::string>();
      if (base64) text = sluice::base64Decode(*text);
      if (!text) return Error{where + "not valid base64"};
      auto ids = parseAgeIdentities(*text);
      OPENSSL_cleanse(text->data(), text->size());
      if (!ids) return Error{where + ids.error()};
      out.insert(out.end(), ids->begin(), ids->end());
    }
    return {};
  };
  if (Status s = addEntries("data", true); !s) return Error{s.error()};
  if (Status s = addEntries("stringData", false); !s) return Error{s.error()};
  if (out.empty())
    return Error{name + ": no entry ending in .agekey (the age identities SOPS decryption needs)"};
  return out;
}

Result<std::string> ageRecipient(const std::string& identity) {
  const auto scalar = identityScalar(identity);
  if (!scalar) return Error{"not an age X25519 identity"};
  Wiped secret(*scalar);
  const auto pub = crypto::x25519Public(secret.bytes);
  if (!pub) return Error{"not an age X25519 identity"};
  return bech32Encode(kRecipientHrp, *pub);
}

Result<std::string> ageDecrypt(std::string_view file, const std::vector<std::string>& identities) {
  auto binary = dearmor(file);
  if (!binary) return Error{binary.error()};
  auto header = parseHeader(*binary);
  if (!header) return Error{header.error()};
  bool anyX25519 = false;
  std::optional<Wiped> fileKey;
  for (const auto& st : header->stanzas) {
    if (st.args.front() == "scrypt")
      return Error{"the age file is passphrase-encrypted (scrypt), not supported"};
    if (st.args.front() != "X25519") continue;
    anyX25519 = true;
    for (const auto& id : identities) {
      const auto scalar = identityScalar(id);
      if (!scalar) return Error{"an age identity given for decryption is malformed"};
      Wiped secret(*scalar);
      const auto pub = crypto::x25519Public(secret.bytes);
      if (!pub) continue;
      if (auto key = unwrapX25519(st, secret.bytes, *pub)) {
        fileKey.emplace(std::move(*key));
        break;
      }
    }
    if (fileKey) break;
  }
  if (!fileKey)
    return Error{anyX25519 ? "no age identity matched any of the file's recipients"
                           : "the age file has no X25519 recipient stanza"};
  const auto macKey = crypto::hkdfSha256(fileKey->bytes, "", "header");
  if (!macKey) return Error{"the age header MAC key could not be derived"};
  Wiped hmacKey(*macKey);
  if (!crypto::constantTimeEqual(crypto::hmacSha256(hmacKey.bytes, header->macInput), header->mac))
    return Error{"the age header MAC does not verify (the header was altered)"};
  return decryptPayload(std::string_view(*binary).substr(header->payloadOffset), fileKey->bytes);
}

}  // namespace sluice::gitops
