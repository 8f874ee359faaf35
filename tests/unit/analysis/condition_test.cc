// Conformance table of the condition language: what an Argo Rollouts successCondition or
// failureCondition gives for a result, or the error it reports, or the compile error with its column.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/condition.h"
#include "analysis/value.h"

namespace sluice::analysis {
namespace {

// expected: "true", "false", "error: <fragment>" (evaluation) or "compile: <fragment>".
struct ConditionRow {
  std::string_view condition;
  std::string_view result;  // JSON, as `sluice analysis eval --result` takes it
  std::string_view expected;
};

constexpr std::string_view kEvalError = "error: ";
constexpr std::string_view kCompileError = "compile: ";

// When the row expects an error of this kind (its `expected` starts with `prefix`), checks that there
// was one (`failure` is not null) and that it says what the row says, and returns true.
bool checkedAsError(std::string_view expected, std::string_view prefix, const std::string* failure) {
  if (expected.substr(0, prefix.size()) != prefix) return false;
  REQUIRE(failure != nullptr);
  CHECK_THAT(*failure, Catch::Contains(std::string(expected.substr(prefix.size()))));
  return true;
}

void checkRows(const std::vector<ConditionRow>& rows) {
  for (const ConditionRow& row : rows) {
    INFO("condition: " << row.condition << "    result: " << row.result);
    auto value = parseResultJson(row.result);
    REQUIRE(value.ok());
    auto compiled = compile(row.condition);
    if (checkedAsError(row.expected, kCompileError, compiled.ok() ? nullptr : &compiled.error())) continue;
    INFO("compile error: " << (compiled.ok() ? "" : compiled.error()));
    REQUIRE(compiled.ok());
    auto got = compiled->evaluate(*value);
    if (checkedAsError(row.expected, kEvalError, got.ok() ? nullptr : &got.error())) continue;
    INFO("evaluation error: " << (got.ok() ? "" : got.error()));
    REQUIRE(got.ok());
    CHECK(*got == (row.expected == "true"));
  }
}

TEST_CASE("comparisons of a scalar result", "[analysis][condition]") {
  checkRows({
      {"result >= 0.95", "0.97", "true"},
      {"result >= 0.95", "0.95", "true"},
      {"result >= 0.95", "0.94", "false"},
      {"result > 1", "1", "false"},
      {"result < 1", "0.5", "true"},
      {"result <= 1", "1", "true"},
      {"result == 2", "2", "true"},
      {"result != 2", "2", "false"},
      {"result != 2", "3", "true"},
      {"result >= -1", "-2", "false"},
      {"1 < 2", "null", "true"},
      {"0.1 + 0.2 == 0.3", "0", "false"},
      {"1e3 == 1000", "0", "true"},
      {"2.5e-1 == 0.25", "0", "true"},
      {"1_000 == 1000", "0", "true"},
  });
}

TEST_CASE("NaN follows IEEE and infinities compare as numbers", "[analysis][condition]") {
  checkRows({
      {"result >= 0.95", "NaN", "false"},
      {"result < 0.95", "\"NaN\"", "false"},
      {"result == result", "NaN", "false"},
      {"result != result", "NaN", "true"},
      {"result != 1", "NaN", "true"},
      {"isNaN(result) || result >= 0.95", "NaN", "true"},
      {"isNaN(result) || result >= 0.95", "0.9", "false"},
      {"isNaN(result)", "\"NaN\"", "true"},
      {"isNaN(result)", "1", "false"},
      {"isInf(result)", "\"+Inf\"", "true"},
      {"isInf(result)", "\"-Inf\"", "true"},
      {"isInf(result)", "1", "false"},
      {"result > 1000", "\"+Inf\"", "true"},
      {"result < -1000", "-Inf", "true"},
      {"isNaN(result[0])", "[NaN, 1]", "true"},
      {"all(result, # < 1)", "[\"NaN\"]", "false"},
      {"any(result, isNaN(#))", "[1, \"NaN\"]", "true"},
      {"none(result, isNaN(#))", "[1, 2]", "true"},
      {"result[0] + 1 > 0", "[NaN]", "false"},
      {"isNaN(sum(result))", "[1, NaN]", "true"},
      {"isNaN(max(result))", "[1, NaN, 3]", "true"},
      {"isNaN(min(1, 0 / 0))", "0", "true"},
      {"1 / 0 > 1e308", "0", "true"},
      {"isInf(-1 / 0)", "0", "true"},
  });
}

TEST_CASE("logic, its precedence and short-circuit", "[analysis][condition]") {
  checkRows({
      {"result > 1 && result < 3", "2", "true"},
      {"result > 1 and result < 3", "5", "false"},
      {"result < 1 || result > 3", "5", "true"},
      {"result < 1 or result > 3", "2", "false"},
      {"!(result > 1)", "0", "true"},
      {"not (result > 1)", "2", "false"},
      {"!true", "0", "false"},
      {"not false", "0", "true"},
      {"true && false", "0", "false"},
      {"true || false", "0", "true"},
      // `!` binds tighter than `&&` and `||`: (!false) && false, not !(false && false).
      {"!false && false", "0", "false"},
      {"!true || true", "0", "true"},
      // `&&` binds tighter than `||`: true || (false && false).
      {"true || false && false", "0", "true"},
      {"false && true || true", "0", "true"},
      {"false and true or true", "0", "true"},
      {"len(result) == 0 || result[0] >= 0.95", "[]", "true"},
      {"len(result) == 0 || result[0] >= 0.95", "[0.97]", "true"},
      {"len(result) == 0 || result[0] >= 0.95", "[0.5]", "false"},
      {"len(result) > 0 && result[0] >= 0.95", "[]", "false"},
      {"isNil(result) || result > 0.5", "null", "true"},
      {"isNil(result) || result > 0.5", "0.7", "true"},
      {"false && result[0] > 1", "[]", "false"},
      {"true || result[5] > 1", "[1]", "true"},
      {"true && result[5] > 1", "[1]", "error: index 5 is out of range"},
      {"result[0] > 1 || true", "[]", "error: result is empty"},
  });
}

TEST_CASE("arithmetic and its precedence", "[analysis][condition]") {
  checkRows({
      {"result * 100 >= 95", "0.96", "true"},
      {"result + 1 == 3", "2", "true"},
      {"result - 1 == 1", "2", "true"},
      {"result / 2 == 1.5", "3", "true"},
      {"7 / 2 == 3.5", "0", "true"},
      {"7 % 3 == 1", "0", "true"},
      {"-7 % 3 == -1", "0", "true"},
      {"2 ^ 10 == 1024", "0", "true"},
      {"2 ** 10 == 1024", "0", "true"},
      // `**` is right-associative and binds tighter than unary minus, as in expr.
      {"2 ** 3 ** 2 == 512", "0", "true"},
      {"-2 ** 2 == -4", "0", "true"},
      {"(-2) ** 2 == 4", "0", "true"},
      {"-result ** 2 == -9", "3", "true"},
      {"1 + 2 * 3 == 7", "0", "true"},
      {"(1 + 2) * 3 == 9", "0", "true"},
      {"10 - 4 - 3 == 3", "0", "true"},
      {"16 / 4 / 2 == 2", "0", "true"},
      {"2 * -3 == -6", "0", "true"},
      {"-result < 0", "5", "true"},
      {"- -result == 5", "5", "true"},
      {"+result == 5", "5", "true"},
      {"1 + 2 < 4", "0", "true"},
      {"result * 2 > 1", "[1]", "error: cannot apply * to a list of 1 number and a number"},
      {"result + 1 > 0", "\"x\"", "error: cannot apply + to a string and a number"},
      {"result + 1 > 0", "null", "error: result is nil"},
  });
}

TEST_CASE("indexing, with negative indexes from the end", "[analysis][condition]") {
  checkRows({
      {"result[0] >= 0.95", "[0.97, 0.5]", "true"},
      {"result[1] >= 0.95", "[0.97, 0.5]", "false"},
      {"result[-1] == 3", "[1, 2, 3]", "true"},
      {"result[-3] == 1", "[1, 2, 3]", "true"},
      {"result[-4] == 1", "[1, 2, 3]", "error: index -4 is out of range: result has 3 values"},
      {"result[3] == 1", "[1, 2, 3]", "error: index 3 is out of range: result has 3 values"},
      {"result[0] >= 0.95", "[]", "error: result is empty: the query returned no data"},
      {"result[-1] > 0", "[]", "error: result is empty: the query returned no data"},
      {"result[len(result) - 1] == 3", "[1, 2, 3]", "true"},
      {"result[1 + 1] == 3", "[1, 2, 3]", "true"},
      {"result[0.5] > 0", "[1, 2]", "error: index 0.5 is not a whole number"},
      {"result[0] > 0", "5", "error: cannot index a number: result is a single number"},
      {"result[0] > 0", "null", "error: result is nil"},
      {"result[0] > 0", "\"abc\"", "error: cannot index a string"},
      {"result[0] == \"a\"", "[1]", "compile: column 11: cannot compare a number with a string"},
      {"result[0][0] > 0", "[1]", "compile: column 10: cannot index a number"},
      {"result[\"a\"] > 0", "[1]", "compile: column 8: an index must be a number, got a string"},
  });
}

TEST_CASE("len of a list or a string", "[analysis][condition]") {
  checkRows({
      {"len(result) == 0", "[]", "true"},
      {"len(result) == 3", "[1, 2, 3]", "true"},
      {"len(result) > 0", "[NaN]", "true"},
      {"len(result) == 5", "\"hello\"", "true"},
      {"len(\"h\u00e9llo\") == 5", "0", "true"},
      {"len(filter(result, # > 1)) == 2", "[1, 2, 3]", "true"},
      {"len(result) > 0", "5", "error: len() needs a list or a string, got a number"},
      {"len(result) > 0", "null", "error: result is nil"},
      {"len(5) > 0", "0", "compile: column 1: len() needs a list or a string, got a number"},
  });
}

TEST_CASE("all, any, none, one, filter and count, in both predicate forms", "[analysis][condition]") {
  checkRows({
      {"all(result, # < 1000)", "[1, 2, 999]", "true"},
      {"all(result, # < 1000)", "[1, 2, 1000]", "false"},
      {"all(result, {# < 1000})", "[1, 2]", "true"},
      {"all(result, {# < 1000})", "[5000]", "false"},
      {"all(result, # < 1000)", "[]", "true"},
      {"any(result, # > 10)", "[1, 20]", "true"},
      {"any(result, {# > 10})", "[1, 2]", "false"},
      {"any(result, # > 10)", "[]", "false"},
      {"none(result, # > 10)", "[1, 2]", "true"},
      {"none(result, {# > 10})", "[11]", "false"},
      {"none(result, # > 10)", "[]", "true"},
      {"one(result, # > 10)", "[1, 20]", "true"},
      {"one(result, # > 10)", "[11, 20]", "false"},
      {"one(result, {# > 10})", "[]", "false"},
      {"count(result, # > 1) == 2", "[1, 2, 3]", "true"},
      {"count(result, {# > 1}) == 0", "[]", "true"},
      {"filter(result, # > 1)[0] == 2", "[1, 2, 3]", "true"},
      {"filter(result, {# > 1})[-1] == 3", "[1, 2, 3]", "true"},
      {"filter(result, # > 5)[0] > 0", "[1, 2]", "error: filter() kept none of the result's values"},
      {"filter(result, # > 1)[5] > 0", "[1, 2, 3]",
       "error: index 5 is out of range: the filtered list has 2 values"},
      {"sum(filter(result, # > 1)) == 5", "[1, 2, 3]", "true"},
      {"all(filter(result, # > 1), # < 3)", "[1, 2, 3]", "false"},
      {"all(filter(result, # > 1), # > 1)", "[1, 2, 3]", "true"},
      {"count(filter(filter(result, # > 1), # < 3), true) == 1", "[1, 2, 3]", "true"},
      {"all(result, # > 0 && # < 10)", "[1, 9]", "true"},
      {"all(result, # >= result[0])", "[1, 2, 3]", "true"},
      {"all(result, # <= max(result))", "[3, 1, 2]", "true"},
      {"any(result, # * 2 == 4)", "[1, 2]", "true"},
      // Nested predicates: the inner # is the inner list's element.
      {"all(result, any(result, # == 2))", "[1, 2]", "true"},
      {"all(result, any(result, # > 100) || # < 10)", "[1, 2]", "true"},
      {"any(result, count(result, {# > 1}) == 2)", "[1, 2, 3]", "true"},
      {"all(result, # < result[5])", "[1]", "error: index 5 is out of range"},
      {"all(result, # < 1000)", "5", "error: all() needs a list, got a number"},
      {"all(result, # < 1000)", "null", "error: result is nil"},
      {"all(result, #)", "[1]",
       "compile: column 13: the predicate of all() gives a number, not true or false"},
      {"# > 1", "1", "compile: column 1: # is only allowed inside a predicate"},
      {"all(result)", "[1]", "compile: column 1: all() takes a list and a predicate"},
      {"all(result, # < 1, 2)", "[1]", "compile: column 1: all() takes a list and a predicate"},
      {"all(result, {# < 1)", "[1]", "compile: column 19: unexpected token \")\": expected \"}\""},
      {"all(5, # > 1)", "0", "compile: column 1: all() needs a list, got a number"},
  });
}

TEST_CASE("sum, mean, min, max of a list or of several numbers, and abs", "[analysis][condition]") {
  checkRows({
      {"sum(result) == 6", "[1, 2, 3]", "true"},
      {"sum(result) == 0", "[]", "true"},
      {"mean(result) == 2", "[1, 2, 3]", "true"},
      {"mean(result) > 0", "[]", "error: mean() of an empty list: result is empty"},
      {"min(result) == 1", "[3, 1, 2]", "true"},
      {"max(result) == 3", "[3, 1, 2]", "true"},
      {"max(result) > 0", "[]", "error: max() of an empty list"},
      {"min(result) > 0", "[]", "error: min() of an empty list"},
      {"max(1, 5, 3) == 5", "0", "true"},
      {"min(1, 5, 3) == 1", "0", "true"},
      {"max(result, 0.5) == 0.5", "0.2", "true"},
      {"sum(1, 2, 3) == 6", "0", "true"},
      {"mean(1, 2) == 1.5", "0", "true"},
      {"max(result) == 7", "7", "true"},
      {"max(result, 1) > 0", "[1, 2]",
       "error: max() needs one list or several numbers, got a list of 2 numbers"},
      {"sum(result) > 0", "null", "error: result is nil"},
      {"abs(result) == 3", "-3", "true"},
      {"abs(-2.5) == 2.5", "0", "true"},
      {"abs(result) > 1", "[1]", "error: abs() needs a number, got a list of 1 number: index it (result[0])"},
      {"abs(\"a\") > 0", "0", "compile: column 1: abs() needs a number, got a string"},
      {"isNaN(true)", "0", "compile: column 1: isNaN() needs a number, got a bool"},
  });
}

TEST_CASE("nil results, isNil and default", "[analysis][condition]") {
  checkRows({
      {"isNil(result)", "null", "true"},
      {"isNil(result)", "0", "false"},
      {"isNil(result)", "[]", "false"},
      {"isNil(result)", "\"\"", "false"},
      {"default(result, 0) < 0.05", "null", "true"},
      {"default(result, 0) < 0.05", "0.01", "true"},
      {"default(result, 0) < 0.05", "0.5", "false"},
      {"default(result, 1) == 1", "null", "true"},
      {"default(result, \"none\") == \"none\"", "null", "true"},
      {"default(result, 0) < 0.05", "[0.01]", "error: cannot compare a list of 1 number with a number"},
      {"default(result, 0)", "null", "error: the condition gives a number, not true or false"},
      {"result == nil", "null", "true"},
      {"result == nil", "1", "false"},
      {"result != nil", "[1]", "true"},
      {"nil == nil", "0", "true"},
      {"result[0] == nil", "[]", "error: result is empty"},
      {"result > 1", "null", "error: result is nil (the provider returned no value)"},
      {"result", "null", "error: the condition gives nil, not true or false"},
      {"isNil(result[0])", "[1]", "compile: column 7: isNil() tests whether the whole result is nil"},
      {"default(1, 0) > 0", "1", "compile: column 9: default() tests whether the whole result is nil"},
  });
}

TEST_CASE("asInt and asFloat of numbers and numeric strings", "[analysis][condition]") {
  checkRows({
      {"asFloat(result) >= 0.95", "\"0.97\"", "true"},
      {"asFloat(result) >= 0.95", "\"0.5\"", "false"},
      {"asFloat(result) == 1500", "\"1.5e3\"", "true"},
      {"asFloat(result) > 0", "\"abc\"", "error: asFloat(): result \"abc\" is not a number"},
      {"asFloat(result) > 0", "\"\"", "error: asFloat(): result \"\" is not a number"},
      {"asInt(result) == 42", "\"42\"", "true"},
      {"asInt(result) == 42", "\"+42\"", "true"},
      {"asInt(result) > 0", "\"4.2\"", "error: asInt(): result \"4.2\" is not a whole number"},
      {"asInt(result) == 4", "4.9", "true"},
      {"asInt(result) == -4", "-4.9", "true"},
      {"asInt(result) > 0", "NaN", "error: asInt(): NaN has no integer value"},
      {"asFloat(result) == 2", "2", "true"},
      {"asFloat(\"1.5\") == 1.5", "0", "true"},
      {"asInt(\"7\") == 7", "0", "true"},
      {"asFloat(\"x\") > 0", "0", "compile: column 1: asFloat(): \"x\" is not a number"},
      {"asFloat(result) > 0", "null", "error: result is nil"},
      {"asFloat(result) > 0", "true", "error: asFloat() needs a number or a numeric string, got a bool"},
      {"asFloat(result) > 0", "[1]", "error: index it (result[0])"},
  });
}

TEST_CASE("string results compared with == and !=", "[analysis][condition]") {
  checkRows({
      {"result == \"ok\"", "\"ok\"", "true"},
      {"result == 'ok'", "\"ok\"", "true"},
      {"result != \"ok\"", "\"degraded\"", "true"},
      {"result == \"ok\"", "\"OK\"", "false"},
      {"\"ok\" == result", "\"ok\"", "true"},
      {"result == \"it's\"", "\"it's\"", "true"},
      {"result == 'say \"hi\"'", R"("say \"hi\"")", "true"},
      {R"(result == "a\tb")", R"("a\tb")", "true"},
      {"result == \"\"", "\"\"", "true"},
      {"result == \"5\"", "\"5\"", "true"},
      {"\"a\" == \"a\"", "0", "true"},
      {"\"a\" != \"b\"", "0", "true"},
      {"result == \"ok\"", "null", "false"},
      {"result == \"ok\"", "1", "error: cannot compare a number with a string"},
      {"result == \"ok\"", "[1]", "error: cannot compare a list of 1 number with a string"},
      {"result > \"a\"", "\"b\"", "compile: column 8: strings can only be compared with == and !="},
      {"\"a\" < \"b\"", "0", "compile: column 5: strings can only be compared with == and !="},
      {"result + \"a\" == 1", "\"b\"", "compile: column 8: cannot apply + to result and a string"},
  });
}

TEST_CASE("bool results", "[analysis][condition]") {
  checkRows({
      {"result", "true", "true"},
      {"result", "false", "false"},
      {"result == true", "true", "true"},
      {"!result", "false", "true"},
      {"result && true", "true", "true"},
      {"result == 1", "true", "error: cannot compare a bool with a number"},
  });
}

TEST_CASE("a condition must give true or false", "[analysis][condition]") {
  checkRows({
      {"result", "0.5",
       "error: the condition gives a number, not true or false: compare it, e.g. result >= 0.95"},
      {"result", "[1]", "error: the condition gives a list of 1 number, not true or false"},
      {"result", "\"ok\"", "error: the condition gives a string, not true or false"},
      {"result >= 0.95", "[0.97, 0.99]",
       "error: cannot compare a list of 2 numbers with a number: index it (result[0]) or use all()/any()"},
      {"result + 1", "1", "compile: column 1: the condition gives a number, not true or false"},
      {"1", "0", "compile: column 1: the condition gives a number"},
      {"\"ok\"", "0", "compile: column 1: the condition gives a string"},
      {"len(result)", "[1]", "compile: column 1: the condition gives a number"},
      {"filter(result, # > 1)", "[1]", "compile: column 1: the condition gives a list of numbers"},
  });
}

TEST_CASE("type errors that hold for any result are compile errors", "[analysis][condition]") {
  checkRows({
      {"1 + true > 0", "0", "compile: column 3: cannot apply + to a number and a bool"},
      {"1 < 2 < 3", "0", "compile: column 7: cannot compare a bool with a number"},
      {"true > false", "0", "compile: column 6: cannot compare a bool with a bool"},
      {"!1", "0", "compile: column 1: ! needs a bool, got a number"},
      {"-true == 1", "0", "compile: column 1: unary - needs a number, got a bool"},
      {"1 && true", "0", "compile: column 3: the left side of && must be a bool, got a number"},
      {"true || 1", "0", "compile: column 6: the right side of || must be a bool, got a number"},
      {"result && 1", "true", "compile: column 8: the right side of && must be a bool"},
      {"true == 1", "0", "compile: column 6: cannot compare a bool with a number"},
  });
}

TEST_CASE("syntax outside the supported set is rejected with its column", "[analysis][condition]") {
  checkRows({
      {"median(result) > 1", "1", "compile: column 1: unknown function \"median\""},
      {"result > median(result)", "1", "compile: column 10: unknown function \"median\""},
      {"result >= 0.95 && foo", "1", "compile: column 19: unknown name \"foo\""},
      {"(result > 1))", "1", "compile: column 13: unexpected token \")\""},
      {"result > )", "1", "compile: column 10: unexpected token \")\""},
      {"result >=", "1", "compile: column 10: unexpected end of the condition"},
      {"result > 1 and", "1", "compile: column 15: unexpected end of the condition"},
      {"result = 1", "1", "compile: column 8: unexpected \"=\": compare with =="},
      {"result > 1 ? true : false", "1", "compile: column 12: unexpected \"?\""},
      {"result ?? 0", "1", "compile: column 8: unexpected \"?\""},
      {"result in [1, 2]", "1", "compile: column 8: unexpected token \"in\""},
      {"result matches \"a\"", "\"a\"", "compile: column 8: unexpected token \"matches\""},
      {"result.value > 1", "1", "compile: column 7: unexpected \".\""},
      {"result[0:2]", "[1]", "compile: column 9: unexpected \":\""},
      {"1..3", "0", "compile: column 2: unexpected \".\""},
      {"result | 0 > 1", "1", "compile: column 8: unexpected \"|\""},
      {"result & 1", "1", "compile: column 8: unexpected \"&\""},
      {"\"unterminated", "0", "compile: column 1: unterminated string"},
      {"result > 1 @", "1", "compile: column 12: unexpected character \"@\""},
      {"", "1", "compile: the condition is empty"},
      {"   ", "1", "compile: the condition is empty"},
      {"len result", "1", "compile: column 1: \"len\" is a function"},
      {"max() > 1", "0", "compile: column 1: max() takes at least 1 argument, got 0"},
      {"abs(1, 2) > 0", "0", "compile: column 1: abs() takes 1 argument, got 2"},
      {"len(result == 0", "[1]",
       "compile: column 16: unexpected end of the condition: expected \",\" or \")\""},
      {"result[0", "[1]", "compile: column 9: unexpected end of the condition: expected \"]\""},
      {"0x10 > 1", "0", "compile: column 2: unexpected token \"x10\""},
      {"let x = 1; x > 0", "0", "compile: column 7: unexpected \"=\""},
      {"result > 1 result", "1", "compile: column 12: unexpected token \"result\": expected an operator"},
      {"'a\\q' == result", "\"a\"", "compile: column 3: unknown escape \\q"},
  });
}

TEST_CASE("a compiled condition gives the same answers however often it runs", "[analysis][condition]") {
  auto compiled = compile("len(result) == 0 || result[0] >= 0.95");
  REQUIRE(compiled.ok());
  for (int round = 0; round < 3; ++round) {
    CHECK(*compiled->evaluate(Value::vector({0.97})));
    CHECK_FALSE(*compiled->evaluate(Value::vector({0.5})));
    CHECK(*compiled->evaluate(Value::vector({})));
    auto error = compiled->evaluate(Value::number(1));
    REQUIRE_FALSE(error.ok());
    CHECK_THAT(error.error(), Catch::Contains("len() needs a list or a string, got a number"));
  }
  CompiledCondition moved = std::move(*compiled);
  CHECK(*moved.evaluate(Value::vector({0.99, 0.1})));
  CHECK(moved.source() == "len(result) == 0 || result[0] >= 0.95");
}

TEST_CASE("the JSON form of a result", "[analysis][condition]") {
  CHECK(parseResultJson("0.5")->asNumber() == 0.5);
  CHECK(std::isnan(parseResultJson("NaN")->asNumber()));
  CHECK(std::isnan(parseResultJson("\"NaN\"")->asNumber()));
  CHECK(parseResultJson("\"+Inf\"")->asNumber() == std::numeric_limits<double>::infinity());
  CHECK(parseResultJson("[1, \"-Inf\", +Inf]")->asVector() ==
        std::vector<double>{1, -std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::infinity()});
  CHECK(parseResultJson("null")->kind() == Value::Kind::kNil);
  CHECK(parseResultJson("\"NaN is a word\"")->asString() == "NaN is a word");
  CHECK(parseResultJson("true")->asBool());
  CHECK(describe(*parseResultJson("[1, 2]")) == "a list of 2 numbers");
  CHECK_THAT(parseResultJson("{\"a\": 1}").error(), Catch::Contains("got an object"));
  CHECK_THAT(parseResultJson("[\"a\"]").error(), Catch::Contains("only numbers"));
  CHECK_THAT(parseResultJson("[1,").error(), Catch::Contains("not valid JSON"));
}

}  // namespace
}  // namespace sluice::analysis
