// Checking an HTTPS git server's certificate as Flux does: valid now, issued for the host in the URL, and
// signed by one of the CA certificates of the GitRepository's Secret (`ca.crt`), or by the system's trust
// store when there are none. The messages are the ones Go's crypto/x509 gives, which Flux users know.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace sluice::gitops {

// Whether `pem` holds one or more PEM certificates and nothing else that fails to parse. The error says
// which certificate (1, 2, ...) is bad.
Status checkCaBundle(const std::string& pem);

struct CertificateProblem {
  enum class Kind {
    UnknownAuthority,  // no chain to a trusted CA (also: a CA of the same name that did not sign it)
    HostMismatch,      // the certificate names other hosts
    Expired,           // expired, or not valid yet
    Other,             // unparsable, a key usage not for a server, ...
  };
  Kind kind = Kind::Other;
  std::string message;  // "x509: certificate signed by unknown authority", ...
  std::string issuer;   // the certificate's issuer, RFC 2253 ("CN=Example CA,O=Example"); empty if unparsable
};

// Verifies a TLS server's certificate `der` (DER, as the TLS library received it) for `host` (a DNS name,
// or an IPv4 or IPv6 literal, with or without brackets) against the CA certificates in `caPem` (PEM; a
// CA in it is trusted even when it is an intermediate, as Go trusts any certificate of its root pool);
// with `caPem` empty, against the system's trust store. Checked in Go's order: validity period, host
// name (subjectAltName only, no common name fallback), chain. nullopt when trusted. Reads the clock and
// the system's trust store.
std::optional<CertificateProblem> verifyServerCertificate(std::string_view der, const std::string& caPem,
                                                          const std::string& host);

}  // namespace sluice::gitops
