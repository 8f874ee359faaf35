// The Rollout reconcilers' group (see rollout_group.h).
#include "controller/rollout_group.h"

#include <array>
#include <functional>
#include <nlohmann/json.hpp>

#include "analysis/model.h"
#include "analysis/providers/job_provider.h"
#include "controller/analysis_run_reconciler.h"
#include "controller/experiment_reconciler.h"
#include "controller/metrics.h"
#include "controller/recent_writes.h"
#include "controller/resources.h"
#include "controller/rollout_reconciler.h"
#include "controller/traffic_objects.h"
#include "engine/rollout.h"
#include "kube/client.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/work_queue.h"

namespace sluice::controller {

using nlohmann::json;

namespace {

// The object of `kind` that controls `obj` ("namespace/name"), or empty.
std::string controllingOwner(const json& obj, const std::string& kind) {
  const json refs = obj.value(json::json_pointer("/metadata/ownerReferences"), json::array());
  if (!refs.is_array()) return "";
  for (const auto& ref : refs) {
    if (ref.is_object() && ref.value("kind", "") == kind && ref.value("controller", false))
      return obj["metadata"].value("namespace", "") + "/" + ref.value("name", "");
  }
  return "";
}

// The Rollout that controls `obj` ("namespace/name"), or empty.
std::string owningRollout(const json& obj) { return controllingOwner(obj, "Rollout"); }

kube::InformerOptions informerOptions(const ManagerOptions& options, const std::string& labelSelector = "") {
  kube::InformerOptions o;
  o.ns = options.ns;
  o.labelSelector = labelSelector;
  o.resyncPeriod = options.resyncPeriod;
  return o;
}

kube::WorkQueueOptions queueOptions(const ManagerOptions& options, const std::string& name) {
  kube::WorkQueueOptions o;
  if (options.metrics) o.observer = &options.metrics->queue(name);
  return o;
}

using Handler = std::function<void(const json&)>;

// Registers `changed` for every event of `informer`. A deletion first reaches `writes` (a write of ours
// older than it no longer stands in for the object), then `deleted` (by default `changed`).
void handle(kube::Informer& informer, RecentWrites& writes, const Handler& changed,
            Handler deleted = nullptr) {
  if (!deleted) deleted = changed;
  informer.addHandlers({changed, [changed](const json&, const json& obj) { changed(obj); },
                        [&writes, deleted](const json& obj) {
                          writes.sawDeleted(obj);
                          deleted(obj);
                        }});
}

}  // namespace

struct RolloutGroup::Impl {
  kube::Client& client;
  const ManagerOptions& options;

  kube::Informer rollouts, replicaSets, argoReplicaSets, services, analysisRuns, templates, clusterTemplates,
      deployments, jobs, experiments;
  RecentWrites rolloutWrites, replicaSetWrites, analysisRunWrites, serviceWrites, deploymentWrites,
      experimentWrites;
  TrafficObjects traffic;
  kube::EventRecorder events;
  RolloutCluster cluster;
  RolloutReconciler rolloutReconciler;
  AnalysisRunReconciler runReconciler;
  ExperimentReconciler experimentReconciler;
  kube::WorkQueue rolloutQueue, runQueue, experimentQueue;

  Impl(kube::Client& c, analysis::Provider& p, const ManagerOptions& o, const Clock& clock)
      : client(c),
        options(o),
        rollouts(c, rolloutsResource(), informerOptions(o)),
        replicaSets(c, replicaSetsResource(), informerOptions(o, engine::kPodTemplateHashLabel)),
        argoReplicaSets(c, replicaSetsResource(), informerOptions(o, engine::kArgoPodTemplateHashLabel)),
        services(c, servicesResource(), informerOptions(o)),
        analysisRuns(c, analysisRunsResource(), informerOptions(o)),
        templates(c, analysisTemplatesResource(), informerOptions(o)),
        clusterTemplates(c, clusterAnalysisTemplatesResource(), kube::InformerOptions{}),
        deployments(c, deploymentsResource(), informerOptions(o)),
        // The Jobs of job metrics, by the run uid label they all carry.
        jobs(c, jobsResource(), informerOptions(o, analysis::kJobRunUidLabel)),
        experiments(c, experimentsResource(), informerOptions(o)),
        traffic(
            c, informerOptions(o),
            [this](const std::string& kind, const json& obj) { trafficObjectChanged(kind, obj); }, o.router),
        events(c, kube::EventSource{"sluice-controller", ""}),
        cluster(makeCluster()),
        rolloutReconciler(cluster, rollouts, clock),
        runReconciler(c, analysisRuns, jobs, analysisRunWrites, p, clock, o.fieldManager),
        experimentReconciler(cluster, experiments, clock),
        rolloutQueue(clock, queueOptions(o, "rollouts")),
        runQueue(clock, queueOptions(o, "analysisruns")),
        experimentQueue(clock, queueOptions(o, "experiments")) {
    if (options.metrics) options.metrics->watchCaches(&rollouts, &analysisRuns);
  }

  // The caches every cluster has (the routers' optional ones are started and stopped by `traffic`).
  std::array<kube::Informer*, 10> informers() {
    return {&rollouts,  &replicaSets,      &argoReplicaSets, &services, &analysisRuns,
            &templates, &clusterTemplates, &deployments,     &jobs,     &experiments};
  }

  RolloutCluster makeCluster() {
    RolloutCluster c;
    c.client = &client;
    c.events = &events;
    c.replicaSets = &replicaSets;
    c.argoReplicaSets = &argoReplicaSets;
    c.services = &services;
    c.analysisRuns = &analysisRuns;
    c.analysisTemplates = &templates;
    c.clusterAnalysisTemplates = &clusterTemplates;
    c.deployments = &deployments;
    c.experiments = &experiments;
    c.traffic = &traffic;
    c.router = options.router;
    c.rolloutWrites = &rolloutWrites;
    c.replicaSetWrites = &replicaSetWrites;
    c.analysisRunWrites = &analysisRunWrites;
    c.serviceWrites = &serviceWrites;
    c.deploymentWrites = &deploymentWrites;
    c.experimentWrites = &experimentWrites;
    c.fieldManager = options.fieldManager;
    c.metrics = options.metrics;
    return c;
  }

  // Every watched object wakes the Rollout it belongs to.
  void wire() {
    auto enqueueRollout = [this](const json& obj) { rolloutQueue.add(kube::objectKey(obj)); };
    handle(rollouts, rolloutWrites, enqueueRollout);
    // What a Rollout or an Experiment controls wakes it.
    auto enqueueOwner = [this](const json& obj) {
      if (const std::string key = owningRollout(obj); !key.empty()) rolloutQueue.add(key);
      if (const std::string key = controllingOwner(obj, "Experiment"); !key.empty()) experimentQueue.add(key);
    };
    handle(experiments, experimentWrites, [this, enqueueOwner](const json& obj) {
      experimentQueue.add(kube::objectKey(obj));
      enqueueOwner(obj);  // an Experiment of a Rollout's experiment step wakes its Rollout
    });
    handle(replicaSets, replicaSetWrites, enqueueOwner);
    // Argo Rollouts' ReplicaSets wake the Rollout of their owner's name (a Rollout moved over adopts them).
    handle(argoReplicaSets, replicaSetWrites, enqueueOwner);
    auto runChanged = [this, enqueueOwner](const json& obj) {
      runQueue.add(kube::objectKey(obj));
      enqueueOwner(obj);
    };
    handle(analysisRuns, analysisRunWrites, runChanged, enqueueOwner);
    // A metric's Job wakes the AnalysisRun that controls it, which reads its outcome.
    auto jobChanged = [this](const json& obj) {
      if (const std::string key = controllingOwner(obj, analysis::kAnalysisRunKind); !key.empty())
        runQueue.add(key);
    };
    jobs.addHandlers(
        {jobChanged, [jobChanged](const json&, const json& obj) { jobChanged(obj); }, jobChanged});
    // A Service wakes the Rollouts of its namespace that name it: a canary's canaryService, stableService
    // or pingPong Services, a blue-green's activeService or previewService.
    auto serviceChanged = [this](const json& obj) {
      const std::string ns = obj["metadata"].value("namespace", "");
      const std::string name = obj["metadata"].value("name", "");
      for (const auto& r : rollouts.byNamespace(ns)) {
        const json canary = r.value(json::json_pointer("/spec/strategy/canary"), json::object());
        const json blueGreen = r.value(json::json_pointer("/spec/strategy/blueGreen"), json::object());
        const bool names =
            (canary.is_object() &&
             (canary.value("canaryService", "") == name || canary.value("stableService", "") == name ||
              canary.value(json::json_pointer("/pingPong/pingService"), "") == name ||
              canary.value(json::json_pointer("/pingPong/pongService"), "") == name)) ||
            (blueGreen.is_object() &&
             (blueGreen.value("activeService", "") == name || blueGreen.value("previewService", "") == name));
        if (names) rolloutQueue.add(kube::objectKey(r));
      }
    };
    handle(services, serviceWrites, serviceChanged);
    // A Deployment wakes the Rollouts of its namespace whose workloadRef names it: its template is theirs.
    auto deploymentChanged = [this](const json& obj) {
      const std::string ns = obj["metadata"].value("namespace", "");
      const std::string name = obj["metadata"].value("name", "");
      for (const auto& r : rollouts.byNamespace(ns)) {
        const json ref = r.value(json::json_pointer("/spec/workloadRef"), json::object());
        if (ref.is_object() && ref.value("kind", "") == "Deployment" && ref.value("name", "") == name)
          rolloutQueue.add(kube::objectKey(r));
      }
    };
    handle(deployments, deploymentWrites, deploymentChanged);
  }

  // A router's object wakes the Rollout owning it (a canary Ingress) and those whose trafficRouting names
  // it (a stable Ingress the canary one is built from, a VirtualService, a DestinationRule).
  void trafficObjectChanged(const std::string& kind, const json& obj) {
    if (const std::string key = owningRollout(obj); !key.empty()) rolloutQueue.add(key);
    const std::string ns = obj["metadata"].value("namespace", "");
    const std::string name = obj["metadata"].value("name", "");
    for (const auto& r : rollouts.byNamespace(ns)) {
      if (routesThrough(r, kind, name)) rolloutQueue.add(kube::objectKey(r));
    }
  }
};

RolloutGroup::RolloutGroup(kube::Client& client, analysis::Provider& provider, const ManagerOptions& options,
                           const Clock& clock)
    : impl_(std::make_unique<Impl>(client, provider, options, clock)) {}

RolloutGroup::~RolloutGroup() = default;

void RolloutGroup::wire() { impl_->wire(); }

void RolloutGroup::startCaches() {
  for (kube::Informer* i : impl_->informers()) i->start();
  impl_->traffic.startCore();
}

std::vector<kube::Informer*> RolloutGroup::requiredCaches() {
  const auto core = impl_->informers();
  std::vector<kube::Informer*> all(core.begin(), core.end());
  for (kube::Informer* i : impl_->traffic.informers()) all.push_back(i);
  return all;
}

bool RolloutGroup::synced() const {
  const auto all = impl_->informers();
  return std::all_of(all.begin(), all.end(), [](const kube::Informer* i) { return i->hasSynced(); }) &&
         impl_->traffic.coreSynced();
}

std::vector<QueueWork> RolloutGroup::queues() {
  Impl& m = *impl_;
  Metrics* metrics = m.options.metrics;
  QueueWork rollouts;
  rollouts.name = "rollouts";
  rollouts.queue = &m.rolloutQueue;
  rollouts.workers = m.options.workers;
  rollouts.reconcile = [&m](const std::string& key) { return m.rolloutReconciler.reconcile(key); };
  QueueWork runs;
  runs.name = "analysisruns";
  runs.queue = &m.runQueue;
  runs.workers = m.options.analysisWorkers;
  runs.reconcile = [&m](const std::string& key) { return m.runReconciler.reconcile(key); };
  if (metrics) {
    rollouts.observe = [metrics](auto d) { metrics->observeRolloutReconcile(d); };
    rollouts.failed = [metrics](const std::string& key) {
      metrics->countReconcileError(Metrics::ReconcileKind::Rollout, key);
    };
    runs.observe = [metrics](auto d) { metrics->observeAnalysisRunReconcile(d); };
    runs.failed = [metrics](const std::string& key) {
      metrics->countReconcileError(Metrics::ReconcileKind::AnalysisRun, key);
    };
  }
  QueueWork experiments;
  experiments.name = "experiments";
  experiments.queue = &m.experimentQueue;
  experiments.workers = m.options.workers;
  experiments.reconcile = [&m](const std::string& key) { return m.experimentReconciler.reconcile(key); };
  return {rollouts, runs, experiments};
}

void RolloutGroup::stopCaches() {
  for (kube::Informer* i : impl_->informers()) i->stop();
  impl_->traffic.stop();
  if (impl_->options.metrics) impl_->options.metrics->unwatchCaches();
}

}  // namespace sluice::controller
