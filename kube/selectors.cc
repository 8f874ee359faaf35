// Label and field selector parsing and matching, following the grammar of apimachinery's
// labels.Parse and fields.ParseSelector.
#include "kube/selectors.h"

#include <cctype>
#include <charconv>

namespace sluice::kube {
namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool isKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' || c == '/';
}

bool isValueChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
}

// A cursor over the selector text.
class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}
  void skipSpace() {
    while (pos_ < s_.size() && isSpace(s_[pos_])) ++pos_;
  }
  bool done() {
    skipSpace();
    return pos_ >= s_.size();
  }
  char peek() {
    skipSpace();
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  bool consume(std::string_view token) {
    skipSpace();
    if (s_.substr(pos_, token.size()) == token) {
      pos_ += token.size();
      return true;
    }
    return false;
  }
  // A word of key or value characters (possibly empty).
  std::string word(bool key) {
    skipSpace();
    std::size_t start = pos_;
    while (pos_ < s_.size() && (key ? isKeyChar(s_[pos_]) : isValueChar(s_[pos_]))) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }
  // A word followed by whitespace and another word: `key in`, `key notin`.
  bool consumeKeyword(std::string_view kw) {
    std::size_t save = pos_;
    skipSpace();
    if (s_.substr(pos_, kw.size()) == kw) {
      std::size_t after = pos_ + kw.size();
      if (after < s_.size() && (isSpace(s_[after]) || s_[after] == '(')) {
        pos_ = after;
        return true;
      }
    }
    pos_ = save;
    return false;
  }
  std::size_t pos() const { return pos_; }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

Status checkKey(const std::string& key, std::string_view text) {
  if (key.empty()) return Error{"unable to parse requirement: found '" + std::string(text) + "', expected: identifier"};
  auto slash = key.find('/');
  std::string_view name = slash == std::string::npos ? std::string_view(key) : std::string_view(key).substr(slash + 1);
  if (slash != std::string::npos && (slash == 0 || key.find('/', slash + 1) != std::string::npos)) {
    return Error{"invalid label key \"" + key + "\": a qualified name must consist of an optional DNS prefix and a name"};
  }
  if (name.empty() || name.size() > 63 || std::isalnum(static_cast<unsigned char>(name.front())) == 0 ||
      std::isalnum(static_cast<unsigned char>(name.back())) == 0) {
    return Error{"invalid label key \"" + key +
                 "\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                 "with an alphanumeric character"};
  }
  return {};
}

Status checkValue(const std::string& value) {
  if (value.empty()) return {};
  if (value.size() > 63 || std::isalnum(static_cast<unsigned char>(value.front())) == 0 ||
      std::isalnum(static_cast<unsigned char>(value.back())) == 0) {
    return Error{"invalid label value: \"" + value +
                 "\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
                 "'.', and must start and end with an alphanumeric character"};
  }
  return {};
}

const nlohmann::json* lookupPath(const nlohmann::json& object, std::string_view path) {
  const nlohmann::json* cur = &object;
  while (!path.empty()) {
    auto dot = path.find('.');
    std::string part(path.substr(0, dot));
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(part);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return cur;
}

}  // namespace

std::map<std::string, std::string> objectLabels(const nlohmann::json& object) {
  std::map<std::string, std::string> out;
  const auto* labels = lookupPath(object, "metadata.labels");
  if (labels == nullptr || !labels->is_object()) return out;
  for (const auto& [k, v] : labels->items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

Result<LabelSelector> LabelSelector::parse(std::string_view text) {
  LabelSelector sel;
  Lexer lx(text);
  if (lx.done()) return sel;
  while (true) {
    LabelRequirement req;
    if (lx.consume("!")) {
      req.key = lx.word(true);
      req.op = LabelRequirement::Op::kDoesNotExist;
      if (auto st = checkKey(req.key, text); !st) return Error{st.error()};
    } else {
      req.key = lx.word(true);
      if (auto st = checkKey(req.key, text); !st) return Error{st.error()};
      auto readSet = [&]() -> Status {
        if (!lx.consume("(")) return Error{"unable to parse requirement: expected '(' after \"" + req.key + "\""};
        while (true) {
          std::string v = lx.word(false);
          if (auto st = checkValue(v); !st) return st;
          req.values.insert(v);
          if (lx.consume(",")) continue;
          if (lx.consume(")")) break;
          return Error{"unable to parse requirement: expected ',' or ')' in the values of \"" + req.key + "\""};
        }
        return {};
      };
      if (lx.consume("==") || lx.consume("=")) {
        req.op = LabelRequirement::Op::kEquals;
      } else if (lx.consume("!=")) {
        req.op = LabelRequirement::Op::kNotEquals;
      } else if (lx.consumeKeyword("notin")) {
        req.op = LabelRequirement::Op::kNotIn;
        if (auto st = readSet(); !st) return Error{st.error()};
      } else if (lx.consumeKeyword("in")) {
        req.op = LabelRequirement::Op::kIn;
        if (auto st = readSet(); !st) return Error{st.error()};
      } else if (lx.consume(">")) {
        req.op = LabelRequirement::Op::kGreaterThan;
      } else if (lx.consume("<")) {
        req.op = LabelRequirement::Op::kLessThan;
      } else {
        req.op = LabelRequirement::Op::kExists;
      }
      using Op = LabelRequirement::Op;
      if (req.op == Op::kEquals || req.op == Op::kNotEquals || req.op == Op::kGreaterThan ||
          req.op == Op::kLessThan) {
        std::string v = lx.word(false);
        if (req.op == Op::kGreaterThan || req.op == Op::kLessThan) {
          long long n = 0;
          auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
          if (v.empty() || ec != std::errc() || p != v.data() + v.size()) {
            return Error{"unable to parse requirement: for 'gt', 'lt' operators, the value must be an integer"};
          }
        } else if (auto st = checkValue(v); !st) {
          return Error{st.error()};
        }
        req.values.insert(v);
      }
    }
    sel.requirements_.push_back(std::move(req));
    if (lx.done()) break;
    if (!lx.consume(",")) {
      return Error{"unable to parse requirement: unexpected text at position " + std::to_string(lx.pos()) +
                   " of \"" + std::string(text) + "\""};
    }
  }
  return sel;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  using Op = LabelRequirement::Op;
  for (const auto& r : requirements_) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    switch (r.op) {
      case Op::kEquals:
      case Op::kIn:
        if (!has || r.values.count(it->second) == 0) return false;
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        if (has && r.values.count(it->second) != 0) return false;
        break;
      case Op::kExists:
        if (!has) return false;
        break;
      case Op::kDoesNotExist:
        if (has) return false;
        break;
      case Op::kGreaterThan:
      case Op::kLessThan: {
        if (!has) return false;
        long long have = 0;
        long long want = std::stoll(*r.values.begin());
        const std::string& s = it->second;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), have);
        if (ec != std::errc() || p != s.data() + s.size()) return false;
        if (r.op == Op::kGreaterThan ? !(have > want) : !(have < want)) return false;
        break;
      }
    }
  }
  return true;
}

bool LabelSelector::matchesObject(const nlohmann::json& object) const {
  if (requirements_.empty()) return true;
  return matches(objectLabels(object));
}

Result<FieldSelector> FieldSelector::parse(std::string_view text, const std::set<std::string>& supported) {
  FieldSelector sel;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    std::string_view term = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!term.empty() && isSpace(term.front())) term.remove_prefix(1);
    while (!term.empty() && isSpace(term.back())) term.remove_suffix(1);
    if (!term.empty()) {
      FieldRequirement req;
      std::size_t opPos = std::string_view::npos;
      std::size_t opLen = 0;
      if (auto p = term.find("!="); p != std::string_view::npos) {
        opPos = p;
        opLen = 2;
        req.equals = false;
      } else if (auto q = term.find("=="); q != std::string_view::npos) {
        opPos = q;
        opLen = 2;
      } else if (auto e = term.find('='); e != std::string_view::npos) {
        opPos = e;
        opLen = 1;
      }
      if (opPos == std::string_view::npos) {
        return Error{"invalid selector: '" + std::string(text) + "'; can't understand '" + std::string(term) + "'"};
      }
      req.field = std::string(term.substr(0, opPos));
      req.value = std::string(term.substr(opPos + opLen));
      while (!req.field.empty() && isSpace(req.field.back())) req.field.pop_back();
      if (supported.count(req.field) == 0) return Error{"field label not supported: " + req.field};
      sel.requirements_.push_back(std::move(req));
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return sel;
}

bool FieldSelector::matchesObject(const nlohmann::json& object) const {
  for (const auto& r : requirements_) {
    const auto* v = lookupPath(object, r.field);
    std::string have;
    if (v != nullptr) {
      if (v->is_string()) {
        have = v->get<std::string>();
      } else if (!v->is_null()) {
        have = v->dump();
      }
    }
    if ((have == r.value) != r.equals) return false;
  }
  return true;
}

}  // namespace sluice::kube
