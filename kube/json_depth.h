// How deep JSON from outside may nest, and the checks that enforce it before anything recursive (a
// parser's tree, a copy, a merge, a serialisation) sees the input.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::kube {

// The deepest nesting of objects and arrays the server and the patch engines accept, in a request body
// of any encoding or in a document being patched. Copying, comparing, merging and serialising recurse
// once per level, so a hostile body nested 80,000 deep would overflow a thread's stack. The real
// kube-apiserver stops at 10,000 (Go's encoding/json scanner, which sigs.k8s.io/json forks, refuses
// deeper input with "exceeded max depth"); we stop lower because our engines recurse where Go's
// decoders do not. No Kubernetes object comes near either limit.
inline constexpr size_t kMaxJsonNestingDepth = 1000;

// Whether `value` nests objects and arrays more than `limit` levels deep. Iterative: safe on any
// input. Pure, thread-safe.
bool nestedDeeperThan(const nlohmann::json& value, size_t limit);

// Where a JSON text opens an object or array deeper than `limit` levels.
struct TooDeep {
  size_t offset = 0;  // of the '[' or '{' that goes one level too deep
  char opener = '{';
};

// Scans the raw text (strings and their escapes skipped) for the first container past `limit` levels,
// without building anything: linear time, constant memory. Text that is not JSON is not judged here;
// the parser reports it. Pure, thread-safe.
std::optional<TooDeep> firstTooDeep(std::string_view text, size_t limit = kMaxJsonNestingDepth);

// The parsed value, or why not: malformed text, or text nesting deeper than `limit` (checked before
// parsing). `message` reads as Go's encoding/json words the same failure ("invalid character '{'
// exceeded max depth"), since clients and the real server's Status messages carry that wording.
struct BoundedParse {
  nlohmann::json value;  // discarded() when !ok()
  bool tooDeep = false;
  std::string message;
  bool ok() const { return message.empty(); }
};
BoundedParse parseJsonBounded(std::string_view text, size_t limit = kMaxJsonNestingDepth);

}  // namespace sluice::kube
