// OpenSSH known_hosts (see known_hosts.h). Hashed names are HMAC-SHA1 of the name keyed by the salt, as
// OpenSSH writes them (`ssh-keygen -H`); on OpenSSL.
#include "gitops/known_hosts.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <sstream>
#include <string_view>

#include "base/base64.h"

namespace sluice::gitops {

namespace {

std::vector<std::string> splitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool hashedMatch(const std::string& pattern, const std::string& host) {
  // |1|<base64 salt>|<base64 HMAC-SHA1(salt, host)>
  const auto second = pattern.find('|', 3);
  if (second == std::string::npos) return false;
  const auto salt = sluice::base64Decode(pattern.substr(3, second - 3));
  const auto hash = sluice::base64Decode(pattern.substr(second + 1));
  if (!salt || !hash) return false;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha1(), salt->data(), static_cast<int>(salt->size()),
            reinterpret_cast<const unsigned char*>(host.data()), host.size(), out, &len))
    return false;
  return std::string(reinterpret_cast<const char*>(out), len) == *hash;
}

// OpenSSH's host patterns: '*' and '?' wildcards, nothing else special ("[host]:port" is literal).
bool wildcardMatch(std::string_view p, std::string_view s) {
  if (p.empty()) return s.empty();
  if (p[0] == '*') {
    for (size_t i = 0; i <= s.size(); ++i) {
      if (wildcardMatch(p.substr(1), s.substr(i))) return true;
    }
    return false;
  }
  if (s.empty() || (p[0] != '?' && p[0] != s[0])) return false;
  return wildcardMatch(p.substr(1), s.substr(1));
}

// The key type a blob states in its first field (SSH wire format: uint32 length, then the name).
std::string blobKeyType(const std::string& blob) {
  if (blob.size() < 4) return "";
  const uint32_t n = (static_cast<uint32_t>(static_cast<unsigned char>(blob[0])) << 24) |
                     (static_cast<uint32_t>(static_cast<unsigned char>(blob[1])) << 16) |
                     (static_cast<uint32_t>(static_cast<unsigned char>(blob[2])) << 8) |
                     static_cast<uint32_t>(static_cast<unsigned char>(blob[3]));
  if (n > blob.size() - 4) return "";
  return blob.substr(4, n);
}

}  // namespace

std::string sshFingerprint(const std::string& key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), digest, &len, EVP_sha256(), nullptr);
  std::string b64 = sluice::base64Encode(std::string(reinterpret_cast<const char*>(digest), len));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

Result<KnownHosts> KnownHosts::parse(const std::string& text) {
  KnownHosts out;
  std::istringstream lines(text);
  int lineNo = 0;
  for (std::string line; std::getline(lines, line);) {
    ++lineNo;
    std::istringstream words(line);
    std::vector<std::string> fields;
    for (std::string w; words >> w;) fields.push_back(w);
    if (fields.empty() || fields[0][0] == '#') continue;
    Entry e;
    e.line = lineNo;
    size_t i = 0;
    if (fields[0][0] == '@') {
      if (fields[0] == "@revoked") {
        e.revoked = true;
      } else if (fields[0] == "@cert-authority") {
        continue;  // host certificates are not checked: a CA line vouches for no key by itself
      } else {
        return Error{"known_hosts line " + std::to_string(lineNo) + ": unknown marker \"" + fields[0] + "\""};
      }
      i = 1;
    }
    if (fields.size() < i + 3)
      return Error{"known_hosts line " + std::to_string(lineNo) + ": expected \"hosts keytype key\", got \"" +
                   line + "\""};
    e.patterns = splitComma(fields[i]);
    e.keyType = fields[i + 1];
    const auto key = sluice::base64Decode(fields[i + 2]);
    if (!key || key->empty())
      return Error{"known_hosts line " + std::to_string(lineNo) + ": the key of " + fields[i] +
                   " is not valid base64"};
    if (blobKeyType(*key) != e.keyType)
      return Error{"known_hosts line " + std::to_string(lineNo) + ": the key of " + fields[i] + " is not a " +
                   e.keyType + " key"};
    e.key = *key;
    out.entries_.push_back(std::move(e));
  }
  if (out.entries_.empty()) return Error{"known_hosts holds no host key"};
  return out;
}

bool KnownHosts::hostMatches(const Entry& e, const std::string& host) {
  bool matched = false;
  for (const auto& p : e.patterns) {
    const bool negated = p[0] == '!';
    const std::string pattern = negated ? p.substr(1) : p;
    bool hit = false;
    if (pattern.rfind("|1|", 0) == 0) {
      hit = hashedMatch(pattern, host);
    } else {
      hit = wildcardMatch(pattern, host);
    }
    if (hit && negated) return false;
    matched = matched || hit;
  }
  return matched;
}

namespace {
Error revokedKey(const std::string& host, const std::string& keyType, const std::string& key) {
  return Error{"the host key of " + host + " (" + keyType + " " + sshFingerprint(key) +
               ") is marked @revoked in known_hosts"};
}
}  // namespace

Status KnownHosts::verify(const std::string& host, const std::string& keyType, const std::string& key) const {
  bool hostKnown = false;
  for (const Entry& e : entries_) {
    if (!hostMatches(e, host)) continue;
    if (e.revoked) {
      if (e.key == key) return revokedKey(host, keyType, key);
      continue;
    }
    hostKnown = true;
    if (e.keyType == keyType && e.key == key) return Status::Ok();
  }
  if (!hostKnown)
    return Error{"known_hosts has no entry for " + host + " (the server offered " + keyType + " " +
                 sshFingerprint(key) + ")"};
  return Error{"host key mismatch for " + host + ": the server offered " + keyType + " " +
               sshFingerprint(key) + ", which is not the key known_hosts holds for it"};
}

}  // namespace sluice::gitops
