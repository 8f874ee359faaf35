// The JSON form of a result (see provider.h).
#include "analysis/provider.h"

#include <nlohmann/json.hpp>

namespace sluice::analysis {

ProviderResult resultFromJson(const nlohmann::json& document) {
  ProviderResult out;
  if (document.is_number()) {
    out.value = Value::number(document.get<double>());
    out.text = document.dump();
  } else if (document.is_boolean()) {
    out.value = Value::boolean(document.get<bool>());
    out.text = document.dump();
  } else if (document.is_null()) {
    out.text = "null";
  } else if (document.is_string()) {
    out.value = Value::string(document.get<std::string>());
    out.text = document.get<std::string>();
  } else {
    out.value = valueFromJson(document);
    out.text = document.dump();
  }
  return out;
}

}  // namespace sluice::analysis
