// The GitRepository reconciler (see git_repository_reconciler.h).
#include "controller/git_repository_reconciler.h"

#include <random>

#include "base/json_fields.h"
#include "controller/recent_writes.h"
#include "controller/resources.h"
#include "gitops/artifact.h"
#include "gitops/git_fetch.h"
#include "gitops/git_repository.h"
#include "kube/client.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/patch.h"

namespace sluice::controller {

using nlohmann::json;
namespace fs = std::filesystem;
namespace g = gitops;

const kube::ResourceRef& gitRepositoriesResource() {
  static const kube::ResourceRef r{"sluice.dev", "v1alpha1", "gitrepositories", true, "GitRepository"};
  return r;
}

namespace {

// The reason a failed fetch is reported with, Flux's.
const char* reasonOf(g::FetchError::Kind kind) {
  switch (kind) {
    case g::FetchError::Kind::Auth:
    case g::FetchError::Kind::HostKey:
      return g::source_reason::kAuthenticationFailed;
    case g::FetchError::Kind::InvalidUrl:
      return g::source_reason::kUrlInvalid;
    // An HTTPS certificate refused (unknown authority, another host's, expired) is GitOperationFailed, as
    // in Flux, where it fails the clone.
    default:
      return g::source_reason::kGitOperationFailed;
  }
}

// Flux's sourcev1.NewArtifactReason: the reason of the Event, never of a condition.
constexpr const char* kNewArtifactReason = "NewArtifact";

// An Event that cannot be recorded is lost, never a reason to fail the fetch (as client-go's recorder).
void recordEvent(kube::EventRecorder* events, const json& object, const std::string& type,
                 const std::string& reason, const std::string& message) {
  if (events) (void)events->record(object, type, reason, message);
}

Duration ceilSeconds(Clock::TimePoint::duration d) {
  return std::max(Duration{1}, std::chrono::ceil<Duration>(d));
}

// The conditions of a repository that is Ready with `artifact`.
void markReady(g::GitRepositoryStatus& status, const std::string& revision, int64_t generation, Time now) {
  const std::string message = "stored artifact for revision '" + revision + "'";
  status.set({g::source_condition::kReady, "True", g::source_reason::kSucceeded, message, generation, {}},
             now);
  status.set({g::source_condition::kArtifactInStorage,
              "True",
              g::source_reason::kSucceeded,
              message,
              generation,
              {}},
             now);
  for (const char* gone :
       {g::source_condition::kFetchFailed, g::source_condition::kReconciling, g::source_condition::kStalled,
        g::source_condition::kArtifactOutdated, g::source_condition::kStorageOperationFailed})
    status.remove(gone);
  status.observedGeneration = generation;
}

// The conditions of a failed attempt that will be retried: `type` (FetchFailed, StorageOperationFailed)
// True, Ready False, Reconciling True with ProgressingWithRetry.
void markFailed(g::GitRepositoryStatus& status, const char* type, const std::string& reason,
                const std::string& message, int64_t generation, Time now) {
  status.set({type, "True", reason, message, generation, {}}, now);
  status.set({g::source_condition::kReady, "False", reason, message, generation, {}}, now);
  const std::string progress = status.observedGeneration != generation
                                   ? "processing object: new generation " +
                                         std::to_string(status.observedGeneration) + " -> " +
                                         std::to_string(generation)
                                   : "retrying after a failure: " + reason;
  status.set({g::source_condition::kReconciling,
              "True",
              g::source_reason::kProgressingWithRetry,
              progress,
              generation,
              {}},
             now);
}

}  // namespace

GitRepositoryReconciler::GitRepositoryReconciler(kube::Client& client, kube::Informer& repos,
                                                 RecentWrites& writes, const Clock& clock,
                                                 fs::path storagePath, GitRepositoryReconcilerOptions options)
    : client_(client),
      repos_(repos),
      writes_(writes),
      clock_(clock),
      storage_(std::move(storagePath)),
      options_(std::move(options)) {
  std::error_code ec;
  fs::create_directories(storage_, ec);
  // Checkouts left half-archived by a process that died: nobody else uses them.
  fs::remove_all(storage_ / "tmp", ec);
  if (options_.artifactBaseUrl.empty())
    options_.artifactBaseUrl = "file://" + fs::absolute(storage_).string();
}

ReconcileOutcome GitRepositoryReconciler::reconcile(const std::string& key) {
  const auto object = writes_.view(key, repos_.get(key));
  if (!object) {
    // Gone: so are its artifacts and its cache.
    {
      std::lock_guard<std::mutex> lock(mu_);
      memory_.erase(key);
    }
    if (const auto slash = key.find('/'); slash != std::string::npos) {
      const std::string dir = g::artifactDirectory(key.substr(0, slash), key.substr(slash + 1));
      std::error_code ec;
      fs::remove_all(storage_ / dir, ec);
      fs::remove_all(storage_ / "cache" / dir, ec);
    }
    return ReconcileOutcome::done();
  }
  const json& metadata = (*object)["metadata"];
  const std::string ns = metadata.value("namespace", "");
  const std::string name = metadata.value("name", "");
  const int64_t generation = metadata.value("generation", int64_t{0});
  const json before = object->value("status", json::object());
  auto parsedStatus = g::statusFromJson(before.is_object() ? before : json::object());
  g::GitRepositoryStatus status = parsedStatus ? std::move(*parsedStatus) : g::GitRepositoryStatus{};
  const Time now = decisionTime(clock_);
  const Clock::TimePoint mono = clock_.now();

  auto write = [&](const g::GitRepositoryStatus& s) -> std::optional<ReconcileOutcome> {
    const json diff =
        kube::mergePatchBetween(before.is_object() ? before : json::object(), g::statusToJson(s));
    if (diff.empty()) return std::nullopt;
    auto patched = client_.patch(gitRepositoriesResource(), ns, name, kube::PatchType::kMerge,
                                 json{{"status", diff}}, {false, options_.fieldManager}, "status");
    if (!patched) return ReconcileOutcome::retry(patched.error().describe());
    writes_.wrote(*patched);
    return std::nullopt;
  };

  Diagnostics diags;
  auto repo = g::parseGitRepository(*object, SourceMap(), diags);
  if (!repo) {
    // Nothing to retry until the spec changes: Stalled, with every problem at its field path.
    bool urlOnly = true;
    for (const auto& d : diags.items()) {
      if (d.severity == Severity::Error && d.path != "spec.url") urlOnly = false;
    }
    const std::string reason = urlOnly ? g::source_reason::kUrlInvalid : g::source_reason::kInvalidSpec;
    const std::string message = "invalid GitRepository: " + json_fields::joinErrors(diags);
    status.set({g::source_condition::kStalled, "True", reason, message, generation, {}}, now);
    status.set({g::source_condition::kReady, "False", reason, message, generation, {}}, now);
    status.remove(g::source_condition::kReconciling);
    status.observedGeneration = generation;
    if (auto failed = write(status)) return *failed;
    return ReconcileOutcome::done();
  }
  const g::GitRepositorySpec& spec = repo->spec;
  if (spec.suspend) return ReconcileOutcome::done();

  const auto requested = repo->annotations.find(g::kRequestedAtAnnotation);
  const std::string requestedAt = requested == repo->annotations.end() ? "" : requested->second;
  const bool newRequest = !requestedAt.empty() && requestedAt != status.lastHandledReconcileAt;
  const bool artifactMissing = !status.artifact || !fs::exists(storage_ / status.artifact->path);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = memory_.find(key);
    const bool due = it == memory_.end() || it->second.generation != generation ||
                     mono >= it->second.nextFetch || newRequest ||
                     (it->second.failures == 0 && (artifactMissing || status.observedIgnore != spec.ignore));
    if (!due) return ReconcileOutcome::requeueAfter(ceilSeconds(it->second.nextFetch - mono));
  }
  if (newRequest) status.lastHandledReconcileAt = requestedAt;

  // A failed attempt: recorded, and tried again after a backoff that doubles up to the interval.
  auto failed = [&](const char* type, const std::string& reason, const std::string& message) {
    Duration backoff{1};
    {
      std::lock_guard<std::mutex> lock(mu_);
      Memory& m = memory_[key];
      m.failures = m.generation == generation ? m.failures + 1 : 1;
      m.generation = generation;
      for (int i = 1; i < m.failures && backoff < spec.interval; ++i) backoff *= 2;
      backoff = std::min(backoff, spec.interval);
      m.nextFetch = mono + backoff;
    }
    markFailed(status, type, reason, message, generation, now);
    if (auto writeFailed = write(status)) return *writeFailed;
    // Each retry of the same failure counts on one Event (the recorder's correlation).
    recordEvent(options_.events, *object, "Warning", reason, message);
    return ReconcileOutcome::requeueAfter(backoff);
  };

  g::FetchRequest request;
  request.url = spec.url;
  request.ref = spec.ref;
  request.timeout = spec.timeout;
  request.cacheDir = storage_ / "cache" / g::artifactDirectory(ns, name);
  if (!spec.secretRefName.empty()) {
    auto secret = client_.get(secretsResource(), ns, spec.secretRefName);
    if (!secret) {
      if (!secret.error().isNotFound()) return ReconcileOutcome::retry(secret.error().describe());
      return failed(g::source_condition::kFetchFailed, g::source_reason::kAuthenticationFailed,
                    "failed to get secret '" + ns + "/" + spec.secretRefName + "': not found");
    }
    auto credentials = g::credentialsFromSecret(*secret);
    if (!credentials)
      return failed(g::source_condition::kFetchFailed, g::source_reason::kAuthenticationFailed,
                    "secret '" + ns + "/" + spec.secretRefName + "': " + credentials.error());
    request.credentials = std::move(*credentials);
  }

  ++fetches_;
  auto fetched = g::fetchRef(request);
  if (!fetched) {
    const auto& e = fetched.error();
    return failed(g::source_condition::kFetchFailed, reasonOf(e.kind),
                  "failed to checkout and determine revision: " + e.message);
  }
  const std::string revision = fetched->revision.str();
  const std::string path = g::artifactDirectory(ns, name) + "/" + fetched->commit + ".tar.gz";
  // Flux announces a revision it had not stored, not an artifact rebuilt for the same one.
  const bool newRevision = !status.artifact || status.artifact->revision != revision;
  const bool rebuild = !status.artifact || status.artifact->revision != revision ||
                       status.artifact->path != path || !fs::exists(storage_ / path) ||
                       status.observedIgnore != spec.ignore;
  if (rebuild) {
    std::random_device rd;
    const fs::path checkout = storage_ / "tmp" / (ns + "-" + name + "-" + std::to_string(rd()));
    auto cleanup = [&] {
      std::error_code ec;
      fs::remove_all(checkout, ec);
    };
    Status checkedOut = g::checkoutCommit(request.cacheDir, fetched->commit, checkout);
    if (!checkedOut) {
      cleanup();
      return failed(g::source_condition::kFetchFailed, g::source_reason::kGitOperationFailed,
                    "failed to checkout and determine revision: " + checkedOut.error());
    }
    auto file = g::writeArtifact(checkout, g::ignoreRulesFor(checkout, spec.ignore), storage_, path);
    cleanup();
    if (!file)
      return failed(g::source_condition::kStorageOperationFailed, g::source_reason::kArchiveOperationFailed,
                    "failed to store the artifact: " + file.error());
    g::Artifact artifact;
    artifact.path = file->path;
    artifact.url = options_.artifactBaseUrl + "/" + file->path;
    artifact.revision = revision;
    artifact.digest = file->digest;
    artifact.size = file->size;
    artifact.lastUpdateTime = now;
    status.artifact = std::move(artifact);
    // Old artifacts go; failing that is no reason to fail the new one.
    (void)g::garbageCollectArtifacts(storage_, g::artifactDirectory(ns, name), path,
                                     options_.artifactRetention);
  }
  status.observedIgnore = spec.ignore;
  markReady(status, revision, generation, now);
  {
    std::lock_guard<std::mutex> lock(mu_);
    memory_[key] = Memory{mono + spec.interval, generation, 0};
  }
  if (auto writeFailed = write(status)) return *writeFailed;
  if (newRevision)
    recordEvent(options_.events, *object, "Normal", kNewArtifactReason,
                "stored artifact for commit '" + fetched->commitMessage + "'");
  return ReconcileOutcome::requeueAfter(spec.interval);
}

}  // namespace sluice::controller
