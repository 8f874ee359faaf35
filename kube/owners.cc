// Owner references (see owners.h).
#include "kube/owners.h"

namespace sluice::kube {

namespace {

// The controlling owner reference of `obj`; nullptr when it has none.
const nlohmann::json* controllerRef(const nlohmann::json& obj) {
  const auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return nullptr;
  const auto refs = meta->find("ownerReferences");
  if (refs == meta->end() || !refs->is_array()) return nullptr;
  for (const auto& ref : *refs) {
    if (ref.is_object() && ref.value("controller", false)) return &ref;
  }
  return nullptr;
}

}  // namespace

bool controlledBy(const nlohmann::json& obj, const std::string& uid) {
  const nlohmann::json* ref = controllerRef(obj);
  return ref && ref->value("uid", "") == uid;
}

bool hasController(const nlohmann::json& obj) { return controllerRef(obj) != nullptr; }

}  // namespace sluice::kube
