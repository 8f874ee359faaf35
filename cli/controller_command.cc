// `sluice controller`: runs the Rollout and AnalysisRun controllers against a cluster until SIGTERM or
// SIGINT, then stops taking work, finishes the reconciles in flight, releases the Lease and exits 0.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <thread>
#include <tuple>
#include <vector>

#include "analysis/providers/providers.h"
#include "base/duration_millis.h"
#include "cli/commands.h"
#include "cli/kube_access.h"
#include "cli/stop_signals.h"
#include "controller/http_server.h"
#include "controller/log.h"
#include "controller/manager.h"
#include "controller/metrics.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "traffic/router_options.h"

namespace sluice::cli {

namespace {

struct ControllerFlags {
  std::string kubeconfig;
  std::string context;
  std::string ns;
  int workers = 4;
  int analysisWorkers = 4;
  int sourceWorkers = 2;
  int kustomizationWorkers = 4;
  std::string storagePath;
  std::string kustomizeBinary;
  std::string defaultServiceAccount;
  double qps = 40;
  int burst = 80;
  bool leaderElect = true;
  std::string leaseNamespace;
  std::string leaseDuration = "15s", renewDeadline = "10s", retryPeriod = "2s";
  std::string logFormat = "text";
  std::string metricsAddr = ":8090";
  std::string healthAddr = ":8080";
  std::string webhookAddr = ":9292";
  std::string trafficSplitVersion = traffic::kDefaultTrafficSplitVersion;
  std::string traefikApiGroup = traffic::kDefaultTraefikApiGroup;
  std::string ambassadorVersion = traffic::kDefaultAmbassadorVersion;
  std::vector<std::string> controllers;
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

void addControllerCommand(CLI::App& app, int& exitCode) {
  auto* cmd = app.add_subcommand(
      "controller",
      "Run the Rollout and AnalysisRun controllers against the cluster of --kubeconfig, $KUBECONFIG,\n"
      "~/.kube/config, or the in-cluster configuration in a pod.");
  auto flags = std::make_shared<ControllerFlags>();
  cmd->add_option("--kubeconfig", flags->kubeconfig, "Path to the kubeconfig file");
  cmd->add_option("--context", flags->context, "The kubeconfig context to use");
  cmd->add_option("--namespace", flags->ns, "Watch this namespace only (default: all namespaces)");
  cmd->add_option("--workers", flags->workers, "Rollout reconcile workers")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--analysis-workers", flags->analysisWorkers,
                  "AnalysisRun workers (they take the measurements)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--qps", flags->qps, "Client-side rate limit on API requests per second")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--burst", flags->burst, "Burst above --qps")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--leader-elect", flags->leaderElect,
                  "Run only while holding the Lease sluice-controller (two or more replicas: one works)")
      ->capture_default_str();
  cmd->add_option("--leader-election-namespace", flags->leaseNamespace,
                  "Namespace of the Lease (default: the pod's namespace, else sluice-system)");
  cmd->add_option("--leader-election-lease-duration", flags->leaseDuration,
                  "How long a standby waits after the last renewal before it takes the Lease")
      ->capture_default_str();
  cmd->add_option("--leader-election-renew-deadline", flags->renewDeadline,
                  "How long the leader keeps trying to renew before it gives up leading")
      ->capture_default_str();
  cmd->add_option("--leader-election-retry-period", flags->retryPeriod, "How often candidates try the Lease")
      ->capture_default_str();
  cmd->add_option("--log-format", flags->logFormat, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_option("--metrics-addr", flags->metricsAddr, "HOST:PORT of /metrics (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--health-addr", flags->healthAddr,
                  "HOST:PORT of /healthz and /readyz (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--webhook-addr", flags->webhookAddr,
                  "HOST:PORT of the Receivers' webhook server (port 0: any free port; empty: none; with the\n"
                  "gitops controllers)")
      ->capture_default_str();
  cmd->add_option("--traffic-split-api-version", flags->trafficSplitVersion,
                  "The version of split.smi-spec.io the SMI router writes and watches TrafficSplits at\n"
                  "(as Argo Rollouts' flag; v1alpha1 weights are quantities, the later ones integers)")
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(traffic::kTrafficSplitVersions),
                                                     std::end(traffic::kTrafficSplitVersions))))
      ->capture_default_str();
  cmd->add_option("--traefik-api-group", flags->traefikApiGroup,
                  "The group of Traefik's TraefikServices the traefik router patches and watches (as Argo\n"
                  "Rollouts' flag; Traefik 3 serves traefik.io only)")
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(traffic::kTraefikApiGroups),
                                                     std::end(traffic::kTraefikApiGroups))))
      ->capture_default_str();
  cmd->add_option(
         "--ambassador-api-version", flags->ambassadorVersion,
         "The apiVersion of Ambassador's Mappings the ambassador router writes and watches (as Argo\n"
         "Rollouts' flag)")
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(traffic::kAmbassadorVersions),
                                                     std::end(traffic::kAmbassadorVersions))))
      ->capture_default_str();
  cmd->add_option("--source-workers", flags->sourceWorkers, "GitRepository reconcile workers (fetches)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--kustomization-workers", flags->kustomizationWorkers, "Kustomization reconcile workers")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--storage-path", flags->storagePath,
                  "Where the GitRepositories' git caches and artifacts are kept (default: "
                  "$XDG_CACHE_HOME/sluice/storage or ~/.cache/sluice/storage)");
  cmd->add_option("--kustomize-binary", flags->kustomizeBinary,
                  "The kustomize that builds Kustomizations: a path, or a name on PATH (default: `kustomize` "
                  "when on PATH, else `kubectl kustomize`)");
  cmd->add_option("--default-service-account", flags->defaultServiceAccount,
                  "The service account a Kustomization without spec.serviceAccountName impersonates, in its\n"
                  "own namespace (as Flux's flag; for multi-tenancy lockdown). Default: none, such a\n"
                  "Kustomization applies with the controller's own permissions");
  cmd->add_option("--controllers", flags->controllers,
                  "The groups of controllers to run, comma-separated (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember(controller::controllerGroupNames()));
  cmd->callback([&exitCode, flags] {
    controller::configureLog(flags->logFormat == "json" ? controller::LogFormat::Json
                                                        : controller::LogFormat::Text);
    controller::ManagerOptions options;
    for (auto [flag, text, into] :
         {std::tuple{"--leader-election-lease-duration", &flags->leaseDuration, &options.leaseDuration},
          std::tuple{"--leader-election-renew-deadline", &flags->renewDeadline, &options.renewDeadline},
          std::tuple{"--leader-election-retry-period", &flags->retryPeriod, &options.retryPeriod}}) {
      auto parsed = parseDurationMillis(*text);
      if (!parsed) {
        std::cerr << "sluice controller: " << flag << ": " << parsed.error() << "\n";
        exitCode = kExitInvalidInput;
        return;
      }
      *into = *parsed;
    }
    if (options.renewDeadline >= options.leaseDuration || options.retryPeriod >= options.renewDeadline) {
      std::cerr
          << "sluice controller: the leader election needs retry period < renew deadline < lease duration\n";
      exitCode = kExitInvalidInput;
      return;
    }
    KubeFlags kube;
    kube.kubeconfig = flags->kubeconfig;
    kube.context = flags->context;
    auto config = resolveClientConfig(kube);
    if (!config) {
      std::cerr << "sluice controller: " << config.error() << "\n";
      exitCode = kExitInvalidInput;
      return;
    }
    kube::ClientOptions clientOptions;
    clientOptions.qps = flags->qps;
    clientOptions.burst = flags->burst;
    clientOptions.userAgent = "sluice-controller";
    controller::Metrics metrics;
    clientOptions.onRequest = [&metrics](const kube::RequestRecord& r) { metrics.countRequest(r); };
    auto client = kube::Client::create(*config, clientOptions);
    if (!client) {
      std::cerr << "sluice controller: " << client.error() << "\n";
      exitCode = kExitInvalidInput;
      return;
    }
    // Signals are taken synchronously below, so no worker thread may receive them.
    const StopSignals signals;

    options.controllers = flags->controllers;
    options.sourceWorkers = flags->sourceWorkers;
    options.kustomizationWorkers = flags->kustomizationWorkers;
    options.storagePath = !flags->storagePath.empty()      ? flags->storagePath
                          : !env("XDG_CACHE_HOME").empty() ? env("XDG_CACHE_HOME") + "/sluice/storage"
                          : !env("HOME").empty()           ? env("HOME") + "/.cache/sluice/storage"
                                                           : "sluice-storage";
    options.kustomizeBinary = flags->kustomizeBinary;
    options.defaultServiceAccount = flags->defaultServiceAccount;
    options.webhookAddr = flags->webhookAddr;
    options.ns = flags->ns;
    options.workers = flags->workers;
    options.analysisWorkers = flags->analysisWorkers;
    options.leaderElect = flags->leaderElect;
    options.leaseNamespace = !flags->leaseNamespace.empty()  ? flags->leaseNamespace
                             : !env("POD_NAMESPACE").empty() ? env("POD_NAMESPACE")
                                                             : "sluice-system";
    options.metrics = &metrics;
    options.router.trafficSplitVersion = flags->trafficSplitVersion;
    options.router.traefikApiGroup = flags->traefikApiGroup;
    options.router.ambassadorVersion = flags->ambassadorVersion;
    auto provider = analysis::makeProvider();
    controller::Manager manager(**client, *provider, options);
    // Served before the caches sync, so that /readyz can say why it is not ready yet.
    auto metricsServer = controller::HttpServer::start("--metrics-addr", flags->metricsAddr,
                                                       controller::metricsHandler(metrics));
    auto healthServer =
        controller::HttpServer::start("--health-addr", flags->healthAddr, controller::healthHandler(manager));
    for (const auto* server : {&metricsServer, &healthServer}) {
      if (!*server) {
        std::cerr << "sluice controller: " << server->error() << "\n";
        exitCode = kExitInvalidInput;
        return;
      }
    }
    controller::log(controller::LogLevel::Info, "",
                    "serving /metrics on port " + std::to_string((*metricsServer)->port()) +
                        ", /healthz and /readyz on port " + std::to_string((*healthServer)->port()));
    // SIGTERM is honoured at any moment, the cache sync included: a pod being deleted while its API server
    // is unreachable exits at once, not after the sync timeout.
    std::atomic<bool> startFailed{false}, signalled{false};
    std::thread stopper([&] {
      signals.wait();
      if (startFailed) return;  // woken by the failed start below: nothing to stop
      signalled = true;
      controller::log(controller::LogLevel::Info, "", "stopping: finishing the reconciles in flight");
      manager.stop();
    });
    if (Status s = manager.start(); !s && !signalled) {
      controller::log(controller::LogLevel::Error, "", s.error());
      startFailed = true;
      signals.wake();
      stopper.join();
      manager.stop();
      exitCode = kExitFailure;
      return;
    }
    if (const int port = manager.webhookPort(); port != 0)
      controller::log(controller::LogLevel::Info, "",
                      "serving the Receivers' webhooks on port " + std::to_string(port));
    stopper.join();
    controller::log(controller::LogLevel::Info, "", "stopped");
    exitCode = kExitOk;
  });
}

}  // namespace sluice::cli
