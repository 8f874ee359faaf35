// The result value and its JSON form.
#include "analysis/value.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/json_text.h"
#include "base/utf8.h"

namespace sluice::analysis {

std::string describe(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kNil:
      return "nil";
    case Value::Kind::kNumber:
      return "a number";
    case Value::Kind::kBool:
      return "a bool";
    case Value::Kind::kString:
      return "a string";
    case Value::Kind::kVector: {
      const size_t n = value.asVector().size();
      if (n == 0) return "an empty list";
      return n == 1 ? "a list of 1 number" : "a list of " + std::to_string(n) + " numbers";
    }
  }
  return "a value";
}

namespace {

std::optional<double> specialNumber(std::string_view s) {
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  return std::nullopt;
}

// Quotes the bare words NaN, Inf, +Inf and -Inf outside JSON strings, so nlohmann can read the text.
std::string quoteBareSpecials(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (inString) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    if (c == '"') {
      inString = true;
      out += c;
      continue;
    }
    bool quoted = false;
    for (std::string_view word : {"+Inf", "-Inf", "NaN", "Inf"}) {
      if (text.substr(i, word.size()) == word) {
        out += '"';
        out += word;
        out += '"';
        i += word.size() - 1;
        quoted = true;
        break;
      }
    }
    if (!quoted) out += c;
  }
  return out;
}

// A value as JSON for a message, cut short: an item of a result can be as long as the command line.
std::string shortDump(const nlohmann::json& item) {
  constexpr size_t kMax = 64;
  std::string text = item.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kMax) text = std::string(utf8Prefix(text, kMax)) + "...";
  return text;
}

}  // namespace

Result<Value> parseResultJson(std::string_view text) {
  auto parsed = parseJsonText(quoteBareSpecials(text));
  if (!parsed) return Error{"the result is " + parsed.error()};
  const nlohmann::json& doc = *parsed;
  if (doc.is_null()) return Value();
  if (doc.is_boolean()) return Value::boolean(doc.get<bool>());
  if (doc.is_number()) return Value::number(doc.get<double>());
  if (doc.is_string()) {
    const auto s = doc.get<std::string>();
    if (auto special = specialNumber(s)) return Value::number(*special);
    return Value::string(s);
  }
  if (doc.is_array()) {
    std::vector<double> numbers;
    numbers.reserve(doc.size());
    for (const auto& item : doc) {
      if (item.is_number()) {
        numbers.push_back(item.get<double>());
      } else if (auto special = item.is_string() ? specialNumber(item.get<std::string>()) : std::nullopt) {
        numbers.push_back(*special);
      } else {
        return Error{"the result array must hold only numbers; found " + shortDump(item)};
      }
    }
    return Value::vector(std::move(numbers));
  }
  return Error{"the result must be a number, an array of numbers, null, a bool or a string; got an object"};
}

}  // namespace sluice::analysis
