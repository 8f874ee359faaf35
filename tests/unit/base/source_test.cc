#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>

#include "base/source.h"
#include "tests/support/process.h"

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

TEST_CASE("input past a limit is refused with the limit named, before its nodes are built",
          "[base][yaml][limits]") {
  struct Row {
    const char* behaviour;
    std::string text;
    std::string error;
  };
  const std::string deepFlow = std::string(10'000, '[') + std::string(10'000, ']');
  std::string deepBlock;
  for (int i = 0; i < 300; ++i) deepBlock += std::string(static_cast<size_t>(i), ' ') + "k:\n";
  std::string longList = "items: [";
  for (int i = 0; i <= 10'000; ++i) longList += "0,";
  longList += "]\n";
  std::string longMap = "m:\n";
  for (int i = 0; i <= 10'000; ++i) longMap += "  k" + std::to_string(i) + ": 0\n";
  const std::vector<Row> rows = {
      {"flow collections 10,000 deep", deepFlow,
       "in.yaml:1:201: nested deeper than 200 levels, the limit on nesting in an input file"},
      {"block mappings 300 deep", deepBlock,
       "in.yaml:201:201: nested deeper than 200 levels, the limit on nesting in an input file"},
      {"a list of 10,001 items", longList,
       "in.yaml:1:20009: a list of more than 10000 items, the limit on one list in an input file"},
      {"a mapping of 10,001 keys", longMap,
       "in.yaml:10002:11: a mapping of more than 10000 items, the limit on one mapping in an input file"},
      {"a file over the size limit", std::string((8u << 20) + 1, '#'),
       "in.yaml: 8,388,609 bytes, over the limit of 8 MiB on an input file"},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    auto docs = parseYamlDocuments(row.text, "in.yaml");
    REQUIRE_FALSE(docs.ok());
    CHECK(docs.error() == row.error);
  }
  // Just under the limits: read as written.
  const std::string deepOk = std::string(199, '[') + std::string(199, ']');
  CHECK(parseYamlDocuments(deepOk, "ok.yaml").ok());
  std::string listOk = "[";
  for (int i = 0; i < 10'000; ++i) listOk += "0,";
  auto ok = parseYamlDocuments(listOk + "]", "ok.yaml");
  REQUIRE(ok.ok());
  CHECK(ok->front().json.size() == 10'000);
}

TEST_CASE("a YAML stream must be text: control characters and invalid UTF-8 are located errors",
          "[base][yaml]") {
  struct Row {
    const char* behaviour;
    std::string text;
    std::string error;
  };
  const std::vector<Row> rows = {
      {"a NUL byte in a plain scalar", std::string("a: 1\nname: we\0b\n", 16),
       "in.yaml:2:9: invalid YAML: a NUL byte (U+0000) is not allowed; write it escaped in a double-quoted "
       "string"},
      {"a bell character", "a: \"x\ay\"\n",
       "in.yaml:1:6: invalid YAML: a control character (U+0007) is not allowed; write it escaped in a "
       "double-quoted string"},
      {"a byte that is not UTF-8, after a multibyte character", "name: é\xff\n",
       "in.yaml:1:8: invalid YAML: the text is not valid UTF-8 (byte 0xFF)"},
      {"a cut multibyte character", "name: \xc3\n",
       "in.yaml:1:7: invalid YAML: the text is not valid UTF-8 (byte 0xC3)"},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    auto docs = parseYamlDocuments(row.text, "in.yaml");
    REQUIRE_FALSE(docs.ok());
    CHECK(docs.error() == row.error);
  }
  // Escaped in a double-quoted string, a NUL is fine; so are tabs, CRLF and multibyte text.
  auto docs = parseYamlDocuments("a: \"x\\0y\"\r\nb:\t\"é ≥ 💡\"\n", "ok.yaml");
  REQUIRE(docs.ok());
  CHECK(docs->front().json["a"] == std::string("x\0y", 3));
  CHECK(docs->front().json["b"] == "é ≥ 💡");
}

TEST_CASE("readFile refuses a directory and a file over the caller's limit before reading it", "[base]") {
  sluice::testing::TempDir dir;
  const std::string file = (dir / "big.yaml").string();
  std::ofstream(file) << std::string(1000, 'x');
  auto whole = readFile(file);
  REQUIRE(whole.ok());
  CHECK(whole->size() == 1000);
  auto limited = readFile(file, 999);
  REQUIRE_FALSE(limited.ok());
  CHECK(limited.error() == file + ": 1,000 bytes, over the limit of 999 bytes on an input file");
  CHECK(readFile(file, 1000).ok());
  auto directory = readFile(dir.path().string());
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.error() == dir.path().string() + ": is a directory");
  auto missing = loadYamlFile((dir / "missing.yaml").string());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error() == (dir / "missing.yaml").string() + ": cannot open file");
}
