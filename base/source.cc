#include "base/source.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include "base/input_limits.h"
#include "base/utf8.h"

namespace sluice {

namespace {

bool plainIdentifier(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

std::string quoteKey(std::string_view key) {
  std::string out = "[\"";
  for (char c : key) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"]";
}

bool isInteger(const std::string& s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i >= s.size()) return false;
  for (; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool isFloat(const std::string& s) {
  // YAML 1.2 core: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t expDigits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++expDigits;
    if (expDigits == 0) return false;
  }
  return i == s.size();
}

}  // namespace

nlohmann::json yamlScalarToJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() != "?") return s;  // quoted, or explicitly tagged: a string
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (isInteger(s)) {
    try {
      size_t used = 0;
      const long long v = std::stoll(s, &used);
      if (used == s.size()) return v;
    } catch (const std::exception&) {
      // Out of range: fall through to a float.
    }
  }
  if (isFloat(s)) {
    try {
      return std::stod(s);
    } catch (const std::exception&) {
      return s;
    }
  }
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf")
    return std::numeric_limits<double>::infinity();
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -std::numeric_limits<double>::infinity();
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  return s;
}

namespace {

SourcePos posOf(const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  if (m.line < 0) return {};
  return {m.line + 1, m.column + 1};
}

// An input past one of the limits of input_limits.h: reported as such, not as malformed YAML.
struct LimitExceeded {
  YAML::Mark mark;
  std::string message;
};

std::string nestingMessage() {
  return "nested deeper than " + std::to_string(limits::kMaxNestingDepth) +
         " levels, the limit on nesting in an input file";
}

// Aliases are expanded into copies, so a few hundred bytes of nested aliases ("billion laughs") could
// expand to billions of nodes. Without aliases a stream has fewer nodes than bytes, so this budget only
// stops alias expansion beyond this many extra nodes.
constexpr size_t kAliasNodeAllowance = 100'000;

nlohmann::json convert(const YAML::Node& node, const std::string& path, SourceMap& map, int depth,
                       size_t& budget) {
  // The scan bounds nesting as written; an alias can still nest a deep anchor further down.
  if (depth > limits::kMaxNestingDepth) throw LimitExceeded{node.Mark(), nestingMessage()};
  if (budget == 0) throw YAML::Exception(node.Mark(), "too many nodes once aliases are expanded");
  --budget;
  map.set(path, posOf(node));
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      return yamlScalarToJson(node);
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      size_t i = 0;
      for (const auto& item : node)
        out.push_back(convert(item, indexPath(path, i++), map, depth + 1, budget));
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          throw YAML::Exception(kv.first.Mark(), "mapping keys must be scalars");
        }
        const std::string key = kv.first.Scalar();
        const std::string child = childPath(path, key);
        if (out.contains(key)) throw YAML::Exception(kv.first.Mark(), "duplicate key \"" + key + "\"");
        map.set(child, posOf(kv.first));
        nlohmann::json value = convert(kv.second, child, map, depth + 1, budget);
        // Keep the key's position: a diagnostic about a field points at its name.
        map.set(child, posOf(kv.first));
        out[key] = std::move(value);
      }
      return out;
    }
  }
  return nullptr;
}

YAML::Mark markAt(std::string_view text, size_t offset) {
  YAML::Mark mark;
  mark.pos = static_cast<int>(offset);
  const size_t lineStart = text.rfind('\n', offset == 0 ? 0 : offset - 1);
  const size_t from = lineStart == std::string_view::npos || offset == 0 ? 0 : lineStart + 1;
  mark.line =
      static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(from), '\n'));
  mark.column = utf8Column(text.substr(from), offset - from) - 1;
  return mark;
}

// A YAML stream is Unicode text: YAML 1.2 allows no C0 control character but tab, line feed and carriage
// return (yaml-cpp takes a NUL for the end of a token and reports an "unknown escape character"), and a
// UTF-8 stream must be well formed (an invalid byte would reach names and messages, and JSON output).
// Streams that open with a UTF-16 or UTF-32 byte order mark are left to yaml-cpp, which decodes them.
void rejectNonText(std::string_view text) {
  const bool utf16or32 = text.size() >= 2 && ((text[0] == '\xFE' && text[1] == '\xFF') ||
                                              (text[0] == '\xFF' && text[1] == '\xFE') || text[0] == '\0');
  if (utf16or32) return;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      char code[8];
      std::snprintf(code, sizeof(code), "U+%04X", c);
      throw YAML::ParserException(markAt(text, i),
                                  std::string(c == 0 ? "a NUL byte" : "a control character") + " (" + code +
                                      ") is not allowed; write it escaped in a double-quoted string");
    }
  }
  if (const size_t bad = invalidUtf8Offset(text); bad != std::string_view::npos) {
    char byte[8];
    std::snprintf(byte, sizeof(byte), "0x%02X", static_cast<unsigned char>(text[bad]));
    throw YAML::ParserException(markAt(text, bad),
                                std::string("the text is not valid UTF-8 (byte ") + byte + ")");
  }
}

// A pass over the parser's events, before any node is built, so that input past a limit is refused fast
// and small: nesting (yaml-cpp itself recurses once per level and gives up, as "bad file", near 500) and
// the items of one list or mapping. It also finds where yaml-cpp 0.7 stalls: it never consumes a ','
// outside a flow collection, and LoadAll then returns empty documents at the same place until memory
// runs out.
class StreamScanner : public YAML::EventHandler {
 public:
  explicit StreamScanner(const std::string& text) : text_(text) {}
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (mark.pos == lastStart_) {
      const char c = mark.pos >= 0 && static_cast<size_t>(mark.pos) < text_.size() ? text_[mark.pos] : '?';
      throw YAML::ParserException(mark, std::string("unexpected \"") + c + "\" outside a flow collection");
    }
    lastStart_ = mark.pos;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { item(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { item(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    item(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    open(mark, true);
  }
  void OnSequenceEnd() override { open_.pop_back(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    open(mark, false);
  }
  void OnMapEnd() override { open_.pop_back(); }

 private:
  struct Collection {
    bool sequence;
    size_t events;  // a mapping sees two per entry: the key and the value
  };

  void item(const YAML::Mark& mark) {
    if (open_.empty()) return;
    Collection& c = open_.back();
    const size_t items = c.sequence ? ++c.events : ++c.events / 2;
    if (items > limits::kMaxListItems) {
      throw LimitExceeded{mark, std::string(c.sequence ? "a list" : "a mapping") + " of more than " +
                                    std::to_string(limits::kMaxListItems) + " items, the limit on one " +
                                    (c.sequence ? "list" : "mapping") + " in an input file"};
    }
  }
  void open(const YAML::Mark& mark, bool sequence) {
    item(mark);
    if (open_.size() >= static_cast<size_t>(limits::kMaxNestingDepth))
      throw LimitExceeded{mark, nestingMessage()};
    open_.push_back({sequence, 0});
  }

  const std::string& text_;
  int lastStart_ = -1;
  std::vector<Collection> open_;
};

void scanStream(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  StreamScanner scanner(text);
  while (parser.HandleNextDocument(scanner)) {
  }
}

std::string withThousands(uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string tooLarge(std::optional<uint64_t> bytes, size_t limit) {
  const std::string shown =
      limit % (size_t{1} << 20) == 0 ? std::to_string(limit >> 20) + " MiB" : withThousands(limit) + " bytes";
  return (bytes ? withThousands(*bytes) + " bytes, over " : std::string("over ")) + "the limit of " + shown +
         " on an input file";
}

}  // namespace

std::string childPath(const std::string& parent, std::string_view key) {
  if (!plainIdentifier(key)) return parent + quoteKey(key);
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

std::string indexPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

SourcePos SourceMap::at(const std::string& path) const {
  std::string p = path;
  while (true) {
    auto it = positions_.find(p);
    if (it != positions_.end() && it->second.line > 0) return it->second;
    if (p.empty()) return {};
    // Strip the last component: ".name", "[3]" or "[\"key\"]".
    size_t cut = std::string::npos;
    if (p.back() == ']') {
      cut = p.rfind('[');
    } else {
      const size_t dot = p.rfind('.');
      const size_t bracket = p.rfind(']');
      cut = (dot == std::string::npos) ? 0 : dot;
      if (bracket != std::string::npos && bracket > dot) cut = bracket + 1;
    }
    if (cut == std::string::npos) cut = 0;
    p = p.substr(0, cut);
  }
}

Diagnostic SourceMap::diagnostic(Severity severity, const std::string& path, std::string message) const {
  const SourcePos pos = at(path);
  return Diagnostic{severity, file_, pos.line, pos.column, path, std::move(message)};
}

Expected<std::vector<Document>, Diagnostic> parseYamlStream(std::string_view text, const std::string& file) {
  auto located = [&file](const YAML::Mark& mark, std::string message) {
    Diagnostic d;
    d.file = file;
    if (mark.line >= 0) {
      d.line = mark.line + 1;
      d.column = mark.column + 1;
    }
    d.message = std::move(message);
    return d;
  };
  if (text.size() > limits::kMaxFileBytes)
    return located(YAML::Mark::null_mark(), tooLarge(text.size(), limits::kMaxFileBytes));
  std::vector<Document> docs;
  try {
    rejectNonText(text);
    const std::string input(text);
    scanStream(input);
    const std::vector<YAML::Node> nodes = YAML::LoadAll(input);
    int index = 0;
    size_t budget = kAliasNodeAllowance + text.size();
    for (const auto& node : nodes) {
      if (!node.IsDefined() || node.IsNull()) {
        ++index;
        continue;
      }
      Document doc;
      doc.source = SourceMap(file);
      doc.index = index++;
      doc.line = posOf(node).line;
      doc.json = convert(node, "", doc.source, 0, budget);
      docs.push_back(std::move(doc));
    }
  } catch (const LimitExceeded& e) {
    return located(e.mark, e.message);
  } catch (const YAML::DeepRecursion& e) {
    return located(e.mark, nestingMessage());
  } catch (const YAML::Exception& e) {
    return located(e.mark, "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return located(YAML::Mark::null_mark(), std::string("invalid YAML: ") + e.what());
  }
  return docs;
}

Result<std::vector<Document>> parseYamlDocuments(std::string_view text, const std::string& file) {
  auto docs = parseYamlStream(text, file);
  if (!docs) return Error{docs.error().formatAsError()};
  return std::move(*docs);
}

Result<std::string> readFile(const std::string& path, size_t maxBytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return Error{path + ": is a directory"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open file"};
  if (const auto size = std::filesystem::file_size(path, ec); !ec && size > maxBytes)
    return Error{path + ": " + tooLarge(size, maxBytes)};
  // Read in chunks up to the limit: a pipe or device has no size to check first.
  std::string out;
  std::array<char, 65536> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    out.append(chunk.data(), static_cast<size_t>(in.gcount()));
    if (out.size() > maxBytes) return Error{path + ": " + tooLarge(std::nullopt, maxBytes)};
  }
  if (in.bad()) return Error{path + ": read error"};
  return out;
}

Result<std::vector<Document>> loadYamlFile(const std::string& path) {
  auto text = readFile(path, limits::kMaxFileBytes);
  if (!text) return Error{text.error()};
  return parseYamlDocuments(*text, path);
}

}  // namespace sluice
