// The pure input checks of the embedded API server: the nesting scan every body goes through, the typed
// decoding check, names per kind, the selector-template match the workload simulation relies on, and
// the data directory lock.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "kube/apiserver/data_dir_lock.h"
#include "kube/apiserver/validation.h"
#include "kube/json_depth.h"
#include "tests/support/process.h"

using nlohmann::json;
using namespace sluice::apiserver;
using sluice::kube::firstTooDeep;
using sluice::kube::parseJsonBounded;

TEST_CASE("nesting scan: counts containers, not brackets inside strings", "[apiserver][limits]") {
  struct Row {
    const char* behaviour;
    std::string text;
    std::size_t limit;
    long offset;  // -1: within the limit
  };
  const std::vector<Row> rows = {
      {"flat object", R"({"a":1})", 1, -1},
      {"two levels at a limit of two", R"({"a":[1]})", 2, -1},
      {"three levels at a limit of two", R"({"a":[{}]})", 2, 6},
      {"brackets in a string do not count", R"({"a":"[[[[{{{{"})", 1, -1},
      {"an escaped quote does not end the string", R"({"a":"\"[[[["})", 1, -1},
      {"an escaped backslash does end it", R"({"a":"\\",  "b":[[1]]})", 2, 17},
      {"closing brackets free the levels again", "[[]][[]][[]]", 2, -1},
      {"the first too deep one is named", "[[[]]]", 2, 2},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    auto deep = firstTooDeep(row.text, row.limit);
    if (row.offset < 0) {
      CHECK_FALSE(deep.has_value());
    } else {
      REQUIRE(deep.has_value());
      CHECK(static_cast<long>(deep->offset) == row.offset);
    }
  }
  // 3 MiB of openers (the body limit) is answered, without recursion and in the words of Go's decoder.
  auto parsed = parseJsonBounded(std::string(3u << 20, '['));
  CHECK(parsed.tooDeep);
  CHECK(parsed.message == "invalid character '[' exceeded max depth (1000 levels) at offset 1000");
  auto bad = parseJsonBounded("{\"a\":");
  CHECK_FALSE(bad.ok());
  CHECK_FALSE(bad.tooDeep);
  CHECK(parseJsonBounded(R"({"a":[1,{"b":null}]})").value["a"][1].contains("b"));
}

TEST_CASE("typed decoding: the first field of the wrong JSON type, worded as Go's decoder",
          "[apiserver][validation]") {
  struct Row {
    const char* kind;
    const char* object;
    const char* problem;  // "" when the types fit
  };
  const Row rows[] = {
      {"ConfigMap", R"({"data":{"a":"b"},"binaryData":{"c":"ZA=="}})", ""},
      {"ConfigMap", R"({"data":["a"]})",
       "json: cannot unmarshal array into Go struct field ConfigMap.data of type map[string]string"},
      {"ConfigMap", R"({"data":{"a":true}})",
       "json: cannot unmarshal bool into Go struct field ConfigMap.data of type string"},
      {"ConfigMap", R"({"data":{"a":null}})", ""},
      {"ConfigMap", R"({"metadata":{"finalizers":[1]}})",
       "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.finalizers of type string"},
      {"Deployment", R"({"spec":{"replicas":2}})", ""},
      {"Deployment", R"({"spec":{"replicas":2.5}})",
       "json: cannot unmarshal number 2.5 into Go struct field DeploymentSpec.spec.replicas of type int32"},
      {"Deployment", R"({"spec":{"replicas":-2147483649}})",
       "json: cannot unmarshal number -2147483649 into Go struct field DeploymentSpec.spec.replicas of type "
       "int32"},
      {"Deployment", R"({"spec":"x"})",
       "json: cannot unmarshal string into Go struct field Deployment.spec of type v1.DeploymentSpec"},
      {"StatefulSet", R"({"spec":{"replicas":{}}})",
       "json: cannot unmarshal object into Go struct field StatefulSetSpec.spec.replicas of type int32"},
      {"Service", R"({"spec":{"ports":[{"port":80},{"port":"x"}]}})",
       "json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32"},
      {"Job", R"({"spec":{"activeDeadlineSeconds":5000000000}})", ""},
      {"Job", R"({"spec":{"backoffLimit":5000000000}})",
       "json: cannot unmarshal number 5000000000 into Go struct field JobSpec.spec.backoffLimit of type "
       "int32"},
      {"Pod", R"({"spec":{"replicas":"x"}})", ""},
  };
  for (const auto& row : rows) {
    INFO(row.kind << " " << row.object);
    CHECK(typeProblem(row.kind, json::parse(row.object)) == row.problem);
  }
}

TEST_CASE("names follow each kind's rule", "[apiserver][validation]") {
  struct Row {
    const char* kind;
    std::string name;
    bool ok;
  };
  const std::vector<Row> rows = {
      {"ConfigMap", "1abc", true},
      {"Service", "1abc", false},
      {"Service", "abc-1", true},
      {"Service", "a.b", false},
      {"Namespace", "1abc", true},
      {"Namespace", "a.b", false},
      {"Deployment", "web.v2", true},
      {"Role", "system:Admin", true},
      {"ClusterRole", "a/b", false},
      {"RoleBinding", "..", false},
      {"Service", std::string(64, 'a'), false},
  };
  for (const auto& row : rows) {
    INFO(row.kind << " " << row.name);
    CHECK(nameProblem(row.kind, row.name).empty() == row.ok);
  }
}

TEST_CASE("a workload acts only when its selector selects its template", "[apiserver][validation]") {
  struct Row {
    const char* behaviour;
    const char* spec;
    bool matches;
  };
  const Row rows[] = {
      {"matchLabels within the labels",
       R"({"selector":{"matchLabels":{"a":"1"}},"template":{"metadata":{"labels":{"a":"1","b":"2"}}}})",
       true},
      {"a value that differs",
       R"({"selector":{"matchLabels":{"a":"2"}},"template":{"metadata":{"labels":{"a":"1"}}}})", false},
      {"no selector", R"({"template":{"metadata":{"labels":{"a":"1"}}}})", false},
      {"an empty selector", R"({"selector":{},"template":{"metadata":{"labels":{"a":"1"}}}})", false},
      {"an expression that holds",
       R"({"selector":{"matchExpressions":[{"key":"a","operator":"In","values":["1","2"]}]},"template":{"metadata":{"labels":{"a":"2"}}}})",
       true},
      {"an expression that does not",
       R"({"selector":{"matchExpressions":[{"key":"a","operator":"DoesNotExist"}]},"template":{"metadata":{"labels":{"a":"2"}}}})",
       false},
      {"no template labels", R"({"selector":{"matchLabels":{"a":"1"}}})", false},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    CHECK(selectorMatchesTemplate(json{{"spec", json::parse(row.spec)}}) == row.matches);
  }
}

TEST_CASE("a data directory is locked by one holder at a time", "[apiserver][lock]") {
  sluice::testing::TempDir dir("sluice-lock");
  const auto data = dir / "data";
  auto first = DataDirLock::acquire(data);
  REQUIRE(first.ok());
  auto second = DataDirLock::acquire(data);
  REQUIRE_FALSE(second.ok());
  CHECK_THAT(second.error(), Catch::Contains("the data directory " + data.string() +
                                             " is in use by another sluice cluster (pid " +
                                             std::to_string(::getpid()) + ")"));
  first = DataDirLock::acquire(dir / "other");  // the first lock goes with its holder
  REQUIRE(first.ok());
  CHECK(DataDirLock::acquire(data).ok());
}
