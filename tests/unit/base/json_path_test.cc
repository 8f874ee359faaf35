// The Kubernetes JSONPath subset shared by the web provider and CRD printer columns, table-driven.
#include <catch2/catch.hpp>

#include "base/json_path.h"

using namespace sluice;
using nlohmann::json;

TEST_CASE("jsonPath selects as Kubernetes JSONPath does, first match first", "[base][jsonpath]") {
  const json doc =
      json::parse(R"({"a":{"b":1.5,"c":[10,20,30],"d":{"e":"x"}},"items":[{"x":1},{"y":2},{"x":3}],
    "odd key":true,"k-8/s":"dash"})");
  struct Row {
    const char* path;
    const char* matches;  // the JSON list of matches
  };
  const Row rows[] = {
      {"{$}",
       R"([{"a":{"b":1.5,"c":[10,20,30],"d":{"e":"x"}},"items":[{"x":1},{"y":2},{"x":3}],"k-8/s":"dash","odd key":true}])"},
      {"{.a.b}", "[1.5]"},
      {"{$.a.b}", "[1.5]"},
      {"{ $.a.b }", "[1.5]"},
      {"{$.a.c[0]}", "[10]"},
      {"{$.a.c[-1]}", "[30]"},
      {"{$.a.c[3]}", "[]"},
      {"{$.a.c[*]}", "[10,20,30]"},
      {"{$.items[*].x}", "[1,3]"},
      {"{$.a.*}", R"([1.5,[10,20,30],{"e":"x"}])"},
      {"{$['odd key']}", "[true]"},
      {R"({$["a"]["d"].e})", R"(["x"])"},
      {"{$.k-8/s}", R"(["dash"])"},
      {"{$.missing.deeper}", "[]"},
      {"{$.a.b.c}", "[]"},
      {"{$.a[0]}", "[]"},
      {"{$..x}", "[1,3]"},
      {"{$..e}", R"(["x"])"},
      {"{$.a..*}", R"([1.5,[10,20,30],{"e":"x"},10,20,30,"x"])"},
      {"{$.items[?(@.x)]}", R"([{"x":1},{"x":3}])"},
      {"{$.items[?(@.x > 1)].x}", "[3]"},
      {"{$.items[?(@.x != 1)]}", R"([{"x":3}])"},
      {"{$.a.c[?(@ >= 20)]}", "[20,30]"},
      {"{$.a.c[?(@ < 20)]}", "[10]"},
      {"{$.a[?(@.e)]}", "[]"},  // filters apply to arrays only
  };
  for (const Row& row : rows) {
    INFO(row.path);
    auto matches = jsonPathMatches(doc, row.path);
    REQUIRE(matches.ok());
    CHECK(json(*matches).dump() == json::parse(row.matches).dump());
  }
}

TEST_CASE("jsonPath filters pick a condition's field as printer columns use them", "[base][jsonpath]") {
  const json pod = json::parse(R"({"status":{"conditions":[
      {"type":"Initialized","status":"True"},
      {"type":"Ready","status":"False","reason":"ContainersNotReady"},
      {"type":"PodScheduled","status":"True","priority":2}]}})");
  struct Row {
    const char* path;
    const char* matches;
  };
  const Row rows[] = {
      {R"({.status.conditions[?(@.type=="Ready")].status})", R"(["False"])"},
      {R"({.status.conditions[?(@.type == 'Ready')].reason})", R"(["ContainersNotReady"])"},
      {R"({.status.conditions[?(@.status=="True")].type})", R"(["Initialized","PodScheduled"])"},
      {R"({.status.conditions[?(@.type=="Missing")].status})", "[]"},
      {R"({.status.conditions[?(@.priority==2)].type})", R"(["PodScheduled"])"},
      {R"({.status.conditions[?(@.priority=="2")].type})", "[]"},  // a string is not the number 2
      {R"({.status.conditions[?(@.priority<=2.5)].type})", R"(["PodScheduled"])"},
      {R"({.status.conditions[?(@.reason)].type})", R"(["Ready"])"},
      {R"({.status.conditions[?(@.type==@.status)].type})", "[]"},
  };
  for (const Row& row : rows) {
    INFO(row.path);
    auto matches = jsonPathMatches(pod, row.path);
    REQUIRE(matches.ok());
    CHECK(json(*matches).dump() == json::parse(row.matches).dump());
  }
}

TEST_CASE("jsonPath outside the subset is an error with the position", "[base][jsonpath]") {
  struct Row {
    const char* path;
    const char* error;
  };
  const Row rows[] = {
      {"$.a", R"(jsonPath "$.a" at position 1: a jsonPath is written in braces, e.g. {$.data.value})"},
      {"{$.a", R"(jsonPath "{$.a" at position 5: the closing brace is missing)"},
      {"{$.a[0:2]}", R"(jsonPath "{$.a[0:2]}" at position 7: slices and unions are not supported)"},
      {"{$.a[x]}",
       R"(jsonPath "{$.a[x]}" at position 6: an index, '*', a filter or a quoted name is expected inside [ ])"},
      {"{$.}", R"(jsonPath "{$.}" at position 4: a field name is expected after '.')"},
      {"{$.a} tail", R"(jsonPath "{$.a} tail" at position 7: text after the closing brace)"},
      {"{$.a['b}", R"(jsonPath "{$.a['b}" at position 9: the quoted name is not closed)"},
      {"{$.a[?@.x]}", R"(jsonPath "{$.a[?@.x]}" at position 7: '(' expected after '[?')"},
      {"{$.a[?(@.x = 1)]}",
       R"(jsonPath "{$.a[?(@.x = 1)]}" at position 12: a comparison (==, !=, <, <=, >, >=) or ')' is expected in the filter)"},
      {"{$.a[?(@.x == x)]}",
       R"(jsonPath "{$.a[?(@.x == x)]}" at position 15: a path (@...), quoted string, number or boolean is expected in the filter)"},
      {"{$.a[?(@.x == 1]}",
       R"(jsonPath "{$.a[?(@.x == 1]}" at position 16: ')' expected to close the filter)"},
      {"{$.a[?(1)]}",
       R"(jsonPath "{$.a[?(1)]}" at position 9: a filter without a comparison tests a path such as @.name)"},
  };
  for (const Row& row : rows) {
    INFO(row.path);
    auto matches = jsonPathMatches(json::object(), row.path);
    REQUIRE_FALSE(matches.ok());
    CHECK(matches.error() == row.error);
  }
}

TEST_CASE("jsonPath prints a match as Kubernetes JSONPath does", "[base][jsonpath]") {
  struct Row {
    const char* value;  // JSON
    const char* text;
  };
  const Row rows[] = {
      {R"("Ready")", "Ready"},
      {"3", "3"},
      {"-7", "-7"},
      {"1.5", "1.5"},
      {"0.0001", "0.0001"},
      {"0.00001", "1e-05"},
      {"123456.0", "123456"},
      {"1000000.0", "1e+06"},
      {"true", "true"},
      {"null", "null"},
      {R"({"b":1,"a":[1,"x"]})", R"({"a":[1,"x"],"b":1})"},
  };
  for (const Row& row : rows) {
    INFO(row.value);
    CHECK(jsonPathText(json::parse(row.value)) == row.text);
  }
}
