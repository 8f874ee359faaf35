// The controller manager (see manager.h).
#include "controller/manager.h"

#include "base/version.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "controller/gitops_group.h"
#include "controller/log.h"
#include "controller/receiver_webhook.h"
#include "controller/reconciler_group.h"
#include "controller/resources.h"
#include "controller/rollout_group.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/leader_election.h"
#include "kube/work_queue.h"
#include "net/http_server.h"

namespace sluice::controller {

namespace {

std::string defaultIdentity() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "sluice") + "_" + std::to_string(getpid());
}

}  // namespace

const std::vector<std::string>& controllerGroupNames() {
  static const std::vector<std::string> names = {"rollouts", "gitops"};
  return names;
}

struct Manager::Impl {
  kube::Client& client;
  ManagerOptions options;
  const Clock& clock;
  std::vector<std::unique_ptr<ReconcilerGroup>> groups;
  GitOpsGroup* gitops = nullptr;                   // among `groups` when it runs
  std::unique_ptr<net::HttpServer> webhookServer;  // --webhook-addr
  std::vector<QueueWork> queues;                   // every group's, once started

  std::mutex mu;
  std::vector<std::thread> workers;
  std::unique_ptr<kube::LeaderElector> elector;
  std::thread electorThread;
  std::atomic<bool> started{false}, leading{false}, stopped{false};

  Impl(kube::Client& c, analysis::Provider& p, ManagerOptions o, const Clock& wall)
      : client(c), options(std::move(o)), clock(wall) {
    // A manager built in code without a storage path keeps its sources in a directory of its own.
    if (options.storagePath.empty())
      options.storagePath =
          (std::filesystem::temp_directory_path() / ("sluice-storage-" + std::to_string(getpid()))).string();
    if (runs("rollouts")) groups.push_back(std::make_unique<RolloutGroup>(c, p, options, clock));
    if (runs("gitops")) {
      auto g = std::make_unique<GitOpsGroup>(c, options, clock);
      gitops = g.get();
      groups.push_back(std::move(g));
    }
  }

  bool runs(const std::string& group) const {
    return options.controllers.empty() || std::find(options.controllers.begin(), options.controllers.end(),
                                                    group) != options.controllers.end();
  }

  void work(const QueueWork& q) {
    kube::WorkQueue& queue = *q.queue;
    while (auto key = queue.get()) {
      ReconcileOutcome outcome;
      const auto began = clock.now();
      try {
        outcome = q.reconcile(*key);
      } catch (const std::exception& e) {
        // A reconcile that throws is a bug; the key is retried with backoff and the process lives on.
        outcome = ReconcileOutcome::retry(std::string("internal error: ") + e.what());
      }
      const auto took = clock.now() - began;
      if (q.observe) q.observe(took);
      if (options.onReconcile) options.onReconcile(q.name, took);
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
          if (q.failed) q.failed(*key);
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
    std::string what;
    for (const QueueWork& q : queues) {
      what += (what.empty() ? "" : ", ") + std::to_string(q.workers) + " " + q.name;
      for (int i = 0; i < q.workers; ++i) workers.emplace_back([this, &q] { work(q); });
    }
    log(LogLevel::Info, "", "starting workers: " + what);
  }
};

Manager::Manager(kube::Client& client, analysis::Provider& provider, ManagerOptions options,
                 const Clock& clock)
    : impl_(std::make_unique<Impl>(client, provider, std::move(options), clock)) {}

Manager::~Manager() { stop(); }

Status Manager::start(std::chrono::milliseconds syncTimeout) {
  Impl& m = *impl_;
  if (m.started.exchange(true)) return Error{"the manager was started already"};
  std::vector<kube::Informer*> all;
  for (auto& g : m.groups) {
    g->wire();
    g->startCaches();
    for (kube::Informer* i : g->requiredCaches()) all.push_back(i);
    for (QueueWork& q : g->queues()) m.queues.push_back(std::move(q));
  }
  // Served from the start: a delivery before the caches synced finds no Receiver yet and gets a 404.
  if (m.gitops && !m.options.webhookAddr.empty()) {
    auto server = net::HttpServer::start("--webhook-addr", m.options.webhookAddr, m.gitops->webhookHandler(),
                                         ReceiverWebhook::kBodyLimit);
    if (!server) return Error{server.error()};
    m.webhookServer = std::move(*server);
  }
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
    for (const QueueWork& q : m.queues) q.queue->shutDown();
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
  for (const QueueWork& q : m.queues) q.queue->shutDownWithDrain();
  for (auto& t : m.workers) t.join();
  if (m.elector) m.elector->stop();  // releases the Lease
  if (m.electorThread.joinable()) m.electorThread.join();
  m.webhookServer.reset();  // no delivery in flight once the caches go
  for (auto& g : m.groups) g->stopCaches();
}

bool Manager::synced() const {
  return std::all_of(impl_->groups.begin(), impl_->groups.end(), [](const auto& g) { return g->synced(); });
}

bool Manager::leading() const { return impl_->leading; }

int Manager::webhookPort() const { return impl_->webhookServer ? impl_->webhookServer->port() : 0; }

}  // namespace sluice::controller
