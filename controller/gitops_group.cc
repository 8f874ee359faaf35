// The GitOps reconcilers' group (see gitops_group.h).
#include "controller/gitops_group.h"

#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "controller/git_repository_reconciler.h"
#include "controller/kustomization_reconciler.h"
#include "controller/metrics.h"
#include "controller/receiver_reconciler.h"
#include "controller/receiver_webhook.h"
#include "controller/recent_writes.h"
#include "gitops/artifact.h"
#include "kube/client.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/work_queue.h"

namespace sluice::controller {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const kube::ResourceRef& kustomizationsResource() {
  static const kube::ResourceRef r{"sluice.dev", "v1alpha1", "kustomizations", true, "Kustomization"};
  return r;
}

std::string field(const json& obj, const char* pointer) {
  const json v = obj.value(json::json_pointer(pointer), json());
  return v.is_string() ? v.get<std::string>() : "";
}

// The namespace a reference names, the referring object's own when it names none.
std::string refNamespace(const json& ref, const std::string& own) {
  const std::string ns = ref.is_object() ? ref.value("namespace", "") : "";
  return ns.empty() ? own : ns;
}

}  // namespace

struct GitOpsGroup::Impl {
  const ManagerOptions& options;
  fs::path storage;
  // One recorder for both kinds: `sluice events` shows what the fetches and applies did.
  kube::EventRecorder events;
  kube::Informer repos, kustomizations, receivers;
  RecentWrites repoWrites;
  GitRepositoryReconciler repoReconciler;
  KustomizationReconciler kustomizationReconciler;
  ReceiverReconciler receiverReconciler;
  ReceiverWebhook webhook;
  kube::WorkQueue repoQueue, kustomizationQueue, receiverQueue;
  // The unpacked revision directories some reconcile builds from. Once a newer revision of the same
  // source is unpacked, an older one is stale, and the last holder to let go removes it.
  struct Unpacked;
  struct UnpackedDirs {
    std::mutex mu;  // one extraction at a time (two workers may want the same artifact)
    std::map<fs::path, std::weak_ptr<Unpacked>> held;
  };
  struct Unpacked {
    fs::path dir;
    std::shared_ptr<UnpackedDirs> dirs;
    bool stale = false;  // under dirs->mu
    ~Unpacked() {
      std::lock_guard lock(dirs->mu);
      auto it = dirs->held.find(dir);
      if (it != dirs->held.end() && !it->second.expired()) return;  // taken up again meanwhile
      if (it != dirs->held.end()) dirs->held.erase(it);
      std::error_code ec;
      if (stale) fs::remove_all(dir, ec);
    }
  };
  std::shared_ptr<UnpackedDirs> unpacked = std::make_shared<UnpackedDirs>();

  Impl(kube::Client& c, const ManagerOptions& o, const Clock& clock)
      : options(o),
        storage(o.storagePath),
        events(c, kube::EventSource{"sluice-controller", ""}),
        repos(c, gitRepositoriesResource(), informerOptions()),
        kustomizations(c, kustomizationsResource(), informerOptions()),
        receivers(c, receiversResource(), informerOptions()),
        repoReconciler(c, repos, repoWrites, clock, storage, repositoryOptions()),
        kustomizationReconciler(
            c, [this](const json& k) { return resolve(k); }, clock, kustomizationOptions()),
        receiverReconciler(c, receivers, clock, o.fieldManager),
        webhook(c, receivers, clock, o.fieldManager),
        repoQueue(clock, queueOptions("gitrepositories")),
        kustomizationQueue(clock, queueOptions("kustomizations")),
        receiverQueue(clock, queueOptions("receivers")) {
    // The builds' temporary copies go under it; a failure here shows in each Kustomization's status.
    std::error_code ec;
    fs::create_directories(storage / "build", ec);
  }

  kube::InformerOptions informerOptions() const {
    kube::InformerOptions i;
    i.ns = options.ns;
    i.resyncPeriod = options.resyncPeriod;
    return i;
  }

  kube::WorkQueueOptions queueOptions(const std::string& name) const {
    kube::WorkQueueOptions q;
    if (options.metrics) q.observer = &options.metrics->queue(name);
    return q;
  }

  GitRepositoryReconcilerOptions repositoryOptions() {
    GitRepositoryReconcilerOptions r;
    r.events = &events;
    return r;
  }

  KustomizationReconcilerOptions kustomizationOptions() {
    KustomizationReconcilerOptions k;
    k.events = &events;
    k.kustomizeBinary = options.kustomizeBinary;
    k.defaultServiceAccount = options.defaultServiceAccount;
    k.buildDirectory = storage / "build";
    return k;
  }

  // The artifact of the GitRepository a Kustomization's sourceRef names, from the cache, unpacked once
  // per digest under <storage>/sources/<ns>/<name>/<digest> (older unpacked revisions removed).
  Result<SourceArtifact> resolve(const json& kustomization) {
    const json ref = kustomization.value(json::json_pointer("/spec/sourceRef"), json::object());
    const std::string kind = ref.is_object() ? ref.value("kind", "") : "";
    if (kind != "GitRepository")
      return Error{"spec.sourceRef.kind: " + kind + " is not a source Sluice serves"};
    const std::string ns = refNamespace(ref, field(kustomization, "/metadata/namespace"));
    const std::string name = ref.value("name", "");
    const std::optional<json> repo = repos.get(ns + "/" + name);
    if (!repo) return Error{"GitRepository " + ns + "/" + name + " not found"};
    const json artifact = repo->value(json::json_pointer("/status/artifact"), json());
    if (!artifact.is_object() || artifact.value("digest", "").empty())
      return Error{"GitRepository " + ns + "/" + name + " has no artifact yet"};
    const std::string digest = artifact.value("digest", "");
    const fs::path parent = storage / "sources" / ns / name;
    const fs::path dir = parent / digest.substr(digest.find(':') + 1);
    // Holders looked at under the lock are let go after it: the last one's destructor takes the lock.
    std::vector<std::shared_ptr<Unpacked>> looked;
    std::lock_guard lock(unpacked->mu);
    std::shared_ptr<Unpacked> hold = unpacked->held[dir].lock();
    if (!hold) {
      if (!fs::exists(dir)) {
        const fs::path partial = parent / (".partial-" + dir.filename().string());
        std::error_code ec;
        fs::remove_all(partial, ec);
        if (Status s = gitops::extractArtifact(storage, artifact, partial); !s) return Error{s.error()};
        fs::rename(partial, dir, ec);
        if (ec) return Error{"cannot move the unpacked artifact into " + dir.string() + ": " + ec.message()};
      }
      hold = std::make_shared<Unpacked>();
      hold->dir = dir;
      hold->dirs = unpacked;
      unpacked->held[dir] = hold;
      // Older revisions of this source: removed now, or by the last reconcile still building from one.
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(parent, ec)) {
        if (entry.path() == dir) continue;
        auto it = unpacked->held.find(entry.path());
        std::shared_ptr<Unpacked> other = it != unpacked->held.end() ? it->second.lock() : nullptr;
        if (other) {
          other->stale = true;
          looked.push_back(std::move(other));
        } else {
          fs::remove_all(entry.path(), ec);
          if (it != unpacked->held.end()) unpacked->held.erase(it);
        }
      }
    }
    hold->stale = false;  // a source set back to this revision wants it again
    return SourceArtifact{dir, artifact.value("revision", ""), std::move(hold)};
  }

  // Which Kustomizations each source and each Kustomization wakes, kept as the Kustomizations come and
  // go: a handler looks its followers up instead of walking the whole cache (a thousand Kustomizations,
  // each write of each one).
  struct Follows {
    std::string source;             // "ns/name" of its GitRepository
    std::vector<std::string> deps;  // "ns/name" of each dependsOn
  };
  std::mutex indexMu;
  std::map<std::string, Follows> follows;                        // by Kustomization key
  std::map<std::string, std::set<std::string>> bySource, byDep;  // followers by what they follow

  static Follows followsOf(const json& k) {
    Follows f;
    const std::string ns = field(k, "/metadata/namespace");
    const json ref = k.value(json::json_pointer("/spec/sourceRef"), json::object());
    if (ref.is_object() && ref.value("kind", "") == "GitRepository")
      f.source = refNamespace(ref, ns) + "/" + ref.value("name", "");
    const json deps = k.value(json::json_pointer("/spec/dependsOn"), json::array());
    if (deps.is_array()) {
      for (const auto& d : deps)
        if (d.is_object()) f.deps.push_back(refNamespace(d, ns) + "/" + d.value("name", ""));
    }
    return f;
  }

  void index(const std::string& key, const json* k) {
    std::lock_guard lock(indexMu);
    if (auto it = follows.find(key); it != follows.end()) {
      bySource[it->second.source].erase(key);
      for (const auto& d : it->second.deps) byDep[d].erase(key);
      follows.erase(it);
    }
    if (!k) return;
    Follows f = followsOf(*k);
    bySource[f.source].insert(key);
    for (const auto& d : f.deps) byDep[d].insert(key);
    follows[key] = std::move(f);
  }

  void enqueueAll(const std::map<std::string, std::set<std::string>>& by, const std::string& key) {
    std::vector<std::string> keys;
    {
      std::lock_guard lock(indexMu);
      if (auto it = by.find(key); it != by.end()) keys.assign(it->second.begin(), it->second.end());
    }
    for (const auto& k : keys) kustomizationQueue.add(k);
  }

  // What a Kustomization's dependents wait for: Ready at a revision.
  static std::string readiness(const json& k) {
    std::string ready;
    for (const auto& c : k.value(json::json_pointer("/status/conditions"), json::array()))
      if (c.is_object() && c.value("type", "") == "Ready") ready = c.value("status", "");
    return ready + "|" + field(k, "/status/lastAppliedRevision") + "|" +
           k.value(json::json_pointer("/status/observedGeneration"), json(0)).dump();
  }

  // Whether an update asks the Kustomization itself for a pass: its spec (generation), a requested
  // reconcile, its deletion, or a resync (old == new). Its own status writes do not, as Flux's predicates.
  static bool wantsPass(const json& old, const json& obj) {
    return old == obj ||
           old.value(json::json_pointer("/metadata/generation"), json()) !=
               obj.value(json::json_pointer("/metadata/generation"), json()) ||
           field(old, "/metadata/annotations/reconcile.sluice.dev~1requestedAt") !=
               field(obj, "/metadata/annotations/reconcile.sluice.dev~1requestedAt") ||
           old.value(json::json_pointer("/metadata/deletionTimestamp"), json()) !=
               obj.value(json::json_pointer("/metadata/deletionTimestamp"), json());
  }

  void wire() {
    auto enqueueRepo = [this](const json& obj) {
      repoQueue.add(kube::objectKey(obj));
      enqueueAll(bySource, kube::objectKey(obj));  // its Kustomizations: a new artifact, or a source gone
    };
    repos.addHandlers({enqueueRepo,
                       [this](const json& old, const json& obj) {
                         repoQueue.add(kube::objectKey(obj));
                         if (old == obj ||
                             field(old, "/status/artifact/digest") != field(obj, "/status/artifact/digest"))
                           enqueueAll(bySource, kube::objectKey(obj));
                       },
                       [this, enqueueRepo](const json& obj) {
                         repoWrites.sawDeleted(obj);
                         enqueueRepo(obj);
                       }});
    kustomizations.addHandlers({[this](const json& obj) {
                                  const std::string key = kube::objectKey(obj);
                                  index(key, &obj);
                                  kustomizationQueue.add(key);
                                  enqueueAll(byDep, key);
                                },
                                [this](const json& old, const json& obj) {
                                  const std::string key = kube::objectKey(obj);
                                  index(key, &obj);
                                  if (wantsPass(old, obj)) kustomizationQueue.add(key);
                                  if (old == obj || readiness(old) != readiness(obj))
                                    enqueueAll(byDep, key);  // may be Ready now
                                },
                                [this](const json& obj) {
                                  const std::string key = kube::objectKey(obj);
                                  index(key, nullptr);
                                  kustomizationQueue.add(key);
                                  enqueueAll(byDep, key);
                                }});
    auto enqueueReceiver = [this](const json& obj) { receiverQueue.add(kube::objectKey(obj)); };
    receivers.addHandlers({enqueueReceiver,
                           [enqueueReceiver](const json&, const json& obj) { enqueueReceiver(obj); },
                           enqueueReceiver});
  }
};

GitOpsGroup::GitOpsGroup(kube::Client& client, const ManagerOptions& options, const Clock& clock)
    : impl_(std::make_unique<Impl>(client, options, clock)) {}

GitOpsGroup::~GitOpsGroup() = default;

void GitOpsGroup::wire() { impl_->wire(); }

void GitOpsGroup::startCaches() {
  impl_->repos.start();
  impl_->kustomizations.start();
  impl_->receivers.start();
}

std::vector<kube::Informer*> GitOpsGroup::requiredCaches() {
  return {&impl_->repos, &impl_->kustomizations, &impl_->receivers};
}

bool GitOpsGroup::synced() const {
  return impl_->repos.hasSynced() && impl_->kustomizations.hasSynced() && impl_->receivers.hasSynced();
}

std::vector<QueueWork> GitOpsGroup::queues() {
  Impl& m = *impl_;
  QueueWork repos;
  repos.name = "gitrepositories";
  repos.queue = &m.repoQueue;
  repos.workers = m.options.sourceWorkers;
  repos.reconcile = [&m](const std::string& key) { return m.repoReconciler.reconcile(key); };
  QueueWork kustomizations;
  kustomizations.name = "kustomizations";
  kustomizations.queue = &m.kustomizationQueue;
  kustomizations.workers = m.options.kustomizationWorkers;
  kustomizations.reconcile = [&m](const std::string& key) {
    return m.kustomizationReconciler.reconcile(key);
  };
  QueueWork receivers;
  receivers.name = "receivers";
  receivers.queue = &m.receiverQueue;
  receivers.workers = 1;  // a Secret read and a status patch each: one keeps up, as Flux's default
  receivers.reconcile = [&m](const std::string& key) { return m.receiverReconciler.reconcile(key); };
  return {repos, kustomizations, receivers};
}

void GitOpsGroup::stopCaches() {
  impl_->repos.stop();
  impl_->kustomizations.stop();
  impl_->receivers.stop();
}

net::HttpRequestHandler GitOpsGroup::webhookHandler() {
  return [this](const net::HttpRequest& request) { return impl_->webhook.handle(request); };
}

}  // namespace sluice::controller
