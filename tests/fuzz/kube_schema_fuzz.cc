// libFuzzer entry point for CRD schema validation: the input is a JSON array [openAPIV3Schema, object].
// A schema that compiles must prune, default and validate any object without crashing, and doing it a
// second time must change nothing (pruning and defaulting are idempotent).
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "kube/apiserver/openapi_schema.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nlohmann::json;
  const json input = json::parse(std::string_view(reinterpret_cast<const char*>(data), size), nullptr,
                                 /*allow_exceptions=*/false);
  if (!input.is_array() || input.size() != 2) return 0;
  auto schema = sluice::apiserver::compileSchema(input[0]);
  if (!schema.ok()) {
    require(!schema.error().empty());
    return 0;
  }
  for (auto mode : {sluice::apiserver::FieldValidation::kStrict, sluice::apiserver::FieldValidation::kWarn}) {
    json object = input[1];
    auto first = sluice::apiserver::validateAndDefault(*schema, object, mode);
    for (const auto& e : first.errors) require(!e.field.empty() || !e.detail.empty());
    require(first.unknownFields.empty() == first.strictError.empty() ||
            mode != sluice::apiserver::FieldValidation::kStrict);
    json again = object;
    auto second = sluice::apiserver::validateAndDefault(*schema, again, mode);
    require(again == object);
    require(second.unknownFields.empty());
    require(second.errors.size() == first.errors.size());
  }
  return 0;
}
