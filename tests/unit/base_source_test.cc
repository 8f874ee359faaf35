#include <catch2/catch.hpp>
#include <cmath>

#include "base/source.h"

using namespace sluice;

TEST_CASE("YAML scalars follow the YAML 1.2 core schema", "[base][yaml]") {
  auto docs = parseYamlDocuments(
      "a: 30\nb: \"30\"\nc: true\nd: ~\ne: 1.5\nf: 25%\ng: 'x'\nh:\ni: .nan\nj: 1e3\n", "f.yaml");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  const auto& j = docs->at(0).json;
  CHECK(j["a"].is_number_integer());
  CHECK(j["a"] == 30);
  CHECK(j["b"] == "30");
  CHECK(j["c"] == true);
  CHECK(j["d"].is_null());
  CHECK(j["e"] == 1.5);
  CHECK(j["f"] == "25%");
  CHECK(j["g"] == "x");
  CHECK(j["h"].is_null());
  CHECK(std::isnan(j["i"].get<double>()));
  CHECK(j["j"] == 1000.0);
}

TEST_CASE("multi-document streams keep each document and its positions", "[base][yaml]") {
  auto docs =
      parseYamlDocuments("kind: A\n---\n---\nkind: B\nspec:\n  steps:\n  - setWeight: 20\n", "m.yaml");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 2);
  CHECK(docs->at(1).json["kind"] == "B");
  const SourcePos pos = docs->at(1).source.at("spec.steps[0].setWeight");
  CHECK(pos.line == 7);
  CHECK(pos.column == 5);
  // A path that does not exist falls back to its nearest ancestor.
  CHECK(docs->at(1).source.at("spec.steps[0].missing").line == 7);
  auto d = docs->at(1).source.diagnostic(Severity::Error, "spec.steps[0].setWeight", "too big");
  CHECK(d.format() == "m.yaml:7:5: error: spec.steps[0].setWeight: too big");
}

TEST_CASE("malformed YAML is an error naming file, line and column", "[base][yaml]") {
  auto docs = parseYamlDocuments("a: [1, 2\nb: 3\n", "bad.yaml");
  REQUIRE_FALSE(docs.ok());
  CHECK(docs.error().rfind("bad.yaml:", 0) == 0);
  CHECK(docs.error().find("invalid YAML") != std::string::npos);
  auto dup = parseYamlDocuments("a: 1\na: 2\n", "dup.yaml");
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().find("duplicate key") != std::string::npos);
}

TEST_CASE("keys that are not identifiers are quoted in paths", "[base][yaml]") {
  CHECK(childPath("metadata.annotations", "sluice.dev/revision") ==
        "metadata.annotations[\"sluice.dev/revision\"]");
  CHECK(childPath("", "spec") == "spec");
  CHECK(indexPath("spec.steps", 2) == "spec.steps[2]");
}
