// The Table convertor: one column set and one row printer per built-in kind, with the columns, cell types
// and cell texts the real server's printers give (kubectl prints cells verbatim), the CRD convertor over
// additionalPrinterColumns, and the default Name/Created At table for kinds without a printer.
#include "kube/apiserver/table.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "base/json_path.h"
#include "kube/apiserver/handler.h"
#include "kube/apiserver/registry.h"

namespace sluice::apiserver {
namespace {

using nlohmann::json;

// ---- Reading objects -------------------------------------------------------------------------------

const json& nullJson() {
  static const json n;
  return n;
}

// obj.k1.k2... or null.
const json& at(const json& obj, std::initializer_list<const char*> keys) {
  const json* cur = &obj;
  for (const char* k : keys) {
    if (!cur->is_object()) return nullJson();
    auto it = cur->find(k);
    if (it == cur->end()) return nullJson();
    cur = &*it;
  }
  return *cur;
}

std::string text(const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }
int64_t integer(const json& v) { return v.is_number() ? v.get<int64_t>() : 0; }
const json& list(const json& v) {
  static const json empty = json::array();
  return v.is_array() ? v : empty;
}
std::size_t entries(const json& v) { return v.is_object() || v.is_array() ? v.size() : 0; }
std::string orNone(const std::string& s) { return s.empty() ? "<none>" : s; }

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? "" : sep) + parts[i];
  return out;
}

std::optional<Time> timestamp(const json& v) {
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) return std::nullopt;
  auto t = parseRfc3339(v.get<std::string>());
  if (!t) return std::nullopt;
  return *t;
}

// A timestamp as an age; "<unknown>" when unset (the real printers' translateTimestampSince).
std::string ageOf(const json& v, Time now) {
  auto t = timestamp(v);
  return t ? humanDuration(now - *t) : "<unknown>";
}

std::string rfc3339Of(const json& v) {
  auto t = timestamp(v);
  return formatRfc3339(t.value_or(Time{}));
}

// `k=v,k2=v2` in key order, "<none>" when empty (labels.FormatLabels).
std::string formatLabels(const json& labels) {
  std::vector<std::string> parts;
  if (labels.is_object()) {
    for (const auto& [k, v] : labels.items()) parts.push_back(k + "=" + text(v));
  }
  return parts.empty() ? "<none>" : join(parts, ",");
}

// A metav1.LabelSelector written as a selector string: requirements in key order, matchLabels as `k=v`,
// expressions as `k in (a,b)`, `k notin (a,b)`, `k`, `!k`.
std::string formatSelector(const json& selector) {
  if (!selector.is_object()) return "";
  std::vector<std::pair<std::string, std::string>> reqs;
  if (const json& matchLabels = at(selector, {"matchLabels"}); matchLabels.is_object()) {
    for (const auto& [k, v] : matchLabels.items()) reqs.emplace_back(k, k + "=" + text(v));
  }
  for (const json& e : list(at(selector, {"matchExpressions"}))) {
    std::string key = text(at(e, {"key"}));
    std::string op = text(at(e, {"operator"}));
    std::vector<std::string> values;
    for (const json& v : list(at(e, {"values"}))) values.push_back(text(v));
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    if (op == "In") {
      reqs.emplace_back(key, key + " in (" + join(values, ",") + ")");
    } else if (op == "NotIn") {
      reqs.emplace_back(key, key + " notin (" + join(values, ",") + ")");
    } else if (op == "Exists") {
      reqs.emplace_back(key, key);
    } else if (op == "DoesNotExist") {
      reqs.emplace_back(key, "!" + key);
    } else {
      return "<invalid>";
    }
  }
  std::stable_sort(reqs.begin(), reqs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> parts;
  parts.reserve(reqs.size());
  for (auto& r : reqs) parts.push_back(std::move(r.second));
  return join(parts, ",");
}

// The CONTAINERS and IMAGES cells of a pod template's containers.
std::pair<std::string, std::string> containerCells(const json& podSpec) {
  std::vector<std::string> names;
  std::vector<std::string> images;
  for (const json& c : list(at(podSpec, {"containers"}))) {
    names.push_back(text(at(c, {"name"})));
    images.push_back(text(at(c, {"image"})));
  }
  return {join(names, ","), join(images, ",")};
}

bool hasCondition(const json& obj, const std::string& type, const std::string& status = "True") {
  for (const json& c : list(at(obj, {"status", "conditions"}))) {
    if (text(at(c, {"type"})) == type && text(at(c, {"status"})) == status) return true;
  }
  return false;
}

// ---- Column sets ---------------------------------------------------------------------------------

struct Column {
  const char* name;
  const char* type;  // string, integer, number, boolean, date
  const char* description;
  int priority = 0;
  const char* format = "";
};

json columnJson(const Column& c) {
  return {{"name", c.name},
          {"type", c.type},
          {"format", c.format},
          {"description", c.description},
          {"priority", c.priority}};
}

const Column kName{"Name", "string", "The object's name, unique within its namespace and kind.", 0, "name"};
const Column kAge{"Age", "string", "Time since the object was created (metadata.creationTimestamp).", 0};
const Column kCreatedAt{"Created At", "date", "When the object was created (metadata.creationTimestamp).", 0};
const Column kContainers{"Containers", "string", "Names of the containers of the pod template.", 1};
const Column kImages{"Images", "string", "Images of the containers of the pod template.", 1};
const Column kSelector{"Selector", "string", "The label selector of the pods.", 1};

// The row a row printer fills; `conditions` only for pods that finished.
struct Row {
  json cells = json::array();
  json conditions;
};

using Printer = std::function<void(const json& obj, Time now, Row& row)>;

struct Printing {
  std::vector<Column> columns;
  Printer print;
};

// Pods: READY from the container statuses; STATUS the phase, the reason of a waiting or terminated
// container (init containers first), or Terminating; RESTARTS with the age of the last restart.
void printPod(const json& pod, Time now, Row& row) {
  const json& spec = at(pod, {"spec"});
  const json& status = at(pod, {"status"});
  const std::string phase = text(at(status, {"phase"}));
  std::string reason = phase;
  if (!text(at(status, {"reason"})).empty()) reason = text(at(status, {"reason"}));
  for (const json& c : list(at(status, {"conditions"}))) {
    if (text(at(c, {"type"})) == "PodScheduled" && text(at(c, {"reason"})) == "SchedulingGated") {
      reason = "SchedulingGated";
    }
  }
  if (phase == "Succeeded") {
    row.conditions = json::array({{{"type", "Completed"},
                                   {"status", "True"},
                                   {"reason", "Succeeded"},
                                   {"message", "The pod has completed successfully."}}});
  } else if (phase == "Failed") {
    row.conditions = json::array(
        {{{"type", "Completed"}, {"status", "True"}, {"reason", "Failed"}, {"message", "The pod failed."}}});
  }

  // Init containers with restartPolicy Always run beside the main ones (sidecars) and count as such.
  std::map<std::string, bool> sidecar;
  const json& initSpecs = list(at(spec, {"initContainers"}));
  int64_t total = static_cast<int64_t>(list(at(spec, {"containers"})).size());
  for (const json& c : initSpecs) {
    bool always = text(at(c, {"restartPolicy"})) == "Always";
    sidecar[text(at(c, {"name"}))] = always;
    if (always) ++total;
  }
  int64_t ready = 0;
  int64_t restarts = 0;
  int64_t sidecarRestarts = 0;
  std::optional<Time> lastRestart;
  std::optional<Time> lastSidecarRestart;
  auto later = [](std::optional<Time>& slot, const json& containerStatus) {
    auto t = timestamp(at(containerStatus, {"lastState", "terminated", "finishedAt"}));
    if (t && (!slot || *slot < *t)) slot = t;
  };
  bool initializing = false;
  const json& initStatuses = list(at(status, {"initContainerStatuses"}));
  for (std::size_t i = 0; i < initStatuses.size(); ++i) {
    const json& cs = initStatuses[i];
    restarts += integer(at(cs, {"restartCount"}));
    later(lastRestart, cs);
    const bool isSidecar = sidecar[text(at(cs, {"name"}))];
    if (isSidecar) {
      sidecarRestarts += integer(at(cs, {"restartCount"}));
      later(lastSidecarRestart, cs);
    }
    const json& terminated = at(cs, {"state", "terminated"});
    const json& waiting = at(cs, {"state", "waiting"});
    if (terminated.is_object() && integer(at(terminated, {"exitCode"})) == 0) continue;
    if (isSidecar && at(cs, {"started"}) == true) {
      if (at(cs, {"ready"}) == true) ++ready;
      continue;
    }
    if (terminated.is_object()) {
      std::string why = text(at(terminated, {"reason"}));
      if (!why.empty()) {
        reason = "Init:" + why;
      } else if (integer(at(terminated, {"signal"})) != 0) {
        reason = "Init:Signal:" + std::to_string(integer(at(terminated, {"signal"})));
      } else {
        reason = "Init:ExitCode:" + std::to_string(integer(at(terminated, {"exitCode"})));
      }
    } else if (waiting.is_object() && !text(at(waiting, {"reason"})).empty() &&
               text(at(waiting, {"reason"})) != "PodInitializing") {
      reason = "Init:" + text(at(waiting, {"reason"}));
    } else {
      reason = "Init:" + std::to_string(i) + "/" + std::to_string(initSpecs.size());
    }
    initializing = true;
    break;
  }
  if (!initializing || hasCondition(pod, "Initialized")) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    bool running = false;
    const json& statuses = list(at(status, {"containerStatuses"}));
    for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
      const json& cs = *it;
      restarts += integer(at(cs, {"restartCount"}));
      later(lastRestart, cs);
      const json& terminated = at(cs, {"state", "terminated"});
      const std::string waitingWhy = text(at(cs, {"state", "waiting", "reason"}));
      if (!waitingWhy.empty()) {
        reason = waitingWhy;
      } else if (terminated.is_object() && !text(at(terminated, {"reason"})).empty()) {
        reason = text(at(terminated, {"reason"}));
      } else if (terminated.is_object()) {
        int64_t signal = integer(at(terminated, {"signal"}));
        reason = signal != 0 ? "Signal:" + std::to_string(signal)
                             : "ExitCode:" + std::to_string(integer(at(terminated, {"exitCode"})));
      } else if (at(cs, {"ready"}) == true && at(cs, {"state", "running"}).is_object()) {
        running = true;
        ++ready;
      }
    }
    if (reason == "Completed" && running) reason = hasCondition(pod, "Ready") ? "Running" : "NotReady";
  }
  const bool deleting = !at(pod, {"metadata", "deletionTimestamp"}).is_null();
  if (deleting && text(at(status, {"reason"})) == "NodeLost") {
    reason = "Unknown";
  } else if (deleting && phase != "Succeeded" && phase != "Failed") {
    reason = "Terminating";
  }
  std::string restartText = std::to_string(restarts);
  if (restarts != 0 && lastRestart) restartText += " (" + humanDuration(now - *lastRestart) + " ago)";

  std::string ip;
  if (!list(at(status, {"podIPs"})).empty()) ip = text(at(list(at(status, {"podIPs"}))[0], {"ip"}));
  if (ip.empty()) ip = text(at(status, {"podIP"}));
  std::string gates = "<none>";
  const json& readinessGates = list(at(spec, {"readinessGates"}));
  if (!readinessGates.empty()) {
    int trueGates = 0;
    for (const json& g : readinessGates) {
      if (hasCondition(pod, text(at(g, {"conditionType"})))) ++trueGates;
    }
    gates = std::to_string(trueGates) + "/" + std::to_string(readinessGates.size());
  }
  row.cells = {text(at(pod, {"metadata", "name"})),
               std::to_string(ready) + "/" + std::to_string(total),
               reason,
               restartText,
               ageOf(at(pod, {"metadata", "creationTimestamp"}), now),
               orNone(ip),
               orNone(text(at(spec, {"nodeName"}))),
               orNone(text(at(status, {"nominatedNodeName"}))),
               gates};
}

std::string name(const json& obj) { return text(at(obj, {"metadata", "name"})); }
std::string age(const json& obj, Time now) { return ageOf(at(obj, {"metadata", "creationTimestamp"}), now); }

// A Service's EXTERNAL-IP: its externalIPs, the load balancer's addresses, or what the type implies.
std::string serviceExternalIp(const json& svc) {
  std::string type = text(at(svc, {"spec", "type"}));
  if (type.empty()) type = "ClusterIP";
  std::vector<std::string> external;
  for (const json& ip : list(at(svc, {"spec", "externalIPs"}))) external.push_back(text(ip));
  if (type == "ClusterIP" || type == "NodePort") return external.empty() ? "<none>" : join(external, ",");
  if (type == "ExternalName") return text(at(svc, {"spec", "externalName"}));
  if (type != "LoadBalancer") return "<unknown>";
  std::vector<std::string> all;
  for (const json& ing : list(at(svc, {"status", "loadBalancer", "ingress"}))) {
    std::string a = text(at(ing, {"ip"}));
    if (a.empty()) a = text(at(ing, {"hostname"}));
    if (!a.empty()) all.push_back(a);
  }
  all.insert(all.end(), external.begin(), external.end());
  return all.empty() ? "<pending>" : join(all, ",");
}

std::string servicePorts(const json& svc) {
  std::vector<std::string> parts;
  for (const json& p : list(at(svc, {"spec", "ports"}))) {
    std::string protocol = text(at(p, {"protocol"}));
    if (protocol.empty()) protocol = "TCP";
    std::string piece = std::to_string(integer(at(p, {"port"})));
    if (integer(at(p, {"nodePort"})) > 0) piece += ":" + std::to_string(integer(at(p, {"nodePort"})));
    piece += "/";
    parts.push_back(piece + protocol);
  }
  return parts.empty() ? "<none>" : join(parts, ",");
}

std::string ingressHosts(const json& ing) {
  const json& rules = list(at(ing, {"spec", "rules"}));
  std::vector<std::string> hosts;
  bool more = false;
  for (const json& r : rules) {
    if (hosts.size() == 3) more = true;
    if (!more && !text(at(r, {"host"})).empty()) hosts.push_back(text(at(r, {"host"})));
  }
  if (hosts.empty()) return "*";
  std::string out = join(hosts, ",");
  if (more) out += " + " + std::to_string(rules.size() - 3) + " more...";
  return out;
}

std::string roleBindingSubjects(const json& binding, const std::string& kind) {
  std::vector<std::string> out;
  for (const json& s : list(at(binding, {"subjects"}))) {
    if (text(at(s, {"kind"})) != kind) continue;
    std::string n = text(at(s, {"name"}));
    out.push_back(kind == "ServiceAccount" ? text(at(s, {"namespace"})) + ":" + n : n);
  }
  return join(out, ", ");
}

// An Event's LAST SEEN and FIRST SEEN, from the core fields or the events.k8s.io ones they mirror.
void printEvent(const json& ev, Time now, Row& row) {
  std::string first = at(ev, {"firstTimestamp"}).is_string() ? ageOf(at(ev, {"firstTimestamp"}), now)
                                                             : ageOf(at(ev, {"eventTime"}), now);
  std::string last = at(ev, {"lastTimestamp"}).is_string() ? ageOf(at(ev, {"lastTimestamp"}), now) : first;
  int64_t count = integer(at(ev, {"count"}));
  if (at(ev, {"series"}).is_object()) {
    last = ageOf(at(ev, {"series", "lastObservedTime"}), now);
    count = integer(at(ev, {"series", "count"}));
  } else if (count == 0) {
    count = 1;
  }
  std::string kind = text(at(ev, {"involvedObject", "kind"}));
  std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string target = text(at(ev, {"involvedObject", "name"}));
  target = target.empty() ? kind : kind + "/" + target;
  std::string component = text(at(ev, {"source", "component"}));
  if (component.empty()) component = text(at(ev, {"reportingComponent"}));
  std::string host = text(at(ev, {"source", "host"}));
  if (host.empty()) host = text(at(ev, {"reportingInstance"}));
  std::string source = host.empty() ? component : component + ", " + host;
  std::string message = text(at(ev, {"message"}));
  auto notSpace = [](unsigned char c) { return std::isspace(c) == 0; };
  message.erase(message.begin(), std::find_if(message.begin(), message.end(), notSpace));
  message.erase(std::find_if(message.rbegin(), message.rend(), notSpace).base(), message.end());
  row.cells = {last,
               text(at(ev, {"type"})),
               text(at(ev, {"reason"})),
               target,
               text(at(ev, {"involvedObject", "fieldPath"})),
               source,
               message,
               first,
               count,
               name(ev)};
}

const std::map<std::string, Printing>& printings() {
  static const std::map<std::string, Printing> m = [] {
    std::map<std::string, Printing> p;
    p["Pod"] = {{kName,
                 {"Ready", "string", "Ready containers out of all containers.", 0},
                 {"Status", "string", "The pod's phase, or why it is not running.", 0},
                 {"Restarts", "string", "Container restarts, with the age of the last one.", 0},
                 kAge,
                 {"IP", "string", "The pod's IP address.", 1},
                 {"Node", "string", "The node the pod is bound to.", 1},
                 {"Nominated Node", "string", "The node the scheduler nominated for preemption.", 1},
                 {"Readiness Gates", "string", "Readiness gates that are true, out of all.", 1}},
                printPod};
    p["Deployment"] = {{kName,
                        {"Ready", "string", "Ready replicas out of desired replicas.", 0},
                        {"Up-to-date", "integer", "Replicas updated to the latest pod template.", 0},
                        {"Available", "integer", "Replicas available to serve.", 0},
                        kAge,
                        kContainers,
                        kImages,
                        kSelector},
                       [](const json& d, Time now, Row& row) {
                         auto [names, images] = containerCells(at(d, {"spec", "template", "spec"}));
                         row.cells = {name(d),
                                      std::to_string(integer(at(d, {"status", "readyReplicas"}))) + "/" +
                                          std::to_string(integer(at(d, {"spec", "replicas"}))),
                                      integer(at(d, {"status", "updatedReplicas"})),
                                      integer(at(d, {"status", "availableReplicas"})),
                                      age(d, now),
                                      names,
                                      images,
                                      formatSelector(at(d, {"spec", "selector"}))};
                       }};
    p["ReplicaSet"] = {{kName,
                        {"Desired", "integer", "Replicas wanted.", 0},
                        {"Current", "integer", "Replicas that exist.", 0},
                        {"Ready", "integer", "Replicas that are ready.", 0},
                        kAge,
                        kContainers,
                        kImages,
                        kSelector},
                       [](const json& rs, Time now, Row& row) {
                         auto [names, images] = containerCells(at(rs, {"spec", "template", "spec"}));
                         row.cells = {name(rs),
                                      integer(at(rs, {"spec", "replicas"})),
                                      integer(at(rs, {"status", "replicas"})),
                                      integer(at(rs, {"status", "readyReplicas"})),
                                      age(rs, now),
                                      names,
                                      images,
                                      formatSelector(at(rs, {"spec", "selector"}))};
                       }};
    p["StatefulSet"] = {{kName,
                         {"Ready", "string", "Ready replicas out of desired replicas.", 0},
                         kAge,
                         kContainers,
                         kImages},
                        [](const json& s, Time now, Row& row) {
                          auto [names, images] = containerCells(at(s, {"spec", "template", "spec"}));
                          row.cells = {name(s),
                                       std::to_string(integer(at(s, {"status", "readyReplicas"}))) + "/" +
                                           std::to_string(integer(at(s, {"spec", "replicas"}))),
                                       age(s, now), names, images};
                        }};
    p["Job"] = {{kName,
                 {"Status", "string", "Complete, Failed, Terminating, Suspended, ... or Running.", 0},
                 {"Completions", "string", "Succeeded pods out of the completions wanted.", 0},
                 {"Duration", "string", "How long the job ran, or has been running.", 0},
                 kAge,
                 kContainers,
                 kImages,
                 kSelector},
                [](const json& j, Time now, Row& row) {
                  int64_t succeeded = integer(at(j, {"status", "succeeded"}));
                  std::string completions;
                  if (at(j, {"spec", "completions"}).is_number()) {
                    completions = std::to_string(succeeded) + "/" +
                                  std::to_string(integer(at(j, {"spec", "completions"})));
                  } else if (integer(at(j, {"spec", "parallelism"})) > 1) {
                    completions = std::to_string(succeeded) + "/1 of " +
                                  std::to_string(integer(at(j, {"spec", "parallelism"})));
                  } else {
                    completions = std::to_string(succeeded) + "/1";
                  }
                  std::string duration;
                  auto start = timestamp(at(j, {"status", "startTime"}));
                  auto end = timestamp(at(j, {"status", "completionTime"}));
                  if (start) duration = humanDuration((end ? *end : now) - *start);
                  std::string status = "Running";
                  if (hasCondition(j, "Complete")) {
                    status = "Complete";
                  } else if (hasCondition(j, "Failed")) {
                    status = "Failed";
                  } else if (!at(j, {"metadata", "deletionTimestamp"}).is_null()) {
                    status = "Terminating";
                  } else if (hasCondition(j, "Suspended")) {
                    status = "Suspended";
                  } else if (hasCondition(j, "FailureTarget")) {
                    status = "FailureTarget";
                  } else if (hasCondition(j, "SuccessCriteriaMet")) {
                    status = "SuccessCriteriaMet";
                  }
                  auto [names, images] = containerCells(at(j, {"spec", "template", "spec"}));
                  row.cells = {name(j),     status, completions, duration,
                               age(j, now), names,  images,      formatSelector(at(j, {"spec", "selector"}))};
                }};
    p["Service"] = {{kName,
                     {"Type", "string", "How the service is exposed.", 0},
                     {"Cluster-IP", "string", "The service's address inside the cluster.", 0},
                     {"External-IP", "string", "Addresses the service is reachable on from outside.", 0},
                     {"Port(s)", "string", "The service's ports (port[:nodePort]/protocol).", 0},
                     kAge,
                     {"Selector", "string", "The labels of the pods the service sends traffic to.", 1}},
                    [](const json& s, Time now, Row& row) {
                      std::string type = text(at(s, {"spec", "type"}));
                      std::string clusterIp;
                      if (!list(at(s, {"spec", "clusterIPs"})).empty()) {
                        clusterIp = text(at(s, {"spec", "clusterIPs"})[0]);
                      } else {
                        clusterIp = text(at(s, {"spec", "clusterIP"}));
                      }
                      row.cells = {name(s),
                                   type.empty() ? "ClusterIP" : type,
                                   orNone(clusterIp),
                                   serviceExternalIp(s),
                                   servicePorts(s),
                                   age(s, now),
                                   formatLabels(at(s, {"spec", "selector"}))};
                    }};
    p["ConfigMap"] = {{kName, {"Data", "integer", "Number of data and binaryData entries.", 0}, kAge},
                      [](const json& cm, Time now, Row& row) {
                        row.cells = {
                            name(cm),
                            static_cast<int64_t>(entries(at(cm, {"data"})) + entries(at(cm, {"binaryData"}))),
                            age(cm, now)};
                      }};
    p["Secret"] = {{kName,
                    {"Type", "string", "The secret's type.", 0},
                    {"Data", "integer", "Number of data entries.", 0},
                    kAge},
                   [](const json& s, Time now, Row& row) {
                     // stringData is write-only on the real server (merged into data); count its keys too
                     // in case the object still carries it.
                     std::set<std::string> keys;
                     for (const char* field : {"data", "stringData"}) {
                       if (at(s, {field}).is_object()) {
                         for (const auto& [k, v] : s[field].items()) keys.insert(k);
                       }
                     }
                     std::string type = text(at(s, {"type"}));
                     row.cells = {name(s), type.empty() ? "Opaque" : type, static_cast<int64_t>(keys.size()),
                                  age(s, now)};
                   }};
    p["Namespace"] = {{kName, {"Status", "string", "The namespace's phase: Active or Terminating.", 0}, kAge},
                      [](const json& ns, Time now, Row& row) {
                        row.cells = {name(ns), text(at(ns, {"status", "phase"})), age(ns, now)};
                      }};
    p["ServiceAccount"] = {
        {kName, {"Secrets", "integer", "Number of secrets the account lists.", 0}, kAge},
        [](const json& sa, Time now, Row& row) {
          row.cells = {name(sa), static_cast<int64_t>(entries(at(sa, {"secrets"}))), age(sa, now)};
        }};
    p["Event"] = {{{"Last Seen", "string", "Time since the event was last seen.", 0},
                   {"Type", "string", "Normal or Warning.", 0},
                   {"Reason", "string", "Why the event happened, in one word.", 0},
                   {"Object", "string", "The object the event is about (kind/name).", 0},
                   {"Subobject", "string", "The part of the object, such as a container.", 1},
                   {"Source", "string", "The component that reported the event.", 1},
                   {"Message", "string", "What happened.", 0},
                   {"First Seen", "string", "Time since the event was first seen.", 1},
                   {"Count", "string", "How many times it happened.", 1},
                   {"Name", "string", "The event's name.", 1, "name"}},
                  printEvent};
    p["Ingress"] = {{kName,
                     {"Class", "string", "The ingress class.", 0},
                     {"Hosts", "string", "Hosts of the rules.", 0},
                     {"Address", "string", "The load balancer's addresses.", 0},
                     {"Ports", "string", "Ports served: 80, and 443 with TLS.", 0},
                     kAge},
                    [](const json& ing, Time now, Row& row) {
                      std::vector<std::string> addresses;
                      for (const json& lb : list(at(ing, {"status", "loadBalancer", "ingress"}))) {
                        std::string a = text(at(lb, {"ip"}));
                        if (a.empty()) a = text(at(lb, {"hostname"}));
                        if (!a.empty()) addresses.push_back(a);
                      }
                      const json& cls = at(ing, {"spec", "ingressClassName"});
                      row.cells = {name(ing),
                                   cls.is_string() ? cls.get<std::string>() : "<none>",
                                   ingressHosts(ing),
                                   join(addresses, ","),
                                   list(at(ing, {"spec", "tls"})).empty() ? "80" : "80, 443",
                                   age(ing, now)};
                    }};
    p["IngressClass"] = {{kName,
                          {"Controller", "string", "The controller that implements the class.", 0},
                          {"Parameters", "string", "The resource with the class's parameters.", 0},
                          kAge},
                         [](const json& ic, Time now, Row& row) {
                           std::string params = "<none>";
                           const json& pr = at(ic, {"spec", "parameters"});
                           if (pr.is_object()) {
                             params = text(at(pr, {"kind"}));
                             if (at(pr, {"apiGroup"}).is_string()) params += "." + text(at(pr, {"apiGroup"}));
                             params += "/" + text(at(pr, {"name"}));
                           }
                           row.cells = {name(ic), text(at(ic, {"spec", "controller"})), params, age(ic, now)};
                         }};
    p["Lease"] = {{kName, {"Holder", "string", "The identity holding the lease.", 0}, kAge},
                  [](const json& l, Time now, Row& row) {
                    row.cells = {name(l), text(at(l, {"spec", "holderIdentity"})), age(l, now)};
                  }};
    const Printing role{{kName, {"Created At", "string", "When the role was created.", 0}},
                        [](const json& r, Time, Row& row) {
                          row.cells = {name(r), rfc3339Of(at(r, {"metadata", "creationTimestamp"}))};
                        }};
    p["Role"] = role;
    p["ClusterRole"] = role;
    const Printing binding{{kName,
                            {"Role", "string", "The role bound (kind/name).", 0},
                            kAge,
                            {"Users", "string", "Users bound.", 1},
                            {"Groups", "string", "Groups bound.", 1},
                            {"ServiceAccounts", "string", "Service accounts bound (namespace:name).", 1}},
                           [](const json& b, Time now, Row& row) {
                             row.cells = {
                                 name(b),
                                 text(at(b, {"roleRef", "kind"})) + "/" + text(at(b, {"roleRef", "name"})),
                                 age(b, now),
                                 roleBindingSubjects(b, "User"),
                                 roleBindingSubjects(b, "Group"),
                                 roleBindingSubjects(b, "ServiceAccount")};
                           }};
    p["RoleBinding"] = binding;
    p["ClusterRoleBinding"] = binding;
    return p;
  }();
  return m;
}

// Kinds without a printer, as the real server's default convertor: Name and Created At (RFC 3339).
const Printing& defaultPrinting() {
  static const Printing p{{kName, kCreatedAt}, [](const json& obj, Time, Row& row) {
                            row.cells = {name(obj), rfc3339Of(at(obj, {"metadata", "creationTimestamp"}))};
                          }};
  return p;
}

// ---- Custom resources ----------------------------------------------------------------------------

// One additionalPrinterColumns cell: the first value the column's JSONPath selects, typed by the column.
json customCell(const json& column, const json& obj, Time now) {
  auto found = jsonPathMatches(obj, "{" + text(at(column, {"jsonPath"})) + "}");
  if (!found.ok() || found->empty() || found->front().is_null()) return nullptr;
  const json& v = found->front();
  const std::string type = text(at(column, {"type"}));
  if (type == "string") return jsonPathText(v);
  if (type == "integer" && v.is_number()) return v.get<int64_t>();
  if (type == "number" && v.is_number()) return v.get<double>();
  if (type == "boolean" && v.is_boolean()) return v;
  if (type == "date" && v.is_string()) {
    auto t = parseRfc3339(v.get<std::string>());
    return t ? humanDuration(now - *t) : "<invalid>";
  }
  return nullptr;
}

// The column definition of a declared printer column.
json customColumn(const json& c) {
  std::string description = text(at(c, {"description"}));
  if (description.empty()) {
    description = "Custom resource definition column (in JSONPath format): " + text(at(c, {"jsonPath"}));
  }
  return {{"name", text(at(c, {"name"}))},
          {"type", text(at(c, {"type"}))},
          {"format", text(at(c, {"format"}))},
          {"description", description},
          {"priority", integer(at(c, {"priority"}))}};
}

// What a CRD version without additionalPrinterColumns gets after Name: Age from creationTimestamp.
const json& defaultCustomColumns() {
  static const json c = json::array({{{"name", "Age"},
                                      {"type", "date"},
                                      {"description", kCreatedAt.description},
                                      {"jsonPath", ".metadata.creationTimestamp"}}});
  return c;
}

// ---- Assembling ----------------------------------------------------------------------------------

json rowObject(const ResourceType& type, const json& obj, const TableOptions& options) {
  switch (options.include) {
    case IncludeObject::kNone:
      return nullptr;
    case IncludeObject::kObject: {
      json full = obj;
      full["apiVersion"] = type.apiVersion();
      full["kind"] = type.kind;
      return full;
    }
    case IncludeObject::kMetadata:
      break;
  }
  return {{"kind", "PartialObjectMetadata"},
          {"apiVersion", options.apiVersion},
          {"metadata", at(obj, {"metadata"}).is_object() ? obj["metadata"] : json::object()}};
}

}  // namespace

std::string humanDuration(Duration elapsed) {
  const int64_t seconds = elapsed.count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return std::to_string(seconds) + "s";
  const int64_t minutes = seconds / 60;
  if (minutes < 10) {
    int64_t s = seconds % 60;
    return std::to_string(minutes) + "m" + (s == 0 ? "" : std::to_string(s) + "s");
  }
  if (minutes < 180) return std::to_string(minutes) + "m";
  const int64_t hours = seconds / 3600;
  if (hours < 8) {
    int64_t m = minutes % 60;
    return std::to_string(hours) + "h" + (m == 0 ? "" : std::to_string(m) + "m");
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < int64_t{24} * 8) {
    int64_t h = hours % 24;
    return std::to_string(hours / 24) + "d" + (h == 0 ? "" : std::to_string(h) + "h");
  }
  if (hours < int64_t{24} * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < int64_t{24} * 365 * 8) {
    int64_t d = (hours / 24) % 365;
    return std::to_string(hours / 24 / 365) + "y" + (d == 0 ? "" : std::to_string(d) + "d");
  }
  return std::to_string(hours / 24 / 365) + "y";
}

std::optional<std::string> acceptedTableVersion(std::string_view accept) {
  if (accept.empty()) return std::nullopt;
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
    return s;
  };
  while (!accept.empty()) {
    auto comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    auto semi = range.find(';');
    std::string_view mediaType = trim(range.substr(0, semi));
    std::map<std::string, std::string, std::less<>> params;
    while (semi != std::string_view::npos) {
      range = range.substr(semi + 1);
      semi = range.find(';');
      std::string_view param = range.substr(0, semi);
      auto eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      params[std::string(trim(param.substr(0, eq)))] = std::string(trim(param.substr(eq + 1)));
    }
    if (mediaType != "application/json" && mediaType != "application/*" && mediaType != "*/*") continue;
    auto as = params.find("as");
    if (as == params.end()) return std::nullopt;  // a plain representation comes first
    if (as->second == "Table" && params["g"] == "meta.k8s.io" &&
        (params["v"] == "v1" || params["v"] == "v1beta1")) {
      return "meta.k8s.io/" + params["v"];
    }
  }
  return std::nullopt;
}

ApiResult<IncludeObject> parseIncludeObject(const std::string& value) {
  if (value.empty() || value == "Metadata") return IncludeObject::kMetadata;
  if (value == "None") return IncludeObject::kNone;
  if (value == "Object") return IncludeObject::kObject;
  return badRequest("unrecognized includeObject value: \"" + value + "\"");
}

json buildTable(const ResourceType& type, const json& object, const TableOptions& options, Time now) {
  const bool isList = object.contains("items") && object["items"].is_array();
  json columns;
  std::function<void(const json&, Row&)> print;
  if (type.custom) {
    const json& declared = list(type.printerColumns).empty() ? defaultCustomColumns() : type.printerColumns;
    columns = json::array({columnJson(kName)});
    for (const json& c : declared) columns.push_back(customColumn(c));
    print = [&declared, now](const json& obj, Row& row) {
      row.cells = json::array({name(obj)});
      for (const json& c : declared) row.cells.push_back(customCell(c, obj, now));
    };
  } else {
    auto it = printings().find(type.kind);
    const Printing& p = it == printings().end() ? defaultPrinting() : it->second;
    columns = json::array();
    for (const Column& c : p.columns) columns.push_back(columnJson(c));
    print = [&p, now](const json& obj, Row& row) { p.print(obj, now, row); };
  }

  json rows = json::array();
  auto addRow = [&](const json& obj) {
    Row row;
    print(obj, row);
    json r = {{"cells", std::move(row.cells)}};
    if (!row.conditions.is_null()) r["conditions"] = std::move(row.conditions);
    r["object"] = rowObject(type, obj, options);
    rows.push_back(std::move(r));
  };
  json metadata = json::object();
  const json& meta = at(object, {"metadata"});
  if (isList) {
    for (const json& item : object["items"]) addRow(item);
    for (const char* k : {"resourceVersion", "continue", "remainingItemCount"}) {
      if (meta.is_object() && meta.contains(k)) metadata[k] = meta[k];
    }
  } else {
    addRow(object);
    if (at(meta, {"resourceVersion"}).is_string()) metadata["resourceVersion"] = meta["resourceVersion"];
  }
  return {{"kind", "Table"},
          {"apiVersion", options.apiVersion},
          {"metadata", metadata},
          {"columnDefinitions", options.noHeaders ? json::array() : columns},
          {"rows", rows}};
}

WatchTableWriter::WatchTableWriter(std::shared_ptr<const ResourceType> type, TableOptions options)
    : type_(std::move(type)), options_(std::move(options)) {}

json WatchTableWriter::convert(const json& object, bool bookmark, Time now) {
  if (!object.is_object() ||
      (object.value("kind", "") == "Status" && object.value("apiVersion", "") == "v1")) {
    return object;
  }
  json table;
  if (bookmark) {
    table = buildTable(*type_, {{"items", json::array()}, {"metadata", object.value("metadata", json())}},
                       options_, now);
  } else {
    table = buildTable(*type_, object, options_, now);
  }
  options_.noHeaders = true;
  return table;
}

void presentAsTableIfAsked(const HttpRequest& request, const Registry& registry, Handled& handled) {
  if (request.method != "GET" || handled.response.status != 200) return;
  auto version = acceptedTableVersion(request.accept);
  if (!version) return;
  auto include = parseIncludeObject(queryParam(request.target, "includeObject"));
  if (!include) {
    handled.watch.reset();
    handled.response = {400, "application/json", statusBody(include.error()).dump(), {}};
    return;
  }
  TableOptions options{*version, *include, false};
  if (handled.watch) {
    handled.watch->table = std::make_shared<WatchTableWriter>(handled.watch->type, options);
    return;
  }
  json body = json::parse(handled.response.body, nullptr, false);
  if (!body.is_object()) return;
  std::string kind = body.value("kind", "");
  const std::string apiVersion = body.value("apiVersion", "");
  if (body.contains("items") && kind.size() > 4 && kind.compare(kind.size() - 4, 4, "List") == 0) {
    kind.resize(kind.size() - 4);
  }
  for (const auto& type : registry.types()) {
    if (type->kind == kind && type->apiVersion() == apiVersion) {
      handled.response.body = buildTable(*type, body, options, toSeconds(registry.clock().wallNow())).dump();
      return;
    }
  }
}

}  // namespace sluice::apiserver
