// libFuzzer entry point: arbitrary bytes through the YAML reader, the Rollout loader and the status
// round trip. Any crash, sanitizer report or broken invariant below is a bug.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/source.h"
#include "engine/rollout_json.h"

namespace {

// Aborts (which libFuzzer reports with the input) when an invariant of the loader does not hold.
void require(bool condition) {
  if (!condition) std::abort();
}

void checkDocument(const sluice::Document& doc) {
  sluice::Diagnostics diags;
  auto rollout = sluice::engine::parseRollout(doc.json, doc.source, diags);
  // A Rollout comes back exactly when nothing was wrong enough to be an error.
  require(rollout.has_value() == !diags.hasErrors());
  for (const auto& d : diags.items()) require(!d.format().empty());
  if (rollout) {
    for (const auto& step : rollout->spec.canary.steps) (void)sluice::engine::describeStep(step);
    const nlohmann::json wire = sluice::engine::statusToJson(rollout->status);
    auto back = sluice::engine::statusFromJson(wire);
    require(back.ok());
    require(sluice::engine::statusToJson(*back) == wire);
  }
  if (doc.json.is_object() && doc.json.contains("status"))
    (void)sluice::engine::statusFromJson(doc.json.at("status"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto docs = sluice::parseYamlDocuments(text, "fuzz.yaml");
  if (!docs) return 0;
  for (const auto& doc : *docs) checkDocument(doc);
  return 0;
}
