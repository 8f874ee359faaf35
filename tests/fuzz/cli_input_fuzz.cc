// libFuzzer entry point for what the offline commands read besides Rollouts: the same bytes go through
// the YAML reader into the analysis and scenario loaders, through the --result JSON reader, and through
// the condition compiler and evaluator. Any crash, sanitizer report or broken invariant is a bug.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "analysis/condition.h"
#include "analysis/model_json.h"
#include "analysis/value.h"
#include "base/source.h"
#include "sim/scenario.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

// A loader returns a value exactly when it reported no error, and every diagnostic prints.
template <typename T>
void checkLoaded(const std::optional<T>& loaded, const sluice::Diagnostics& diags) {
  require(loaded.has_value() == !diags.hasErrors());
  for (const auto& d : diags.items()) require(!d.format().empty());
}

void checkDocument(const sluice::Document& doc) {
  sluice::Diagnostics templateDiags;
  checkLoaded(sluice::analysis::parseAnalysisTemplate(doc.json, doc.source, templateDiags), templateDiags);
  sluice::Diagnostics runDiags;
  checkLoaded(sluice::analysis::parseAnalysisRun(doc.json, doc.source, runDiags), runDiags);
  sluice::Diagnostics scenarioDiags;
  checkLoaded(sluice::sim::parseScenario(doc.json, doc.source, scenarioDiags), scenarioDiags);
}

void checkCondition(std::string_view text) {
  auto condition = sluice::analysis::compile(text);
  if (!condition) {
    require(!condition.error().empty());
    return;
  }
  using sluice::analysis::Value;
  const Value object = *sluice::analysis::parseResultJson(
      R"({"a": 1, "ok": true, "s": "x", "l": [1, 2], "o": {"b": null}, "v": [{"x": 1}, "y"]})");
  for (const Value& v :
       {Value(), Value::number(0.5), Value::boolean(true), Value::string("x"), Value::vector({}),
        Value::vector({1, 2}), object, Value::list({Value::number(1), Value::string("x"), object})}) {
    (void)condition->evaluate(v);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto docs = sluice::parseYamlDocuments(text, "fuzz.yaml")) {
    for (const auto& doc : *docs) checkDocument(doc);
  }
  if (auto result = sluice::analysis::parseResultJson(text); !result) require(!result.error().empty());
  checkCondition(text);
  return 0;
}
