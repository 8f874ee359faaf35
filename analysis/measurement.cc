// docs/design.md §A.10: how one provider result becomes a measurement's phase.
#include "analysis/measurement.h"

namespace sluice::analysis {

std::optional<MetricConditions::Compiled> MetricConditions::compileField(const char* field,
                                                                         const std::string& source) {
  if (source.empty()) return std::nullopt;
  Compiled c;
  c.source = source;
  auto compiled = compile(source);
  if (compiled) {
    c.condition.emplace(std::move(*compiled));
  } else {
    c.error = std::string(field) + " \"" + source + "\": " + compiled.error();
  }
  return c;
}

MetricConditions::MetricConditions(const Metric& metric)
    : success_(compileField("successCondition", metric.successCondition)),
      failure_(compileField("failureCondition", metric.failureCondition)) {}

bool MetricConditions::compiledFrom(const Metric& metric) const {
  const std::string& s = success_ ? success_->source : std::string();
  const std::string& f = failure_ ? failure_->source : std::string();
  return s == metric.successCondition && f == metric.failureCondition;
}

Result<bool> MetricConditions::run(const char* field, const Compiled& c, const Value& value) {
  if (!c.condition) return Error{c.error};
  auto verdict = c.condition->evaluate(value);
  if (!verdict) return Error{std::string(field) + " \"" + c.source + "\": " + verdict.error()};
  return *verdict;
}

Measurement MetricConditions::assess(const Result<ProviderResult>& outcome, Time startedAt,
                                     Time finishedAt) const {
  Measurement m;
  m.startedAt = startedAt;
  m.finishedAt = finishedAt;
  if (!outcome) {
    m.phase = Phase::Error;
    m.message = outcome.error();
    return m;
  }
  m.value = outcome->text;
  m.metadata = outcome->metadata;
  if (outcome->phase) {
    // The provider decided (a Job that runs, completes or fails): the conditions are not consulted.
    m.phase = *outcome->phase;
    m.message = outcome->message;
    if (m.phase == Phase::Running) {
      m.finishedAt.reset();
      m.resumeAt = outcome->resumeAt;
    }
    return m;
  }
  std::optional<bool> succeeded;
  std::optional<bool> failed;
  if (success_) {
    auto v = run("successCondition", *success_, outcome->value);
    if (!v) {
      m.phase = Phase::Error;
      m.message = v.error();
      return m;
    }
    succeeded = *v;
  }
  if (failure_) {
    auto v = run("failureCondition", *failure_, outcome->value);
    if (!v) {
      m.phase = Phase::Error;
      m.message = v.error();
      return m;
    }
    failed = *v;
  }
  if (succeeded && failed) {
    m.phase = *failed ? Phase::Failed : (*succeeded ? Phase::Successful : Phase::Inconclusive);
  } else if (succeeded) {
    m.phase = *succeeded ? Phase::Successful : Phase::Failed;
  } else if (failed) {
    m.phase = *failed ? Phase::Failed : Phase::Successful;
  } else {
    m.phase = Phase::Successful;
  }
  return m;
}

const MetricConditions& RunConditions::forMetric(const Metric& metric) {
  auto key = std::make_pair(metric.successCondition, metric.failureCondition);
  auto it = byText_.find(key);
  if (it != byText_.end()) return it->second;
  return byText_.emplace(std::move(key), MetricConditions(metric)).first->second;
}

}  // namespace sluice::analysis
