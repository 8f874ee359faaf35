// One Kustomization's reconcile: source, dependencies, build, staged apply, prune, health, status.
#include "controller/kustomization_reconciler.h"

#include <thread>

#include "base/base64.h"
#include "base/time.h"
#include "gitops/age.h"
#include "gitops/apply_set.h"
#include "gitops/git_repository.h"
#include "gitops/health.h"
#include "gitops/kustomization.h"
#include "gitops/kustomize_build.h"
#include "gitops/revision.h"
#include "gitops/sops_build.h"
#include "kube/client.h"
#include "kube/event_recorder.h"

namespace sluice::controller {

using nlohmann::json;
namespace gitops = sluice::gitops;

namespace {

std::string describe(const kube::ApiError& e) {
  return e.kind == kube::ApiErrorKind::kStatus && !e.message.empty() ? e.message : e.describe();
}

json statusOf(const json& obj) {
  return obj.contains("status") && obj["status"].is_object() ? obj["status"] : json::object();
}

std::vector<gitops::InventoryEntry> inventoryOf(const gitops::ApplyReport& report) {
  std::vector<gitops::InventoryEntry> out;
  for (const auto& e : report.entries) out.push_back(gitops::inventoryEntry(e.key));
  return out;
}

// `a` then the entries of `b` whose id `a` lacks.
std::vector<gitops::InventoryEntry> unionOf(std::vector<gitops::InventoryEntry> a,
                                            const std::vector<gitops::InventoryEntry>& b) {
  for (const auto& e : b) {
    if (std::none_of(a.begin(), a.end(), [&](const auto& x) { return x.id == e.id; })) a.push_back(e);
  }
  return a;
}

// Flux's change set: the objects a pass created, configured or deleted, one line each.
std::string changeSet(const gitops::ApplyReport& applied, const gitops::PruneReport* pruned) {
  std::string out;
  auto add = [&out](const gitops::ChangeEntry& e) {
    if (e.action != gitops::ApplyAction::kCreated && e.action != gitops::ApplyAction::kConfigured &&
        e.action != gitops::ApplyAction::kDeleted)
      return;
    if (!out.empty()) out += '\n';
    out += e.str();
  };
  for (const auto& e : applied.entries) add(e);
  if (pruned)
    for (const auto& e : pruned->entries) add(e);
  return out;
}

bool hasFinalizer(const json& obj) {
  const json& meta = obj["metadata"];
  if (!meta.contains("finalizers") || !meta["finalizers"].is_array()) return false;
  for (const auto& f : meta["finalizers"])
    if (f == gitops::kKustomizationFinalizer) return true;
  return false;
}

}  // namespace

std::string kustomizationUser(const std::string& ns, const std::string& serviceAccountName,
                              const std::string& defaultServiceAccount) {
  const std::string& account = serviceAccountName.empty() ? defaultServiceAccount : serviceAccountName;
  if (account.empty()) return "";
  return "system:serviceaccount:" + ns + ":" + account;
}

Result<std::map<std::string, std::string>> postBuildVariables(kube::Client& client, const std::string& ns,
                                                              const gitops::KustomizationSpec& spec) {
  // Later substituteFrom entries override earlier ones, inline values override all.
  std::map<std::string, std::string> vars;
  for (const auto& from : spec.substituteFrom) {
    const bool secret = from.kind == "Secret";
    auto r = client.resourceFor("v1", from.kind);
    auto src = r ? client.get(*r, ns, from.name) : kube::ApiResult<json>(r.error());
    if (!src) {
      if (src.error().isNotFound() && from.optional) continue;
      return Error{"postBuild.substituteFrom " + from.kind + "/" + ns + "/" + from.name + ": " +
                   describe(src.error())};
    }
    if (!src->contains("data") || !(*src)["data"].is_object()) continue;
    for (const auto& [k, v] : (*src)["data"].items()) {
      if (!v.is_string()) continue;
      if (secret) {
        auto decoded = sluice::base64Decode(v.get<std::string>());
        if (decoded) vars[k] = *decoded;
      } else {
        vars[k] = v.get<std::string>();
      }
    }
  }
  for (const auto& [k, v] : spec.substitute) vars[k] = v;
  return vars;
}

// The state of one reconcile: what the status will say at the end, and the Events it will record.
struct KustomizationReconciler::Pass {
  struct Event {
    std::string type, reason, message;
  };
  json object;
  json status;
  int64_t generation = 0;
  Time now;
  std::vector<Event> events;

  // Ready False is a failure to report with a Warning, but for a dependency not ready yet: Flux waits for
  // it with a Normal Event, and says nothing of a source that has no artifact yet (it has its own).
  void ready(const std::string& st, const std::string& reason, const std::string& message) {
    if (st == "False" && reason != gitops::reason::kArtifactFailed) {
      if (reason == gitops::reason::kDependencyNotReady)
        events.push_back({"Normal", reason, message});
      else
        events.push_back({"Warning", reason, message});
    }
    gitops::setCondition(status, "Ready", st, reason, message, generation, now);
    if (st == "True") {
      gitops::removeCondition(status, "Reconciling");
    } else {
      gitops::setCondition(status, "Reconciling", "True", "ProgressingWithRetry", message, generation, now);
    }
    gitops::removeCondition(status, "Stalled");
  }
};

KustomizationReconciler::KustomizationReconciler(kube::Client& client, SourceResolver resolve,
                                                 const Clock& clock, KustomizationReconcilerOptions options)
    : client_(client),
      resolve_(std::move(resolve)),
      clock_(clock),
      options_(std::move(options)),
      builder_(
          std::make_unique<gitops::KustomizeBuilder>(options_.kustomizeBinary, options_.buildDirectory)) {}

KustomizationReconciler::~KustomizationReconciler() = default;

kube::Client& KustomizationReconciler::tenantClient(const std::string& ns,
                                                    const std::string& serviceAccountName,
                                                    std::unique_ptr<kube::Client>& owned) const {
  const std::string user = kustomizationUser(ns, serviceAccountName, options_.defaultServiceAccount);
  if (user.empty()) return client_;
  owned = client_.impersonating(kube::Impersonation{user, {}, ""});
  return *owned;
}

ReconcileOutcome KustomizationReconciler::finalize(const json& obj) {
  auto resource = client_.resourceFor(gitops::kKustomizationApiVersion, "Kustomization");
  if (!resource) return ReconcileOutcome::retry(describe(resource.error()));
  const std::string ns = obj["metadata"].value("namespace", "");
  const std::string name = obj["metadata"].value("name", "");
  const json spec = obj.contains("spec") ? obj["spec"] : json::object();
  const bool prune = spec.is_object() && spec.value("prune", false);
  const bool suspended = spec.is_object() && spec.value("suspend", false);
  if (prune && !suspended) {
    // Flux's MirrorPrune: the Kustomization's objects go with it, deleted as the account that applied them.
    const std::string account = spec.is_object() ? spec.value("serviceAccountName", "") : "";
    std::unique_ptr<kube::Client> owned;
    kube::Client& tenant = tenantClient(ns, account, owned);
    auto stale = gitops::staleEntries(gitops::readInventory(statusOf(obj)), {});
    auto pruned = gitops::prune(tenant, stale, name, ns);
    if (!pruned.ok())
      return ReconcileOutcome::retry("deleting the objects of " + ns + "/" + name + ": " + pruned.error);
  }
  json finalizers = json::array();
  for (const auto& f : obj["metadata"]["finalizers"])
    if (f != gitops::kKustomizationFinalizer) finalizers.push_back(f);
  json patch = {
      {"metadata",
       {{"finalizers", finalizers}, {"resourceVersion", obj["metadata"].value("resourceVersion", "")}}}};
  auto patched = client_.patch(*resource, ns, name, kube::PatchType::kMerge, patch);
  if (!patched && !patched.error().isNotFound()) return ReconcileOutcome::retry(describe(patched.error()));
  return ReconcileOutcome::done();
}

ReconcileOutcome KustomizationReconciler::reconcile(const std::string& key) {
  const auto slash = key.find('/');
  const std::string ns = slash == std::string::npos ? "" : key.substr(0, slash);
  const std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
  auto resource = client_.resourceFor(gitops::kKustomizationApiVersion, "Kustomization");
  if (!resource) return ReconcileOutcome::retry(describe(resource.error()));
  auto got = client_.get(*resource, ns, name);
  if (!got) {
    if (got.error().isNotFound()) return ReconcileOutcome::done();
    return ReconcileOutcome::retry(describe(got.error()));
  }
  json obj = std::move(got).value();
  if (obj["metadata"].contains("deletionTimestamp") && !obj["metadata"]["deletionTimestamp"].is_null()) {
    return hasFinalizer(obj) ? finalize(obj) : ReconcileOutcome::done();
  }
  if (!hasFinalizer(obj)) {
    json finalizers = obj["metadata"].value("finalizers", json::array());
    finalizers.push_back(gitops::kKustomizationFinalizer);
    json patch = {
        {"metadata",
         {{"finalizers", finalizers}, {"resourceVersion", obj["metadata"].value("resourceVersion", "")}}}};
    auto patched = client_.patch(*resource, ns, name, kube::PatchType::kMerge, patch);
    if (!patched) return ReconcileOutcome::retry(describe(patched.error()));
    obj = std::move(patched).value();
  }

  Pass pass;
  pass.object = obj;
  pass.status = statusOf(obj);
  pass.generation = obj["metadata"].value("generation", int64_t{0});
  pass.now = decisionTime(clock_);
  const json before = pass.status;
  // A reconcile asked for (`sluice reconcile kustomization`): the value is echoed once this pass has
  // written its outcome, so that the asker knows the Ready condition it reads is this pass's, as Flux.
  const std::string requestedAt =
      obj["metadata"].value("annotations", json::object()).value(gitops::kRequestedAtAnnotation, "");
  if (!requestedAt.empty()) pass.status["lastHandledReconcileAt"] = requestedAt;

  // Writes the status when it changed (one merge patch on the subresource), then records the pass's
  // Events (after: a pass whose status write failed runs again, and records them then), and returns
  // `outcome`. An Event that cannot be recorded is lost, never a reason to fail the pass.
  auto finish = [&](ReconcileOutcome outcome) {
    auto record = [&] {
      if (!options_.events) return;
      for (const auto& e : pass.events) (void)options_.events->record(obj, e.type, e.reason, e.message);
    };
    pass.status["observedGeneration"] = pass.generation;
    if (pass.status == before) {
      record();
      return outcome;
    }
    json body = pass.status;
    for (const auto& [k, v] : before.items())
      if (!body.contains(k)) body[k] = nullptr;
    auto written =
        client_.patch(*resource, ns, name, kube::PatchType::kMerge, {{"status", body}}, {}, "status");
    if (!written)
      return ReconcileOutcome::retry("writing the status of " + key + ": " + describe(written.error()));
    record();
    return outcome;
  };

  auto parsed = gitops::parseKustomization(obj);
  if (!parsed) {
    gitops::setCondition(pass.status, "Ready", "False", gitops::reason::kInvalidSpec, parsed.error(),
                         pass.generation, pass.now);
    gitops::setCondition(pass.status, "Stalled", "True", gitops::reason::kInvalidSpec, parsed.error(),
                         pass.generation, pass.now);
    // Once per spec: a pass that finds the same invalid spec writes nothing and says nothing.
    const json* was = gitops::findCondition(before, "Stalled");
    if (!was || was->value("message", "") != parsed.error())
      pass.events.push_back({"Warning", gitops::reason::kInvalidSpec, parsed.error()});
    return finish(ReconcileOutcome::done());  // terminal until the spec changes
  }
  const gitops::KustomizationSpec& spec = parsed->spec;
  if (spec.suspend) return ReconcileOutcome::done();
  const auto retry = ReconcileOutcome::requeueAfter(spec.effectiveRetryInterval());
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(spec.effectiveTimeout());

  auto artifact = resolve_(obj);
  if (!artifact) {
    pass.ready("False", gitops::reason::kArtifactFailed, artifact.error());
    return finish(retry);
  }
  const std::string revision = artifact->revision;

  for (const auto& dep : spec.dependsOn) {
    const std::string depNs = dep.ns.empty() ? ns : dep.ns;
    const std::string depKey = depNs + "/" + dep.name;
    std::string why;
    auto d = client_.get(*resource, depNs, dep.name);
    if (!d) {
      why = "dependency '" + depKey + "' " + (d.error().isNotFound() ? "not found" : describe(d.error()));
    } else {
      const json ds = statusOf(*d);
      const json* ready = gitops::findCondition(ds, "Ready");
      const json depSource = (*d)["spec"].value("sourceRef", json::object());
      const json ownSource = obj["spec"].value("sourceRef", json::object());
      const bool sameSource = depSource.value("kind", "") == ownSource.value("kind", "") &&
                              depSource.value("name", "") == ownSource.value("name", "") &&
                              depSource.value("namespace", depNs) == ownSource.value("namespace", ns);
      if (ds.value("observedGeneration", int64_t{-1}) != (*d)["metadata"].value("generation", int64_t{0}) ||
          !ready || ready->value("status", "") != "True") {
        why = "dependency '" + depKey + "' is not ready";
      } else if (sameSource && !gitops::sameContent(ds.value("lastAppliedRevision", ""), revision)) {
        why = "dependency '" + depKey + "' is not up to date with revision ";
        why += revision;
      }
    }
    if (!why.empty()) {
      pass.ready("False", gitops::reason::kDependencyNotReady, why);
      return finish(ReconcileOutcome::requeueAfter(options_.dependencyRequeue));
    }
  }
  pass.status["lastAttemptedRevision"] = revision;

  auto vars = postBuildVariables(client_, ns, spec);
  if (!vars) {
    pass.ready("False", gitops::reason::kBuildFailed, vars.error());
    return finish(retry);
  }

  // SOPS decryption with the age identities of the Secret the spec names, read at each reconcile so that
  // a rotated key is used at once. A failure is BuildFailed as in Flux (whose build decrypts); the
  // messages name the Secret and its entry, never their content.
  std::optional<gitops::SopsBuildDecryptor> decryptor;
  if (spec.decryption) {
    const std::string secretKey = ns + "/" + spec.decryption->secretRefName;
    auto r = client_.resourceFor("v1", "Secret");
    auto secret = r ? client_.get(*r, ns, spec.decryption->secretRefName) : kube::ApiResult<json>(r.error());
    if (!secret) {
      pass.ready("False", gitops::reason::kBuildFailed,
                 secret.error().isNotFound()
                     ? "decryption Secret '" + secretKey +
                           "' not found: it must hold the age keys in .agekey entries"
                     : "cannot get the decryption Secret '" + secretKey + "': " + describe(secret.error()));
      return finish(retry);
    }
    auto identities = gitops::ageIdentitiesFromSecret(*secret);
    if (!identities) {
      pass.ready("False", gitops::reason::kBuildFailed, "decryption keys: " + identities.error());
      return finish(retry);
    }
    decryptor.emplace(std::move(*identities));
  }

  auto built =
      builder_->build(artifact->directory, spec, *vars, timeout, decryptor ? &*decryptor : nullptr, revision);
  if (!built) {
    pass.ready("False", gitops::reason::kBuildFailed, built.error());
    return finish(retry);
  }

  // From here every request about the build's objects (dry run, apply, prune, health) goes as the
  // Kustomization's service account when it has one: the API server's RBAC decides what it may touch.
  std::unique_ptr<kube::Client> impersonating;
  kube::Client& tenant = tenantClient(ns, spec.serviceAccountName, impersonating);

  const auto oldInventory = gitops::readInventory(pass.status);
  gitops::ApplySetOptions ao;
  ao.ownerName = name;
  ao.ownerNamespace = ns;
  ao.force = spec.force;
  ao.fieldManager = options_.fieldManager;
  ao.waitTimeout = timeout;
  ao.clock = &clock_;
  // A revision not applied before is checked whole by a dry run first, so that a refusal changes nothing;
  // the revision already applied was accepted then, and an interval only corrects drift.
  ao.validateFirst = gitops::findCondition(pass.status, "Ready") == nullptr ||
                     pass.status.value("lastAppliedRevision", "") != revision ||
                     pass.status.value("observedGeneration", int64_t{-1}) != pass.generation;
  auto applied = gitops::applyAll(tenant, std::move(*built), ao);
  if (!applied.ok()) {
    // What was applied before the failure stays tracked, so a later prune still finds it.
    if (!applied.entries.empty())
      pass.status["inventory"] = gitops::inventoryJson(unionOf(oldInventory, inventoryOf(applied)));
    pass.ready("False", gitops::reason::kReconciliationFailed, applied.error);
    return finish(retry);
  }
  auto inventory = inventoryOf(applied);
  std::optional<gitops::PruneReport> pruned;
  if (spec.prune) {
    pruned = gitops::prune(tenant, gitops::staleEntries(oldInventory, inventory), name, ns);
    inventory = unionOf(inventory, pruned->failed);
    pass.status["inventory"] = gitops::inventoryJson(inventory);
    if (!pruned->ok()) {
      pass.ready("False", gitops::reason::kPruneFailed, pruned->error);
      return finish(retry);
    }
  } else {
    pass.status["inventory"] = gitops::inventoryJson(inventory);
  }

  // Health: every applied object with wait, else the listed ones.
  std::vector<gitops::ObjectKey> checks;
  if (spec.wait) {
    for (const auto& e : applied.entries)
      if (e.action != gitops::ApplyAction::kSkipped) checks.push_back(e.key);
  } else {
    for (const auto& h : spec.healthChecks) {
      gitops::ObjectKey k = gitops::objectKey({{"apiVersion", h.apiVersion}, {"kind", h.kind}});
      k.name = h.name;
      k.ns = h.ns.empty() ? ns : h.ns;
      checks.push_back(k);
    }
  }
  const std::string changes = changeSet(applied, pruned ? &*pruned : nullptr);
  if (!checks.empty()) {
    // What the health checks wait for, told before the wait (which may take up to spec.timeout).
    if (!changes.empty() && options_.events)
      (void)options_.events->record(obj, "Normal", gitops::reason::kProgressing, changes);
    const auto started = clock_.now();
    const auto deadline = started + timeout;
    std::string failure;
    for (;;) {
      std::vector<std::string> waiting;
      for (const auto& k : checks) {
        auto r = tenant.resourceFor(k.apiVersion(), k.kind);
        auto live = r ? tenant.get(*r, r->namespaced ? k.ns : "", k.name) : kube::ApiResult<json>(r.error());
        const gitops::Health h = live ? gitops::assessHealth(*live)
                                      : gitops::Health{gitops::HealthState::kInProgress, "not found"};
        if (h.state == gitops::HealthState::kFailed) {
          failure = k.describe() + " status: 'Failed': " + h.message;
          break;
        }
        if (h.state != gitops::HealthState::kCurrent)
          waiting.push_back(k.describe() + " status: '" + gitops::healthStateName(h.state) + "'");
      }
      if (!failure.empty() || waiting.empty()) break;
      if (clock_.now() + options_.healthPollInterval > deadline) {
        failure = "timeout waiting for: [";
        for (size_t i = 0; i < waiting.size(); ++i) failure += (i ? ", " : "") + waiting[i];
        failure += "]";
        break;
      }
      std::this_thread::sleep_for(options_.healthPollInterval);
    }
    if (!failure.empty()) {
      gitops::setCondition(pass.status, "Healthy", "False", gitops::reason::kHealthCheckFailed, failure,
                           pass.generation, pass.now);
      pass.ready("False", gitops::reason::kHealthCheckFailed, failure);
      return finish(retry);
    }
    // The message of a health check that keeps passing stays as it was: an interval writes nothing.
    const json* old = gitops::findCondition(pass.status, "Healthy");
    if (!old || old->value("status", "") != "True" || applied.changed()) {
      const auto took = std::chrono::duration_cast<Duration>(clock_.now() - started);
      gitops::setCondition(pass.status, "Healthy", "True", gitops::reason::kHealthSucceeded,
                           "Health check passed in " + formatDuration(took), pass.generation, pass.now);
    }
  } else {
    gitops::removeCondition(pass.status, "Healthy");
  }
  // Success is told when the pass changed objects, applied a new revision, or recovered; a no-drift
  // interval records nothing (it writes nothing at all).
  const json* wasReady = gitops::findCondition(before, "Ready");
  const bool recovered = !wasReady || wasReady->value("status", "") != "True";
  const bool newRevision = before.value("lastAppliedRevision", "") != revision;
  if (!changes.empty() || recovered || newRevision) {
    std::string message = changes.empty() ? "Applied revision: " + revision : changes;
    if (const json* healthy = gitops::findCondition(pass.status, "Healthy"); healthy && !changes.empty())
      message += "\n" + healthy->value("message", "");
    pass.events.push_back({"Normal", gitops::reason::kSucceeded, message});
  }
  pass.status["lastAppliedRevision"] = revision;
  pass.ready("True", gitops::reason::kSucceeded, "Applied revision: " + revision);
  return finish(ReconcileOutcome::requeueAfter(spec.interval));
}

}  // namespace sluice::controller
