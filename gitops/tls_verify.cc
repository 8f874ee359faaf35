// Server certificate checks on OpenSSL (see tls_verify.h).
#include "gitops/tls_verify.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <vector>

#include "base/openssl_ptr.h"

namespace sluice::gitops {

namespace {

using Bio = openssl::Ptr<BIO>;
using Cert = openssl::Ptr<X509>;

std::string openSslReason() {
  const unsigned long e = ERR_peek_last_error();
  const char* reason = e ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return reason ? reason : "unknown error";
}

// The certificates of a PEM bundle, in order; an error names the first that does not parse.
Result<std::vector<Cert>> readBundle(const std::string& pem) {
  ERR_clear_error();
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<Cert> certs;
  while (true) {
    Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert) {
      certs.push_back(std::move(cert));
      continue;
    }
    const unsigned long e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
      ERR_clear_error();  // the end of the bundle
      break;
    }
    return Error{"certificate " + std::to_string(certs.size() + 1) + " does not parse: " + openSslReason()};
  }
  if (certs.empty()) return Error{"no PEM certificate (-----BEGIN CERTIFICATE-----) in it"};
  return certs;
}

std::string nameOf(const X509_NAME* name) {
  Bio bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

// An ASN.1 time, or now, as Go prints it in certificate errors (RFC 3339, UTC).
std::string rfc3339(const ASN1_TIME* t) {
  std::tm tm{};
  if (t) {
    if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  } else {
    const std::time_t now = std::time(nullptr);
    gmtime_r(&now, &tm);
  }
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool isIpLiteral(const std::string& host) {
  unsigned char addr[16];
  return inet_pton(AF_INET, host.c_str(), addr) == 1 || inet_pton(AF_INET6, host.c_str(), addr) == 1;
}

// The DNS names or the IP addresses of the certificate's subjectAltName, comma-separated.
std::string altNames(X509* cert, bool ips) {
  openssl::Ptr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  std::string out;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    std::string one;
    if (!ips && n->type == GEN_DNS) {
      const ASN1_STRING* s = n->d.dNSName;
      one.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                 static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (ips && n->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = n->d.iPAddress;
      char buf[INET6_ADDRSTRLEN] = {};
      const int len = ASN1_STRING_length(s);
      if ((len == 4 || len == 16) &&
          inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), buf, sizeof buf))
        one = buf;
    }
    if (one.empty()) continue;
    if (!out.empty()) out += ", ";
    out += one;
  }
  return out;
}

std::optional<CertificateProblem> checkValidity(X509* cert, const std::string& issuer) {
  using K = CertificateProblem::Kind;
  const ASN1_TIME* notBefore = X509_get0_notBefore(cert);
  const ASN1_TIME* notAfter = X509_get0_notAfter(cert);
  const std::string prefix =
      "x509: certificate has expired or is not yet valid: current time " + rfc3339(nullptr);
  if (X509_cmp_current_time(notBefore) > 0)
    return CertificateProblem{K::Expired, prefix + " is before " + rfc3339(notBefore), issuer};
  if (X509_cmp_current_time(notAfter) < 0)
    return CertificateProblem{K::Expired, prefix + " is after " + rfc3339(notAfter), issuer};
  return std::nullopt;
}

std::optional<CertificateProblem> checkHost(X509* cert, const std::string& host, const std::string& issuer) {
  using K = CertificateProblem::Kind;
  if (isIpLiteral(host)) {
    if (X509_check_ip_asc(cert, host.c_str(), 0) == 1) return std::nullopt;
    const std::string valid = altNames(cert, true);
    if (valid.empty())
      return CertificateProblem{
          K::HostMismatch,
          "x509: cannot validate certificate for " + host + " because it doesn't contain any IP SANs",
          issuer};
    return CertificateProblem{K::HostMismatch, "x509: certificate is valid for " + valid + ", not " + host,
                              issuer};
  }
  const unsigned int flags = X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
  if (X509_check_host(cert, host.c_str(), host.size(), flags, nullptr) == 1) return std::nullopt;
  const bool hasAltNames = X509_get_ext_by_NID(cert, NID_subject_alt_name, -1) >= 0;
  if (!hasAltNames && X509_check_host(cert, host.c_str(), host.size(), 0, nullptr) == 1)
    return CertificateProblem{
        K::HostMismatch, "x509: certificate relies on legacy Common Name field, use SANs instead", issuer};
  const std::string valid = altNames(cert, false);
  if (valid.empty())
    return CertificateProblem{
        K::HostMismatch, "x509: certificate is not valid for any names, but wanted to match " + host, issuer};
  return CertificateProblem{K::HostMismatch, "x509: certificate is valid for " + valid + ", not " + host,
                            issuer};
}

std::optional<CertificateProblem> checkChain(X509* cert, const std::vector<Cert>& cas,
                                             const std::string& issuer) {
  using K = CertificateProblem::Kind;
  openssl::Ptr<X509_STORE> store(X509_STORE_new());
  if (cas.empty()) {
    X509_STORE_set_default_paths(store.get());
  } else {
    for (const Cert& ca : cas) X509_STORE_add_cert(store.get(), ca.get());
    // Any certificate of ca.crt is a trust anchor, an intermediate too, as in Go's root pool.
    X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN);
  }
  openssl::Ptr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr) != 1)
    return CertificateProblem{K::Other, "x509: cannot set up the verification: " + openSslReason(), issuer};
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  const int ok = X509_verify_cert(ctx.get());
  const int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  if (ok == 1) return std::nullopt;
  switch (err) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED: {
      std::string message = "x509: certificate signed by unknown authority";
      // A trusted CA of the issuer's name that did not sign it (another CA made under the same name).
      for (const Cert& ca : cas) {
        if (X509_NAME_cmp(X509_get_subject_name(ca.get()), X509_get_issuer_name(cert)) == 0) {
          message += " (a trusted CA is named \"" + issuer + "\" but did not sign it)";
          break;
        }
      }
      return CertificateProblem{K::UnknownAuthority, message, issuer};
    }
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return CertificateProblem{
          K::Expired,
          "x509: certificate has expired or is not yet valid: the CA certificate \"" +
              nameOf(X509_get_subject_name(X509_STORE_CTX_get_current_cert(ctx.get()))) +
              "\" is outside its validity period",
          issuer};
    case X509_V_ERR_INVALID_PURPOSE:
      return CertificateProblem{K::Other, "x509: certificate specifies an incompatible key usage", issuer};
    default:
      return CertificateProblem{K::Other, std::string("x509: ") + X509_verify_cert_error_string(err), issuer};
  }
}

}  // namespace

Status checkCaBundle(const std::string& pem) {
  auto certs = readBundle(pem);
  if (!certs) return Error{certs.error()};
  return Status::Ok();
}

std::optional<CertificateProblem> verifyServerCertificate(std::string_view der, const std::string& caPem,
                                                          const std::string& host) {
  using K = CertificateProblem::Kind;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Cert cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) {
    ERR_clear_error();
    return CertificateProblem{K::Other, "x509: the server's certificate does not parse", ""};
  }
  std::vector<Cert> cas;
  if (!caPem.empty()) {
    auto bundle = readBundle(caPem);
    if (!bundle) return CertificateProblem{K::Other, "the CA certificates: " + bundle.error(), ""};
    cas = std::move(*bundle);
  }
  std::string name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
  const std::string issuer = nameOf(X509_get_issuer_name(cert.get()));
  if (auto problem = checkValidity(cert.get(), issuer)) return problem;
  if (auto problem = checkHost(cert.get(), name, issuer)) return problem;
  return checkChain(cert.get(), cas, issuer);
}

}  // namespace sluice::gitops
