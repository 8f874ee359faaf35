// Building a Kustomization's path with the real kustomize (the one in kubectl): the overlay Flux writes
// (targetNamespace, name affixes, common metadata, patches, images, components), a generated
// kustomization for a bare directory, and build errors that name the source's file.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <thread>

#include "gitops/kustomize_build.h"
#include "tests/support/process.h"

namespace {

using nlohmann::json;
using sluice::gitops::KustomizationSpec;
using sluice::gitops::KustomizeBuilder;
using sluice::testing::TempDir;

void write(const std::filesystem::path& p, const std::string& content) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << content;
}

const json* find(const std::vector<json>& objects, const std::string& kind, const std::string& name) {
  for (const auto& o : objects)
    if (o["kind"] == kind && o["metadata"]["name"] == name) return &o;
  return nullptr;
}

std::string fileText(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("a Kustomization's overlay is written into the build, never into the source", "[gitops][build]") {
  TempDir src("sluice-build-src");
  write(src / "app/kustomization.yaml", "resources:\n  - deployment.yaml\n");
  write(src / "app/deployment.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.25}]
)");
  write(src / "components/extra/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - cm.yaml\n");
  write(src / "components/extra/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n");
  const std::string before = fileText(src / "app/kustomization.yaml");

  KustomizationSpec spec;
  spec.path = "./app";
  spec.targetNamespace = "prod";
  spec.namePrefix = "p-";
  spec.nameSuffix = "-s";
  spec.commonLabels = {{"team", "a"}};
  spec.commonAnnotations = {{"owner", "ops"}};
  spec.images = json::array({{{"name", "nginx"}, {"newTag", "1.27"}}});
  spec.patches = json::array(
      {{{"patch", "- op: add\n  path: /spec/replicas\n  value: 4\n"}, {"target", {{"kind", "Deployment"}}}}});
  spec.components = {"../components/extra"};
  KustomizeBuilder builder;
  auto built = builder.build(src.path(), spec, {}, std::chrono::seconds(30));
  INFO((built ? std::string() : built.error()));
  REQUIRE(built);
  const json* d = find(*built, "Deployment", "p-web-s");
  REQUIRE(d);
  CHECK((*d)["metadata"]["namespace"] == "prod");
  CHECK((*d)["metadata"]["labels"]["team"] == "a");
  CHECK((*d)["metadata"]["annotations"]["owner"] == "ops");
  CHECK((*d)["spec"]["selector"]["matchLabels"] ==
        json{{"app", "web"}});  // common labels leave selectors alone
  CHECK((*d)["spec"]["replicas"] == 4);
  CHECK((*d)["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27");
  CHECK(find(*built, "ConfigMap", "p-extra-s"));
  CHECK(fileText(src / "app/kustomization.yaml") == before);
}

TEST_CASE("a directory without kustomization.yaml is built from the files holding objects",
          "[gitops][build]") {
  TempDir src("sluice-build-src");
  write(src / "a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
  write(src / "nested/b.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n");
  write(src / "values.yaml", "replicas: 3\n");  // not an object: left out, as Flux leaves it out
  write(src / "sub/kustomization.yaml", "resources: [c.yaml]\nnamePrefix: sub-\n");
  write(src / "sub/c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
  write(src / "sub/ignored.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: not-listed\n");
  KustomizeBuilder builder;
  auto built = builder.build(src.path(), KustomizationSpec{}, {}, std::chrono::seconds(30));
  INFO((built ? std::string() : built.error()));
  REQUIRE(built);
  std::set<std::string> names;
  for (const auto& o : *built) names.insert(o["metadata"]["name"]);
  CHECK(names == std::set<std::string>{"a", "b", "sub-c"});
  CHECK_FALSE(std::filesystem::exists(src / "kustomization.yaml"));
}

TEST_CASE("build errors say what kustomize said and name the source's file", "[gitops][build]") {
  TempDir src("sluice-build-src");
  write(src / "kustomization.yaml", "resources:\n  - missing.yaml\n");
  write(src / "bare/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n");
  KustomizeBuilder builder;
  auto missing = builder.build(src.path(), KustomizationSpec{}, {}, std::chrono::seconds(30));
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error(), Catch::Contains((src / "missing.yaml").string()));
  CHECK_THAT(missing.error(), Catch::Contains("kustomize build failed"));

  KustomizationSpec bare;
  bare.path = "bare";
  auto broken = builder.build(src.path(), bare, {}, std::chrono::seconds(30));
  REQUIRE_FALSE(broken);
  CHECK_THAT(broken.error(), Catch::StartsWith((src / "bare/broken.yaml").string() + ":"));
  CHECK_THAT(broken.error(), Catch::Contains("invalid YAML"));

  KustomizationSpec nowhere;
  nowhere.path = "./not-there";
  auto notFound = builder.build(src.path(), nowhere, {}, std::chrono::seconds(30));
  REQUIRE_FALSE(notFound);
  CHECK(notFound.error() == "kustomization path not found: ./not-there");
}

TEST_CASE("a build reads ../ bases from the source and keeps kustomize's output per path and overlay",
          "[gitops][build]") {
  TempDir src("sluice-build-src");
  write(src / "apps/base/kustomization.yaml", "resources: [cm.yaml]\n");
  write(src / "apps/base/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  who: ${tenant:=nobody}\n");
  write(src / "apps/staging/kustomization.yaml", "resources: [../base]\nnamePrefix: staging-\n");
  write(src / "apps/production/kustomization.yaml", "resources: [../base]\nnamePrefix: prod-\n");
  KustomizeBuilder builder;
  KustomizationSpec spec;
  spec.path = "apps/staging";
  spec.hasPostBuild = true;
  auto first = builder.build(src.path(), spec, {{"tenant", "a"}}, std::chrono::seconds(30));
  INFO((first ? std::string() : first.error()));
  REQUIRE(first);
  REQUIRE(find(*first, "ConfigMap", "staging-settings"));
  CHECK((*find(*first, "ConfigMap", "staging-settings"))["data"]["who"] == "a");
  CHECK(builder.kustomizeRuns() == 1);

  // The same path with other variables: kustomize's output is reused and substituted again.
  auto second = builder.build(src.path(), spec, {{"tenant", "b"}}, std::chrono::seconds(30));
  REQUIRE(second);
  CHECK((*find(*second, "ConfigMap", "staging-settings"))["data"]["who"] == "b");
  CHECK(builder.kustomizeRuns() == 1);
  CHECK(builder.cacheHits() == 1);

  // Another overlay or another path is another build.
  spec.targetNamespace = "team-a";
  auto third = builder.build(src.path(), spec, {}, std::chrono::seconds(30));
  REQUIRE(third);
  CHECK((*find(*third, "ConfigMap", "staging-settings"))["metadata"]["namespace"] == "team-a");
  CHECK((*find(*third, "ConfigMap", "staging-settings"))["data"]["who"] == "nobody");
  spec.path = "apps/production";
  auto fourth = builder.build(src.path(), spec, {}, std::chrono::seconds(30));
  REQUIRE(fourth);
  CHECK(find(*fourth, "ConfigMap", "prod-settings"));
  CHECK(builder.kustomizeRuns() == 3);

  // A failed build is not kept: it runs again.
  KustomizationSpec missing;
  missing.path = "apps/nowhere";
  CHECK_FALSE(builder.build(src.path(), missing, {}, std::chrono::seconds(30)));
  write(src / "apps/broken/kustomization.yaml", "resources: [../base, gone.yaml]\n");
  missing.path = "apps/broken";
  auto broken = builder.build(src.path(), missing, {}, std::chrono::seconds(30));
  REQUIRE_FALSE(broken);
  CHECK_THAT(broken.error(), Catch::Contains((src / "apps/broken/gone.yaml").string()));
  const long runs = builder.kustomizeRuns();
  CHECK_FALSE(builder.build(src.path(), missing, {}, std::chrono::seconds(30)));
  CHECK(builder.kustomizeRuns() == runs + 1);
}

TEST_CASE("Kustomizations building the same path at once share one kustomize run", "[gitops][build]") {
  TempDir src("sluice-build-src");
  write(src / "app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c-${n}\n");
  KustomizeBuilder builder;
  KustomizationSpec spec;
  spec.path = "app";
  spec.hasPostBuild = true;
  std::vector<std::string> names(6);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < names.size(); ++i) {
    threads.emplace_back([&, i] {
      auto built = builder.build(src.path(), spec, {{"n", std::to_string(i)}}, std::chrono::seconds(30));
      if (built && built->size() == 1) names[i] = (*built)[0]["metadata"]["name"];
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < names.size(); ++i) CHECK(names[i] == "c-" + std::to_string(i));
  CHECK(builder.kustomizeRuns() == 1);
}
