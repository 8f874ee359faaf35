// Tokenizer and parser of the condition language. Precedences and associativity follow expr-lang, so a
// condition means what it means in Argo Rollouts: `**`/`^` bind tighter than unary minus (-2 ** 2 is -4),
// `!` binds tighter than `&&`, and `&&` tighter than `||`.
#include "analysis/condition_syntax.h"

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "base/input_limits.h"
#include "base/utf8.h"

namespace sluice::analysis::condition {
namespace {

enum class Tok {
  kNumber,
  kString,
  kIdent,
  kHash,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kComma,
  kDot,          // .
  kQuestionDot,  // ?.
  kQuestion,     // ? of ?:
  kColon,        // : of ?:
  kOperator,
  kEnd
};

struct Token {
  Tok type = Tok::kEnd;
  std::string text;  // as written (kString: unescaped)
  int column = 0;
  double number = 0;
};

Error errorAt(int column, const std::string& message) {
  return Error{"column " + std::to_string(column) + ": " + message};
}

std::string inQuotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool isIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

// The token a single character makes, or null when the language has none.
const Tok* singleCharToken(char c) {
  static constexpr struct {
    char c;
    Tok type;
  } kSingle[] = {{'(', Tok::kLParen},   {')', Tok::kRParen},   {'[', Tok::kLBracket}, {']', Tok::kRBracket},
                 {'{', Tok::kLBrace},   {'}', Tok::kRBrace},   {',', Tok::kComma},    {'#', Tok::kHash},
                 {'<', Tok::kOperator}, {'>', Tok::kOperator}, {'!', Tok::kOperator}, {'+', Tok::kOperator},
                 {'-', Tok::kOperator}, {'*', Tok::kOperator}, {'/', Tok::kOperator}, {'%', Tok::kOperator},
                 {'^', Tok::kOperator}, {'.', Tok::kDot},      {'?', Tok::kQuestion}, {':', Tok::kColon}};
  for (const auto& row : kSingle) {
    if (row.c == c) return &row.type;
  }
  return nullptr;
}

// Why a character (all of its bytes, for a multibyte one) is not part of the language, pointing at what
// to write instead where there is one.
std::string rejectedCharacter(std::string_view ch) {
  const char c = ch.empty() ? '\0' : ch[0];
  static constexpr struct {
    char c;
    std::string_view message;
  } kRejected[] = {
      {'=', "unexpected \"=\": compare with =="},
      {'&', "unexpected \"&\": write && (or and)"},
      {'|', "unexpected \"|\": write || (or or); pipes are not supported"},
  };
  for (const auto& row : kRejected) {
    if (row.c == c) return std::string(row.message);
  }
  if (ch.empty()) return "unexpected byte that is not valid UTF-8";
  if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
    char code[8];
    std::snprintf(code, sizeof(code), "U+%04X", static_cast<unsigned>(static_cast<unsigned char>(c)));
    return std::string("unexpected control character ") + code;
  }
  return "unexpected character " + inQuotes(ch);
}

// The bytes of the character at `s[at]`: the whole of a multibyte character, one byte if it is invalid.
std::string_view characterAt(std::string_view s, size_t at) {
  const size_t n = utf8CharLength(s, at);
  return n == 0 ? std::string_view() : s.substr(at, n);
}

Result<std::vector<Token>> tokenize(std::string_view s) {
  std::vector<Token> out;
  // Columns count characters, as a person does, not bytes: kept up to date as the scan moves forward.
  size_t counted = 0;
  int countedColumn = 1;
  auto columnOf = [&](size_t at) {
    countedColumn += utf8Column(s.substr(counted), at - counted) - 1;
    counted = at;
    return countedColumn;
  };
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    const int column = columnOf(i);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    Token t;
    t.column = column;
    if (isDigit(c)) {
      std::string digits;
      size_t j = i;
      auto takeDigits = [&] {
        while (j < s.size() && (isDigit(s[j]) || s[j] == '_')) {
          if (s[j] != '_') digits += s[j];
          ++j;
        }
      };
      takeDigits();
      if (j + 1 < s.size() && s[j] == '.' && isDigit(s[j + 1])) {
        digits += s[j++];
        takeDigits();
      }
      if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
        if (k < s.size() && isDigit(s[k])) {
          digits += 'e';
          digits.append(s.substr(j + 1, k - j - 1));
          j = k;
          takeDigits();
        }
      }
      t.type = Tok::kNumber;
      t.text = std::string(s.substr(i, j - i));
      t.number = std::strtod(digits.c_str(), nullptr);
      i = j;
    } else if (isIdentStart(c)) {
      size_t j = i;
      while (j < s.size() && (isIdentStart(s[j]) || isDigit(s[j]))) ++j;
      t.type = Tok::kIdent;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else if (c == '"' || c == '\'') {
      size_t j = i + 1;
      std::string value;
      bool closed = false;
      while (j < s.size()) {
        const char d = s[j++];
        if (d == c) {
          closed = true;
          break;
        }
        if (d == '\\' && j < s.size()) {
          const char e = s[j++];
          switch (e) {
            case 'n':
              value += '\n';
              break;
            case 't':
              value += '\t';
              break;
            case 'r':
              value += '\r';
              break;
            case '\\':
            case '"':
            case '\'':
              value += e;
              break;
            default:
              return errorAt(columnOf(j - 2),
                             "unknown escape \\" + std::string(characterAt(s, j - 1)) + " in a string");
          }
          continue;
        }
        value += d;
      }
      if (!closed) return errorAt(column, "unterminated string: expected a closing " + std::string(1, c));
      t.type = Tok::kString;
      t.text = std::move(value);
      i = j;
    } else if (s.substr(i, 2) == "..") {
      return errorAt(column, "unexpected \"..\": ranges are not supported");
    } else if (s.substr(i, 2) == "?." && !(i + 2 < s.size() && isDigit(s[i + 2]))) {
      t.type = Tok::kQuestionDot;  // not `c ?.5 : 1`, whose "?" is the conditional's
      t.text = "?.";
      i += 2;
    } else {
      static constexpr std::string_view kTwoChar[] = {"==", "!=", "<=", ">=", "&&", "||", "**", "??"};
      const std::string_view two = s.substr(i, 2);
      bool matched = false;
      for (auto op : kTwoChar) {
        if (two == op) {
          t.type = Tok::kOperator;
          t.text = std::string(op);
          i += 2;
          matched = true;
          break;
        }
      }
      if (!matched) {
        const Tok* single = singleCharToken(c);
        if (!single) return errorAt(column, rejectedCharacter(characterAt(s, i)));
        t.type = *single;
        t.text = std::string(1, c);
        ++i;
      }
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.type = Tok::kEnd;
  end.column = columnOf(s.size());
  out.push_back(end);
  return out;
}

struct FunctionInfo {
  std::string_view name;
  Fn fn;
  int minArgs;
  int maxArgs;  // -1: any number
  bool predicate;
};

constexpr FunctionInfo kFunctions[] = {
    {"len", Fn::kLen, 1, 1, false},     {"all", Fn::kAll, 2, 2, true},
    {"any", Fn::kAny, 2, 2, true},      {"none", Fn::kNone, 2, 2, true},
    {"one", Fn::kOne, 2, 2, true},      {"filter", Fn::kFilter, 2, 2, true},
    {"count", Fn::kCount, 2, 2, true},  {"sum", Fn::kSum, 1, -1, false},
    {"mean", Fn::kMean, 1, -1, false},  {"min", Fn::kMin, 1, -1, false},
    {"max", Fn::kMax, 1, -1, false},    {"abs", Fn::kAbs, 1, 1, false},
    {"isNaN", Fn::kIsNaN, 1, 1, false}, {"isInf", Fn::kIsInf, 1, 1, false},
    {"isNil", Fn::kIsNil, 1, 1, false}, {"default", Fn::kDefault, 2, 2, false},
    {"asInt", Fn::kAsInt, 1, 1, false}, {"asFloat", Fn::kAsFloat, 1, 1, false},
};

const FunctionInfo* findFunction(std::string_view name) {
  for (const auto& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

struct BinaryInfo {
  Op op;
  int precedence;
  bool rightAssociative;
};

// expr-lang's precedences: || 10, && 15, comparisons 20, + - 30, * / % 60, ** ^ 100 (right-associative),
// ?? 500; the conditional ?: is below them all.
bool binaryOperator(const Token& t, BinaryInfo& info) {
  if (t.type == Tok::kIdent) {
    if (t.text == "or") return info = {Op::kOr, 10, false}, true;
    if (t.text == "and") return info = {Op::kAnd, 15, false}, true;
    return false;
  }
  if (t.type != Tok::kOperator) return false;
  static const struct {
    std::string_view text;
    BinaryInfo info;
  } kTable[] = {
      {"||", {Op::kOr, 10, false}},        {"&&", {Op::kAnd, 15, false}}, {"==", {Op::kEq, 20, false}},
      {"!=", {Op::kNe, 20, false}},        {"<", {Op::kLt, 20, false}},   {">", {Op::kGt, 20, false}},
      {"<=", {Op::kLe, 20, false}},        {">=", {Op::kGe, 20, false}},  {"+", {Op::kAdd, 30, false}},
      {"-", {Op::kSub, 30, false}},        {"*", {Op::kMul, 60, false}},  {"/", {Op::kDiv, 60, false}},
      {"%", {Op::kMod, 60, false}},        {"**", {Op::kPow, 100, true}}, {"^", {Op::kPow, 100, true}},
      {"??", {Op::kCoalesce, 500, false}},
  };
  for (const auto& row : kTable) {
    if (row.text == t.text) return info = row.info, true;
  }
  return false;
}

constexpr int kUnaryNotPrecedence = 50;
constexpr int kUnaryMinusPrecedence = 90;
constexpr int kMaxNesting = 100;
constexpr int kMaxPredicateDepth = 8;

std::string describeToken(const Token& t) {
  if (t.type == Tok::kEnd) return "end of the condition";
  if (t.type == Tok::kString) return "string " + inQuotes(t.text);
  return "token " + inQuotes(t.text);
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<Node> parseAll() {
    auto node = expression(0);
    if (!node) return node;
    if (peek().type != Tok::kEnd) {
      return errorAt(peek().column, "unexpected " + describeToken(peek()) +
                                        ": expected an operator or the end of the condition");
    }
    return node;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() { return tokens_[pos_++]; }

  // Consumes the closing token, or says what was found instead.
  std::optional<Error> expect(Tok type, std::string_view text) {
    if (peek().type != type) {
      return errorAt(peek().column,
                     "unexpected " + describeToken(peek()) + ": expected \"" + std::string(text) + "\"");
    }
    next();
    return std::nullopt;
  }

  Result<Node> expression(int minPrecedence) {
    if (++nesting_ > kMaxNesting) return errorAt(peek().column, "the condition is nested too deeply");
    auto left = unary();
    if (!left) return left;
    BinaryInfo info{};
    while (binaryOperator(peek(), info) && info.precedence >= minPrecedence) {
      const Token& opToken = next();
      auto right = expression(info.rightAssociative ? info.precedence : info.precedence + 1);
      if (!right) return right;
      Node n;
      n.kind = NodeKind::kBinary;
      n.op = info.op;
      n.column = opToken.column;
      n.text = opToken.text;
      n.args.push_back(std::move(*left));
      n.args.push_back(std::move(*right));
      left = std::move(n);
    }
    if (minPrecedence == 0 && peek().type == Tok::kQuestion && left) left = conditional(std::move(*left));
    --nesting_;
    return left;
  }

  // cond ? a : b, right-associative: each branch is a whole expression, itself maybe a conditional.
  Result<Node> conditional(Node condition) {
    const Token& question = next();
    auto yes = expression(0);
    if (!yes) return yes;
    if (peek().type != Tok::kColon) {
      return errorAt(peek().column, "unexpected " + describeToken(peek()) + ": expected \":\" of ?:");
    }
    next();
    auto no = expression(0);
    if (!no) return no;
    Node n;
    n.kind = NodeKind::kConditional;
    n.column = question.column;
    n.args.push_back(std::move(condition));
    n.args.push_back(std::move(*yes));
    n.args.push_back(std::move(*no));
    return n;
  }

  Result<Node> unary() {
    const Token& t = peek();
    const bool isNot =
        (t.type == Tok::kOperator && t.text == "!") || (t.type == Tok::kIdent && t.text == "not");
    const bool isSign = t.type == Tok::kOperator && (t.text == "-" || t.text == "+");
    if (!isNot && !isSign) return postfix();
    const Token& opToken = next();
    auto operand = expression(isNot ? kUnaryNotPrecedence : kUnaryMinusPrecedence);
    if (!operand) return operand;
    Node n;
    n.kind = NodeKind::kUnary;
    n.op = isNot ? Op::kNot : (opToken.text == "-" ? Op::kNeg : Op::kPlus);
    n.column = opToken.column;
    n.text = opToken.text;
    n.args.push_back(std::move(*operand));
    return n;
  }

  // Indexing and member access, on any value: result[0], (result)[0], result.name, result?.name.
  Result<Node> postfix() {
    auto node = primary();
    if (!node) return node;
    while (true) {
      Node n;
      n.column = peek().column;
      if (peek().type == Tok::kLBracket) {
        next();
        auto index = expression(0);
        if (!index) return index;
        if (peek().type == Tok::kColon) return errorAt(peek().column, "slices are not supported");
        if (auto closing = expect(Tok::kRBracket, "]")) return *closing;
        n.kind = NodeKind::kIndex;
        n.args.push_back(std::move(*node));
        n.args.push_back(std::move(*index));
      } else if (peek().type == Tok::kDot || peek().type == Tok::kQuestionDot) {
        n.boolean = next().type == Tok::kQuestionDot;
        if (peek().type != Tok::kIdent) {
          return errorAt(peek().column, "unexpected " + describeToken(peek()) +
                                            ": expected a member name after " +
                                            (n.boolean ? "\"?.\"" : "\".\""));
        }
        n.kind = NodeKind::kMember;
        n.text = next().text;
        n.args.push_back(std::move(*node));
      } else {
        return node;
      }
      node = std::move(n);
    }
  }

  // A list written out: [1, 2.5, -3].
  Result<Node> list(const Token& open) {
    Node n;
    n.kind = NodeKind::kList;
    n.column = open.column;
    while (peek().type != Tok::kRBracket) {
      auto element = expression(0);
      if (!element) return element;
      n.args.push_back(std::move(*element));
      if (peek().type == Tok::kComma) {
        next();
        continue;
      }
      if (peek().type != Tok::kRBracket) {
        return errorAt(peek().column, "unexpected " + describeToken(peek()) + ": expected \",\" or \"]\"");
      }
    }
    next();  // ]
    return n;
  }

  Result<Node> primary() {
    const Token& t = next();
    Node n;
    n.column = t.column;
    switch (t.type) {
      case Tok::kNumber:
        n.kind = NodeKind::kNumber;
        n.number = t.number;
        return n;
      case Tok::kString:
        n.kind = NodeKind::kString;
        n.text = t.text;
        return n;
      case Tok::kHash:
        if (predicateDepth_ == 0) {
          return errorAt(t.column, "# is only allowed inside a predicate, e.g. all(result, # < 1000)");
        }
        n.kind = NodeKind::kElement;
        n.depth = predicateDepth_;
        return n;
      case Tok::kLParen: {
        auto inner = expression(0);
        if (!inner) return inner;
        if (auto closing = expect(Tok::kRParen, ")")) return *closing;
        return inner;
      }
      case Tok::kIdent:
        return identifier(t);
      case Tok::kLBracket:
        return list(t);
      default:
        return errorAt(
            t.column,
            "unexpected " + describeToken(t) +
                ": expected a value (a number, result, a string, a list, a function call or \"(\")");
    }
  }

  Result<Node> identifier(const Token& t) {
    Node n;
    n.column = t.column;
    if (t.text == "result") {
      n.kind = NodeKind::kResult;
      return n;
    }
    if (t.text == "true" || t.text == "false") {
      n.kind = NodeKind::kBool;
      n.boolean = t.text == "true";
      return n;
    }
    if (t.text == "nil") {
      n.kind = NodeKind::kNil;
      return n;
    }
    const FunctionInfo* fn = findFunction(t.text);
    if (peek().type != Tok::kLParen) {
      if (fn)
        return errorAt(t.column, inQuotes(t.text) + " is a function: call it, e.g. " + t.text + "(result)");
      if (t.text == "and" || t.text == "or") {
        return errorAt(t.column, "unexpected " + inQuotes(t.text) + ": expected a value");
      }
      return errorAt(t.column, "unknown name " + inQuotes(t.text) + ": the only variable is result");
    }
    if (!fn) {
      return errorAt(t.column,
                     "unknown function " + inQuotes(t.text) +
                         ": supported are len, all, any, none, one, filter, count, sum, mean, min, max, "
                         "abs, isNaN, isInf, isNil, default, asInt, asFloat");
    }
    next();  // (
    n.kind = NodeKind::kCall;
    n.fn = fn->fn;
    n.text = std::string(fn->name);
    const int count = fn->predicate ? 2 : -1;
    const int firstArgColumn = peek().column;
    while (peek().type != Tok::kRParen) {
      const bool predicateArg = fn->predicate && n.args.size() == 1;
      auto arg = predicateArg ? predicate() : expression(0);
      if (!arg) return arg;
      n.args.push_back(std::move(*arg));
      if (peek().type == Tok::kComma) {
        next();
        continue;
      }
      if (peek().type != Tok::kRParen) {
        return errorAt(peek().column, "unexpected " + describeToken(peek()) + ": expected \",\" or \")\"");
      }
    }
    next();  // )
    const int got = static_cast<int>(n.args.size());
    if (fn->predicate && got != count) {
      return errorAt(t.column, std::string(fn->name) + "() takes a list and a predicate, e.g. " +
                                   std::string(fn->name) + "(result, # < 1000)");
    }
    if (got < fn->minArgs || (fn->maxArgs >= 0 && got > fn->maxArgs)) {
      const std::string wanted = fn->maxArgs < 0 ? "at least " + std::to_string(fn->minArgs)
                                 : fn->minArgs == fn->maxArgs
                                     ? std::to_string(fn->minArgs)
                                     : std::to_string(fn->minArgs) + " to " + std::to_string(fn->maxArgs);
      return errorAt(t.column, std::string(fn->name) + "() takes " + wanted +
                                   (wanted.back() == '1' ? " argument" : " arguments") + ", got " +
                                   std::to_string(got));
    }
    if ((fn->fn == Fn::kIsNil || fn->fn == Fn::kDefault) && n.args[0].kind != NodeKind::kResult) {
      // Argo's isNil and default ignore their first argument and test the whole result; insisting on
      // `result` keeps a condition from appearing to test something it does not.
      return errorAt(firstArgColumn, std::string(fn->name) +
                                         "() tests whether the whole result is nil: write " +
                                         (fn->fn == Fn::kIsNil ? "isNil(result)" : "default(result, 0)"));
    }
    return n;
  }

  // A predicate, bare (# < 1000) or in braces ({# < 1000}); `#` inside is the current element.
  Result<Node> predicate() {
    if (predicateDepth_ >= kMaxPredicateDepth)
      return errorAt(peek().column, "predicates are nested too deeply");
    ++predicateDepth_;
    Result<Node> body = Error{};
    if (peek().type == Tok::kLBrace) {
      next();
      body = expression(0);
      if (body) {
        if (auto closing = expect(Tok::kRBrace, "}")) body = *closing;
      }
    } else {
      body = expression(0);
    }
    --predicateDepth_;
    return body;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int nesting_ = 0;
  int predicateDepth_ = 0;
};

}  // namespace

Result<Node> parse(std::string_view source) {
  if (source.size() > limits::kMaxConditionLength) {
    return Error{"the condition is longer than " + std::to_string(limits::kMaxConditionLength) +
                 " characters"};
  }
  auto tokens = tokenize(source);
  if (!tokens) return Error{tokens.error()};
  if (tokens->size() == 1) return Error{"the condition is empty"};
  return Parser(std::move(*tokens)).parseAll();
}

std::string_view opName(Op op) {
  switch (op) {
    case Op::kNeg:
    case Op::kSub:
      return "-";
    case Op::kPlus:
    case Op::kAdd:
      return "+";
    case Op::kNot:
      return "!";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kMod:
      return "%";
    case Op::kPow:
      return "**";
    case Op::kEq:
      return "==";
    case Op::kNe:
      return "!=";
    case Op::kLt:
      return "<";
    case Op::kGt:
      return ">";
    case Op::kLe:
      return "<=";
    case Op::kGe:
      return ">=";
    case Op::kAnd:
      return "&&";
    case Op::kOr:
      return "||";
    case Op::kCoalesce:
      return "??";
  }
  return "?";
}

}  // namespace sluice::analysis::condition
