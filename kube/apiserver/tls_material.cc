// CA, serving certificate and token generation on the OpenSSL 3 API (EC P-256 keys, SHA-256 signatures).
#include "kube/apiserver/tls_material.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "base/base64.h"
#include "base/openssl_ptr.h"

namespace sluice::apiserver {
namespace {

namespace fs = std::filesystem;

using Key = openssl::Ptr<EVP_PKEY>;
using Cert = openssl::Ptr<X509>;
using Bio = openssl::Ptr<BIO>;

Result<std::string> readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Error{"cannot read " + p.string()};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Status writeFile(const fs::path& p, const std::string& content, bool secret) {
  fs::path tmp = p;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Error{"cannot write " + tmp.string()};
    out << content;
    if (!out.flush()) return Error{"cannot write " + tmp.string()};
  }
  if (secret) chmod(tmp.c_str(), 0600);
  std::error_code ec;
  fs::rename(tmp, p, ec);
  if (ec) return Error{"cannot write " + p.string() + ": " + ec.message()};
  return {};
}

std::string keyPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

std::string certPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

Key parseKey(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

Cert parseCert(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

bool addExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  openssl::Ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

// A certificate for `key` with common name `cn`, signed by `issuerKey` (self-signed when `issuer` is null).
Result<Cert> makeCert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuerKey, bool ca,
                      long days) {
  Cert cert(X509_new());
  if (!cert) return Error{"X509_new failed"};
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509* issuerCert = issuer != nullptr ? issuer : cert.get();
  bool ok = true;
  if (ca) {
    ok = addExtension(cert.get(), issuerCert, NID_basic_constraints, "critical,CA:TRUE") &&
         addExtension(cert.get(), issuerCert, NID_key_usage,
                      "critical,keyCertSign,cRLSign,digitalSignature") &&
         addExtension(cert.get(), issuerCert, NID_subject_key_identifier, "hash");
  } else {
    ok = addExtension(cert.get(), issuerCert, NID_basic_constraints, "critical,CA:FALSE") &&
         addExtension(cert.get(), issuerCert, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
         addExtension(cert.get(), issuerCert, NID_ext_key_usage, "serverAuth") &&
         addExtension(cert.get(), issuerCert, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") &&
         addExtension(cert.get(), issuerCert, NID_authority_key_identifier, "keyid:always");
  }
  if (!ok) return Error{"cannot add the certificate extensions of " + cn};
  if (X509_sign(cert.get(), issuerKey, EVP_sha256()) == 0)
    return Error{"cannot sign the certificate of " + cn};
  return cert;
}

std::string randomToken() {
  unsigned char bytes[32];
  RAND_bytes(bytes, sizeof bytes);
  static const char hex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char b : bytes) {
    s += hex[b >> 4];
    s += hex[b & 15];
  }
  return s;
}

}  // namespace

Result<TlsMaterial> loadOrCreateTlsMaterial(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error{"cannot create " + dir.string() + ": " + ec.message()};
  const fs::path caCrt = dir / "ca.crt";
  const fs::path caKey = dir / "ca.key";
  const fs::path srvCrt = dir / "server.crt";
  const fs::path srvKey = dir / "server.key";
  const fs::path tokenFile = dir / "token";
  TlsMaterial m;

  Key ca;
  Cert caCert;
  if (fs::exists(caCrt) && fs::exists(caKey)) {
    auto crt = readFile(caCrt);
    auto key = readFile(caKey);
    if (!crt) return Error{crt.error()};
    if (!key) return Error{key.error()};
    ca = parseKey(*key);
    caCert = parseCert(*crt);
    if (!ca) return Error{caKey.string() + ": not a PEM private key"};
    if (!caCert) return Error{caCrt.string() + ": not a PEM certificate"};
    m.caPem = *crt;
  } else {
    ca = Key(EVP_EC_gen("P-256"));
    if (!ca) return Error{"cannot generate the CA key"};
    auto cert = makeCert(ca.get(), "sluice-ca", nullptr, ca.get(), true, 3650);
    if (!cert) return Error{cert.error()};
    caCert = std::move(cert).value();
    m.caPem = certPem(caCert.get());
    if (auto st = writeFile(caKey, keyPem(ca.get()), true); !st) return Error{st.error()};
    if (auto st = writeFile(caCrt, m.caPem, false); !st) return Error{st.error()};
    fs::remove(srvCrt, ec);  // a new CA needs a new serving certificate
  }

  if (fs::exists(srvCrt) && fs::exists(srvKey)) {
    auto crt = readFile(srvCrt);
    auto key = readFile(srvKey);
    if (!crt) return Error{crt.error()};
    if (!key) return Error{key.error()};
    if (!parseCert(*crt)) return Error{srvCrt.string() + ": not a PEM certificate"};
    if (!parseKey(*key)) return Error{srvKey.string() + ": not a PEM private key"};
    m.certPem = *crt;
    m.keyPem = *key;
  } else {
    Key key(EVP_EC_gen("P-256"));
    if (!key) return Error{"cannot generate the serving key"};
    auto cert = makeCert(key.get(), "sluice-apiserver", caCert.get(), ca.get(), false, 365);
    if (!cert) return Error{cert.error()};
    m.certPem = certPem(cert->get());
    m.keyPem = keyPem(key.get());
    if (auto st = writeFile(srvKey, m.keyPem, true); !st) return Error{st.error()};
    if (auto st = writeFile(srvCrt, m.certPem, false); !st) return Error{st.error()};
  }

  if (fs::exists(tokenFile)) {
    auto t = readFile(tokenFile);
    if (!t) return Error{t.error()};
    m.token = *t;
    while (!m.token.empty() && (m.token.back() == '\n' || m.token.back() == '\r')) m.token.pop_back();
    if (m.token.empty()) return Error{tokenFile.string() + " is empty"};
  } else {
    m.token = randomToken();
    if (auto st = writeFile(tokenFile, m.token + "\n", true); !st) return Error{st.error()};
  }
  return m;
}

Result<fs::path> writeKubeconfig(const fs::path& dir, const TlsMaterial& tls, int port) {
  std::string text =
      "apiVersion: v1\nkind: Config\nclusters:\n- name: sluice\n  cluster:\n    server: https://127.0.0.1:" +
      std::to_string(port) + "\n    certificate-authority-data: " + sluice::base64Encode(tls.caPem) +
      "\nusers:\n- name: sluice-admin\n  user:\n    token: " + tls.token +
      "\ncontexts:\n- name: sluice\n  context:\n    cluster: sluice\n    user: sluice-admin\n"
      "    namespace: default\ncurrent-context: sluice\npreferences: {}\n";
  fs::path p = dir / "kubeconfig";
  if (auto st = writeFile(p, text, true); !st) return Error{st.error()};
  return p;
}

}  // namespace sluice::apiserver
