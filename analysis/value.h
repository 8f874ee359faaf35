// The value a metric provider hands to a condition as `result`: nil, a number, a bool, a string (a web
// provider's non-JSON body), a list of numbers (a Prometheus vector, or a matrix flattened), or an object
// (a web provider's jsonPath that selects a JSON object) whose members are values again.
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
  enum class Kind { kNil = 0, kNumber = 1, kBool = 2, kString = 3, kVector = 4, kObject = 5 };
  static constexpr int kKindCount = 6;

  Value() = default;  // nil
  static Value number(double v) { return Value(Storage(std::in_place_index<1>, v)); }
  static Value boolean(bool v) { return Value(Storage(std::in_place_index<2>, v)); }
  static Value string(std::string v) { return Value(Storage(std::in_place_index<3>, std::move(v))); }
  static Value vector(std::vector<double> v) { return Value(Storage(std::in_place_index<4>, std::move(v))); }
  // Members are kept sorted by name; of two with one name, the last wins (as a JSON reader has it).
  static Value object(std::vector<ObjectMember> members);

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  // Each accessor has the precondition that kind() matches.
  double asNumber() const { return std::get<1>(v_); }
  bool asBool() const { return std::get<2>(v_); }
  const std::string& asString() const { return std::get<3>(v_); }
  const std::vector<double>& asVector() const { return std::get<4>(v_); }
  const std::vector<ObjectMember>& asObject() const { return std::get<5>(v_); }
  // The member of an object called `name`, or null when it has none. Precondition: kind() is kObject.
  const ObjectMember* member(std::string_view name) const;

 private:
  using Storage =
      std::variant<std::monostate, double, bool, std::string, std::vector<double>, std::vector<ObjectMember>>;
  explicit Value(Storage v) : v_(std::move(v)) {}
  Storage v_;
};

// A member of an object. A member a condition cannot use (a list holding anything but numbers) is kept by
// name with `unusable` saying what it holds, so that a condition reading it is told why.
struct ObjectMember {
  std::string name;
  Value value;
  std::string unusable;  // empty: `value` is the member's value
};

// How a message names the value's type: "nil", "a number", "a bool", "a string", "a list of 2 numbers",
// "an object".
std::string describe(const Value& value);

// Reads the JSON form of a result, as `sluice analysis eval --result` takes it: a number, an array of
// numbers, null, true or false, a string, or an object of any of these. The strings "NaN", "+Inf", "-Inf"
// and "Inf" are numbers (so Prometheus writes them), alone, inside an array or as a member; NaN and Inf
// may also be written unquoted. Any other string is a string result. An array of anything but numbers is an
// error at the top; inside an object it is a member a condition cannot use.
Result<Value> parseResultJson(std::string_view text);

// A JSON document as a result, as a provider hands it over: strings stay strings. Arrays must hold numbers
// only (error otherwise), except inside an object, where such a member is kept as unusable.
Result<Value> valueFromJson(const nlohmann::json& doc);

}  // namespace sluice::analysis
