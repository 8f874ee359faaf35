// Rollout judgements and waits: the wording follows kubectl's, so a person reading our output and
// kubectl's sees the same sentences.
#include "kube/readiness.h"

#include <algorithm>

namespace sluice::kube {
namespace {

using nlohmann::json;

int64_t intAt(const json& obj, const char* section, const char* field, int64_t fallback = 0) {
  if (!obj.contains(section) || !obj[section].is_object()) return fallback;
  const json& s = obj[section];
  return s.contains(field) && s[field].is_number_integer() ? s[field].get<int64_t>() : fallback;
}

const json* condition(const json& obj, const std::string& type) {
  if (!obj.contains("status") || !obj["status"].is_object()) return nullptr;
  const json& status = obj["status"];
  if (!status.contains("conditions") || !status["conditions"].is_array()) return nullptr;
  for (const auto& c : status["conditions"]) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

}  // namespace

bool hasCondition(const json& obj, const std::string& type, const std::string& status) {
  const json* c = condition(obj, type);
  return c != nullptr && c->value("status", "") == status;
}

Readiness deploymentRollout(const json& d) {
  std::string name = d.contains("metadata") ? d["metadata"].value("name", "") : "";
  std::string quoted = "deployment \"" + name + "\"";
  if (intAt(d, "metadata", "generation") > intAt(d, "status", "observedGeneration")) {
    return {Progress::kInProgress, "Waiting for deployment spec update to be observed..."};
  }
  if (const json* p = condition(d, "Progressing");
      p != nullptr && p->value("reason", "") == "ProgressDeadlineExceeded") {
    return {Progress::kFailed, quoted + " exceeded its progress deadline"};
  }
  int64_t wanted = intAt(d, "spec", "replicas", 1);
  int64_t updated = intAt(d, "status", "updatedReplicas");
  int64_t replicas = intAt(d, "status", "replicas");
  int64_t available = intAt(d, "status", "availableReplicas");
  std::string waiting = "Waiting for " + quoted + " rollout to finish: ";
  if (updated < wanted) {
    return {Progress::kInProgress, waiting + std::to_string(updated) + " out of " + std::to_string(wanted) +
                                       " new replicas have been updated..."};
  }
  if (replicas > updated) {
    return {Progress::kInProgress,
            waiting + std::to_string(replicas - updated) + " old replicas are pending termination..."};
  }
  if (available < updated) {
    return {Progress::kInProgress, waiting + std::to_string(available) + " of " + std::to_string(updated) +
                                       " updated replicas are available..."};
  }
  return {Progress::kDone, quoted + " successfully rolled out"};
}

ApiResult<json> waitFor(Client& client, const ResourceRef& resource, const std::string& ns,
                        const std::string& name, const std::function<Readiness(const json&)>& judge,
                        std::chrono::milliseconds timeout, const Clock& clock) {
  const auto deadline = clock.now() + timeout;
  auto fail = [&](const std::string& message) {
    return ApiError::client(message, "WAIT", resource.path(ns, name));
  };
  std::optional<json> last;
  Readiness verdict{Progress::kInProgress, "timed out waiting for " + resource.resource + "/" + name};
  WatchOptions o;
  o.resourceVersion = "0";  // the current state first, as an ADDED event, then its changes
  o.fieldSelector = "metadata.name=" + name;
  o.reconnect = false;
  while (clock.now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - clock.now()).count();
    o.timeoutSeconds = static_cast<int>(std::max<int64_t>(1, left));
    auto watched = client.watch(resource, ns, o, [&](const WatchEvent& e) {
      if (e.type == "DELETED") {
        last.reset();
        return true;
      }
      last = e.object;
      o.resourceVersion = e.object["metadata"].value("resourceVersion", o.resourceVersion);
      verdict = judge(e.object);
      return verdict.progress == Progress::kInProgress && clock.now() < deadline;
    });
    if (!watched && !watched.error().isExpired() && !watched.error().isTransport()) return watched.error();
    if (!watched) o.resourceVersion = "0";  // start over from the current state
    if (verdict.progress == Progress::kDone && last) return *last;
    if (verdict.progress == Progress::kFailed) return fail(verdict.message);
  }
  return fail("timed out waiting for " + resource.resource + "/" + name +
              (last ? ": " + verdict.message : ": it does not exist"));
}

}  // namespace sluice::kube
