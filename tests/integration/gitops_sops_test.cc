// SOPS decryption end to end, as `sluice controller` runs it: a real git repository holds a Secret and a
// dotenv file encrypted by the fixture encoder of tests/data/sops (for the age key keys/first.agekey);
// the controller binary fetches it, decrypts with the key of a Secret in the cluster and applies the
// plaintext. A key that does not fit fails the revision with Flux's reason and a message naming the
// object, keeps the previous revision applied, and no secret value reaches the status or the log.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "base/base64.h"
#include "controller_env.h"
#include "tests/support/git_repo.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

std::string sopsFixture(const std::string& name) {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/tests/data/sops/" + name);
  std::stringstream s;
  s << in.rdbuf();
  REQUIRE_FALSE(s.str().empty());
  return s.str();
}

// The values the fixtures hold in plaintext: none may show outside the decrypted Secrets.
const char* const kSecretValues[] = {"hunter2", "k-123", "dotenv-secret", "t0k3n=with=equals",
                                     "AGE-SECRET-KEY-"};

// A Secret's value for `key` as the API server keeps it (data, base64), or stringData as applied.
std::string sopsSecretValue(const json& secret, const std::string& key) {
  if (secret.contains("data") && secret["data"].contains(key)) {
    auto decoded = sluice::base64Decode(secret["data"][key].get<std::string>());
    return decoded ? *decoded : "(not base64)";
  }
  if (secret.contains("stringData") && secret["stringData"].contains(key))
    return secret["stringData"][key].get<std::string>();
  return "(missing)";
}

json sopsReadyCondition(const json& k) { return conditionOf(k, "Ready"); }

std::string sopsGitOpsObjects(const std::string& url) {
  return R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "GitRepository",
   "metadata": {"name": "secrets", "namespace": "default"},
   "spec": {"url": ")" +
         url + R"(", "interval": "10m", "ref": {"branch": "main"}}}
{"apiVersion": "sluice.dev/v1alpha1", "kind": "Kustomization",
   "metadata": {"name": "secrets", "namespace": "default"},
   "spec": {"sourceRef": {"kind": "GitRepository", "name": "secrets"}, "path": "./apps",
            "interval": "10m", "retryInterval": "2s", "prune": true, "targetNamespace": "default",
            "decryption": {"provider": "sops", "secretRef": {"name": "sops-age"}}}}
{"apiVersion": "sluice.dev/v1alpha1", "kind": "Kustomization",
   "metadata": {"name": "keyless", "namespace": "default"},
   "spec": {"sourceRef": {"kind": "GitRepository", "name": "secrets"}, "path": "./apps",
            "interval": "10m", "retryInterval": "2s", "prune": true, "targetNamespace": "default",
            "decryption": {"provider": "sops", "secretRef": {"name": "no-such-keys"}}}})";
}

const char* const kKustomizationFile = R"(resources:
- secret.yaml
- settings.yaml
secretGenerator:
- name: app-env
  envs:
  - app.sops.env
generatorOptions:
  disableNameSuffixHash: true
)";

std::string settings(const std::string& version) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  version: \"" + version +
         "\"\n";
}

}  // namespace

TEST_CASE(
    "SOPS: a Secret and a dotenv file encrypted in git are applied decrypted, and a key that does not fit "
    "keeps the previous revision without showing a secret",
    "[gitops][sops][e2e]") {
  TempDir dir;
  GitRepo repo(dir.path() / "repo");
  const std::string commit1 = repo.commit({{"apps/kustomization.yaml", kKustomizationFile},
                                           {"apps/secret.yaml", sopsFixture("encrypted-regex.sops.yaml")},
                                           {"apps/app.sops.env", sopsFixture("app.sops.env")},
                                           {"apps/settings.yaml", settings("1")}},
                                          "encrypted secrets");

  ControllerEnv env;
  const std::string keys = std::string(SLUICE_SOURCE_DIR) + "/tests/data/sops/keys/";
  env.cluster.ok("create secret generic sops-age --from-file=identity.agekey=" +
                 shellQuote(keys + "first.agekey"));
  const auto logFile = dir.path() / "controller.log";
  ChildProcess controller(
      {SLUICE_BINARY, "controller", "--leader-elect=false", "--kubeconfig",
       env.cluster.server().kubeconfigPath().string(), "--metrics-addr", "127.0.0.1:0", "--health-addr",
       "127.0.0.1:0", "--storage-path", (dir.path() / "storage").string()},
      logFile);
  env.cluster.ok("apply -f " + env.cluster.writeFile("gitops.json", sopsGitOpsObjects(repo.fileUrl())));

  // Decrypted: the Secret written encrypted in git, and the Secret the generator made from the dotenv.
  const bool applied = waitUntil(
      [&] {
        const json k = env.cluster.getJson("kustomization secrets");
        return sopsReadyCondition(k).value("status", "") == "True";
      },
      std::chrono::seconds(60));
  INFO(env.cluster.kubectl("get kustomization secrets -o yaml").output);
  INFO(controller.log());
  REQUIRE(applied);
  const json db = env.cluster.getJson("secret db-credentials");
  CHECK(sopsSecretValue(db, "password") == "hunter2");
  CHECK(sopsSecretValue(db, "apiKey") == "k-123");
  CHECK(sopsSecretValue(db, "tls.key") == "secret-key");  // a data value, base64 in git under its ENC[]
  CHECK_FALSE(db.contains("sops"));
  CHECK(db["metadata"]["labels"].value("kustomize.sluice.dev/name", "") == "secrets");
  const json appEnv = env.cluster.getJson("secret app-env");
  CHECK(sopsSecretValue(appEnv, "DB_PASSWORD") == "dotenv-secret");
  CHECK(sopsSecretValue(appEnv, "API_TOKEN") == "t0k3n=with=equals");
  CHECK(sopsSecretValue(appEnv, "LOG_LEVEL_unencrypted") == "debug");
  CHECK(env.cluster.getJson("kustomization secrets")["status"].value("lastAppliedRevision", "") ==
        "main@sha1:" + commit1);

  // The Kustomization whose Secret does not exist says so, and applies nothing of its own.
  const bool keylessFailed = waitUntil(
      [&] {
        return sopsReadyCondition(env.cluster.getJson("kustomization keyless")).value("status", "") ==
               "False";
      },
      std::chrono::seconds(30));
  REQUIRE(keylessFailed);
  const json keyless = sopsReadyCondition(env.cluster.getJson("kustomization keyless"));
  CHECK(keyless["reason"] == "BuildFailed");
  CHECK_THAT(keyless["message"].get<std::string>(),
             Catch::Contains("decryption Secret 'default/no-such-keys' not found"));

  // The key is swapped for one the files were not encrypted for, and a new commit comes: the revision
  // fails to build, and what the last good one applied stays.
  env.cluster.ok("delete secret sops-age");
  env.cluster.ok("create secret generic sops-age --from-file=identity.agekey=" +
                 shellQuote(keys + "stranger.agekey"));
  const std::string commit2 = repo.commit({{"apps/settings.yaml", settings("2")}}, "settings v2");
  env.cluster.ok("annotate gitrepository secrets --overwrite reconcile.sluice.dev/requestedAt=now");
  const bool failed = waitUntil(
      [&] {
        const json k = env.cluster.getJson("kustomization secrets");
        return k.value("status", json::object()).value("lastAttemptedRevision", "") ==
                   "main@sha1:" + commit2 &&
               sopsReadyCondition(k).value("status", "") == "False";
      },
      std::chrono::seconds(60));
  const json k = env.cluster.getJson("kustomization secrets");
  INFO(k.dump(2));
  REQUIRE(failed);
  const json ready = sopsReadyCondition(k);
  CHECK(ready["reason"] == "BuildFailed");
  const std::string message = ready["message"].get<std::string>();
  CHECK_THAT(message, Catch::StartsWith("decryption failed for "));
  CHECK_THAT(message, Catch::Contains("no age identity of the decryption keys unwraps"));
  // The generator's file is decrypted before the build, the Secret in git after it: one of the two
  // names the failure (the dotenv file first, as kustomize reads it).
  CHECK_THAT(message,
             Catch::Contains("apps/app.sops.env") || Catch::Contains("Secret/default/db-credentials"));
  CHECK(k["status"].value("lastAppliedRevision", "") == "main@sha1:" + commit1);
  CHECK(env.cluster.getJson("configmap settings")["data"]["version"] == "1");
  CHECK(sopsSecretValue(env.cluster.getJson("secret db-credentials"), "password") == "hunter2");

  // No secret value in the status of either Kustomization, nor in the controller's log.
  const std::string statuses =
      k["status"].dump() + env.cluster.getJson("kustomization keyless")["status"].dump();
  const std::string log = controller.log();
  REQUIRE_THAT(log, Catch::Contains("caches synced"));  // the log of this controller, read whole
  for (const char* value : kSecretValues) {
    INFO(value);
    CHECK(statuses.find(value) == std::string::npos);
    CHECK(log.find(value) == std::string::npos);
  }
  controller.stop();
}
