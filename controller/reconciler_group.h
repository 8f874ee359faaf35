// A group of reconcilers that the manager runs (`sluice controller --controllers`): the caches they read,
// the work queues they take keys from, and the wiring from the caches' events to those keys. The manager
// starts the caches, waits until they synced, runs the queues' workers while this replica leads, and
// stops it all in order.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "controller/reconcile_outcome.h"

namespace sluice::kube {
class Informer;
class WorkQueue;
}  // namespace sluice::kube

namespace sluice::controller {

// One queue and the workers that drain it.
struct QueueWork {
  std::string name;  // the queue's name in logs and metrics ("rollouts", "gitrepositories", ...)
  kube::WorkQueue* queue = nullptr;
  int workers = 1;
  std::function<ReconcileOutcome(const std::string& key)> reconcile;
  // Told each reconcile's duration, and each key whose reconcile failed; either may be empty.
  std::function<void(std::chrono::steady_clock::duration)> observe;
  std::function<void(const std::string& key)> failed;
};

class ReconcilerGroup {
 public:
  virtual ~ReconcilerGroup() = default;

  // Registers the handlers that turn the caches' events into keys; called once, before startCaches().
  virtual void wire() = 0;
  virtual void startCaches() = 0;
  // The caches the group's workers need before they start (the manager waits until each synced).
  virtual std::vector<kube::Informer*> requiredCaches() = 0;
  virtual bool synced() const = 0;
  virtual std::vector<QueueWork> queues() = 0;
  // After the workers stopped: stops the caches and whatever else the group runs.
  virtual void stopCaches() = 0;
};

}  // namespace sluice::controller
