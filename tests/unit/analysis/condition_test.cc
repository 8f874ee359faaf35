// Conformance of the condition language: the corpus in tests/data/conditions/corpus.tsv says what an Argo
// Rollouts successCondition or failureCondition gives for a result, or the error it reports, or the compile
// error with its column. The same rows are put to expr itself by tests/expr_oracle where Go is installed.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/condition.h"
#include "analysis/value.h"
#include "base/source.h"

namespace sluice::analysis {
namespace {

// expected: "true", "false", "error: <fragment>" (evaluation) or "compile: <fragment>".
struct CorpusRow {
  int line = 0;
  std::string group;
  std::string condition;
  std::string result;  // JSON, as `sluice analysis eval --result` takes it
  std::string expected;
  std::string expr;  // empty, "differs: <why>" or "needs expr > 1.8.9: <what>"
};

constexpr std::string_view kEvalError = "error: ";
constexpr std::string_view kCompileError = "compile: ";

std::vector<std::string> splitTabs(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return fields;
    start = tab + 1;
  }
}

std::vector<CorpusRow> readCorpus() {
  auto text = readFile(std::string(SLUICE_SOURCE_DIR) + "/tests/data/conditions/corpus.tsv");
  REQUIRE(text.ok());
  std::vector<CorpusRow> rows;
  size_t start = 0;
  int number = 0;
  bool header = true;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    const std::string line = text->substr(start, end - start);
    start = end + 1;
    ++number;
    if (line.empty() || line[0] == '#') continue;
    const auto fields = splitTabs(line);
    INFO("corpus.tsv line " << number << ": " << line);
    REQUIRE(fields.size() == 5);
    if (header) {
      header = false;
      continue;
    }
    rows.push_back({number, fields[0], fields[1], fields[2], fields[3], fields[4]});
  }
  return rows;
}

// When the row expects an error of this kind (its `expected` starts with `prefix`), checks that there
// was one (`failure` is not null) and that it says what the row says, and returns true.
bool checkedAsError(std::string_view expected, std::string_view prefix, const std::string* failure) {
  if (expected.substr(0, prefix.size()) != prefix) return false;
  CHECK(failure != nullptr);
  if (failure) CHECK_THAT(*failure, Catch::Contains(std::string(expected.substr(prefix.size()))));
  return true;
}

void checkRow(const CorpusRow& row) {
  INFO("corpus.tsv line " << row.line << " [" << row.group << "]    condition: " << row.condition
                          << "    result: " << row.result);
  auto value = parseResultJson(row.result);
  REQUIRE(value.ok());
  auto compiled = compile(row.condition);
  if (checkedAsError(row.expected, kCompileError, compiled.ok() ? nullptr : &compiled.error())) return;
  INFO("compile error: " << (compiled.ok() ? "" : compiled.error()));
  REQUIRE(compiled.ok());
  auto got = compiled->evaluate(*value);
  if (checkedAsError(row.expected, kEvalError, got.ok() ? nullptr : &got.error())) return;
  INFO("evaluation error: " << (got.ok() ? "" : got.error()));
  CHECK(got.ok());
  REQUIRE((row.expected == "true" || row.expected == "false"));
  if (got.ok()) CHECK(*got == (row.expected == "true"));
}

TEST_CASE("the condition corpus: every row gives its expected answer", "[analysis][condition]") {
  const auto rows = readCorpus();
  // Every group of the language has its rows; a corpus that failed to load would pass nothing.
  CHECK(rows.size() >= 300);
  for (const CorpusRow& row : rows) checkRow(row);
}

TEST_CASE("the condition corpus: each row says how expr answers it", "[analysis][condition]") {
  for (const CorpusRow& row : readCorpus()) {
    INFO("corpus.tsv line " << row.line << ": expr column \"" << row.expr << "\"");
    const bool same = row.expr.empty();
    const bool differs = row.expr.rfind("differs: ", 0) == 0 && row.expr.size() > 9;
    const bool newer = row.expr.rfind("needs expr > 1.8.9: ", 0) == 0 && row.expr.size() > 20;
    CHECK((same || differs || newer));
  }
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
  CHECK(parseResultJson("[\"a\", 1]")->kind() == Value::Kind::kList);
  CHECK(parseResultJson("[1, \"NaN\"]")->kind() == Value::Kind::kVector);
  CHECK_THAT(parseResultJson("[1,").error(), Catch::Contains("not valid JSON"));
}

TEST_CASE("the JSON form of an object result", "[analysis][condition]") {
  auto object = parseResultJson(R"({"b": 1, "a": {"x": NaN, "s": "NaN"}, "tags": ["a"], "b": 2})");
  REQUIRE(object.ok());
  REQUIRE(object->kind() == Value::Kind::kObject);
  CHECK(describe(*object) == "an object");
  // Sorted by name, the last of two members with one name kept, NaN read as a number even as a member.
  REQUIRE(object->asObject().size() == 3);
  CHECK(object->asObject()[0].name == "a");
  CHECK(object->member("b")->value.asNumber() == 2);
  const Value& a = object->member("a")->value;
  CHECK(std::isnan(a.member("x")->value.asNumber()));
  CHECK(std::isnan(a.member("s")->value.asNumber()));
  const Value& tags = object->member("tags")->value;  // a list holding more than numbers
  REQUIRE(tags.kind() == Value::Kind::kList);
  CHECK(tags.asList()[0].asString() == "a");
  CHECK(describe(tags) == "a list of 1 value");
  CHECK(object->member("missing") == nullptr);
  // A provider's JSON keeps its strings.
  const Value fromProvider = valueFromJson(nlohmann::json::parse(R"({"s": "NaN", "v": [1, "NaN"]})"));
  CHECK(fromProvider.member("s")->value.asString() == "NaN");
  CHECK(fromProvider.member("v")->value.kind() == Value::Kind::kList);
}

TEST_CASE("object results of different shapes each get their program", "[analysis][condition]") {
  auto compiled = compile("(result.latency ?? 0) < 500 && result.ok");
  REQUIRE(compiled.ok());
  auto object = [](const std::string& json) { return *parseResultJson(json); };
  for (int round = 0; round < 2; ++round) {
    CHECK(*compiled->evaluate(object(R"({"latency": 120, "ok": true})")));
    CHECK_FALSE(*compiled->evaluate(object(R"({"latency": 900, "ok": true})")));
    CHECK(*compiled->evaluate(object(R"({"ok": true})")));
    CHECK(*compiled->evaluate(object(R"({"latency": null, "ok": true, "extra": [1]})")));
    auto wrong = compiled->evaluate(object(R"({"latency": "fast", "ok": true})"));
    REQUIRE_FALSE(wrong.ok());
    CHECK_THAT(wrong.error(), Catch::Contains("strings can only be compared with == and !="));
  }
  // A bounded number of shapes: a result whose members change name on every measurement is refused.
  auto shapes = compile("result != nil");
  REQUIRE(shapes.ok());
  std::string last;
  for (int i = 0; i < 40; ++i) {
    auto got = shapes->evaluate(object("{\"m" + std::to_string(i) + "\": 1}"));
    last = got.ok() ? "" : got.error();
  }
  CHECK_THAT(last, Catch::Contains("more than 32 shapes"));
}

}  // namespace
}  // namespace sluice::analysis
