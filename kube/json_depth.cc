// The nesting checks: a byte scan for raw text, an explicit-stack walk for parsed values.
#include "kube/json_depth.h"

#include <string>
#include <utility>
#include <vector>

namespace sluice::kube {

using nlohmann::json;

bool nestedDeeperThan(const json& value, size_t limit) {
  std::vector<std::pair<const json*, size_t>> stack{{&value, 0}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    if (depth + 1 > limit) return true;
    for (const auto& child : *v)
      if (child.is_structured()) stack.emplace_back(&child, depth + 1);
  }
  return false;
}

std::optional<TooDeep> firstTooDeep(std::string_view text, size_t limit) {
  size_t depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (inString) {
      if (c == '\\') {
        ++i;  // the escaped character cannot close the string
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        inString = true;
        break;
      case '[':
      case '{':
        if (++depth > limit) return TooDeep{i, c};
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return std::nullopt;
}

BoundedParse parseJsonBounded(std::string_view text, size_t limit) {
  BoundedParse out;
  if (auto deep = firstTooDeep(text, limit)) {
    out.value = json(json::value_t::discarded);
    out.tooDeep = true;
    out.message = std::string("invalid character '") + deep->opener + "' exceeded max depth (" +
                  std::to_string(limit) + " levels) at offset " + std::to_string(deep->offset);
    return out;
  }
  try {
    out.value = json::parse(text);
  } catch (const json::parse_error& e) {
    out.value = json(json::value_t::discarded);
    out.message = e.what();
  }
  return out;
}

}  // namespace sluice::kube
