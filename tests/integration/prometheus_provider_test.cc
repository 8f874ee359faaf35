// The Prometheus provider against a real Prometheus serving the standard history (values from real
// PromQL: rate, sum by, histogram_quantile, staleness, NaN), one scraping a live prometheus-cpp exporter,
// and the ways a measurement fails, each with a message a person can act on.
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <sstream>

#include "analysis/providers/prometheus_api.h"
#include "analysis/providers/providers.h"
#include "tests/support/http_peer.h"
#include "tests/support/process.h"
#include "tests/support/prometheus_harness.h"

using namespace sluice;
using namespace sluice::analysis;
using sluice::testing::HttpPeer;
using sluice::testing::PeerReply;
using sluice::testing::PeerRequest;
using sluice::testing::PrometheusHarness;
using sluice::testing::StandardHistory;

namespace {

std::string standardHistoryText(const StandardHistory& h) {
  std::ostringstream out;
  sluice::testing::writeStandardHistory(out, h);
  return out.str();
}

Metric prometheusMetric(const std::string& address, const std::string& query) {
  Metric m;
  m.name = "m";
  m.provider.prometheus = PrometheusMetric{};
  m.provider.prometheus->address = address;
  m.provider.prometheus->query = query;
  return m;
}

std::vector<double> vectorOf(const ProviderResult& r) {
  REQUIRE(r.value.kind() == Value::Kind::kVector);
  return r.value.asVector();
}

const char* kRatio =
    R"(sum(rate(http_requests_total{service="%s",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="%s"}[5m])))";

std::string ratioQuery(const std::string& service) {
  char q[512];
  std::snprintf(q, sizeof(q), kRatio, service.c_str(), service.c_str());
  return q;
}

}  // namespace

TEST_CASE("prometheus provider measures the standard history with real PromQL", "[prometheus][provider]") {
  StandardHistory h;
  testing::PrometheusOptions options;
  options.openMetrics = standardHistoryText(h);
  PrometheusHarness prometheus(options);
  auto provider = makeProvider();
  auto measure = [&](const std::string& query, int minute) {
    auto r = provider->measure(prometheusMetric(prometheus.address(), query), h.at(minute));
    INFO(query << " at minute " << minute);
    INFO((r ? std::string() : r.error()));
    REQUIRE(r.ok());
    return *r;
  };

  SECTION("5xx ratios before and after the degrading minute") {
    auto healthy = vectorOf(measure(ratioQuery("healthy"), 60));
    REQUIRE(healthy.size() == 1);
    CHECK(healthy[0] == Approx(testing::kHealthyErrorRatio).epsilon(1e-9));

    auto before = measure(ratioQuery("degrading"), h.degradeAtMinute - 10);
    REQUIRE(vectorOf(before).size() == 1);
    CHECK(vectorOf(before)[0] == Approx(testing::kDegradingErrorRatioBefore).epsilon(1e-9));
    CHECK(before.text == "[" + formatSampleValue(vectorOf(before)[0]) + "]");
    CHECK(before.metadata.at("query") == ratioQuery("degrading"));

    auto after = vectorOf(measure(ratioQuery("degrading"), h.degradeAtMinute + 10));
    REQUIRE(after.size() == 1);
    CHECK(after[0] == Approx(testing::kDegradingErrorRatioAfter).epsilon(1e-9));
  }

  SECTION("sum by code gives one value per code, labels dropped") {
    auto r = measure(R"(sum by (code) (rate(http_requests_total{service="healthy"}[5m])))", 60);
    auto values = vectorOf(r);
    REQUIRE(values.size() == 2);
    std::sort(values.begin(), values.end());
    CHECK(values[0] == Approx(1.0 / 60));
    CHECK(values[1] == Approx(999.0 / 60));
  }

  SECTION("histogram_quantile agrees with the quantile computed from the buckets") {
    auto r = measure(
        R"(histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="healthy"}[5m]))))",
        90);
    auto values = vectorOf(r);
    REQUIRE(values.size() == 1);
    CHECK(values[0] == Approx(testing::standardHistogramQuantile(0.99)));
    CHECK(values[0] == Approx(0.25 + 0.25 * 10 / 15));  // rank 990 of 1000, inside the (0.25, 0.5] bucket
  }

  SECTION("a scalar query is a number") {
    auto r = measure(R"(scalar(sum(rate(http_requests_total{service="healthy"}[5m]))))", 60);
    REQUIRE(r.value.kind() == Value::Kind::kNumber);
    CHECK(r.value.asNumber() == Approx(1000.0 / 60));
    CHECK(measure("1 + 1", 60).text == "2");
  }

  SECTION("the flaky gauge gives a value, NaN, and nothing in its gap") {
    auto normal = measure("flaky_gauge", 10);
    CHECK(normal.text == "[0.5]");
    auto nan = measure("flaky_gauge", 45);
    REQUIRE(vectorOf(nan).size() == 1);
    CHECK(std::isnan(vectorOf(nan)[0]));
    CHECK(nan.text == "[NaN]");
    auto gap = measure("flaky_gauge", 30);  // 11 minutes after the last sample: past the 5-minute lookback
    CHECK(vectorOf(gap).empty());
    CHECK(gap.text == "[]");
    auto inf = measure("flaky_gauge / 0", 10);
    CHECK(inf.text == "[+Inf]");
  }

  SECTION("a range query flattens the matrix, series after series") {
    Metric m = prometheusMetric(prometheus.address(), "flaky_gauge");
    m.provider.prometheus->rangeQuery = PrometheusRangeQuery{R"(now() - duration("10m"))", "now()", "1m"};
    auto r = provider->measure(m, h.at(50));
    REQUIRE(r.ok());
    CHECK(r->text == "[0.5,0.5,0.5,0.5,0.5,NaN,0.5,0.5,0.5,0.5,0.5]");
    CHECK(vectorOf(*r).size() == 11);
    CHECK(r->metadata.at("rangeQuery") ==
          "start=" + formatRfc3339(h.at(40)) + " end=" + formatRfc3339(h.at(50)) + " step=1m");

    Metric two = prometheusMetric(prometheus.address(),
                                  R"(sum by (code) (rate(http_requests_total{service="healthy"}[5m])))");
    two.provider.prometheus->rangeQuery = PrometheusRangeQuery{R"(now() - duration("2m"))", "now()", "60s"};
    auto both = provider->measure(two, h.at(60));
    REQUIRE(both.ok());
    auto values = vectorOf(*both);
    REQUIRE(values.size() == 6);
    for (int i = 0; i < 3; ++i) CHECK(values[i] == Approx(999.0 / 60));  // code="200" sorts first
    for (int i = 3; i < 6; ++i) CHECK(values[i] == Approx(1.0 / 60));
  }

  SECTION("an unsupported range expression is refused before any query") {
    Metric m = prometheusMetric(prometheus.address(), "flaky_gauge");
    m.provider.prometheus->rangeQuery = PrometheusRangeQuery{"now() - 5m", "now()", "1m"};
    auto r = provider->measure(m, h.at(50));
    REQUIRE_FALSE(r.ok());
    CHECK(
        r.error() ==
        R"(provider.prometheus.rangeQuery.start: time expression "now() - 5m" is not supported: write now(), )"
        R"(now() - duration("5m") or now() + duration("5m"))");
  }

  SECTION("a PromQL syntax error carries Prometheus's own text") {
    auto r = provider->measure(prometheusMetric(prometheus.address(), "sum(rate(http_requests_total[5m])"),
                               h.at(60));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == "Prometheus at " + prometheus.address() +
                           " answered HTTP 400 (bad_data): invalid parameter \"query\": 1:34: parse error: "
                           "unclosed left parenthesis");
  }

  SECTION("a string result is an error") {
    auto r = provider->measure(prometheusMetric(prometheus.address(), R"("ok")"), h.at(60));
    REQUIRE_FALSE(r.ok());
    CHECK(
        r.error() ==
        R"(Prometheus returned a string ("ok"), not a number; conditions need a scalar, vector or matrix result)");
  }
}

TEST_CASE("prometheus provider sees a counter that Prometheus scrapes from a live exporter",
          "[prometheus][provider][scrape]") {
  int exporterPort = testing::freeLoopbackPort();
  prometheus::Exposer exposer("127.0.0.1:" + std::to_string(exporterPort));
  auto registry = std::make_shared<prometheus::Registry>();
  auto& family =
      prometheus::BuildCounter().Name("sluice_test_events_total").Help("events").Register(*registry);
  auto& counter = family.Add({{"kind", "deploy"}});
  exposer.RegisterCollectable(registry);

  testing::PrometheusOptions options;
  options.scrapeTargets = {"127.0.0.1:" + std::to_string(exporterPort)};
  PrometheusHarness prometheus(options);
  auto provider = makeProvider();
  Metric m = prometheusMetric(prometheus.address(), R"(sluice_test_events_total{kind="deploy"})");

  auto seen = [&](double expected) {
    return testing::waitUntil(
        [&] {
          auto now = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
          auto r = provider->measure(m, now);
          return r.ok() && r->value.kind() == Value::Kind::kVector && r->value.asVector().size() == 1 &&
                 r->value.asVector()[0] == expected;
        },
        std::chrono::seconds(30));
  };
  counter.Increment(7);
  INFO(prometheus.log());
  CHECK(seen(7));
  counter.Increment(5);
  CHECK(seen(12));
}

TEST_CASE("prometheus provider errors say what went wrong and where", "[prometheus][provider][errors]") {
  auto provider = makeProvider();

  SECTION("unreachable address") {
    int port = testing::freeLoopbackPort();
    std::string address = "http://127.0.0.1:" + std::to_string(port);
    auto r = provider->measure(prometheusMetric(address, "up"), timeFromUnix(1790812800));
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error(),
               Catch::StartsWith("cannot reach Prometheus at " + address + ": could not connect ("));
  }

  SECTION("no address at all") {
    auto r = provider->measure(prometheusMetric("", "up"), timeFromUnix(1790812800));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() ==
          "the Prometheus address is not configured: set provider.prometheus.address (or "
          "ARGO_ROLLOUTS_PROMETHEUS_ADDRESS)");
  }

  SECTION("a Prometheus that never answers, with a 1 s timeout") {
    HttpPeer peer([](const PeerRequest&) {
      PeerReply reply;
      reply.neverAnswer = true;
      return reply;
    });
    Metric m = prometheusMetric(peer.url(), "up");
    m.provider.prometheus->timeout = 1;
    auto started = std::chrono::steady_clock::now();
    auto r = provider->measure(m, timeFromUnix(1790812800));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == "Prometheus at " + peer.url() + " did not answer within the timeout of 1s");
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  }

  SECTION("a 500 with a body that is not the API's JSON (fake peer)") {
    HttpPeer peer([](const PeerRequest&) {
      PeerReply reply;
      reply.status = 500;
      reply.body = "upstream connect error\n";
      return reply;
    });
    auto r = provider->measure(prometheusMetric(peer.url(), "up"), timeFromUnix(1790812800));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() ==
          "Prometheus at " + peer.url() +
              " answered HTTP 500 with a body that is not a Prometheus API answer: upstream connect error ");
  }

  SECTION("a 503 with the API's error envelope (fake peer, format of the HTTP API docs)") {
    HttpPeer peer([](const PeerRequest&) {
      PeerReply reply;
      reply.status = 503;
      reply.headers = {{"Content-Type", "application/json"}};
      reply.body =
          R"({"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"})";
      return reply;
    });
    auto r = provider->measure(prometheusMetric(peer.url(), "up"), timeFromUnix(1790812800));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == "Prometheus at " + peer.url() +
                           " answered HTTP 503 (timeout): query timed out in expression evaluation");
  }

  SECTION("an oversized answer (fake peer)") {
    HttpPeer peer([](const PeerRequest&) {
      PeerReply reply;
      reply.fillerBytes = kPrometheusMaxResponseBytes + 1;
      return reply;
    });
    auto r = provider->measure(prometheusMetric(peer.url(), "up"), timeFromUnix(1790812800));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() ==
          "the answer of Prometheus at " + peer.url() +
              " is larger than 16 MiB; aggregate the query (sum, topk) so it selects fewer series");
  }
}

TEST_CASE(
    "prometheus provider sends the path prefix, time, headers and basic auth, and keeps warnings (fake peer)",
    "[prometheus][provider]") {
  HttpPeer peer([](const PeerRequest&) {
    PeerReply reply;
    reply.headers = {{"Content-Type", "application/json"}};
    // The documented envelope of GET /api/v1/query, with a warning as a partial answer carries one.
    reply.body = R"({"status":"success","data":{"resultType":"vector","result":[)"
                 R"({"metric":{"code":"200"},"value":[1790816400,"0.97"]},)"
                 R"({"metric":{"code":"500"},"value":[1790816400,"NaN"]}]},)"
                 R"("warnings":["remote read of store-b failed"]})";
    return reply;
  });
  Metric m = prometheusMetric(peer.url("/prom/"), R"(sum by (code) (rate(x{a="b c"}[5m])))");
  m.provider.prometheus->headers = {{"X-Scope-OrgID", "team-a"}};
  m.provider.prometheus->basicAuth = PrometheusBasicAuth{"ann", "s3cret"};
  auto provider = makeProvider();
  auto r = provider->measure(m, timeFromUnix(1790816400));
  REQUIRE(r.ok());
  CHECK(r->text == "[0.97,NaN]");
  CHECK(r->metadata.at("warnings") == "remote read of store-b failed");

  auto seen = peer.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "GET");
  CHECK(seen[0].path == "/prom/api/v1/query");
  CHECK(seen[0].query ==
        "query=sum%20by%20%28code%29%20%28rate%28x%7Ba%3D%22b%20c%22%7D%5B5m%5D%29%29&time=1790816400");
  REQUIRE(seen[0].header("X-Scope-OrgID") != nullptr);
  CHECK(*seen[0].header("X-Scope-OrgID") == "team-a");
  REQUIRE(seen[0].header("Authorization") != nullptr);
  CHECK(*seen[0].header("Authorization") == "Basic YW5uOnMzY3JldA==");

  // A second measurement reuses the connection.
  REQUIRE(provider->measure(m, timeFromUnix(1790816460)).ok());
  CHECK(peer.connectionsAccepted() == 1);
}
