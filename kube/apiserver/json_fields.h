// Reading one field of an object held as JSON where a missing or mistyped field reads as empty: what the
// in-server controllers need of objects any client may have written.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace sluice::apiserver::json_fields {

// obj[key] when `obj` is an object holding a string there; "" otherwise.
inline std::string str(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// obj[key] when `obj` is an object holding it; null otherwise.
inline const nlohmann::json& field(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json null;
  if (!obj.is_object()) return null;
  auto it = obj.find(key);
  return it == obj.end() ? null : *it;
}

}  // namespace sluice::apiserver::json_fields
