// known_hosts from a GitRepository's Secret: the lines and hashed names OpenSSH writes (these were made
// with ssh-keygen, `-H` for the hashed ones), a host's key accepted, a different or missing one refused.
#include "gitops/known_hosts.h"

#include <catch2/catch.hpp>

#include "base/base64.h"

using namespace sluice;
using namespace sluice::gitops;

namespace {

const std::string kKeyA = "AAAAC3NzaC1lZDI1NTE5AAAAIKJWtUC33X3/C3/ye9gxrQehYBO2KDUx6WlqEItUzPuU";
const std::string kKeyB = "AAAAC3NzaC1lZDI1NTE5AAAAIMgpQHEfuq6Ad8XDZtwEt38jkoxSp4f9XbpkgBFcvYcf";
const std::string kKeyC =
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIjgiS+JXMgauI4kEtVLMOPdBpjh5w/tBoYTpxh/"
    "qH9ltxpJQNWn06ZIBhsZ"
    "dt5MZ9FSndwGfvw9044pUcVO+kk=";

std::string blob(const std::string& b64) { return *sluice::base64Decode(b64); }

}  // namespace

TEST_CASE("a server's key is accepted only when known_hosts holds it for that host",
          "[gitops][known_hosts]") {
  const std::string plain = "# comment\n\n[127.0.0.1]:2222 ssh-ed25519 " + kKeyA +
                            "\nexample.com,other.example ecdsa-sha2-nistp256 " + kKeyC + " a comment\n";
  const std::string hashed =
      "|1|Cfxy4iT8AJFRA9kUUOEJWVsQw00=|E7+qSCngxo63yW+p03JBJdgutAA= ssh-ed25519 " + kKeyA +
      "\n|1|qaqiBswsaVWIf+Addck+nQYlv/I=|QOOd7VsWh6ZTfFpndIzwpBV1jpQ= ecdsa-sha2-nistp256 " + kKeyC + "\n";
  for (const std::string& text : {plain, hashed}) {
    INFO(text);
    auto kh = KnownHosts::parse(text);
    INFO((kh ? std::string() : kh.error()));
    REQUIRE(kh.ok());
    CHECK(kh->verify("[127.0.0.1]:2222", "ssh-ed25519", blob(kKeyA)).ok());
    CHECK(kh->verify("example.com", "ecdsa-sha2-nistp256", blob(kKeyC)).ok());

    // Another key for a known host: a mismatch, with the offered key's fingerprint as ssh-keygen -l prints
    // it.
    Status other = kh->verify("[127.0.0.1]:2222", "ssh-ed25519", blob(kKeyB));
    REQUIRE_FALSE(other.ok());
    CHECK_THAT(other.error(), Catch::Contains("host key mismatch for [127.0.0.1]:2222"));
    Status otherC = kh->verify("example.com", "ssh-ed25519", blob(kKeyA));
    CHECK_THAT(otherC.error(), Catch::Contains("SHA256:v8nc2uRZyBRSgFUYN3TCIgH9r6H6PAOjmeqUTn0mUF0"));

    // The same address on the default port is another host.
    Status port22 = kh->verify("127.0.0.1", "ssh-ed25519", blob(kKeyA));
    REQUIRE_FALSE(port22.ok());
    CHECK_THAT(port22.error(), Catch::Contains("no entry for 127.0.0.1"));
  }
  CHECK(KnownHosts::parse(plain)->verify("other.example", "ecdsa-sha2-nistp256", blob(kKeyC)).ok());
}

TEST_CASE("host patterns: wildcards and negations", "[gitops][known_hosts]") {
  auto kh = KnownHosts::parse("*.example.com,!bad.example.com ssh-ed25519 " + kKeyA + "\n");
  REQUIRE(kh.ok());
  CHECK(kh->verify("git.example.com", "ssh-ed25519", blob(kKeyA)).ok());
  CHECK_FALSE(kh->verify("bad.example.com", "ssh-ed25519", blob(kKeyA)).ok());
  CHECK_FALSE(kh->verify("example.org", "ssh-ed25519", blob(kKeyA)).ok());
}

TEST_CASE("a revoked key is refused even when another line lists it", "[gitops][known_hosts]") {
  auto kh = KnownHosts::parse("@revoked * ssh-ed25519 " + kKeyA + "\nhost ssh-ed25519 " + kKeyA + "\n");
  REQUIRE(kh.ok());
  Status s = kh->verify("host", "ssh-ed25519", blob(kKeyA));
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error(), Catch::Contains("@revoked"));
}

TEST_CASE("bad known_hosts is an error naming the line", "[gitops][known_hosts]") {
  struct Row {
    std::string text;
    const char* message;
  };
  const Row rows[] = {
      {"", "no host key"},
      {"# only a comment\n", "no host key"},
      {"host ssh-ed25519\n", "line 1: expected"},
      {"host ssh-ed25519 " + kKeyA + "\nhost2 ssh-ed25519 !!!notbase64\n", "line 2"},
      {"host ssh-rsa " + kKeyA + "\n", "is not a ssh-rsa key"},
      {"@bogus host ssh-ed25519 " + kKeyA + "\n", "unknown marker"},
  };
  for (const Row& row : rows) {
    INFO(row.text);
    auto kh = KnownHosts::parse(row.text);
    REQUIRE_FALSE(kh.ok());
    CHECK_THAT(kh.error(), Catch::Contains(row.message));
  }
}
