// Throwaway X.509 material for TLS tests, made with OpenSSL's API (EC P-256 keys, SHA-256 signatures): a CA,
// and the server (or intermediate CA) certificates it signs, with the names and validity a test asks for.
#pragma once

#include <chrono>
#include <string>

namespace sluice::testing {

struct TestCertificate {
  std::string certPem;
  std::string keyPem;
};

struct CertificateSpec {
  std::string commonName = "git-server";
  // subjectAltName in OpenSSL's config syntax ("IP:127.0.0.1,DNS:localhost"); empty: no such extension.
  std::string altNames = "IP:127.0.0.1";
  // The validity period, from now.
  std::chrono::seconds validFrom = -std::chrono::hours(1);
  std::chrono::seconds validUntil = std::chrono::hours(24);
  bool ca = false;  // an intermediate CA instead of a server certificate
};

// The DER encoding of the first certificate of `pem`, as a TLS library hands a peer's certificate over.
std::string certificateDer(const std::string& pem);

class TestCa {
 public:
  // A self-signed root CA with this common name, valid from an hour ago for ten years. Two CAs made with
  // the same name have different keys. Throws std::runtime_error on an OpenSSL failure.
  explicit TestCa(const std::string& commonName = "Sluice Test CA");
  // An intermediate CA signed by `issuer`.
  TestCa(const TestCa& issuer, const std::string& commonName);

  const std::string& certPem() const { return self_.certPem; }
  // A certificate signed by this CA. Throws std::runtime_error on an OpenSSL failure.
  TestCertificate issue(const CertificateSpec& spec = {}) const;

 private:
  TestCertificate self_;
};

}  // namespace sluice::testing
