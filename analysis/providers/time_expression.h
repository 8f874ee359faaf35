// The time expressions of a Prometheus `rangeQuery` (start, end), as Argo Rollouts writes them in
// expr-lang: now(), now() - duration("5m"), now() + duration("1h").
#pragma once

#include <string_view>

#include "base/result.h"
#include "base/time.h"

namespace sluice::analysis {

// Evaluates `now()` optionally followed by `+` or `-` and `duration("D")` (D a Go duration: "5m", "1h30m",
// "90s"; single or double quotes), with now() = `now`. Spaces are allowed between the parts. Any other
// expression is an error quoting it and saying what is supported. Pure; thread-safe.
Result<Time> evaluateTimeExpression(std::string_view expression, Time now);

}  // namespace sluice::analysis
