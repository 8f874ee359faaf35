// Owner references (see owners.h).
#include "kube/owners.h"

namespace sluice::kube {

bool controlledBy(const nlohmann::json& obj, const std::string& uid) {
  const auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return false;
  const auto refs = meta->find("ownerReferences");
  if (refs == meta->end() || !refs->is_array()) return false;
  for (const auto& ref : *refs) {
    if (ref.is_object() && ref.value("controller", false)) return ref.value("uid", "") == uid;
  }
  return false;
}

}  // namespace sluice::kube
