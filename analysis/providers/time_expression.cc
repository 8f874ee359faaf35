// A hand-written reader for the few time expressions range queries use; anything else is refused rather
// than guessed.
#include "analysis/providers/time_expression.h"

#include <cctype>
#include <string>

namespace sluice::analysis {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}
  void skipSpaces() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) ++pos_;
  }
  bool eat(std::string_view word) {
    skipSpaces();
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool atEnd() {
    skipSpaces();
    return pos_ >= text_.size();
  }
  // A quoted string; nullopt-like empty optional when not at a quote or unterminated.
  bool quoted(std::string& out) {
    skipSpaces();
    if (pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\'')) return false;
    char quote = text_[pos_];
    std::size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) return false;
    out = std::string(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return true;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<Time> evaluateTimeExpression(std::string_view expression, Time now) {
  auto unsupported = [&] {
    return Error{"time expression \"" + std::string(expression) +
                 "\" is not supported: write now(), now() - duration(\"5m\") or now() + duration(\"5m\")"};
  };
  Reader r(expression);
  if (!r.eat("now") || !r.eat("(") || !r.eat(")")) return unsupported();
  if (r.atEnd()) return now;
  int sign = 0;
  if (r.eat("-")) {
    sign = -1;
  } else if (r.eat("+")) {
    sign = 1;
  } else {
    return unsupported();
  }
  std::string text;
  if (!r.eat("duration") || !r.eat("(") || !r.quoted(text) || !r.eat(")") || !r.atEnd()) return unsupported();
  auto d = parseDuration(text);
  if (!d) return Error{"time expression \"" + std::string(expression) + "\": " + d.error()};
  return sign < 0 ? now - *d : now + *d;
}

}  // namespace sluice::analysis
