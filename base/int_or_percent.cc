// IntOrPercent's scaling and its strict Kubernetes reading.
#include "base/int_or_percent.h"

#include <cctype>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace sluice {

int IntOrPercent::resolve(int total, bool roundUp) const {
  if (!percent) return value;
  const int64_t scaled = static_cast<int64_t>(total) * value;
  return static_cast<int>(roundUp ? (scaled + 99) / 100 : scaled / 100);
}

std::optional<IntOrPercent> IntOrPercent::fromJson(const nlohmann::json& value) {
  if (value.is_number_integer()) return IntOrPercent{value.get<int>(), false};
  if (!value.is_string()) return std::nullopt;
  const auto& s = value.get_ref<const std::string&>();
  // At most ten digits: the percentage itself must fit an int before it is scaled.
  if (s.size() < 2 || s.size() > 11 || s.back() != '%') return std::nullopt;
  int64_t percent = 0;
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    percent = percent * 10 + (s[i] - '0');
  }
  if (percent > INT32_MAX) return std::nullopt;
  return IntOrPercent{static_cast<int>(percent), true};
}

}  // namespace sluice
