// The metric rules of docs/design.md §A.9. A field that still holds an argument placeholder is checked after
// templating instead, when the run starts.
#include "analysis/validate.h"

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "analysis/condition.h"
#include "analysis/model_json.h"
#include "analysis/templating.h"
#include "base/input_limits.h"

namespace sluice::analysis {

namespace {

bool templated(const std::string& s) { return s.find("{{") != std::string::npos; }

class MetricRules {
 public:
  MetricRules(const SourceMap& source, Diagnostics& diags) : source_(source), diags_(diags) {}

  void check(const std::vector<Metric>& metrics, const std::vector<std::string>& dryRun,
             const std::vector<MeasurementRetention>& retention, bool metricsKnown) {
    std::set<std::string> seen;
    for (size_t i = 0; i < metrics.size(); ++i) {
      const std::string path = indexPath("spec.metrics", i);
      checkMetric(metrics[i], path);
      if (!seen.insert(metrics[i].name).second) {
        error(childPath(path, "name"), "duplicate metric name \"" + metrics[i].name + "\"");
      }
    }
    for (size_t i = 0; i < dryRun.size(); ++i) {
      checkNamePattern(dryRun[i], childPath(indexPath("spec.dryRun", i), "metricName"), metrics,
                       metricsKnown);
    }
    for (size_t i = 0; i < retention.size(); ++i) {
      checkNamePattern(retention[i].metricName,
                       childPath(indexPath("spec.measurementRetention", i), "metricName"), metrics,
                       metricsKnown);
    }
  }

 private:
  void error(const std::string& path, std::string message) {
    diags_.add(source_.diagnostic(Severity::Error, path, std::move(message)));
  }
  void warning(const std::string& path, std::string message) {
    diags_.add(source_.diagnostic(Severity::Warning, path, std::move(message)));
  }

  void checkDuration(const std::string& value, const std::string& path) {
    if (value.empty() || templated(value)) return;
    auto d = parseDuration(value);
    if (!d) error(path, d.error());
  }

  void checkMetric(const Metric& m, const std::string& path) {
    auto at = [&](const char* field) { return childPath(path, field); };
    if (m.provider.job) {
      // As in Argo Rollouts, a job metric's outcome is its Job's: the conditions are never evaluated.
      for (auto [field, condition] : {std::pair{"successCondition", &m.successCondition},
                                      std::pair{"failureCondition", &m.failureCondition}}) {
        if (!condition->empty())
          warning(at(field),
                  "is not used by a job metric: the measurement is Successful when its Job "
                  "completes and Failed when it fails");
      }
    }
    checkDuration(m.interval, at("interval"));
    checkDuration(m.initialDelay, at("initialDelay"));
    // A limit still holding {{args}} is checked when the run is templated; here only written numbers.
    bool allWritten = true;
    auto limit = [&](const char* field, const std::optional<IntOrString>& v) {
      if (!v || v->number) return;
      if (templated(v->text)) {
        allWritten = false;
        return;
      }
      if (auto n = v->resolve(); !n) {
        error(at(field), n.error());
        allWritten = false;
      }
    };
    limit("failureLimit", m.failureLimit);
    limit("inconclusiveLimit", m.inconclusiveLimit);
    limit("consecutiveErrorLimit", m.consecutiveErrorLimit);
    limit("consecutiveSuccessLimit", m.consecutiveSuccessLimit);
    if (!allWritten) return;
    const int failureLimit = m.failureLimitOrDefault();
    const int successLimit = m.consecutiveSuccessLimitOrDefault();
    if (failureLimit < -1)
      error(at("failureLimit"), "must be -1 (disabled) or more, got " + std::to_string(failureLimit));
    for (auto [field, value] : {std::pair{"inconclusiveLimit", m.inconclusiveLimitOrDefault()},
                                {"consecutiveErrorLimit", m.consecutiveErrorLimitOrDefault()},
                                {"consecutiveSuccessLimit", successLimit}}) {
      if (value < 0) error(at(field), "must not be negative, got " + std::to_string(value));
    }
    if (failureLimit == -1 && successLimit == 0) {
      error(at("failureLimit"),
            "-1 disables failures, so consecutiveSuccessLimit must be set for the metric to end");
    }
    if (!m.count || (!m.count->number && templated(m.count->text))) return;
    auto count = m.count->resolve();
    if (!count) {
      error(at("count"), count.error());
      return;
    }
    if (*count < 0) {
      error(at("count"), "must not be negative, got " + std::to_string(*count));
      return;
    }
    if (*count > 1 && m.interval.empty()) {
      error(at("count"), "is " + std::to_string(*count) + ", more than one measurement needs an interval");
    }
    if (*count > 0 && *count < failureLimit + successLimit) {
      error(at("count"), "must be at least failureLimit + consecutiveSuccessLimit (" +
                             std::to_string(failureLimit + successLimit) + "), got " +
                             std::to_string(*count));
    }
    if (*count > 0 && *count < m.inconclusiveLimitOrDefault()) {
      error(at("count"), "must be at least inconclusiveLimit (" +
                             std::to_string(m.inconclusiveLimitOrDefault()) + "), got " +
                             std::to_string(*count));
    }
  }

  void checkNamePattern(const std::string& pattern, const std::string& path,
                        const std::vector<Metric>& metrics, bool metricsKnown) {
    try {
      std::regex re(pattern);
    } catch (const std::regex_error& e) {
      error(path, "is not a valid regular expression: \"" + pattern + "\"");
      return;
    }
    if (!metricsKnown) return;
    for (const auto& m : metrics) {
      if (metricNameMatches(pattern, m.name)) return;
    }
    error(path, "\"" + pattern + "\" matches no metric");
  }

  const SourceMap& source_;
  Diagnostics& diags_;
};

// Every {{args.NAME}} in the strings of `j` (a metric's JSON form, so every string field is covered)
// that names no declared arg, reported at its field path.
void checkArgReferences(const nlohmann::json& j, const std::string& path,
                        const std::set<std::string>& declared, const SourceMap& source, Diagnostics& diags) {
  if (j.is_string()) {
    std::set<std::string> reported;
    for (const auto& name : argReferences(j.get_ref<const std::string&>())) {
      if (declared.count(name) || !reported.insert(name).second) continue;
      std::string message = "{{args.";
      message.append(name).append("}}: no argument \"").append(name).append("\" in spec.args");
      diags.add(source.diagnostic(Severity::Error, path, std::move(message)));
    }
  } else if (j.is_object()) {
    for (const auto& [key, child] : j.items())
      checkArgReferences(child, childPath(path, key), declared, source, diags);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      checkArgReferences(j[i], indexPath(path, i), declared, source, diags);
  }
}

void checkCondition(const std::string& condition, const std::string& path, const ResolvedArgs& known,
                    const SourceMap& source, Diagnostics& diags) {
  if (condition.empty()) return;
  auto error = [&](std::string message) {
    diags.add(source.diagnostic(Severity::Error, path, std::move(message)));
  };
  if (condition.size() > limits::kMaxConditionLength) {
    error("is " + std::to_string(condition.size()) + " characters, more than the limit of " +
          std::to_string(limits::kMaxConditionLength));
    return;
  }
  // An arg with no value yet (required, or from a secret) leaves its placeholder: checked at run time.
  auto text = substituteArgs(condition, known);
  if (!text) return;
  if (auto compiled = compile(*text); !compiled) {
    error("does not compile" + std::string(*text == condition ? "" : " (args substituted)") + ": " +
          compiled.error());
  }
}

}  // namespace

void validateConditionsAndArgs(const std::vector<Metric>& metrics, const std::vector<Argument>& args,
                               bool argsKnown, const SourceMap& source, Diagnostics& diags) {
  std::set<std::string> declared;
  ResolvedArgs known;
  for (const auto& a : args) {
    declared.insert(a.name);
    if (a.value) known.values[a.name] = *a.value;
  }
  for (size_t i = 0; i < metrics.size(); ++i) {
    const std::string path = indexPath("spec.metrics", i);
    checkCondition(metrics[i].successCondition, childPath(path, "successCondition"), known, source, diags);
    checkCondition(metrics[i].failureCondition, childPath(path, "failureCondition"), known, source, diags);
    if (argsKnown) checkArgReferences(metricToJson(metrics[i]), path, declared, source, diags);
  }
}

bool metricNameMatches(const std::string& pattern, const std::string& name) {
  try {
    return std::regex_search(name, std::regex(pattern));
  } catch (const std::regex_error&) {
    return false;
  }
}

void validateTemplateSpec(const AnalysisTemplateSpec& spec, const SourceMap& source, Diagnostics& diags) {
  MetricRules(source, diags)
      .check(spec.metrics, spec.dryRun, spec.measurementRetention, spec.templates.empty());
}

void validateRunSpec(const AnalysisRunSpec& spec, const SourceMap& source, Diagnostics& diags) {
  MetricRules(source, diags).check(spec.metrics, spec.dryRun, spec.measurementRetention, true);
}

}  // namespace sluice::analysis
