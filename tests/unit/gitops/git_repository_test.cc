// The GitRepository kind: Flux's defaults, validation at field paths, the apiVersions the loaders
// accept, and status written and read back unchanged.
#include "gitops/git_repository.h"

#include <catch2/catch.hpp>

#include "base/source.h"

using namespace sluice;
using namespace sluice::gitops;
using nlohmann::json;

namespace {

json repo(json spec, const std::string& apiVersion = "sluice.dev/v1alpha1") {
  return {{"apiVersion", apiVersion},
          {"kind", "GitRepository"},
          {"metadata", {{"name", "podinfo"}, {"namespace", "flux-system"}, {"generation", 3}}},
          {"spec", std::move(spec)}};
}

}  // namespace

TEST_CASE("a GitRepository gets Flux's defaults: branch master, a 60s timeout", "[gitops][gitrepository]") {
  Diagnostics diags;
  auto r = parseGitRepository(repo({{"url", "https://github.com/stefanprodan/podinfo"}, {"interval", "5m"}}),
                              SourceMap(), diags);
  INFO(diags.format());
  REQUIRE(r);
  CHECK(r->name == "podinfo");
  CHECK(r->ns == "flux-system");
  CHECK(r->generation == 3);
  CHECK(r->spec.interval == std::chrono::minutes(5));
  CHECK(r->spec.timeout == std::chrono::seconds(60));
  CHECK(r->spec.ref.branch == "master");
  CHECK(r->spec.ref.tag.empty());
  CHECK_FALSE(r->spec.ignore);
  CHECK_FALSE(r->spec.suspend);
  CHECK(diags.empty());
}

TEST_CASE("Flux's apiVersions load unchanged", "[gitops][gitrepository]") {
  for (const char* apiVersion :
       {"sluice.dev/v1alpha1", "source.toolkit.fluxcd.io/v1", "source.toolkit.fluxcd.io/v1beta2"}) {
    INFO(apiVersion);
    Diagnostics diags;
    auto r = parseGitRepository(repo({{"url", "ssh://git@github.com/org/repo"},
                                      {"interval", "1m"},
                                      {"timeout", "90s"},
                                      {"ref", {{"semver", ">=1.0.0 <2.0.0"}}},
                                      {"secretRef", {{"name", "ssh-credentials"}}},
                                      {"ignore", "/*\n!/deploy\n"},
                                      {"suspend", true}},
                                     apiVersion),
                                SourceMap(), diags);
    INFO(diags.format());
    REQUIRE(r);
    CHECK(r->apiVersion == apiVersion);
    CHECK(r->spec.timeout == std::chrono::seconds(90));
    CHECK(r->spec.ref.semver == ">=1.0.0 <2.0.0");
    CHECK(r->spec.ref.branch.empty());  // no default branch beside another ref
    CHECK(r->spec.secretRefName == "ssh-credentials");
    CHECK(r->spec.ignore == "/*\n!/deploy\n");
    CHECK(r->spec.suspend);
  }
}

TEST_CASE("an invalid GitRepository is refused with every problem at its field path",
          "[gitops][gitrepository]") {
  struct Row {
    const char* name;
    json object;
    const char* path;
    const char* message;
  };
  const json good = {{"url", "https://example.com/r.git"}, {"interval", "1m"}};
  auto with = [&](const char* key, json value) {
    json spec = good;
    if (value.is_null()) {
      spec.erase(key);
    } else {
      spec[key] = std::move(value);
    }
    return repo(spec);
  };
  const Row rows[] = {
      {"no interval", with("interval", nullptr), "spec.interval", "is required"},
      {"a zero interval", with("interval", "0s"), "spec.interval", "more than 0s"},
      {"a bad interval", with("interval", "soon"), "spec.interval", ""},
      {"no url", with("url", nullptr), "spec.url", "is required"},
      {"an ftp url", with("url", "ftp://example.com/r"), "spec.url", "unsupported scheme"},
      {"a bad timeout", with("timeout", "-5s"), "spec.timeout", ""},
      {"a bad semver range", with("ref", {{"semver", ">=banana"}}), "spec.ref.semver", "semver range"},
      {"a ref name that is not a full ref", with("ref", {{"name", "main"}}), "spec.ref.name", "refs/"},
      {"a commit that is not hex", with("ref", {{"commit", "not-a-sha"}}), "spec.ref.commit", "hex"},
      {"a secretRef without name", with("secretRef", json::object()), "spec.secretRef.name", "is required"},
      {"ignore that is not a string", with("ignore", 5), "spec.ignore", "must be a string"},
      {"verify (not supported)", with("verify", {{"mode", "HEAD"}}), "spec.verify", "not supported"},
      {"include (not supported)", with("include", json::array()), "spec.include", "not supported"},
      {"a cloud provider", with("provider", "azure"), "spec.provider", "generic"},
      {"submodules", with("recurseSubmodules", true), "spec.recurseSubmodules", "not supported"},
      {"another kind",
       [&] {
         json o = repo(good);
         o["kind"] = "Bucket";
         return o;
       }(),
       "kind", "GitRepository"},
      {"another apiVersion", repo(good, "source.toolkit.fluxcd.io/v1alpha9"), "apiVersion", "must be"},
      {"no spec",
       [&] {
         json o = repo(good);
         o.erase("spec");
         return o;
       }(),
       "spec", "is required"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    Diagnostics diags;
    CHECK_FALSE(parseGitRepository(row.object, SourceMap(), diags));
    bool found = false;
    for (const auto& d : diags.items()) {
      if (d.severity == Severity::Error && d.path == row.path &&
          d.message.find(row.message) != std::string::npos)
        found = true;
    }
    INFO(diags.format());
    CHECK(found);
  }
}

TEST_CASE("a GitRepository from a file reports the line of a bad field", "[gitops][gitrepository]") {
  auto docs = parseYamlDocuments(
      "apiVersion: source.toolkit.fluxcd.io/v1\n"
      "kind: GitRepository\n"
      "metadata:\n"
      "  name: podinfo\n"
      "spec:\n"
      "  interval: 1m\n"
      "  url: https://example.com/r\n"
      "  ref:\n"
      "    semver: '>=banana'\n",
      "repo.yaml");
  REQUIRE(docs.ok());
  Diagnostics diags;
  CHECK_FALSE(parseGitRepository((*docs)[0].json, (*docs)[0].source, diags));
  CHECK_THAT(diags.format(), Catch::Contains("repo.yaml:9") && Catch::Contains("spec.ref.semver"));
}

TEST_CASE("unknown and sparseCheckout fields are warnings, not errors", "[gitops][gitrepository]") {
  Diagnostics diags;
  auto r = parseGitRepository(repo({{"url", "https://e.com/r"},
                                    {"interval", "1m"},
                                    {"sparseCheckout", {"deploy"}},
                                    {"colour", "red"}}),
                              SourceMap(), diags);
  REQUIRE(r);
  CHECK(diags.warningCount() == 2);
  CHECK_THAT(diags.format(), Catch::Contains("spec.colour") && Catch::Contains("spec.sparseCheckout"));
}

TEST_CASE("status goes to JSON and back unchanged", "[gitops][gitrepository]") {
  GitRepositoryStatus s;
  s.observedGeneration = 4;
  const Time t0 = timeFromUnix(1'800'000'000);
  s.set({source_condition::kReady,
         "True",
         source_reason::kSucceeded,
         "stored artifact for revision 'main@sha1:ab'",
         4,
         {}},
        t0);
  s.set({source_condition::kArtifactInStorage, "True", source_reason::kSucceeded, "stored", 4, {}}, t0);
  s.artifact = Artifact{"gitrepository/ns/n/ab.tar.gz",
                        "file:///s/gitrepository/ns/n/ab.tar.gz",
                        "main@sha1:ab",
                        "sha256:00ff",
                        t0,
                        1234};
  s.observedIgnore = "*.md";
  s.lastHandledReconcileAt = "2026-01-01T00:00:00Z";
  const json j = statusToJson(s);
  CHECK(j["artifact"]["revision"] == "main@sha1:ab");
  CHECK(j["artifact"]["size"] == 1234);
  CHECK(j["conditions"][0]["type"] == "Ready");
  auto back = statusFromJson(j);
  REQUIRE(back.ok());
  CHECK(statusToJson(*back) == j);
}

TEST_CASE("a condition keeps its transition time while its status stays", "[gitops][gitrepository]") {
  GitRepositoryStatus s;
  const Time t0 = timeFromUnix(1000), t1 = timeFromUnix(2000), t2 = timeFromUnix(3000);
  s.set({source_condition::kReady, "False", source_reason::kGitOperationFailed, "a", 1, {}}, t0);
  s.set({source_condition::kReady, "False", source_reason::kAuthenticationFailed, "b", 1, {}}, t1);
  CHECK(s.find(source_condition::kReady)->lastTransitionTime == t0);
  CHECK(s.find(source_condition::kReady)->reason == source_reason::kAuthenticationFailed);
  s.set({source_condition::kReady, "True", source_reason::kSucceeded, "c", 1, {}}, t2);
  CHECK(s.find(source_condition::kReady)->lastTransitionTime == t2);
  s.remove(source_condition::kReady);
  CHECK(s.find(source_condition::kReady) == nullptr);
}
