// Test certificates on the OpenSSL 3 API (see tls_certs.h).
#include "tests/support/tls_certs.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

#include "base/openssl_ptr.h"

namespace sluice::testing {

namespace {

using TlsKey = openssl::Ptr<EVP_PKEY>;
using TlsCert = openssl::Ptr<X509>;
using TlsBio = openssl::Ptr<BIO>;

[[noreturn]] void tlsFail(const std::string& what) { throw std::runtime_error("test certificates: " + what); }

std::string tlsKeyPem(EVP_PKEY* key) {
  TlsBio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    tlsFail("cannot write a key");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string tlsCertPem(X509* cert) {
  TlsBio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) tlsFail("cannot write a certificate");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

TlsKey tlsParseKey(const std::string& pem) {
  TlsBio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  TlsKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) tlsFail("cannot read a key");
  return key;
}

TlsCert tlsParseCert(const std::string& pem) {
  TlsBio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  TlsCert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) tlsFail("cannot read a certificate");
  return cert;
}

void tlsExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  openssl::Ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) tlsFail("cannot add the extension " + value);
}

// A certificate for a new key, signed by `issuerKey` (self-signed when `issuer` is null).
TestCertificate tlsMake(const CertificateSpec& spec, X509* issuer, EVP_PKEY* issuerKey) {
  TlsKey key(EVP_EC_gen("P-256"));
  if (!key) tlsFail("cannot generate a key");
  TlsCert cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(spec.validFrom.count()));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(spec.validUntil.count()));
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.commonName.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer ? issuer : cert.get();
  tlsExtension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer) tlsExtension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  if (spec.ca) {
    tlsExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    tlsExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
  } else {
    tlsExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    tlsExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    tlsExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
  }
  if (!spec.altNames.empty()) tlsExtension(cert.get(), signer, NID_subject_alt_name, spec.altNames);
  if (X509_sign(cert.get(), issuerKey ? issuerKey : key.get(), EVP_sha256()) == 0)
    tlsFail("cannot sign the certificate of " + spec.commonName);
  return {tlsCertPem(cert.get()), tlsKeyPem(key.get())};
}

}  // namespace

std::string certificateDer(const std::string& pem) {
  TlsCert cert = tlsParseCert(pem);
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert.get(), &der);
  if (n <= 0) tlsFail("cannot encode a certificate");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

TestCa::TestCa(const std::string& commonName) {
  CertificateSpec spec;
  spec.commonName = commonName;
  spec.altNames.clear();
  spec.validUntil = std::chrono::hours(24 * 3650);
  spec.ca = true;
  self_ = tlsMake(spec, nullptr, nullptr);
}

TestCa::TestCa(const TestCa& issuer, const std::string& commonName) {
  CertificateSpec spec;
  spec.commonName = commonName;
  spec.altNames.clear();
  spec.validUntil = std::chrono::hours(24 * 3650);
  spec.ca = true;
  self_ = issuer.issue(spec);
}

TestCertificate TestCa::issue(const CertificateSpec& spec) const {
  TlsCert cert = tlsParseCert(self_.certPem);
  TlsKey key = tlsParseKey(self_.keyPem);
  return tlsMake(spec, cert.get(), key.get());
}

}  // namespace sluice::testing
