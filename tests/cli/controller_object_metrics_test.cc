// The per-object series computed from cached objects at scrape time: Argo Rollouts' names, labels and
// values, one series set per object present, none for an object gone.
#include <catch2/catch.hpp>
#include <map>
#include <optional>

#include "controller/object_metrics.h"

using namespace sluice::controller;
using nlohmann::json;

namespace {

using LabelSet = std::map<std::string, std::string>;

// The gauge of family `name` whose labels are exactly `labels`, or nullopt.
std::optional<double> gauge(const std::vector<prometheus::MetricFamily>& families, const std::string& name,
                            const LabelSet& labels) {
  for (const auto& f : families) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      LabelSet found;
      for (const auto& l : m.label) found[l.name] = l.value;
      if (found == labels) return m.gauge.value;
    }
  }
  return std::nullopt;
}

size_t seriesOf(const std::vector<prometheus::MetricFamily>& families, const std::string& name) {
  for (const auto& f : families)
    if (f.name == name) return f.metric.size();
  return 0;
}

}  // namespace

TEST_CASE("rollout series carry strategy, traffic router, phase and replica counts from the object",
          "[controller][metrics]") {
  struct Case {
    const char* what;
    json rollout;
    std::string strategy, router, phase;
    double desired, available, unavailable;
  };
  const std::vector<Case> cases = {
      {"a settled canary", json::parse(R"({"metadata": {"namespace": "shop", "name": "web"},
                       "spec": {"replicas": 4, "strategy": {"canary": {"steps": []}}},
                       "status": {"phase": "Healthy", "replicas": 4, "availableReplicas": 4}})"),
       "canary", "", "Healthy", 4, 4, 0},
      {"a progressing canary with two routers, replicas defaulted",
       json::parse(R"({"metadata": {"namespace": "shop", "name": "web"},
                       "spec": {"strategy": {"canary": {"trafficRouting": {"nginx": {}, "istio": {}}}}},
                       "status": {"phase": "Progressing", "replicas": 3, "availableReplicas": 1}})"),
       "canary", "Istio,Nginx", "Progressing", 1, 1, 2},
      {"a blue-green Rollout with no status yet",
       json::parse(R"({"metadata": {"namespace": "shop", "name": "web"},
                       "spec": {"replicas": 2, "strategy": {"blueGreen": {"activeService": "a"}}}})"),
       "blueGreen", "", "", 2, 0, 0},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const auto families = rolloutFamilies({c.rollout});
    CHECK(gauge(families, "rollout_info",
                {{"namespace", "shop"},
                 {"name", "web"},
                 {"strategy", c.strategy},
                 {"traffic_router", c.router},
                 {"phase", c.phase}}) == 1.0);
    const LabelSet id = {{"namespace", "shop"}, {"name", "web"}};
    CHECK(gauge(families, "rollout_info_replicas_desired", id) == c.desired);
    CHECK(gauge(families, "rollout_info_replicas_available", id) == c.available);
    CHECK(gauge(families, "rollout_info_replicas_unavailable", id) == c.unavailable);
  }
}

TEST_CASE("only the objects in the cache have series: a deleted Rollout's vanish", "[controller][metrics]") {
  const json a =
      json::parse(R"({"metadata": {"namespace": "x", "name": "a"}, "status": {"phase": "Healthy"}})");
  const json b =
      json::parse(R"({"metadata": {"namespace": "x", "name": "b"}, "status": {"phase": "Paused"}})");
  CHECK(seriesOf(rolloutFamilies({a, b}), "rollout_info") == 2);
  const auto after = rolloutFamilies({a});
  CHECK(seriesOf(after, "rollout_info") == 1);
  CHECK_FALSE(gauge(after, "rollout_info_replicas_desired", {{"namespace", "x"}, {"name", "b"}}));
  CHECK(seriesOf(rolloutFamilies({}), "rollout_info") == 0);
}

TEST_CASE("analysis run series: the run's phase, each metric's type, and one phase series per metric phase",
          "[controller][metrics]") {
  const json run = json::parse(R"({
    "metadata": {"namespace": "shop", "name": "web-6d4f-2"},
    "spec": {"dryRun": [{"metricName": "latency"}],
             "metrics": [{"name": "errors", "provider": {"prometheus": {"query": "q"}}},
                         {"name": "latency", "provider": {"web": {"url": "http://x"}}},
                         {"name": "influx", "provider": {"influxdb": {"query": "q"}}}]},
    "status": {"phase": "Running",
               "metricResults": [{"name": "errors", "phase": "Failed"}, {"name": "latency", "phase": "Running"}]}
  })");
  const auto families = analysisRunFamilies({run});
  const LabelSet id = {{"namespace", "shop"}, {"name", "web-6d4f-2"}};
  auto with = [&id](LabelSet extra) {
    extra.insert(id.begin(), id.end());
    return extra;
  };
  CHECK(gauge(families, "analysis_run_info", with({{"phase", "Running"}})) == 1.0);
  CHECK(gauge(families, "analysis_run_metric_type", with({{"metric", "errors"}, {"type", "Prometheus"}})) ==
        1.0);
  CHECK(gauge(families, "analysis_run_metric_type", with({{"metric", "latency"}, {"type", "Web"}})) == 1.0);
  CHECK(gauge(families, "analysis_run_metric_type", with({{"metric", "influx"}, {"type", "InfluxDB"}})) ==
        1.0);
  struct Expect {
    const char* metric;
    const char* type;
    const char* dryRun;
    std::string phase;  // the one phase at 1
  };
  for (const Expect& e :
       {Expect{"errors", "Prometheus", "false", "Failed"}, Expect{"latency", "Web", "true", "Running"},
        Expect{"influx", "InfluxDB", "false", "Pending"}}) {  // no result yet
    for (const char* phase : {"Pending", "Error", "Failed", "Successful", "Running", "Inconclusive"}) {
      INFO(e.metric << " " << phase);
      CHECK(gauge(families, "analysis_run_metric_phase",
                  with({{"metric", e.metric}, {"type", e.type}, {"dry_run", e.dryRun}, {"phase", phase}})) ==
            (e.phase == phase ? 1.0 : 0.0));
    }
  }
  CHECK(seriesOf(families, "analysis_run_metric_phase") == 18);
  CHECK(seriesOf(analysisRunFamilies({}), "analysis_run_info") == 0);
}
