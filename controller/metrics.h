// The controller's Prometheus metrics under Argo Rollouts' names: bounded-label counters and histograms
// fed as the controller works, and per-object series computed at scrape time from the informer caches.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace sluice::kube {
class Informer;
class WorkQueueObserver;
struct RequestRecord;
}  // namespace sluice::kube

namespace sluice::controller {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // rollout_events_total{type,reason}.
  void countEvent(const std::string& type, const std::string& reason);
  // rollout_reconcile / analysis_run_reconcile (seconds).
  void observeRolloutReconcile(std::chrono::steady_clock::duration d);
  void observeAnalysisRunReconcile(std::chrono::steady_clock::duration d);
  // rollout_reconcile_error / analysis_run_reconcile_error{namespace,name}: a reconcile of `key`
  // ("namespace/name") failed and is retried. An object's count is shown while it is in the cache.
  enum class ReconcileKind { Rollout, AnalysisRun };
  void countReconcileError(ReconcileKind kind, const std::string& key);
  // controller_clientset_k8s_request_total{kind,verb,status_code}; a kube::ClientOptions::onRequest.
  void countRequest(const kube::RequestRecord& request);
  // The workqueue_* series of the queue `name`; lives as long as this object.
  kube::WorkQueueObserver& queue(const std::string& name);

  // The caches the per-object series are read from at scrape time, until unwatchCaches().
  void watchCaches(const kube::Informer* rollouts, const kube::Informer* analysisRuns);
  void unwatchCaches();

  // Every series in Prometheus' text exposition format. Thread-safe.
  std::string scrape() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::controller
