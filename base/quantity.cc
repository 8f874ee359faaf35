// Reading Kubernetes quantities (see quantity.h).
#include "base/quantity.h"

#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

namespace sluice {

std::optional<double> quantityValue(const nlohmann::json& quantity) {
  if (quantity.is_number()) return quantity.get<double>();
  if (!quantity.is_string()) return std::nullopt;
  // resource.Quantity's grammar: <signedNumber><suffix>, an exponent's digits whole.
  static const std::regex grammar(
      R"(([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?)");
  // A decimal suffix as a power of ten, so that strtod rounds the whole once ("30000m" is exactly 30).
  static const std::map<std::string, std::string> decimal = {
      {"n", "e-9"}, {"u", "e-6"}, {"m", "e-3"}, {"k", "e3"},  {"M", "e6"},
      {"G", "e9"},  {"T", "e12"}, {"P", "e15"}, {"E", "e18"},
  };
  static const std::map<std::string, int> binary = {{"Ki", 10}, {"Mi", 20}, {"Gi", 30},
                                                    {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  // strtod, not stod: a value out of double's range is infinite, not an exception.
  auto read = [](const std::string& s) { return std::strtod(s.c_str(), nullptr); };
  const std::string text = quantity.get<std::string>();
  std::smatch parts;
  if (!std::regex_match(text, parts, grammar)) return std::nullopt;
  const std::string number = parts[1].str();
  const std::string suffix = parts[2].str();
  if (const auto b = binary.find(suffix); b != binary.end()) return std::ldexp(read(number), b->second);
  if (const auto d = decimal.find(suffix); d != decimal.end()) return read(number + d->second);
  return read(text);  // no suffix, or an exponent strtod reads as it is
}

}  // namespace sluice
