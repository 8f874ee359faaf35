// The controller manager: runs the groups of reconcilers chosen by `--controllers` (controller/
// reconciler_group.h; the Rollout group is controller/rollout_group.h): starts their caches, runs their
// queues' workers, and elects a leader (only the leader's workers run; a standby keeps its caches warm).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "controller/reconcile_outcome.h"
#include "traffic/router_options.h"

namespace sluice::kube {
class Client;
}
namespace sluice::analysis {
class Provider;
}

namespace sluice::controller {

class Metrics;

// The groups of reconcilers the manager can run (`--controllers`): "rollouts" (Rollouts and their
// AnalysisRuns) and "gitops" (GitRepositories, Kustomizations and Receivers).
const std::vector<std::string>& controllerGroupNames();

struct ManagerOptions {
  std::vector<std::string> controllers;  // the groups to run (controllerGroupNames()); empty: all
  std::string ns;                        // watch this namespace only; empty: all
  int workers = 4;                       // Rollout workers
  int analysisWorkers = 4;               // AnalysisRun workers (the measurement pool)
  int sourceWorkers = 2;                 // GitRepository workers (fetches), as Flux's source-controller
  int kustomizationWorkers = 4;          // Kustomization workers, as Flux's kustomize-controller
  std::string storagePath;      // the sources' git caches and artifacts; empty: a temporary directory
  std::string kustomizeBinary;  // empty: `kustomize` on PATH, else `kubectl kustomize`
  // Flux's --default-service-account: what a Kustomization without spec.serviceAccountName impersonates
  // (in its namespace); empty: it applies as the controller.
  std::string defaultServiceAccount;
  // HOST:PORT (":PORT" every interface, port 0 any free one) of the Receivers' webhook server, run with
  // the gitops group on every replica (a standby's deliveries are seen by the leader through its watch);
  // empty: none.
  std::string webhookAddr;
  bool leaderElect = true;
  std::string leaseNamespace = "sluice-system";
  std::string leaseName = "sluice-controller";
  std::string identity;                            // this replica among candidates; empty: hostname_pid
  std::chrono::milliseconds leaseDuration{15000};  // as client-go's defaults
  std::chrono::milliseconds renewDeadline{10000};
  std::chrono::milliseconds retryPeriod{2000};
  std::chrono::milliseconds resyncPeriod{std::chrono::minutes(10)};
  std::string fieldManager = "sluice-controller";
  traffic::RouterOptions router;  // the versions the traffic routers write (TrafficSplits), and watch
  Metrics* metrics = nullptr;     // fed and given the caches to read; must outlive the manager
  // Called after every reconcile with its queue ("rollouts" or "analysisruns") and its duration: for
  // measurements finer than the histograms' Argo buckets (all under 10 ms fall in one). Thread-safe.
  std::function<void(const std::string& queue, std::chrono::steady_clock::duration)> onReconcile;
};

class Manager {
 public:
  // `client` and `provider` must outlive the manager.
  // `clock`: the decisions' wall time, the queues' delays and the Lease's expiry (tests pass their own).
  Manager(kube::Client& client, analysis::Provider& provider, ManagerOptions options,
          const Clock& clock = realClock());
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Starts the informers, waits until they synced (an error after `syncTimeout`), then runs the
  // workers (at once, or once this replica leads). Returns once started; stop() ends it. A stop() from
  // another thread while the caches sync makes it return an error at once.
  Status start(std::chrono::milliseconds syncTimeout = std::chrono::seconds(60));
  // Stops taking work, lets the reconciles in flight finish, releases the Lease, stops the informers.
  // Idempotent.
  void stop();

  bool synced() const;   // every cache holds its first list
  bool leading() const;  // the workers run (always true without leader election, once started)
  // The port the webhook server listens on once start() returned; 0 when there is none.
  int webhookPort() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::controller
