// The controller's metrics (see metrics.h): a prometheus-cpp registry for the bounded series, and a
// Collectable that reads the informer caches at scrape time for the per-object ones.
#include "controller/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <mutex>
#include <sstream>
#include <vector>

#include "controller/object_metrics.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/work_queue.h"

namespace sluice::controller {

namespace {

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The per-object series, from whatever the caches hold at the moment of the scrape.
class CacheCollector final : public prometheus::Collectable {
 public:
  void watch(const kube::Informer* rollouts, const kube::Informer* runs) {
    std::lock_guard lock(mu_);
    rollouts_ = rollouts;
    runs_ = runs;
  }

  void countError(Metrics::ReconcileKind kind, const std::string& key) {
    std::lock_guard lock(mu_);
    ++(kind == Metrics::ReconcileKind::Rollout ? rolloutErrors_ : runErrors_)[key];
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::lock_guard lock(mu_);
    std::vector<prometheus::MetricFamily> out;
    if (rollouts_ != nullptr) out = rolloutFamilies(rollouts_->list());
    if (runs_ != nullptr) {
      for (auto& f : analysisRunFamilies(runs_->list())) out.push_back(std::move(f));
    }
    out.push_back(errorFamily("rollout_reconcile_error", "Error occurring during the rollout reconcile.",
                              rolloutErrors_, rollouts_));
    out.push_back(errorFamily("analysis_run_reconcile_error",
                              "Error occurring during the analysis run reconcile.", runErrors_, runs_));
    return out;
  }

 private:
  // A reconcile error count per object, kept while the object is in the cache: a deleted object's series
  // goes with it, even when a reconcile that was under way when it went failed afterwards, and a new
  // object of the same name starts from zero. Without a cache (a standby) every count is shown.
  static prometheus::MetricFamily errorFamily(std::string name, std::string help,
                                              std::map<std::string, double>& counts,
                                              const kube::Informer* cache) {
    prometheus::MetricFamily family;
    family.name = std::move(name);
    family.help = std::move(help);
    family.type = prometheus::MetricType::Counter;
    for (auto it = counts.begin(); it != counts.end();) {
      if (cache != nullptr && cache->hasSynced() && !cache->get(it->first)) {
        it = counts.erase(it);
        continue;
      }
      const auto slash = it->first.find('/');
      prometheus::ClientMetric m;
      m.label = {{"namespace", slash == std::string::npos ? "" : it->first.substr(0, slash)},
                 {"name", slash == std::string::npos ? it->first : it->first.substr(slash + 1)}};
      m.counter.value = it->second;
      family.metric.push_back(std::move(m));
      ++it;
    }
    return family;
  }

  mutable std::mutex mu_;  // held through a scrape, so unwatch() waits for one in progress
  const kube::Informer* rollouts_ = nullptr;
  const kube::Informer* runs_ = nullptr;
  mutable std::map<std::string, double> rolloutErrors_;  // by "namespace/name"
  mutable std::map<std::string, double> runErrors_;
};

class QueueMetrics final : public kube::WorkQueueObserver {
 public:
  QueueMetrics(prometheus::Gauge& depth, prometheus::Counter& adds, prometheus::Histogram& latency,
               prometheus::Histogram& work, prometheus::Counter& retries)
      : depth_(depth), adds_(adds), latency_(latency), work_(work), retries_(retries) {}
  void added() override { adds_.Increment(); }
  void depthChanged(size_t depth) override { depth_.Set(static_cast<double>(depth)); }
  void taken(std::chrono::steady_clock::duration waited) override { latency_.Observe(seconds(waited)); }
  void finished(std::chrono::steady_clock::duration worked) override { work_.Observe(seconds(worked)); }
  void retried() override { retries_.Increment(); }

 private:
  prometheus::Gauge& depth_;
  prometheus::Counter& adds_;
  prometheus::Histogram& latency_;
  prometheus::Histogram& work_;
  prometheus::Counter& retries_;
};

// Argo's verb label for a request: the client-go verb the method and path stand for.
std::string verbOf(const kube::RequestRecord& r, bool named) {
  if (r.verb == "WATCH" || r.query.find("watch=true") != std::string::npos) return "Watch";
  if (r.verb == "GET") return named ? "Get" : "List";
  if (r.verb == "POST") return "Create";
  if (r.verb == "PUT") return "Update";
  if (r.verb == "PATCH") return "Patch";
  if (r.verb == "DELETE") return named ? "Delete" : "DeleteCollection";
  return r.verb;
}

// The resource a request path names ("/apis/apps/v1/namespaces/x/replicasets/y": "replicasets"), and
// whether it names one object. Discovery paths name none.
std::pair<std::string, bool> requestResource(const std::string& path) {
  std::vector<std::string> segs;
  std::stringstream in(path);
  for (std::string s; std::getline(in, s, '/');)
    if (!s.empty()) segs.push_back(s);
  size_t i = 0;
  if (!segs.empty() && segs[0] == "api")
    i = 2;  // /api/v1
  else if (!segs.empty() && segs[0] == "apis")
    i = 3;                                                     // /apis/group/version
  if (i + 2 < segs.size() && segs[i] == "namespaces") i += 2;  // namespaces/NS/resource
  if (i >= segs.size()) return {"", false};
  return {segs[i], i + 1 < segs.size()};
}

}  // namespace

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  CacheCollector cache;
  prometheus::Family<prometheus::Counter>& events =
      prometheus::BuildCounter()
          .Name("rollout_events_total")
          .Help("Count of the Kubernetes events the controller emitted, by type and reason.")
          .Register(*registry);
  prometheus::Histogram& rolloutReconcile = prometheus::BuildHistogram()
                                                .Name("rollout_reconcile")
                                                .Help("Duration of a Rollout reconcile, in seconds.")
                                                .Register(*registry)
                                                .Add({}, reconcileBuckets());
  prometheus::Histogram& runReconcile = prometheus::BuildHistogram()
                                            .Name("analysis_run_reconcile")
                                            .Help("Duration of an AnalysisRun reconcile, in seconds.")
                                            .Register(*registry)
                                            .Add({}, reconcileBuckets());
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("controller_clientset_k8s_request_total")
          .Help("Count of the requests to the Kubernetes API, by resource kind, verb and status code.")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& queueDepth = prometheus::BuildGauge()
                                                          .Name("workqueue_depth")
                                                          .Help("Current depth of the work queue.")
                                                          .Register(*registry);
  prometheus::Family<prometheus::Counter>& queueAdds = prometheus::BuildCounter()
                                                           .Name("workqueue_adds_total")
                                                           .Help("Total number of adds to the work queue.")
                                                           .Register(*registry);
  prometheus::Family<prometheus::Histogram>& queueLatency =
      prometheus::BuildHistogram()
          .Name("workqueue_queue_duration_seconds")
          .Help("How long a key stays in the work queue before a worker takes it, in seconds.")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& queueWork =
      prometheus::BuildHistogram()
          .Name("workqueue_work_duration_seconds")
          .Help("How long a worker holds a key, from taking it to done, in seconds.")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& queueRetries =
      prometheus::BuildCounter()
          .Name("workqueue_retries_total")
          .Help("Total number of retries (rate-limited re-adds) handled by the work queue.")
          .Register(*registry);
  std::mutex queuesMu;
  std::map<std::string, std::unique_ptr<QueueMetrics>> queues;

  // Argo's buckets for the reconcile histograms.
  static prometheus::Histogram::BucketBoundaries reconcileBuckets() { return {0.01, 0.15, 0.25, 0.5, 1}; }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::countEvent(const std::string& type, const std::string& reason) {
  impl_->events.Add({{"type", type}, {"reason", reason}}).Increment();
}

void Metrics::observeRolloutReconcile(std::chrono::steady_clock::duration d) {
  impl_->rolloutReconcile.Observe(seconds(d));
}

void Metrics::observeAnalysisRunReconcile(std::chrono::steady_clock::duration d) {
  impl_->runReconcile.Observe(seconds(d));
}

void Metrics::countReconcileError(ReconcileKind kind, const std::string& key) {
  impl_->cache.countError(kind, key);
}

void Metrics::countRequest(const kube::RequestRecord& request) {
  const auto [kind, named] = requestResource(request.path);
  impl_->requests
      .Add({{"kind", kind},
            {"verb", verbOf(request, named)},
            {"status_code", request.status == 0 ? "error" : std::to_string(request.status)}})
      .Increment();
}

kube::WorkQueueObserver& Metrics::queue(const std::string& name) {
  std::lock_guard lock(impl_->queuesMu);
  auto& q = impl_->queues[name];
  if (!q) {
    // client-go's buckets: 10 ns to 10 s by factors of ten.
    prometheus::Histogram::BucketBoundaries buckets;
    for (double b = 1e-8; buckets.size() < 10; b *= 10) buckets.push_back(b);
    q = std::make_unique<QueueMetrics>(
        impl_->queueDepth.Add({{"name", name}}), impl_->queueAdds.Add({{"name", name}}),
        impl_->queueLatency.Add({{"name", name}}, buckets), impl_->queueWork.Add({{"name", name}}, buckets),
        impl_->queueRetries.Add({{"name", name}}));
  }
  return *q;
}

void Metrics::watchCaches(const kube::Informer* rollouts, const kube::Informer* analysisRuns) {
  impl_->cache.watch(rollouts, analysisRuns);
}

void Metrics::unwatchCaches() { impl_->cache.watch(nullptr, nullptr); }

std::string Metrics::scrape() const {
  std::vector<prometheus::MetricFamily> families = impl_->registry->Collect();
  for (auto& f : impl_->cache.Collect()) families.push_back(std::move(f));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace sluice::controller
