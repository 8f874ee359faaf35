// A Rollout as stored: the object (spec, metadata and status as JSON, as on an API server) and the model
// parsed from it. The spec is parsed again only when the object's generation changes; the status is read
// back from its JSON after every write, so each decision sees a status that round-tripped.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "base/result.h"
#include "engine/rollout.h"

namespace sluice::shell {

class RolloutDocument {
 public:
  explicit RolloutDocument(nlohmann::json object);

  const nlohmann::json& object() const { return object_; }

  // The model of the object as it is now. An error means the stored object does not parse (an invalid
  // spec, or a status this version cannot read) and says why, with field paths.
  Result<const engine::Rollout*> rollout();

  // A newer version of the whole object (a watch event, a write's answer).
  void replace(nlohmann::json object);
  // The status as just written.
  void setStatus(nlohmann::json status);
  // Applies a JSON merge patch to the object as a person's steering would (engine/steering.h); a patch
  // that changes the spec bumps the generation, as the API server does.
  void mergePatch(const nlohmann::json& patch);
  // Gives the spec a new generation after the caller changed it through mutableObject().
  nlohmann::json& mutableObject() { return object_; }
  void specChanged();

  int64_t generation() const;

 private:
  nlohmann::json object_;
  std::optional<engine::Rollout> parsed_;  // reset when the spec may have changed
  bool statusStale_ = false;               // the status was written since parsed_ read it
};

}  // namespace sluice::shell
