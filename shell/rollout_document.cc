// A Rollout as stored, parsed lazily (see rollout_document.h).
#include "shell/rollout_document.h"

#include <functional>

#include "base/diagnostics.h"
#include "base/source.h"
#include "engine/rollout_json.h"

namespace sluice::shell {

using nlohmann::json;

RolloutDocument::RolloutDocument(json object) : object_(std::move(object)) {}

int64_t RolloutDocument::generation() const {
  const json g = object_.value(json::json_pointer("/metadata/generation"), json());
  return g.is_number_integer() ? g.get<int64_t>() : 1;
}

Result<const engine::Rollout*> RolloutDocument::rollout() {
  if (!parsed_) {
    Diagnostics diags;
    auto rollout = engine::parseRollout(object_, SourceMap(), diags);
    if (!rollout) return Error{diags.format()};
    parsed_ = std::move(*rollout);
    statusStale_ = false;
  } else if (statusStale_) {
    // No conditional expression here: mixing a reference and a temporary would copy the whole status.
    static const json kNoStatus = json::object();
    const auto it = object_.find("status");
    auto status = engine::statusFromJson(it != object_.end() ? std::cref(*it) : std::cref(kNoStatus));
    if (!status) return Error{"status: " + status.error()};
    parsed_->status = std::move(*status);
    statusStale_ = false;
  }
  return &*parsed_;
}

void RolloutDocument::replace(json object) {
  const bool sameSpec = parsed_ && object.value(json::json_pointer("/metadata/generation"), json()) ==
                                       object_.value(json::json_pointer("/metadata/generation"), json());
  object_ = std::move(object);
  if (sameSpec) {
    statusStale_ = true;
  } else {
    parsed_.reset();
  }
}

void RolloutDocument::setStatus(json status) {
  object_["status"] = std::move(status);
  statusStale_ = true;
}

void RolloutDocument::mergePatch(const json& patch) {
  const json specBefore = object_.value("spec", json());
  object_.merge_patch(patch);
  if (object_.value("spec", json()) != specBefore) specChanged();
  if (patch.contains("status")) statusStale_ = true;
}

void RolloutDocument::specChanged() {
  object_["metadata"]["generation"] = generation() + 1;
  parsed_.reset();
}

}  // namespace sluice::shell
