// Kubernetes' IntOrString as the fields that scale with a replica count use it (maxSurge,
// maxUnavailable): an absolute number or a percentage of a total. One scaling rule for the engine and
// the embedded API server's Deployment controller.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>

namespace sluice {

struct IntOrPercent {
  int value = 0;
  bool percent = false;

  // The absolute value against `total`; percentages round up or down as asked (as
  // intstr.GetScaledValueFromIntOrPercent does).
  int resolve(int total, bool roundUp) const;
  bool operator==(const IntOrPercent&) const = default;

  // An integer or an "N%" string, as the Kubernetes API accepts them; nullopt for anything else.
  static std::optional<IntOrPercent> fromJson(const nlohmann::json& value);
};

}  // namespace sluice
