// Argument templating: {{args.name}} with or without spaces, across every string of a metric; unresolved
// placeholders and missing required args named; secret values masked.
#include <catch2/catch.hpp>

#include "analysis/templating.h"

using namespace sluice;
using namespace sluice::analysis;

namespace {

ResolvedArgs argsOf(std::map<std::string, std::string> values) { return ResolvedArgs{std::move(values), {}}; }

}  // namespace

TEST_CASE("placeholders are substituted", "[analysis][templating]") {
  struct Row {
    const char* behaviour;
    std::string text;
    std::string expected;
  };
  const std::vector<Row> rows = {
      {"a plain placeholder", "svc={{args.service}}", "svc=web"},
      {"spaces inside the braces", "svc={{ args.service }}", "svc=web"},
      {"tabs and uneven spaces", "{{\targs.service  }}", "web"},
      {"several placeholders", "{{args.service}}-{{args.ns}}.{{args.service}}", "web-shop.web"},
      {"names with dashes, dots and underscores", "{{args.canary-hash}}/{{args.a.b_c}}", "7a1b/x"},
      {"text without placeholders is unchanged", "sum(rate(x[5m]))", "sum(rate(x[5m]))"},
      {"other double braces are left as written", "{{ .Values.x }} {{args}}", "{{ .Values.x }} {{args}}"},
      {"an unterminated placeholder is left as written", "{{args.service", "{{args.service"},
      {"a value is not templated again", "{{args.loop}}", "{{args.service}}"},
  };
  const ResolvedArgs args = argsOf({{"service", "web"},
                                    {"ns", "shop"},
                                    {"canary-hash", "7a1b"},
                                    {"a.b_c", "x"},
                                    {"loop", "{{args.service}}"}});
  for (const auto& row : rows) {
    INFO(row.behaviour);
    auto out = substituteArgs(row.text, args);
    REQUIRE(out.ok());
    CHECK(*out == row.expected);
  }
}

TEST_CASE("an unresolved placeholder is an error naming the arg", "[analysis][templating]") {
  auto out = substituteArgs("rate{service=\"{{ args.service }}\"}", argsOf({}));
  REQUIRE(!out.ok());
  CHECK(out.error() == "cannot resolve {{ args.service }}: no argument \"service\"");
}

TEST_CASE("args resolve from values and secrets, and a missing required arg is named",
          "[analysis][templating]") {
  SECTION("values and secrets") {
    auto r = resolveArgs({{"a", std::string("1"), std::nullopt, std::nullopt},
                          {"token", std::nullopt, SecretKeyRef{"s", "k"}, std::nullopt}},
                         {{"token", "hunter2"}});
    REQUIRE(r.ok());
    CHECK(r->values == std::map<std::string, std::string>{{"a", "1"}, {"token", "hunter2"}});
    CHECK(r->secrets == std::vector<std::string>{"hunter2"});
  }
  SECTION("a required arg nobody set") {
    auto r = resolveArgs({{"service", std::nullopt, std::nullopt, std::nullopt}}, {});
    REQUIRE(!r.ok());
    CHECK(r.error() == "argument \"service\" has no value: it is required and nothing set it");
  }
  SECTION("an unresolved fieldRef") {
    auto r = resolveArgs({{"env", std::nullopt, std::nullopt, std::string("metadata.labels['env']")}}, {});
    REQUIRE(!r.ok());
    CHECK_THAT(r.error(), Catch::Contains("argument \"env\""));
  }
}

TEST_CASE("secretKeyRef args are read from the Secret's data, or from stringData in a file",
          "[analysis][templating]") {
  const nlohmann::json applied =
      nlohmann::json::parse(R"({"kind": "Secret", "data": {"k": "aHVudGVyMg=="}})");
  const nlohmann::json inFile =
      nlohmann::json::parse(R"({"kind": "Secret", "stringData": {"url": "https://x"}})");
  auto find = [&](const std::string& name) -> const nlohmann::json* {
    if (name == "applied") return &applied;
    if (name == "file") return &inFile;
    return nullptr;
  };
  const std::vector<Argument> args = {{"a", std::string("1"), std::nullopt, std::nullopt},
                                      {"token", std::nullopt, SecretKeyRef{"applied", "k"}, std::nullopt},
                                      {"url", std::nullopt, SecretKeyRef{"file", "url"}, std::nullopt}};
  auto read = readSecretArgs(args, find);
  REQUIRE(read.ok());
  CHECK(*read == SecretValues{{"token", "hunter2"}, {"url", "https://x"}});

  auto noKey = readSecretArgs({{"t", std::nullopt, SecretKeyRef{"applied", "other"}, std::nullopt}}, find);
  REQUIRE_FALSE(noKey.ok());
  CHECK(noKey.error() == "arg \"t\": key \"other\" of Secret \"applied\" not found");
  auto noSecret = readSecretArgs({{"t", std::nullopt, SecretKeyRef{"gone", "k"}, std::nullopt}}, find);
  REQUIRE_FALSE(noSecret.ok());
  CHECK(noSecret.error() == "arg \"t\": key \"k\" of Secret \"gone\" not found");
}

TEST_CASE("every string of a metric is templated", "[analysis][templating]") {
  Metric m;
  m.name = "m";
  m.interval = "{{args.every}}";
  m.initialDelay = "{{ args.delay }}";
  m.count = IntOrString{std::nullopt, "{{args.n}}"};
  m.successCondition = "result[0] >= {{args.threshold}}";
  m.failureCondition = "result[0] < {{args.floor}}";
  m.provider.web = WebMetric{};
  WebMetric& w = *m.provider.web;
  w.url = "https://{{args.host}}/check";
  w.method = "POST";
  w.headers = {{"Authorization", "Bearer {{args.token}}"}};
  w.jsonBody = nlohmann::json{{"service", "{{args.host}}"}, {"tags", {"{{args.n}}"}}};
  w.jsonPath = "{$.{{args.field}}}";
  ResolvedArgs args = argsOf({{"every", "1m"},
                              {"delay", "30s"},
                              {"n", "3"},
                              {"threshold", "0.95"},
                              {"floor", "0.5"},
                              {"host", "web.shop"},
                              {"token", "hunter2"},
                              {"field", "status"}});
  auto r = resolveMetric(m, args);
  INFO((r ? "" : r.error()));
  REQUIRE(r.ok());
  CHECK(r->interval == "1m");
  CHECK(r->initialDelay == "30s");
  CHECK(r->count->resolve().value() == 3);
  CHECK(r->successCondition == "result[0] >= 0.95");
  CHECK(r->failureCondition == "result[0] < 0.5");
  CHECK(r->provider.web->url == "https://web.shop/check");
  CHECK(r->provider.web->headers[0].value == "Bearer hunter2");
  CHECK(r->provider.web->jsonBody == nlohmann::json{{"service", "web.shop"}, {"tags", {"3"}}});
  CHECK(r->provider.web->jsonPath == "{$.status}");

  Metric prom;
  prom.name = "p";
  prom.provider.prometheus = PrometheusMetric{};
  prom.provider.prometheus->address = "http://{{args.host}}:9090";
  prom.provider.prometheus->query = "up{job=\"{{args.host}}\"}";
  prom.provider.prometheus->basicAuth = PrometheusBasicAuth{"{{args.field}}", "{{args.token}}"};
  prom.provider.prometheus->rangeQuery =
      PrometheusRangeQuery{"now() - duration(\"{{args.every}}\")", "now()", "{{args.delay}}"};
  auto p = resolveMetric(prom, args);
  REQUIRE(p.ok());
  CHECK(p->provider.prometheus->address == "http://web.shop:9090");
  CHECK(p->provider.prometheus->query == "up{job=\"web.shop\"}");
  CHECK(p->provider.prometheus->basicAuth == PrometheusBasicAuth{"status", "hunter2"});
  CHECK(p->provider.prometheus->rangeQuery ==
        PrometheusRangeQuery{"now() - duration(\"1m\")", "now()", "30s"});
}

TEST_CASE("secret values are masked in messages", "[analysis][templating]") {
  CHECK(maskSecrets("auth hunter2 failed; hunter2 again", {"hunter2"}) == "auth ***** failed; ***** again");
  CHECK(maskSecrets("nothing to hide", {"hunter2", ""}) == "nothing to hide");
  CHECK(maskSecrets("a=s1 b=s2", {"s1", "s2"}) == "a=***** b=*****");

  SECTION("a metric error carrying a secret is masked") {
    Metric m;
    m.name = "m";
    m.provider.web = WebMetric{};
    m.provider.web->url = "https://x/{{args.token}}/{{args.missing}}";
    ResolvedArgs args{{{"token", "hunter2"}}, {"hunter2"}};
    auto r = resolveMetric(m, args);
    REQUIRE(!r.ok());
    CHECK(r.error() == "metric \"m\": cannot resolve {{args.missing}}: no argument \"missing\"");
    m.provider.web->url = "u";
    m.count = IntOrString{std::nullopt, "{{args.token}}"};
    m.interval = "1m";
    auto c = resolveMetric(m, args);
    REQUIRE(c.ok());  // count is checked when timing is computed
    auto timing = metricTiming(*c);
    REQUIRE(!timing.ok());
    CHECK(maskSecrets(timing.error(), args.secrets).find("hunter2") == std::string::npos);
  }
}
