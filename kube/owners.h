// Owner references: which object controls which (the one reference with controller: true).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace sluice::kube {

// Whether `obj` names `uid` as its controlling owner.
bool controlledBy(const nlohmann::json& obj, const std::string& uid);
// Whether `obj` has a controlling owner at all.
bool hasController(const nlohmann::json& obj);

}  // namespace sluice::kube
