// The garbage collector: an in-memory graph of owners and dependents, kept current by the registry's
// watch of every object, and a worker that turns each queued uid into registry calls.
#include "kube/apiserver/garbage_collector.h"

#include <algorithm>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "kube/apiserver/controller_loop.h"
#include "kube/apiserver/registry.h"

namespace sluice::apiserver {
namespace {

using nlohmann::json;

constexpr int kWriteAttempts = 8;

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::vector<std::string> finalizersOf(const json& meta) {
  std::vector<std::string> out;
  auto it = meta.find("finalizers");
  if (it == meta.end() || !it->is_array()) return out;
  for (const auto& f : *it) {
    if (f.is_string()) out.push_back(f.get<std::string>());
  }
  return out;
}

// One object as the collector sees it.
struct Node {
  std::string typePrefix;  // ResourceType::keyPrefix(): which type serves it
  std::string ns;
  std::string name;
  std::string uid;
  std::vector<OwnerReference> owners;
  std::vector<std::string> finalizers;
  bool deleting = false;

  bool waitingForDependents() const { return deleting && contains(finalizers, kForegroundDeletionFinalizer); }
  bool orphaning() const { return deleting && contains(finalizers, kOrphanFinalizer); }
};

}  // namespace

std::vector<OwnerReference> ownerReferencesOf(const json& object) {
  std::vector<OwnerReference> out;
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return out;
  auto refs = meta->find("ownerReferences");
  if (refs == meta->end() || !refs->is_array()) return out;
  for (const auto& r : *refs) {
    if (!r.is_object()) continue;
    OwnerReference o;
    o.apiVersion = r.value("apiVersion", "");
    o.kind = r.value("kind", "");
    o.name = r.value("name", "");
    o.uid = r.value("uid", "");
    auto block = r.find("blockOwnerDeletion");
    o.blockOwnerDeletion = block != r.end() && block->is_boolean() && block->get<bool>();
    if (!o.uid.empty()) out.push_back(std::move(o));
  }
  return out;
}

DependentAction decideForDependent(const std::vector<OwnerReference>& owners,
                                   const std::map<std::string, OwnerState>& states,
                                   const std::vector<std::string>& finalizers, bool hasDependents) {
  DependentAction action;
  if (owners.empty()) return action;
  bool solid = false;
  bool waiting = false;
  std::vector<std::string> notSolid;
  for (const auto& o : owners) {
    auto it = states.find(o.uid);
    OwnerState s = it == states.end() ? OwnerState::kSolid : it->second;
    if (s == OwnerState::kSolid) {
      solid = true;
    } else {
      waiting = waiting || s == OwnerState::kWaitingForDependents;
      if (!contains(notSolid, o.uid)) notSolid.push_back(o.uid);
    }
  }
  if (solid) {
    // Another owner keeps the object alive: only the references to the owners going away are dropped.
    if (!notSolid.empty()) {
      action.kind = DependentAction::kRemoveReferences;
      action.removeUids = std::move(notSolid);
    }
    return action;
  }
  action.kind = DependentAction::kDelete;
  if (contains(finalizers, kOrphanFinalizer)) {
    action.policy = "Orphan";
  } else if (contains(finalizers, kForegroundDeletionFinalizer) || (waiting && hasDependents)) {
    action.policy = "Foreground";
  } else {
    action.policy = "Background";
  }
  return action;
}

bool foregroundOwnerReleased(const std::string& ownerUid,
                             const std::vector<std::vector<OwnerReference>>& dependentsOwners) {
  for (const auto& owners : dependentsOwners) {
    for (const auto& o : owners) {
      if (o.uid == ownerUid && o.blockOwnerDeletion) return false;
    }
  }
  return true;
}

struct GarbageCollector::Impl {
  Registry& registry;
  std::mutex mu;
  std::unordered_map<std::string, Node> nodes;                        // by uid
  std::unordered_map<std::string, std::set<std::string>> dependents;  // owner uid -> dependent uids

  // Last, so that it stops before the state its callbacks use goes.
  ControllerLoop loop;

  explicit Impl(Registry& r) : registry(r), loop(r.clock()) {}

  // Called on the store's writing thread: updates the graph and queues what the change concerns.
  void observe(const ResourceType& type, const WatchEvent& event) {
    const json& meta = event.object.value("metadata", json::object());
    std::string uid = meta.value("uid", "");
    if (uid.empty()) return;
    std::lock_guard lock(mu);
    std::set<std::string> owners;  // of the old and the new state: foreground owners may be waiting on it
    if (auto old = nodes.find(uid); old != nodes.end()) {
      for (const auto& o : old->second.owners) {
        owners.insert(o.uid);
        auto deps = dependents.find(o.uid);
        if (deps == dependents.end()) continue;
        deps->second.erase(uid);
        if (deps->second.empty()) dependents.erase(deps);
      }
    }
    if (event.type == "DELETED") {
      nodes.erase(uid);
      // Its dependents may have lost their last owner.
      if (auto deps = dependents.find(uid); deps != dependents.end()) {
        for (const auto& d : deps->second) loop.queue().add(d);
      }
    } else {
      Node n;
      n.typePrefix = type.keyPrefix();
      n.ns = meta.value("namespace", "");
      n.name = meta.value("name", "");
      n.uid = uid;
      n.owners = ownerReferencesOf(event.object);
      n.finalizers = finalizersOf(meta);
      n.deleting = meta.contains("deletionTimestamp");
      for (const auto& o : n.owners) {
        owners.insert(o.uid);
        dependents[o.uid].insert(uid);
      }
      if (n.waitingForDependents() || n.orphaning() || (!n.owners.empty() && !n.deleting))
        loop.queue().add(uid);
      nodes[uid] = std::move(n);
    }
    for (const auto& o : owners) {
      auto it = nodes.find(o);
      if (it != nodes.end() && it->second.deleting) loop.queue().add(o);
    }
  }

  std::shared_ptr<const ResourceType> typeOf(const std::string& prefix) const {
    for (const auto& t : registry.types()) {
      if (t->keyPrefix() == prefix) return t;
    }
    return nullptr;
  }

  // The served type of an owner reference, or nullptr when its kind is not served.
  std::shared_ptr<const ResourceType> typeOfReference(const OwnerReference& o) const {
    for (const auto& t : registry.types()) {
      if (t->apiVersion() == o.apiVersion && t->kind == o.kind) return t;
    }
    return nullptr;
  }

  // An owner the graph does not hold, checked against the server: gone (or replaced) means absent.
  OwnerState liveOwnerState(const OwnerReference& o, const std::string& dependentNs) const {
    auto t = typeOfReference(o);
    if (!t) return OwnerState::kSolid;  // cannot tell: never delete on a guess
    auto got = registry.get(*t, t->namespaced ? dependentNs : "", o.name);
    if (!got) return got.error().code == 404 ? OwnerState::kAbsent : OwnerState::kSolid;
    const json meta = (*got).value("metadata", json::object());
    if (meta.value("uid", "") != o.uid) return OwnerState::kAbsent;
    bool waiting =
        meta.contains("deletionTimestamp") && contains(finalizersOf(meta), kForegroundDeletionFinalizer);
    return waiting ? OwnerState::kWaitingForDependents : OwnerState::kSolid;
  }

  std::vector<Node> dependentsOf(const std::string& uid) {
    std::lock_guard lock(mu);
    std::vector<Node> out;
    auto deps = dependents.find(uid);
    if (deps == dependents.end()) return out;
    for (const auto& d : deps->second) {
      if (auto it = nodes.find(d); it != nodes.end()) out.push_back(it->second);
    }
    return out;
  }

  // Read-modify-write of one object through the registry, retried on conflicts. `change` edits the
  // object; nothing is written when it changes nothing. True when done (or the object is gone).
  bool mutate(const Node& n, const std::function<void(json&)>& change) {
    auto type = typeOf(n.typePrefix);
    if (!type) return true;
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
      auto got = registry.get(*type, n.ns, n.name);
      if (!got) return got.error().code == 404;
      if ((*got)["metadata"].value("uid", "") != n.uid) return true;
      json next = *got;
      change(next);
      if (next == *got) return true;
      auto written = registry.update(*type, n.ns, n.name, Subresource::kMain, std::move(next), {});
      if (written || written.error().code == 404) return true;
      if (written.error().code != 409) {
        std::cerr << "apiserver: garbage collector: updating " << type->resource << " " << n.name << ": "
                  << written.error().message << "\n";
        return false;
      }
    }
    return false;
  }

  bool removeReferences(const Node& n, const std::vector<std::string>& uids) {
    return mutate(n, [&](json& obj) {
      json& meta = obj["metadata"];
      if (!meta.contains("ownerReferences") || !meta["ownerReferences"].is_array()) return;
      json kept = json::array();
      for (const auto& r : meta["ownerReferences"]) {
        if (!r.is_object() || !contains(uids, r.value("uid", ""))) kept.push_back(r);
      }
      if (kept.empty()) {
        meta.erase("ownerReferences");
      } else {
        meta["ownerReferences"] = kept;
      }
    });
  }

  bool removeFinalizer(const Node& n, const std::string& finalizer) {
    return mutate(n, [&](json& obj) {
      json& meta = obj["metadata"];
      std::vector<std::string> kept;
      for (const auto& f : finalizersOf(meta)) {
        if (f != finalizer) kept.push_back(f);
      }
      if (kept.empty()) {
        meta.erase("finalizers");
      } else {
        meta["finalizers"] = kept;
      }
    });
  }

  // A dependent that is not being deleted: drop references or delete it, per decideForDependent.
  bool collectDependent(const Node& n) {
    std::map<std::string, OwnerState> states;
    std::vector<OwnerReference> unknown;
    bool hasDependents = false;
    {
      std::lock_guard lock(mu);
      for (const auto& o : n.owners) {
        auto it = nodes.find(o.uid);
        if (it == nodes.end()) {
          unknown.push_back(o);
        } else if (!it->second.ns.empty() && it->second.ns != n.ns) {
          // An owner in another namespace cannot own it: the reference dangles, as for the real collector.
          states[o.uid] = OwnerState::kAbsent;
        } else {
          states[o.uid] =
              it->second.waitingForDependents() ? OwnerState::kWaitingForDependents : OwnerState::kSolid;
        }
      }
      auto deps = dependents.find(n.uid);
      hasDependents = deps != dependents.end() && !deps->second.empty();
    }
    for (const auto& o : unknown) states[o.uid] = liveOwnerState(o, n.ns);
    DependentAction action = decideForDependent(n.owners, states, n.finalizers, hasDependents);
    switch (action.kind) {
      case DependentAction::kNothing:
        return true;
      case DependentAction::kRemoveReferences:
        return removeReferences(n, action.removeUids);
      case DependentAction::kDelete: {
        auto type = typeOf(n.typePrefix);
        if (!type) return true;
        DeleteOptions options;
        options.propagationPolicy = action.policy;
        options.preconditionUid = n.uid;
        auto gone = registry.remove(*type, n.ns, n.name, options);
        if (gone || gone.error().code == 404 || gone.error().code == 409) return true;
        std::cerr << "apiserver: garbage collector: deleting " << type->resource << " " << n.name << ": "
                  << gone.error().message << "\n";
        return false;
      }
    }
    return true;
  }

  // One queued uid. False asks for a retry with backoff.
  bool process(const std::string& uid) {
    Node n;
    {
      std::lock_guard lock(mu);
      auto it = nodes.find(uid);
      if (it == nodes.end()) return true;
      n = it->second;
    }
    if (n.orphaning()) {
      for (const auto& d : dependentsOf(uid)) {
        if (!removeReferences(d, {uid})) return false;
      }
      return removeFinalizer(n, kOrphanFinalizer);
    }
    if (n.waitingForDependents()) {
      bool ok = true;
      for (const auto& d : dependentsOf(uid)) {
        if (!d.deleting) ok = collectDependent(d) && ok;
      }
      std::vector<std::vector<OwnerReference>> remaining;
      for (const auto& d : dependentsOf(uid)) remaining.push_back(d.owners);
      // Otherwise the blocking dependents' deletions queue this owner again.
      if (foregroundOwnerReleased(uid, remaining))
        ok = removeFinalizer(n, kForegroundDeletionFinalizer) && ok;
      return ok;
    }
    if (n.deleting || n.owners.empty()) return true;
    return collectDependent(n);
  }
};

GarbageCollector::GarbageCollector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GarbageCollector::~GarbageCollector() = default;

ApiResult<std::unique_ptr<GarbageCollector>> GarbageCollector::start(Registry& registry) {
  auto impl = std::make_unique<Impl>(registry);
  // The initial objects arrive inside this call, so the worker starts on a complete graph.
  if (auto failed = impl->loop.start(registry, impl.get())) return *failed;
  return std::unique_ptr<GarbageCollector>(new GarbageCollector(std::move(impl)));
}

}  // namespace sluice::apiserver
