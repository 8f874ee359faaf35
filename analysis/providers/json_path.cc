// A small JSONPath evaluator: the expression is parsed into steps, then applied to a set of nodes, one
// step at a time.
#include "analysis/providers/json_path.h"

#include <cctype>
#include <charconv>
#include <string>

namespace sluice::analysis {
namespace {

using nlohmann::json;

struct Step {
  enum class Kind { kField, kIndex, kAll } kind = Kind::kField;
  std::string field;
  long index = 0;
};

class PathParser {
 public:
  explicit PathParser(std::string_view text) : text_(text) {}

  Result<std::vector<Step>> parse() {
    skipSpaces();
    if (!eat('{')) return fail("a jsonPath is written in braces, e.g. {$.data.value}");
    skipSpaces();
    eat('$');
    std::vector<Step> steps;
    for (;;) {
      skipSpaces();
      if (eat('}')) break;
      if (atEnd()) return fail("the closing brace is missing");
      if (eat('.')) {
        if (peek() == '.') return fail("recursive descent (..) is not supported");
        if (eat('*')) {
          steps.push_back({Step::Kind::kAll, "", 0});
          continue;
        }
        std::size_t start = pos_;
        while (!atEnd() && isNameChar(peek())) ++pos_;
        if (pos_ == start) return fail("a field name is expected after '.'");
        steps.push_back({Step::Kind::kField, std::string(text_.substr(start, pos_ - start)), 0});
        continue;
      }
      if (eat('[')) {
        auto step = bracket();
        if (!step) return Error{step.error()};
        steps.push_back(*step);
        continue;
      }
      return fail(std::string("unexpected '") + peek() + "'");
    }
    skipSpaces();
    if (!atEnd()) return fail("text after the closing brace");
    return steps;
  }

 private:
  Result<Step> bracket() {
    skipSpaces();
    if (eat('*')) {
      skipSpaces();
      if (!eat(']')) return fail("']' expected");
      return Step{Step::Kind::kAll, "", 0};
    }
    if (peek() == '\'' || peek() == '"') {
      char quote = text_[pos_++];
      std::size_t start = pos_;
      while (!atEnd() && peek() != quote) ++pos_;
      if (atEnd()) return fail("the quoted name is not closed");
      std::string name(text_.substr(start, pos_ - start));
      ++pos_;
      skipSpaces();
      if (!eat(']')) return fail("']' expected (unions of names are not supported)");
      return Step{Step::Kind::kField, name, 0};
    }
    if (peek() == '?') return fail("filters ([?(...)]) are not supported");
    std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    while (!atEnd() && std::isdigit(static_cast<unsigned char>(peek())) != 0) ++pos_;
    long index = 0;
    auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, index);
    if (ec != std::errc() || end != text_.data() + pos_) {
      pos_ = start;
      return fail("an index, '*' or a quoted name is expected inside [ ]");
    }
    skipSpaces();
    if (peek() == ':' || peek() == ',') return fail("slices and unions are not supported");
    if (!eat(']')) return fail("']' expected");
    return Step{Step::Kind::kIndex, "", index};
  }

  static bool isNameChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '/' ||
           static_cast<unsigned char>(c) >= 0x80;
  }
  bool atEnd() const { return pos_ >= text_.size(); }
  char peek() const { return atEnd() ? '\0' : text_[pos_]; }
  bool eat(char c) {
    if (peek() != c || atEnd()) return false;
    ++pos_;
    return true;
  }
  void skipSpaces() {
    while (!atEnd() && std::isspace(static_cast<unsigned char>(peek())) != 0) ++pos_;
  }
  Error fail(const std::string& what) const {
    return Error{"jsonPath \"" + std::string(text_) + "\" at position " + std::to_string(pos_ + 1) + ": " +
                 what};
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

void apply(const Step& step, const json& node, std::vector<const json*>& out) {
  switch (step.kind) {
    case Step::Kind::kField:
      if (node.is_object()) {
        auto it = node.find(step.field);
        if (it != node.end()) out.push_back(&*it);
      }
      break;
    case Step::Kind::kIndex:
      if (node.is_array()) {
        long size = static_cast<long>(node.size());
        long i = step.index < 0 ? size + step.index : step.index;
        if (i >= 0 && i < size) out.push_back(&node[static_cast<std::size_t>(i)]);
      }
      break;
    case Step::Kind::kAll:
      if (node.is_array() || node.is_object()) {
        for (const json& child : node) out.push_back(&child);
      }
      break;
  }
}

}  // namespace

Result<std::vector<json>> jsonPathMatches(const json& doc, std::string_view path) {
  auto steps = PathParser(path).parse();
  if (!steps) return Error{steps.error()};
  std::vector<const json*> current{&doc};
  for (const Step& step : *steps) {
    std::vector<const json*> next;
    for (const json* node : current) apply(step, *node, next);
    current.swap(next);
  }
  std::vector<json> out;
  out.reserve(current.size());
  for (const json* node : current) out.push_back(*node);
  return out;
}

}  // namespace sluice::analysis
