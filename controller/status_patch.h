// The JSON merge patch (RFC 7386) that turns one document into another: what a controller sends to
// change an object's status in one write, with no field it did not change.
#pragma once

#include <nlohmann/json.hpp>

namespace sluice::controller {

// A patch P such that applying P to `from` as a JSON merge patch gives `to`: members of `from` missing
// from `to` are null, members that differ are `to`'s (objects diffed member by member, anything else
// replaced whole). An empty object when they are equal. `to` must hold no null value (a merge patch
// cannot set one).
nlohmann::json mergePatchBetween(const nlohmann::json& from, const nlohmann::json& to);

}  // namespace sluice::controller
