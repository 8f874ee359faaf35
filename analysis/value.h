// The value a metric provider hands to a condition as `result`: nil, a number, a bool, a string (a web
// provider's non-JSON body), a list of numbers (a Prometheus vector, or a matrix flattened), or, from a web
// provider's JSON, an object whose members are values again or a list holding more than numbers.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"

namespace sluice::analysis {

struct ObjectMember;

class Value {
 public:
  // The order is part of the contract: CompiledCondition keeps one program per kind, indexed by it.
  enum class Kind { kNil = 0, kNumber = 1, kBool = 2, kString = 3, kVector = 4, kObject = 5, kList = 6 };
  static constexpr int kKindCount = 7;

  Value() = default;  // nil
  static Value number(double v);
  static Value boolean(bool v);
  static Value string(std::string v);
  static Value vector(std::vector<double> v);
  // Members are kept sorted by name; of two with one name, the last wins (as a JSON reader has it).
  static Value object(std::vector<ObjectMember> members);
  // A list holding anything but numbers only (those are a vector).
  static Value list(std::vector<Value> items);

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  // Each accessor has the precondition that kind() matches.
  double asNumber() const { return std::get<1>(v_); }
  bool asBool() const { return std::get<2>(v_); }
  const std::string& asString() const { return std::get<3>(v_); }
  const std::vector<double>& asVector() const { return std::get<4>(v_); }
  const std::vector<ObjectMember>& asObject() const { return std::get<5>(v_); }
  const std::vector<Value>& asList() const { return std::get<6>(v_); }
  // The member of an object called `name`, or null when it has none. Precondition: kind() is kObject.
  const ObjectMember* member(std::string_view name) const;

 private:
  using Storage = std::variant<std::monostate, double, bool, std::string, std::vector<double>,
                               std::vector<ObjectMember>, std::vector<Value>>;
  explicit Value(Storage v);
  Storage v_;
};

struct ObjectMember {
  std::string name;
  Value value;
};

// Defined once ObjectMember is complete: the storage's vector of members needs it (Clang insists).
inline Value::Value(Storage v) : v_(std::move(v)) {}
inline Value Value::number(double v) { return Value(Storage(std::in_place_index<1>, v)); }
inline Value Value::boolean(bool v) { return Value(Storage(std::in_place_index<2>, v)); }
inline Value Value::string(std::string v) { return Value(Storage(std::in_place_index<3>, std::move(v))); }
inline Value Value::vector(std::vector<double> v) {
  return Value(Storage(std::in_place_index<4>, std::move(v)));
}
inline Value Value::list(std::vector<Value> items) {
  return Value(Storage(std::in_place_index<6>, std::move(items)));
}

// How a message names the value's type: "nil", "a number", "a bool", "a string", "a list of 2 numbers",
// "an object", "a list of 2 values".
std::string describe(const Value& value);

// Reads the JSON form of a result, as `sluice analysis eval --result` takes it: a number, an array of
// numbers, null, true or false, a string, or an object or array of any of these. The strings "NaN", "+Inf",
// "-Inf" and "Inf" are numbers (so Prometheus writes them), alone, inside an array or as a member; NaN and
// Inf may also be written unquoted. Any other string is a string result. An array of numbers (or an empty
// one) is a vector; an array holding anything else a list of values.
Result<Value> parseResultJson(std::string_view text);

// A JSON document as a result, as a provider hands it over: strings stay strings.
Value valueFromJson(const nlohmann::json& doc);

}  // namespace sluice::analysis
