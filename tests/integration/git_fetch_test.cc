// Fetching a GitRepository's ref with libgit2 from real repositories made with the git command line, over
// file://, git:// (git daemon), HTTP (git http-backend behind basic auth or a bearer token) and SSH (sshd
// with its own host key): ref resolution, the cache's incremental fetch, and errors a person can act on.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "git_servers.h"
#include "gitops/git_fetch.h"
#include "tests/support/git_http_server.h"
#include "tests/support/git_repo.h"
#include "tests/support/http_peer.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::gitops;
using namespace sluice::testing;
namespace fs = std::filesystem;

namespace {

FetchRequest request(const std::string& url, const fs::path& cache, GitRepositoryRef ref = {}) {
  FetchRequest r;
  r.url = url;
  r.ref = std::move(ref);
  if (r.ref.branch.empty() && r.ref.tag.empty() && r.ref.semver.empty() && r.ref.name.empty() &&
      r.ref.commit.empty())
    r.ref.branch = "main";
  r.cacheDir = cache;
  r.timeout = std::chrono::seconds(20);
  return r;
}

GitRepositoryRef branch(const std::string& b) { return {b, "", "", "", ""}; }
GitRepositoryRef tag(const std::string& t) { return {"", t, "", "", ""}; }
GitRepositoryRef semver(const std::string& s) { return {"", "", s, "", ""}; }
GitRepositoryRef named(const std::string& n) { return {"", "", "", n, ""}; }
GitRepositoryRef commit(const std::string& c, const std::string& b = "") { return {b, "", "", "", c}; }

}  // namespace

TEST_CASE("each kind of ref resolves to its commit and Flux's revision string",
          "[integration][gitops][fetch]") {
  TempDir tmp("sluice-fetch");
  GitRepo repo(tmp / "origin");
  const std::string c1 = repo.commit({{"app.yaml", "v: 1\n"}}, "first");
  repo.tag("v1.0.0");
  const std::string c2 = repo.commit({{"app.yaml", "v: 2\n"}}, "second");
  repo.tag("v1.2.0", true);  // annotated: the tag object peels to c2
  const std::string c3 = repo.commit({{"app.yaml", "v: 3\n"}}, "third");
  repo.tag("v2.0.0");
  repo.commit({{"app.yaml", "v: 4-rc\n"}}, "fourth");
  repo.tag("v2.1.0-rc.1");
  repo.git("checkout -q -b staging");
  const std::string c5 = repo.commit({{"app.yaml", "v: staging\n"}}, "on staging\n\nwith a body");
  repo.git("checkout -q main");
  const std::string head = repo.git("rev-parse main");

  struct Row {
    const char* name;
    GitRepositoryRef ref;
    std::string revision;
    std::string commit;
  };
  const Row rows[] = {
      {"branch", branch("main"), "main@sha1:" + head, head},
      {"another branch", branch("staging"), "staging@sha1:" + c5, c5},
      {"lightweight tag", tag("v1.0.0"), "v1.0.0@sha1:" + c1, c1},
      {"annotated tag", tag("v1.2.0"), "v1.2.0@sha1:" + c2, c2},
      {"semver: highest in range", semver(">=1.0.0 <2.0.0"), "v1.2.0@sha1:" + c2, c2},
      {"semver: prerelease left out", semver(">=1.0.0"), "v2.0.0@sha1:" + c3, c3},
      {"semver: prerelease asked for", semver(">=2.1.0-rc.0"),
       "v2.1.0-rc.1@sha1:" + repo.git("rev-parse v2.1.0-rc.1"), repo.git("rev-parse v2.1.0-rc.1")},
      {"ref name", named("refs/heads/staging"), "refs/heads/staging@sha1:" + c5, c5},
      {"commit", commit(c1), "sha1:" + c1, c1},
      {"short commit in a branch", commit(c5.substr(0, 10), "staging"), "staging@sha1:" + c5, c5},
      {"commit beats every other field", GitRepositoryRef{"main", "v1.0.0", ">=2", "", c2}, "main@sha1:" + c2,
       c2},
      {"name beats semver, tag and branch", GitRepositoryRef{"main", "v1.0.0", ">=2", "refs/tags/v1.2.0", ""},
       "refs/tags/v1.2.0@sha1:" + c2, c2},
      {"semver beats tag and branch", GitRepositoryRef{"main", "v1.0.0", "~1.0", "", ""}, "v1.0.0@sha1:" + c1,
       c1},
      {"tag beats branch", GitRepositoryRef{"staging", "v2.0.0", "", "", ""}, "v2.0.0@sha1:" + c3, c3},
  };
  for (const Row& row : rows) {
    DYNAMIC_SECTION(row.name) {
      auto r = fetchRef(request(repo.fileUrl(), tmp / "cache" / row.name, row.ref));
      INFO((r ? std::string() : r.error().message));
      REQUIRE(r.ok());
      CHECK(r->revision.str() == row.revision);
      CHECK(r->commit == row.commit);
    }
  }
  auto staging = fetchRef(request(repo.fileUrl(), tmp / "cache" / "msg", branch("staging")));
  REQUIRE(staging.ok());
  CHECK(staging->commitMessage == "on staging");
}

TEST_CASE("a ref that does not exist is an error naming it", "[integration][gitops][fetch]") {
  TempDir tmp("sluice-fetch");
  GitRepo repo(tmp / "origin");
  repo.commit({{"a", "1"}});
  repo.tag("v1.0.0");
  struct Row {
    const char* name;
    GitRepositoryRef ref;
    const char* message;
  };
  const Row rows[] = {
      {"branch", branch("nope"), "couldn't find remote ref \"refs/heads/nope\""},
      {"tag", tag("v9"), "couldn't find remote ref \"refs/tags/v9\""},
      {"ref name", named("refs/pull/1/head"), "couldn't find remote ref \"refs/pull/1/head\""},
      {"semver", semver(">=2.0.0"), "no tag matches the semver range \">=2.0.0\""},
      {"commit", commit("0123456789abcdef0123456789abcdef01234567"), "commit \"0123456789abcdef"},
      {"commit in a branch", commit("0123456789abcdef", "nope"), "refs/heads/nope"},
  };
  for (const Row& row : rows) {
    DYNAMIC_SECTION(row.name) {
      auto r = fetchRef(request(repo.fileUrl(), tmp / "cache", row.ref));
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().kind == FetchError::Kind::RefNotFound);
      CHECK_THAT(r.error().message, Catch::Contains(row.message) && Catch::Contains(repo.fileUrl()));
    }
  }
}

TEST_CASE("over git://, a second fetch into the cache transfers only the new commit's objects",
          "[integration][gitops][fetch]") {
  TempDir tmp("sluice-fetch");
  GitRepo repo(tmp / "served" / "repo");
  for (int i = 0; i < 20; ++i) {
    repo.commit(
        {{"apps/app" + std::to_string(i) + "/deployment.yaml", "replicas: " + std::to_string(i) + "\n"}},
        "commit " + std::to_string(i));
  }
  GitDaemon daemon(tmp / "served", tmp.path());
  const fs::path cache = tmp / "cache";
  auto first = fetchRef(request(daemon.url("repo"), cache));
  INFO((first ? std::string() : first.error().message) << daemon.log());
  REQUIRE(first.ok());
  CHECK(first->revision.str() == "main@sha1:" + repo.git("rev-parse HEAD"));
  INFO("first fetch: " << first->receivedObjects << " objects, " << first->receivedBytes << " bytes");
  CHECK(first->receivedObjects >= 20 * 4);  // commit, root tree, apps tree, app tree, blob each

  // Nothing new: nothing transferred, same revision.
  auto same = fetchRef(request(daemon.url("repo"), cache));
  REQUIRE(same.ok());
  CHECK(same->commit == first->commit);
  CHECK(same->receivedObjects == 0);

  // One new file at the root: its commit, the root tree and the blob.
  const std::string next = repo.commit({{"README", "hello\n"}}, "one more");
  auto second = fetchRef(request(daemon.url("repo"), cache));
  REQUIRE(second.ok());
  CHECK(second->commit == next);
  INFO("second fetch: " << second->receivedObjects << " objects, " << second->receivedBytes << " bytes");
  CHECK(second->receivedObjects == 3);
  CHECK(second->receivedBytes < first->receivedBytes / 5);

  // And the cache checks the commit out.
  REQUIRE(checkoutCommit(cache, next, tmp / "checkout").ok());
  CHECK(fs::exists(tmp / "checkout" / "README"));
  CHECK(fs::exists(tmp / "checkout" / "apps/app19/deployment.yaml"));
  CHECK_FALSE(fs::exists(tmp / "checkout" / ".git"));
}

TEST_CASE("a server that is gone, or a repository that is not there, is reported unreachable",
          "[integration][gitops][fetch]") {
  TempDir tmp("sluice-fetch");
  GitRepo repo(tmp / "served" / "repo");
  repo.commit({{"a", "1"}});
  const int closed = freeLoopbackPort();
  struct Row {
    const char* name;
    std::string url;
  };
  const Row rows[] = {
      {"closed port", "git://127.0.0.1:" + std::to_string(closed) + "/repo"},
      {"closed HTTP port", "http://127.0.0.1:" + std::to_string(closed) + "/repo"},
      {"no such directory", "file://" + (tmp / "nowhere").string()},
      {"unknown host", "https://no-such-host.invalid/repo.git"},
  };
  for (const Row& row : rows) {
    DYNAMIC_SECTION(row.name) {
      auto r = fetchRef(request(row.url, tmp / "cache"));
      REQUIRE_FALSE(r.ok());
      INFO(r.error().message);
      CHECK(r.error().kind == FetchError::Kind::Unreachable);
      CHECK_THAT(r.error().message, Catch::Contains("cannot reach") && Catch::Contains(row.url));
    }
  }
}

TEST_CASE("over HTTP, basic auth and bearer tokens are sent, and a refusal says authentication failed",
          "[integration][gitops][fetch]") {
  TempDir tmp("sluice-fetch");
  GitRepo repo(tmp / "served" / "repo");
  const std::string head = repo.commit({{"a", "1"}});
  GitHttpServer server(tmp / "served", {"flux", "s3cret", "tok-123"});
  const std::string url = server.url("/repo");

  SECTION("the right username and password") {
    auto req = request(url, tmp / "cache");
    req.credentials.username = "flux";
    req.credentials.password = "s3cret";
    auto r = fetchRef(req);
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->commit == head);
  }
  SECTION("the right bearer token") {
    auto req = request(url, tmp / "cache");
    req.credentials.bearerToken = "tok-123";
    auto r = fetchRef(req);
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->commit == head);
  }
  SECTION("a wrong password") {
    auto req = request(url, tmp / "cache");
    req.credentials.username = "flux";
    req.credentials.password = "wrong";
    auto r = fetchRef(req);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == FetchError::Kind::Auth);
    CHECK_THAT(r.error().message, Catch::Contains("authentication failed") && Catch::Contains(url));
    CHECK(server.refused() <= 3);  // asked once more at most, not in a loop
  }
  SECTION("a wrong bearer token") {
    auto req = request(url, tmp / "cache");
    req.credentials.bearerToken = "tok-999";
    auto r = fetchRef(req);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == FetchError::Kind::Auth);
    CHECK_THAT(r.error().message, Catch::Contains("authentication failed"));
  }
  SECTION("no credentials") {
    auto r = fetchRef(request(url, tmp / "cache"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == FetchError::Kind::Auth);
    CHECK_THAT(r.error().message, Catch::Contains("authentication required") && Catch::Contains("secretRef"));
  }
}

TEST_CASE("a server that never answers is given up on at the timeout", "[integration][gitops][fetch]") {
  TempDir tmp("sluice-fetch");
  HttpPeer silent([](const PeerRequest&) {
    PeerReply reply;
    reply.neverAnswer = true;
    return reply;
  });
  auto req = request(silent.url("/repo"), tmp / "cache");
  req.timeout = std::chrono::seconds(2);
  const auto start = std::chrono::steady_clock::now();
  auto r = fetchRef(req);
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message << " (after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                         << " ms)");
  CHECK(r.error().kind == FetchError::Kind::Timeout);
  CHECK_THAT(r.error().message, Catch::Contains("timed out after 2s"));
  CHECK(took >= std::chrono::milliseconds(1900));
  CHECK(took < std::chrono::seconds(6));
}

TEST_CASE("over SSH, the host key is checked against known_hosts and the identity logs in",
          "[integration][gitops][fetch][ssh]") {
  if (!SshServer::available())
    FAIL("sshd is not installed (Debian's openssh-server; scripts/bootstrap.sh installs it)");
  TempDir tmp("sluice-fetch");
  GitRepo repo(tmp / "origin");
  const std::string head = repo.commit({{"a", "1"}});
  SshServer sshd(tmp / "sshd");
  const std::string knownHosts = sshd.knownHosts();
  REQUIRE_THAT(knownHosts, Catch::Contains("ssh-ed25519"));
  auto req = request(sshd.url(repo.dir()), tmp / "cache");
  req.credentials.identity = sshd.read("client_key");
  req.credentials.knownHosts = knownHosts;

  SECTION("the right host key and identity") {
    auto r = fetchRef(req);
    INFO((r ? std::string() : r.error().message) << "\n" << sshd.log());
    REQUIRE(r.ok());
    CHECK(r->commit == head);
  }
  SECTION("the identity with its public key beside it") {
    req.credentials.identityPub = sshd.read("client_key.pub");
    auto r = fetchRef(req);
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.ok());
  }
  SECTION("another host key under the server's name: refused, naming the host") {
    auto other = runCommand("ssh-keygen -q -t ed25519 -N '' -C '' -f '" + (tmp / "other").string() + "'");
    REQUIRE(other.exitCode == 0);
    std::ifstream in(tmp / "other.pub");
    std::string type, key;
    in >> type >> key;
    req.credentials.knownHosts = "[127.0.0.1]:" + std::to_string(sshd.port()) + " " + type + " " + key + "\n";
    auto r = fetchRef(req);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == FetchError::Kind::HostKey);
    CHECK_THAT(r.error().message,
               Catch::Contains("host key mismatch for [127.0.0.1]:" + std::to_string(sshd.port())));
  }
  SECTION("no entry for the server") {
    req.credentials.knownHosts = "github.com " + knownHosts.substr(knownHosts.find("ssh-ed25519"));
    auto r = fetchRef(req);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == FetchError::Kind::HostKey);
    CHECK_THAT(r.error().message,
               Catch::Contains("known_hosts has no entry for [127.0.0.1]:" + std::to_string(sshd.port())));
  }
  SECTION("known_hosts that does not parse") {
    req.credentials.knownHosts = "[127.0.0.1] ssh-ed25519 not-base64!\n";
    auto r = fetchRef(req);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == FetchError::Kind::HostKey);
    CHECK_THAT(r.error().message, Catch::Contains("bad known_hosts") && Catch::Contains("line 1"));
  }
  SECTION("an identity the server does not know") {
    auto other = runCommand("ssh-keygen -q -t ed25519 -N '' -C '' -f '" + (tmp / "stranger").string() + "'");
    REQUIRE(other.exitCode == 0);
    std::ifstream in(tmp / "stranger");
    req.credentials.identity.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    auto r = fetchRef(req);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().kind == FetchError::Kind::Auth);
    CHECK_THAT(r.error().message, Catch::Contains("authentication failed"));
  }
}
