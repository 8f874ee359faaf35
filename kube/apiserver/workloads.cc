// The workload controllers: watches feed keys into one work queue; a single worker reconciles each key
// (Deployment, ReplicaSet or Pod) against the registry. One worker keeps every decision sequential, so a
// reconcile reads what the previous one wrote without the expectations a multi-worker controller needs.
#include "kube/apiserver/workloads.h"

#include "kube/owners.h"

#include <openssl/sha.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "base/duration_millis.h"
#include "base/json_lookup.h"
#include "base/pod_template_hash.h"
#include "base/time.h"
#include "kube/apiserver/deployment_math.h"
#include "kube/apiserver/registry.h"
#include "kube/apiserver/validation.h"
#include "kube/work_queue.h"

namespace sluice::apiserver {

using nlohmann::json;
using Millis = std::chrono::milliseconds;

namespace {

constexpr const char* kRevisionAnnotation = "deployment.kubernetes.io/revision";
constexpr const char* kDesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
constexpr const char* kMaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
constexpr const char* kPodTemplateHashLabel = "pod-template-hash";
// How often every object is looked at again, in case a watch event was missed.
constexpr Millis kResyncInterval{30000};
// Pods one ReplicaSet sync creates at most, as the real controller's burstReplicas; the rest follow on
// the next sync, so that one huge spec.replicas cannot hold the worker.
constexpr int kBurstReplicas = 500;
constexpr Millis kCrashBackoffBase{10000};
constexpr Millis kCrashBackoffMax{300000};

// The kubelet's restart back-off after the `restarts`th crash: 10s doubling up to 5 minutes.
Millis crashBackoff(int restarts) {
  return std::min(kCrashBackoffBase * (int64_t{1} << std::clamp(restarts - 1, 0, 5)), kCrashBackoffMax);
}

using json_lookup::field;
using json_lookup::str;

int intField(const json& obj, const char* key, int otherwise) {
  const json& v = field(obj, key);
  return v.is_number_integer() ? v.get<int>() : otherwise;
}

int64_t unixOf(const std::string& rfc3339) {
  auto t = parseRfc3339(rfc3339);
  return t ? toUnix(*t) : 0;
}

// The ownerReference with controller: true, or null.
const json& controllerRef(const json& obj) {
  static const json null;
  const json& refs = field(field(obj, "metadata"), "ownerReferences");
  if (refs.is_array()) {
    for (const auto& r : refs) {
      if (r.is_object() && r.value("controller", false)) return r;
    }
  }
  return null;
}

bool deleting(const json& obj) { return field(obj, "metadata").contains("deletionTimestamp"); }

json ownerReference(const json& owner, const char* apiVersion, const char* kind) {
  return {{"apiVersion", apiVersion},
          {"kind", kind},
          {"name", str(owner["metadata"], "name")},
          {"uid", str(owner["metadata"], "uid")},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

const json* conditionOf(const json& obj, const std::string& type) {
  const json& conds = field(field(obj, "status"), "conditions");
  if (!conds.is_array()) return nullptr;
  for (const auto& c : conds) {
    if (c.is_object() && str(c, "type") == type) return &c;
  }
  return nullptr;
}

bool podReady(const json& pod) {
  const json* c = conditionOf(pod, "Ready");
  return c && str(*c, "status") == "True";
}

std::string hex(const unsigned char* bytes, size_t n) {
  std::string out;
  char buf[3];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", bytes[i]);
    out += buf;
  }
  return out;
}

std::string sha256Hex(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return hex(digest, sizeof digest);
}

// A stable address for the pod in 10.244.0.0/16, from its uid.
std::string podIp(const std::string& uid) {
  const std::string h = sha256Hex(uid);
  const int third = std::stoi(h.substr(0, 2), nullptr, 16);
  const int fourth = 2 + std::stoi(h.substr(2, 2), nullptr, 16) % 252;
  return "10.244." + std::to_string(third) + "." + std::to_string(fourth);
}

constexpr const char* kHostIp = "172.18.0.2";

// A container's id for its `restarts`th run: stable, so that rewriting an unchanged status is a no-op.
std::string containerId(const std::string& pod, const std::string& container, int restarts) {
  std::string seed = pod;
  seed += "/";
  seed += container;
  seed += "/";
  seed += std::to_string(restarts);
  return "containerd://" + sha256Hex(seed);
}

// Sets condition `type` in `conds` as the Kubernetes helpers do: nothing changes while status and reason
// stay; a new reason with the same status keeps lastTransitionTime. `withUpdateTime`: the condition has a
// lastUpdateTime (Deployments' conditions do, pods' do not).
void setCondition(json& conds, const std::string& type, const std::string& status, const std::string& reason,
                  const std::string& message, bool withUpdateTime, const std::string& now) {
  if (!conds.is_array()) conds = json::array();
  json next = {{"type", type}, {"status", status}, {"lastTransitionTime", now}};
  if (withUpdateTime) next["lastUpdateTime"] = now;
  if (!reason.empty()) next["reason"] = reason;
  if (!message.empty()) next["message"] = message;
  for (auto& c : conds) {
    if (str(c, "type") != type) continue;
    if (str(c, "status") == status && str(c, "reason") == reason) return;
    if (str(c, "status") == status) next["lastTransitionTime"] = c.value("lastTransitionTime", now);
    c = std::move(next);
    return;
  }
  conds.push_back(std::move(next));
}

// The Progressing condition's lastUpdateTime plus the deadline, in Unix seconds; 0 without one.
int64_t progressExpiry(const json& conds, int deadline) {
  for (const auto& c : conds) {
    if (str(c, "type") == "Progressing") return unixOf(str(c, "lastUpdateTime")) + deadline;
  }
  return 0;
}

}  // namespace

Result<std::string> labelSelectorQuery(const json& selector) {
  std::string out;
  auto add = [&out](const std::string& term) {
    if (!out.empty()) out += ",";
    out += term;
  };
  const json& matchLabels = field(selector, "matchLabels");
  if (matchLabels.is_object()) {
    for (const auto& [k, v] : matchLabels.items()) add(k + "=" + (v.is_string() ? v.get<std::string>() : ""));
  }
  const json& expressions = field(selector, "matchExpressions");
  if (expressions.is_array()) {
    for (const auto& e : expressions) {
      const std::string key = str(e, "key");
      const std::string op = str(e, "operator");
      std::string values;
      const json& vs = field(e, "values");
      if (vs.is_array()) {
        for (const auto& v : vs) {
          if (!values.empty()) values += ",";
          if (v.is_string()) values += v.get<std::string>();
        }
      }
      if (op == "In") {
        add(std::string(key).append(" in (").append(values).append(")"));
      } else if (op == "NotIn") {
        add(std::string(key).append(" notin (").append(values).append(")"));
      } else if (op == "Exists") {
        add(key);
      } else if (op == "DoesNotExist") {
        add("!" + key);
      } else {
        return Error{"unsupported selector operator \"" + op + "\""};
      }
    }
  }
  return out;
}

struct WorkloadControllers::Impl {
  Registry& registry;
  WorkloadOptions options;
  std::shared_ptr<const ResourceType> pods, replicaSets, deployments, jobs, events;
  kube::WorkQueue queue{registry.clock()};
  std::vector<std::unique_ptr<RegistryWatch>> watches;
  std::thread worker;

  // Worker-thread state, by pod uid: when the controllers first saw the pod (its readiness delay counts
  // from there), when a crash-looping pod restarts next, and which pods were warned about annotations.
  std::map<std::string, Clock::TimePoint> firstSeen;
  std::map<std::string, Clock::TimePoint> nextRestart;
  std::set<std::string> warned;
  std::atomic<bool> stopping{false};

  Impl(Registry& r, WorkloadOptions o) : registry(r), options(std::move(o)) {}

  // The registry's clock: what the controllers and the kubelet write, and when they act.
  const Clock& clock() const { return registry.clock(); }
  int64_t unixNow() const { return toUnix(toSeconds(clock().wallNow())); }
  std::string nowText() const { return formatRfc3339(toSeconds(clock().wallNow())); }

  static std::string key(const std::string& kind, const std::string& ns, const std::string& name) {
    return kind + "/" + ns + "/" + name;
  }

  // Keys for a watched object: its own, and its controller's (a pod's change moves its ReplicaSet, a
  // ReplicaSet's its Deployment).
  void enqueue(const std::string& kind, const WatchEvent& event) {
    if (event.type == "ERROR" || event.type == "BOOKMARK") return;
    const json& meta = field(event.object, "metadata");
    const std::string ns = str(meta, "namespace");
    if (event.type != "DELETED") queue.add(key(kind, ns, str(meta, "name")));
    const json& owner = controllerRef(event.object);
    const std::string ownerKind = str(owner, "kind");
    if ((kind == "Pod" && ownerKind == "ReplicaSet") || (kind == "ReplicaSet" && ownerKind == "Deployment"))
      queue.add(key(ownerKind, ns, str(owner, "name")));
  }

  void run() {
    while (auto k = queue.get()) {
      if (stopping) {
        queue.done(*k);
        continue;
      }
      bool failed = false;
      try {
        failed = !process(*k);
      } catch (const std::exception& e) {
        std::cerr << "apiserver: workload controllers: " << *k << ": " << e.what() << "\n";
        failed = true;
      }
      if (failed) {
        queue.addRateLimited(*k);
      } else {
        queue.forget(*k);
      }
      queue.done(*k);
    }
  }

  // Reconciles one key; false asks for a retry with backoff (a conflict or a failed write).
  bool process(const std::string& k) {
    if (k == "resync") {
      resync();
      return true;
    }
    const size_t a = k.find('/');
    const size_t b = k.find('/', a + 1);
    const std::string kind = k.substr(0, a);
    const std::string ns = k.substr(a + 1, b - a - 1);
    const std::string name = k.substr(b + 1);
    std::optional<Millis> after;
    bool ok = true;
    if (kind == "Pod") {
      ok = syncPod(ns, name, after);
    } else if (kind == "ReplicaSet") {
      ok = syncReplicaSet(ns, name, after);
    } else if (kind == "Deployment") {
      ok = syncDeployment(ns, name, after);
    } else if (kind == "Job") {
      ok = syncJob(ns, name, after);
    }
    if (ok && after) queue.addAfter(k, *after);
    return ok;
  }

  void resync() {
    for (const auto& [type, kind] :
         {std::pair{deployments, "Deployment"}, std::pair{replicaSets, "ReplicaSet"}, std::pair{pods, "Pod"},
          std::pair{jobs, "Job"}}) {
      auto all = registry.list(*type, "", {});
      if (!all) continue;
      for (const auto& item : (*all)["items"]) {
        queue.add(key(kind, str(item["metadata"], "namespace"), str(item["metadata"], "name")));
      }
    }
    queue.addAfter("resync", kResyncInterval);
  }

  static bool report(const ApiError& e, const std::string& what) {
    if (e.code != 409 && e.code != 404)
      std::cerr << "apiserver: workload controllers: " << what << ": " << e.message << "\n";
    return false;
  }

  // A core/v1 Event about `object`, as the controllers and the kubelet record them. Best effort.
  void recordEvent(const json& object, const std::string& type, const std::string& reason,
                   const std::string& message, const std::string& component) {
    const json& meta = object["metadata"];
    const auto nanos =
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock().wallNow().time_since_epoch()).count();
    char suffix[20];
    std::snprintf(suffix, sizeof suffix, "%llx", static_cast<unsigned long long>(nanos));
    const std::string now = nowText();
    json event = {
        {"apiVersion", "v1"},
        {"kind", "Event"},
        {"metadata", {{"name", str(meta, "name") + "." + suffix}, {"namespace", str(meta, "namespace")}}},
        {"involvedObject",
         {{"apiVersion", str(object, "apiVersion")},
          {"kind", str(object, "kind")},
          {"name", str(meta, "name")},
          {"namespace", str(meta, "namespace")},
          {"uid", str(meta, "uid")},
          {"resourceVersion", str(meta, "resourceVersion")}}},
        {"reason", reason},
        {"message", message},
        {"type", type},
        {"source", {{"component", component}}},
        {"reportingComponent", component},
        {"reportingInstance", ""},
        {"firstTimestamp", now},
        {"lastTimestamp", now},
        {"count", 1}};
    (void)registry.create(*events, str(meta, "namespace"), std::move(event), {});
  }

  // ---- Pods: the scheduler and the kubelet ----

  static json containerNames(const json& pod) {
    json out = json::array();
    const json& containers = field(field(pod, "spec"), "containers");
    if (containers.is_array()) {
      for (const auto& c : containers) out.push_back(str(c, "name"));
    }
    return out;
  }

  static std::string notReadyMessage(const json& pod) {
    std::string names;
    for (const auto& n : containerNames(pod)) {
      if (!names.empty()) names += " ";
      names += n.get<std::string>();
    }
    return "containers with unready status: [" + names + "]";
  }

  // The containerStatuses for a pod whose containers are `state` ("waiting", "running").
  json containerStatuses(const json& pod, const std::string& podName, bool running, bool crashLoop,
                         int restarts, const std::string& startedAt) {
    json out = json::array();
    const json& containers = field(field(pod, "spec"), "containers");
    if (!containers.is_array()) return out;
    for (const auto& c : containers) {
      const std::string name = str(c, "name");
      const std::string image = str(c, "image");
      json s = {{"name", name},
                {"image", image},
                {"imageID", image + "@sha256:" + sha256Hex(image)},
                {"ready", running},
                {"started", running},
                {"restartCount", restarts},
                {"lastState", json::object()}};
      if (running) {
        s["containerID"] = containerId(podName, name, restarts);
        s["state"] = {{"running", {{"startedAt", startedAt}}}};
      } else if (crashLoop) {
        s["containerID"] = containerId(podName, name, restarts);
        s["state"] = {{"waiting",
                       {{"reason", "CrashLoopBackOff"},
                        {"message", "back-off " + std::to_string(crashBackoff(restarts).count() / 1000) +
                                        "s restarting failed container=" + name + (" pod=" + podName)}}}};
        s["lastState"] = {{"terminated",
                           {{"exitCode", 1},
                            {"reason", "Error"},
                            {"startedAt", startedAt},
                            {"finishedAt", nowText()},
                            {"containerID", s["containerID"]}}}};
        s["started"] = false;
      } else {
        s["state"] = {{"waiting", {{"reason", "ContainerCreating"}}}};
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  bool writePodStatus(const json& pod, json status, const std::string& ns, const std::string& name) {
    if (field(pod, "status") == status) return true;
    json next = pod;
    next["status"] = std::move(status);
    auto r = registry.update(*pods, ns, name, Subresource::kStatus, std::move(next), {});
    return r ? true : report(r.error(), "pod " + ns + "/" + name + " status");
  }

  bool syncPod(const std::string& ns, const std::string& name, std::optional<Millis>& after) {
    auto got = registry.get(*pods, ns, name);
    if (!got) return got.error().code == 404 || report(got.error(), "pod " + ns + "/" + name);
    json pod = std::move(got).value();
    if (deleting(pod)) return true;
    const std::string uid = str(pod["metadata"], "uid");
    const std::string phase = str(field(pod, "status"), "phase");
    if (phase == "Succeeded" || phase == "Failed") return true;
    const PodBehaviour behaviour = podBehaviour(pod, options.podReadyAfter);
    if (phase == "Running" && podReady(pod) && !behaviour.crashLoop) return true;
    const auto now = clock().now();
    auto seen = firstSeen.try_emplace(uid, now).first->second;
    if (!behaviour.problem.empty() && warned.insert(uid).second)
      recordEvent(pod, "Warning", "InvalidClusterAnnotation", behaviour.problem, "kubelet");

    // The scheduler: bind to the one node.
    if (str(field(pod, "spec"), "nodeName").empty()) {
      pod["spec"]["nodeName"] = options.nodeName;
      auto bound = registry.update(*pods, ns, name, Subresource::kMain, pod, {});
      if (!bound) return report(bound.error(), "binding pod " + ns + "/" + name);
      pod = std::move(bound).value();
      recordEvent(pod, "Normal", "Scheduled",
                  "Successfully assigned " + ns + "/" + name + " to " + options.nodeName,
                  "default-scheduler");
    }
    json status = field(pod, "status").is_object() ? pod["status"] : json::object();
    status["hostIP"] = kHostIp;
    status["hostIPs"] = json::array({{{"ip", kHostIp}}});
    if (!status.contains("startTime")) status["startTime"] = nowText();
    status["qosClass"] = status.value("qosClass", std::string("BestEffort"));
    json conds = status.value("conditions", json::array());
    setCondition(conds, "PodScheduled", "True", "", "", false, nowText());

    const auto readyAt = seen + behaviour.readyAfter;
    if (now < readyAt) {
      // Still starting: containers being created.
      status["phase"] = "Pending";
      setCondition(conds, "Initialized", "True", "", "", false, nowText());
      setCondition(conds, "ContainersReady", "False", "ContainersNotReady", notReadyMessage(pod), false,
                   nowText());
      setCondition(conds, "Ready", "False", "ContainersNotReady", notReadyMessage(pod), false, nowText());
      status["conditions"] = conds;
      if (!status.contains("containerStatuses"))
        status["containerStatuses"] = containerStatuses(pod, name, false, false, 0, "");
      after = std::chrono::duration_cast<Millis>(readyAt - now) + Millis(1);
      return writePodStatus(pod, std::move(status), ns, name);
    }

    status["phase"] = "Running";
    status["podIP"] = podIp(uid);
    status["podIPs"] = json::array({{{"ip", podIp(uid)}}});
    setCondition(conds, "Initialized", "True", "", "", false, nowText());
    if (behaviour.crashLoop) {
      int restarts = 0;
      bool crashed = false;
      const json& cs = field(status, "containerStatuses");
      if (cs.is_array() && !cs.empty()) {
        restarts = intField(cs[0], "restartCount", 0);
        crashed = str(field(field(cs[0], "state"), "waiting"), "reason") == "CrashLoopBackOff";
      }
      auto next = nextRestart.find(uid);
      if (crashed && next == nextRestart.end()) {
        // Resumed after a restart of the server: the back-off starts over.
        next = nextRestart.emplace(uid, now + crashBackoff(restarts)).first;
      }
      if (crashed && now < next->second) {
        after = std::chrono::duration_cast<Millis>(next->second - now) + Millis(1);
        return true;
      }
      // The container ran, exited with an error and waits out its back-off.
      ++restarts;
      nextRestart[uid] = now + crashBackoff(restarts);
      after = crashBackoff(restarts) + Millis(1);
      if (restarts == 1)
        recordEvent(pod, "Warning", "BackOff", "Back-off restarting failed container", "kubelet");
      setCondition(conds, "ContainersReady", "False", "ContainersNotReady", notReadyMessage(pod), false,
                   nowText());
      setCondition(conds, "Ready", "False", "ContainersNotReady", notReadyMessage(pod), false, nowText());
      status["conditions"] = conds;
      status["containerStatuses"] =
          containerStatuses(pod, name, false, true, restarts, status.value("startTime", nowText()));
      return writePodStatus(pod, std::move(status), ns, name);
    }
    setCondition(conds, "ContainersReady", "True", "", "", false, nowText());
    setCondition(conds, "Ready", "True", "", "", false, nowText());
    status["conditions"] = conds;
    status["containerStatuses"] = containerStatuses(pod, name, true, false, 0, nowText());
    firstSeen.erase(uid);
    return writePodStatus(pod, std::move(status), ns, name);
  }

  // ---- Jobs: the Job controller and the kubelet, for a Job of one pod ----

  // A Job runs as its pod template's annotations say a pod runs (base/pod_behaviour.h): it completes
  // ready-after its start, or with cluster.sluice.dev/fail fails then, as a pod that keeps failing uses up
  // its backoffLimit; either way it fails once it has been active for spec.activeDeadlineSeconds. Status as
  // Kubernetes writes it: startTime, active, then the Complete or Failed condition, succeeded or failed,
  // completionTime. No pods are created: nothing here runs a container's command.
  bool syncJob(const std::string& ns, const std::string& name, std::optional<Millis>& after) {
    auto got = registry.get(*jobs, ns, name);
    if (!got) return got.error().code == 404 || report(got.error(), "job " + ns + "/" + name);
    json job = std::move(got).value();
    if (deleting(job)) return true;
    json status = field(job, "status").is_object() ? job["status"] : json::object();
    const json& conds = field(status, "conditions");
    if (conds.is_array()) {
      for (const auto& c : conds) {
        if ((str(c, "type") == "Complete" || str(c, "type") == "Failed") && str(c, "status") == "True")
          return true;
      }
    }
    const std::string uid = str(job["metadata"], "uid");
    const auto now = clock().now();
    if (!status.contains("startTime")) status["startTime"] = nowText();
    // Resumed after a restart of the server: the Job started when its status says.
    const auto started =
        firstSeen.try_emplace(uid, now - std::chrono::seconds(unixNow() - unixOf(str(status, "startTime"))))
            .first->second;
    const json& tmpl = field(field(job, "spec"), "template");
    const PodBehaviour behaviour = podBehaviour(tmpl, options.podReadyAfter);
    if (!behaviour.problem.empty() && warned.insert(uid).second)
      recordEvent(job, "Warning", "InvalidClusterAnnotation", behaviour.problem, "job-controller");
    const auto endsAt = started + behaviour.readyAfter;
    const json& deadline = field(job["spec"], "activeDeadlineSeconds");
    std::optional<Clock::TimePoint> deadlineAt;
    if (deadline.is_number_integer()) deadlineAt = started + std::chrono::seconds(deadline.get<int64_t>());

    std::string outcome;  // the condition to set, when the Job ends now
    std::string reason;
    std::string message;
    if (deadlineAt && now >= *deadlineAt && *deadlineAt <= endsAt) {
      outcome = "Failed";
      reason = "DeadlineExceeded";
      message = "Job was active longer than specified deadline";
    } else if (now >= endsAt) {
      outcome = behaviour.crashLoop ? "Failed" : "Complete";
      if (behaviour.crashLoop) {
        reason = "BackoffLimitExceeded";
        message = "Job has reached the specified backoff limit";
      }
    }
    if (outcome.empty()) {
      status["active"] = 1;
      auto next = deadlineAt ? std::min(endsAt, *deadlineAt) : endsAt;
      after = std::chrono::duration_cast<Millis>(next - now) + Millis(1);
    } else {
      status.erase("active");
      json c = conds.is_array() ? conds : json::array();
      setCondition(c, outcome, "True", reason, message, false, nowText());
      for (auto& cond : c) cond["lastProbeTime"] = cond.value("lastTransitionTime", nowText());
      status["conditions"] = std::move(c);
      status[outcome == "Complete" ? "succeeded" : "failed"] = 1;
      if (outcome == "Complete") status["completionTime"] = nowText();
      firstSeen.erase(uid);
    }
    if (field(job, "status") == status) return true;
    job["status"] = status;
    auto r = registry.update(*jobs, ns, name, Subresource::kStatus, std::move(job), {});
    if (!r) return report(r.error(), "job " + ns + "/" + name + " status");
    if (!outcome.empty()) {
      recordEvent(*r, outcome == "Complete" ? "Normal" : "Warning",
                  outcome == "Complete" ? "Completed" : reason,
                  outcome == "Complete" ? "Job completed" : message, "job-controller");
    }
    return true;
  }

  // ---- ReplicaSets: pods to match spec.replicas ----

  // The items of `type` in `ns` matching the object's spec.selector and controlled by it, not deleting.
  ApiResult<std::vector<json>> controlled(const ResourceType& type, const json& owner) {
    const json& meta = owner["metadata"];
    auto selector = labelSelectorQuery(field(field(owner, "spec"), "selector"));
    if (!selector) return ApiError{400, "BadRequest", selector.error()};
    std::vector<json> out;
    // An empty selector would select everything; the real server requires one, so it selects nothing.
    if (selector->empty()) return out;
    ListOptions lo;
    lo.labelSelector = *selector;
    auto listed = registry.list(type, str(meta, "namespace"), lo);
    if (!listed) return listed.error();
    for (auto& item : (*listed)["items"]) {
      if (kube::controlledBy(item, str(meta, "uid")) && !deleting(item)) out.push_back(std::move(item));
    }
    return out;
  }

  bool syncReplicaSet(const std::string& ns, const std::string& name, std::optional<Millis>& after) {
    auto got = registry.get(*replicaSets, ns, name);
    if (!got) return got.error().code == 404 || report(got.error(), "replicaset " + ns + "/" + name);
    json rs = std::move(got).value();
    if (deleting(rs)) return true;
    // Pods from a template the selector does not select would never count as the ReplicaSet's, and
    // it would create more forever. The server refuses such a ReplicaSet now; one stored before is left.
    if (!selectorMatchesTemplate(rs)) return true;
    auto owned = controlled(*pods, rs);
    if (!owned) return report(owned.error(), "pods of replicaset " + ns + "/" + name);
    std::vector<json> active = std::move(owned).value();
    const json& spec = rs["spec"];
    const int wanted = intField(spec, "replicas", 1);
    const int desired = std::min(wanted, options.maxPodsPerReplicaSet);
    if (wanted > desired && static_cast<int>(active.size()) < desired) {
      recordEvent(rs, "Warning", "SimulationLimit",
                  "the simulation runs at most " + std::to_string(options.maxPodsPerReplicaSet) +
                      " pods per ReplicaSet, not " + std::to_string(wanted),
                  "replicaset-controller");
    }
    bool ok = true;
    if (static_cast<int>(active.size()) < desired) {
      const json& tmpl = field(spec, "template");
      const json& tmeta = field(tmpl, "metadata");
      const int target = std::min(desired, static_cast<int>(active.size()) + kBurstReplicas);
      if (target < desired) after = Millis(10);
      for (int i = static_cast<int>(active.size()); i < target; ++i) {
        json pod = {{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata",
                     {{"generateName", name + "-"},
                      {"namespace", ns},
                      {"ownerReferences", json::array({ownerReference(rs, "apps/v1", "ReplicaSet")})}}},
                    {"spec", field(tmpl, "spec").is_object() ? tmpl["spec"] : json::object()}};
        if (field(tmeta, "labels").is_object()) pod["metadata"]["labels"] = tmeta["labels"];
        if (field(tmeta, "annotations").is_object()) pod["metadata"]["annotations"] = tmeta["annotations"];
        auto created = registry.create(*pods, ns, std::move(pod), {});
        if (!created) {
          ok = report(created.error(), "creating a pod of replicaset " + ns + ("/" + name));
          recordEvent(rs, "Warning", "FailedCreate", "Error creating: " + created.error().message,
                      "replicaset-controller");
          break;
        }
        recordEvent(rs, "Normal", "SuccessfulCreate", "Created pod: " + str((*created)["metadata"], "name"),
                    "replicaset-controller");
        active.push_back(std::move(created).value());
      }
    } else if (static_cast<int>(active.size()) > desired) {
      std::vector<PodRank> ranks;
      for (const auto& p : active) {
        const json* ready = conditionOf(p, "Ready");
        int restarts = 0;
        const json& cs = field(field(p, "status"), "containerStatuses");
        if (cs.is_array()) {
          for (const auto& c : cs) restarts += intField(c, "restartCount", 0);
        }
        ranks.push_back({!str(field(p, "spec"), "nodeName").empty(), str(field(p, "status"), "phase"),
                         podReady(p), ready ? unixOf(str(*ready, "lastTransitionTime")) : 0, restarts,
                         unixOf(str(p["metadata"], "creationTimestamp"))});
      }
      auto doomed = podsToDelete(ranks, active.size() - static_cast<size_t>(desired));
      std::set<size_t> gone;
      for (size_t i : doomed) {
        const std::string podName = str(active[i]["metadata"], "name");
        auto removed = registry.remove(*pods, ns, podName, {});
        if (!removed && removed.error().code != 404) {
          ok = report(removed.error(), "deleting pod " + ns + ("/" + podName));
          continue;
        }
        recordEvent(rs, "Normal", "SuccessfulDelete", "Deleted pod: " + podName, "replicaset-controller");
        gone.insert(i);
      }
      std::vector<json> left;
      for (size_t i = 0; i < active.size(); ++i) {
        if (!gone.count(i)) left.push_back(std::move(active[i]));
      }
      active = std::move(left);
    }
    return writeReplicaSetStatus(rs, active, after) && ok;
  }

  bool writeReplicaSetStatus(const json& rs, const std::vector<json>& active, std::optional<Millis>& after) {
    const json& spec = rs["spec"];
    const int minReady = intField(spec, "minReadySeconds", 0);
    const json& templateLabels = field(field(field(spec, "template"), "metadata"), "labels");
    const int64_t now = unixNow();
    int fullyLabeled = 0;
    int ready = 0;
    int available = 0;
    for (const auto& p : active) {
      bool labeled = true;
      if (templateLabels.is_object()) {
        const json& labels = field(p["metadata"], "labels");
        for (const auto& [k, v] : templateLabels.items()) labeled = labeled && field(labels, k.c_str()) == v;
      }
      fullyLabeled += labeled ? 1 : 0;
      if (!podReady(p)) continue;
      ++ready;
      const int64_t since = unixOf(str(*conditionOf(p, "Ready"), "lastTransitionTime"));
      if (minReady == 0 || since + minReady <= now) {
        ++available;
      } else {
        const Millis wait{(since + minReady - now) * 1000 + 100};
        after = after ? std::min(*after, wait) : wait;
      }
    }
    json status = field(rs, "status").is_object() ? rs["status"] : json::object();
    status["replicas"] = static_cast<int>(active.size());
    status["fullyLabeledReplicas"] = fullyLabeled;
    status["readyReplicas"] = ready;
    status["availableReplicas"] = available;
    status["observedGeneration"] =
        field(rs["metadata"], "generation").is_number() ? rs["metadata"]["generation"] : json(1);
    for (const char* zeroOmitted : {"fullyLabeledReplicas", "readyReplicas", "availableReplicas"}) {
      if (status[zeroOmitted] == json(0)) status.erase(zeroOmitted);
    }
    if (field(rs, "status") == status) return true;
    json next = rs;
    next["status"] = std::move(status);
    const std::string ns = str(rs["metadata"], "namespace");
    const std::string name = str(rs["metadata"], "name");
    auto r = registry.update(*replicaSets, ns, name, Subresource::kStatus, std::move(next), {});
    return r ? true : report(r.error(), "replicaset " + ns + "/" + name + " status");
  }

  // ---- Deployments: ReplicaSets per template, rolled within the strategy's budget ----

  static int64_t revisionOf(const json& rs) {
    const std::string r = str(field(rs["metadata"], "annotations"), kRevisionAnnotation);
    try {
      return r.empty() ? 0 : std::stoll(r);
    } catch (const std::exception&) {
      return 0;
    }
  }

  // Drops nulls, empty objects and empty lists, recursively: a typed decode cannot tell them from absent
  // fields (kubectl rollout undo sends `creationTimestamp: null`), so neither may template comparison.
  static json withoutEmpty(const json& v) {
    if (v.is_object()) {
      json out = json::object();
      for (const auto& [k, item] : v.items()) {
        json kept = withoutEmpty(item);
        if (!kept.is_null()) out[k] = std::move(kept);
      }
      return out.empty() ? json() : out;
    }
    if (v.is_array()) {
      json out = json::array();
      for (const auto& item : v) out.push_back(withoutEmpty(item));
      return out.empty() ? json() : out;
    }
    return v;
  }

  // The pod template as ReplicaSets of one Deployment are told apart: without the pod-template-hash label
  // and without empty fields.
  static json comparableTemplate(json tmpl) {
    if (tmpl.is_object() && tmpl.contains("metadata") && tmpl["metadata"].contains("labels"))
      tmpl["metadata"]["labels"].erase(kPodTemplateHashLabel);
    return withoutEmpty(tmpl);
  }

  // Sets spec.replicas (and the replica annotations) of a ReplicaSet; `rs` becomes the stored object.
  bool scaleReplicaSet(json& d, json& rs, int replicas, int maxSurge, const char* verb) {
    const int was = intField(rs["spec"], "replicas", 1);
    const int dReplicas = intField(d["spec"], "replicas", 1);
    json next = rs;
    next["spec"]["replicas"] = replicas;
    json& annotations = next["metadata"]["annotations"];
    if (!annotations.is_object()) annotations = json::object();
    annotations[kDesiredReplicasAnnotation] = std::to_string(dReplicas);
    annotations[kMaxReplicasAnnotation] = std::to_string(dReplicas + maxSurge);
    if (next == rs) return true;
    const std::string ns = str(rs["metadata"], "namespace");
    auto r = registry.update(*replicaSets, ns, str(rs["metadata"], "name"), Subresource::kMain, next, {});
    if (!r) return report(r.error(), "scaling replicaset " + ns + "/" + str(rs["metadata"], "name"));
    rs = std::move(r).value();
    if (was != replicas) {
      recordEvent(d, "Normal", "ScalingReplicaSet",
                  std::string("Scaled ") + verb + " replica set " + str(rs["metadata"], "name") + " to " +
                      std::to_string(replicas) + (was < replicas ? "" : " from " + std::to_string(was)),
                  "deployment-controller");
    }
    return true;
  }

  bool syncDeployment(const std::string& ns, const std::string& name, std::optional<Millis>& after) {
    auto got = registry.get(*deployments, ns, name);
    if (!got) return got.error().code == 404 || report(got.error(), "deployment " + ns + "/" + name);
    json d = std::move(got).value();
    if (deleting(d)) return true;
    // As for ReplicaSets: a template the selector does not select would get a new ReplicaSet each time.
    if (!selectorMatchesTemplate(d)) return true;
    const json spec = d["spec"];
    // Held to the pods one ReplicaSet runs here; also keeps the surge arithmetic far from int overflow.
    const int replicas = std::min(intField(spec, "replicas", 1), options.maxPodsPerReplicaSet);
    const bool paused = field(spec, "paused") == json(true);
    const json& strategy = field(spec, "strategy");
    const bool recreate = str(strategy, "type") == "Recreate";
    const json& rolling = field(strategy, "rollingUpdate");
    const Fenceposts fence =
        recreate ? Fenceposts{0, 0}
                 : resolveFenceposts(field(rolling, "maxSurge"), field(rolling, "maxUnavailable"), replicas);
    const int minReady = intField(spec, "minReadySeconds", 0);
    const int deadline = intField(spec, "progressDeadlineSeconds", 600);
    const int historyLimit = intField(spec, "revisionHistoryLimit", 10);

    auto owned = controlled(*replicaSets, d);
    if (!owned) return report(owned.error(), "replicasets of deployment " + ns + "/" + name);
    std::vector<json> all = std::move(owned).value();
    std::sort(all.begin(), all.end(), [](const json& a, const json& b) {
      return std::pair(str(a["metadata"], "creationTimestamp"), str(a["metadata"], "name")) <
             std::pair(str(b["metadata"], "creationTimestamp"), str(b["metadata"], "name"));
    });
    const json tmpl = field(spec, "template");
    const json comparable = comparableTemplate(tmpl);
    std::optional<size_t> newIndex;
    int64_t maxOldRevision = 0;
    for (size_t i = 0; i < all.size(); ++i) {
      if (!newIndex && comparableTemplate(field(all[i]["spec"], "template")) == comparable) {
        newIndex = i;
      } else {
        maxOldRevision = std::max(maxOldRevision, revisionOf(all[i]));
      }
    }
    const int64_t newRevision = maxOldRevision + 1;
    json status = field(d, "status").is_object() ? d["status"] : json::object();
    json conds = status.value("conditions", json::array());
    const json before = status;
    bool ok = true;

    auto progressMessage = [](const json& rs, const char* what) {
      return "ReplicaSet \"" + str(rs["metadata"], "name") + "\" " + what;
    };

    // The new ReplicaSet: found, or created for this template.
    json newRs;
    if (newIndex) {
      newRs = all[*newIndex];
      json next = newRs;
      json& annotations = next["metadata"]["annotations"];
      if (!annotations.is_object()) annotations = json::object();
      if (revisionOf(newRs) < newRevision) annotations[kRevisionAnnotation] = std::to_string(newRevision);
      if (intField(next["spec"], "minReadySeconds", 0) != minReady)
        next["spec"]["minReadySeconds"] = minReady;
      if (next != newRs) {
        auto r =
            registry.update(*replicaSets, ns, str(newRs["metadata"], "name"), Subresource::kMain, next, {});
        if (!r) return report(r.error(), "updating replicaset " + str(newRs["metadata"], "name"));
        newRs = std::move(r).value();
      }
      if (!conditionOf(d, "Progressing") && !paused)
        setCondition(conds, "Progressing", "True", "FoundNewReplicaSet",
                     "Found new replica set \"" + str(newRs["metadata"], "name") + "\"", true, nowText());
    } else if (!paused) {
      int64_t collisions =
          field(status, "collisionCount").is_number_integer() ? status["collisionCount"].get<int64_t>() : 0;
      const std::string hash = podTemplateHash(tmpl, collisions);
      json rsTemplate = tmpl;
      rsTemplate["metadata"]["labels"][kPodTemplateHashLabel] = hash;
      json selector = field(spec, "selector");
      selector["matchLabels"][kPodTemplateHashLabel] = hash;
      int oldSpec = 0;
      int oldPods = 0;
      for (const auto& rs : all) {
        oldSpec += intField(rs["spec"], "replicas", 1);
        oldPods += intField(field(rs, "status"), "replicas", 0);
      }
      const int initial = recreate ? recreateNewReplicas(replicas, oldPods)
                                   : rollingNewReplicas(replicas, fence.maxSurge, 0, oldSpec);
      json rs = {{"apiVersion", "apps/v1"},
                 {"kind", "ReplicaSet"},
                 {"metadata",
                  {{"name", name + "-" + hash},
                   {"namespace", ns},
                   {"labels", rsTemplate["metadata"]["labels"]},
                   {"annotations",
                    {{kRevisionAnnotation, std::to_string(newRevision)},
                     {kDesiredReplicasAnnotation, std::to_string(replicas)},
                     {kMaxReplicasAnnotation, std::to_string(replicas + fence.maxSurge)}}},
                   {"ownerReferences", json::array({ownerReference(d, "apps/v1", "Deployment")})}}},
                 {"spec",
                  {{"replicas", initial},
                   {"minReadySeconds", minReady},
                   {"selector", selector},
                   {"template", rsTemplate}}}};
      auto created = registry.create(*replicaSets, ns, rs, {});
      if (!created) {
        if (created.error().code != 409) return report(created.error(), "creating a replicaset of " + name);
        // The name is taken by another template: the next hash.
        status["collisionCount"] = collisions + 1;
        d["status"] = status;
        auto r = registry.update(*deployments, ns, name, Subresource::kStatus, d, {});
        if (!r) return report(r.error(), "deployment " + ns + "/" + name + " status");
        return false;
      }
      newRs = std::move(created).value();
      recordEvent(
          d, "Normal", "ScalingReplicaSet",
          "Scaled up replica set " + str(newRs["metadata"], "name") + " to " + std::to_string(initial),
          "deployment-controller");
      setCondition(conds, "Progressing", "True", "NewReplicaSetCreated",
                   "Created new replica set \"" + str(newRs["metadata"], "name") + "\"", true, nowText());
      all.push_back(newRs);
      newIndex = all.size() - 1;
    }

    // The Deployment carries its new ReplicaSet's revision.
    if (!newRs.is_null()) {
      const std::string revision = std::to_string(revisionOf(newRs));
      if (str(field(d["metadata"], "annotations"), kRevisionAnnotation) != revision) {
        json next = d;
        if (!next["metadata"]["annotations"].is_object()) next["metadata"]["annotations"] = json::object();
        next["metadata"]["annotations"][kRevisionAnnotation] = revision;
        auto r = registry.update(*deployments, ns, name, Subresource::kMain, next, {});
        if (!r) return report(r.error(), "deployment " + ns + "/" + name + " revision");
        d = std::move(r).value();
      }
    }

    std::vector<size_t> oldIndexes;
    for (size_t i = 0; i < all.size(); ++i) {
      if (!newIndex || i != *newIndex) oldIndexes.push_back(i);
    }
    if (paused) {
      // Scaling still applies to a paused Deployment whose rollout is settled.
      int activeOld = 0;
      for (size_t i : oldIndexes) activeOld += intField(all[i]["spec"], "replicas", 1);
      if (newIndex && activeOld == 0)
        ok = scaleReplicaSet(d, all[*newIndex], replicas, fence.maxSurge, "up") && ok;
    } else if (recreate) {
      // Every old pod goes before any new one starts.
      int oldPods = 0;
      for (size_t i : oldIndexes) {
        oldPods += intField(field(all[i], "status"), "replicas", 0);
        if (intField(all[i]["spec"], "replicas", 1) != 0) ok = scaleReplicaSet(d, all[i], 0, 0, "down") && ok;
      }
      if (oldPods == 0) {
        const int current = intField(all[*newIndex]["spec"], "replicas", 1);
        ok = scaleReplicaSet(d, all[*newIndex], recreateNewReplicas(replicas, oldPods), 0,
                             current <= replicas ? "up" : "down") &&
             ok;
      }
    } else {
      json& nrs = all[*newIndex];
      int allSpec = 0;
      for (const auto& rs : all) allSpec += intField(rs["spec"], "replicas", 1);
      const int newSpec = intField(nrs["spec"], "replicas", 1);
      const int target = rollingNewReplicas(replicas, fence.maxSurge, newSpec, allSpec);
      ok = scaleReplicaSet(d, nrs, target, fence.maxSurge, target >= newSpec ? "up" : "down") && ok;
      std::vector<ReplicaSetState> old;
      old.reserve(oldIndexes.size());
      for (size_t i : oldIndexes)
        old.push_back({intField(all[i]["spec"], "replicas", 1),
                       intField(field(all[i], "status"), "availableReplicas", 0)});
      const ReplicaSetState newState{intField(nrs["spec"], "replicas", 1),
                                     intField(field(nrs, "status"), "availableReplicas", 0)};
      auto next = rollingOldReplicas(replicas, fence.maxUnavailable, old, newState);
      for (size_t j = 0; j < oldIndexes.size(); ++j) {
        if (next[j] != old[j].specReplicas)
          ok = scaleReplicaSet(d, all[oldIndexes[j]], next[j], fence.maxSurge, "down") && ok;
      }
    }

    // Counts from the ReplicaSets' status.
    DeploymentCounts counts;
    counts.replicas = replicas;
    for (size_t i = 0; i < all.size(); ++i) {
      const json& s = field(all[i], "status");
      counts.statusReplicas += intField(s, "replicas", 0);
      counts.readyReplicas += intField(s, "readyReplicas", 0);
      counts.availableReplicas += intField(s, "availableReplicas", 0);
      if (newIndex && i == *newIndex) counts.updatedReplicas = intField(s, "replicas", 0);
    }
    DeploymentCounts previous;
    previous.replicas = replicas;
    previous.statusReplicas = intField(before, "replicas", 0);
    previous.updatedReplicas = intField(before, "updatedReplicas", 0);
    previous.readyReplicas = intField(before, "readyReplicas", 0);
    previous.availableReplicas = intField(before, "availableReplicas", 0);

    // Old ReplicaSets beyond the history limit, once the rollout is settled.
    const bool complete = deploymentComplete(counts);
    if (complete || paused) {
      std::vector<HistoryEntry> history;
      history.reserve(oldIndexes.size());
      for (size_t i : oldIndexes)
        history.push_back({revisionOf(all[i]), intField(all[i]["spec"], "replicas", 1),
                           intField(field(all[i], "status"), "replicas", 0)});
      for (size_t j : historyToDelete(history, historyLimit)) {
        const std::string rsName = str(all[oldIndexes[j]]["metadata"], "name");
        auto removed = registry.remove(*replicaSets, ns, rsName, {});
        if (!removed && removed.error().code != 404)
          ok = report(removed.error(), "deleting replicaset " + rsName) && ok;
      }
    }

    status["observedGeneration"] = d["metadata"].value("generation", int64_t{1});
    status["replicas"] = counts.statusReplicas;
    status["updatedReplicas"] = counts.updatedReplicas;
    status["readyReplicas"] = counts.readyReplicas;
    status["availableReplicas"] = counts.availableReplicas;
    status["unavailableReplicas"] = std::max(0, replicas - counts.availableReplicas);
    for (const char* zeroOmitted :
         {"replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"}) {
      if (status[zeroOmitted] == json(0)) status.erase(zeroOmitted);
    }
    if (counts.availableReplicas >= replicas - fence.maxUnavailable) {
      setCondition(conds, "Available", "True", "MinimumReplicasAvailable",
                   "Deployment has minimum availability.", true, nowText());
    } else {
      setCondition(conds, "Available", "False", "MinimumReplicasUnavailable",
                   "Deployment does not have minimum availability.", true, nowText());
    }
    if (paused) {
      setCondition(conds, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", true,
                   nowText());
    } else if (!newRs.is_null()) {
      const json* current = nullptr;
      for (const auto& c : conds) {
        if (str(c, "type") == "Progressing") current = &c;
      }
      const std::string reason = current ? str(*current, "reason") : "";
      if (complete) {
        setCondition(conds, "Progressing", "True", "NewReplicaSetAvailable",
                     progressMessage(newRs, "has successfully progressed."), true, nowText());
      } else if (deploymentProgressed(previous, counts)) {
        // Progress refreshes lastUpdateTime even when the reason stays, which restarts the deadline.
        std::string since;
        json refreshed = json::array();
        for (const auto& c : conds) {
          if (str(c, "type") != "Progressing") {
            refreshed.push_back(c);
          } else if (str(c, "status") == "True") {
            since = str(c, "lastTransitionTime");
          }
        }
        setCondition(refreshed, "Progressing", "True", "ReplicaSetUpdated",
                     progressMessage(newRs, "is progressing."), true, nowText());
        if (!since.empty()) refreshed.back()["lastTransitionTime"] = since;
        conds = std::move(refreshed);
      } else if (current && reason != "ProgressDeadlineExceeded" &&
                 unixNow() > progressExpiry(conds, deadline)) {
        setCondition(conds, "Progressing", "False", "ProgressDeadlineExceeded",
                     progressMessage(newRs, "has timed out progressing."), true, nowText());
      }
      // Look again when the deadline would pass.
      const int64_t expires = progressExpiry(conds, deadline);
      if (!complete && expires > 0 && unixNow() <= expires) after = Millis((expires - unixNow() + 1) * 1000);
    }
    status["conditions"] = conds;
    if (status == before) return ok;
    d["status"] = std::move(status);
    auto r = registry.update(*deployments, ns, name, Subresource::kStatus, d, {});
    if (!r) return report(r.error(), "deployment " + ns + "/" + name + " status");
    return ok;
  }
};

WorkloadControllers::WorkloadControllers(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WorkloadControllers::~WorkloadControllers() {
  impl_->stopping = true;
  impl_->watches.clear();
  impl_->queue.shutDown();
  if (impl_->worker.joinable()) impl_->worker.join();
}

ApiResult<std::unique_ptr<WorkloadControllers>> WorkloadControllers::start(Registry& registry,
                                                                           WorkloadOptions options) {
  auto impl = std::make_unique<Impl>(registry, std::move(options));
  impl->pods = registry.find("", "v1", "pods");
  impl->replicaSets = registry.find("apps", "v1", "replicasets");
  impl->deployments = registry.find("apps", "v1", "deployments");
  impl->jobs = registry.find("batch", "v1", "jobs");
  impl->events = registry.find("", "v1", "events");
  if (!impl->pods || !impl->replicaSets || !impl->deployments || !impl->jobs || !impl->events)
    return internalError("the workload types are not served");
  Impl* self = impl.get();
  for (const auto& [type, kind] :
       {std::pair{impl->deployments, "Deployment"}, std::pair{impl->replicaSets, "ReplicaSet"},
        std::pair{impl->pods, "Pod"}, std::pair{impl->jobs, "Job"}}) {
    std::string k = kind;
    auto w = registry.watch(*type, "", {}, [self, k](const WatchEvent& e) { self->enqueue(k, e); });
    if (!w) return w.error();
    impl->watches.push_back(std::move(w).value());
  }
  impl->queue.addAfter("resync", kResyncInterval);
  impl->worker = std::thread([self] { self->run(); });
  return std::unique_ptr<WorkloadControllers>(new WorkloadControllers(std::move(impl)));
}

}  // namespace sluice::apiserver
