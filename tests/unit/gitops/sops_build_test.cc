// SOPS decryption around a Kustomization's build, on the fixtures of tests/data/sops: the files generators
// read, decrypted in a copy; built objects changed by kustomize (namespace, labels) still decrypted; a
// Secret's data entry that is a SOPS file; and failures that name the file or the object, never a value.
#include "gitops/sops_build.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/base64.h"
#include "base/source.h"
#include "gitops/age.h"
#include "tests/support/process.h"

using sluice::gitops::SopsBuildDecryptor;

namespace {

std::string buildFixture(const std::string& name) {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/tests/data/sops/" + name, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

SopsBuildDecryptor decryptorFor(const std::string& key) {
  auto ids = sluice::gitops::parseAgeIdentities(buildFixture("keys/" + key + ".agekey"));
  REQUIRE(ids.ok());
  return SopsBuildDecryptor(*ids);
}

nlohmann::json yamlObject(const std::string& text) {
  auto docs = sluice::parseYamlDocuments(text, "decrypted");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  return (*docs)[0].json;
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

void writeText(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string readText(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("a built object with SOPS metadata is decrypted though kustomize changed it, unless disabled",
          "[gitops][sops]") {
  const SopsBuildDecryptor d = decryptorFor("first");
  // As kustomize writes it out: another namespace and a label the MAC does not cover.
  std::string built =
      replaced(buildFixture("encrypted-regex.sops.yaml"), "namespace: \"shop\"", "namespace: \"prod\"");
  built = replaced(built, "app: \"shop\"", "app: \"shop\"\n        team: \"payments\"");
  auto out = d.decryptObject(built, "Secret/prod/db-credentials");
  INFO((out ? "" : out.error()));
  REQUIRE(out.ok());
  REQUIRE(out->has_value());
  const nlohmann::json obj = yamlObject(**out);
  CHECK(obj["stringData"]["password"] == "hunter2");
  CHECK(obj["data"]["tls.key"] == "c2VjcmV0LWtleQ==");
  CHECK(obj["metadata"]["namespace"] == "prod");
  CHECK_FALSE(obj.contains("sops"));

  const std::string disabled =
      replaced(built, "metadata:\n",
               "metadata:\n    annotations:\n        kustomize.toolkit.fluxcd.io/decrypt: disabled\n");
  auto left = d.decryptObject(disabled, "Secret/prod/db-credentials");
  REQUIRE(left.ok());
  CHECK_FALSE(left->has_value());

  auto plain = d.decryptObject("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n", "x");
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->has_value());
}

TEST_CASE("a built object that does not decrypt is an error naming it, without a value", "[gitops][sops]") {
  const struct {
    const char* behaviour;
    std::string key;
    std::string document;
    std::string message;
  } rows[] = {
      {"a key the object was not encrypted for", "stranger", buildFixture("encrypted-regex.sops.yaml"),
       "'Secret/shop/db-credentials': no age identity of the decryption keys unwraps"},
      {"a value moved to another key", "first",
       replaced(buildFixture("encrypted-regex.sops.yaml"), "    password: ENC", "    passwd: ENC"),
       "'Secret/shop/db-credentials': stringData.passwd"},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    auto out = decryptorFor(row.key).decryptObject(row.document, "Secret/shop/db-credentials");
    REQUIRE_FALSE(out.ok());
    CHECK_THAT(out.error(), Catch::StartsWith(row.message));
    CHECK(out.error().find("hunter2") == std::string::npos);
    CHECK(out.error().find("AGE-SECRET-KEY") == std::string::npos);
  }
}

TEST_CASE("a Secret data entry that is a SOPS file is decrypted in place, base64 again", "[gitops][sops]") {
  const nlohmann::json secret = {{"apiVersion", "v1"},
                                 {"kind", "Secret"},
                                 {"metadata", {{"name", "app-env"}, {"namespace", "default"}}},
                                 {"data",
                                  {{"app.env", sluice::base64Encode(buildFixture("app.sops.env"))},
                                   {"plain", sluice::base64Encode("not encrypted")}}}};
  auto out = decryptorFor("first").decryptObject(secret.dump(), "Secret/default/app-env");
  INFO((out ? "" : out.error()));
  REQUIRE(out.ok());
  REQUIRE(out->has_value());
  const nlohmann::json obj = yamlObject(**out);
  const auto env = sluice::base64Decode(obj["data"]["app.env"].get<std::string>());
  REQUIRE(env);
  CHECK_THAT(*env, Catch::Contains("DB_PASSWORD=dotenv-secret"));
  CHECK(env->find("sops_mac") == std::string::npos);
  CHECK(obj["data"]["plain"] == secret["data"]["plain"]);
}

TEST_CASE("the files generators read are decrypted in the copy, through resources, and failures name them",
          "[gitops][sops]") {
  sluice::testing::TempDir dir;
  const auto root = dir.path() / "copy";
  writeText(root / "apps/kustomization.yaml", "resources:\n- ../base\n");
  writeText(
      root / "base/kustomization.yaml",
      "secretGenerator:\n- name: app\n  envs: [app.sops.env]\n  files: [config.yaml=settings.sops.yaml]\n"
      "configMapGenerator:\n- name: outside\n  envs: [../../elsewhere.env]\n");
  writeText(root / "base/app.sops.env", buildFixture("app.sops.env"));
  writeText(root / "base/settings.sops.yaml", buildFixture("encrypted-suffix.sops.yaml"));
  writeText(dir.path() / "elsewhere.env", buildFixture("app.sops.env"));  // outside the copy: left alone

  REQUIRE(decryptorFor("first").decryptSources(root, root / "apps").ok());
  CHECK_THAT(readText(root / "base/app.sops.env"), Catch::Contains("DB_PASSWORD=dotenv-secret"));
  CHECK_THAT(readText(root / "base/settings.sops.yaml"), Catch::Contains("s3cr3t"));
  CHECK(readText(dir.path() / "elsewhere.env") == buildFixture("app.sops.env"));

  writeText(root / "base/app.sops.env", buildFixture("app.sops.env"));
  auto failed = decryptorFor("stranger").decryptSources(root, root / "apps");
  REQUIRE_FALSE(failed.ok());
  CHECK_THAT(failed.error(), Catch::StartsWith("base/app.sops.env: no age identity"));
  CHECK(failed.error().find("dotenv-secret") == std::string::npos);
}
