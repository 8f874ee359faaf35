// The Rollout's view and the rollouts table, from API objects to text (see rollout_view.h).
#include "cli/rollout_view.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "cli/view_text.h"
#include "controller/resources.h"
#include "engine/rollout.h"

namespace sluice::cli {

using nlohmann::json;
using view::integer;
using view::str;

namespace {

bool ownedBy(const json& obj, const std::string& uid, const std::string& kind, const std::string& name) {
  for (const json& ref : view::items(obj, "/metadata/ownerReferences")) {
    if (!uid.empty() && str(ref, "/uid") == uid) return true;
    if (uid.empty() && str(ref, "/kind") == kind && str(ref, "/name") == name) return true;
  }
  return false;
}

const json& canarySteps(const json& rollout) { return view::items(rollout, "/spec/strategy/canary/steps"); }

std::string strategyOf(const json& rollout) {
  const json::json_pointer strategy("/spec/strategy");
  if (rollout.contains(strategy) && rollout.at(strategy).is_object()) {
    if (rollout.at(strategy).contains("blueGreen")) return "BlueGreen";
    if (rollout.at(strategy).contains("canary")) return "Canary";
  }
  return "";
}

// The desired canary weight, as Argo's plugin shows it: 0 when aborted, the last setWeight at or before
// the current step, the maximum once every step is done (or with no steps).
int setWeightOf(const json& rollout) {
  const int maxWeight =
      static_cast<int>(integer(rollout, "/spec/strategy/canary/trafficRouting/maxTrafficWeight", 100));
  if (rollout.value(json::json_pointer("/status/abort"), false) == true) return 0;
  const json& steps = canarySteps(rollout);
  const auto index = integer(rollout, "/status/currentStepIndex", 0);
  if (index < 0 || static_cast<std::size_t>(index) >= steps.size()) return maxWeight;
  for (auto i = index; i >= 0; --i) {
    const json& step = steps[static_cast<std::size_t>(i)];
    if (step.is_object() && step.contains("setWeight") && step["setWeight"].is_number_integer())
      return step["setWeight"].get<int>();
  }
  return 0;
}

bool stepsDone(const json& rollout) {
  const auto index = integer(rollout, "/status/currentStepIndex", 0);
  return index < 0 || static_cast<std::size_t>(index) >= canarySteps(rollout).size();
}

int countReadyContainers(const json& pod) {
  int ready = 0;
  for (const json& cs : view::items(pod, "/status/containerStatuses")) {
    if (cs.value("ready", false) == true) ++ready;
  }
  return ready;
}

// kubectl's STATUS for a pod, in short: the reason a container waits or ended, else the pod's phase
// (Terminating while it is being deleted).
PodView podView(const json& pod, Time now) {
  PodView p;
  p.name = str(pod, "/metadata/name");
  p.age = view::ageOf(pod, now);
  p.containers = static_cast<int>(view::items(pod, "/spec/containers").size());
  p.readyContainers = countReadyContainers(pod);
  std::string reason = str(pod, "/status/reason");
  if (reason.empty()) reason = str(pod, "/status/phase");
  if (reason.empty()) reason = "Pending";
  for (const json& cs : view::items(pod, "/status/containerStatuses")) {
    p.restarts += static_cast<int>(integer(cs, "/restartCount"));
    if (const std::string waiting = str(cs, "/state/waiting/reason"); !waiting.empty()) {
      reason = waiting;
    } else if (const std::string ended = str(cs, "/state/terminated/reason"); !ended.empty()) {
      reason = ended;
    }
  }
  const bool deleting = pod.contains(json::json_pointer("/metadata/deletionTimestamp")) &&
                        !pod.at(json::json_pointer("/metadata/deletionTimestamp")).is_null();
  if (deleting) reason = "Terminating";
  p.status = reason;
  static const std::set<std::string> kBad = {"CrashLoopBackOff",    "Error",        "Failed",
                                             "ImagePullBackOff",    "ErrImagePull", "OOMKilled",
                                             "CreateContainerError"};
  if (kBad.count(reason)) {
    p.health = Health::kBad;
  } else if (reason == "Succeeded" || reason == "Completed" ||
             (reason == "Running" && p.readyContainers == p.containers && p.containers > 0)) {
    p.health = Health::kOk;
  } else {
    p.health = Health::kProgressing;
  }
  return p;
}

AnalysisRunView analysisRunView(const json& run, Time now) {
  AnalysisRunView a;
  a.name = str(run, "/metadata/name");
  a.age = view::ageOf(run, now);
  a.phase = str(run, "/status/phase");
  a.health = view::phaseHealth(a.phase.empty() ? "Pending" : a.phase);
  for (const json& m : view::items(run, "/status/metricResults")) {
    a.successful += static_cast<int>(integer(m, "/successful"));
    a.failed += static_cast<int>(integer(m, "/failed") + integer(m, "/error"));
  }
  return a;
}

bool hasReplicaFailure(const json& rs) {
  for (const json& c : view::items(rs, "/status/conditions")) {
    if (str(c, "/type") == "ReplicaFailure" && str(c, "/status") == "True") return true;
  }
  return false;
}

// ScaledDown (asked for no pods), Degraded (the ReplicaSet cannot create pods, or one of its pods is
// failing), Healthy (all it asks for are available), else Progressing.
void setReplicaSetStatus(ReplicaSetView& v, const json& rs) {
  const auto wanted = integer(rs, "/spec/replicas", 1);
  const bool failingPod =
      std::any_of(v.pods.begin(), v.pods.end(), [](const PodView& p) { return p.health == Health::kBad; });
  if (wanted == 0) {
    v.status = "ScaledDown";
  } else if (hasReplicaFailure(rs) || failingPod) {
    v.status = "Degraded";
  } else if (integer(rs, "/status/availableReplicas") >= wanted) {
    v.status = "Healthy";
  } else {
    v.status = "Progressing";
  }
  v.health = view::phaseHealth(v.status);
}

std::vector<std::string> imagesOf(const json& rs) {
  std::vector<std::string> out;
  for (const json& c : view::items(rs, "/spec/template/spec/containers")) {
    if (const std::string image = str(c, "/image"); !image.empty()) out.push_back(image);
  }
  return out;
}

void addImageRole(std::vector<ImageView>& images, const std::string& image, const std::string& role) {
  auto it = std::find_if(images.begin(), images.end(), [&](const ImageView& i) { return i.image == image; });
  if (it == images.end()) {
    images.push_back({image, {role}});
  } else if (std::find(it->roles.begin(), it->roles.end(), role) == it->roles.end()) {
    it->roles.push_back(role);
  }
}

// The view's phase: the controller's, unless it has not yet seen the latest spec (Argo's client-side
// check), in which case the status describes an older spec.
void setPhase(RolloutView& v, const json& rollout) {
  v.phase = str(rollout, "/status/phase");
  v.message = str(rollout, "/status/message");
  const json::json_pointer observed("/status/observedGeneration");
  const auto generation = integer(rollout, "/metadata/generation", 0);
  if (generation > 0 && rollout.contains(observed)) {
    const json& o = rollout.at(observed);
    const std::string seen = o.is_string() ? o.get<std::string>() : o.is_number_integer() ? o.dump() : "";
    if (seen != std::to_string(generation)) {
      v.phase = "Progressing";
      v.message = "waiting for rollout spec update to be observed";
    }
  }
  if (v.phase.empty()) v.phase = "Progressing";
  v.health = view::phaseHealth(v.phase);
}

// `canaryAvailable`: the available pods of the canary's ReplicaSet.
void setCanaryFields(RolloutView& v, const json& rollout, int64_t canaryAvailable) {
  const json& steps = canarySteps(rollout);
  const json::json_pointer indexPtr("/status/currentStepIndex");
  if (!steps.empty() && rollout.contains(indexPtr) && rollout.at(indexPtr).is_number_integer())
    v.step = std::to_string(rollout.at(indexPtr).get<int64_t>()) + "/" + std::to_string(steps.size());
  v.setWeight = std::to_string(setWeightOf(rollout));
  const json::json_pointer routed("/status/canary/weights/canary/weight");
  if (rollout.contains(routed) && rollout.at(routed).is_number_integer()) {
    v.actualWeight = std::to_string(rollout.at(routed).get<int64_t>());
  } else if (stepsDone(rollout)) {
    v.actualWeight = v.setWeight;
  } else {
    // Without traffic routing the canary's share of the traffic is its share of the available pods.
    v.actualWeight = v.available > 0 ? std::to_string(canaryAvailable * 100 / v.available) : "0";
  }
}

// A ReplicaSet with its pods (by owner reference, or by its pod-template hash when it has no uid), its
// age, status and the scale-down delay it waits out; the caller adds its roles.
ReplicaSetView replicaSetView(const json& rs, const std::vector<json>& pods, Time now) {
  ReplicaSetView r;
  r.name = str(rs, "/metadata/name");
  r.podTemplateHash = view::label(rs, engine::kPodTemplateHashLabel);
  r.age = view::ageOf(rs, now);
  if (const std::string deadline = view::annotation(rs, engine::kScaleDownDeadlineAnnotation);
      !deadline.empty()) {
    if (auto t = parseRfc3339(deadline)) r.scaleDownIn = *t - now;
  }
  const std::string rsUid = str(rs, "/metadata/uid");
  for (const json& pod : pods) {
    const bool mine = rsUid.empty() ? view::label(pod, engine::kPodTemplateHashLabel) == r.podTemplateHash
                                    : ownedBy(pod, rsUid, "ReplicaSet", r.name);
    if (mine) r.pods.push_back(podView(pod, now));
  }
  std::sort(r.pods.begin(), r.pods.end(), [](const PodView& a, const PodView& b) { return a.name < b.name; });
  setReplicaSetStatus(r, rs);
  return r;
}

// An Experiment of the Rollout with the ReplicaSets it owns and the AnalysisRuns labelled with its name.
ExperimentTreeView experimentTreeView(const json& ex, const std::vector<json>& replicaSets,
                                      const std::vector<json>& pods, const std::vector<json>& analysisRuns,
                                      Time now) {
  ExperimentTreeView e;
  e.name = str(ex, "/metadata/name");
  e.age = view::ageOf(ex, now);
  e.phase = str(ex, "/status/phase");
  if (e.phase.empty()) e.phase = "Pending";
  e.health = view::phaseHealth(e.phase);
  const std::string uid = str(ex, "/metadata/uid");
  for (const json& rs : replicaSets) {
    if (ownedBy(rs, uid, "Experiment", e.name)) e.replicaSets.push_back(replicaSetView(rs, pods, now));
  }
  for (const json& run : analysisRuns) {
    if (view::label(run, controller::kExperimentLabel) == e.name)
      e.analysisRuns.push_back(analysisRunView(run, now));
  }
  std::sort(e.replicaSets.begin(), e.replicaSets.end(),
            [](const ReplicaSetView& a, const ReplicaSetView& b) { return a.name < b.name; });
  std::sort(e.analysisRuns.begin(), e.analysisRuns.end(),
            [](const AnalysisRunView& a, const AnalysisRunView& b) { return a.name < b.name; });
  return e;
}

}  // namespace

RolloutView buildRolloutView(const json& rollout, const std::vector<json>& replicaSets,
                             const std::vector<json>& pods, const std::vector<json>& analysisRuns,
                             const std::vector<json>& experiments, Time now) {
  RolloutView v;
  v.name = str(rollout, "/metadata/name");
  v.ns = str(rollout, "/metadata/namespace");
  v.age = view::ageOf(rollout, now);
  v.strategy = strategyOf(rollout);
  v.desired = static_cast<int>(integer(rollout, "/spec/replicas", 1));
  v.current = static_cast<int>(integer(rollout, "/status/replicas"));
  v.updated = static_cast<int>(integer(rollout, "/status/updatedReplicas"));
  v.ready = static_cast<int>(integer(rollout, "/status/readyReplicas"));
  v.available = static_cast<int>(integer(rollout, "/status/availableReplicas"));
  setPhase(v, rollout);

  const std::string uid = str(rollout, "/metadata/uid");
  const std::string stable = str(rollout, "/status/stableRS");
  const std::string current = str(rollout, "/status/currentPodHash");
  const std::string activeSelector = str(rollout, "/status/blueGreen/activeSelector");
  const std::string previewSelector = str(rollout, "/status/blueGreen/previewSelector");
  std::map<int, RevisionView, std::greater<>> revisions;
  std::map<std::string, int> revisionOfHash;
  std::vector<std::pair<std::string, std::string>> imageRoles;  // (role, image), stable first
  int64_t canaryAvailable = 0;
  for (const json& rs : replicaSets) {
    if (!ownedBy(rs, uid, "Rollout", v.name)) continue;
    ReplicaSetView r = replicaSetView(rs, pods, now);
    if (!r.podTemplateHash.empty()) {
      if (r.podTemplateHash == stable) {
        r.roles.emplace_back("stable");
      } else if (r.podTemplateHash == current && v.strategy == "Canary") {
        r.roles.emplace_back("canary");
        canaryAvailable += integer(rs, "/status/availableReplicas");
      }
      if (r.podTemplateHash == activeSelector) {
        r.roles.emplace_back("active");
      } else if (r.podTemplateHash == previewSelector) {
        r.roles.emplace_back("preview");
      }
    }
    for (const auto& role : r.roles) {
      for (const auto& image : imagesOf(rs)) imageRoles.emplace_back(role, image);
    }
    const int revision = static_cast<int>(
        std::strtol(view::annotation(rs, controller::kRevisionAnnotation).c_str(), nullptr, 10));
    revisionOfHash[r.podTemplateHash] = revision;
    auto& rev = revisions[revision];
    rev.revision = revision;
    rev.replicaSets.push_back(std::move(r));
  }
  for (const json& run : analysisRuns) {
    if (view::label(run, controller::kRolloutLabel) != v.name) continue;
    const auto it = revisionOfHash.find(view::label(run, engine::kPodTemplateHashLabel));
    // A run whose ReplicaSet is gone (history limit) still shows, under an unknown revision.
    const int revision = it == revisionOfHash.end() ? 0 : it->second;
    auto& rev = revisions[revision];
    rev.revision = revision;
    rev.analysisRuns.push_back(analysisRunView(run, now));
  }
  for (const json& ex : experiments) {
    if (!ownedBy(ex, uid, "Rollout", v.name)) continue;
    // Under the revision it was made for; one whose ReplicaSet is gone, under an unknown revision.
    const auto it = revisionOfHash.find(view::label(ex, engine::kPodTemplateHashLabel));
    const int revision = it == revisionOfHash.end() ? 0 : it->second;
    auto& rev = revisions[revision];
    rev.revision = revision;
    rev.experiments.push_back(experimentTreeView(ex, replicaSets, pods, analysisRuns, now));
  }
  for (auto& [revision, rev] : revisions) {
    std::sort(rev.experiments.begin(), rev.experiments.end(),
              [](const ExperimentTreeView& a, const ExperimentTreeView& b) { return a.name < b.name; });
    std::sort(rev.replicaSets.begin(), rev.replicaSets.end(),
              [](const ReplicaSetView& a, const ReplicaSetView& b) { return a.name < b.name; });
    std::sort(rev.analysisRuns.begin(), rev.analysisRuns.end(),
              [](const AnalysisRunView& a, const AnalysisRunView& b) { return a.name < b.name; });
    v.revisions.push_back(std::move(rev));
  }
  std::stable_sort(imageRoles.begin(), imageRoles.end(),
                   [](const auto& a, const auto& b) { return a.first == "stable" && b.first != "stable"; });
  for (const auto& [role, image] : imageRoles) addImageRole(v.images, image, role);
  if (v.strategy == "Canary") setCanaryFields(v, rollout, canaryAvailable);
  return v;
}

namespace {

// The INFO cell of a ReplicaSet, as Argo's plugin shows it: its roles ("stable,active"), and the scale-down
// delay it waits out ("delay:25s", "delay:passed").
std::string replicaSetInfo(const ReplicaSetView& rs) {
  std::string info;
  for (const auto& role : rs.roles) info += (info.empty() ? "" : ",") + role;
  if (rs.scaleDownIn) {
    info += std::string(info.empty() ? "" : ",") +
            "delay:" + (*rs.scaleDownIn > Duration{0} ? view::age(*rs.scaleDownIn) : std::string("passed"));
  }
  return info;
}

void renderHeader(const RolloutView& v, bool color, std::string& out) {
  auto line = [&out](const std::string& key, const std::string& value) { view::headerLine(out, key, value); };
  line("Name:", v.name);
  line("Namespace:", v.ns);
  line("Status:", view::status(v.health, v.phase, color));
  if (!v.message.empty()) line("Message:", v.message);
  line("Strategy:", v.strategy);
  if (v.strategy == "Canary") {
    if (!v.step.empty()) line("  Step:", v.step);
    line("  SetWeight:", v.setWeight);
    line("  ActualWeight:", v.actualWeight);
  }
  if (v.images.empty()) line("Images:", "<none>");
  for (std::size_t i = 0; i < v.images.size(); ++i) {
    std::string roles;
    for (const auto& role : v.images[i].roles) roles += (roles.empty() ? "" : ", ") + role;
    line(i == 0 ? "Images:" : "", v.images[i].image + " (" + roles + ")");
  }
  out += "Replicas:\n";
  line("  Desired:", std::to_string(v.desired));
  line("  Current:", std::to_string(v.current));
  line("  Updated:", std::to_string(v.updated));
  line("  Ready:", std::to_string(v.ready));
  line("  Available:", std::to_string(v.available));
}

// The tree's indentation: each level adds "├──" (more siblings follow) or "└──" (the last) before its
// own name, and "│  " or "   " before its children's.
struct Branch {
  std::string prefix;  // for this node's children
  std::string lead(bool last) const { return prefix + (last ? "└──" : "├──"); }
  Branch child(bool last) const { return {prefix + (last ? "   " : "│  ")}; }
};

std::string podInfo(const PodView& p) {
  std::string info = "ready:" + std::to_string(p.readyContainers) + "/" + std::to_string(p.containers);
  if (p.restarts > 0) info += ",restarts:" + std::to_string(p.restarts);
  return info;
}

// A ReplicaSet's row under `branch` and its pods' rows under it.
void addReplicaSet(view::Columns& table, const Branch& branch, bool last, const ReplicaSetView& rs) {
  table.add({branch.lead(last) + "⧉ " + rs.name, "ReplicaSet",
             view::Columns::statusCell(rs.health, rs.status), view::age(rs.age), replicaSetInfo(rs)});
  const Branch rsBranch = branch.child(last);
  for (std::size_t p = 0; p < rs.pods.size(); ++p) {
    const PodView& pod = rs.pods[p];
    table.add({rsBranch.lead(p + 1 == rs.pods.size()) + "□ " + pod.name, "Pod",
               view::Columns::statusCell(pod.health, pod.status), view::age(pod.age), podInfo(pod)});
  }
}

void addAnalysisRun(view::Columns& table, const Branch& branch, bool last, const AnalysisRunView& run) {
  table.add({branch.lead(last) + "α " + run.name, "AnalysisRun",
             view::Columns::statusCell(run.health, run.phase.empty() ? "Pending" : run.phase),
             view::age(run.age), "✔ " + std::to_string(run.successful) + ",✖ " + std::to_string(run.failed)});
}

}  // namespace

std::string renderRolloutView(const RolloutView& v, bool color) {
  std::string out;
  renderHeader(v, color, out);
  out += "\n";
  view::Columns table;
  table.add({"NAME", "KIND", "STATUS", "AGE", "INFO"});
  const auto statusCell = &view::Columns::statusCell;
  table.add({"⟳ " + v.name, "Rollout", statusCell(v.health, v.phase), view::age(v.age), ""});
  const Branch root;
  for (std::size_t i = 0; i < v.revisions.size(); ++i) {
    const RevisionView& rev = v.revisions[i];
    const bool lastRevision = i + 1 == v.revisions.size();
    table.add({root.lead(lastRevision) +
               "# revision:" + (rev.revision > 0 ? std::to_string(rev.revision) : std::string("unknown"))});
    const Branch revBranch = root.child(lastRevision);
    const std::size_t children = rev.replicaSets.size() + rev.experiments.size() + rev.analysisRuns.size();
    std::size_t n = 0;
    for (const ReplicaSetView& rs : rev.replicaSets) addReplicaSet(table, revBranch, ++n == children, rs);
    for (const ExperimentTreeView& ex : rev.experiments) {
      const bool last = ++n == children;
      table.add({revBranch.lead(last) + "Σ " + ex.name, "Experiment", statusCell(ex.health, ex.phase),
                 view::age(ex.age), ""});
      const Branch exBranch = revBranch.child(last);
      const std::size_t exChildren = ex.replicaSets.size() + ex.analysisRuns.size();
      std::size_t m = 0;
      for (const ReplicaSetView& rs : ex.replicaSets) addReplicaSet(table, exBranch, ++m == exChildren, rs);
      for (const AnalysisRunView& run : ex.analysisRuns)
        addAnalysisRun(table, exBranch, ++m == exChildren, run);
    }
    for (const AnalysisRunView& run : rev.analysisRuns)
      addAnalysisRun(table, revBranch, ++n == children, run);
  }
  out += table.render(color);
  return out;
}

RolloutRow rolloutRow(const json& rollout) {
  RolloutRow row;
  row.ns = str(rollout, "/metadata/namespace");
  row.name = str(rollout, "/metadata/name");
  row.strategy = strategyOf(rollout);
  RolloutView phase;
  setPhase(phase, rollout);
  row.status = phase.phase;
  const json& steps = canarySteps(rollout);
  const json::json_pointer indexPtr("/status/currentStepIndex");
  row.step = "-";
  if (!steps.empty() && rollout.contains(indexPtr) && rollout.at(indexPtr).is_number_integer())
    row.step = std::to_string(rollout.at(indexPtr).get<int64_t>()) + "/" + std::to_string(steps.size());
  row.setWeight = row.strategy == "Canary" ? std::to_string(setWeightOf(rollout)) : "-";
  row.desired = static_cast<int>(integer(rollout, "/spec/replicas", 1));
  row.current = static_cast<int>(integer(rollout, "/status/replicas"));
  row.ready = static_cast<int>(integer(rollout, "/status/readyReplicas"));
  row.upToDate = static_cast<int>(integer(rollout, "/status/updatedReplicas"));
  row.available = static_cast<int>(integer(rollout, "/status/availableReplicas"));
  return row;
}

std::string renderRolloutTable(std::vector<RolloutRow> rows, bool allNamespaces) {
  if (rows.empty()) return "";
  std::sort(rows.begin(), rows.end(), [](const RolloutRow& a, const RolloutRow& b) {
    return std::tie(a.ns, a.name) < std::tie(b.ns, b.name);
  });
  // kubectl's table spacing: three blanks between columns.
  view::Columns table(3);
  std::vector<view::Columns::Cell> header = {"NAME",  "STRATEGY", "STATUS",     "STEP",     "SET-WEIGHT",
                                             "READY", "DESIRED",  "UP-TO-DATE", "AVAILABLE"};
  if (allNamespaces) header.insert(header.begin(), "NAMESPACE");
  table.add(std::move(header));
  for (const RolloutRow& r : rows) {
    std::vector<view::Columns::Cell> cells = {r.name,
                                              r.strategy,
                                              r.status,
                                              r.step,
                                              r.setWeight,
                                              std::to_string(r.ready) + "/" + std::to_string(r.current),
                                              std::to_string(r.desired),
                                              std::to_string(r.upToDate),
                                              std::to_string(r.available)};
    if (allNamespaces) cells.insert(cells.begin(), r.ns);
    table.add(std::move(cells));
  }
  return table.render(false);
}

}  // namespace sluice::cli
