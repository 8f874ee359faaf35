// The Receiver reconciler (see receiver_reconciler.h).
#include "controller/receiver_reconciler.h"

#include <nlohmann/json.hpp>

#include "base/json_fields.h"
#include "controller/resources.h"
#include "gitops/receiver.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/patch.h"

namespace sluice::controller {

using nlohmann::json;
namespace g = gitops;

const kube::ResourceRef& receiversResource() {
  static const kube::ResourceRef r{"sluice.dev", "v1alpha1", "receivers", true, "Receiver"};
  return r;
}

namespace {

// The Ready condition with `status`, keeping lastTransitionTime when the status did not change.
json readyCondition(const json& before, const std::string& status, const std::string& reason,
                    const std::string& message, int64_t generation, Time now) {
  std::string since = formatRfc3339(now);
  const json conditions = before.value("conditions", json::array());
  if (conditions.is_array()) {
    for (const auto& c : conditions) {
      if (c.is_object() && c.value("type", "") == "Ready" && c.value("status", "") == status &&
          c.contains("lastTransitionTime"))
        since = c.value("lastTransitionTime", since);
    }
  }
  return {{"type", "Ready"},
          {"status", status},
          {"reason", reason},
          {"message", message},
          {"observedGeneration", generation},
          {"lastTransitionTime", since}};
}

}  // namespace

ReceiverReconciler::ReceiverReconciler(kube::Client& client, kube::Informer& receivers, const Clock& clock,
                                       std::string fieldManager)
    : client_(client), receivers_(receivers), clock_(clock), fieldManager_(std::move(fieldManager)) {}

ReconcileOutcome ReceiverReconciler::reconcile(const std::string& key) {
  const auto object = receivers_.get(key);
  if (!object) return ReconcileOutcome::done();
  const json& metadata = (*object)["metadata"];
  const std::string ns = metadata.value("namespace", "");
  const std::string name = metadata.value("name", "");
  const int64_t generation = metadata.value("generation", int64_t{0});
  json before = object->value("status", json::object());
  if (!before.is_object()) before = json::object();
  const Time now = decisionTime(clock_);

  // The whole status as it should be: its conditions are the Ready one alone, as Flux's Receiver's.
  auto write = [&](const std::string& status, const std::string& reason, const std::string& message,
                   const std::string& path) -> std::optional<ReconcileOutcome> {
    json after = {
        {"observedGeneration", generation},
        {"conditions", json::array({readyCondition(before, status, reason, message, generation, now)})}};
    if (!path.empty()) after["webhookPath"] = path;
    const json diff = kube::mergePatchBetween(before, after);
    if (diff.empty()) return std::nullopt;
    auto patched = client_.patch(receiversResource(), ns, name, kube::PatchType::kMerge,
                                 json{{"status", diff}}, {false, fieldManager_}, "status");
    if (!patched) return ReconcileOutcome::retry(patched.error().describe());
    return std::nullopt;
  };

  Diagnostics diags;
  auto receiver = g::parseReceiver(*object, SourceMap(), diags);
  if (!receiver) {
    if (auto failed = write("False", g::receiver_reason::kInvalidSpec,
                            "invalid Receiver: " + json_fields::joinErrors(diags), ""))
      return *failed;
    return ReconcileOutcome::done();
  }
  const g::ReceiverSpec& spec = receiver->spec;
  if (spec.suspend) return ReconcileOutcome::done();

  // A missing Secret is created by a person: looked for again soon, not at the whole interval.
  const Duration wait = std::min(spec.interval, Duration{30});
  auto tokenMissing = [&](const std::string& message) {
    if (auto failed = write("False", g::receiver_reason::kTokenNotFound, message, "")) return *failed;
    return ReconcileOutcome::requeueAfter(wait);
  };
  auto secret = client_.get(secretsResource(), ns, spec.secretRefName);
  if (!secret) {
    if (!secret.error().isNotFound()) return ReconcileOutcome::retry(secret.error().describe());
    return tokenMissing("the Secret '" + ns + "/" + spec.secretRefName +
                        "' named by spec.secretRef was not found: create it with the key \"token\"");
  }
  auto token = g::tokenFromSecret(*secret);
  if (!token)
    return tokenMissing("the Secret '" + ns + "/" + spec.secretRefName +
                        "' cannot be used: " + token.error() + " (set \"token\" to the webhook's secret)");
  const std::string path = g::webhookPath(*token, name, ns);
  if (auto failed =
          write("True", g::receiver_reason::kSucceeded, "Receiver initialized for path: " + path, path))
    return *failed;
  return ReconcileOutcome::requeueAfter(spec.interval);
}

}  // namespace sluice::controller
