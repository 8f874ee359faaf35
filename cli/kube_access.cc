// kubectl's connection flags and the client they build, shared by the plugin's verbs and the controller.
#include "cli/kube_access.h"

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "base/duration_millis.h"
#include "kube/api_error.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"

namespace sluice::cli {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

KubeSession::KubeSession() = default;
KubeSession::KubeSession(KubeSession&&) noexcept = default;
KubeSession& KubeSession::operator=(KubeSession&&) noexcept = default;
KubeSession::~KubeSession() = default;

void addKubeFlags(CLI::App& cmd, KubeFlags& flags, bool listing) {
  cmd.add_option("--kubeconfig", flags.kubeconfig, "Path to the kubeconfig file to use");
  cmd.add_option("--context", flags.context, "The name of the kubeconfig context to use");
  cmd.add_option("-n,--namespace", flags.ns, "The namespace (default: the context's, else default)");
  if (listing) {
    cmd.add_flag("-A,--all-namespaces", flags.allNamespaces, "List across all namespaces");
  }
  cmd.add_option("--request-timeout", flags.requestTimeout,
                 "How long to wait for one server answer (1s, 2m; 0: no limit)")
      ->capture_default_str();
  cmd.add_option("--as", flags.as, "Username to impersonate for the operation (a user or a service account)");
  cmd.add_option("--as-group", flags.asGroups, "Group to impersonate for the operation (repeatable)");
}

namespace {

// The configuration from the kubeconfig files or the pod's service account, before --as.
Result<kube::ClientConfig> configFromFlags(const KubeFlags& flags) {
  if (flags.kubeconfig.empty() && env("KUBECONFIG").empty() && !env("KUBERNETES_SERVICE_HOST").empty()) {
    auto config = kube::inClusterConfig(kube::InClusterOptions::fromEnvironment());
    if (config && !flags.ns.empty()) config->ns = flags.ns;
    return config;
  }
  kube::KubeconfigOptions options;
  options.kubeconfigFlag = flags.kubeconfig;
  options.kubeconfigEnv = env("KUBECONFIG");
  options.home = env("HOME");
  options.context = flags.context;
  options.ns = flags.ns;
  return kube::loadClientConfig(options);
}

}  // namespace

Result<kube::ClientConfig> resolveClientConfig(const KubeFlags& flags) {
  auto config = configFromFlags(flags);
  if (!config) return config;
  // --as and --as-group replace the kubeconfig's own impersonation (users[].user.as), as kubectl's.
  if (flags.as.empty() && !flags.asGroups.empty())
    return Error{"--as-group needs --as (the user to impersonate)"};
  if (!flags.as.empty()) config->impersonate = kube::Impersonation{flags.as, flags.asGroups, ""};
  return config;
}

Result<KubeSession> connect(const KubeFlags& flags, std::string_view userAgent) {
  auto timeout = parseDurationMillis(flags.requestTimeout);
  if (!timeout) return Error{"--request-timeout: " + timeout.error()};
  auto config = resolveClientConfig(flags);
  if (!config) return Error{config.error()};
  kube::ClientOptions options;
  options.userAgent = std::string(userAgent);
  options.timeout = *timeout;  // 0: none, as kubectl's default
  // A person waits on the answer: fail fast rather than retry for half a minute.
  options.maxRetries = 2;
  // One command sends a handful of requests; the controller's rate limit would only add latency.
  options.qps = 100;
  options.burst = 200;
  KubeSession session;
  session.ns = flags.allNamespaces ? std::string() : config->ns;
  auto client = kube::Client::create(std::move(*config), options);
  if (!client) return Error{client.error()};
  session.client = std::move(*client);
  return session;
}

std::string kubectlError(const kube::ApiError& error) {
  switch (error.kind) {
    case kube::ApiErrorKind::kStatus:
      return "Error from server (" + (error.reason.empty() ? std::to_string(error.code) : error.reason) +
             "): " + error.message;
    case kube::ApiErrorKind::kTransport:
      return "Unable to connect to the server: " + error.message;
    case kube::ApiErrorKind::kClient:
      break;
  }
  return "error: " + error.message;
}

}  // namespace sluice::cli
