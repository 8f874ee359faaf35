// Measurement assessment (docs/design.md §A.10): a provider's result, judged by the metric's successCondition
// and failureCondition, becomes a Measurement with its phase. The conditions are compiled once per metric.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "analysis/condition.h"
#include "analysis/model.h"
#include "analysis/provider.h"
#include "base/result.h"
#include "base/time.h"

namespace sluice::analysis {

// The compiled conditions of one metric (after argument templating). A condition that does not compile
// is kept as its message: every measurement of the metric is then an Error saying so.
class MetricConditions {
 public:
  // Compiles `metric`'s successCondition and failureCondition (empty ones are absent). Never fails: a
  // compile error is stored ("successCondition: column 12: unknown function \"median\"").
  explicit MetricConditions(const Metric& metric);
  MetricConditions(MetricConditions&&) noexcept = default;
  MetricConditions& operator=(MetricConditions&&) noexcept = default;
  MetricConditions(const MetricConditions&) = delete;
  MetricConditions& operator=(const MetricConditions&) = delete;
  ~MetricConditions() = default;

  // Whether these were compiled from exactly `metric`'s conditions.
  bool compiledFrom(const Metric& metric) const;

  // The measurement for one provider outcome, §A.10:
  // - a provider error -> Error with the provider's message;
  // - a phase the provider set (ProviderResult::phase) -> that phase and message; Running is in flight
  //   (no finishedAt, the provider's resumeAt);
  // - no conditions -> Successful;
  // - only successCondition -> Successful if true, else Failed;
  // - only failureCondition -> Failed if true, else Successful;
  // - both -> Failed if the failure condition holds (failure wins), Successful if only the success
  //   condition holds, Inconclusive if neither does;
  // - a condition that did not compile, or whose evaluation fails (empty result, type mismatch, not a
  //   bool) -> Error whose message names the condition and gives the condition language's message.
  // The measurement carries value (ProviderResult::text), metadata, startedAt and finishedAt. Does not
  // block; not thread-safe (evaluation reuses the compiled programs' state).
  Measurement assess(const Result<ProviderResult>& outcome, Time startedAt, Time finishedAt) const;

 private:
  struct Compiled {
    std::string source;
    std::optional<CompiledCondition> condition;  // nullopt when it did not compile
    std::string error;                           // the compile error, with the field name
  };
  // nullopt: the metric has no such condition.
  static std::optional<Compiled> compileField(const char* field, const std::string& source);
  // The condition's verdict, or the Error message.
  static Result<bool> run(const char* field, const Compiled& c, const Value& value);

  std::optional<Compiled> success_;
  std::optional<Compiled> failure_;
};

// Compiled conditions by their text, compiled on first use and kept for the cache's life: one run's, or
// shared by many runs of the same templates (a simulation, a backtest), since compiling costs far more
// than evaluating. Not thread-safe: share it only between runs driven from one thread.
class RunConditions {
 public:
  // The conditions of `metric` (already templated), compiled once per distinct pair of
  // successCondition and failureCondition. The reference stays valid as long as the cache.
  const MetricConditions& forMetric(const Metric& metric);

 private:
  std::map<std::pair<std::string, std::string>, MetricConditions> byText_;
};

}  // namespace sluice::analysis
