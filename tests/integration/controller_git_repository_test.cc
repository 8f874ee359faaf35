// The GitRepository reconciler end to end: the embedded API server over HTTPS with the CRD applied by the
// real kubectl, GitRepositories read through an informer, real git repositories fetched into a storage
// directory, and the status read back from the server. Time is a ManualClock, so intervals pass at once.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/clock.h"
#include "controller/git_repository_reconciler.h"
#include "controller/recent_writes.h"
#include "controller/resources.h"
#include "gitops/artifact.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/kubeconfig.h"
#include "kubectl_env.h"
#include "tests/support/git_http_server.h"
#include "tests/support/git_repo.h"
#include "tests/support/tls_certs.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;
namespace fs = std::filesystem;
using Kind = controller::ReconcileOutcome::Kind;

namespace {

class GitRepositoryEnv {
 public:
  GitRepositoryEnv() : cluster(std::chrono::milliseconds(500), false) {
    cluster.ok("apply -f " + shellQuote(std::string(SLUICE_SOURCE_DIR) + "/crds/git-repository.yaml"));
    for (int i = 0; i < 50 && cluster.kubectl("get gitrepositories").exitCode != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    kube::KubeconfigOptions o;
    o.kubeconfigFlag = cluster.server().kubeconfigPath().string();
    auto config = kube::loadClientConfig(o);
    REQUIRE(config.ok());
    auto c = kube::Client::create(*config);
    REQUIRE(c.ok());
    client = std::move(*c);
    informer = std::make_unique<kube::Informer>(*client, controller::gitRepositoriesResource());
    // As the manager wires every informer: a deletion reaches the reconciler's view of its own writes.
    informer->addHandlers({nullptr, nullptr, [this](const json& obj) { writes.sawDeleted(obj); }});
    informer->start();
    REQUIRE(informer->waitForSync(std::chrono::seconds(10)));
    reconciler = std::make_unique<controller::GitRepositoryReconciler>(*client, *informer, writes, clock,
                                                                       storage.path());
  }
  ~GitRepositoryEnv() { informer->stop(); }

  void apply(const json& repo) {
    cluster.ok("apply -f " + cluster.writeFile("repo.json", repo.dump()));
    // The informer must hold what was applied before a reconcile is asked for.
    const std::string key = "default/" + repo["metadata"]["name"].get<std::string>();
    const json server = get(repo["metadata"]["name"]);
    REQUIRE(waitUntil(
        [&] { return cached(key).value("resourceVersion", "") == server["metadata"]["resourceVersion"]; },
        std::chrono::seconds(10)));
  }
  json cached(const std::string& key) {
    auto o = informer->get(key);
    return o ? (*o)["metadata"] : json::object();
  }
  json get(const std::string& name) {
    auto r = client->get(controller::gitRepositoriesResource(), "default", name);
    REQUIRE(r.ok());
    return *r;
  }
  controller::ReconcileOutcome reconcile(const std::string& name) {
    return reconciler->reconcile("default/" + name);
  }

  KubectlEnv cluster;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<kube::Informer> informer;
  controller::RecentWrites writes;
  ManualClock clock;
  TempDir storage{"sluice-storage"};
  std::unique_ptr<controller::GitRepositoryReconciler> reconciler;
};

json gitRepository(const std::string& name, const std::string& url, json ref = {{"branch", "main"}},
                   json extra = json::object()) {
  json spec = {{"url", url}, {"interval", "1m"}, {"ref", std::move(ref)}};
  spec.update(extra);
  return {{"apiVersion", "sluice.dev/v1alpha1"},
          {"kind", "GitRepository"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", spec}};
}

std::string rv(const json& obj) { return obj["metadata"].value("resourceVersion", ""); }

}  // namespace

TEST_CASE(
    "GitRepository: a new commit becomes a new artifact and revision, and a steady interval writes nothing",
    "[integration][gitops][gitrepository]") {
  GitRepositoryEnv env;
  TempDir tmp("sluice-gitrepo");
  GitRepo origin(tmp / "origin");
  const std::string c1 =
      origin.commit({{"deploy/app.yaml", "replicas: 1\n"}, {"README.md", "docs\n"}}, "first");
  env.apply(gitRepository("podinfo", origin.fileUrl()));

  auto outcome = env.reconcile("podinfo");
  CHECK(outcome.kind == Kind::RequeueAfter);
  CHECK(outcome.after == std::chrono::seconds(60));
  json repo = env.get("podinfo");
  INFO(repo.dump(2));
  const json artifact = repo["status"]["artifact"];
  CHECK(artifact["revision"] == "main@sha1:" + c1);
  CHECK(artifact["path"] == "gitrepository/default/podinfo/" + c1 + ".tar.gz");
  CHECK(artifact["url"] ==
        "file://" + env.storage.path().string() + "/gitrepository/default/podinfo/" + c1 + ".tar.gz");
  CHECK(artifact["digest"] == *gitops::fileDigest(env.storage / artifact["path"].get<std::string>()));
  CHECK(artifact["size"] == fs::file_size(env.storage / artifact["path"].get<std::string>()));
  CHECK(repo["status"]["observedGeneration"] == 1);
  const json ready = conditionOf(repo, "Ready");
  CHECK(ready["status"] == "True");
  CHECK(ready["reason"] == "Succeeded");
  CHECK(ready["message"] == "stored artifact for revision 'main@sha1:" + c1 + "'");
  CHECK(conditionOf(repo, "ArtifactInStorage")["status"] == "True");
  CHECK(conditionOf(repo, "FetchFailed").empty());
  CHECK(env.reconciler->fetches() == 1);

  // kubectl's table: Flux's columns.
  const std::string table = env.cluster.ok("get gitrepositories");
  CHECK_THAT(table, Catch::Contains("URL") && Catch::Contains("AGE") && Catch::Contains("READY") &&
                        Catch::Contains("STATUS") && Catch::Contains(origin.fileUrl()) &&
                        Catch::Contains("stored artifact for revision 'main@sha1:" + c1 + "'"));

  // Before the interval: no fetch, no write. After it, with no new commit: a fetch, and still no write.
  const std::string before = rv(repo);
  REQUIRE(waitUntil([&] { return env.cached("default/podinfo").value("resourceVersion", "") == before; },
                    std::chrono::seconds(10)));
  outcome = env.reconcile("podinfo");
  CHECK(outcome.kind == Kind::RequeueAfter);
  CHECK(outcome.after <= std::chrono::seconds(60));
  CHECK(env.reconciler->fetches() == 1);
  env.clock.advance(std::chrono::seconds(61));
  outcome = env.reconcile("podinfo");
  CHECK(outcome.after == std::chrono::seconds(60));
  CHECK(env.reconciler->fetches() == 2);
  CHECK(rv(env.get("podinfo")) == before);

  // A new commit: a new artifact at the next interval; the one before is kept (retention 2).
  const std::string c2 = origin.commit({{"deploy/app.yaml", "replicas: 2\n"}}, "second");
  env.clock.advance(std::chrono::seconds(61));
  env.reconcile("podinfo");
  repo = env.get("podinfo");
  CHECK(repo["status"]["artifact"]["revision"] == "main@sha1:" + c2);
  CHECK(conditionOf(repo, "Ready")["message"] == "stored artifact for revision 'main@sha1:" + c2 + "'");
  CHECK(repo["status"]["artifact"]["digest"] != artifact["digest"]);
  const fs::path dir = env.storage / "gitrepository/default/podinfo";
  CHECK(fs::exists(dir / (c1 + ".tar.gz")));
  CHECK(fs::exists(dir / (c2 + ".tar.gz")));

  // A third: the oldest artifact is collected.
  const std::string c3 = origin.commit({{"deploy/app.yaml", "replicas: 3\n"}}, "third");
  env.clock.advance(std::chrono::seconds(61));
  env.reconcile("podinfo");
  repo = env.get("podinfo");
  CHECK(repo["status"]["artifact"]["revision"] == "main@sha1:" + c3);
  CHECK_FALSE(fs::exists(dir / (c1 + ".tar.gz")));
  CHECK(fs::exists(dir / (c2 + ".tar.gz")));
  CHECK(fs::exists(dir / (c3 + ".tar.gz")));

  // The artifact as the Kustomization reconciler reads it: the third commit's files, README.md included
  // (Flux's defaults exclude no markdown), nothing of .git.
  REQUIRE(gitops::extractArtifact(env.storage.path(), repo["status"]["artifact"], tmp / "out").ok());
  std::ifstream app(tmp / "out/deploy/app.yaml");
  std::string text((std::istreambuf_iterator<char>(app)), std::istreambuf_iterator<char>());
  CHECK(text == "replicas: 3\n");
  CHECK_FALSE(fs::exists(tmp / "out/.git"));

  // Deleted: its artifacts and cache go too.
  env.cluster.ok("delete gitrepository podinfo");
  REQUIRE(waitUntil([&] { return !env.informer->get("default/podinfo"); }, std::chrono::seconds(10)));
  CHECK(env.reconcile("podinfo").kind == Kind::Done);
  CHECK_FALSE(fs::exists(dir));
  CHECK_FALSE(fs::exists(env.storage / "cache/gitrepository/default/podinfo"));
}

TEST_CASE("GitRepository: an unknown branch is Ready=False with Flux's reason and message, then recovers",
          "[integration][gitops][gitrepository]") {
  GitRepositoryEnv env;
  TempDir tmp("sluice-gitrepo");
  GitRepo origin(tmp / "origin");
  const std::string c1 = origin.commit({{"a.yaml", "a: 1\n"}});
  env.apply(gitRepository("web", origin.fileUrl(), {{"branch", "nope"}}));

  auto outcome = env.reconcile("web");
  CHECK(outcome.kind == Kind::RequeueAfter);
  CHECK(outcome.after == std::chrono::seconds(1));
  json repo = env.get("web");
  INFO(repo.dump(2));
  const json ready = conditionOf(repo, "Ready");
  CHECK(ready["status"] == "False");
  CHECK(ready["reason"] == "GitOperationFailed");
  CHECK(ready["message"] == "failed to checkout and determine revision: unable to fetch '" +
                                origin.fileUrl() + "': couldn't find remote ref \"refs/heads/nope\"");
  CHECK(conditionOf(repo, "FetchFailed")["status"] == "True");
  CHECK(conditionOf(repo, "FetchFailed")["reason"] == "GitOperationFailed");
  CHECK(conditionOf(repo, "Reconciling")["reason"] == "ProgressingWithRetry");
  CHECK(conditionOf(repo, "Reconciling")["message"] == "processing object: new generation 0 -> 1");
  CHECK_FALSE(repo["status"].contains("artifact"));
  CHECK_FALSE(repo["status"].contains("observedGeneration"));

  // The retry waits for its backoff: the status write that woke us is no reason to fetch again.
  CHECK(env.reconcile("web").kind == Kind::RequeueAfter);
  CHECK(env.reconciler->fetches() == 1);
  env.clock.advance(std::chrono::seconds(1));
  outcome = env.reconcile("web");
  CHECK(env.reconciler->fetches() == 2);
  CHECK(outcome.after == std::chrono::seconds(2));  // doubling

  // The spec fixed: fetched at once, Ready, the failure conditions gone.
  env.apply(gitRepository("web", origin.fileUrl(), {{"branch", "main"}}));
  env.reconcile("web");
  repo = env.get("web");
  CHECK(conditionOf(repo, "Ready")["status"] == "True");
  CHECK(conditionOf(repo, "FetchFailed").empty());
  CHECK(conditionOf(repo, "Reconciling").empty());
  CHECK(repo["status"]["observedGeneration"] == 2);
  CHECK(repo["status"]["artifact"]["revision"] == "main@sha1:" + c1);
}

TEST_CASE("GitRepository: a wrong password is AuthenticationFailed with a message saying so",
          "[integration][gitops][gitrepository]") {
  GitRepositoryEnv env;
  TempDir tmp("sluice-gitrepo");
  GitRepo origin(tmp / "served" / "repo");
  const std::string c1 = origin.commit({{"a.yaml", "a: 1\n"}});
  GitHttpServer server(tmp / "served", {"flux", "s3cret", ""});
  env.apply(gitRepository("private", server.url("/repo"), {{"branch", "main"}},
                          {{"secretRef", {{"name", "creds"}}}}));

  // No Secret yet.
  env.reconcile("private");
  json repo = env.get("private");
  CHECK(conditionOf(repo, "Ready")["reason"] == "AuthenticationFailed");
  CHECK(conditionOf(repo, "Ready")["message"] == "failed to get secret 'default/creds': not found");

  env.cluster.ok("create secret generic creds --from-literal=username=flux --from-literal=password=wrong");
  env.clock.advance(std::chrono::seconds(5));
  env.reconcile("private");
  repo = env.get("private");
  INFO(repo.dump(2));
  CHECK(conditionOf(repo, "Ready")["status"] == "False");
  CHECK(conditionOf(repo, "Ready")["reason"] == "AuthenticationFailed");
  CHECK_THAT(conditionOf(repo, "Ready")["message"].get<std::string>(),
             Catch::Contains("authentication failed") && Catch::Contains(server.url("/repo")));
  CHECK(conditionOf(repo, "FetchFailed")["reason"] == "AuthenticationFailed");

  env.cluster.ok("delete secret creds");
  env.cluster.ok("create secret generic creds --from-literal=username=flux --from-literal=password=s3cret");
  env.clock.advance(std::chrono::seconds(5));
  env.reconcile("private");
  repo = env.get("private");
  CHECK(conditionOf(repo, "Ready")["status"] == "True");
  CHECK(repo["status"]["artifact"]["revision"] == "main@sha1:" + c1);
}

TEST_CASE("GitRepository: a new reconcile.sluice.dev/requestedAt fetches at once and is echoed in status",
          "[integration][gitops][gitrepository]") {
  GitRepositoryEnv env;
  TempDir tmp("sluice-gitrepo");
  GitRepo origin(tmp / "origin");
  const std::string c1 = origin.commit({{"a.yaml", "a: 1\n"}});
  env.apply(gitRepository("app", origin.fileUrl()));
  env.reconcile("app");
  CHECK(env.get("app")["status"]["artifact"]["revision"] == "main@sha1:" + c1);

  // A new commit inside the interval is not seen...
  const std::string c2 = origin.commit({{"a.yaml", "a: 2\n"}});
  env.reconcile("app");
  CHECK(env.reconciler->fetches() == 1);
  CHECK(env.get("app")["status"]["artifact"]["revision"] == "main@sha1:" + c1);

  // ...until someone asks.
  env.cluster.ok("annotate gitrepository app reconcile.sluice.dev/requestedAt=2026-12-07T01:00:00Z");
  REQUIRE(waitUntil(
      [&] {
        auto o = env.informer->get("default/app");
        return o && o->value(json::json_pointer("/metadata/annotations"), json::object())
                        .contains("reconcile.sluice.dev/requestedAt");
      },
      std::chrono::seconds(10)));
  env.reconcile("app");
  json repo = env.get("app");
  CHECK(env.reconciler->fetches() == 2);
  CHECK(repo["status"]["artifact"]["revision"] == "main@sha1:" + c2);
  CHECK(repo["status"]["lastHandledReconcileAt"] == "2026-12-07T01:00:00Z");

  // Handled once: the same value asks for nothing more.
  REQUIRE(waitUntil([&] { return env.cached("default/app").value("resourceVersion", "") == rv(repo); },
                    std::chrono::seconds(10)));
  env.reconcile("app");
  CHECK(env.reconciler->fetches() == 2);
}

TEST_CASE("GitRepository: suspended does nothing, and an invalid spec is Stalled with the field path",
          "[integration][gitops][gitrepository]") {
  GitRepositoryEnv env;
  TempDir tmp("sluice-gitrepo");
  GitRepo origin(tmp / "origin");
  origin.commit({{"a.yaml", "a: 1\n"}});

  env.apply(gitRepository("paused", origin.fileUrl(), {{"branch", "main"}}, {{"suspend", true}}));
  CHECK(env.reconcile("paused").kind == Kind::Done);
  CHECK_FALSE(env.get("paused").contains("status"));
  CHECK(env.reconciler->fetches() == 0);

  env.apply(gitRepository("bad", origin.fileUrl(), {{"semver", ">=banana"}}));
  CHECK(env.reconcile("bad").kind == Kind::Done);
  json repo = env.get("bad");
  INFO(repo.dump(2));
  CHECK(conditionOf(repo, "Stalled")["status"] == "True");
  CHECK(conditionOf(repo, "Stalled")["reason"] == "InvalidSpec");
  CHECK_THAT(conditionOf(repo, "Ready")["message"].get<std::string>(), Catch::Contains("spec.ref.semver"));
  CHECK(repo["status"]["observedGeneration"] == 1);
  CHECK(env.reconciler->fetches() == 0);
  // Stalled stays put: a second pass writes nothing.
  const std::string before = rv(repo);
  REQUIRE(waitUntil([&] { return env.cached("default/bad").value("resourceVersion", "") == before; },
                    std::chrono::seconds(10)));
  env.reconcile("bad");
  CHECK(rv(env.get("bad")) == before);
}

TEST_CASE(
    "GitRepository: .sourceignore applies, and a new spec.ignore rebuilds the artifact of the same commit",
    "[integration][gitops][gitrepository]") {
  GitRepositoryEnv env;
  TempDir tmp("sluice-gitrepo");
  GitRepo origin(tmp / "origin");
  const std::string c1 = origin.commit({{"deploy/app.yaml", "replicas: 1\n"},
                                        {"deploy/notes.txt", "draft\n"},
                                        {"deploy/.sourceignore", "*.txt\n"},
                                        {"README.md", "docs\n"},
                                        {".github/workflows/ci.yaml", "on: push\n"}});
  env.apply(gitRepository("site", origin.fileUrl()));
  env.reconcile("site");
  json repo = env.get("site");
  const json first = repo["status"]["artifact"];
  REQUIRE(gitops::extractArtifact(env.storage.path(), first, tmp / "one").ok());
  CHECK(fs::exists(tmp / "one/deploy/app.yaml"));
  CHECK(fs::exists(tmp / "one/README.md"));
  CHECK_FALSE(fs::exists(tmp / "one/deploy/notes.txt"));  // .sourceignore
  CHECK_FALSE(fs::exists(tmp / "one/.github"));           // Flux's default exclusions
  CHECK_FALSE(repo["status"].contains("observedIgnore"));

  env.apply(gitRepository("site", origin.fileUrl(), {{"branch", "main"}}, {{"ignore", "/*\n!/deploy/\n"}}));
  env.reconcile("site");
  repo = env.get("site");
  const json second = repo["status"]["artifact"];
  CHECK(second["revision"] == "main@sha1:" + c1);
  CHECK(second["digest"] != first["digest"]);
  CHECK(repo["status"]["observedIgnore"] == "/*\n!/deploy/\n");
  CHECK(repo["status"]["observedGeneration"] == 2);
  REQUIRE(gitops::extractArtifact(env.storage.path(), second, tmp / "two").ok());
  CHECK(fs::exists(tmp / "two/deploy/app.yaml"));
  CHECK_FALSE(fs::exists(tmp / "two/README.md"));
  CHECK_FALSE(fs::exists(tmp / "two/deploy/notes.txt"));
}

TEST_CASE("GitRepository: over HTTPS a private CA is trusted only from ca.crt of the Secret",
          "[integration][gitops][gitrepository][https]") {
  GitRepositoryEnv env;
  TempDir tmp("sluice-gitrepo");
  GitRepo origin(tmp / "served" / "repo");
  const std::string c1 = origin.commit({{"a.yaml", "a: 1\n"}});
  TestCa ca;
  const TestCertificate serving = ca.issue();
  GitHttpServer server(tmp / "served", {"flux", "s3cret", ""}, PeerTls{serving.certPem, serving.keyPem});
  const std::string url = server.url("/repo");
  const std::string port = url.substr(url.rfind(':') + 1, url.rfind('/') - url.rfind(':') - 1);
  env.cluster.ok("create secret generic creds --from-literal=username=flux --from-literal=password=s3cret");
  env.apply(gitRepository("private-ca", url, {{"branch", "main"}}, {{"secretRef", {{"name", "creds"}}}}));

  // Credentials but no CA: the system's trust store does not know the test's CA.
  env.reconcile("private-ca");
  json repo = env.get("private-ca");
  INFO(repo.dump(2));
  const std::string unknown = "failed to checkout and determine revision: unable to fetch '" + url +
                              "': x509: certificate signed by unknown authority: the TLS certificate of "
                              "127.0.0.1:" +
                              port +
                              " (issuer \"CN=Sluice Test CA\") is not signed by a CA of the system's trust "
                              "store: put the certificate of the CA that signed it (PEM) in ca.crt of the "
                              "Secret of spec.secretRef";
  CHECK(conditionOf(repo, "Ready")["status"] == "False");
  CHECK(conditionOf(repo, "Ready")["reason"] == "GitOperationFailed");
  CHECK(conditionOf(repo, "Ready")["message"] == unknown);
  CHECK(conditionOf(repo, "FetchFailed")["status"] == "True");
  CHECK(conditionOf(repo, "FetchFailed")["reason"] == "GitOperationFailed");
  CHECK(conditionOf(repo, "FetchFailed")["message"] == unknown);
  CHECK_FALSE(repo["status"].contains("artifact"));
  CHECK(server.requests().empty());  // the password never left for an untrusted server

  // ca.crt that holds no certificate: the Secret is wrong, and the message names its key.
  env.cluster.ok("delete secret creds");
  env.cluster.ok(
      "create secret generic creds --from-literal=username=flux --from-literal=password=s3cret "
      "--from-literal=ca.crt=not-a-certificate");
  env.clock.advance(std::chrono::seconds(5));
  env.reconcile("private-ca");
  repo = env.get("private-ca");
  CHECK(conditionOf(repo, "Ready")["reason"] == "AuthenticationFailed");
  CHECK(conditionOf(repo, "Ready")["message"] ==
        "secret 'default/creds': Secret key \"ca.crt\" (the CA certificates for HTTPS): no PEM certificate "
        "(-----BEGIN CERTIFICATE-----) in it");

  // The CA in ca.crt: fetched, Ready.
  env.cluster.ok("delete secret creds");
  env.cluster.ok(
      "create secret generic creds --from-literal=username=flux --from-literal=password=s3cret "
      "--from-file=ca.crt=" +
      shellQuote(env.cluster.writeFile("ca.crt", ca.certPem())));
  env.clock.advance(std::chrono::seconds(5));
  env.reconcile("private-ca");
  repo = env.get("private-ca");
  CHECK(conditionOf(repo, "Ready")["status"] == "True");
  CHECK(conditionOf(repo, "FetchFailed").empty());
  CHECK(repo["status"]["artifact"]["revision"] == "main@sha1:" + c1);
}
