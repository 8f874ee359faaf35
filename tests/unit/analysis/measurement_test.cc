// docs/design.md §A.10, a row per rule: the conditions a metric has, what the provider returned, and the
// measurement's phase and message.
#include <catch2/catch.hpp>
#include <cmath>

#include "analysis/measurement.h"

using namespace sluice;
using namespace sluice::analysis;

namespace {

const Time kAt = timeFromUnix(1'800'000'000);

Metric metricWithConditions(const char* success, const char* failure) {
  Metric m;
  m.name = "m";
  m.successCondition.assign(success);
  m.failureCondition.assign(failure);
  return m;
}

Result<ProviderResult> returned(Value v, std::string text = "") {
  return ProviderResult{std::move(v), std::move(text), {}, {}, {}, {}};
}

struct MeasurementRow {
  const char* behaviour;
  const char* success;
  const char* failure;
  Result<ProviderResult> outcome;
  Phase phase;
  const char* message;  // a part the message must contain; "" means it must be empty
};

}  // namespace

TEST_CASE("a measurement's phase follows each rule of section 4.4", "[analysis][measurement]") {
  const double nan = std::nan("");
  const std::vector<MeasurementRow> rows = {
      {"no conditions: Successful", "", "", returned(Value::number(0.5)), Phase::Successful, ""},
      {"no conditions but the provider errored: Error with its message", "", "",
       Error{"Post \"http://prom:9090\": connection refused"}, Phase::Error, "connection refused"},
      {"only success, true: Successful", "result >= 0.95", "", returned(Value::number(0.99)),
       Phase::Successful, ""},
      {"only success, false: Failed", "result >= 0.95", "", returned(Value::number(0.9)), Phase::Failed, ""},
      {"only failure, true: Failed", "", "result > 0.05", returned(Value::number(0.07)), Phase::Failed, ""},
      {"only failure, false: Successful", "", "result > 0.05", returned(Value::number(0.01)),
       Phase::Successful, ""},
      {"both, failure true and success false: Failed", "result < 0.05", "result > 0.1",
       returned(Value::number(0.2)), Phase::Failed, ""},
      {"both true: failure wins", "result > 0", "result > 0.1", returned(Value::number(0.2)), Phase::Failed,
       ""},
      {"both, only success true: Successful", "result < 0.05", "result > 0.1", returned(Value::number(0.01)),
       Phase::Successful, ""},
      {"both false: Inconclusive", "result < 0.05", "result > 0.1", returned(Value::number(0.07)),
       Phase::Inconclusive, ""},
      {"NaN compares false on both sides: Inconclusive", "result < 0.05", "result > 0.1",
       returned(Value::number(nan)), Phase::Inconclusive, ""},
      {"result[0] on an empty vector: Error saying the result was empty", "result[0] >= 0.95", "",
       returned(Value::vector({})), Phase::Error, "result is empty"},
      {"an evaluation error in the failure condition: Error naming it", "", "result[0] > 0.1",
       returned(Value::vector({})), Phase::Error, "failureCondition \"result[0] > 0.1\": result is empty"},
      {"a type mismatch: Error", "result >= 0.95", "", returned(Value::vector({0.9, 0.99})), Phase::Error,
       "cannot compare a list of 2 numbers with a number"},
      {"a condition that is not a bool: Error", "result + 1", "", returned(Value::number(1)), Phase::Error,
       "successCondition \"result + 1\""},
      {"a condition that does not compile: Error with the column", "median(result) > 1", "",
       returned(Value::vector({1, 2})), Phase::Error, "column 1: unknown function"},
      {"a provider error wins over the conditions", "result >= 0.95", "result < 0.5", Error{"HTTP 500"},
       Phase::Error, "HTTP 500"},
      {"a string result compared with ==", "result == \"ok\"", "", returned(Value::string("ok")),
       Phase::Successful, ""},
      {"the documented empty-vector idiom holds on no data", "len(result) == 0 || result[0] >= 0.95", "",
       returned(Value::vector({})), Phase::Successful, ""},
  };
  for (const auto& row : rows) {
    SECTION(row.behaviour) {
      const MetricConditions conditions(metricWithConditions(row.success, row.failure));
      const Measurement m = conditions.assess(row.outcome, kAt, kAt + Duration{2});
      INFO("message: " << m.message);
      CHECK(m.phase == row.phase);
      if (std::string(row.message).empty()) {
        CHECK(m.message.empty());
      } else {
        CHECK_THAT(m.message, Catch::Contains(row.message));
      }
      CHECK(m.startedAt == kAt);
      CHECK(m.finishedAt == kAt + Duration{2});
    }
  }
}

TEST_CASE("a measurement records the provider's value text and metadata", "[analysis][measurement]") {
  const MetricConditions conditions(metricWithConditions("result[0] >= 0.95", ""));
  ProviderResult r{Value::vector({0.97}), "[0.97]", {{"ResolvedPrometheusQuery", "up"}}, {}, {}, {}};
  const Measurement m = conditions.assess(r, kAt, kAt);
  CHECK(m.phase == Phase::Successful);
  CHECK(m.value == "[0.97]");
  CHECK(m.metadata.at("ResolvedPrometheusQuery") == "up");
}

TEST_CASE("the conditions cache compiles each distinct pair of conditions once", "[analysis][measurement]") {
  RunConditions cache;
  const Metric a = metricWithConditions("result > 1", "");
  const MetricConditions* first = &cache.forMetric(a);
  CHECK(&cache.forMetric(a) == first);
  Metric sameTextOtherMetric = a;
  sameTextOtherMetric.name = "other";
  CHECK(&cache.forMetric(sameTextOtherMetric) == first);
  CHECK(first->assess(returned(Value::number(2)), kAt, kAt).phase == Phase::Successful);
  const Metric changed = metricWithConditions("result > 5", "");
  const MetricConditions& second = cache.forMetric(changed);
  CHECK(&second != first);
  CHECK(second.compiledFrom(changed));
  CHECK(second.assess(returned(Value::number(2)), kAt, kAt).phase == Phase::Failed);
  CHECK(first->assess(returned(Value::number(2)), kAt, kAt).phase == Phase::Successful);
}
