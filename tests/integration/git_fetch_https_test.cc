// Fetching over HTTPS with libgit2 from the real `git http-backend` behind a TLS server whose certificate
// the test makes with its own throwaway CA: trusted only through the CA certificates of the Secret
// (`ca.crt`), refused with Go's x509 wording (as Flux reports it) when no CA of them signed it, when it is
// for another host or out of its validity period; credentials as over HTTP; the deadline through TLS.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "gitops/git_fetch.h"
#include "tests/support/git_http_server.h"
#include "tests/support/git_repo.h"
#include "tests/support/http_peer.h"
#include "tests/support/process.h"
#include "tests/support/tls_certs.h"

using namespace sluice;
using namespace sluice::gitops;
using namespace sluice::testing;
namespace fs = std::filesystem;

namespace {

FetchRequest httpsRequest(const std::string& url, const fs::path& cache, const std::string& caPem = "") {
  FetchRequest r;
  r.url = url;
  r.ref.branch = "main";
  r.cacheDir = cache;
  r.timeout = std::chrono::seconds(20);
  r.credentials.caCert = caPem;
  return r;
}

PeerTls httpsIdentity(const TestCa& ca, const CertificateSpec& spec = {}) {
  const TestCertificate c = ca.issue(spec);
  return PeerTls{c.certPem, c.keyPem};
}

std::string httpsPort(const std::string& url) {
  const auto colon = url.rfind(':');
  return url.substr(colon + 1, url.find('/', colon) - colon - 1);
}

// A TCP listener that accepts into its backlog and never reads or writes: a TLS handshake with it stalls.
class HttpsMuteListener {
 public:
  HttpsMuteListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
  }
  ~HttpsMuteListener() { ::close(fd_); }
  HttpsMuteListener(const HttpsMuteListener&) = delete;
  HttpsMuteListener& operator=(const HttpsMuteListener&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace

TEST_CASE("over HTTPS the CA in ca.crt makes the server trusted and credentials work as over HTTP",
          "[integration][gitops][fetch][https]") {
  TempDir tmp("sluice-https");
  GitRepo repo(tmp / "served" / "repo");
  const std::string head = repo.commit({{"a.yaml", "a: 1\n"}}, "first");
  TestCa ca;

  SECTION("no credentials needed") {
    GitHttpServer server(tmp / "served", {}, httpsIdentity(ca));
    REQUIRE_THAT(server.url("/repo"), Catch::StartsWith("https://127.0.0.1:"));
    auto r = fetchRef(httpsRequest(server.url("/repo"), tmp / "cache", ca.certPem()));
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->commit == head);
    // And again into the warm cache: a new commit only.
    const std::string next = repo.commit({{"b.yaml", "b: 1\n"}}, "second");
    auto again = fetchRef(httpsRequest(server.url("/repo"), tmp / "cache", ca.certPem()));
    INFO((again ? std::string() : again.error().message));
    REQUIRE(again.ok());
    CHECK(again->commit == next);
    CHECK(again->receivedObjects == 3);
  }
  SECTION("the CA among others in ca.crt") {
    GitHttpServer server(tmp / "served", {}, httpsIdentity(ca));
    auto r = fetchRef(
        httpsRequest(server.url("/repo"), tmp / "cache", TestCa("Another CA").certPem() + ca.certPem()));
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->commit == head);
  }
  SECTION("a server certificate from an intermediate CA that ca.crt holds") {
    TestCa intermediate(ca, "Intermediate CA");
    GitHttpServer server(tmp / "served", {}, httpsIdentity(intermediate));
    auto r = fetchRef(httpsRequest(server.url("/repo"), tmp / "cache", intermediate.certPem()));
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->commit == head);
  }
  SECTION("basic auth: the right password, then a wrong one") {
    GitHttpServer server(tmp / "served", {"flux", "s3cret", ""}, httpsIdentity(ca));
    auto req = httpsRequest(server.url("/repo"), tmp / "cache", ca.certPem());
    req.credentials.username = "flux";
    req.credentials.password = "s3cret";
    auto r = fetchRef(req);
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->commit == head);
    bool sentBasic = false;
    for (const auto& request : server.requests()) {
      if (const std::string* h = request.header("Authorization"))
        sentBasic = sentBasic || h->rfind("Basic ", 0) == 0;
    }
    CHECK(sentBasic);

    req.credentials.password = "wrong";
    auto refused = fetchRef(req);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().kind == FetchError::Kind::Auth);
    CHECK_THAT(refused.error().message, Catch::Contains("authentication failed") &&
                                            Catch::Contains(server.url("/repo")) &&
                                            !Catch::Contains("wrong"));
  }
  SECTION("a bearer token") {
    GitHttpServer server(tmp / "served", {"", "", "tok-123"}, httpsIdentity(ca));
    auto req = httpsRequest(server.url("/repo"), tmp / "cache", ca.certPem());
    req.credentials.bearerToken = "tok-123";
    auto r = fetchRef(req);
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->commit == head);
    REQUIRE_FALSE(server.requests().empty());
    CHECK(*server.requests().front().header("Authorization") == "Bearer tok-123");
  }
}

TEST_CASE("over HTTPS without ca.crt a private CA's certificate is refused as signed by an unknown authority",
          "[integration][gitops][fetch][https]") {
  TempDir tmp("sluice-https");
  GitRepo repo(tmp / "served" / "repo");
  repo.commit({{"a.yaml", "a: 1\n"}});
  TestCa ca;
  GitHttpServer server(tmp / "served", {"flux", "s3cret", ""}, httpsIdentity(ca));
  const std::string url = server.url("/repo");
  auto req = httpsRequest(url, tmp / "cache");
  req.credentials.username = "flux";
  req.credentials.password = "s3cret";
  auto r = fetchRef(req);
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().kind == FetchError::Kind::Certificate);
  CHECK(r.error().message ==
        "unable to fetch '" + url +
            "': x509: certificate signed by unknown authority: the TLS certificate of "
            "127.0.0.1:" +
            httpsPort(url) +
            " (issuer \"CN=Sluice Test CA\") is not signed by a CA of the system's trust "
            "store: put the certificate of the CA that signed it (PEM) in ca.crt of the "
            "Secret of spec.secretRef");
  // Nothing was sent to a server that was not trusted: no request, so no password.
  CHECK(server.requests().empty());
}

TEST_CASE("over HTTPS a CA in ca.crt that did not sign the server's certificate is refused",
          "[integration][gitops][fetch][https]") {
  TempDir tmp("sluice-https");
  GitRepo repo(tmp / "served" / "repo");
  repo.commit({{"a.yaml", "a: 1\n"}});
  TestCa ca;
  GitHttpServer server(tmp / "served", {}, httpsIdentity(ca));
  const std::string url = server.url("/repo");

  SECTION("a CA of another name") {
    auto r = fetchRef(httpsRequest(url, tmp / "cache", TestCa("Another CA").certPem()));
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().kind == FetchError::Kind::Certificate);
    CHECK_THAT(
        r.error().message,
        Catch::StartsWith("unable to fetch '" + url + "': x509: certificate signed by unknown authority: ") &&
            Catch::Contains("is not signed by a CA in ca.crt of the Secret of spec.secretRef"));
  }
  SECTION("the root of the intermediate CA that issued it: the message asks for the intermediate") {
    TestCa intermediate(ca, "Intermediate CA");
    const TestCertificate leaf = intermediate.issue();
    GitHttpServer chained(tmp / "served", {}, PeerTls{leaf.certPem + intermediate.certPem(), leaf.keyPem});
    const std::string chainedUrl = chained.url("/repo");
    auto r = fetchRef(httpsRequest(chainedUrl, tmp / "cache", ca.certPem()));
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().kind == FetchError::Kind::Certificate);
    CHECK_THAT(r.error().message,
               Catch::Contains("(issuer \"CN=Intermediate CA\") is not signed by a CA in ca.crt") &&
                   Catch::EndsWith("the intermediate CA's own when an intermediate issued it)"));
    // With the intermediate there, fetched.
    auto fixed = fetchRef(httpsRequest(chainedUrl, tmp / "cache", ca.certPem() + intermediate.certPem()));
    INFO((fixed ? std::string() : fixed.error().message));
    CHECK(fixed.ok());
  }
  SECTION("a CA made under the same name with another key") {
    auto r = fetchRef(httpsRequest(url, tmp / "cache", TestCa().certPem()));
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().kind == FetchError::Kind::Certificate);
    CHECK_THAT(r.error().message,
               Catch::Contains("x509: certificate signed by unknown authority (a trusted CA is named "
                               "\"CN=Sluice Test CA\" but did not sign it)"));
  }
  CHECK(server.requests().empty());
}

TEST_CASE("over HTTPS a certificate for another host is refused naming the host and the names it has",
          "[integration][gitops][fetch][https]") {
  TempDir tmp("sluice-https");
  GitRepo repo(tmp / "served" / "repo");
  repo.commit({{"a.yaml", "a: 1\n"}});
  TestCa ca;
  CertificateSpec elsewhere;
  elsewhere.altNames = "DNS:git.example.com,IP:10.1.2.3";
  GitHttpServer server(tmp / "served", {}, httpsIdentity(ca, elsewhere));

  SECTION("by IP address") {
    const std::string url = server.url("/repo");
    auto r = fetchRef(httpsRequest(url, tmp / "cache", ca.certPem()));
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().kind == FetchError::Kind::Certificate);
    CHECK(r.error().message == "unable to fetch '" + url +
                                   "': x509: certificate is valid for 10.1.2.3, not 127.0.0.1: the TLS "
                                   "certificate of 127.0.0.1:" +
                                   httpsPort(url) +
                                   " is for another host: use in spec.url a host name the certificate names, "
                                   "or give the server a certificate for 127.0.0.1");
  }
  SECTION("by name") {
    const std::string url = "https://localhost:" + httpsPort(server.url()) + "/repo";
    auto r = fetchRef(httpsRequest(url, tmp / "cache", ca.certPem()));
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().kind == FetchError::Kind::Certificate);
    CHECK_THAT(r.error().message,
               Catch::Contains("x509: certificate is valid for git.example.com, not localhost: the TLS "
                               "certificate of localhost:" +
                               httpsPort(url) + " is for another host"));
  }
  CHECK(server.requests().empty());
}

TEST_CASE("over HTTPS an expired certificate is refused saying when it expired",
          "[integration][gitops][fetch][https]") {
  TempDir tmp("sluice-https");
  GitRepo repo(tmp / "served" / "repo");
  repo.commit({{"a.yaml", "a: 1\n"}});
  TestCa ca;
  CertificateSpec expired;
  expired.validFrom = -std::chrono::hours(72);
  expired.validUntil = -std::chrono::hours(24);
  GitHttpServer server(tmp / "served", {}, httpsIdentity(ca, expired));
  const std::string url = server.url("/repo");
  auto r = fetchRef(httpsRequest(url, tmp / "cache", ca.certPem()));
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().kind == FetchError::Kind::Certificate);
  CHECK_THAT(r.error().message,
             Catch::StartsWith("unable to fetch '" + url +
                               "': x509: certificate has expired or is not yet valid: current time ") &&
                 Catch::Contains(" is after ") &&
                 Catch::EndsWith("is outside its validity period: renew it on the server"));
}

TEST_CASE("an https URL of a plain HTTP server is unreachable saying TLS failed",
          "[integration][gitops][fetch][https]") {
  TempDir tmp("sluice-https");
  GitRepo repo(tmp / "served" / "repo");
  repo.commit({{"a.yaml", "a: 1\n"}});
  GitHttpServer plain(tmp / "served");
  const std::string url = "https://127.0.0.1:" + httpsPort(plain.url()) + "/repo";
  auto r = fetchRef(httpsRequest(url, tmp / "cache"));
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().kind == FetchError::Kind::Unreachable);
  CHECK_THAT(r.error().message, Catch::StartsWith("unable to fetch '" + url +
                                                  "': cannot reach the repository: TLS with 127.0.0.1:" +
                                                  httpsPort(url) + " failed: "));
}

TEST_CASE("over HTTPS a silent server is given up on at the timeout in the handshake or after it",
          "[integration][gitops][fetch][https]") {
  TempDir tmp("sluice-https");
  TestCa ca;
  auto timed = [&](const std::string& url) {
    auto req = httpsRequest(url, tmp / "cache", ca.certPem());
    req.timeout = std::chrono::seconds(2);
    const auto start = std::chrono::steady_clock::now();
    auto r = fetchRef(req);
    const auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().kind == FetchError::Kind::Timeout);
    CHECK_THAT(r.error().message, Catch::Contains("timed out after 2s"));
    CHECK(took >= std::chrono::milliseconds(1900));
    CHECK(took < std::chrono::seconds(6));
  };
  SECTION("TLS set up, then no answer to the request") {
    HttpPeer silent(
        [](const PeerRequest&) {
          PeerReply reply;
          reply.neverAnswer = true;
          return reply;
        },
        httpsIdentity(ca));
    timed(silent.url("/repo"));
    CHECK(silent.requests().size() == 1);  // the handshake was done, the request received
  }
  SECTION("no answer to the TLS handshake") {
    HttpsMuteListener mute;
    timed("https://127.0.0.1:" + std::to_string(mute.port()) + "/repo");
  }
}

TEST_CASE("over HTTPS concurrent fetches each trust only the CAs of their own request",
          "[integration][gitops][fetch][https]") {
  TempDir tmp("sluice-https");
  GitRepo repo(tmp / "served" / "repo");
  const std::string head = repo.commit({{"a.yaml", "a: 1\n"}});
  TestCa caA("CA A");
  TestCa caB("CA B");
  GitHttpServer serverA(tmp / "served", {}, httpsIdentity(caA));
  GitHttpServer serverB(tmp / "served", {}, httpsIdentity(caB));
  // Each thread fetches a few times: with the right CA (even threads) or the other server's (odd ones).
  constexpr int kThreads = 4;
  constexpr int kRounds = 3;
  std::vector<std::vector<std::string>> outcomes(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const GitHttpServer& server = t < 2 ? serverA : serverB;
      const TestCa& right = t < 2 ? caA : caB;
      const TestCa& wrong = t < 2 ? caB : caA;
      for (int i = 0; i < kRounds; ++i) {
        const fs::path cache = tmp / ("cache-" + std::to_string(t) + "-" + std::to_string(i));
        auto r = fetchRef(httpsRequest(server.url("/repo"), cache, (t % 2 == 0 ? right : wrong).certPem()));
        outcomes[t].push_back(r ? r->commit : r.error().message);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) {
    for (const std::string& outcome : outcomes[t]) {
      INFO("thread " << t);
      if (t % 2 == 0) {
        CHECK(outcome == head);
      } else {
        CHECK_THAT(outcome, Catch::Contains("x509: certificate signed by unknown authority"));
      }
    }
  }
}
