// Request bodies to JSON objects. Protobuf is walked field by field against the tables of
// protobuf_schema.cc; Go's JSON rules decide what a zero value becomes (omitted, or kept), so that the
// stored object does not depend on which encoding the client chose.
#include "kube/apiserver/request_body.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>

#include "base/base64.h"
#include "base/source.h"
#include "base/time.h"
#include "kube/apiserver/protobuf_schema.h"
#include "kube/json_depth.h"
#include "kube/protobuf_wire.h"

namespace sluice::apiserver {

namespace {

using nlohmann::json;
using pb::FieldSchema;
using pb::Kind;
using pb::MessageSchema;

constexpr std::string_view kMagic{"k8s\0", 4};
// RFC 3339 years 0000..9999, as Go's time.MarshalJSON allows them.
constexpr std::int64_t kMinRfc3339Seconds = -62167219200;
constexpr std::int64_t kMaxRfc3339Seconds = 253402300799;

ApiError malformed(const std::string& what) {
  return badRequest("the protobuf request body is invalid: " + what);
}

ApiError notDecoded(const std::string& what) {
  return {415,
          "UnsupportedMediaType",
          what + " is not supported in protobuf request bodies by this server; send the object as JSON",
          {}};
}

std::string join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

std::string_view wireName(kube::WireType t) {
  switch (t) {
    case kube::WireType::kVarint:
      return "varint";
    case kube::WireType::kFixed64:
      return "64-bit";
    case kube::WireType::kLengthDelimited:
      return "length-delimited";
    case kube::WireType::kFixed32:
      return "32-bit";
    default:
      return "group";
  }
}

bool isVarintKind(Kind k) { return k == Kind::kInt32 || k == Kind::kInt64 || k == Kind::kBool; }

bool isZero(const json& v) {
  return (v.is_string() && v.get_ref<const std::string&>().empty()) ||
         (v.is_number_integer() && v.get<std::int64_t>() == 0) || (v.is_boolean() && !v.get<bool>());
}

class Decoder {
 public:
  // `bytes` as an object of `schema`; `path` names it in errors ("spec.template").
  ApiResult<json> message(const MessageSchema& schema, std::string_view bytes, const std::string& path) {
    // Messages nest as the objects they become: held to the same depth as a JSON body.
    if (depth_ >= kube::kMaxJsonNestingDepth) {
      return malformed("messages nest deeper than " + std::to_string(kube::kMaxJsonNestingDepth) +
                       " levels at " + where(schema, path));
    }
    ++depth_;
    json out = json::object();
    auto bad = into(schema, bytes, path, out);
    --depth_;
    if (bad) return *bad;
    return out;
  }

 private:
  std::size_t depth_ = 0;

  std::optional<ApiError> into(const MessageSchema& schema, std::string_view bytes, const std::string& path,
                               json& out) {
    kube::WireReader reader(bytes);
    while (!reader.done()) {
      auto f = reader.next();
      if (!f) return malformed(f.error() + " in " + where(schema, path));
      const FieldSchema* spec = schema.field(f->number);
      if (spec == nullptr) {
        if (schema.complete) continue;  // a field of a newer API: dropped, as the real server does
        return notDecoded("field " + std::to_string(f->number) + " of " + std::string(schema.name) + " (at " +
                          where(schema, path) + ")");
      }
      if (auto bad = field(*spec, *f, path, out)) return bad;
    }
    return std::nullopt;
  }

  static std::string where(const MessageSchema& schema, const std::string& path) {
    return path.empty() ? std::string(schema.name) : path;
  }

  std::optional<ApiError> field(const FieldSchema& spec, const kube::WireField& f, const std::string& path,
                                json& out) {
    const std::string at = join(path, spec.json);
    if (spec.kind == Kind::kUnsupported) return notDecoded("the field " + at);
    const bool repeated = (spec.flags & pb::kRepeated) != 0;
    const bool wantVarint = isVarintKind(spec.kind);
    if (repeated && wantVarint && f.type == kube::WireType::kLengthDelimited) {
      // A packed repeated scalar.
      json& arr = out[std::string(spec.json)];
      if (!arr.is_array()) arr = json::array();
      auto s =
          kube::forEachPackedVarint(f.bytes, [&](std::uint64_t v) { arr.push_back(scalar(spec.kind, v)); });
      if (!s) return malformed(s.error() + " in " + at);
      return std::nullopt;
    }
    const auto expected = wantVarint ? kube::WireType::kVarint : kube::WireType::kLengthDelimited;
    if (f.type != expected) {
      return malformed("field " + at + " (number " + std::to_string(f.number) + ") has wire type " +
                       std::string(wireName(f.type)) + ", expected " + std::string(wireName(expected)));
    }
    if (spec.kind == Kind::kInline) {
      return into(*spec.message, f.bytes, path, out);
    }
    if (spec.kind == Kind::kStringMap || spec.kind == Kind::kBytesMap || spec.kind == Kind::kQuantityMap) {
      return mapEntry(spec, f.bytes, at, out[std::string(spec.json)]);
    }
    auto value = decodeValue(spec, f, repeated ? at + "[" + std::to_string(count(out, spec)) + "]" : at);
    if (!value) return value.error();
    if (repeated) {
      json& arr = out[std::string(spec.json)];
      if (!arr.is_array()) arr = json::array();
      arr.push_back(std::move(*value));
    } else if ((spec.flags & pb::kKeepZero) != 0 || !isZero(*value)) {
      out[std::string(spec.json)] = std::move(*value);
    }
    return std::nullopt;
  }

  static std::size_t count(const json& out, const FieldSchema& spec) {
    auto it = out.find(spec.json);
    return it != out.end() && it->is_array() ? it->size() : 0;
  }

  static json scalar(Kind kind, std::uint64_t v) {
    switch (kind) {
      case Kind::kInt32:
        // int32 travels sign-extended to 64 bits; its low 32 bits are the value.
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
      case Kind::kBool:
        return v != 0;
      default:
        return static_cast<std::int64_t>(v);
    }
  }

  ApiResult<json> decodeValue(const FieldSchema& spec, const kube::WireField& f, const std::string& at) {
    switch (spec.kind) {
      case Kind::kInt32:
      case Kind::kInt64:
      case Kind::kBool:
        return scalar(spec.kind, f.scalar);
      case Kind::kString:
        if (!validUtf8(f.bytes)) return malformed("field " + at + " is not valid UTF-8");
        return json(std::string(f.bytes));
      case Kind::kBytes:
        return json(sluice::base64Encode(f.bytes));
      case Kind::kMessage:
        return message(*spec.message, f.bytes, at);
      case Kind::kIntOrString:
        return intOrString(f.bytes, at);
      case Kind::kQuantity:
        return quantity(f.bytes, at);
      case Kind::kTime:
      case Kind::kMicroTime:
        return timestamp(f.bytes, at, spec.kind == Kind::kMicroTime);
      case Kind::kRawExtension:
        return rawJson(f.bytes, at);
      default:
        return internalError("no decoding for field " + at);
    }
  }

  // Reads the fields of a small fixed message (IntOrString, Time, ...) with `onField` for each.
  template <typename F>
  static std::optional<ApiError> each(std::string_view bytes, const std::string& at, F&& onField) {
    kube::WireReader reader(bytes);
    while (!reader.done()) {
      auto f = reader.next();
      if (!f) return malformed(f.error() + " in " + at);
      if (auto bad = onField(*f)) return bad;
    }
    return std::nullopt;
  }

  static std::optional<ApiError> expect(const kube::WireField& f, kube::WireType type,
                                        const std::string& at) {
    if (f.type == type) return std::nullopt;
    return malformed("field " + std::to_string(f.number) + " of " + at + " has wire type " +
                     std::string(wireName(f.type)) + ", expected " + std::string(wireName(type)));
  }

  static ApiResult<json> intOrString(std::string_view bytes, const std::string& at) {
    std::uint64_t type = 0;
    std::int32_t intVal = 0;
    std::string strVal;
    auto bad = each(bytes, at, [&](const kube::WireField& f) -> std::optional<ApiError> {
      if (f.number == 1 || f.number == 2) {
        if (auto e = expect(f, kube::WireType::kVarint, at)) return e;
        if (f.number == 1) type = f.scalar;
        if (f.number == 2) intVal = static_cast<std::int32_t>(static_cast<std::uint32_t>(f.scalar));
      } else if (f.number == 3) {
        if (auto e = expect(f, kube::WireType::kLengthDelimited, at)) return e;
        if (!validUtf8(f.bytes)) return malformed(at + " is not valid UTF-8");
        strVal = std::string(f.bytes);
      }
      return std::nullopt;
    });
    if (bad) return *bad;
    if (type == 1) return json(strVal);
    if (type != 0)
      return malformed(at + " has IntOrString type " + std::to_string(type) + ", expected 0 or 1");
    return json(intVal);
  }

  // The bytes of field 1 of a one-field wrapper message (Quantity, RawExtension, FieldsV1).
  static ApiResult<std::string_view> wrapped(std::string_view bytes, const std::string& at) {
    std::string_view value;
    auto bad = each(bytes, at, [&](const kube::WireField& f) -> std::optional<ApiError> {
      if (f.number != 1) return std::nullopt;
      if (auto e = expect(f, kube::WireType::kLengthDelimited, at)) return e;
      value = f.bytes;
      return std::nullopt;
    });
    if (bad) return *bad;
    return value;
  }

  static ApiResult<json> quantity(std::string_view bytes, const std::string& at) {
    auto value = wrapped(bytes, at);
    if (!value) return value.error();
    if (!validUtf8(*value)) return malformed(at + " is not valid UTF-8");
    return json(value->empty() ? "0" : std::string(*value));
  }

  // metav1.Time keeps whole seconds (as the real server's decoding does); MicroTime keeps microseconds.
  static ApiResult<json> timestamp(std::string_view bytes, const std::string& at, bool micro) {
    if (bytes.empty()) return json(nullptr);  // the zero time travels as an empty message
    std::int64_t seconds = 0;
    std::int64_t nanos = 0;
    auto bad = each(bytes, at, [&](const kube::WireField& f) -> std::optional<ApiError> {
      if (f.number != 1 && f.number != 2) return std::nullopt;
      if (auto e = expect(f, kube::WireType::kVarint, at)) return e;
      if (f.number == 1) seconds = static_cast<std::int64_t>(f.scalar);
      if (f.number == 2) nanos = static_cast<std::int32_t>(static_cast<std::uint32_t>(f.scalar));
      return std::nullopt;
    });
    if (bad) return *bad;
    if (nanos < 0 || nanos > 999999999) return malformed(at + " has nanos " + std::to_string(nanos));
    if (seconds < kMinRfc3339Seconds || seconds > kMaxRfc3339Seconds) {
      return malformed(at + " is outside the years 0000-9999 (" + std::to_string(seconds) + " s)");
    }
    std::string text = formatRfc3339(timeFromUnix(seconds));
    if (micro) {
      std::string frac = std::to_string(nanos / 1000);
      text.insert(text.size() - 1, "." + std::string(6 - frac.size(), '0') + frac);
    }
    return json(text);
  }

  static ApiResult<json> rawJson(std::string_view bytes, const std::string& at) {
    auto raw = wrapped(bytes, at);
    if (!raw) return raw.error();
    if (raw->empty()) return json(nullptr);
    auto v = kube::parseJsonBounded(*raw);
    if (v.tooDeep) return malformed(at + " holds JSON that " + v.message);
    if (!v.ok()) return malformed(at + " does not hold JSON");
    return std::move(v.value);
  }

  // One map entry {key = 1, value = 2} added to `target`.
  std::optional<ApiError> mapEntry(const FieldSchema& spec, std::string_view bytes, const std::string& at,
                                   json& target) {
    if (!target.is_object()) target = json::object();
    std::string key;
    json value = spec.kind == Kind::kQuantityMap ? json("0") : json("");
    auto bad = each(bytes, at, [&](const kube::WireField& f) -> std::optional<ApiError> {
      if (f.number != 1 && f.number != 2) return std::nullopt;
      if (auto e = expect(f, kube::WireType::kLengthDelimited, at)) return e;
      if (f.number == 1) {
        key = std::string(f.bytes);
        return std::nullopt;
      }
      if (spec.kind == Kind::kBytesMap) {
        value = sluice::base64Encode(f.bytes);
      } else if (spec.kind == Kind::kQuantityMap) {
        auto q = quantity(f.bytes, at);
        if (!q) return q.error();
        value = std::move(*q);
      } else {
        value = std::string(f.bytes);
      }
      return std::nullopt;
    });
    if (bad) return bad;
    if (!validUtf8(key) || (value.is_string() && !validUtf8(value.get_ref<const std::string&>()))) {
      return malformed("an entry of " + at + " is not valid UTF-8");
    }
    target[key] = std::move(value);
    return std::nullopt;
  }

  // Go's JSON encoder would replace invalid bytes; nlohmann would throw on dump: refuse them instead.
  static bool validUtf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
      const auto c = static_cast<unsigned char>(s[i]);
      std::size_t n = 0;
      std::uint32_t cp = 0;
      if (c < 0x80) {
        ++i;
        continue;
      }
      if ((c & 0xE0) == 0xC0) {
        n = 1;
        cp = c & 0x1F;
      } else if ((c & 0xF0) == 0xE0) {
        n = 2;
        cp = c & 0x0F;
      } else if ((c & 0xF8) == 0xF0) {
        n = 3;
        cp = c & 0x07;
      } else {
        return false;
      }
      if (i + n >= s.size()) return false;
      for (std::size_t k = 1; k <= n; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (cc & 0x3F);
      }
      // Overlong forms, surrogates and values past U+10FFFF.
      if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
          (cp >= 0xD800 && cp <= 0xDFFF)) {
        return false;
      }
      i += n + 1;
    }
    return true;
  }
};

// For error messages: bytes from the request outside printable ASCII become \xNN.
std::string printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7F) {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The start of a body for an error message, as the real server's summarizeData shows it: JSON as text,
// anything else in hex, cut at 30 bytes.
std::string summarize(std::string_view body) {
  static constexpr char kHex[] = "0123456789abcdef";
  constexpr std::size_t kMax = 30;
  if (body.empty()) return "<empty>";
  std::string_view head = body.substr(0, kMax);
  std::string out;
  if (body.front() == '{') {
    out = printable(head);
  } else {
    for (char ch : head) {
      const auto c = static_cast<unsigned char>(ch);
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return body.size() > kMax ? out + " ..." : out;
}

// A body the server cannot decode at all, worded as the real server's transformDecodeError.
ApiError unrecognized(std::string_view kind, const std::string& why, std::string_view body) {
  return badRequest("the object provided is unrecognized (must be of type " +
                    (kind.empty() ? std::string("an object") : std::string(kind)) + "): " + why + " (" +
                    summarize(body) + ")");
}

}  // namespace

ApiResult<json> decodeProtobufObject(std::string_view body) {
  if (body.substr(0, kMagic.size()) != kMagic) {
    return malformed("it does not start with the Kubernetes protobuf prefix \"k8s\\x00\"");
  }
  std::string apiVersion;
  std::string kind;
  std::string contentEncoding;
  std::string_view raw;
  kube::WireReader envelope(body.substr(kMagic.size()));
  while (!envelope.done()) {
    auto f = envelope.next();
    if (!f) return malformed(f.error() + " in the runtime.Unknown envelope");
    if (f->number > 4) continue;
    if (f->type != kube::WireType::kLengthDelimited) {
      return malformed("field " + std::to_string(f->number) +
                       " of the runtime.Unknown envelope has wire type " + std::string(wireName(f->type)) +
                       ", expected length-delimited");
    }
    if (f->number == 1) {
      kube::WireReader typeMeta(f->bytes);
      while (!typeMeta.done()) {
        auto t = typeMeta.next();
        if (!t) return malformed(t.error() + " in the envelope's typeMeta");
        if (t->type != kube::WireType::kLengthDelimited) continue;
        if (t->number == 1) apiVersion = std::string(t->bytes);
        if (t->number == 2) kind = std::string(t->bytes);
      }
    } else if (f->number == 2) {
      raw = f->bytes;
    } else if (f->number == 3) {
      contentEncoding = std::string(f->bytes);
    }
  }
  if (kind.empty()) return badRequest("Object 'Kind' is missing in the protobuf request body");
  if (!contentEncoding.empty()) {
    return notDecoded("the content encoding \"" + printable(contentEncoding) + "\"");
  }
  const MessageSchema* schema = pb::findObjectSchema(apiVersion, kind);
  if (schema == nullptr) {
    return notDecoded("the kind " + printable(kind) + " (apiVersion " +
                      (apiVersion.empty() ? "\"\"" : printable(apiVersion)) + ")");
  }
  auto object = Decoder().message(*schema, raw, "");
  if (!object) return object;
  // Messages and the JSON a RawExtension carries stack up: the whole object is held to the limit too.
  if (kube::nestedDeeperThan(*object, kube::kMaxJsonNestingDepth)) {
    return malformed("the object nests deeper than " + std::to_string(kube::kMaxJsonNestingDepth) +
                     " levels");
  }
  (*object)["apiVersion"] = apiVersion;
  (*object)["kind"] = kind;
  return object;
}

ApiResult<json> decodeObjectBody(std::string_view contentType, std::string_view body, std::string_view kind) {
  const std::string mediaType = lower(trim(contentType.substr(0, contentType.find(';'))));
  if (mediaType == kProtobufMediaType) return decodeProtobufObject(body);
  json out;
  if (mediaType == "application/yaml") {
    // As the real server: a YAML body is one document, read as the JSON it denotes.
    auto docs = parseYamlDocuments(body, "the request body");
    if (!docs) return badRequest("error converting YAML to JSON: " + docs.error());
    if (docs->size() != 1) return badRequest("the request body must be exactly one YAML document");
    out = std::move((*docs)[0].json);
    if (kube::nestedDeeperThan(out, kube::kMaxJsonNestingDepth)) {
      return unrecognized(kind,
                          "error converting YAML to JSON: yaml: exceeded max depth of " +
                              std::to_string(kube::kMaxJsonNestingDepth),
                          body);
    }
    // YAML strings are bytes; JSON's must be UTF-8, or storing the object would fail later.
    try {
      (void)out.dump();
    } catch (const json::type_error&) {
      return badRequest("error converting YAML to JSON: the body is not valid UTF-8");
    }
  } else if (!mediaType.empty() && mediaType.rfind("application/json", 0) != 0 &&
             mediaType.rfind("*/*", 0) != 0) {
    return unsupportedMediaType("application/json, application/yaml, " + std::string(kProtobufMediaType));
  } else {
    auto parsed = kube::parseJsonBounded(body);
    if (parsed.tooDeep) {
      return unrecognized(kind, "couldn't get version/kind; json parse error: " + parsed.message, body);
    }
    out = std::move(parsed.value);
  }
  if (out.is_discarded()) return badRequest("the request body is not valid JSON");
  if (!out.is_object()) return badRequest("the request body must be a JSON object");
  return out;
}

}  // namespace sluice::apiserver
