// Kubernetes quantities as resource.Quantity's text form writes them, read to their value; anything else
// is none.
#include <catch2/catch.hpp>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "base/quantity.h"

using nlohmann::json;

TEST_CASE("a quantity reads to its value: plain, with a decimal or binary suffix, an exponent or a number",
          "[base][quantity]") {
  struct Row {
    json quantity;
    std::optional<double> value;
  };
  const std::vector<Row> rows = {
      {"30", 30},
      {"+30", 30},
      {"-5", -5},
      {"0.5", 0.5},
      {".5", 0.5},
      {"500m", 0.5},
      {"30000m", 30},
      {"250u", 250e-6},
      {"3n", 3e-9},
      {"2k", 2000},
      {"1M", 1e6},
      {"1G", 1e9},
      {"1Ki", 1024},
      {"1.5Mi", 1.5 * 1024 * 1024},
      {"3e1", 30},
      {"3E-1", 0.3},
      {30, 30},
      {2.5, 2.5},
      // Not quantities.
      {"", std::nullopt},
      {"ten", std::nullopt},
      {"30 ", std::nullopt},
      {"30mm", std::nullopt},
      {"1Kb", std::nullopt},
      {"0x1e", std::nullopt},
      {"inf", std::nullopt},
      {"1e1.5", std::nullopt},
      {"1e999", std::numeric_limits<double>::infinity()},
      {true, std::nullopt},
      {json(), std::nullopt},
      {json::array({30}), std::nullopt},
  };
  for (const auto& row : rows) {
    CAPTURE(row.quantity.dump());
    const std::optional<double> value = sluice::quantityValue(row.quantity);
    REQUIRE(value.has_value() == row.value.has_value());
    if (value) CHECK(*value == *row.value);  // strtod rounds once: exact
  }
}
