// Reading one field of an object held as JSON where a missing or mistyped field reads as empty: what the
// in-server controllers and the simulated data plane need of objects any client may have written.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace sluice::json_lookup {

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

// The string members of `obj` (labels, annotations, a selector); others and non-objects read as none.
inline std::map<std::string, std::string> stringMap(const nlohmann::json& obj) {
  std::map<std::string, std::string> out;
  if (!obj.is_object()) return out;
  for (const auto& [k, v] : obj.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

}  // namespace sluice::json_lookup
