// Label and field selectors as the real API server reads them: a table of selector, labels, answer.
#include <catch2/catch.hpp>

#include "kube/selectors.h"

using sluice::kube::FieldSelector;
using sluice::kube::LabelSelector;

TEST_CASE("label selectors match as the real server's do", "[kube][selectors]") {
  struct Row {
    const char* selector;
    std::map<std::string, std::string> labels;
    bool matches;
  };
  const std::map<std::string, std::string> web{{"app", "web"}, {"tier", "front"}, {"example.com/team", "a"}};
  const std::vector<Row> rows = {
      {"", web, true},
      {"app=web", web, true},
      {"app==web", web, true},
      {"app=db", web, false},
      {"app!=db", web, true},
      {"app!=web", web, false},
      {"missing!=x", web, true},  // != matches objects without the key
      {"app in (web,db)", web, true},
      {"app in (db, cache)", web, false},
      {"app notin (db,cache)", web, true},
      {"app notin (web)", web, false},
      {"missing notin (x)", web, true},
      {"missing in (x)", web, false},
      {"app", web, true},
      {"missing", web, false},
      {"!missing", web, true},
      {"!app", web, false},
      {"app=web,tier=front", web, true},
      {"app=web,tier=back", web, false},
      {" app = web , !legacy ", web, true},
      {"example.com/team=a", web, true},
      {"example.com/team in (b)", web, false},
      {"app=", {{"app", ""}}, true},
      {"app=", web, false},
      {"replicas>2", {{"replicas", "3"}}, true},
      {"replicas>2", {{"replicas", "2"}}, false},
      {"replicas<2", {{"replicas", "1"}}, true},
      {"replicas<2", {{"replicas", "x"}}, false},
      {"replicas<2", web, false},
  };
  for (const auto& row : rows) {
    INFO("selector: " << row.selector);
    auto sel = LabelSelector::parse(row.selector);
    REQUIRE(sel.ok());
    CHECK(sel->matches(row.labels) == row.matches);
  }
}

TEST_CASE("bad label selectors are errors that name the problem", "[kube][selectors]") {
  struct Row {
    const char* selector;
    const char* mentions;
  };
  const std::vector<Row> rows = {
      {"app in web", "expected '('"},       {"app in (a b)", "expected ',' or ')'"},
      {"=web", "expected: identifier"},     {"app=we b", "unexpected text"},
      {"app=-web", "invalid label value"},  {"a/b/c=x", "invalid label key"},
      {"-app=x", "invalid label key"},      {"n>x", "must be an integer"},
      {"app=web,", "expected: identifier"},
  };
  for (const auto& row : rows) {
    INFO("selector: " << row.selector);
    auto sel = LabelSelector::parse(row.selector);
    REQUIRE_FALSE(sel.ok());
    CHECK_THAT(sel.error(), Catch::Contains(row.mentions));
  }
}

TEST_CASE("label selectors read metadata.labels of an object", "[kube][selectors]") {
  auto sel = LabelSelector::parse("app=web");
  REQUIRE(sel.ok());
  CHECK(sel->matchesObject(nlohmann::json::parse(R"({"metadata":{"labels":{"app":"web"}}})")));
  CHECK_FALSE(sel->matchesObject(nlohmann::json::parse(R"({"metadata":{}})")));
  CHECK_FALSE(sel->matchesObject(nlohmann::json::parse(R"({"metadata":{"labels":"nonsense"}})")));
}

TEST_CASE("field selectors on metadata.name and metadata.namespace", "[kube][selectors]") {
  const auto obj = nlohmann::json::parse(R"({"metadata":{"name":"a","namespace":"ns1"}})");
  struct Row {
    const char* selector;
    bool matches;
  };
  const std::vector<Row> rows = {
      {"", true},
      {"metadata.name=a", true},
      {"metadata.name==a", true},
      {"metadata.name=b", false},
      {"metadata.name!=b", true},
      {"metadata.name!=a", false},
      {"metadata.name=a,metadata.namespace=ns1", true},
      {"metadata.name=a,metadata.namespace!=ns1", false},
      {"metadata.namespace=", false},
  };
  for (const auto& row : rows) {
    INFO("selector: " << row.selector);
    auto sel = FieldSelector::parse(row.selector);
    REQUIRE(sel.ok());
    CHECK(sel->matchesObject(obj) == row.matches);
  }
  auto bad = FieldSelector::parse("spec.nodeName=x");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error() == "field label not supported: spec.nodeName");
  auto noOp = FieldSelector::parse("metadata.name");
  REQUIRE_FALSE(noOp.ok());
  CHECK_THAT(noOp.error(), Catch::Contains("can't understand"));
  auto custom = FieldSelector::parse("spec.nodeName=n1", {"spec.nodeName"});
  REQUIRE(custom.ok());
  CHECK(custom->matchesObject(nlohmann::json::parse(R"({"spec":{"nodeName":"n1"}})")));
}
