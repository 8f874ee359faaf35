#include "base/source.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

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

nlohmann::json scalarToJson(const YAML::Node& node) {
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

SourcePos posOf(const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  if (m.line < 0) return {};
  return {m.line + 1, m.column + 1};
}

constexpr int kMaxDepth = 200;
// Aliases are expanded into copies, so a few hundred bytes of nested aliases ("billion laughs") could
// expand to billions of nodes. Without aliases a stream has fewer nodes than bytes, so this budget only
// stops alias expansion beyond this many extra nodes.
constexpr size_t kAliasNodeAllowance = 100'000;

nlohmann::json convert(const YAML::Node& node, const std::string& path, SourceMap& map, int depth,
                       size_t& budget) {
  if (depth > kMaxDepth) throw YAML::Exception(node.Mark(), "nesting deeper than 200 levels");
  if (budget == 0) throw YAML::Exception(node.Mark(), "too many nodes once aliases are expanded");
  --budget;
  map.set(path, posOf(node));
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalarToJson(node);
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

// yaml-cpp 0.7 never consumes a ',' outside a flow collection: LoadAll then returns empty documents at
// the same place forever, until memory runs out. This pass over the parser's events finds that place
// first and reports it as malformed YAML.
class StalledStreamDetector : public YAML::EventHandler {
 public:
  explicit StalledStreamDetector(const std::string& text) : text_(text) {}
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (mark.pos == lastStart_) {
      const char c = mark.pos >= 0 && static_cast<size_t>(mark.pos) < text_.size() ? text_[mark.pos] : '?';
      throw YAML::ParserException(mark, std::string("unexpected \"") + c + "\" outside a flow collection");
    }
    lastStart_ = mark.pos;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
  }
  void OnMapEnd() override {}

 private:
  const std::string& text_;
  int lastStart_ = -1;
};

void rejectStalledStream(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  StalledStreamDetector detector(text);
  while (parser.HandleNextDocument(detector)) {
  }
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

Result<std::vector<Document>> parseYamlDocuments(std::string_view text, const std::string& file) {
  std::vector<Document> docs;
  try {
    const std::string input(text);
    rejectStalledStream(input);
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
  } catch (const YAML::Exception& e) {
    Diagnostic d;
    d.file = file;
    if (e.mark.line >= 0) {
      d.line = e.mark.line + 1;
      d.column = e.mark.column + 1;
    }
    d.message = "invalid YAML: " + e.msg;
    return Error{d.format()};
  } catch (const std::exception& e) {
    return Error{(file.empty() ? std::string() : file + ": ") + "invalid YAML: " + e.what()};
  }
  return docs;
}

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open file"};
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{path + ": read error"};
  return ss.str();
}

Result<std::vector<Document>> loadYamlFile(const std::string& path) {
  auto text = readFile(path);
  if (!text) return Error{text.error()};
  return parseYamlDocuments(*text, path);
}

}  // namespace sluice
