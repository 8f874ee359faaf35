// The GitRepository reconciler: fetches each GitRepository's ref into its cache when its interval has
// passed, its spec changed, or `reconcile.sluice.dev/requestedAt` holds a new value; stores an artifact per
// new revision (older ones garbage-collected); and writes the status, as Flux's source-controller, in one
// patch and only when it changed, so a steady interval that finds no new commit writes nothing.
#pragma once

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "controller/reconcile_outcome.h"

namespace sluice::kube {
class Client;
class EventRecorder;
class Informer;
struct ResourceRef;
}  // namespace sluice::kube

namespace sluice::controller {

class RecentWrites;

// sluice.dev/v1alpha1 gitrepositories.
const kube::ResourceRef& gitRepositoriesResource();

struct GitRepositoryReconcilerOptions {
  // artifact.url is this + "/" + artifact.path; empty: "file://" + the storage path made absolute.
  std::string artifactBaseUrl;
  size_t artifactRetention = 2;  // Flux's --artifact-retention-records default
  std::string fieldManager = "sluice-controller";
  // Where the Events go, as Flux's source-controller emits them: Normal NewArtifact for a new revision,
  // Warning with the failure's reason for a failed fetch. nullptr: none. An interval that finds no new
  // commit records nothing.
  kube::EventRecorder* events = nullptr;
};

class GitRepositoryReconciler {
 public:
  // `storagePath` holds the artifacts (gitrepository/<ns>/<name>/<commit>.tar.gz) and the git caches
  // (cache/gitrepository/<ns>/<name>) and the checkouts being archived (tmp/, emptied here); created when
  // missing. `repos` is the informer of GitRepositories;
  // Secrets named by spec.secretRef are read from the API when a fetch needs them. Everything must
  // outlive the reconciler.
  GitRepositoryReconciler(kube::Client& client, kube::Informer& repos, RecentWrites& writes,
                          const Clock& clock, std::filesystem::path storagePath,
                          GitRepositoryReconcilerOptions options = {});
  GitRepositoryReconciler(const GitRepositoryReconciler&) = delete;
  GitRepositoryReconciler& operator=(const GitRepositoryReconciler&) = delete;

  // One pass over the GitRepository "namespace/name". Blocks while it fetches (up to spec.timeout). An
  // object the informer does not hold is taken as deleted and its artifacts and cache are removed, so call
  // it only once the informer has synced (an artifact removed in error is rebuilt at the next pass).
  // Done for a suspended, deleted or invalid object (an invalid spec is marked Stalled, then waits for a
  // change); RequeueAfter(interval) after a fetch, or the rest of the interval when none was due;
  // RequeueAfter(backoff, doubling from 1 s up to the interval) after a failed fetch; Retry when the API
  // refused a read or the status write. Thread-safe for different keys.
  ReconcileOutcome reconcile(const std::string& key);

  // How many fetches were made (each a connection to the remote). Thread-safe.
  uint64_t fetches() const { return fetches_.load(); }

 private:
  // When this process last fetched a repository, and what for.
  struct Memory {
    Clock::TimePoint nextFetch;
    int64_t generation = 0;
    int failures = 0;
  };

  kube::Client& client_;
  kube::Informer& repos_;
  RecentWrites& writes_;
  const Clock& clock_;
  std::filesystem::path storage_;
  GitRepositoryReconcilerOptions options_;
  std::atomic<uint64_t> fetches_{0};
  std::mutex mu_;
  std::map<std::string, Memory> memory_;
};

}  // namespace sluice::controller
