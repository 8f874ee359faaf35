// JSON parsing with the nesting limit checked by the parser's callback as each array or object opens.
#include "base/json_text.h"

#include <string>

#include "base/input_limits.h"

namespace sluice {

namespace {

struct TooDeep {};

}  // namespace

Result<nlohmann::json> parseJsonText(std::string_view text) {
  using json = nlohmann::json;
  // The callback's depth counts the containers already open around the one starting.
  const json::parser_callback_t limitDepth = [](int depth, json::parse_event_t event, json&) {
    const bool opens =
        event == json::parse_event_t::object_start || event == json::parse_event_t::array_start;
    if (opens && depth >= limits::kMaxNestingDepth) throw TooDeep{};
    return true;
  };
  try {
    return json::parse(text, limitDepth);
  } catch (const TooDeep&) {
    return Error{"nested deeper than " + std::to_string(limits::kMaxNestingDepth) +
                 " levels, the limit on nesting in an input"};
  } catch (const json::exception& e) {
    return Error{"not valid JSON: " + std::string(e.what())};
  }
}

}  // namespace sluice
