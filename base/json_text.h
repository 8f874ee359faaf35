// JSON text read from outside (a command-line flag, a metric provider's answer) parsed within the input
// limits, so that no later walk or print of it recurses past the stack.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "base/result.h"

namespace sluice {

// Parses `text` as one JSON value. An error says why: invalid JSON (nlohmann's message, with the byte
// offset), or nesting deeper than limits::kMaxNestingDepth, found while parsing, before anything deeper
// is built. Never throws.
Result<nlohmann::json> parseJsonText(std::string_view text);

}  // namespace sluice
