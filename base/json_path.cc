// A small JSONPath evaluator: the expression is parsed into steps, then applied to a set of nodes, one
// step at a time. A filter holds its own relative paths, evaluated from each array element.
#include "base/json_path.h"

#include <cctype>
#include <charconv>
#include <memory>
#include <string>

namespace sluice {
namespace {

using nlohmann::json;

struct Filter;

struct Step {
  enum class Kind { kField, kIndex, kAll, kDescend, kFilter } kind = Kind::kField;
  std::string field;
  long index = 0;
  std::shared_ptr<const Filter> filter;
};

// One side of a filter comparison: a path from the element (`@...`) or a literal.
struct Operand {
  bool isPath = false;
  std::vector<Step> path;
  json literal;
};

struct Filter {
  std::string op;  // "" for presence, else ==, !=, <, <=, >, >=
  Operand left;
  Operand right;
};

class PathParser {
 public:
  explicit PathParser(std::string_view text) : text_(text) {}

  Result<std::vector<Step>> parse() {
    skipSpaces();
    if (!eat('{')) return fail("a jsonPath is written in braces, e.g. {$.data.value}");
    skipSpaces();
    if (!eat('$')) eat('@');
    std::vector<Step> steps;
    if (auto s = parseSteps(steps); !s.ok()) return Error{s.error()};
    skipSpaces();
    if (atEnd()) return fail("the closing brace is missing");
    if (!eat('}')) return fail(std::string("unexpected '") + peek() + "'");
    skipSpaces();
    if (!atEnd()) return fail("text after the closing brace");
    return steps;
  }

 private:
  // Steps for as long as the text continues with '.' or '['.
  Status parseSteps(std::vector<Step>& steps) {
    for (;;) {
      skipSpaces();
      if (eat('.')) {
        if (eat('.')) {
          steps.push_back({Step::Kind::kDescend, "", 0, nullptr});
          if (peek() == '[') continue;
        }
        if (eat('*')) {
          steps.push_back({Step::Kind::kAll, "", 0, nullptr});
          continue;
        }
        std::size_t start = pos_;
        while (!atEnd() && isNameChar(peek())) ++pos_;
        if (pos_ == start) return fail("a field name is expected after '.'");
        steps.push_back({Step::Kind::kField, std::string(text_.substr(start, pos_ - start)), 0, nullptr});
        continue;
      }
      if (eat('[')) {
        auto step = bracket();
        if (!step) return Error{step.error()};
        steps.push_back(*step);
        continue;
      }
      return Status::Ok();
    }
  }

  Result<Step> bracket() {
    skipSpaces();
    if (eat('*')) {
      skipSpaces();
      if (!eat(']')) return fail("']' expected");
      return Step{Step::Kind::kAll, "", 0, nullptr};
    }
    if (peek() == '\'' || peek() == '"') {
      auto name = quoted();
      if (!name) return Error{name.error()};
      skipSpaces();
      if (!eat(']')) return fail("']' expected (unions of names are not supported)");
      return Step{Step::Kind::kField, *name, 0, nullptr};
    }
    if (eat('?')) return filter();
    std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    while (!atEnd() && std::isdigit(static_cast<unsigned char>(peek())) != 0) ++pos_;
    long index = 0;
    auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, index);
    if (ec != std::errc() || end != text_.data() + pos_) {
      pos_ = start;
      return fail("an index, '*', a filter or a quoted name is expected inside [ ]");
    }
    skipSpaces();
    if (peek() == ':' || peek() == ',') return fail("slices and unions are not supported");
    if (!eat(']')) return fail("']' expected");
    return Step{Step::Kind::kIndex, "", index, nullptr};
  }

  // After "[?": "(LEFT [OP RIGHT])]".
  Result<Step> filter() {
    skipSpaces();
    if (!eat('(')) return fail("'(' expected after '[?'");
    auto f = std::make_shared<Filter>();
    auto left = operand();
    if (!left) return Error{left.error()};
    f->left = std::move(left).value();
    skipSpaces();
    if (peek() != ')') {
      for (const char* op : {"==", "!=", "<=", ">=", "<", ">"}) {
        if (text_.substr(pos_).rfind(op, 0) == 0) {
          f->op = op;
          pos_ += f->op.size();
          break;
        }
      }
      if (f->op.empty()) return fail("a comparison (==, !=, <, <=, >, >=) or ')' is expected in the filter");
      auto right = operand();
      if (!right) return Error{right.error()};
      f->right = std::move(right).value();
      skipSpaces();
    } else if (!f->left.isPath) {
      return fail("a filter without a comparison tests a path such as @.name");
    }
    if (!eat(')')) return fail("')' expected to close the filter");
    skipSpaces();
    if (!eat(']')) return fail("']' expected");
    return Step{Step::Kind::kFilter, "", 0, std::move(f)};
  }

  Result<Operand> operand() {
    skipSpaces();
    Operand o;
    if (eat('@')) {
      o.isPath = true;
      if (auto s = parseSteps(o.path); !s.ok()) return Error{s.error()};
      return o;
    }
    if (peek() == '\'' || peek() == '"') {
      auto s = quoted();
      if (!s) return Error{s.error()};
      o.literal = *s;
      return o;
    }
    for (const char* word : {"true", "false", "null"}) {
      std::string_view w(word);
      if (text_.substr(pos_).rfind(w, 0) == 0) {
        pos_ += w.size();
        o.literal = json::parse(w);
        return o;
      }
    }
    std::size_t start = pos_;
    while (!atEnd() && (std::isdigit(static_cast<unsigned char>(peek())) != 0 || peek() == '-' ||
                        peek() == '+' || peek() == '.' || peek() == 'e' || peek() == 'E')) {
      ++pos_;
    }
    o.literal = json::parse(text_.substr(start, pos_ - start), nullptr, false);
    if (pos_ == start || o.literal.is_discarded() || !o.literal.is_number()) {
      pos_ = start;
      return fail("a path (@...), quoted string, number or boolean is expected in the filter");
    }
    return o;
  }

  // A quoted name or string; the position is on the opening quote.
  Result<std::string> quoted() {
    char quote = text_[pos_++];
    std::size_t start = pos_;
    while (!atEnd() && peek() != quote) ++pos_;
    if (atEnd()) return fail("the quoted name is not closed");
    std::string s(text_.substr(start, pos_ - start));
    ++pos_;
    return s;
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

std::vector<const json*> evaluate(const std::vector<Step>& steps, const json& start);

void descendants(const json& node, std::vector<const json*>& out) {
  out.push_back(&node);
  if (node.is_array() || node.is_object()) {
    for (const json& child : node) descendants(child, out);
  }
}

// The first value a filter operand gives for `element`, or nullptr.
const json* operandValue(const Operand& o, const json& element) {
  if (!o.isPath) return &o.literal;
  auto found = evaluate(o.path, element);
  return found.empty() ? nullptr : found.front();
}

bool passes(const Filter& f, const json& element) {
  const json* left = operandValue(f.left, element);
  if (f.op.empty()) return left != nullptr;
  const json* right = operandValue(f.right, element);
  if (left == nullptr || right == nullptr) return false;
  int order = 0;  // -1, 0, 1 when the two are ordered
  if (left->is_number() && right->is_number()) {
    double a = left->get<double>();
    double b = right->get<double>();
    order = a < b ? -1 : (a > b ? 1 : 0);
  } else if (left->is_string() && right->is_string()) {
    int c = left->get_ref<const std::string&>().compare(right->get_ref<const std::string&>());
    order = c < 0 ? -1 : (c > 0 ? 1 : 0);
  } else if (left->type() == right->type() && (f.op == "==" || f.op == "!=")) {
    order = *left == *right ? 0 : 1;
  } else {
    return false;  // different types compare as neither equal nor unequal, as in Kubernetes
  }
  if (f.op == "==") return order == 0;
  if (f.op == "!=") return order != 0;
  if (f.op == "<") return order < 0;
  if (f.op == "<=") return order <= 0;
  if (f.op == ">") return order > 0;
  return order >= 0;
}

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
    case Step::Kind::kDescend:
      descendants(node, out);
      break;
    case Step::Kind::kFilter:
      if (node.is_array()) {
        for (const json& element : node) {
          if (passes(*step.filter, element)) out.push_back(&element);
        }
      }
      break;
  }
}

std::vector<const json*> evaluate(const std::vector<Step>& steps, const json& start) {
  std::vector<const json*> current{&start};
  for (const Step& step : steps) {
    std::vector<const json*> next;
    for (const json* node : current) apply(step, *node, next);
    current.swap(next);
  }
  return current;
}

// Go's %v for a float64: the shortest round-trip digits, in exponent form below 1e-4 and from 1e+06.
std::string goFloatText(double v) {
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, sci.ptr);
  auto e = s.find('e');
  int exponent = e == std::string::npos ? 0 : std::stoi(s.substr(e + 1));
  if (exponent < -4 || exponent >= 6) return s;
  auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, fixed.ptr);
}

}  // namespace

Result<std::vector<json>> jsonPathMatches(const json& doc, std::string_view path) {
  auto steps = PathParser(path).parse();
  if (!steps) return Error{steps.error()};
  std::vector<json> out;
  for (const json* node : evaluate(*steps, doc)) out.push_back(*node);
  return out;
}

std::string jsonPathText(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return value.get<std::string>();
    case json::value_t::number_float:
      return goFloatText(value.get<double>());
    case json::value_t::null:
      return "null";
    default:
      return value.dump();
  }
}

}  // namespace sluice
