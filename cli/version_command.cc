// `sluice version`: this binary's version and, when a cluster is reachable, the version of the controller
// that leads there (published on its leader-election Lease).
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "base/version.h"
#include "cli/commands.h"
#include "cli/kube_access.h"
#include "controller/resources.h"
#include "kube/client.h"

namespace sluice::cli {

namespace {

struct VersionFlags {
  KubeFlags kube;
  bool clientOnly = false;
  std::string controllerNamespace = "sluice-system";
  std::string lease = "sluice-controller";
};

// One line on the controller, for stdout; why it is unknown goes to stderr (the command still succeeds:
// the client's version is the answer asked for, the controller's an extra).
void printControllerVersion(const VersionFlags& flags) {
  auto session = connect(flags.kube);
  if (!session) {
    std::cerr << "controller: unknown (" << session.error() << ")\n";
    return;
  }
  kube::ResourceRef leases{"coordination.k8s.io", "v1", "leases", true, "Lease"};
  auto lease = session->client->get(leases, flags.controllerNamespace, flags.lease);
  if (!lease) {
    std::cerr << "controller: unknown (" << kubectlError(lease.error()) << ")\n";
    if (lease.error().isNotFound()) {
      std::cerr << "  a controller publishes its version on that Lease while it leads; one run with "
                   "--leader-elect=false publishes none\n";
    }
    return;
  }
  const auto& meta = (*lease)["metadata"];
  const std::string version =
      meta.value("annotations", nlohmann::json::object()).value(controller::kControllerVersionAnnotation, "");
  const std::string holder = (*lease)["spec"].value("holderIdentity", "");
  if (version.empty() || holder.empty()) {
    std::cerr << "controller: unknown (the Lease " << flags.controllerNamespace << "/" << flags.lease
              << " has no leader now)\n";
    return;
  }
  std::cout << "controller " << version << " (leader " << holder << ")\n";
}

}  // namespace

void addVersionCommand(CLI::App& app, int& exitCode) {
  auto* cmd = app.add_subcommand(
      "version", "Print the version of sluice, and of the controller leading in the cluster when reachable");
  auto flags = std::make_shared<VersionFlags>();
  cmd->add_flag("--client", flags->clientOnly, "Print this binary's version only (no cluster is contacted)");
  cmd->add_option("--controller-namespace", flags->controllerNamespace,
                  "Namespace of the controller's leader-election Lease")
      ->capture_default_str();
  flags->kube.requestTimeout = "5s";
  addKubeFlags(*cmd, flags->kube);
  cmd->callback([&exitCode, flags] {
    std::cout << "sluice " << SLUICE_VERSION << "\n";
    if (!flags->clientOnly) printControllerVersion(*flags);
    exitCode = kExitOk;
  });
}

}  // namespace sluice::cli
