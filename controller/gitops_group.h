// The GitOps reconcilers as one group of the manager (`--controllers gitops`): GitRepositories fetched
// into artifacts in the storage directory, Kustomizations built from those artifacts and applied, and
// Receivers given their webhook paths. A new artifact wakes the Kustomizations of its source, and a
// Kustomization's change wakes those that depend on it.
#pragma once

#include <memory>

#include "controller/manager.h"
#include "controller/reconciler_group.h"
#include "net/http_server.h"

namespace sluice::controller {

class GitOpsGroup : public ReconcilerGroup {
 public:
  // Everything must outlive the group.
  GitOpsGroup(kube::Client& client, const ManagerOptions& options, const Clock& clock);
  ~GitOpsGroup() override;
  GitOpsGroup(const GitOpsGroup&) = delete;
  GitOpsGroup& operator=(const GitOpsGroup&) = delete;

  void wire() override;
  void startCaches() override;
  std::vector<kube::Informer*> requiredCaches() override;
  bool synced() const override;
  std::vector<QueueWork> queues() override;
  void stopCaches() override;

  // The Receivers' webhook deliveries (controller/receiver_webhook.h), for the server of --webhook-addr;
  // valid while the group lives.
  net::HttpRequestHandler webhookHandler();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::controller
