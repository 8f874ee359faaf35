// The controller manager (see manager.h).
#include "controller/manager.h"

#include "base/version.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "controller/analysis_run_reconciler.h"
#include "controller/log.h"
#include "controller/metrics.h"
#include "controller/recent_writes.h"
#include "controller/resources.h"
#include "controller/rollout_reconciler.h"
#include "controller/traffic_objects.h"
#include "engine/rollout.h"
#include "kube/client.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/leader_election.h"
#include "kube/work_queue.h"

namespace sluice::controller {

using nlohmann::json;

namespace {

// The Rollout that controls `obj` ("namespace/name"), or empty.
std::string owningRollout(const json& obj) {
  const json refs = obj.value(json::json_pointer("/metadata/ownerReferences"), json::array());
  if (!refs.is_array()) return "";
  for (const auto& ref : refs) {
    if (ref.is_object() && ref.value("kind", "") == "Rollout" && ref.value("controller", false))
      return obj["metadata"].value("namespace", "") + "/" + ref.value("name", "");
  }
  return "";
}

std::string defaultIdentity() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "sluice") + "_" + std::to_string(getpid());
}

}  // namespace

struct Manager::Impl {
  kube::Client& client;
  analysis::Provider& provider;
  ManagerOptions options;
  const Clock& clock;

  kube::Informer rollouts, replicaSets, services, analysisRuns, templates, clusterTemplates, deployments;
  RecentWrites rolloutWrites, replicaSetWrites, analysisRunWrites, serviceWrites, deploymentWrites;
  TrafficObjects traffic;
  kube::EventRecorder events;
  RolloutCluster cluster;
  RolloutReconciler rolloutReconciler;
  AnalysisRunReconciler runReconciler;
  kube::WorkQueue rolloutQueue, runQueue;

  std::mutex mu;
  std::vector<std::thread> workers;
  std::unique_ptr<kube::LeaderElector> elector;
  std::thread electorThread;
  std::atomic<bool> started{false}, leading{false}, stopped{false};

  Impl(kube::Client& c, analysis::Provider& p, ManagerOptions o, const Clock& wall)
      : client(c),
        provider(p),
        options(std::move(o)),
        clock(wall),
        rollouts(c, rolloutsResource(), informerOptions()),
        replicaSets(c, replicaSetsResource(), informerOptions(engine::kPodTemplateHashLabel)),
        services(c, servicesResource(), informerOptions()),
        analysisRuns(c, analysisRunsResource(), informerOptions()),
        templates(c, analysisTemplatesResource(), informerOptions()),
        clusterTemplates(c, clusterAnalysisTemplatesResource(), kube::InformerOptions{}),
        deployments(c, deploymentsResource(), informerOptions()),
        traffic(
            c, informerOptions(),
            [this](const std::string& kind, const json& obj) { trafficObjectChanged(kind, obj); },
            options.router),
        events(c, kube::EventSource{"sluice-controller", ""}),
        cluster(makeCluster()),
        rolloutReconciler(cluster, rollouts, clock),
        runReconciler(c, analysisRuns, analysisRunWrites, p, clock, options.fieldManager),
        rolloutQueue(clock, queueOptions("rollouts")),
        runQueue(clock, queueOptions("analysisruns")) {
    if (options.metrics) options.metrics->watchCaches(&rollouts, &analysisRuns);
  }

  // The caches every cluster has (the routers' optional ones are started and stopped by `traffic`).
  std::array<kube::Informer*, 7> informers() {
    return {&rollouts, &replicaSets, &services, &analysisRuns, &templates, &clusterTemplates, &deployments};
  }
  std::array<const kube::Informer*, 7> informers() const {
    return {&rollouts, &replicaSets, &services, &analysisRuns, &templates, &clusterTemplates, &deployments};
  }

  kube::WorkQueueOptions queueOptions(const std::string& name) const {
    kube::WorkQueueOptions o;
    if (options.metrics) o.observer = &options.metrics->queue(name);
    return o;
  }

  kube::InformerOptions informerOptions(const std::string& labelSelector = "") const {
    kube::InformerOptions o;
    o.ns = options.ns;
    o.labelSelector = labelSelector;
    o.resyncPeriod = options.resyncPeriod;
    return o;
  }

  RolloutCluster makeCluster() {
    RolloutCluster c;
    c.client = &client;
    c.events = &events;
    c.replicaSets = &replicaSets;
    c.services = &services;
    c.analysisRuns = &analysisRuns;
    c.analysisTemplates = &templates;
    c.clusterAnalysisTemplates = &clusterTemplates;
    c.deployments = &deployments;
    c.traffic = &traffic;
    c.router = options.router;
    c.rolloutWrites = &rolloutWrites;
    c.replicaSetWrites = &replicaSetWrites;
    c.analysisRunWrites = &analysisRunWrites;
    c.serviceWrites = &serviceWrites;
    c.deploymentWrites = &deploymentWrites;
    c.fieldManager = options.fieldManager;
    c.metrics = options.metrics;
    return c;
  }

  using Handler = std::function<void(const json&)>;

  // Registers `changed` for every event of `informer`. A deletion first reaches `writes` (a write of ours
  // older than it no longer stands in for the object), then `deleted` (by default `changed`).
  static void handle(kube::Informer& informer, RecentWrites& writes, const Handler& changed,
                     Handler deleted = nullptr) {
    if (!deleted) deleted = changed;
    informer.addHandlers({changed, [changed](const json&, const json& obj) { changed(obj); },
                          [&writes, deleted](const json& obj) {
                            writes.sawDeleted(obj);
                            deleted(obj);
                          }});
  }

  // Every watched object wakes the Rollout it belongs to.
  void wire() {
    auto enqueueRollout = [this](const json& obj) { rolloutQueue.add(kube::objectKey(obj)); };
    handle(rollouts, rolloutWrites, enqueueRollout);
    auto enqueueOwner = [this](const json& obj) {
      if (const std::string key = owningRollout(obj); !key.empty()) rolloutQueue.add(key);
    };
    handle(replicaSets, replicaSetWrites, enqueueOwner);
    auto runChanged = [this, enqueueOwner](const json& obj) {
      runQueue.add(kube::objectKey(obj));
      enqueueOwner(obj);
    };
    handle(analysisRuns, analysisRunWrites, runChanged, enqueueOwner);
    // A Service wakes the Rollouts of its namespace that name it as canaryService or stableService.
    auto serviceChanged = [this](const json& obj) {
      const std::string ns = obj["metadata"].value("namespace", "");
      const std::string name = obj["metadata"].value("name", "");
      for (const auto& r : rollouts.byNamespace(ns)) {
        const json canary = r.value(json::json_pointer("/spec/strategy/canary"), json::object());
        if (canary.is_object() &&
            (canary.value("canaryService", "") == name || canary.value("stableService", "") == name))
          rolloutQueue.add(kube::objectKey(r));
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

  using Timed = void (Metrics::*)(std::chrono::steady_clock::duration);
  void work(const std::string& name, kube::WorkQueue& queue,
            const std::function<ReconcileOutcome(const std::string&)>& reconcile, Timed observe,
            Metrics::ReconcileKind kind) {
    while (auto key = queue.get()) {
      ReconcileOutcome outcome;
      const auto began = std::chrono::steady_clock::now();
      try {
        outcome = reconcile(*key);
      } catch (const std::exception& e) {
        // A reconcile that throws is a bug; the key is retried with backoff and the process lives on.
        outcome = ReconcileOutcome::retry(std::string("internal error: ") + e.what());
      }
      const auto took = std::chrono::steady_clock::now() - began;
      if (options.metrics) (options.metrics->*observe)(took);
      if (options.onReconcile) options.onReconcile(name, took);
      switch (outcome.kind) {
        case ReconcileOutcome::Kind::Done:
          queue.forget(*key);
          break;
        case ReconcileOutcome::Kind::RequeueAfter:
          queue.forget(*key);
          queue.addAfter(*key, std::chrono::duration_cast<std::chrono::milliseconds>(outcome.after));
          break;
        case ReconcileOutcome::Kind::Retry:
          log(LogLevel::Warn, *key, "reconcile failed, retrying with backoff: " + outcome.error);
          if (options.metrics) options.metrics->countReconcileError(kind, *key);
          queue.addRateLimited(*key);
          break;
      }
      queue.done(*key);
      if (queue.len() == 0) trimWhenIdle();
    }
  }

  // Hands the heap pages a burst of reconciles freed back to the system once the work runs out (at most
  // every 10 s). glibc keeps freed memory in its per-thread arenas; without this a controller that once
  // rolled thousands of Rollouts at once would keep that peak resident while it idles.
  std::atomic<int64_t> lastTrimMs{0};
  void trimWhenIdle() {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
    int64_t last = lastTrimMs.load();
    if (now - last < 10000 || !lastTrimMs.compare_exchange_strong(last, now)) return;
    malloc_trim(0);
  }

  void startWorkers() {
    std::lock_guard lock(mu);
    if (stopped || leading.exchange(true)) return;
    log(LogLevel::Info, "",
        "starting " + std::to_string(options.workers) + " Rollout and " +
            std::to_string(options.analysisWorkers) + " AnalysisRun workers");
    for (int i = 0; i < options.workers; ++i)
      workers.emplace_back([this] {
        work(
            "rollouts", rolloutQueue, [this](const std::string& k) { return rolloutReconciler.reconcile(k); },
            &Metrics::observeRolloutReconcile, Metrics::ReconcileKind::Rollout);
      });
    for (int i = 0; i < options.analysisWorkers; ++i)
      workers.emplace_back([this] {
        work(
            "analysisruns", runQueue, [this](const std::string& k) { return runReconciler.reconcile(k); },
            &Metrics::observeAnalysisRunReconcile, Metrics::ReconcileKind::AnalysisRun);
      });
  }
};

Manager::Manager(kube::Client& client, analysis::Provider& provider, ManagerOptions options,
                 const Clock& clock)
    : impl_(std::make_unique<Impl>(client, provider, std::move(options), clock)) {}

Manager::~Manager() { stop(); }

Status Manager::start(std::chrono::milliseconds syncTimeout) {
  Impl& m = *impl_;
  if (m.started.exchange(true)) return Error{"the manager was started already"};
  m.wire();
  for (kube::Informer* i : m.informers()) i->start();
  m.traffic.startCore();
  const auto core = m.informers();
  std::vector<kube::Informer*> all(core.begin(), core.end());
  for (kube::Informer* i : m.traffic.informers()) all.push_back(i);
  for (kube::Informer* i : all) {
    if (!i->waitForSync(syncTimeout)) {
      if (m.stopped) return Error{"stopped before the caches synced"};
      const std::string why = i->lastError();
      return Error{"the caches did not sync within " + std::to_string(syncTimeout.count() / 1000) + "s" +
                   (why.empty() ? std::string() : ": " + why)};
    }
  }
  log(LogLevel::Info, "", "caches synced");
  // The first lists were parsed in pages of hundreds of objects and are now packed in the caches: hand the
  // freed pages back to the system, or the process keeps the list's peak for good.
  malloc_trim(0);
  if (!m.options.leaderElect) {
    m.startWorkers();
    return Status::Ok();
  }
  kube::LeaderElectionConfig config;
  config.ns = m.options.leaseNamespace;
  config.name = m.options.leaseName;
  config.identity = m.options.identity.empty() ? defaultIdentity() : m.options.identity;
  config.leaseDuration = m.options.leaseDuration;
  config.renewDeadline = m.options.renewDeadline;
  config.retryPeriod = m.options.retryPeriod;
  config.holderAnnotations[kControllerVersionAnnotation] = SLUICE_VERSION;
  config.onStartedLeading = [&m] {
    log(LogLevel::Info, "",
        "became the leader (" + m.options.leaseNamespace + "/" + m.options.leaseName + ")");
    m.startWorkers();
  };
  config.onStoppedLeading = [&m] {
    if (!m.stopped) log(LogLevel::Error, "", "lost the lease: stopping work");
    m.rolloutQueue.shutDown();
    m.runQueue.shutDown();
  };
  // Under the lock that stop() takes first: a stop that came during the sync finds either no elector
  // (and none is started after it) or this one, which it then stops.
  std::lock_guard lock(m.mu);
  if (m.stopped) return Error{"stopped before the caches synced"};
  m.elector = std::make_unique<kube::LeaderElector>(m.client, config, m.clock);
  m.electorThread = std::thread([&m] {
    if (Status s = m.elector->run(); !s) log(LogLevel::Error, "", "leader election: " + s.error());
  });
  return Status::Ok();
}

void Manager::stop() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.stopped.exchange(true)) return;
  }
  m.rolloutQueue.shutDownWithDrain();
  m.runQueue.shutDownWithDrain();
  for (auto& t : m.workers) t.join();
  if (m.elector) m.elector->stop();  // releases the Lease
  if (m.electorThread.joinable()) m.electorThread.join();
  for (kube::Informer* i : m.informers()) i->stop();
  m.traffic.stop();
  if (m.options.metrics) m.options.metrics->unwatchCaches();
}

bool Manager::synced() const {
  const auto all = impl_->informers();
  return std::all_of(all.begin(), all.end(), [](const kube::Informer* i) { return i->hasSynced(); }) &&
         impl_->traffic.coreSynced();
}

bool Manager::leading() const { return impl_->leading; }

}  // namespace sluice::controller
