// The merge patch between two documents (see status_patch.h).
#include "controller/status_patch.h"

namespace sluice::controller {

using nlohmann::json;

json mergePatchBetween(const json& from, const json& to) {
  if (!from.is_object() || !to.is_object()) return to;
  json patch = json::object();
  for (const auto& [key, value] : from.items()) {
    if (!to.contains(key)) patch[key] = nullptr;
  }
  for (const auto& [key, value] : to.items()) {
    const auto old = from.find(key);
    if (old == from.end()) {
      patch[key] = value;
    } else if (*old != value) {
      patch[key] = old->is_object() && value.is_object() ? mergePatchBetween(*old, value) : value;
    }
  }
  return patch;
}

}  // namespace sluice::controller
