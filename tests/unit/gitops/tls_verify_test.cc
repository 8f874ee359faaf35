// An HTTPS git server's certificate checked against the CA certificates of a GitRepository's Secret: the
// certificates are made by the test with OpenSSL (a throwaway CA per case), the verdicts and messages are
// Go's crypto/x509 ones that Flux reports. Also the Secret keys that carry the CAs.
#include "gitops/tls_verify.h"

#include <catch2/catch.hpp>

#include "base/base64.h"
#include "gitops/git_fetch.h"
#include "tests/support/tls_certs.h"

using namespace sluice;
using namespace sluice::gitops;
using namespace sluice::testing;
using Kind = CertificateProblem::Kind;

namespace {

CertificateSpec tlsServerNamed(const std::string& altNames, const std::string& cn = "git-server") {
  CertificateSpec s;
  s.commonName = cn;
  s.altNames = altNames;
  return s;
}

std::optional<CertificateProblem> tlsCheck(const TestCertificate& server, const std::string& caPem,
                                           const std::string& host) {
  return verifyServerCertificate(certificateDer(server.certPem), caPem, host);
}

}  // namespace

TEST_CASE("tls_verify: a certificate signed by a CA of ca.crt is trusted for each host it names",
          "[gitops][tls]") {
  TestCa ca;
  const TestCertificate server =
      ca.issue(tlsServerNamed("IP:127.0.0.1,IP:::1,DNS:localhost,DNS:*.git.example.com"));
  for (const char* host : {"127.0.0.1", "::1", "[::1]", "localhost", "repo.git.example.com"}) {
    INFO(host);
    auto problem = tlsCheck(server, ca.certPem(), host);
    INFO((problem ? problem->message : std::string()));
    CHECK_FALSE(problem.has_value());
  }
  // The CA among others in the bundle, in any place.
  TestCa other("Another CA");
  CHECK_FALSE(tlsCheck(server, other.certPem() + ca.certPem(), "127.0.0.1").has_value());
  CHECK_FALSE(tlsCheck(server, ca.certPem() + "\n" + other.certPem(), "127.0.0.1").has_value());
}

TEST_CASE("tls_verify: a certificate no CA of ca.crt signed is from an unknown authority", "[gitops][tls]") {
  TestCa ca;
  const TestCertificate server = ca.issue();

  SECTION("a CA of another name") {
    TestCa other("Another CA");
    auto problem = tlsCheck(server, other.certPem(), "127.0.0.1");
    REQUIRE(problem.has_value());
    CHECK(problem->kind == Kind::UnknownAuthority);
    CHECK(problem->message == "x509: certificate signed by unknown authority");
    CHECK(problem->issuer == "CN=Sluice Test CA");
  }
  SECTION("a CA of the same name whose key did not sign it") {
    TestCa impostor;  // same common name, another key
    auto problem = tlsCheck(server, impostor.certPem(), "127.0.0.1");
    REQUIRE(problem.has_value());
    CHECK(problem->kind == Kind::UnknownAuthority);
    CHECK(problem->message ==
          "x509: certificate signed by unknown authority (a trusted CA is named "
          "\"CN=Sluice Test CA\" but did not sign it)");
  }
  SECTION("the root of an intermediate that signed it: the intermediate must be in ca.crt") {
    TestCa intermediate(ca, "Intermediate CA");
    const TestCertificate leaf = intermediate.issue();
    auto problem = tlsCheck(leaf, ca.certPem(), "127.0.0.1");
    REQUIRE(problem.has_value());
    CHECK(problem->kind == Kind::UnknownAuthority);
    CHECK(problem->issuer == "CN=Intermediate CA");
    // The intermediate alone is enough, as in Go's root pool; with its root too, as well.
    CHECK_FALSE(tlsCheck(leaf, intermediate.certPem(), "127.0.0.1").has_value());
    CHECK_FALSE(tlsCheck(leaf, ca.certPem() + intermediate.certPem(), "127.0.0.1").has_value());
  }
}

TEST_CASE("tls_verify: a certificate for other hosts names them and the host asked for", "[gitops][tls]") {
  TestCa ca;
  struct Row {
    const char* name;
    std::string altNames;
    std::string host;
    std::string message;
  };
  const Row rows[] = {
      {"DNS names only for an IP", "DNS:git.example.com", "127.0.0.1",
       "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs"},
      {"another IP", "IP:10.0.0.1,IP:10.0.0.2,DNS:localhost", "127.0.0.1",
       "x509: certificate is valid for 10.0.0.1, 10.0.0.2, not 127.0.0.1"},
      {"another DNS name", "DNS:git.example.com,DNS:other.example.com,IP:127.0.0.1", "localhost",
       "x509: certificate is valid for git.example.com, other.example.com, not localhost"},
      {"a wildcard covers one label only", "DNS:*.example.com", "a.b.example.com",
       "x509: certificate is valid for *.example.com, not a.b.example.com"},
      {"no names at all", "", "localhost",
       "x509: certificate is not valid for any names, but wanted to match localhost"},
  };
  for (const Row& row : rows) {
    DYNAMIC_SECTION(row.name) {
      auto problem = tlsCheck(ca.issue(tlsServerNamed(row.altNames)), ca.certPem(), row.host);
      REQUIRE(problem.has_value());
      CHECK(problem->kind == Kind::HostMismatch);
      CHECK(problem->message == row.message);
    }
  }
  SECTION("the common name alone is not enough") {
    auto problem = tlsCheck(ca.issue(tlsServerNamed("", "localhost")), ca.certPem(), "localhost");
    REQUIRE(problem.has_value());
    CHECK(problem->kind == Kind::HostMismatch);
    CHECK(problem->message == "x509: certificate relies on legacy Common Name field, use SANs instead");
  }
}

TEST_CASE("tls_verify: an expired or not yet valid certificate says when it was valid", "[gitops][tls]") {
  TestCa ca;
  CertificateSpec expired;
  expired.validFrom = -std::chrono::hours(48);
  expired.validUntil = -std::chrono::hours(24);
  auto problem = tlsCheck(ca.issue(expired), ca.certPem(), "127.0.0.1");
  REQUIRE(problem.has_value());
  CHECK(problem->kind == Kind::Expired);
  CHECK_THAT(problem->message, Catch::StartsWith("x509: certificate has expired or is not yet valid: current "
                                                 "time 20") &&
                                   Catch::Contains("Z is after 20"));

  CertificateSpec future;
  future.validFrom = std::chrono::hours(24);
  future.validUntil = std::chrono::hours(48);
  problem = tlsCheck(ca.issue(future), ca.certPem(), "127.0.0.1");
  REQUIRE(problem.has_value());
  CHECK(problem->kind == Kind::Expired);
  CHECK_THAT(problem->message, Catch::Contains("Z is before 20"));

  // Go's order: the validity period before the host and the chain.
  TestCa other("Another CA");
  expired.altNames = "DNS:elsewhere.example.com";
  problem = tlsCheck(ca.issue(expired), other.certPem(), "127.0.0.1");
  REQUIRE(problem.has_value());
  CHECK(problem->kind == Kind::Expired);
  // And the host before the chain.
  problem = tlsCheck(ca.issue(tlsServerNamed("DNS:elsewhere.example.com")), other.certPem(), "127.0.0.1");
  REQUIRE(problem.has_value());
  CHECK(problem->kind == Kind::HostMismatch);
}

TEST_CASE("tls_verify: bytes that are no certificate are refused", "[gitops][tls]") {
  TestCa ca;
  auto problem = verifyServerCertificate("not a certificate", ca.certPem(), "127.0.0.1");
  REQUIRE(problem.has_value());
  CHECK(problem->kind == Kind::Other);
  CHECK(problem->message == "x509: the server's certificate does not parse");
}

TEST_CASE("tls_verify: ca.crt must hold PEM certificates and a bad one is named by its place",
          "[gitops][tls]") {
  TestCa ca;
  CHECK(checkCaBundle(ca.certPem()).ok());
  CHECK(checkCaBundle(ca.certPem() + TestCa("Another CA").certPem()).ok());
  Status none = checkCaBundle("just text\n");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error() == "no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
  // The second certificate's body damaged.
  std::string damaged = TestCa("Another CA").certPem();
  damaged.replace(damaged.find('\n') + 5, 8, "!!!!!!!!");
  Status bad = checkCaBundle(ca.certPem() + damaged);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error(), Catch::StartsWith("certificate 2 does not parse: "));
}

TEST_CASE("tls_verify: the Secret's ca.crt or caFile key carries the CAs and a bad one names the key",
          "[gitops][tls]") {
  TestCa ca;
  TestCa older("Older CA");
  using nlohmann::json;
  auto creds = credentialsFromSecret(json{{"data", {{"ca.crt", sluice::base64Encode(ca.certPem())}}}});
  REQUIRE(creds.ok());
  CHECK(creds->caCert == ca.certPem());
  creds = credentialsFromSecret(json{{"stringData", {{"caFile", older.certPem()}}}});
  REQUIRE(creds.ok());
  CHECK(creds->caCert == older.certPem());
  creds =
      credentialsFromSecret(json{{"stringData", {{"caFile", older.certPem()}, {"ca.crt", ca.certPem()}}}});
  REQUIRE(creds.ok());
  CHECK(creds->caCert == ca.certPem());
  creds = credentialsFromSecret(json{{"data", {{"username", sluice::base64Encode("flux")}}}});
  REQUIRE(creds.ok());
  CHECK(creds->caCert.empty());

  creds = credentialsFromSecret(json{{"stringData", {{"ca.crt", "not a certificate\n"}}}});
  REQUIRE_FALSE(creds.ok());
  CHECK(creds.error() ==
        "Secret key \"ca.crt\" (the CA certificates for HTTPS): no PEM certificate (-----BEGIN "
        "CERTIFICATE-----) in it");
  creds = credentialsFromSecret(json{{"stringData", {{"caFile", "nothing"}}}});
  REQUIRE_FALSE(creds.ok());
  CHECK_THAT(creds.error(), Catch::StartsWith("Secret key \"caFile\""));
}
