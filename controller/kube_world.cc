// The engine's actions as Kubernetes API writes (see kube_world.h).
#include "controller/kube_world.h"

#include <algorithm>
#include <charconv>

#include "analysis/model_json.h"
#include "base/diagnostics.h"
#include "base/source.h"
#include "controller/metrics.h"
#include "controller/recent_writes.h"
#include "controller/resources.h"
#include "controller/traffic_objects.h"
#include "engine/experiment_json.h"
#include "engine/rollout_json.h"
#include "kube/client.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/owners.h"
#include "kube/patch.h"
#include "shell/rollout_document.h"
#include "traffic/router.h"

namespace sluice::controller {

using nlohmann::json;

namespace {

std::string str(const json& obj, const char* pointer) {
  const json v = obj.value(json::json_pointer(pointer), json());
  return v.is_string() ? v.get<std::string>() : std::string();
}

int integer(const json& obj, const char* pointer, int fallback = 0) {
  const json v = obj.value(json::json_pointer(pointer), json());
  return v.is_number_integer() ? v.get<int>() : fallback;
}

std::optional<int64_t> parseInt(const std::string& text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The label of `obj` escaped for a JSON pointer (label keys contain '/').
std::string label(const json& obj, const std::string& key) {
  const json labels = obj.value(json::json_pointer("/metadata/labels"), json::object());
  if (!labels.is_object()) return "";
  const auto it = labels.find(key);
  return it != labels.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string annotation(const json& obj, const std::string& key) {
  const json annotations = obj.value(json::json_pointer("/metadata/annotations"), json::object());
  if (!annotations.is_object()) return "";
  const auto it = annotations.find(key);
  return it != annotations.end() && it->is_string() ? it->get<std::string>() : "";
}

// The label key a ReplicaSet's selector picks its pods by: Argo Rollouts' on one Argo made (adopted or
// not), Sluice's otherwise.
std::string hashLabelOf(const json& rs) {
  const json labels = rs.value(json::json_pointer("/spec/selector/matchLabels"), json::object());
  const bool argo = labels.is_object() && labels.contains(engine::kArgoPodTemplateHashLabel) &&
                    !labels.contains(engine::kPodTemplateHashLabel);
  return argo ? engine::kArgoPodTemplateHashLabel : engine::kPodTemplateHashLabel;
}

engine::ReplicaSetView replicaSetView(const json& rs) {
  engine::ReplicaSetView v;
  v.name = str(rs, "/metadata/name");
  v.hashLabel = hashLabelOf(rs);
  v.podTemplateHash = label(rs, engine::kPodTemplateHashLabel);
  std::string revision = annotation(rs, kRevisionAnnotation);
  if (v.hashLabel == engine::kArgoPodTemplateHashLabel) {
    if (v.podTemplateHash.empty()) v.podTemplateHash = label(rs, engine::kArgoPodTemplateHashLabel);
    if (revision.empty()) revision = annotation(rs, engine::kArgoRevisionAnnotation);
    v.podTemplate = rs.value(json::json_pointer("/spec/template"), json::object());
  }
  v.revision = parseInt(revision).value_or(0);
  v.specReplicas = integer(rs, "/spec/replicas", 1);  // the API server's default
  v.replicas = integer(rs, "/status/replicas");
  v.readyReplicas = integer(rs, "/status/readyReplicas");
  v.availableReplicas = integer(rs, "/status/availableReplicas");
  v.minReadySeconds = integer(rs, "/spec/minReadySeconds");
  if (auto created = parseRfc3339(str(rs, "/metadata/creationTimestamp"))) v.createdAt = *created;
  if (const std::string deadline = annotation(rs, kScaleDownDeadlineAnnotation); !deadline.empty()) {
    if (auto t = parseRfc3339(deadline)) v.scaleDownDeadline = *t;
  }
  if (const std::string metadata = annotation(rs, engine::kEphemeralMetadataAnnotation); !metadata.empty())
    v.podMetadata = engine::podMetadataFromJson(metadata);
  return v;
}

// The metadata part of a merge patch that takes an object's labels and annotations from ephemeral
// metadata `from` to `to`: the keys only `from` has are removed, those of `to` set.
json ephemeralMetadataPatch(const std::optional<engine::PodMetadata>& from,
                            const std::optional<engine::PodMetadata>& to) {
  json patch = json::object();
  using Field = std::map<std::string, std::string> engine::PodMetadata::*;
  for (auto [name, field] :
       {std::pair<const char*, Field>{"labels", &engine::PodMetadata::labels},
        std::pair<const char*, Field>{"annotations", &engine::PodMetadata::annotations}}) {
    if (from) {
      for (const auto& [key, value] : (*from).*field) patch[name][key] = nullptr;
    }
    if (to) {
      for (const auto& [key, value] : (*to).*field) patch[name][key] = value;
    }
  }
  return patch;
}

engine::ExperimentView experimentView(const json& ex) {
  engine::ExperimentView v;
  v.name = str(ex, "/metadata/name");
  v.podTemplateHash = label(ex, engine::kPodTemplateHashLabel);
  if (auto step = parseInt(label(ex, kStepIndexLabel))) v.stepIndex = static_cast<int>(*step);
  if (auto phase = analysis::phaseFromName(str(ex, "/status/phase"))) v.phase = *phase;
  v.message = str(ex, "/status/message");
  v.terminate = ex.value(json::json_pointer("/spec/terminate"), false) == true;
  if (auto created = parseRfc3339(str(ex, "/metadata/creationTimestamp"))) v.createdAt = *created;
  if (auto status = engine::experimentStatusFromJson(ex.value("status", json::object())))
    v.templates = std::move(status->templateStatuses);
  return v;
}

engine::AnalysisRunView analysisRunView(const json& run) {
  engine::AnalysisRunView v;
  v.name = str(run, "/metadata/name");
  v.type = engine::analysisRunTypeFromName(label(run, kAnalysisTypeLabel));
  v.podTemplateHash = label(run, engine::kPodTemplateHashLabel);
  if (auto step = parseInt(label(run, kStepIndexLabel))) v.stepIndex = static_cast<int>(*step);
  if (auto phase = analysis::phaseFromName(str(run, "/status/phase"))) v.phase = *phase;
  v.message = str(run, "/status/message");
  v.terminated = run.value(json::json_pointer("/spec/terminate"), false) == true;
  if (auto created = parseRfc3339(str(run, "/metadata/creationTimestamp"))) v.createdAt = *created;
  return v;
}

Error apiError(const kube::ApiError& e) { return Error{e.describe()}; }

std::optional<Time> timestamp(const json& obj, const char* pointer) {
  auto t = parseRfc3339(str(obj, pointer));
  return t ? std::optional<Time>(*t) : std::nullopt;
}

// Whether a pod counts as available at `now`: Ready for at least the ReplicaSet's minReadySeconds.
bool podAvailable(const json& pod, int minReadySeconds, Time now) {
  const json conditions = pod.value(json::json_pointer("/status/conditions"), json::array());
  if (!conditions.is_array()) return false;
  for (const auto& c : conditions) {
    if (!c.is_object() || c.value("type", "") != "Ready") continue;
    if (c.value("status", "") != "True") return false;
    if (minReadySeconds <= 0) return true;
    const auto since = timestamp(c, "/lastTransitionTime");
    return since && *since + Duration{minReadySeconds} <= now;
  }
  return false;
}

}  // namespace

KubeWorld::KubeWorld(const RolloutCluster& cluster, const json& rollout)
    : cluster_(cluster),
      kind_(rollout.value("kind", std::string("Rollout"))),
      name_(str(rollout, "/metadata/name")),
      ns_(str(rollout, "/metadata/namespace")),
      uid_(str(rollout, "/metadata/uid")),
      rollout_(rollout),
      canaryService_(str(rollout, "/spec/strategy/canary/canaryService")),
      stableService_(str(rollout, "/spec/strategy/canary/stableService")),
      pingService_(str(rollout, "/spec/strategy/canary/pingPong/pingService")),
      pongService_(str(rollout, "/spec/strategy/canary/pingPong/pongService")),
      activeService_(str(rollout, "/spec/strategy/blueGreen/activeService")),
      previewService_(str(rollout, "/spec/strategy/blueGreen/previewService")) {
  const json steps = rollout.value(json::json_pointer("/spec/strategy/canary/steps"), json::array());
  for (const auto& step : steps.is_array() ? steps : json::array()) {
    hasExperimentStep_ = hasExperimentStep_ || (step.is_object() && step.contains("experiment"));
  }
}

KubeWorld::~KubeWorld() = default;

json KubeWorld::ownerReference() const {
  return json{
      {"apiVersion", kGroupVersion}, {"kind", kind_}, {"name", name_}, {"uid", uid_}, {"controller", true},
      {"blockOwnerDeletion", true}};
}

Result<engine::Observed> KubeWorld::observe(Time now, std::optional<Time> restartAt) {
  engine::Observed out;
  restartCandidates_.clear();
  auto owned = [this](const json& obj) { return kube::controlledBy(obj, uid_); };
  for (const auto& rs : cluster_.replicaSetWrites->overlay(cluster_.replicaSets->byOwner(uid_), owned)) {
    if (!owned(rs)) continue;
    out.replicaSets.push_back(replicaSetView(rs));
    engine::ReplicaSetView& view = out.replicaSets.back();
    if (!restartAt) continue;
    if (view.specReplicas == 0 && view.replicas == 0) {  // no pod to count: no request
      view.restartPods = engine::RestartPodCounts{};
      continue;
    }
    auto counts = countPods(rs, *restartAt, now);
    if (!counts) return Error{counts.error()};
    view.restartPods = *counts;
  }
  for (const auto& run : cluster_.analysisRunWrites->overlay(cluster_.analysisRuns->byOwner(uid_), owned)) {
    if (owned(run)) out.analysisRuns.push_back(analysisRunView(run));
  }
  if (cluster_.experiments) {
    for (const auto& ex : cluster_.experimentWrites->overlay(cluster_.experiments->byOwner(uid_), owned)) {
      if (owned(ex)) out.experiments.push_back(experimentView(ex));
    }
  }
  // An experiment step copies the stable or the canary pod template, as their ReplicaSets have it.
  if (hasExperimentStep_) {
    for (const auto& rs : cluster_.replicaSetWrites->overlay(cluster_.replicaSets->byOwner(uid_), owned)) {
      if (!owned(rs)) continue;
      out.podTemplates[label(rs, engine::kPodTemplateHashLabel)] =
          rs.value(json::json_pointer("/spec/template"), json::object());
    }
  }
  for (const std::string* service :
       {&canaryService_, &stableService_, &pingService_, &pongService_, &activeService_, &previewService_}) {
    if (service->empty()) continue;
    const std::string key = ns_ + "/" + *service;
    const auto obj = cluster_.serviceWrites->view(key, cluster_.services->get(key));
    if (!obj) {
      out.missingServices.insert(*service);
      continue;
    }
    // By Sluice's key, or by Argo's on a Service that still selects a revision Argo Rollouts made.
    const json selector = obj->value(json::json_pointer("/spec/selector"), json::object());
    std::string& selected = out.serviceSelectors[*service];
    for (const char* hashKey : {engine::kPodTemplateHashLabel, engine::kArgoPodTemplateHashLabel}) {
      const auto it = selector.is_object() ? selector.find(hashKey) : selector.end();
      if (selected.empty() && it != selector.end() && it->is_string()) selected = it->get<std::string>();
    }
  }
  out.adoptableReplicaSets = adoptable();
  out.foreignReplicaSetNames = foreignReplicaSets_;
  auto routes = router();
  if (!routes) return trafficRoutingFailed(routes.error());
  if (*routes) {
    auto weights = (*routes)->inForce(
        [this](const std::string& kind, const std::string& name) { return lookup(kind, name); });
    if (!weights) return trafficRoutingFailed(weights.error());
    out.trafficWeights = *weights;
  }
  return out;
}

// Lists the pods of one ReplicaSet (those it controls, by its pod-template-hash label) and counts them
// against restartAt; remembers the ones to restart, oldest first, for RestartPods.
Result<engine::RestartPodCounts> KubeWorld::countPods(const json& rs, Time restartAt, Time now) {
  const std::string rsName = str(rs, "/metadata/name");
  const std::string rsUid = str(rs, "/metadata/uid");
  const int minReadySeconds = integer(rs, "/spec/minReadySeconds");
  kube::ListOptions options;
  const std::string key = hashLabelOf(rs);
  options.labelSelector = key + "=" + label(rs, key);
  auto pods = cluster_.client->listAll(podsResource(), ns_, options);
  if (!pods) return Error{"list the pods of ReplicaSet " + rsName + ": " + pods.error().describe()};
  engine::RestartPodCounts counts;
  std::vector<std::pair<Time, std::string>> candidates;
  for (const auto& pod : pods->value("items", json::array())) {
    if (!kube::controlledBy(pod, rsUid)) continue;
    const bool deleting = pod.contains("metadata") && pod["metadata"].contains("deletionTimestamp");
    if (!deleting && podAvailable(pod, minReadySeconds, now)) ++counts.available;
    const auto created = timestamp(pod, "/metadata/creationTimestamp");
    if (!created || *created >= restartAt) continue;
    ++counts.createdBefore;
    if (deleting) {
      ++counts.deleting;
    } else {
      candidates.emplace_back(*created, str(pod, "/metadata/name"));
    }
  }
  std::sort(candidates.begin(), candidates.end());
  auto& names = restartCandidates_[rsName];
  for (auto& c : candidates) names.push_back(std::move(c.second));
  return counts;
}

// Evicts the oldest pods the last observe found (the Eviction API, so PodDisruptionBudgets are honoured).
Result<bool> KubeWorld::restartPods(const engine::RestartPods& a) {
  const auto found = restartCandidates_.find(a.replicaSet);
  if (found == restartCandidates_.end()) return false;
  bool changed = false;
  int asked = 0;
  for (const std::string& pod : found->second) {
    if (asked++ >= a.count) break;
    const json eviction = {
        {"apiVersion", "policy/v1"}, {"kind", "Eviction"}, {"metadata", {{"name", pod}, {"namespace", ns_}}}};
    auto evicted = cluster_.client->createSubresource(podsResource(), ns_, pod, "eviction", eviction,
                                                      {false, cluster_.fieldManager});
    if (evicted) {
      changed = true;
    } else if (evicted.error().isNotFound()) {
      changed = true;  // gone already: its ReplicaSet replaces it all the same
    } else if (!evicted.error().isTooManyRequests()) {
      return Error{"evict pod " + pod + ": " + evicted.error().describe()};
    }
    // 429: a PodDisruptionBudget refuses for now; the pod is asked again on a later reconcile.
  }
  return changed;
}

Result<bool> KubeWorld::apply(const engine::Action& action, Time /*now*/) {
  if (const auto* a = std::get_if<engine::CreateReplicaSet>(&action)) return createReplicaSet(*a);
  if (const auto* a = std::get_if<engine::ScaleReplicaSet>(&action)) return scaleReplicaSet(*a);
  if (const auto* a = std::get_if<engine::SetPodMetadata>(&action)) return setPodMetadata(*a);
  if (const auto* a = std::get_if<engine::DeleteReplicaSet>(&action)) return deleteReplicaSet(*a);
  if (const auto* a = std::get_if<engine::AdoptReplicaSet>(&action)) return adoptReplicaSet(*a);
  if (const auto* a = std::get_if<engine::SetServiceSelector>(&action)) return pointService(*a);
  if (const auto* a = std::get_if<engine::TerminateAnalysisRun>(&action)) return terminateRun(*a);
  if (const auto* a = std::get_if<engine::CreateExperiment>(&action)) return createExperiment(*a);
  if (const auto* a = std::get_if<engine::TerminateExperiment>(&action)) return terminateExperiment(*a);
  if (const auto* a = std::get_if<engine::DeleteExperiment>(&action)) return deleteExperiment(*a);
  if (const auto* a = std::get_if<engine::CreateService>(&action)) return createService(*a);
  if (const auto* a = std::get_if<engine::DeleteService>(&action)) return deleteService(*a);
  if (const auto* a = std::get_if<engine::DeleteAnalysisRun>(&action)) return deleteRun(*a);
  if (const auto* a = std::get_if<engine::EmitEvent>(&action)) return emitEvent(*a);
  if (const auto* a = std::get_if<engine::RestartPods>(&action)) return restartPods(*a);
  if (const auto* a = std::get_if<engine::ScaleWorkload>(&action)) return scaleWorkload(*a);
  // The rest are the router's: weights, header and mirror routes.
  auto routed = applyRouted(action);
  if (!routed) return trafficRoutingFailed(routed.error());
  return routed;
}

Error KubeWorld::trafficRoutingFailed(const std::string& why) {
  trafficRoutingError_ = why;
  return Error{why};
}

Result<bool> KubeWorld::applyRouted(const engine::Action& action) {
  auto routes = router();
  if (!routes) return Error{routes.error()};
  if (!*routes) return Error{"a traffic action for a Rollout without spec.strategy.canary.trafficRouting"};
  const traffic::ObjectLookup get = [this](const std::string& kind, const std::string& name) {
    return lookup(kind, name);
  };
  Result<traffic::Writes> writes = traffic::Writes{};
  if (const auto* a = std::get_if<engine::SetTrafficWeight>(&action)) {
    writes = (*routes)->setWeight(get, *a);
  } else if (const auto* h = std::get_if<engine::SetHeaderRoute>(&action)) {
    writes = (*routes)->setHeaderRoute(get, h->route);
  } else if (const auto* m = std::get_if<engine::SetMirrorRoute>(&action)) {
    writes = (*routes)->setMirrorRoute(get, m->route);
  } else if (std::holds_alternative<engine::RemoveManagedRoutes>(action)) {
    writes = (*routes)->removeManagedRoutes(get);
  } else {
    return Error{"an action this world does not carry out"};
  }
  if (!writes) return Error{writes.error()};
  return write(*writes);
}

Result<traffic::Router*> KubeWorld::router() {
  if (router_) return router_.get();
  if (rollout_.value(json::json_pointer("/spec/strategy/canary/trafficRouting"), json()).is_null())
    return static_cast<traffic::Router*>(nullptr);
  Diagnostics diags;
  auto parsed = engine::parseRollout(rollout_, SourceMap(), diags);
  if (!parsed) return Error{diags.format()};
  auto made = traffic::makeRouter(*parsed, cluster_.router);  // the router keeps what it needs of the Rollout
  if (!made) return Error{made.error()};
  // The caches of the kinds it reads, started now for a kind no Rollout used before (a CRD's, Istio's).
  // The first Rollout of a kind waits for that cache's first list; a kind the cluster does not serve is an
  // error naming it, retried with backoff.
  if (!cluster_.traffic) return Error{"this world has no traffic objects"};
  for (const auto& kind : (*made)->kinds()) {
    auto cache = cluster_.traffic->cache(kind, std::chrono::seconds(5));
    if (!cache) return Error{cache.error()};
  }
  router_ = std::move(*made);
  return router_.get();
}

std::optional<json> KubeWorld::lookup(const std::string& kind, const std::string& name) const {
  if (!cluster_.traffic) return std::nullopt;
  auto cache = cluster_.traffic->cache(kind, std::chrono::milliseconds(0));
  if (!cache) return std::nullopt;  // router() made sure the router's kinds are cached
  const std::string key = ns_ + "/" + name;
  return (*cache)->writes.view(key, (*cache)->informer.get(key));
}

Result<bool> KubeWorld::write(const std::vector<traffic::ObjectWrite>& writes) {
  for (const auto& w : writes) {
    auto cache = cluster_.traffic
                     ? cluster_.traffic->cache(w.kind, std::chrono::milliseconds(0))
                     : Result<TrafficObjects::Cache*>(Error{"this world has no traffic objects"});
    if (!cache) return Error{"the router asked to write a " + w.kind + ": " + cache.error()};
    const kube::WriteOptions options{false, cluster_.fieldManager};
    const kube::ResourceRef& resource = (*cache)->resource;
    if (w.op == traffic::ObjectWrite::Op::Delete) {
      auto removed = cluster_.client->remove(resource, ns_, w.name);
      if (!removed && !removed.error().isNotFound()) return apiError(removed.error());
      (*cache)->writes.deleted(ns_ + "/" + w.name);
      continue;
    }
    auto written =
        w.op == traffic::ObjectWrite::Op::Create
            ? cluster_.client->create(resource, ns_, w.body, options)
            : cluster_.client->patch(resource, ns_, w.name, kube::PatchType::kMerge, w.body, options);
    if (!written) return apiError(written.error());
    (*cache)->writes.wrote(*written);
  }
  return !writes.empty();
}

Result<bool> KubeWorld::createReplicaSet(const engine::CreateReplicaSet& a) {
  json labels = a.podTemplate.value(json::json_pointer("/metadata/labels"), json::object());
  json annotations = {{kRevisionAnnotation, std::to_string(a.revision)}};
  if (a.podMetadata)
    annotations[engine::kEphemeralMetadataAnnotation] = engine::podMetadataToJson(*a.podMetadata);
  json rs = {
      {"apiVersion", "apps/v1"},
      {"kind", "ReplicaSet"},
      {"metadata",
       {{"name", a.name},
        {"namespace", ns_},
        {"labels", labels},
        {"annotations", annotations},
        {"ownerReferences", json::array({ownerReference()})}}},
      {"spec",
       {{"replicas", a.replicas},
        {"minReadySeconds", a.minReadySeconds},
        {"selector", a.selector},
        {"template", a.podTemplate}}},
  };
  auto created = cluster_.client->create(replicaSetsResource(), ns_, rs, {false, cluster_.fieldManager});
  if (!created) {
    if (!created.error().isAlreadyExists()) return apiError(created.error());
    // Ours (the cache had not caught up): the cluster keeps the one it has, as the simulated world does,
    // and it is observed on the next pass. Another owner's: the next observe says so, and the engine
    // hashes again with a new collision count (a Rollout's), or puts the template in Error (an
    // Experiment's, whose name carries no hash).
    auto existing = cluster_.client->get(replicaSetsResource(), ns_, a.name);
    if (!existing) return apiError(existing.error());
    if (kube::controlledBy(*existing, uid_)) return false;
    foreignReplicaSets_.insert(a.name);
    return true;
  }
  cluster_.replicaSetWrites->wrote(*created);
  return true;
}

Result<bool> KubeWorld::scaleReplicaSet(const engine::ScaleReplicaSet& a) {
  json patch = {{"spec", {{"replicas", a.replicas}}}};
  if (a.minReadySeconds) patch["spec"]["minReadySeconds"] = *a.minReadySeconds;
  if (a.revision) patch["metadata"]["annotations"][kRevisionAnnotation] = std::to_string(*a.revision);
  if (a.deadlineChange == engine::DeadlineChange::Set) {
    patch["metadata"]["annotations"][kScaleDownDeadlineAnnotation] = formatRfc3339(a.scaleDownDeadline);
  } else if (a.deadlineChange == engine::DeadlineChange::Clear) {
    patch["metadata"]["annotations"][kScaleDownDeadlineAnnotation] = nullptr;
  }
  auto patched = cluster_.client->patch(replicaSetsResource(), ns_, a.name, kube::PatchType::kMerge, patch,
                                        {false, cluster_.fieldManager});
  if (!patched) {
    if (patched.error().isNotFound()) return false;
    return apiError(patched.error());
  }
  cluster_.replicaSetWrites->wrote(*patched);
  return true;
}

// The ReplicaSet's pod template first (new pods get the new metadata), then each of its pods in place.
Result<bool> KubeWorld::setPodMetadata(const engine::SetPodMetadata& a) {
  const json metadata = ephemeralMetadataPatch(a.from, a.to);
  json patch = {{"spec", {{"template", {{"metadata", metadata}}}}}};
  patch["metadata"]["annotations"][engine::kEphemeralMetadataAnnotation] =
      a.to ? json(engine::podMetadataToJson(*a.to)) : json(nullptr);
  auto patched = cluster_.client->patch(replicaSetsResource(), ns_, a.replicaSet, kube::PatchType::kMerge,
                                        patch, {false, cluster_.fieldManager});
  if (!patched) {
    if (patched.error().isNotFound()) return false;
    return apiError(patched.error());
  }
  cluster_.replicaSetWrites->wrote(*patched);
  if (metadata.empty()) return true;
  kube::ListOptions options;
  options.labelSelector = a.hashLabel + "=" + a.podTemplateHash;
  auto pods = cluster_.client->listAll(podsResource(), ns_, options);
  if (!pods) return Error{"list the pods of ReplicaSet " + a.replicaSet + ": " + pods.error().describe()};
  const std::string rsUid = str(*patched, "/metadata/uid");
  const json podPatch = {{"metadata", metadata}};
  for (const auto& pod : pods->value("items", json::array())) {
    if (!kube::controlledBy(pod, rsUid)) continue;
    const std::string podName = str(pod, "/metadata/name");
    auto done = cluster_.client->patch(podsResource(), ns_, podName, kube::PatchType::kMerge, podPatch,
                                       {false, cluster_.fieldManager});
    if (!done && !done.error().isNotFound()) return Error{"pod " + podName + ": " + done.error().describe()};
  }
  return true;
}

Result<bool> KubeWorld::deleteReplicaSet(const engine::DeleteReplicaSet& a) {
  kube::DeleteOptions options;
  options.propagationPolicy = "Background";
  auto removed = cluster_.client->remove(replicaSetsResource(), ns_, a.name, options);
  if (!removed) {
    if (removed.error().isNotFound()) return false;
    return apiError(removed.error());
  }
  cluster_.replicaSetWrites->deleted(ns_ + "/" + a.name);
  return true;
}

// One merge patch: the revision's key set, the other hash key (Sluice's or Argo's) removed, so the
// Service never selects by both keys at once.
Result<bool> KubeWorld::pointService(const engine::SetServiceSelector& a) {
  json selector = {{a.hashLabel, a.podTemplateHash}};
  for (const char* key : {engine::kPodTemplateHashLabel, engine::kArgoPodTemplateHashLabel}) {
    if (a.hashLabel != key) selector[key] = nullptr;
  }
  const json patch = {{"spec", {{"selector", selector}}}};
  auto patched = cluster_.client->patch(servicesResource(), ns_, a.service, kube::PatchType::kMerge, patch,
                                        {false, cluster_.fieldManager});
  if (!patched) return apiError(patched.error());
  cluster_.serviceWrites->wrote(*patched);
  return true;
}

std::vector<engine::ReplicaSetView> KubeWorld::adoptable() const {
  std::vector<engine::ReplicaSetView> out;
  if (!cluster_.argoReplicaSets) return out;
  for (const auto& cached : cluster_.argoReplicaSets->byNamespace(ns_)) {
    const auto rs = cluster_.replicaSetWrites->view(ns_ + "/" + str(cached, "/metadata/name"),
                                                    std::optional<json>(cached));
    if (!rs || kube::controlledBy(*rs, uid_) || !str(*rs, "/metadata/deletionTimestamp").empty()) continue;
    const std::string hash = label(*rs, engine::kArgoPodTemplateHashLabel);
    if (hash.empty() || str(*rs, "/metadata/name") != name_ + "-" + hash ||
        hashLabelOf(*rs) != engine::kArgoPodTemplateHashLabel)
      continue;
    // Its controller: Argo's Rollout of this name, or none (orphaned when Argo's Rollout was deleted).
    bool argosOrNone = true;
    const json refs = rs->value(json::json_pointer("/metadata/ownerReferences"), json::array());
    for (const auto& ref : refs.is_array() ? refs : json::array()) {
      if (!ref.is_object() || ref.value("controller", false) != true) continue;
      argosOrNone = ref.value("kind", "") == "Rollout" && ref.value("name", "") == name_ &&
                    ref.value("apiVersion", "").rfind("argoproj.io/", 0) == 0;
    }
    if (argosOrNone) out.push_back(replicaSetView(*rs));
  }
  return out;
}

// The Rollout becomes the controller in place of Argo's Rollout (whose references go, so deleting Argo's
// Rollout later leaves it alone); Sluice's hash label on the ReplicaSet (not on its selector nor its
// template) brings it into the cache of Sluice's ReplicaSets; Argo's revision and scale-down deadline are
// copied to Sluice's annotations. Its resourceVersion makes the write fail if it changed meanwhile.
Result<bool> KubeWorld::adoptReplicaSet(const engine::AdoptReplicaSet& a) {
  const std::string key = ns_ + "/" + a.name;
  const auto rs = cluster_.replicaSetWrites->view(
      key, cluster_.argoReplicaSets ? cluster_.argoReplicaSets->get(key) : std::nullopt);
  if (!rs) return false;
  if (kube::controlledBy(*rs, uid_)) return false;
  json owners = json::array({ownerReference()});
  const json refs = rs->value(json::json_pointer("/metadata/ownerReferences"), json::array());
  for (const auto& ref : refs.is_array() ? refs : json::array()) {
    if (!ref.is_object()) continue;
    const bool argos =
        ref.value("apiVersion", "").rfind("argoproj.io/", 0) == 0 && ref.value("kind", "") == "Rollout";
    if (!argos && ref.value("controller", false) != true) owners.push_back(ref);
  }
  json meta = {{"resourceVersion", str(*rs, "/metadata/resourceVersion")},
               {"ownerReferences", owners},
               {"labels", {{engine::kPodTemplateHashLabel, a.podTemplateHash}}}};
  for (const auto& [from, to] :
       {std::pair{engine::kArgoRevisionAnnotation, kRevisionAnnotation},
        std::pair{engine::kArgoScaleDownDeadlineAnnotation, kScaleDownDeadlineAnnotation}}) {
    if (const std::string value = annotation(*rs, from); !value.empty() && annotation(*rs, to).empty())
      meta["annotations"][to] = value;
  }
  auto patched = cluster_.client->patch(replicaSetsResource(), ns_, a.name, kube::PatchType::kMerge,
                                        json{{"metadata", meta}}, {false, cluster_.fieldManager});
  if (!patched) {
    if (patched.error().isNotFound()) return false;
    return apiError(patched.error());
  }
  cluster_.replicaSetWrites->wrote(*patched);
  return true;
}

Result<std::optional<engine::WorkloadView>> KubeWorld::workload(const engine::WorkloadRef& ref) {
  if (!cluster_.deployments) return Error{"this controller does not watch Deployments"};
  if (!cluster_.deployments->hasSynced()) return Error{"the Deployment cache is not synced yet"};
  const std::string key = ns_ + "/" + ref.name;
  const auto deployment = cluster_.deploymentWrites->view(key, cluster_.deployments->get(key));
  if (!deployment) return std::optional<engine::WorkloadView>();
  engine::WorkloadView view = engine::workloadViewOf(*deployment);
  workloadGeneration_ = view.generation;
  return std::optional<engine::WorkloadView>(std::move(view));
}

// spec.replicas by a merge patch: the Deployment's template and everything else stay as their owner left
// them (a GitOps tool applying the Deployment should leave replicas out, as for an autoscaled one).
Result<bool> KubeWorld::scaleWorkload(const engine::ScaleWorkload& a) {
  const json patch = {{"spec", {{"replicas", a.replicas}}}};
  auto patched = cluster_.client->patch(deploymentsResource(), ns_, a.name, kube::PatchType::kMerge, patch,
                                        {false, cluster_.fieldManager});
  if (!patched) return apiError(patched.error());
  cluster_.deploymentWrites->wrote(*patched);
  return true;
}

Result<bool> KubeWorld::terminateRun(const engine::TerminateAnalysisRun& a) {
  const json patch = {{"spec", {{"terminate", true}}}};
  auto patched = cluster_.client->patch(analysisRunsResource(), ns_, a.name, kube::PatchType::kMerge, patch,
                                        {false, cluster_.fieldManager});
  if (!patched) {
    if (patched.error().isNotFound()) return false;
    return apiError(patched.error());
  }
  cluster_.analysisRunWrites->wrote(*patched);
  return true;
}

// Owned by the Rollout (garbage collection removes it with it), labelled with the revision and the step.
Result<bool> KubeWorld::createExperiment(const engine::CreateExperiment& a) {
  json ex = engine::experimentToJson(a.experiment);
  ex["metadata"]["namespace"] = ns_;
  ex["metadata"]["ownerReferences"] = json::array({ownerReference()});
  ex["metadata"]["labels"][kRolloutLabel] = name_;
  if (a.stepIndex) ex["metadata"]["labels"][kStepIndexLabel] = std::to_string(*a.stepIndex);
  auto created = cluster_.client->create(experimentsResource(), ns_, ex, {false, cluster_.fieldManager});
  if (!created) {
    if (created.error().isAlreadyExists()) return false;
    return apiError(created.error());
  }
  cluster_.experimentWrites->wrote(*created);
  return true;
}

Result<bool> KubeWorld::terminateExperiment(const engine::TerminateExperiment& a) {
  const json patch = {{"spec", {{"terminate", true}}}};
  auto patched = cluster_.client->patch(experimentsResource(), ns_, a.name, kube::PatchType::kMerge, patch,
                                        {false, cluster_.fieldManager});
  if (!patched) {
    if (patched.error().isNotFound()) return false;
    return apiError(patched.error());
  }
  cluster_.experimentWrites->wrote(*patched);
  return true;
}

Result<bool> KubeWorld::deleteExperiment(const engine::DeleteExperiment& a) {
  kube::DeleteOptions options;
  options.propagationPolicy = "Background";
  auto removed = cluster_.client->remove(experimentsResource(), ns_, a.name, options);
  if (!removed) {
    if (removed.error().isNotFound()) return false;
    return apiError(removed.error());
  }
  cluster_.experimentWrites->deleted(ns_ + "/" + a.name);
  return true;
}

// Owned by the Experiment (or Rollout) this world acts for, selecting the pods of one pod-template hash.
Result<bool> KubeWorld::createService(const engine::CreateService& a) {
  json service = engine::serviceToJson(a, ns_);
  service["metadata"]["ownerReferences"] = json::array({ownerReference()});
  auto created = cluster_.client->create(servicesResource(), ns_, service, {false, cluster_.fieldManager});
  if (!created) {
    if (!created.error().isAlreadyExists()) return apiError(created.error());
    auto existing = cluster_.client->get(servicesResource(), ns_, a.name);
    if (!existing) return apiError(existing.error());
    if (kube::controlledBy(*existing, uid_)) return false;
    return Error{"Service " + a.name + " exists and is not this " + kind_ + "'s"};
  }
  cluster_.serviceWrites->wrote(*created);
  return true;
}

Result<bool> KubeWorld::deleteService(const engine::DeleteService& a) {
  auto removed = cluster_.client->remove(servicesResource(), ns_, a.name);
  if (!removed) {
    if (removed.error().isNotFound()) return false;
    return apiError(removed.error());
  }
  cluster_.serviceWrites->deleted(ns_ + "/" + a.name);
  return true;
}

Result<bool> KubeWorld::deleteRun(const engine::DeleteAnalysisRun& a) {
  auto removed = cluster_.client->remove(analysisRunsResource(), ns_, a.name);
  if (!removed) {
    if (removed.error().isNotFound()) return false;
    return apiError(removed.error());
  }
  cluster_.analysisRunWrites->deleted(ns_ + "/" + a.name);
  return true;
}

Result<bool> KubeWorld::emitEvent(const engine::EmitEvent& a) {
  // An event that cannot be recorded is lost, never a reason to stop the rollout (as Argo's recorder).
  if (cluster_.metrics) cluster_.metrics->countEvent(a.type, a.reason);
  if (cluster_.events) (void)cluster_.events->record(rollout_, a.type, a.reason, a.message);
  return false;
}

Result<bool> KubeWorld::createAnalysisRun(const engine::CreateAnalysisRun& a,
                                          const Result<analysis::AnalysisRunSpec>& spec, Time /*now*/) {
  json labels = json::object();
  if (kind_ == "Experiment") {
    labels[kExperimentLabel] = name_;
  } else {
    labels = {{kRolloutLabel, name_},
              {kAnalysisTypeLabel, engine::analysisRunTypeName(a.type)},
              {engine::kPodTemplateHashLabel, a.podTemplateHash}};
  }
  if (a.stepIndex) labels[kStepIndexLabel] = std::to_string(*a.stepIndex);
  // analysisRunMetadata, under the labels the controller finds runs by.
  for (const auto& [key, value] : a.analysis.runLabels) labels.emplace(key, value);
  json run = {
      {"apiVersion", kGroupVersion},
      {"kind", "AnalysisRun"},
      {"metadata",
       {{"name", a.name},
        {"namespace", ns_},
        {"labels", labels},
        {"ownerReferences", json::array({ownerReference()})}}},
      {"spec", spec ? analysis::runSpecToJson(*spec) : json{{"metrics", json::array()}}},
  };
  // A run that could not be built exists too, with the reason, and the AnalysisRun reconciler ends it in
  // Error, as the simulated world shows it. Its status is not written here: the reconciler is the one
  // writer of a run's status, so no measurement of the empty run can overwrite the Error, and a crash
  // between the two writes leaves nothing half done.
  for (const auto& [key, value] : a.analysis.runAnnotations) run["metadata"]["annotations"][key] = value;
  if (!spec) run["metadata"]["annotations"][kBuildErrorAnnotation] = spec.error();
  auto created = cluster_.client->create(analysisRunsResource(), ns_, run, {false, cluster_.fieldManager});
  if (!created) {
    if (created.error().isAlreadyExists()) return false;
    return apiError(created.error());
  }
  cluster_.analysisRunWrites->wrote(*created);
  return true;
}

const analysis::AnalysisTemplate* KubeWorld::findTemplate(const std::string& name, bool clusterScope) {
  kube::Informer* cache = clusterScope ? cluster_.clusterAnalysisTemplates : cluster_.analysisTemplates;
  const auto obj = cache->get(clusterScope ? name : ns_ + "/" + name);
  if (!obj) return nullptr;
  Diagnostics diags;
  template_ = analysis::parseAnalysisTemplate(*obj, SourceMap(), diags);
  return template_ ? &*template_ : nullptr;
}

Status KubeWorld::writeStatus(shell::RolloutDocument& rollout, json status, Time /*now*/) {
  const json before = rollout.object().value("status", json::object());
  const json patch = {{"status", kube::mergePatchBetween(before, status)}};
  auto patched = cluster_.client->patch(rolloutsResource(), ns_, name_, kube::PatchType::kMerge, patch,
                                        {false, cluster_.fieldManager}, "status");
  if (!patched) return apiError(patched.error());
  cluster_.rolloutWrites->wrote(*patched);
  rollout.replace(std::move(*patched));
  return Status::Ok();
}

Result<engine::ExperimentObserved> KubeWorld::observeExperiment(Time /*now*/) {
  engine::ExperimentObserved out;
  auto owned = [this](const json& obj) { return kube::controlledBy(obj, uid_); };
  for (const auto& rs : cluster_.replicaSetWrites->overlay(cluster_.replicaSets->byOwner(uid_), owned)) {
    if (owned(rs)) out.replicaSets.push_back(replicaSetView(rs));
  }
  for (const auto& run : cluster_.analysisRunWrites->overlay(cluster_.analysisRuns->byOwner(uid_), owned)) {
    if (owned(run)) out.analysisRuns.push_back(analysisRunView(run));
  }
  out.foreignReplicaSetNames = foreignReplicaSets_;
  return out;
}

Status KubeWorld::writeExperimentStatus(json& experiment, json status, Time /*now*/) {
  const json before = experiment.value("status", json::object());
  const json patch = {{"status", kube::mergePatchBetween(before, status)}};
  auto patched = cluster_.client->patch(experimentsResource(), ns_, name_, kube::PatchType::kMerge, patch,
                                        {false, cluster_.fieldManager}, "status");
  if (!patched) return apiError(patched.error());
  cluster_.experimentWrites->wrote(*patched);
  experiment = std::move(*patched);
  return Status::Ok();
}

}  // namespace sluice::controller
