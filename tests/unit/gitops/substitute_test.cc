// Flux's postBuild substitution: ${var} and its default forms, the $${var} escape, and objects that opt
// out with kustomize.toolkit.fluxcd.io/substitute: disabled.
#include <catch2/catch.hpp>

#include "gitops/kustomize_build.h"

using namespace sluice::gitops;
using nlohmann::json;

TEST_CASE("variables are substituted as Flux substitutes them", "[gitops][substitute]") {
  const std::map<std::string, std::string> vars = {{"env", "prod"}, {"empty", ""}, {"n", "3"}};
  struct Case {
    const char* in;
    const char* out;
  };
  std::vector<Case> cases = {
      {"name: web-${env}", "name: web-prod"},
      {"name: ${missing}", "name: "},  // undefined: empty
      {"r: ${n}", "r: 3"},
      {"${missing:=fallback}", "fallback"},
      {"${missing:-fallback}", "fallback"},
      {"${empty:=fallback}", "fallback"},  // set but empty: the default too
      {"${empty=fallback}", ""},           // set: no default
      {"${missing-fallback}", "fallback"},
      {"${env:=fallback}", "prod"},
      {"$${env} stays", "${env} stays"},
      {"cost: $5 and $ alone", "cost: $5 and $ alone"},
      {"${env}${env}", "prodprod"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto r = substituteVariables(c.in, vars);
    REQUIRE(r);
    CHECK(*r == c.out);
  }
  for (const char* bad : {"${env", "${1abc}", "${env:0:2}", "${env/a/b}"}) {
    INFO(bad);
    CHECK_FALSE(substituteVariables(bad, vars));
  }
}

TEST_CASE("substitution runs per object on its YAML text, unless the object opts out",
          "[gitops][substitute]") {
  const std::string output =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: ${replicas}\n"
      "---\n"
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: script\n  annotations:\n"
      "    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  run.sh: echo ${HOME}\n";
  auto objects = parseBuildOutput(output, true, {{"replicas", "3"}});
  REQUIRE(objects);
  REQUIRE(objects->size() == 2);
  CHECK((*objects)[0]["spec"]["replicas"] == json(3));  // a number, as YAML reads it after substitution
  CHECK((*objects)[1]["data"]["run.sh"] == "echo ${HOME}");

  auto plain = parseBuildOutput(output, false, {});
  REQUIRE(plain);
  CHECK((*plain)[0]["spec"]["replicas"] == "${replicas}");

  auto bad = parseBuildOutput("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${x:0:1}\n",
                              true, {});
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error(), Catch::Contains("ConfigMap/c"));
}
