// The pure parts of the providers, table-driven: Prometheus answers to results (docs/design.md §A.13), the
// stored value's text and the time expressions of range queries.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "analysis/providers/prometheus_api.h"
#include "analysis/providers/time_expression.h"

using namespace sluice;
using namespace sluice::analysis;
using nlohmann::json;

TEST_CASE("formatSampleValue writes values as Argo stores them", "[providers][prometheus]") {
  const double inf = std::numeric_limits<double>::infinity();
  struct Row {
    double value;
    const char* text;
  };
  const Row rows[] = {
      {0.97, "0.97"},
      {1, "1"},
      {0, "0"},
      {-2.5, "-2.5"},
      {1e-7, "0.0000001"},
      {1e21, "1000000000000000000000"},
      {0.1 + 0.2, "0.30000000000000004"},
      {inf, "+Inf"},
      {-inf, "-Inf"},
      {std::nan(""), "NaN"},
  };
  for (const Row& row : rows) {
    INFO(row.text);
    CHECK(formatSampleValue(row.value) == row.text);
  }
}

TEST_CASE("toProviderResult maps each Prometheus result type", "[providers][prometheus]") {
  struct Row {
    const char* name;
    const char* body;
    Value::Kind kind;
    const char* text;  // or the error when kind is kNil
  };
  const Row rows[] = {
      {"scalar", R"({"status":"success","data":{"resultType":"scalar","result":[1790812800,"0.5"]}})",
       Value::Kind::kNumber, "0.5"},
      {"scalar NaN", R"({"status":"success","data":{"resultType":"scalar","result":[1790812800,"NaN"]}})",
       Value::Kind::kNumber, "NaN"},
      {"vector, labels dropped",
       R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"0.97"]},)"
       R"({"metric":{"a":"2"},"value":[1,"+Inf"]}]}})",
       Value::Kind::kVector, "[0.97,+Inf]"},
      {"empty vector", R"({"status":"success","data":{"resultType":"vector","result":[]}})",
       Value::Kind::kVector, "[]"},
      {"matrix flattened",
       R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"2"]]},)"
       R"({"metric":{"b":"x"},"values":[[1,"-Inf"]]}]}})",
       Value::Kind::kVector, "[1,2,-Inf]"},
      {"string", R"({"status":"success","data":{"resultType":"string","result":[1,"hello"]}})",
       Value::Kind::kNil,
       R"(Prometheus returned a string ("hello"), not a number; conditions need a scalar, vector or matrix result)"},
      {"unknown type", R"({"status":"success","data":{"resultType":"histogram","result":[]}})",
       Value::Kind::kNil,
       R"(Prometheus result type "histogram" is not supported; conditions need a scalar, vector or matrix result)"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    auto parsed = parsePrometheusResponse(200, row.body);
    REQUIRE(parsed.ok());
    auto result = toProviderResult(*parsed);
    if (row.kind == Value::Kind::kNil) {
      REQUIRE_FALSE(result.ok());
      CHECK(result.error() == row.text);
      continue;
    }
    REQUIRE(result.ok());
    CHECK(result->value.kind() == row.kind);
    CHECK(result->text == row.text);
    CHECK(result->metadata.count("warnings") == 0);
  }
}

TEST_CASE("toProviderResult keeps the values in order, NaN included, and the warnings",
          "[providers][prometheus]") {
  auto parsed = parsePrometheusResponse(
      200, R"({"status":"success","warnings":["w1","w2"],"data":{"resultType":"vector","result":[)"
           R"({"metric":{},"value":[1,"NaN"]},{"metric":{},"value":[1,"3"]}]}})");
  REQUIRE(parsed.ok());
  CHECK(parsed->warnings == std::vector<std::string>{"w1", "w2"});
  auto result = toProviderResult(*parsed);
  REQUIRE(result.ok());
  const auto& v = result->value.asVector();
  REQUIRE(v.size() == 2);
  CHECK(std::isnan(v[0]));
  CHECK(v[1] == 3);
  CHECK(result->metadata.at("warnings") == "w1; w2");
}

TEST_CASE("parsePrometheusResponse reports errors with their text and status", "[providers][prometheus]") {
  struct Row {
    long status;
    const char* body;
    const char* error;
  };
  const Row rows[] = {
      {400,
       R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"})",
       "answered HTTP 400 (bad_data): 1:5: parse error: unexpected end of input"},
      {422, R"({"status":"error","errorType":"execution","error":"many-to-many matching not allowed"})",
       "answered HTTP 422 (execution): many-to-many matching not allowed"},
      {502, "<html>Bad Gateway</html>",
       "answered HTTP 502 with a body that is not a Prometheus API answer: <html>Bad Gateway</html>"},
      {200, "", "answered HTTP 200 with a body that is not a Prometheus API answer: "},
      {200,
       R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}})",
       R"(gave an answer that does not parse: a sample value is not a number: "abc")"},
      {200, R"({"status":"success","data":{}})",
       "gave an answer that does not parse: the answer has no data.resultType and data.result"},
  };
  for (const Row& row : rows) {
    INFO(row.body);
    auto parsed = parsePrometheusResponse(row.status, row.body);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error() == row.error);
  }
}

TEST_CASE("range query time expressions are evaluated against the evaluation time",
          "[providers][prometheus]") {
  const Time now = timeFromUnix(1790812800);
  struct Row {
    const char* expression;
    int64_t offset;  // seconds from now
  };
  const Row rows[] = {
      {"now()", 0},
      {R"(now() - duration("5m"))", -300},
      {R"(now()-duration('1h30m'))", -5400},
      {R"(  now( ) + duration( "90s" ) )", 90},
  };
  for (const Row& row : rows) {
    INFO(row.expression);
    auto t = evaluateTimeExpression(row.expression, now);
    REQUIRE(t.ok());
    CHECK(toUnix(*t) - toUnix(now) == row.offset);
  }
  for (const char* bad :
       {"", "now", "now() - 5m", "now() * duration(\"5m\")", "time()", "now() - duration(\"5m\") x"}) {
    INFO(bad);
    auto t = evaluateTimeExpression(bad, now);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error() ==
          "time expression \"" + std::string(bad) +
              R"(" is not supported: write now(), now() - duration("5m") or now() + duration("5m"))");
  }
  auto badDuration = evaluateTimeExpression(R"(now() - duration("5 minutes"))", now);
  REQUIRE_FALSE(badDuration.ok());
  CHECK_THAT(badDuration.error(),
             Catch::StartsWith(R"x(time expression "now() - duration("5 minutes")": )x"));
}
