// The Receivers' webhook endpoint (see receiver_webhook.h).
#include "controller/receiver_webhook.h"

#include <nlohmann/json.hpp>

#include "controller/git_repository_reconciler.h"
#include "controller/log.h"
#include "controller/receiver_reconciler.h"
#include "controller/resources.h"
#include "gitops/git_repository.h"
#include "gitops/receiver.h"
#include "kube/client.h"
#include "kube/informer.h"

namespace sluice::controller {

using nlohmann::json;
namespace g = gitops;

namespace {

constexpr const char* kText = "text/plain; charset=utf-8";

const kube::ResourceRef& resourceOf(const std::string& kind) {
  static const kube::ResourceRef kustomizations{"sluice.dev", "v1alpha1", "kustomizations", true,
                                                "Kustomization"};
  return kind == "GitRepository" ? gitRepositoriesResource() : kustomizations;
}

std::string labelSelector(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ",";
    out += k;
    out += "=";
    out += v;
  }
  return out;
}

bool isReady(const json& receiver) {
  const json conditions = receiver.value(json::json_pointer("/status/conditions"), json::array());
  if (!conditions.is_array()) return false;
  for (const auto& c : conditions) {
    if (c.is_object() && c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

}  // namespace

ReceiverWebhook::ReceiverWebhook(kube::Client& client, kube::Informer& receivers, const Clock& clock,
                                 std::string fieldManager)
    : client_(client), receivers_(receivers), clock_(clock), fieldManager_(std::move(fieldManager)) {}

net::HttpAnswer ReceiverWebhook::handle(const net::HttpRequest& request) {
  if (request.method != "POST") return {405, kText, "only POST is served\n"};
  const std::string& path = request.target;
  if (path.rfind(g::kWebhookPathPrefix, 0) != 0) return {404, kText, "not found\n"};
  std::optional<json> found;
  for (auto& r : receivers_.list()) {
    if (r.value(json::json_pointer("/status/webhookPath"), std::string()) == path && isReady(r)) {
      found = std::move(r);
      break;
    }
  }
  if (!found) return {404, kText, "no Receiver is served at this path\n"};
  const std::string ns = found->value(json::json_pointer("/metadata/namespace"), std::string());
  const std::string name = found->value(json::json_pointer("/metadata/name"), std::string());
  const std::string key = ns + "/" + name;
  Diagnostics diags;
  auto receiver = g::parseReceiver(*found, SourceMap(), diags);
  if (!receiver) return {404, kText, "no Receiver is served at this path\n"};
  if (receiver->spec.suspend) return {503, kText, "the Receiver is suspended\n"};

  // The token as it is now: a path derived from a token since rotated is no longer served.
  auto secret = client_.get(secretsResource(), ns, receiver->spec.secretRefName);
  if (!secret) {
    log(LogLevel::Error, key, "webhook: cannot read the token Secret: " + secret.error().describe());
    return {secret.error().isNotFound() ? 404 : 503, kText, "the Receiver's token cannot be read\n"};
  }
  auto token = g::tokenFromSecret(*secret);
  if (!token || g::webhookPath(*token, name, ns) != path)
    return {404, kText, "no Receiver is served at this path\n"};

  const auto verdict = g::verifyDelivery(
      receiver->spec, *token, [&request](const std::string& h) { return request.header(h); }, request.body);
  using Kind = g::DeliveryVerdict::Kind;
  switch (verdict.kind) {
    case Kind::Unauthorized:
      log(LogLevel::Warn, key, "webhook: refused an unverified delivery: " + verdict.message);
      return {401, kText, "unauthorized: " + verdict.message + "\n"};
    case Kind::NotAccepted:
      log(LogLevel::Info, key, "webhook: " + verdict.message);
      return {400, kText, verdict.message + "\n"};
    case Kind::Acknowledge:
      return {200, kText, verdict.message + "\n"};
    case Kind::Reconcile:
      break;
  }

  // One value for the whole delivery, fine enough that two deliveries in one second both count.
  const std::string requestedAt = formatRfc3339Micro(clock_.wallNow());
  const json patch = {{"metadata", {{"annotations", {{g::kRequestedAtAnnotation, requestedAt}}}}}};
  std::vector<std::string> annotated, failures;
  auto annotate = [&](const kube::ResourceRef& ref, const std::string& objNs, const std::string& objName) {
    auto patched = client_.patch(ref, objNs, objName, kube::PatchType::kMerge, patch, {false, fieldManager_});
    const std::string what = ref.kind + " " + objNs + "/" + objName;
    if (patched) {
      annotated.push_back(what);
    } else {
      failures.push_back(what + ": " + patched.error().describe());
    }
  };
  for (const auto& res : receiver->spec.resources) {
    const std::string objNs = res.ns.empty() ? ns : res.ns;
    const kube::ResourceRef& ref = resourceOf(res.kind);
    if (res.name != "*") {
      annotate(ref, objNs, res.name);
      continue;
    }
    kube::ListOptions options;
    options.labelSelector = labelSelector(res.matchLabels);
    auto list = client_.listAll(ref, objNs, options);
    if (!list) {
      failures.push_back(res.kind + " " + objNs + "/*: " + list.error().describe());
      continue;
    }
    for (const auto& item : list->value("items", json::array()))
      annotate(ref, objNs, item.value(json::json_pointer("/metadata/name"), std::string()));
  }
  std::string summary;
  for (const auto& a : annotated) summary += (summary.empty() ? "" : ", ") + a;
  const std::string event = verdict.event.empty() ? "" : " '" + verdict.event + "'";
  log(LogLevel::Info, key,
      "webhook: verified delivery" + event + ", reconcile requested for " +
          (summary.empty() ? "nothing" : summary));
  if (!failures.empty()) {
    std::string message;
    for (const auto& f : failures) message += f + "\n";
    log(LogLevel::Error, key, "webhook: cannot request the reconcile of " + message);
    return {400, kText, "cannot request the reconcile of:\n" + message};
  }
  return {200, kText, "reconcile requested for " + std::to_string(annotated.size()) + " resource(s)\n"};
}

}  // namespace sluice::controller
