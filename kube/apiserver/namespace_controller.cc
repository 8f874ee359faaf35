// The namespace controller: one queued name per Terminating namespace, emptied through the registry.
#include "kube/apiserver/namespace_controller.h"

#include <chrono>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "base/time.h"
#include "kube/apiserver/controller_loop.h"
#include "kube/apiserver/registry.h"

namespace sluice::apiserver {
namespace {

using nlohmann::json;

// A second look now and then, besides the one each change in the namespace triggers.
constexpr kube::Millis kRecheck{10000};

std::string join(const std::map<std::string, int>& counts, const char* middle) {
  std::string out;
  for (const auto& [what, n] : counts) {
    if (!out.empty()) out += ", ";
    out += what;
    out += middle;
    out += std::to_string(n);
    out += " resource instances";
  }
  return out;
}

json condition(const char* type, bool status, const char* reason, const std::string& message) {
  return {{"type", type}, {"status", status ? "True" : "False"}, {"reason", reason}, {"message", message}};
}

}  // namespace

json namespaceDeletionConditions(const NamespaceContent& content, const json& previous,
                                 const std::string& now) {
  const bool failed = !content.deleteErrors.empty();
  std::string failures;
  for (const auto& e : content.deleteErrors) {
    if (!failures.empty()) failures += ", ";
    failures += e;
  }
  const bool remain = !content.remainingByResource.empty();
  const bool held = !content.remainingByFinalizer.empty();
  json out = json::array({
      condition("NamespaceDeletionDiscoveryFailure", false, "ResourcesDiscovered",
                "All resources successfully discovered"),
      condition("NamespaceDeletionGroupVersionParsingFailure", false, "ParsedGroupVersions",
                "All legacy kube types successfully parsed"),
      failed ? condition("NamespaceDeletionContentFailure", true, "ContentDeletionFailed",
                         "Failed to delete all resource types, " +
                             std::to_string(content.deleteErrors.size()) + " remaining: " + failures)
             : condition("NamespaceDeletionContentFailure", false, "ContentDeleted",
                         "All content successfully deleted, may be waiting on finalization"),
      remain ? condition("NamespaceContentRemaining", true, "SomeResourcesRemain",
                         "Some resources are remaining: " + join(content.remainingByResource, " has "))
             : condition("NamespaceContentRemaining", false, "ContentRemoved",
                         "All content successfully removed"),
      held ? condition("NamespaceFinalizersRemaining", true, "SomeFinalizersRemain",
                       "Some content in the namespace has finalizers remaining: " +
                           join(content.remainingByFinalizer, " in "))
           : condition("NamespaceFinalizersRemaining", false, "ContentHasNoFinalizers",
                       "All content-preserving finalizers finished"),
  });
  for (auto& c : out) {
    c["lastTransitionTime"] = now;
    if (!previous.is_array()) continue;
    for (const auto& p : previous) {
      if (p.is_object() && p.value("type", "") == c["type"] && p.value("status", "") == c["status"] &&
          p.contains("lastTransitionTime")) {
        c["lastTransitionTime"] = p["lastTransitionTime"];
      }
    }
  }
  return out;
}

struct NamespaceController::Impl {
  Registry& registry;
  std::mutex mu;
  std::set<std::string> terminating;  // namespaces with a deletionTimestamp

  // Last, so that it stops before the state its callbacks use goes.
  ControllerLoop loop;

  explicit Impl(Registry& r) : registry(r), loop(r.clock()) {}

  // Called on the store's writing thread: a namespace marked for deletion, and any change inside one,
  // queue that namespace.
  void observe(const ResourceType& type, const WatchEvent& event) {
    const json& meta = event.object.value("metadata", json::object());
    std::lock_guard lock(mu);
    if (type.kind == "Namespace") {
      std::string name = meta.value("name", "");
      if (event.type == "DELETED") {
        terminating.erase(name);
      } else if (meta.contains("deletionTimestamp")) {
        terminating.insert(name);
        loop.queue().add(name);
      }
      return;
    }
    if (!type.namespaced) return;
    std::string ns = meta.value("namespace", "");
    if (terminating.count(ns) != 0) loop.queue().add(ns);
  }

  // Deletes what is left in `ns` and counts what remains after.
  NamespaceContent empty(const std::string& ns) {
    NamespaceContent content;
    std::set<std::string> seen;
    for (const auto& t : registry.types()) {
      if (!t->namespaced || !seen.insert(t->keyPrefix()).second) continue;
      auto listed = registry.list(*t, ns, {});
      if (!listed) {
        content.deleteErrors.push_back(listed.error().message);
        continue;
      }
      bool deleted = false;
      for (const auto& item : (*listed)["items"]) {
        const json& meta = item["metadata"];
        if (meta.contains("deletionTimestamp")) continue;
        DeleteOptions options;
        options.propagationPolicy = "Background";
        options.preconditionUid = meta.value("uid", "");
        auto gone = registry.remove(*t, ns, meta.value("name", ""), options);
        if (!gone && gone.error().code != 404 && gone.error().code != 409) {
          content.deleteErrors.push_back(gone.error().message);
        }
        deleted = true;
      }
      if (deleted) listed = registry.list(*t, ns, {});
      if (!listed) continue;
      for (const auto& item : (*listed)["items"]) {
        ++content.remainingByResource[t->resource + "." + t->group];
        for (const auto& f : item["metadata"].value("finalizers", json::array())) {
          if (f.is_string()) ++content.remainingByFinalizer[f.get<std::string>()];
        }
      }
    }
    return content;
  }

  // One pass over a namespace. False asks for a retry with backoff.
  bool process(const std::string& name) {
    auto nsType = registry.find("", "v1", "namespaces");
    if (!nsType) return true;
    auto got = registry.get(*nsType, "", name);
    if (!got) return got.error().code == 404;
    json ns = *got;
    if (!ns["metadata"].contains("deletionTimestamp")) return true;
    json fins = ns.value("spec", json::object()).value("finalizers", json::array());
    if (std::find(fins.begin(), fins.end(), kNamespaceFinalizer) == fins.end()) return true;

    NamespaceContent content = empty(name);
    json previous = ns.value("status", json::object()).value("conditions", json::array());
    json conditions =
        namespaceDeletionConditions(content, previous, formatRfc3339(toSeconds(registry.clock().wallNow())));
    if (conditions != previous) {
      json status = ns;
      status["metadata"].erase("resourceVersion");
      status["status"]["conditions"] = conditions;
      auto written = registry.update(*nsType, "", name, Subresource::kStatus, std::move(status), {});
      if (!written && written.error().code != 404) return false;
    }
    if (!content.remainingByResource.empty() || !content.deleteErrors.empty()) {
      loop.queue().addAfter(name, kRecheck);
      return content.deleteErrors.empty();
    }
    // Empty: our finalizer goes, and with no other the namespace with it.
    json rest = json::array();
    for (const auto& f : fins) {
      if (f != kNamespaceFinalizer) rest.push_back(f);
    }
    json finalize = {{"metadata", {{"name", name}}}, {"spec", {{"finalizers", rest}}}};
    auto done = registry.update(*nsType, "", name, Subresource::kFinalize, std::move(finalize), {});
    if (!done && done.error().code != 404) {
      std::cerr << "apiserver: namespace controller: finalizing " << name << ": " << done.error().message
                << "\n";
      return false;
    }
    return true;
  }
};

NamespaceController::NamespaceController(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

NamespaceController::~NamespaceController() = default;

ApiResult<std::unique_ptr<NamespaceController>> NamespaceController::start(Registry& registry) {
  auto impl = std::make_unique<Impl>(registry);
  if (auto failed = impl->loop.start(registry, impl.get())) return *failed;
  return std::unique_ptr<NamespaceController>(new NamespaceController(std::move(impl)));
}

}  // namespace sluice::apiserver
