// The value a metric provider hands to a condition as `result`: nil, a number, a bool, a string (a web
// provider's non-JSON body), or a list of numbers (a Prometheus vector, or a matrix flattened).
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"

namespace sluice::analysis {

class Value {
 public:
  // The order is part of the contract: CompiledCondition keeps one program per kind, indexed by it.
  enum class Kind { kNil = 0, kNumber = 1, kBool = 2, kString = 3, kVector = 4 };
  static constexpr int kKindCount = 5;

  Value() = default;  // nil
  static Value number(double v) { return Value(Storage(std::in_place_index<1>, v)); }
  static Value boolean(bool v) { return Value(Storage(std::in_place_index<2>, v)); }
  static Value string(std::string v) { return Value(Storage(std::in_place_index<3>, std::move(v))); }
  static Value vector(std::vector<double> v) { return Value(Storage(std::in_place_index<4>, std::move(v))); }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  // Each accessor has the precondition that kind() matches.
  double asNumber() const { return std::get<1>(v_); }
  bool asBool() const { return std::get<2>(v_); }
  const std::string& asString() const { return std::get<3>(v_); }
  const std::vector<double>& asVector() const { return std::get<4>(v_); }

 private:
  using Storage = std::variant<std::monostate, double, bool, std::string, std::vector<double>>;
  explicit Value(Storage v) : v_(std::move(v)) {}
  Storage v_;
};

// How a message names the value's type: "nil", "a number", "a bool", "a string", "a list of 2 numbers".
std::string describe(const Value& value);

// Reads the JSON form of a result, as `sluice analysis eval --result` takes it: a number, an array of
// numbers, null, true or false, or a string. The strings "NaN", "+Inf", "-Inf" and "Inf" are numbers (so
// Prometheus writes them), alone or inside an array; NaN and Inf may also be written unquoted. Any other
// string is a string result. Objects and arrays of anything but numbers are an error.
Result<Value> parseResultJson(std::string_view text);

}  // namespace sluice::analysis
