// The Rollout reconcilers as one group of the manager (`--controllers rollouts`): the caches of Rollouts,
// ReplicaSets, Services, AnalysisRuns, the templates, Deployments and the routers' objects; the Rollout and
// AnalysisRun queues; and the wiring from every watched object to the Rollout that owns or uses it.
#pragma once

#include <memory>

#include "controller/manager.h"
#include "controller/reconciler_group.h"

namespace sluice::controller {

class RolloutGroup : public ReconcilerGroup {
 public:
  // Everything must outlive the group.
  RolloutGroup(kube::Client& client, analysis::Provider& provider, const ManagerOptions& options,
               const Clock& clock);
  ~RolloutGroup() override;
  RolloutGroup(const RolloutGroup&) = delete;
  RolloutGroup& operator=(const RolloutGroup&) = delete;

  void wire() override;
  void startCaches() override;
  std::vector<kube::Informer*> requiredCaches() override;
  bool synced() const override;
  std::vector<QueueWork> queues() override;
  void stopCaches() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::controller
