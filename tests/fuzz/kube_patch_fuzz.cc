// libFuzzer entry point for the three patch engines: the input is a JSON array [original, patch]; the
// first byte picks the engine (and for strategic merge patch, the kind). Crashes, sanitizer reports and
// broken invariants below are bugs.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "kube/strategic_merge.h"

namespace {

using nlohmann::json;

void require(bool condition) {
  if (!condition) std::abort();
}

// No strategic-merge directive survives into a result.
void requireNoDirectives(const json& v) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) {
      require(k != "$patch" && k != "$retainKeys" && k.rfind("$setElementOrder/", 0) != 0 &&
              k.rfind("$deleteFromPrimitiveList/", 0) != 0);
      requireNoDirectives(child);
    }
  } else if (v.is_array()) {
    for (const auto& child : v) requireNoDirectives(child);
  }
}

void requireClassified(const sluice::kube::PatchResult& r) {
  if (r.ok()) return;
  require(!r.error().empty());
  const int status = sluice::kube::httpStatus(r.errorKind());
  require(status == 400 || status == 413 || status == 415 || status == 422 || status == 500);
}

constexpr std::pair<const char*, const char*> kKinds[] = {
    {"v1", "Pod"},       {"apps/v1", "Deployment"},          {"v1", "Service"},
    {"v1", "ConfigMap"}, {"v1", "ServiceAccount"},           {"batch/v1", "Job"},
    {"v1", "Namespace"}, {"sluice.dev/v1alpha1", "Rollout"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  const json input = json::parse(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), nullptr,
                                 /*allow_exceptions=*/false);
  if (!input.is_array() || input.size() != 2) return 0;
  const json& original = input[0];
  const json& patch = input[1];
  switch (selector % 3) {
    case 0: {
      const auto& [apiVersion, kind] = kKinds[(selector / 3) % std::size(kKinds)];
      auto r = sluice::kube::applyStrategicMergePatch(original, patch, apiVersion, kind);
      requireClassified(r);
      if (r.ok()) requireNoDirectives(r.value());
      break;
    }
    case 1: {
      auto r = sluice::kube::applyMergePatch(original, patch);
      require(r.ok());
      // RFC 7386 merge patches are idempotent.
      auto again = sluice::kube::applyMergePatch(r.value(), patch);
      require(again.ok() && again.value() == r.value());
      break;
    }
    default: {
      auto r = sluice::kube::applyJsonPatch(original, patch);
      requireClassified(r);
      break;
    }
  }
  return 0;
}
