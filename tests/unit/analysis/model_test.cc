// The analysis loaders: every field and default, both apiVersions, wrong types, unknown-field warnings,
// each validation rule at its field path and line, the run status round trip, and template merging.
#include <catch2/catch.hpp>

#include <map>

#include "analysis/merge.h"
#include "analysis/model_json.h"
#include "base/source.h"
#include "tests/unit/engine/rollout_test_manifests.h"

using namespace sluice;
using namespace sluice::analysis;
using sluice::testing::findDiagnostic;
using sluice::testing::indented;
using sluice::testing::replaced;

namespace {

struct LoadedTemplate {
  std::optional<AnalysisTemplate> value;
  Diagnostics diags;
};

LoadedTemplate loadTemplate(const std::string& yaml, size_t document = 0) {
  auto docs = parseYamlDocuments(yaml, "t.yaml");
  INFO(yaml);
  REQUIRE(docs.ok());
  REQUIRE(docs->size() > document);
  LoadedTemplate out;
  out.value = parseAnalysisTemplate((*docs)[document].json, (*docs)[document].source, out.diags);
  return out;
}

std::string fixture(const std::string& name) {
  auto text = readFile(std::string(SLUICE_SOURCE_DIR) + "/tests/data/analysis/" + name);
  REQUIRE(text.ok());
  return *text;
}

// A valid template whose metric starts on line 6 at an indent of 2; `fields` are added to that metric.
std::string templateWithMetric(const std::string& fields,
                               const std::string& provider = "provider: {web: {url: http://x}}") {
  std::string out =
      "apiVersion: sluice.dev/v1alpha1\n"  // 1
      "kind: AnalysisTemplate\n"           // 2
      "metadata: {name: t}\n"              // 3
      "spec:\n"                            // 4
      "  metrics:\n"                       // 5
      "  - name: m\n";                     // 6
  out += indented(provider, 4) + indented(fields, 4);
  return out;
}

}  // namespace

TEST_CASE("every template field is read, in both apiVersions", "[analysis][model]") {
  const std::string yaml = fixture("templates.yaml");
  const LoadedTemplate loaded = loadTemplate(yaml);
  INFO(loaded.diags.format());
  REQUIRE(loaded.value);
  CHECK(loaded.diags.empty());
  const AnalysisTemplate& t = *loaded.value;
  CHECK(t.apiVersion == "argoproj.io/v1alpha1");
  CHECK(!t.clusterScoped());
  CHECK(t.metadata.name == "success-rate");
  CHECK(t.metadata.ns == "shop");
  REQUIRE(t.spec.args.size() == 4);
  CHECK(t.spec.args[0] == Argument{"service", std::nullopt, std::nullopt, std::nullopt});
  CHECK(t.spec.args[1].value == "0.95");
  CHECK(t.spec.args[2].secretKeyRef == SecretKeyRef{"prom-auth", "token"});
  CHECK(t.spec.args[3].fieldRef == "metadata.labels['env']");

  REQUIRE(t.spec.metrics.size() == 2);
  const Metric& rate = t.spec.metrics[0];
  CHECK(rate.interval == "1m");
  CHECK(rate.initialDelay == "30s");
  CHECK(rate.count == IntOrString{5, ""});
  CHECK(rate.successCondition == "result[0] >= {{args.threshold}}");
  CHECK(rate.failureCondition == "result[0] < 0.5");
  CHECK(rate.failureLimitOrDefault() == 2);
  CHECK(rate.inconclusiveLimitOrDefault() == 1);
  CHECK(rate.consecutiveErrorLimitOrDefault() == 3);
  CHECK(rate.consecutiveSuccessLimitOrDefault() == 2);
  REQUIRE(rate.provider.prometheus);
  CHECK(!rate.provider.web);
  const PrometheusMetric& p = *rate.provider.prometheus;
  CHECK(p.address == "http://prometheus.monitoring:9090");
  CHECK(p.query.find("{{args.service}}") != std::string::npos);
  CHECK(p.timeoutSeconds() == 20);
  CHECK(p.insecure);
  CHECK(p.headers == std::vector<KeyValue>{{"Authorization", "Bearer {{args.token}}"}});
  CHECK(p.basicAuth == PrometheusBasicAuth{"admin", "hunter2"});
  CHECK(p.rangeQuery == PrometheusRangeQuery{"now() - duration(\"5m\")", "now()", "1m"});

  const Metric& health = t.spec.metrics[1];
  CHECK(health.count == IntOrString{std::nullopt, "{{args.checks}}"});
  REQUIRE(health.provider.web);
  const WebMetric& w = *health.provider.web;
  CHECK(w.url == "https://{{args.service}}.shop/health");
  CHECK(w.method == "POST");
  CHECK(w.headers == std::vector<KeyValue>{{"X-Env", "{{args.env}}"}});
  CHECK(w.jsonBody == nlohmann::json{{"probe", true}, {"depth", 2}});
  CHECK(w.timeout() == 5);
  CHECK(w.jsonPath == "{$.status}");
  CHECK(w.insecure);

  CHECK(t.spec.dryRun == std::vector<std::string>{"health"});
  REQUIRE(t.spec.measurementRetention.size() == 1);
  CHECK(t.spec.measurementRetention[0].metricName == "success-.*");
  CHECK(t.spec.measurementRetention[0].limit == 20);
  REQUIRE(t.spec.templates.size() == 1);
  CHECK(t.spec.templates[0].templateName == "base-latency");
  CHECK(t.spec.templates[0].clusterScope);

  const LoadedTemplate cluster = loadTemplate(yaml, 1);
  REQUIRE(cluster.value);
  CHECK(cluster.value->apiVersion == "sluice.dev/v1alpha1");
  CHECK(cluster.value->clusterScoped());
}

TEST_CASE("metric defaults are Argo's", "[analysis][model]") {
  const LoadedTemplate loaded = loadTemplate(templateWithMetric("", "provider: {prometheus: {query: up}}"));
  REQUIRE(loaded.value);
  const Metric& m = loaded.value->spec.metrics[0];
  CHECK(m.failureLimitOrDefault() == 0);
  CHECK(m.inconclusiveLimitOrDefault() == 0);
  CHECK(m.consecutiveErrorLimitOrDefault() == 4);
  CHECK(m.consecutiveSuccessLimitOrDefault() == 0);
  CHECK(m.provider.prometheus->timeoutSeconds() == 30);
  CHECK(!m.count);
  WebMetric web;
  CHECK(web.timeout() == 10);
}

TEST_CASE("effective count and timing of a metric", "[analysis][model]") {
  struct Row {
    const char* behaviour;
    std::string interval;
    std::optional<IntOrString> count;
    std::optional<int> effectiveCount;
  };
  const std::vector<Row> rows = {
      {"no count and no interval: one measurement", "", std::nullopt, 1},
      {"count 0 and no interval: one measurement", "", IntOrString{0, ""}, 1},
      {"no count with an interval: until terminated", "1m", std::nullopt, std::nullopt},
      {"count 0 with an interval: until terminated", "1m", IntOrString{0, ""}, std::nullopt},
      {"a count is the count", "1m", IntOrString{3, ""}, 3},
      {"a count as a string is the count", "1m", IntOrString{std::nullopt, "7"}, 7},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    Metric m;
    m.interval = row.interval;
    m.count = row.count;
    auto timing = metricTiming(m);
    REQUIRE(timing.ok());
    CHECK(timing->effectiveCount == row.effectiveCount);
  }
}

TEST_CASE("each problem is reported at its field path and line", "[analysis][model]") {
  const std::vector<sluice::testing::DiagnosticCase> rows = {
      {"count > 1 needs an interval", templateWithMetric("count: 3"), "spec.metrics[0].count",
       "needs an interval", 8},
      {"count must cover failureLimit + consecutiveSuccessLimit",
       templateWithMetric("interval: 1m\ncount: 2\nfailureLimit: 2\nconsecutiveSuccessLimit: 1"),
       "spec.metrics[0].count", "at least failureLimit + consecutiveSuccessLimit (3)", 9},
      {"count must cover inconclusiveLimit",
       templateWithMetric("interval: 1m\ncount: 2\ninconclusiveLimit: 3"), "spec.metrics[0].count",
       "at least inconclusiveLimit (3)", 9},
      {"failureLimit is -1 or more", templateWithMetric("failureLimit: -2"), "spec.metrics[0].failureLimit",
       "must be -1 (disabled) or more", 8},
      {"inconclusiveLimit is not negative", templateWithMetric("inconclusiveLimit: -1"),
       "spec.metrics[0].inconclusiveLimit", "must not be negative", 8},
      {"consecutiveErrorLimit is not negative", templateWithMetric("consecutiveErrorLimit: -1"),
       "spec.metrics[0].consecutiveErrorLimit", "must not be negative", 8},
      {"consecutiveSuccessLimit is not negative", templateWithMetric("consecutiveSuccessLimit: -1"),
       "spec.metrics[0].consecutiveSuccessLimit", "must not be negative", 8},
      {"failureLimit -1 needs consecutiveSuccessLimit", templateWithMetric("interval: 1m\nfailureLimit: -1"),
       "spec.metrics[0].failureLimit", "consecutiveSuccessLimit must be set", 9},
      {"a limit written as a string must be a whole number", templateWithMetric("failureLimit: \"lots\""),
       "spec.metrics[0].failureLimit", "must be a whole number, got \"lots\"", 8},
      {"an interval must parse", templateWithMetric("interval: soon"), "spec.metrics[0].interval", "soon", 8},
      {"an initialDelay must parse", templateWithMetric("initialDelay: -5s"), "spec.metrics[0].initialDelay",
       "", 8},
      {"a count string must be a number", templateWithMetric("count: many"), "spec.metrics[0].count",
       "whole number", 8},
      {"a provider is required", templateWithMetric("", "interval: 1m"), "spec.metrics[0].provider",
       "is required", 6},
      {"exactly one provider",
       templateWithMetric("", "provider: {web: {url: http://x}, prometheus: {query: up}}"),
       "spec.metrics[0].provider", "exactly one provider, got 2", 7},
      {"an unsupported provider is named", templateWithMetric("", "provider: {datadog: {query: x}}"),
       "spec.metrics[0].provider.datadog", "the datadog provider is not supported yet", 7},
      {"a web url is required", templateWithMetric("", "provider: {web: {method: GET}}"),
       "spec.metrics[0].provider.web.url", "is required", 7},
      {"a web method is GET, POST or PUT", templateWithMetric("", "provider: {web: {url: u, method: PATCH}}"),
       "spec.metrics[0].provider.web.method", "must be GET, POST or PUT", 7},
      {"body and jsonBody exclude each other",
       templateWithMetric("", "provider: {web: {url: u, method: POST, body: x, jsonBody: {a: 1}}}"),
       "spec.metrics[0].provider.web.jsonBody", "cannot be combined with body", 7},
      {"GET has no body", templateWithMetric("", "provider: {web: {url: u, body: x}}"),
       "spec.metrics[0].provider.web.body", "GET request has no body", 7},
      {"a prometheus query is required", templateWithMetric("", "provider: {prometheus: {address: a}}"),
       "spec.metrics[0].provider.prometheus.query", "is required", 7},
      {"a negative prometheus timeout is invalid",
       templateWithMetric("", "provider: {prometheus: {query: up, timeout: -1}}"),
       "spec.metrics[0].provider.prometheus.timeout", "must not be negative", 7},
      {"sigv4 is not supported yet",
       templateWithMetric("", "provider: {prometheus: {query: up, authentication: {sigv4: {region: x}}}}"),
       "spec.metrics[0].provider.prometheus.authentication.sigv4", "not supported yet", 7},
      {"wrong types are named", templateWithMetric("failureLimit: [1]"), "spec.metrics[0].failureLimit",
       "must be an integer", 8},
      {"an interval must be a string", templateWithMetric("interval: 60"), "spec.metrics[0].interval",
       "must be a duration string", 8},
      {"an insecure flag must be a bool", templateWithMetric("", "provider: {web: {url: u, insecure: yes}}"),
       "spec.metrics[0].provider.web.insecure", "must be true or false", 7},
      {"unknown fields are warnings", templateWithMetric("colour: blue"), "spec.metrics[0].colour",
       "unknown field", 8, Severity::Warning},
      {"a metric name is required",
       "apiVersion: sluice.dev/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t}\n"
       "spec:\n  metrics:\n  - provider: {web: {url: u}}\n",
       "spec.metrics[0].name", "is required", 6},
      {"duplicate metric names",
       "apiVersion: sluice.dev/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t}\nspec:\n  metrics:\n"
       "  - {name: m, provider: {web: {url: u}}}\n  - {name: m, provider: {web: {url: u}}}\n",
       "spec.metrics[1].name", "duplicate metric name \"m\"", 7},
      {"a dryRun name is a regex that must compile",
       templateWithMetric("", "provider: {web: {url: u}}") + "  dryRun: [{metricName: \"m(\"}]\n",
       "spec.dryRun[0].metricName", "not a valid regular expression", 8},
      {"a dryRun name must match a metric",
       templateWithMetric("", "provider: {web: {url: u}}") + "  dryRun: [{metricName: other}]\n",
       "spec.dryRun[0].metricName", "matches no metric", 8},
      {"a measurementRetention name must match a metric",
       templateWithMetric("", "provider: {web: {url: u}}") +
           "  measurementRetention: [{metricName: x, limit: 2}]\n",
       "spec.measurementRetention[0].metricName", "matches no metric", 8},
      {"an arg cannot have both value and valueFrom",
       templateWithMetric("") +
           "  args: [{name: a, value: x, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]\n",
       "spec.args[0].valueFrom", "cannot be combined with value", 8},
      {"an unknown apiVersion", replaced(templateWithMetric(""), "sluice.dev/v1alpha1", "apps/v1"),
       "apiVersion", "must be sluice.dev/v1alpha1 or argoproj.io/v1alpha1", 1},
      {"a wrong kind", replaced(templateWithMetric(""), "kind: AnalysisTemplate", "kind: Rollout"), "kind",
       "must be AnalysisTemplate or ClusterAnalysisTemplate", 2},
      {"a condition must compile", templateWithMetric("successCondition: \"len(result) > \""),
       "spec.metrics[0].successCondition", "does not compile: column 15: unexpected end of the condition", 8},
      {"a condition compiles with the args' values",
       templateWithMetric("failureCondition: \"result > {{args.limit}}\"") +
           "  args: [{name: limit, value: \"0.5)\"}]\n",
       "spec.metrics[0].failureCondition",
       "does not compile (args substituted): column 13: unexpected token \")\"", 8},
      {"an arg reference must name a declared arg",
       templateWithMetric("", "provider: {web: {url: \"http://x/{{args.nope}}\"}}"),
       "spec.metrics[0].provider.web.url", "{{args.nope}}: no argument \"nope\" in spec.args", 7},
      {"too many metrics",
       [] {
         std::string yaml =
             "apiVersion: sluice.dev/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t}\nspec:\n  "
             "metrics:\n";
         for (int i = 0; i <= 100; ++i)
           yaml += "  - {name: m" + std::to_string(i) + ", provider: {web: {url: u}}}\n";
         return yaml;
       }(),
       "spec.metrics", "101 metrics, more than the limit of 100 metrics", 5},
      {"a template needs metrics",
       "apiVersion: sluice.dev/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t}\n"
       "spec: {args: [{name: a}]}\n",
       "spec.metrics", "at least one metric", 4},
  };
  for (const auto& row : rows) {
    const LoadedTemplate loaded = loadTemplate(row.yaml);
    sluice::testing::checkDiagnostics(row, loaded.diags, loaded.value.has_value());
  }
}

TEST_CASE("templated fields are checked when the run starts, not at load", "[analysis][model]") {
  const LoadedTemplate loaded = loadTemplate(
      templateWithMetric("interval: \"{{args.every}}\"\ncount: \"{{ args.n }}\"\nfailureLimit: 3\n"
                         "inconclusiveLimit: \"{{args.i}}\"\nconsecutiveErrorLimit: \"{{args.e}}\"\n"
                         "consecutiveSuccessLimit: \"{{args.s}}\"") +
      "  args: [{name: every}, {name: n}, {name: i}, {name: e}, {name: s}]\n");
  INFO(loaded.diags.format());
  CHECK(loaded.value);
}

TEST_CASE("an AnalysisRun is read with its spec and status", "[analysis][model]") {
  const std::string yaml =
      "apiVersion: argoproj.io/v1alpha1\n"
      "kind: AnalysisRun\n"
      "metadata: {name: web-6f9c-3, namespace: shop}\n"
      "spec:\n"
      "  terminate: true\n"
      "  args: [{name: service, value: web}]\n"
      "  metrics: [{name: m, interval: 1m, provider: {web: {url: u}}}]\n"
      "  ttlStrategy: {secondsAfterCompletion: 60}\n"
      "status:\n"
      "  phase: Running\n"
      "  startedAt: \"2026-11-27T22:14:30Z\"\n"
      "  newerField: ignored\n"
      "  metricResults: [{name: m, phase: Running, count: 1, successful: 1, consecutiveSuccess: 1,\n"
      "    measurements: [{phase: Successful, value: \"[0.99]\", startedAt: \"2026-11-27T22:14:30Z\",\n"
      "      finishedAt: \"2026-11-27T22:14:31Z\"}]}]\n";
  auto docs = parseYamlDocuments(yaml, "run.yaml");
  REQUIRE(docs.ok());
  Diagnostics diags;
  auto run = parseAnalysisRun(docs->front().json, docs->front().source, diags);
  INFO(diags.format());
  REQUIRE(run);
  CHECK(diags.empty());
  CHECK(run->spec.terminate);
  CHECK(run->spec.ttlStrategy == nlohmann::json{{"secondsAfterCompletion", 60}});
  CHECK(run->status.phase == Phase::Running);
  REQUIRE(run->status.result("m"));
  CHECK(run->status.result("m")->measurements[0].value == "[0.99]");

  Diagnostics bad;
  auto wrongPhase = nlohmann::json::parse(R"({"apiVersion":"sluice.dev/v1alpha1","kind":"AnalysisRun",
    "metadata":{"name":"r"},"spec":{"metrics":[{"name":"m","provider":{"web":{"url":"u"}}}]},
    "status":{"phase":"Done"}})");
  CHECK(!parseAnalysisRun(wrongPhase, SourceMap(), bad));
  CHECK(findDiagnostic(bad, "status.phase", "must be one of Pending") != nullptr);

  // A run measures its own metrics, so it needs one (a template may instead nest others).
  Diagnostics empty;
  auto noMetrics = nlohmann::json::parse(R"({"apiVersion":"argoproj.io/v1alpha1","kind":"AnalysisRun",
    "metadata":{"name":"r"},"spec":{}})");
  CHECK(!parseAnalysisRun(noMetrics, SourceMap(), empty));
  CHECK(findDiagnostic(empty, "spec.metrics", "must have at least one metric") != nullptr);
}

TEST_CASE("run spec and status round-trip exactly through JSON", "[analysis][model]") {
  const LoadedTemplate loaded = loadTemplate(fixture("templates.yaml"));
  REQUIRE(loaded.value);
  AnalysisRunSpec spec;
  spec.metrics = loaded.value->spec.metrics;
  spec.args = loaded.value->spec.args;
  spec.dryRun = {"health"};
  spec.measurementRetention = {{"success-.*", 20}};
  spec.terminate = true;
  spec.ttlStrategy = nlohmann::json{{"secondsAfterSuccess", 300}};
  auto specBack = runSpecFromJson(runSpecToJson(spec));
  INFO((specBack ? "" : specBack.error()));
  REQUIRE(specBack.ok());
  CHECK(*specBack == spec);

  AnalysisRunStatus status;
  status.phase = Phase::Failed;
  status.message = "Metric \"m\" assessed Failed due to failed (1) > failureLimit (0)";
  status.startedAt = timeFromUnix(1'800'000'000);
  status.completedAt = timeFromUnix(1'800'000'060);
  status.runSummary = {2, 1, 1, 0, 0};
  status.dryRunSummary = RunSummary{1, 0, 0, 1, 0};
  MetricResult r;
  r.name = "m";
  r.phase = Phase::Failed;
  r.message = "failed (1) > failureLimit (0)";
  r.count = 3;
  r.successful = 1;
  r.failed = 1;
  r.inconclusive = 1;
  r.error = 2;
  r.consecutiveError = 1;
  r.consecutiveSuccess = 0;
  r.dryRun = true;
  r.metadata = {{"ResolvedPrometheusQuery", "up"}};
  Measurement meas;
  meas.phase = Phase::Failed;
  meas.message = "condition false";
  meas.startedAt = timeFromUnix(1'800'000'001);
  meas.finishedAt = timeFromUnix(1'800'000'002);
  meas.value = "[0.42]";
  meas.metadata = {{"warnings", "none"}};
  meas.resumeAt = timeFromUnix(1'800'000'003);
  Measurement inFlight;
  inFlight.phase = Phase::Running;
  inFlight.startedAt = timeFromUnix(1'800'000'010);
  r.measurements = {meas, inFlight};
  status.metricResults = {r};
  const nlohmann::json j = runStatusToJson(status);
  auto back = runStatusFromJson(j);
  REQUIRE(back.ok());
  CHECK(*back == status);
  CHECK(j.at("metricResults")[0].at("measurements")[0].at("finishedAt") == "2027-01-15T08:00:02Z");
  CHECK(runStatusToJson(AnalysisRunStatus{}) == nlohmann::json::object());
  CHECK(!runStatusFromJson(nlohmann::json{{"runSummary", {{"count", "two"}}}}).ok());
}

// ---- merging ----------------------------------------------------------------------------------------

namespace {

AnalysisTemplate templateOf(const std::string& name, std::vector<std::string> metrics,
                            std::vector<AnalysisTemplateRef> nested = {}, std::vector<Argument> args = {},
                            bool cluster = false) {
  AnalysisTemplate t;
  t.kind = cluster ? kClusterAnalysisTemplateKind : kAnalysisTemplateKind;
  t.metadata.name = name;
  for (const auto& m : metrics) {
    Metric metric;
    metric.name = m;
    metric.provider.web = WebMetric{};
    metric.provider.web->url = "http://x";
    t.spec.metrics.push_back(metric);
  }
  t.spec.templates = std::move(nested);
  t.spec.args = std::move(args);
  return t;
}

struct Library {
  std::map<std::pair<std::string, bool>, AnalysisTemplate> templates;
  void add(AnalysisTemplate t) { templates[{t.metadata.name, t.clusterScoped()}] = std::move(t); }
  TemplateLookup lookup() const {
    return [this](const std::string& name, bool cluster) -> const AnalysisTemplate* {
      auto it = templates.find({name, cluster});
      return it == templates.end() ? nullptr : &it->second;
    };
  }
};

std::vector<std::string> metricNames(const AnalysisRunSpec& spec) {
  std::vector<std::string> out;
  for (const auto& m : spec.metrics) out.push_back(m.name);
  return out;
}

engine::RolloutAnalysis refs(std::vector<AnalysisTemplateRef> templates,
                             std::vector<engine::AnalysisArg> args = {}) {
  engine::RolloutAnalysis a;
  a.templates = std::move(templates);
  a.args = std::move(args);
  return a;
}

Argument arg(const std::string& name, std::optional<std::string> value = std::nullopt) {
  return Argument{name, std::move(value), std::nullopt, std::nullopt};
}

}  // namespace

TEST_CASE("templates merge into one run spec", "[analysis][merge]") {
  Library lib;
  lib.add(templateOf("a", {"a1", "a2"}, {{"b", false}, {"shared", true}}));
  lib.add(templateOf("b", {"b1"}, {{"shared", true}}));
  lib.add(templateOf("shared", {"s1"}, {}, {}, true));
  lib.add(templateOf("c", {"c1"}));

  SECTION("nested templates depth first, own metrics first, a template reached twice taken once") {
    auto spec = mergeTemplates(refs({{"a", false}, {"c", false}, {"a", false}}), lib.lookup(), {});
    INFO((spec ? "" : spec.error()));
    REQUIRE(spec.ok());
    CHECK(metricNames(*spec) == std::vector<std::string>{"a1", "a2", "b1", "s1", "c1"});
    auto again = mergeTemplates(refs({{"a", false}, {"c", false}}), lib.lookup(), {});
    CHECK(*again == *spec);  // deterministic
  }
  SECTION("a cycle is an error naming it") {
    lib.add(templateOf("x", {"x1"}, {{"y", false}}));
    lib.add(templateOf("y", {"y1"}, {{"x", false}}));
    auto spec = mergeTemplates(refs({{"x", false}}), lib.lookup(), {});
    REQUIRE(!spec.ok());
    CHECK(spec.error() ==
          "analysis templates form a cycle: AnalysisTemplate \"x\" -> AnalysisTemplate \"y\" -> "
          "AnalysisTemplate \"x\"");
  }
  SECTION("the same metric in two templates is an error naming both") {
    lib.add(templateOf("d", {"c1"}));
    auto spec = mergeTemplates(refs({{"c", false}, {"d", false}}), lib.lookup(), {});
    REQUIRE(!spec.ok());
    CHECK(spec.error() ==
          "metric \"c1\" is defined by both AnalysisTemplate \"c\" and AnalysisTemplate \"d\"");
  }
  SECTION("a missing template is named, with its scope") {
    auto spec = mergeTemplates(refs({{"c", true}}), lib.lookup(), {});
    REQUIRE(!spec.ok());
    CHECK(spec.error() == "ClusterAnalysisTemplate \"c\" not found");
  }
}

TEST_CASE("the Rollout's args override template defaults", "[analysis][merge]") {
  Library lib;
  lib.add(templateOf("t", {"m"}, {},
                     {arg("service"), arg("threshold", "0.95"), arg("hash"), arg("latest"), arg("env"),
                      Argument{"token", std::nullopt, SecretKeyRef{"s", "k"}, std::nullopt},
                      Argument{"ns", std::nullopt, std::nullopt, std::string("metadata.namespace")}}));
  ArgSources sources;
  sources.stablePodHash = "6f9c";
  sources.latestPodHash = "7a1b";
  sources.fieldRef = [](const std::string& path) -> Result<std::string> {
    if (path == "metadata.labels['env']") return std::string("prod");
    if (path == "metadata.namespace") return std::string("shop");
    return Error{"no such field"};
  };
  std::vector<engine::AnalysisArg> given = {
      {"service", std::string("web"), std::nullopt, std::nullopt},
      {"hash", std::nullopt, std::string("Stable"), std::nullopt},
      {"latest", std::nullopt, std::string("Latest"), std::nullopt},
      {"env", std::nullopt, std::nullopt, std::string("metadata.labels['env']")},
      {"undeclared", std::string("dropped"), std::nullopt, std::nullopt},
  };
  auto spec = mergeTemplates(refs({{"t", false}}, given), lib.lookup(), sources);
  INFO((spec ? "" : spec.error()));
  REQUIRE(spec.ok());
  std::map<std::string, Argument> byName;
  for (const auto& a : spec->args) byName[a.name] = a;
  CHECK(byName.size() == 7);
  CHECK(byName["service"].value == "web");
  CHECK(byName["threshold"].value == "0.95");
  CHECK(byName["hash"].value == "6f9c");
  CHECK(byName["latest"].value == "7a1b");
  CHECK(byName["env"].value == "prod");
  CHECK(byName["ns"].value == "shop");
  CHECK(byName["token"].secretKeyRef == SecretKeyRef{"s", "k"});

  SECTION("a fieldRef that cannot be read is an error naming the arg") {
    given[3].fieldRef = "status.nothing";
    auto bad = mergeTemplates(refs({{"t", false}}, given), lib.lookup(), sources);
    REQUIRE(!bad.ok());
    CHECK(bad.error() == "argument \"env\": fieldRef status.nothing: no such field");
  }
  SECTION("the same arg with different defaults in two templates is an error naming both") {
    lib.add(templateOf("u", {"n"}, {}, {arg("threshold", "0.9")}));
    auto bad = mergeTemplates(refs({{"t", false}, {"u", false}}), lib.lookup(), sources);
    REQUIRE(!bad.ok());
    CHECK(
        bad.error() ==
        "argument \"threshold\" has different defaults in AnalysisTemplate \"t\" and AnalysisTemplate \"u\"");
  }
  SECTION("the Rollout's dryRun and measurementRetention apply to the merged metrics") {
    engine::RolloutAnalysis a = refs({{"t", false}}, given);
    a.dryRun = {"m"};
    a.measurementRetention = {{"m", 3}};
    auto merged = mergeTemplates(a, lib.lookup(), sources);
    REQUIRE(merged.ok());
    CHECK(merged->dryRun == std::vector<std::string>{"m"});
    CHECK(merged->measurementRetention.size() == 1);
    a.dryRun = {"nothing"};
    auto bad = mergeTemplates(a, lib.lookup(), sources);
    REQUIRE(!bad.ok());
    CHECK_THAT(bad.error(), Catch::Contains("spec.dryRun[0].metricName: \"nothing\" matches no metric"));
  }
}
