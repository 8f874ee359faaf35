// `sluice cluster`: runs the embedded Kubernetes API server until SIGINT or SIGTERM.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "base/duration_millis.h"
#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "kube/apiserver/server.h"

namespace sluice::cli {

void addClusterCommand(CLI::App& app, int& exitCode) {
  auto* cmd = app.add_subcommand(
      "cluster",
      "Run the embedded Kubernetes API server: HTTPS on 127.0.0.1 with a generated CA and admin token, "
      "objects\n"
      "stored in SQLite under --data-dir. Restarting on the same directory resumes with every object.");
  auto dataDir = std::make_shared<std::string>();
  auto port = std::make_shared<int>(6443);
  auto podReadyAfter = std::make_shared<std::string>("2s");
  auto trafficMetricsAddr = std::make_shared<std::string>();
  auto trafficRps = std::make_shared<double>(50);
  cmd->add_option("--data-dir", *dataDir, "Directory for the database, certificates, token and kubeconfig")
      ->required();
  cmd->add_option("--port", *port, "Port on 127.0.0.1 (0: any free port)")->check(CLI::Range(0, 65535));
  cmd->add_option("--pod-ready-after", *podReadyAfter,
                  "How long a new pod takes to become ready (\"300ms\", \"5s\"); "
                  "a pod's cluster.sluice.dev/ready-after annotation overrides it")
      ->capture_default_str();
  cmd->add_option("--traffic-metrics-addr", *trafficMetricsAddr,
                  "Also run the simulated data plane: synthetic requests through the Ingresses, "
                  "VirtualServices,\nTrafficSplits and HTTPRoutes in force and to every other Service, "
                  "counted as ingress-nginx and Istio\ncount them, on http://HOST:PORT/metrics "
                  "(\"127.0.0.1:9101\"; \":PORT\" every interface; port 0: any free one)");
  cmd->add_option("--traffic-rps", *trafficRps,
                  "The data plane's requests a second per routed host and per Service no route leads to "
                  "(an object's\ncluster.sluice.dev/requests-per-second annotation overrides it)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->callback([&exitCode, dataDir, port, podReadyAfter, trafficMetricsAddr, trafficRps] {
    auto readyAfter = parseDurationMillis(*podReadyAfter);
    if (!readyAfter) {
      std::cerr << "sluice cluster: --pod-ready-after: " << readyAfter.error() << "\n";
      exitCode = kExitInvalidInput;
      return;
    }
    // Signals are taken synchronously below, so the server's threads must not receive them.
    const StopSignals signals;
    apiserver::ServerOptions options;
    options.dataDir = *dataDir;
    options.port = *port;
    options.podReadyAfter = *readyAfter;
    if (!trafficMetricsAddr->empty()) options.trafficMetricsAddress = *trafficMetricsAddr;
    options.trafficRequestsPerSecond = *trafficRps;
    auto server = apiserver::ApiServer::start(options);
    if (!server) {
      std::cerr << "sluice cluster: " << server.error() << "\n";
      exitCode = kExitFailure;
      return;
    }
    std::cout << "sluice cluster: serving https://127.0.0.1:" << (*server)->port() << " with data in "
              << *dataDir
              << "\nPoint kubectl at it with:\n  export KUBECONFIG=" << (*server)->kubeconfigPath().string()
              << std::endl;
    if (!trafficMetricsAddr->empty()) {
      const std::string host = trafficMetricsAddr->substr(0, trafficMetricsAddr->rfind(':'));
      std::cout << "Data plane metrics: http://" << (host.empty() ? "127.0.0.1" : host) << ":"
                << (*server)->trafficMetricsPort() << "/metrics" << std::endl;
    }
    signals.wait();
    std::cout << "sluice cluster: stopping" << std::endl;
    (*server)->stop();
    exitCode = kExitOk;
  });
}

}  // namespace sluice::cli
