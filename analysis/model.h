// The analysis model: AnalysisTemplate, ClusterAnalysisTemplate and AnalysisRun as typed structs,
// field-compatible with Argo Rollouts. JSON appears only in model_json.cc.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/phase.h"
#include "base/result.h"
#include "base/time.h"
#include "engine/rollout.h"

namespace sluice::analysis {

inline constexpr const char* kAnalysisTemplateKind = "AnalysisTemplate";
inline constexpr const char* kClusterAnalysisTemplateKind = "ClusterAnalysisTemplate";
inline constexpr const char* kAnalysisRunKind = "AnalysisRun";

// Argo's defaults (docs/design.md §A.9).
inline constexpr int kDefaultFailureLimit = 0;
inline constexpr int kDefaultInconclusiveLimit = 0;
inline constexpr int kDefaultConsecutiveErrorLimit = 4;
inline constexpr int kDefaultConsecutiveSuccessLimit = 0;  // 0 = disabled
inline constexpr int kDefaultMeasurementRetention = 10;
inline constexpr Duration kErrorRetryInterval{10};

using engine::AnalysisTemplateRef;
using engine::ObjectMeta;

// measurementRetention[]: how many measurements the metrics whose names match the regex keep.
struct MeasurementRetention {
  std::string metricName;
  int limit = 0;
  bool operator==(const MeasurementRetention&) const = default;
};

struct SecretKeyRef {
  std::string name;
  std::string key;
  bool operator==(const SecretKeyRef&) const = default;
};

// An argument, in a template (default value, or required when it has none) or in a run (resolved). A
// secretKeyRef is resolved by the controller when the run is measured, never stored in the run.
struct Argument {
  std::string name;
  std::optional<std::string> value;
  std::optional<SecretKeyRef> secretKeyRef;  // valueFrom.secretKeyRef
  std::optional<std::string> fieldRef;       // valueFrom.fieldRef.fieldPath
  bool operator==(const Argument&) const = default;
};

// An int, or a string that becomes one after argument templating ("{{args.count}}"), as Argo's
// intstr.IntOrString `count`.
struct IntOrString {
  IntOrString() = default;
  IntOrString(int n) : number(n) {}  // NOLINT(google-explicit-constructor): a plain int is the common case
  IntOrString(std::optional<int> n, std::string t) : number(n), text(std::move(t)) {}

  std::optional<int> number;
  std::string text;  // used when `number` is empty
  bool operator==(const IntOrString&) const = default;
  // The integer, parsing `text` if need be; an error when it is not a whole number.
  Result<int> resolve() const;
};

struct KeyValue {
  std::string key;
  std::string value;
  bool operator==(const KeyValue&) const = default;
};

struct PrometheusBasicAuth {
  std::string username;
  std::string password;
  bool operator==(const PrometheusBasicAuth&) const = default;
};

struct PrometheusRangeQuery {
  std::string start;  // expr-lang time expressions, e.g. now() - duration("5m")
  std::string end;
  std::string step;
  bool operator==(const PrometheusRangeQuery&) const = default;
};

struct PrometheusMetric {
  std::string address;
  std::string query;
  std::optional<int64_t> timeout;  // seconds; default 30
  bool insecure = false;
  std::vector<KeyValue> headers;
  std::optional<PrometheusBasicAuth> basicAuth;  // authentication.basicAuth
  std::optional<PrometheusRangeQuery> rangeQuery;
  bool operator==(const PrometheusMetric&) const = default;

  int64_t timeoutSeconds() const { return timeout.value_or(30); }
};

struct WebMetric {
  std::string url;
  std::string method;  // GET when empty
  std::vector<KeyValue> headers;
  std::string body;
  std::optional<nlohmann::json> jsonBody;  // raw JSON, sent as application/json
  std::optional<int64_t> timeoutSeconds;   // default 10
  std::string jsonPath;                    // default {$}
  bool insecure = false;
  bool operator==(const WebMetric&) const = default;

  int64_t timeout() const { return timeoutSeconds.value_or(10); }
};

// provider.job: one batch/v1 Job per measurement, created by the controller and owned by the run; the
// measurement is Successful when the Job completes, Failed when it fails. Kept as JSON as written: the
// cluster reads the JobSpec, Sluice only checks what would make the Job invalid.
struct JobMetric {
  nlohmann::json metadata = nlohmann::json::object();  // {labels, annotations}, copied onto the Job
  nlohmann::json spec = nlohmann::json::object();      // a batch/v1 JobSpec
  bool operator==(const JobMetric&) const = default;
};

// Exactly one is set after a successful parse.
struct MetricProvider {
  std::optional<PrometheusMetric> prometheus;
  std::optional<WebMetric> web;
  std::optional<JobMetric> job;
  bool operator==(const MetricProvider&) const = default;
};

struct Metric {
  std::string name;
  std::string interval;      // a duration string as written ("" = none); may hold {{args.x}} until resolved
  std::string initialDelay;  // likewise, counted from the run's startedAt
  std::optional<IntOrString> count;
  std::string successCondition;
  std::string failureCondition;
  // Limits are ints or, like count, strings that become ints after templating ("{{args.limit}}").
  std::optional<IntOrString> failureLimit;
  std::optional<IntOrString> inconclusiveLimit;
  std::optional<IntOrString> consecutiveErrorLimit;
  std::optional<IntOrString> consecutiveSuccessLimit;
  MetricProvider provider;
  bool operator==(const Metric&) const = default;

  // The limits in force. Meaningful once the metric is templated and validated (validation rejects a
  // limit that is not a whole number); until then a limit still holding {{args}} reads as its default.
  int failureLimitOrDefault() const { return limitOr(failureLimit, kDefaultFailureLimit); }
  int inconclusiveLimitOrDefault() const { return limitOr(inconclusiveLimit, kDefaultInconclusiveLimit); }
  int consecutiveErrorLimitOrDefault() const {
    return limitOr(consecutiveErrorLimit, kDefaultConsecutiveErrorLimit);
  }
  int consecutiveSuccessLimitOrDefault() const {
    return limitOr(consecutiveSuccessLimit, kDefaultConsecutiveSuccessLimit);
  }

 private:
  static int limitOr(const std::optional<IntOrString>& limit, int fallback) {
    if (!limit) return fallback;
    if (limit->number) return *limit->number;
    auto n = limit->resolve();
    return n ? *n : fallback;
  }
};

// The parsed timing of a metric, after templating: what the evaluator schedules by.
struct MetricTiming {
  std::optional<Duration> interval;
  std::optional<Duration> initialDelay;
  std::optional<int> effectiveCount;  // nullopt: measure until terminated
};

// Effective count (§A.9): no count (or 0) and no interval: 1; no count (or 0) with an interval: forever;
// otherwise the count. An error names the field that does not parse.
Result<MetricTiming> metricTiming(const Metric& metric);

struct AnalysisTemplateSpec {
  std::vector<Metric> metrics;
  std::vector<Argument> args;
  std::vector<std::string> dryRun;  // dryRun[].metricName, regexes
  std::vector<MeasurementRetention> measurementRetention;
  std::vector<AnalysisTemplateRef> templates;
};

// An AnalysisTemplate (namespaced) or ClusterAnalysisTemplate (cluster-scoped), told apart by `kind`.
struct AnalysisTemplate {
  std::string apiVersion = engine::kApiVersion;
  std::string kind = kAnalysisTemplateKind;
  ObjectMeta metadata;
  AnalysisTemplateSpec spec;

  bool clusterScoped() const { return kind == kClusterAnalysisTemplateKind; }
};

// ---- runs ------------------------------------------------------------------------------------------

// A phase's name back to the phase (analysis/phase.h); an unknown name is an error.
Result<Phase> phaseFromName(std::string_view name);

struct AnalysisRunSpec {
  std::vector<Metric> metrics;
  std::vector<Argument> args;
  bool terminate = false;
  std::vector<std::string> dryRun;
  std::vector<MeasurementRetention> measurementRetention;
  std::optional<nlohmann::json> ttlStrategy;  // kept as given; the controller's garbage collection reads it
  bool operator==(const AnalysisRunSpec&) const = default;
};

struct Measurement {
  Phase phase = Phase::Unset;
  std::string message;
  std::optional<Time> startedAt;
  std::optional<Time> finishedAt;  // nullopt while in flight
  std::string value;
  std::map<std::string, std::string> metadata;
  std::optional<Time> resumeAt;
  bool operator==(const Measurement&) const = default;
};

struct MetricResult {
  std::string name;
  Phase phase = Phase::Unset;
  std::vector<Measurement> measurements;  // the newest last, trimmed by measurement retention
  std::string message;
  int count = 0;  // Successful + Failed + Inconclusive measurements; Error ones do not count
  int successful = 0;
  int failed = 0;
  int inconclusive = 0;
  int error = 0;
  int consecutiveError = 0;
  int consecutiveSuccess = 0;
  bool dryRun = false;
  std::map<std::string, std::string> metadata;
  bool operator==(const MetricResult&) const = default;
};

struct RunSummary {
  int count = 0;
  int successful = 0;
  int failed = 0;
  int inconclusive = 0;
  int error = 0;
  bool operator==(const RunSummary&) const = default;
};

struct AnalysisRunStatus {
  Phase phase = Phase::Unset;
  std::string message;
  std::optional<Time> startedAt;
  std::optional<Time> completedAt;
  RunSummary runSummary;
  std::optional<RunSummary> dryRunSummary;
  std::vector<MetricResult> metricResults;
  bool operator==(const AnalysisRunStatus&) const = default;

  const MetricResult* result(const std::string& metricName) const;
  MetricResult* result(const std::string& metricName);
};

struct AnalysisRun {
  std::string apiVersion = engine::kApiVersion;
  ObjectMeta metadata;
  AnalysisRunSpec spec;
  AnalysisRunStatus status;
};

}  // namespace sluice::analysis
