// The limits on what the offline commands (lint, sim, analysis eval and backtest) read, in one place so
// that every loader refuses the same input with the same words, naming the limit and the file.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::limits {

// An input file (manifests, scenario, template). The Kubernetes API server takes request bodies of at
// most 3 MiB, so no single object past that could be applied; the rest is room for a multi-document
// stream. Checked before the file is read, so a huge file costs nothing.
inline constexpr size_t kMaxFileBytes = size_t{8} << 20;

// Levels of nesting in a YAML or JSON document (each mapping or list is one). A Rollout's deepest field
// is about 15 levels down; parsers and printers recurse once per level, so this also keeps them far
// from the end of the stack.
inline constexpr int kMaxNestingDepth = 200;

// Items in any one YAML or JSON list. No manifest field needs more; a list past this is refused while
// the file is scanned, before its nodes are built.
inline constexpr size_t kMaxListItems = 10'000;

// Steps of a canary plan. Argo Rollouts sets no limit; real plans have a few dozen steps, and each step
// costs the engine a pass at least.
inline constexpr size_t kMaxSteps = 1'000;

// Metrics in one AnalysisTemplate, ClusterAnalysisTemplate or AnalysisRun, and args of one template.
inline constexpr size_t kMaxMetrics = 100;
inline constexpr size_t kMaxArgs = 100;

// Characters in one successCondition or failureCondition.
inline constexpr size_t kMaxConditionLength = 4'096;

// Runs one backtest plays (from --from to --to, one every --every): 100,000 is 69 days at one a minute.
inline constexpr int64_t kMaxBacktestRuns = 100'000;

// Not a limit: lint warns about a replica count above this (a typo more often than a plan; the largest
// clusters Kubernetes supports hold 150,000 pods in all).
inline constexpr int64_t kReplicasWarningAbove = 10'000;

}  // namespace sluice::limits
