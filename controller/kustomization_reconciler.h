// The Kustomization reconciler: per Kustomization, resolve its source, build it with kustomize, apply
// the objects in stages, prune what the build no longer holds, check health, and write Flux's status
// once at the end. A bad revision never touches what the last good one applied.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "controller/reconcile_outcome.h"

namespace sluice::kube {
class Client;
class EventRecorder;
}  // namespace sluice::kube
namespace sluice::gitops {
class KustomizeBuilder;
struct KustomizationSpec;
}  // namespace sluice::gitops

namespace sluice::controller {

// A source's artifact, extracted: the directory holding it and its revision ("main@sha1:<hex>").
struct SourceArtifact {
  std::filesystem::path directory;
  std::string revision;
  // Keeps `directory` while the build reads it: a newer revision of the source unpacked meanwhile
  // removes the older one only once no reconcile holds it. Null when the directory is not the
  // resolver's to remove.
  std::shared_ptr<const void> hold;
};

// Finds the artifact of a Kustomization's spec.sourceRef. An error is ArtifactFailed (source or artifact
// missing); it is retried at retryInterval. Called from the reconciling thread; must be thread-safe when
// several workers reconcile.
using SourceResolver = std::function<Result<SourceArtifact>(const nlohmann::json& kustomization)>;

struct KustomizationReconcilerOptions {
  std::string kustomizeBinary;           // empty: `kustomize` on PATH, else `kubectl kustomize`
  std::filesystem::path buildDirectory;  // where the temporary copies go; empty: the system's temp dir
  std::string fieldManager = "sluice-kustomize";
  Duration dependencyRequeue{30};  // Flux's --requeue-dependency
  std::chrono::milliseconds healthPollInterval{1000};
  // Where the Events go, as Flux's kustomize-controller emits them: Normal ReconciliationSucceeded with
  // the change set ("Deployment/default/web configured") when a pass changed something, Normal
  // Progressing with it while health checks wait, Normal DependencyNotReady, and a Warning with Ready's
  // reason for a failure. nullptr: none. A pass that changes nothing records nothing.
  kube::EventRecorder* events = nullptr;
  // Flux's --default-service-account: the account a Kustomization without spec.serviceAccountName
  // impersonates (in its own namespace); empty: such a Kustomization applies as the controller.
  std::string defaultServiceAccount;
};

// The user a Kustomization in `ns` acts as when it applies, prunes and checks health, as Flux:
// "system:serviceaccount:<ns>:<account>", `account` being spec.serviceAccountName, else
// `defaultServiceAccount`; empty when both are (the controller's own identity). Pure.
std::string kustomizationUser(const std::string& ns, const std::string& serviceAccountName,
                              const std::string& defaultServiceAccount);

// The postBuild variables of a Kustomization in `ns`: its substituteFrom ConfigMaps and Secrets read from
// the cluster (later entries override earlier ones; a missing optional one is skipped), then its inline
// substitute values. Errors name the missing or unreadable object. Blocks on one GET per entry.
Result<std::map<std::string, std::string>> postBuildVariables(kube::Client& client, const std::string& ns,
                                                              const gitops::KustomizationSpec& spec);

class KustomizationReconciler {
 public:
  // Everything must outlive the reconciler.
  KustomizationReconciler(kube::Client& client, SourceResolver resolve, const Clock& clock,
                          KustomizationReconcilerOptions options = {});
  ~KustomizationReconciler();
  KustomizationReconciler(const KustomizationReconciler&) = delete;
  KustomizationReconciler& operator=(const KustomizationReconciler&) = delete;

  // One pass for the Kustomization `namespace/name` (sluice.dev/v1alpha1). Blocks through the build,
  // the apply and the health checks (bounded by spec.timeout). Returns requeueAfter(interval) on
  // success, requeueAfter(retryInterval) on a failure recorded in status, requeueAfter(30s) while a
  // dependency is not ready, retry() when the status itself could not be written, done() when the
  // object is gone, suspended or its spec invalid (until it changes).
  ReconcileOutcome reconcile(const std::string& key);

 private:
  struct Pass;
  ReconcileOutcome finalize(const nlohmann::json& obj);
  // The client that writes a Kustomization's objects: client_ impersonating kustomizationUser(), or
  // client_ itself (`owned` stays empty).
  kube::Client& tenantClient(const std::string& ns, const std::string& serviceAccountName,
                             std::unique_ptr<kube::Client>& owned) const;

  kube::Client& client_;
  SourceResolver resolve_;
  const Clock& clock_;
  KustomizationReconcilerOptions options_;
  std::unique_ptr<gitops::KustomizeBuilder> builder_;
};

}  // namespace sluice::controller
