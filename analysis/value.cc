// The result value and its JSON form.
#include "analysis/value.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/json_text.h"

namespace sluice::analysis {

Value Value::object(std::vector<ObjectMember> members) {
  std::stable_sort(members.begin(), members.end(),
                   [](const ObjectMember& a, const ObjectMember& b) { return a.name < b.name; });
  std::vector<ObjectMember> unique;
  unique.reserve(members.size());
  for (auto& m : members) {
    if (!unique.empty() && unique.back().name == m.name) {
      unique.back() = std::move(m);
    } else {
      unique.push_back(std::move(m));
    }
  }
  return Value(Storage(std::in_place_index<5>, std::move(unique)));
}

const ObjectMember* Value::member(std::string_view name) const {
  const auto& members = asObject();
  auto it = std::lower_bound(members.begin(), members.end(), name,
                             [](const ObjectMember& m, std::string_view n) { return m.name < n; });
  return it != members.end() && it->name == name ? &*it : nullptr;
}

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
    case Value::Kind::kObject:
      return "an object";
    case Value::Kind::kList: {
      const size_t n = value.asList().size();
      return n == 1 ? "a list of 1 value" : "a list of " + std::to_string(n) + " values";
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

// A JSON value as a result. `specials`: the strings NaN, +Inf, -Inf and Inf are numbers.
Value fromJson(const nlohmann::json& doc, bool specials) {
  auto special = [&](const nlohmann::json& item) {
    return specials && item.is_string() ? specialNumber(item.get_ref<const std::string&>()) : std::nullopt;
  };
  if (doc.is_null()) return Value();
  if (doc.is_boolean()) return Value::boolean(doc.get<bool>());
  if (doc.is_number()) return Value::number(doc.get<double>());
  if (doc.is_string()) {
    if (auto number = special(doc)) return Value::number(*number);
    return Value::string(doc.get<std::string>());
  }
  if (doc.is_array()) {
    std::vector<double> numbers;
    numbers.reserve(doc.size());
    for (const auto& item : doc) {
      if (item.is_number()) {
        numbers.push_back(item.get<double>());
      } else if (auto number = special(item)) {
        numbers.push_back(*number);
      } else {
        std::vector<Value> items;
        items.reserve(doc.size());
        for (const auto& each : doc) items.push_back(fromJson(each, specials));
        return Value::list(std::move(items));
      }
    }
    return Value::vector(std::move(numbers));
  }
  std::vector<ObjectMember> members;
  members.reserve(doc.size());
  for (const auto& [name, item] : doc.items()) members.push_back({name, fromJson(item, specials)});
  return Value::object(std::move(members));
}

}  // namespace

Result<Value> parseResultJson(std::string_view text) {
  auto parsed = parseJsonText(quoteBareSpecials(text));
  if (!parsed) return Error{"the result is " + parsed.error()};
  return fromJson(*parsed, true);
}

Value valueFromJson(const nlohmann::json& doc) { return fromJson(doc, false); }

}  // namespace sluice::analysis
