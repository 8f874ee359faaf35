// How the plugin's verbs reach a cluster: kubectl's connection flags (--kubeconfig, $KUBECONFIG,
// --context, -n, -A, --request-timeout, --as, --as-group), the client they build, and failures worded as
// kubectl words them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace CLI {
class App;
}
namespace sluice::kube {
class Client;
struct ApiError;
struct ClientConfig;
}  // namespace sluice::kube

namespace sluice::cli {

struct KubeFlags {
  std::string kubeconfig;
  std::string context;
  std::string ns;              // -n/--namespace; empty: the context's namespace, else "default"
  bool allNamespaces = false;  // -A/--all-namespaces (listing verbs only)
  std::string requestTimeout = "0";
  std::string as;                     // --as: impersonate this user (Impersonate-User)
  std::vector<std::string> asGroups;  // --as-group, repeatable; only with --as
};

// Adds kubectl's connection flags to `cmd`; `listing` adds -A/--all-namespaces too.
void addKubeFlags(CLI::App& cmd, KubeFlags& flags, bool listing = false);

// The client configuration as kubectl finds it: --kubeconfig, else $KUBECONFIG (a ':'-separated list,
// merged), else ~/.kube/config; or the in-cluster service account when the process runs in a pod and
// none of those is given. --context and -n override the kubeconfig's.
Result<kube::ClientConfig> resolveClientConfig(const KubeFlags& flags);

// A connected command: the client and the namespace it acts in ("" with --all-namespaces).
struct KubeSession {
  std::unique_ptr<kube::Client> client;
  std::string ns;
  KubeSession();
  KubeSession(KubeSession&&) noexcept;
  KubeSession& operator=(KubeSession&&) noexcept;
  ~KubeSession();
};

// Resolves the configuration and builds the client (no request is sent). The error is a sentence for
// stderr: a kubeconfig problem, an unparsable --request-timeout.
Result<KubeSession> connect(const KubeFlags& flags, std::string_view userAgent = "kubectl-sluice");

// A failed request as kubectl prints it: `Error from server (NotFound): rollouts.sluice.dev "web" not
// found` for a server's answer, `Unable to connect to the server: ...` when none came.
std::string kubectlError(const kube::ApiError& error);

}  // namespace sluice::cli
