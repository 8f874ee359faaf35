// The pod-template hash: SHA-256 over canonical JSON, so that a hash names the same template on every run
// and machine, and different templates different names. The Rollout engine names ReplicaSets with it and
// writes it into the status; the embedded cluster's Deployment controller names ReplicaSets with it; both
// must agree.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace sluice {

// 10 characters of [bcdfghjklmnpqrstvwxz2456789]. A `collisionCount` of 0 leaves the template's hash
// alone, as Kubernetes does; a higher one gives another name for the same template.
std::string podTemplateHash(const nlohmann::json& podTemplate, int64_t collisionCount = 0);

// The same hash of any JSON value's canonical form (the Rollout's steps hash uses it).
std::string jsonHash(const nlohmann::json& value);

}  // namespace sluice
