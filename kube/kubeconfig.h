// Where the Kubernetes client connects and with which credentials: kubeconfig files (merged from
// KUBECONFIG with kubectl's rules, --kubeconfig, --context, --namespace) or the in-cluster service
// account. Reads files only; no network, no plugin runs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/time.h"

namespace sluice::kube {

// An exec credential plugin entry (users[].user.exec), client.authentication.k8s.io/v1 or v1beta1.
struct ExecConfig {
  std::string apiVersion;
  std::string command;  // a relative command containing '/' is resolved against the kubeconfig's directory
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string interactiveMode;  // Never | IfAvailable | Always (v1beta1 defaults to IfAvailable)
  bool provideClusterInfo = false;
  std::string installHint;
};

// Acting as another user (client-go's rest.ImpersonationConfig): sent as the Impersonate-User and one
// Impersonate-Group header per group; the server authorizes the request as that user. Empty `user`:
// requests go as the authenticated user itself.
struct Impersonation {
  std::string user;                 // "system:serviceaccount:team-a:deployer", "alice"
  std::vector<std::string> groups;  // only with `user`
  std::string uid;                  // Impersonate-Uid; only with `user`
  bool empty() const { return user.empty(); }
  bool operator==(const Impersonation&) const = default;
};

// Everything a request needs to reach one API server as one user.
struct ClientConfig {
  std::string server;  // "https://host:port" (a server given without a scheme gets https://)
  std::string tlsServerName;
  bool insecureSkipTLSVerify = false;
  std::string caFile;                          // absolute path, or empty
  std::string caData;                          // PEM, decoded from certificate-authority-data
  std::string clientCertFile, clientCertData;  // file path, or PEM
  std::string clientKeyFile, clientKeyData;
  std::string token;      // static bearer token
  std::string tokenFile;  // re-read by the client (at most once a minute); `token` is its fallback
  std::optional<ExecConfig> exec;
  Impersonation impersonate;   // users[].user.as / as-groups / as-uid
  std::string ns = "default";  // the namespace requests default to
  std::string contextName, clusterName, userName;
  // Notes for the person running the command (e.g. credentials withheld over plain http).
  std::vector<std::string> warnings;

  // Whether any credential (token, token file, client certificate, exec plugin) is configured.
  bool hasCredentials() const;
};

// A merged kubeconfig: entries by name, with relative paths already resolved.
struct Kubeconfig {
  struct Cluster {
    std::string server, tlsServerName, caFile, caData;
    bool insecureSkipTLSVerify = false;
  };
  struct User {
    std::string clientCertFile, clientCertData, clientKeyFile, clientKeyData, token, tokenFile;
    std::string username, password;
    std::optional<ExecConfig> exec;
    Impersonation impersonate;  // as, as-groups, as-uid
  };
  struct Context {
    std::string cluster, user, ns;
  };
  std::map<std::string, Cluster> clusters;
  std::map<std::string, User> users;
  std::map<std::string, Context> contexts;
  std::string currentContext;
  std::vector<std::string> files;  // the files read, in precedence order
};

// Reads and merges kubeconfig files in precedence order, as kubectl merges KUBECONFIG: for each
// cluster, user or context name the first file that defines it wins entirely; current-context comes
// from the first file that sets it. Relative file paths (certificate-authority, client-certificate,
// client-key, tokenFile, an exec command with a '/') are resolved against the directory of the file
// that holds them; *-data fields are base64-decoded. Files that do not exist are skipped when
// `skipMissing` (KUBECONFIG entries), an error otherwise (--kubeconfig). Errors name the file and the
// entry: `/home/me/.kube/config: users[alice].user.client-key-data: invalid base64`. Blocks on file
// reads; thread-safe.
Result<Kubeconfig> loadKubeconfigFiles(const std::vector<std::string>& paths, bool skipMissing);

// What the user asked for on the command line and in the environment (passed in, not read here, so
// tests control them).
struct KubeconfigOptions {
  std::string kubeconfigFlag;  // --kubeconfig: exactly this file
  std::string kubeconfigEnv;   // $KUBECONFIG: ':'-separated, merged
  std::string home;            // $HOME: ~/.kube/config when neither of the above is set
  std::string context;         // --context: overrides current-context
  std::string ns;              // -n/--namespace: overrides the context's namespace
};

// Resolves the connection from kubeconfig files: which files (--kubeconfig, else KUBECONFIG, else
// ~/.kube/config), which context, and the cluster and user it names. Checked as client-go checks it:
// a missing context, cluster or user; a cluster without a server; a CA together with
// insecure-skip-tls-verify; a client certificate without a key (or the reverse); token together with
// basic auth; an exec entry without command or apiVersion, or a v1 one without interactiveMode. Over
// a plain http:// server no credentials are used, as kubectl does: they are cleared and a warning
// says so. Blocks on file reads; thread-safe.
Result<ClientConfig> loadClientConfig(const KubeconfigOptions& options);

// Resolves a context of an already merged kubeconfig (the second half of loadClientConfig). Pure.
Result<ClientConfig> clientConfigFor(const Kubeconfig& config, const std::string& contextOverride,
                                     const std::string& nsOverride);

// Where in-cluster configuration comes from; fromEnvironment() reads the real values.
struct InClusterOptions {
  std::string serviceHost;   // $KUBERNETES_SERVICE_HOST
  std::string servicePort;   // $KUBERNETES_SERVICE_PORT
  std::string podNamespace;  // $POD_NAMESPACE
  std::string serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

  static InClusterOptions fromEnvironment();
};

// The in-cluster configuration, as client-go's InClusterConfig: server https://HOST:PORT (an IPv6 host
// bracketed), the service account token file (which must be readable; the client re-reads it as it
// rotates), its ca.crt, and the namespace from POD_NAMESPACE, else the service account's namespace
// file, else "default". An error when HOST or PORT is unset or the token cannot be read. Blocks on file
// reads; thread-safe.
Result<ClientConfig> inClusterConfig(const InClusterOptions& options);

// What an exec credential plugin printed on stdout (an ExecCredential), checked as client-go checks it.
struct ExecCredential {
  std::string token;                                 // a bearer token, or
  std::string clientCertificateData, clientKeyData;  // a PEM pair (not base64)
  std::optional<Time> expirationTimestamp;           // reuse the credential until then; none: until a 401
};

// Parses a plugin's stdout. Errors, worded as client-go's: not JSON ("decoding stdout: ..."), an
// apiVersion other than the configured one, no status, neither a token nor a certificate pair, only one
// of certificate and key, a malformed expirationTimestamp. Pure, thread-safe.
Result<ExecCredential> parseExecCredential(std::string_view stdoutText,
                                           std::string_view configuredApiVersion);

// The token a request should carry now: the token file's content (trimmed) when tokenFile is set and
// readable, else the static token; empty when neither. Blocks on a file read.
std::string currentBearerToken(const ClientConfig& config);

}  // namespace sluice::kube
