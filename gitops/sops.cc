// SOPS documents: the metadata block, the data key from an age recipient, the walk over the values in
// document order (the order the MAC is computed in), AES-256-GCM per value, and the plaintext emitted
// again in the document's own format.
#include "gitops/sops.h"

#include <openssl/crypto.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/base64.h"
#include "base/input_limits.h"
#include "base/source.h"
#include "base/utf8.h"
#include "gitops/age.h"
#include "gitops/crypto_primitives.h"
#include "kube/json_depth.h"

namespace sluice::gitops {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kMetadataKey = "sops";
constexpr std::string_view kDefaultUnencryptedSuffix = "_unencrypted";

// The fixed 32 bytes SOPS feeds the hash first when `mac_only_encrypted` is set (SHA-256 of "sops"), so
// that the two kinds of MAC never coincide.
constexpr unsigned char kMacOnlyEncryptedInit[32] = {
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69};

using Format = SopsFormat;

Format formatOf(const std::string& fileName) {
  auto endsWith = [&fileName](std::string_view ext) {
    return fileName.size() >= ext.size() &&
           fileName.compare(fileName.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (endsWith(".json")) return Format::kJson;
  if (endsWith(".env")) return Format::kDotenv;
  return Format::kYaml;
}

// A document of the stream: its values in order, and where each field path came from (YAML only).
struct Doc {
  Json value;
  SourceMap source;
};

// ---- reading ----

// go-yaml v3, which SOPS reads YAML with, reads a plain integer with Go's strconv.ParseInt(s, 0, 64)
// after dropping every '_': a leading 0 is octal (0644 is 420), and 0x, 0o and 0b prefixes are read.
// SOPS hashes the number it read, so the MAC over a `defaultMode: 0644` depends on reading it the same.
std::optional<int64_t> goYamlInteger(std::string_view text) {
  std::string plain;
  for (char c : text)
    if (c != '_') plain += c;
  std::string_view s(plain);
  const bool negative = !s.empty() && s.front() == '-';
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  int base = 10;
  if (s.size() > 1 && s[0] == '0') {
    const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 8;
    s.remove_prefix(p == 'x' || p == 'o' || p == 'b' ? 2 : 1);
  }
  uint64_t magnitude = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  constexpr uint64_t kMax = static_cast<uint64_t>(INT64_MAX);
  if (magnitude > kMax + (negative ? 1 : 0)) return std::nullopt;
  return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
}

Json orderedFromYaml(const YAML::Node& node, const std::string& path, SourceMap& source) {
  if (node.Mark().line >= 0) source.set(path, {node.Mark().line + 1, node.Mark().column + 1});
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : node) {
        const std::string key = kv.first.Scalar();
        out[key] = orderedFromYaml(kv.second, childPath(path, key), source);
      }
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (size_t i = 0; i < node.size(); ++i)
        out.push_back(orderedFromYaml(node[i], indexPath(path, i), source));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      const bool numeric = !text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) ||
                                             text[0] == '-' || text[0] == '+');
      if (node.Tag() == "?" && numeric)
        if (const auto n = goYamlInteger(text)) return Json(*n);
      return Json(yamlScalarToJson(node));  // a conversion, not a print and a parse: .nan survives
    }
    default:
      return nullptr;
  }
}

// SOPS's dotenv store: `KEY=value` lines (a literal \n in a value is a line break), `#` comments, and
// the metadata flattened into `sops_`-prefixed keys: `sops_age__list_0__map_enc` is sops.age[0].enc.
Result<Json> parseDotenv(std::string_view text, const std::string& fileName) {
  Json doc = Json::object();
  Json sops = Json::object();
  size_t start = 0;
  int lineNo = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(start, nl - start);
    start = nl + 1;
    ++lineNo;
    if (line.empty() || line.front() == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos)
      return Error{fileName + ":" + std::to_string(lineNo) + ": not a KEY=value line"};
    const std::string key(line.substr(0, eq));
    std::string value;
    for (size_t i = eq + 1; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == 'n') {
        value += '\n';
        ++i;
      } else {
        value += line[i];
      }
    }
    if (key.rfind("sops_", 0) != 0) {
      doc[key] = value;
      continue;
    }
    // Unflatten: "__list_N" is an index, "__map_K" a key, below the first segment.
    Json* cur = &sops;
    std::string_view rest = std::string_view(key).substr(5);
    auto sep = rest.find("__");
    std::string segment(rest.substr(0, sep));
    while (sep != std::string_view::npos) {
      rest.remove_prefix(sep + 2);
      sep = rest.find("__");
      const std::string next(rest.substr(0, sep));
      if (next.rfind("list_", 0) == 0) {
        Json& list = (*cur)[segment];
        if (!list.is_array()) list = Json::array();
        size_t index = 0;
        const auto r = std::from_chars(next.data() + 5, next.data() + next.size(), index);
        if (r.ec != std::errc() || index > 1000)
          return Error{fileName + ":" + std::to_string(lineNo) + ": malformed SOPS metadata key"};
        while (list.size() <= index) list.push_back(Json::object());
        cur = &list[index];
        segment.clear();
      } else if (next.rfind("map_", 0) == 0) {
        if (!segment.empty()) {
          Json& map = (*cur)[segment];
          if (!map.is_object()) map = Json::object();
          cur = &map;
        }
        segment = next.substr(4);
      } else {
        return Error{fileName + ":" + std::to_string(lineNo) + ": malformed SOPS metadata key"};
      }
    }
    if (segment == "mac_only_encrypted") {
      (*cur)[segment] = value == "true";
    } else {
      (*cur)[segment] = value;
    }
  }
  if (!sops.empty()) doc[std::string(kMetadataKey)] = std::move(sops);
  return doc;
}

Result<std::vector<Doc>> parseDocuments(std::string_view text, const std::string& fileName, Format format) {
  if (text.size() > limits::kMaxFileBytes)
    return Error{fileName + ": larger than " + std::to_string(limits::kMaxFileBytes >> 20) + " MiB"};
  std::vector<Doc> docs;
  if (format == Format::kDotenv) {
    auto doc = parseDotenv(text, fileName);
    if (!doc) return Error{doc.error()};
    docs.push_back({std::move(*doc), SourceMap(fileName)});
    return docs;
  }
  if (format == Format::kJson) {
    // The walk and the printers recurse once per level: refuse what would nest past the YAML limit.
    if (const auto deep = kube::firstTooDeep(text, static_cast<size_t>(limits::kMaxNestingDepth)))
      return Error{fileName + ": nested more than " + std::to_string(limits::kMaxNestingDepth) +
                   " levels deep (at byte " + std::to_string(deep->offset) + ")"};
    try {
      docs.push_back({Json::parse(text), SourceMap(fileName)});
    } catch (const Json::exception& e) {
      // nlohmann quotes the text it read last; that text may be a plaintext value, so it is cut off.
      std::string what = e.what();
      if (const auto cut = what.find("; last read"); cut != std::string::npos) what.resize(cut);
      return Error{fileName + ": invalid JSON: " + what};
    }
    return docs;
  }
  // The project's YAML reader first: it refuses malformed input and input past the limits with the
  // file, line and column, and keeps yaml-cpp away from the input it mishandles.
  if (auto checked = parseYamlDocuments(text, fileName); !checked) return Error{checked.error()};
  try {
    for (const auto& node : YAML::LoadAll(std::string(text))) {
      if (!node.IsDefined() || node.IsNull()) continue;
      Doc doc{nullptr, SourceMap(fileName)};
      doc.value = orderedFromYaml(node, "", doc.source);
      docs.push_back(std::move(doc));
    }
  } catch (const YAML::Exception& e) {
    return Error{fileName + ": invalid YAML: " + e.what()};
  }
  return docs;
}

bool carriesMetadata(const Json& doc) {
  return doc.is_object() && doc.contains(kMetadataKey) && doc[std::string(kMetadataKey)].is_object();
}

// ---- metadata ----

struct Rules {
  std::string unencryptedSuffix;
  std::string encryptedSuffix;
  std::unique_ptr<RE2> unencryptedRegex;
  std::unique_ptr<RE2> encryptedRegex;
  bool macOnlyEncrypted = false;

  // SOPS's rule: a value is encrypted unless a key on its path says otherwise.
  bool encrypts(const std::vector<std::string>& path) const {
    auto any = [&path](auto&& pred) {
      for (const auto& k : path)
        if (pred(k)) return true;
      return false;
    };
    auto endsWith = [](const std::string& s, const std::string& suffix) {
      return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (!unencryptedSuffix.empty())
      return !any([&](const std::string& k) { return endsWith(k, unencryptedSuffix); });
    if (!encryptedSuffix.empty())
      return any([&](const std::string& k) { return endsWith(k, encryptedSuffix); });
    if (unencryptedRegex)
      return !any([&](const std::string& k) { return RE2::PartialMatch(k, *unencryptedRegex); });
    if (encryptedRegex)
      return any([&](const std::string& k) { return RE2::PartialMatch(k, *encryptedRegex); });
    return true;
  }
};

struct Metadata {
  std::vector<std::pair<std::string, std::string>> ageKeys;  // recipient, enc
  std::string lastModified;
  std::string mac;
  Rules rules;
};

std::string stringField(const Json& m, const char* key) {
  const auto it = m.find(key);
  return it != m.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// SOPS authenticates the MAC with `lastmodified` as Go prints it after parsing (RFC 3339 without
// fractional seconds, a zero offset as "Z").
std::optional<std::string> normalizedTimestamp(const std::string& s) {
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
      s[16] != ':')
    return std::nullopt;
  std::string out = s.substr(0, 19);
  out[10] = 'T';
  size_t i = 19;
  if (s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  std::string zone = s.substr(i);
  if (zone == "Z" || zone == "z" || zone == "+00:00" || zone == "-00:00") return out + "Z";
  if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') return out + zone;
  return std::nullopt;
}

Result<Metadata> readMetadata(const Json& sops, const std::string& fileName) {
  Metadata m;
  const std::string where = fileName + ": sops metadata: ";
  auto collectAge = [&m](const Json& list) {
    if (!list.is_array()) return;
    for (const auto& entry : list)
      if (entry.is_object())
        m.ageKeys.emplace_back(stringField(entry, "recipient"), stringField(entry, "enc"));
  };
  if (const auto it = sops.find("age"); it != sops.end()) collectAge(*it);
  if (const auto it = sops.find("key_groups"); it != sops.end() && it->is_array() && !it->empty()) {
    if (it->size() > 1)
      return Error{where + "key_groups with " + std::to_string(it->size()) +
                   " groups (Shamir secret sharing) are not supported"};
    if (const auto age = it->front().find("age"); age != it->front().end()) collectAge(*age);
  }
  if (m.ageKeys.empty()) return Error{where + "no age recipient (the document was not encrypted for age)"};
  for (const char* unsupported : {"encrypted_comment_regex", "unencrypted_comment_regex"})
    if (!stringField(sops, unsupported).empty()) return Error{where + unsupported + " is not supported"};

  const auto lastModified = normalizedTimestamp(stringField(sops, "lastmodified"));
  if (!lastModified) return Error{where + "lastmodified is missing or not an RFC 3339 time"};
  m.lastModified = *lastModified;
  m.mac = stringField(sops, "mac");

  Rules& r = m.rules;
  r.unencryptedSuffix = stringField(sops, "unencrypted_suffix");
  r.encryptedSuffix = stringField(sops, "encrypted_suffix");
  int ruleCount = (r.unencryptedSuffix.empty() ? 0 : 1) + (r.encryptedSuffix.empty() ? 0 : 1);
  for (const auto& [field, target] : {std::pair{"unencrypted_regex", &r.unencryptedRegex},
                                      std::pair{"encrypted_regex", &r.encryptedRegex}}) {
    const std::string pattern = stringField(sops, field);
    if (pattern.empty()) continue;
    ++ruleCount;
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_unique<RE2>(pattern, options);
    if (!re->ok()) return Error{where + field + " is not a valid regular expression: " + re->error()};
    *target = std::move(re);
  }
  if (ruleCount > 1)
    return Error{
        where +
        "more than one of unencrypted_suffix, encrypted_suffix, unencrypted_regex and encrypted_regex"};
  if (ruleCount == 0) r.unencryptedSuffix = kDefaultUnencryptedSuffix;
  const auto macOnly = sops.find("mac_only_encrypted");
  r.macOnlyEncrypted = macOnly != sops.end() && macOnly->is_boolean() && macOnly->get<bool>();
  return m;
}

// ---- values ----

struct EncryptedValue {
  std::string data, iv, tag, type;
};

std::optional<EncryptedValue> parseEncrypted(const std::string& s) {
  constexpr std::string_view kPrefix = "ENC[AES256_GCM,data:";
  if (s.compare(0, kPrefix.size(), kPrefix) != 0 || s.back() != ']') return std::nullopt;
  const auto iv = s.find(",iv:");
  const auto tag = s.find(",tag:");
  const auto type = s.find(",type:");
  if (iv == std::string::npos || tag == std::string::npos || type == std::string::npos ||
      !(iv < tag && tag < type))
    return std::nullopt;
  const auto data = sluice::base64Decode(s.substr(kPrefix.size(), iv - kPrefix.size()));
  const auto ivBytes = sluice::base64Decode(s.substr(iv + 4, tag - iv - 4));
  const auto tagBytes = sluice::base64Decode(s.substr(tag + 5, type - tag - 5));
  if (!data || !ivBytes || !tagBytes) return std::nullopt;
  return EncryptedValue{*data, *ivBytes, *tagBytes, s.substr(type + 6, s.size() - type - 7)};
}

// Go's strconv.FormatFloat(f, 'f', -1, 64): the shortest digits that read back the same, never an
// exponent. SOPS hashes floats in this form.
std::string goFloat(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  char buf[512];
  const auto r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

// The bytes SOPS adds to the MAC for a value (its ToBytes): JSON numbers are all floats to SOPS.
std::string macBytes(const Json& v, bool numbersAreFloats) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_number_float() || (numbersAreFloats && v.is_number())) return goFloat(v.get<double>());
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return {};
}

// The typed value of a decrypted plaintext, as SOPS's `type:` says; nullopt when it does not parse.
std::optional<Json> typedPlaintext(const std::string& text, const std::string& type) {
  if (type == "str" || type == "bytes") return Json(text);
  if (type == "int" || type == "int64") {
    std::string_view digits(text);
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    int64_t v = 0;
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (r.ec != std::errc() || r.ptr != digits.data() + digits.size() || digits.empty()) return std::nullopt;
    return Json(v);
  }
  if (type == "float") {
    if (text.empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size()) return std::nullopt;
    return Json(v);
  }
  if (type == "bool") {
    for (const char* t : {"1", "t", "T", "TRUE", "true", "True"})
      if (text == t) return Json(true);
    for (const char* f : {"0", "f", "F", "FALSE", "false", "False"})
      if (text == f) return Json(false);
  }
  return std::nullopt;
}

struct Walker {
  const std::string& fileName;
  const Rules& rules;
  const std::string& dataKey;
  bool numbersAreFloats;
  std::string hashed;  // everything the MAC covers, hashed at the end
  const SourceMap* source = nullptr;

  ~Walker() { OPENSSL_cleanse(hashed.data(), hashed.size()); }

  Error at(const std::string& display, const std::string& message) const {
    std::string where = fileName + ": " + display;
    if (const SourcePos pos = source->at(display); pos.line > 0)
      where += " (line " + std::to_string(pos.line) + ")";
    return Error{where + ": " + message};
  }

  Status walk(Json& v, std::vector<std::string>& path, const std::string& display) {
    if (v.is_object()) {
      for (auto& [key, child] : v.items()) {
        path.push_back(key);
        Status s = walk(child, path, childPath(display, key));
        path.pop_back();
        if (!s) return s;
      }
      return {};
    }
    if (v.is_array()) {
      // A list's items share their parent's path: SOPS adds no index to the additional data.
      for (size_t i = 0; i < v.size(); ++i)
        if (Status s = walk(v[i], path, indexPath(display, i)); !s) return s;
      return {};
    }
    if (v.is_null()) return {};
    const bool encrypted = rules.encrypts(path);
    if (encrypted) {
      if (!v.is_string())
        return at(display, "the value is not encrypted although the document's rules say it is");
      if (auto s = decryptValue(v, path, display); !s) return s;
    }
    if (!rules.macOnlyEncrypted || encrypted) hashed += macBytes(v, numbersAreFloats && !encrypted);
    return {};
  }

  Status decryptValue(Json& v, const std::vector<std::string>& path, const std::string& display) {
    const std::string text = v.get<std::string>();
    if (text.empty()) return {};  // SOPS leaves empty strings as they are
    const auto enc = parseEncrypted(text);
    if (!enc)
      return at(display,
                "the value is not a SOPS-encrypted value (ENC[AES256_GCM,...]) although the "
                "document's rules say it is encrypted");
    std::string aad;
    for (const auto& k : path) aad += k + ":";
    auto plain = crypto::aeadOpen(crypto::Aead::kAes256Gcm, dataKey, enc->iv, aad, enc->data, enc->tag);
    if (!plain)
      return at(display,
                "the value does not decrypt: it was altered, moved from another key, or encrypted "
                "with another data key");
    // The output is YAML or JSON text: a value that is not UTF-8 could not be written back faithfully.
    if (invalidUtf8Offset(*plain) != std::string::npos) {
      OPENSSL_cleanse(plain->data(), plain->size());
      return at(display, "the decrypted value is not UTF-8 text");
    }
    auto typed = typedPlaintext(*plain, enc->type);
    OPENSSL_cleanse(plain->data(), plain->size());
    if (!typed) return at(display, "the decrypted value is not of its declared type \"" + enc->type + "\"");
    v = std::move(*typed);
    return {};
  }
};

// ---- writing ----

void emitYaml(YAML::Emitter& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, child] : v.items()) {
        out << YAML::Key << key << YAML::Value;
        emitYaml(out, child);
      }
      out << YAML::EndMap;
      break;
    case Json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& child : v) emitYaml(out, child);
      out << YAML::EndSeq;
      break;
    case Json::value_t::string:
      // Always quoted, so that a string such as "8080" or "true" stays a string.
      out << YAML::DoubleQuoted << v.get<std::string>();
      break;
    case Json::value_t::boolean:
      out << YAML::TrueFalseBool << v.get<bool>();
      break;
    case Json::value_t::number_integer:
      out << v.get<int64_t>();
      break;
    case Json::value_t::number_unsigned:
      out << v.get<uint64_t>();
      break;
    case Json::value_t::number_float: {
      const double f = v.get<double>();
      std::string s;
      if (std::isnan(f)) {
        s = ".nan";
      } else if (std::isinf(f)) {
        s = f > 0 ? ".inf" : "-.inf";
      } else {
        char buf[64];
        s.assign(buf, std::to_chars(buf, buf + sizeof(buf), f).ptr);
        if (s.find_first_of(".e") == std::string::npos) s += ".0";  // stays a float when read back
      }
      out << s;
      break;
    }
    default:
      out << YAML::Null;
  }
}

Result<std::string> emitDocuments(const std::vector<Doc>& docs, Format format, const std::string& fileName) {
  if (format == Format::kJson) return docs.front().value.dump(2) + "\n";
  if (format == Format::kDotenv) {
    std::string out;
    for (const auto& [key, value] : docs.front().value.items()) {
      const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
      out += key + "=";
      for (char c : text) out += c == '\n' ? std::string("\\n") : std::string(1, c);
      out += "\n";
    }
    return out;
  }
  std::string out;
  for (size_t i = 0; i < docs.size(); ++i) {
    YAML::Emitter e;
    emitYaml(e, docs[i].value);
    if (!e.good())
      return Error{fileName + ": the decrypted document could not be written as YAML: " + e.GetLastError()};
    if (i > 0) out += "---\n";
    out += e.c_str();
    out += "\n";
  }
  return out;
}

Result<std::string> unwrapDataKey(const Metadata& m, const std::vector<std::string>& identities,
                                  const std::string& fileName) {
  std::string reasons;
  for (const auto& [recipient, enc] : m.ageKeys) {
    auto key = ageDecrypt(enc, identities);
    if (key && key->size() == 32) return std::move(*key);
    reasons += "; " + (recipient.empty() ? std::string("a recipient") : recipient) + ": " +
               (key ? "the data key has the wrong size" : key.error());
  }
  return Error{fileName + ": no age identity of the decryption keys unwraps the document's data key" +
               reasons};
}

}  // namespace

bool hasSopsMetadata(std::string_view document, const std::string& fileName) {
  if (document.find(kMetadataKey) == std::string_view::npos) return false;
  auto docs = parseDocuments(document, fileName, formatOf(fileName));
  return docs && !docs->empty() && carriesMetadata(docs->front().value);
}

Result<std::string> decryptSopsDocument(std::string_view document, const std::string& fileName,
                                        const std::vector<std::string>& identities, MacCheck mac) {
  return decryptSopsDocument(document, fileName, formatOf(fileName), identities, mac);
}

Result<std::string> decryptSopsDocument(std::string_view document, const std::string& fileName,
                                        SopsFormat format, const std::vector<std::string>& identities,
                                        MacCheck mac) {
  // Most manifests have nothing to decrypt: they pass without being parsed (and whatever their size).
  if (document.find(kMetadataKey) == std::string_view::npos) return std::string(document);
  auto docs = parseDocuments(document, fileName, format);
  if (!docs) return Error{docs.error()};
  if (docs->empty() || !carriesMetadata(docs->front().value)) {
    for (size_t i = 1; i < docs->size(); ++i)
      if (carriesMetadata((*docs)[i].value))
        return Error{fileName + ": document " + std::to_string(i + 1) +
                     " has SOPS metadata but the first document has none (SOPS reads it from the first)"};
    return std::string(document);
  }
  auto meta = readMetadata(docs->front().value[std::string(kMetadataKey)], fileName);
  if (!meta) return Error{meta.error()};
  auto dataKey = unwrapDataKey(*meta, identities, fileName);
  if (!dataKey) return Error{dataKey.error()};
  struct WipedKey {
    std::string& k;
    ~WipedKey() { OPENSSL_cleanse(k.data(), k.size()); }
  } wipe{*dataKey};

  Walker walker{fileName, meta->rules, *dataKey, format == Format::kJson, {}, nullptr};
  if (meta->rules.macOnlyEncrypted)
    walker.hashed.assign(reinterpret_cast<const char*>(kMacOnlyEncryptedInit), sizeof(kMacOnlyEncryptedInit));
  for (auto& doc : *docs) {
    if (doc.value.is_object()) doc.value.erase(std::string(kMetadataKey));
    if (!doc.value.is_object()) return Error{fileName + ": a SOPS document must be a mapping at the top"};
    walker.source = &doc.source;
    std::vector<std::string> path;
    if (Status s = walker.walk(doc.value, path, ""); !s) return Error{s.error()};
  }

  if (mac == MacCheck::kVerify) {
    if (meta->mac.empty())
      return Error{fileName + ": sops metadata: mac is missing: the document's integrity cannot be verified"};
    const auto storedMac = parseEncrypted(meta->mac);
    if (!storedMac) return Error{fileName + ": sops metadata: mac is not a SOPS-encrypted value"};
    const auto storedPlain = crypto::aeadOpen(crypto::Aead::kAes256Gcm, *dataKey, storedMac->iv,
                                              meta->lastModified, storedMac->data, storedMac->tag);
    if (!storedPlain)
      return Error{fileName +
                   ": sops metadata: the MAC does not decrypt (the MAC or lastmodified was altered)"};
    std::string computed;
    for (unsigned char c : crypto::sha512(walker.hashed)) {
      char hex[3];
      std::snprintf(hex, sizeof(hex), "%02X", c);
      computed += hex;
    }
    if (!crypto::constantTimeEqual(*storedPlain, computed))
      return Error{fileName +
                   ": MAC mismatch: the document was changed after it was encrypted (a value, its type, the "
                   "order of the values, or the encryption rules)"};
  }
  return emitDocuments(*docs, format, fileName);
}

}  // namespace sluice::gitops
