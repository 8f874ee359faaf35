// Kubernetes quantities (resource.Quantity's text form): "30", "500m", "1.5Gi", "2e3", or a JSON number, as
// fields such as SMI v1alpha1's backend weights hold them.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>

namespace sluice {

// The value of `quantity`: a JSON number, or a string of a signed decimal and an optional suffix (a binary
// one Ki..Ei, a decimal one n u m k M G T P E, or an exponent e3); nullopt for anything else.
std::optional<double> quantityValue(const nlohmann::json& quantity);

}  // namespace sluice
