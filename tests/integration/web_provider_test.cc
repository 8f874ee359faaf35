// The web provider against the scripted loopback peer (a fake web metric service): what it sends, how the
// jsonPath picks the result, and the errors for a miss, a non-2xx status and a timeout.
#include <catch2/catch.hpp>
#include <chrono>

#include "analysis/providers/providers.h"
#include "tests/support/http_peer.h"

using namespace sluice;
using namespace sluice::analysis;
using sluice::testing::HttpPeer;
using sluice::testing::PeerReply;
using sluice::testing::PeerRequest;

namespace {

const char* kDoc = R"({"data":{"ratio":0.99,"ok":true,"none":null,"status":"green","latencies":[120,80.5]},
  "items":[{"name":"a","x":3},{"name":"b","x":4}]})";

Metric webMetric(const std::string& url, const std::string& jsonPath) {
  Metric m;
  m.name = "web";
  m.provider.web = WebMetric{};
  m.provider.web->url = url;
  m.provider.web->jsonPath = jsonPath;
  return m;
}

PeerReply answer(const PeerRequest& r) {
  PeerReply reply;
  if (r.path == "/text") {
    reply.body = "all good";
  } else if (r.path == "/busy") {
    reply.status = 503;
    reply.body = "overloaded, retry later";
  } else if (r.path == "/echo") {
    reply.headers = {{"Content-Type", "application/json"}};
    reply.body = r.body;
  } else if (r.path == "/slow") {
    reply.neverAnswer = true;
  } else {
    reply.headers = {{"Content-Type", "application/json"}};
    reply.body = kDoc;
  }
  return reply;
}

}  // namespace

TEST_CASE("web provider turns the first jsonPath match into the result (fake peer)", "[web][provider]") {
  HttpPeer peer(answer);
  auto provider = makeProvider();
  struct Row {
    const char* jsonPath;
    Value::Kind kind;
    const char* text;
  };
  const Row rows[] = {
      {"{$.data.ratio}", Value::Kind::kNumber, "0.99"},
      {"{.data.ok}", Value::Kind::kBool, "true"},
      {"{$.data.none}", Value::Kind::kNil, "null"},
      {"{$.data.status}", Value::Kind::kString, "green"},
      {"{$.data.latencies}", Value::Kind::kVector, "[120,80.5]"},
      {"{$.data.latencies[-1]}", Value::Kind::kNumber, "80.5"},
      {"{$.items[*].x}", Value::Kind::kNumber, "3"},  // several matches: the first
      {"{$.items[1]['name']}", Value::Kind::kString, "b"},
  };
  for (const Row& row : rows) {
    INFO(row.jsonPath);
    auto r = provider->measure(webMetric(peer.url("/metrics"), row.jsonPath), timeFromUnix(0));
    REQUIRE(r.ok());
    CHECK(r->value.kind() == row.kind);
    CHECK(r->text == row.text);
    CHECK(r->metadata.at("url") == peer.url("/metrics"));
  }
  auto ratio = provider->measure(webMetric(peer.url("/metrics"), "{$.data.ratio}"), timeFromUnix(0));
  REQUIRE(ratio.ok());
  CHECK(ratio->value.asNumber() == 0.99);

  // The default jsonPath {$} is the whole document: an object, whose members a condition reads.
  auto whole = provider->measure(webMetric(peer.url("/metrics"), ""), timeFromUnix(0));
  REQUIRE(whole.ok());
  REQUIRE(whole->value.kind() == Value::Kind::kObject);
  const ObjectMember* data = whole->value.member("data");
  REQUIRE(data != nullptr);
  REQUIRE(data->value.kind() == Value::Kind::kObject);
  CHECK(data->value.member("ratio")->value.asNumber() == 0.99);
  CHECK(data->value.member("latencies")->value.asVector() == std::vector<double>{120, 80.5});
  // A list holding objects is a list of values, its elements read by index: result[1].name.
  auto items = provider->measure(webMetric(peer.url("/metrics"), "{$.items}"), timeFromUnix(0));
  REQUIRE(items.ok());
  REQUIRE(items->value.kind() == Value::Kind::kList);
  REQUIRE(items->value.asList().size() == 2);
  CHECK(items->value.asList()[1].member("name")->value.asString() == "b");
  CHECK(items->text == R"([{"name":"a","x":3},{"name":"b","x":4}])");
}

TEST_CASE("web provider errors: a jsonPath miss, a bad jsonPath, non-2xx, timeout (fake peer)",
          "[web][provider]") {
  HttpPeer peer(answer);
  auto provider = makeProvider();

  auto miss = provider->measure(webMetric(peer.url("/metrics"), "{$.data.missing}"), timeFromUnix(0));
  REQUIRE_FALSE(miss.ok());
  CHECK_THAT(miss.error(), Catch::StartsWith("jsonPath {$.data.missing} matched nothing in the answer of " +
                                             peer.url("/metrics") + ": {\"data\":{\"ratio\":0.99,"));

  auto bad = provider->measure(webMetric(peer.url("/metrics"), "{$.data[0:2]}"), timeFromUnix(0));
  REQUIRE_FALSE(bad.ok());
  CHECK(
      bad.error() ==
      R"(provider.web.jsonPath: jsonPath "{$.data[0:2]}" at position 10: slices and unions are not supported)");

  auto busy = provider->measure(webMetric(peer.url("/busy"), "{$}"), timeFromUnix(0));
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.error() == "GET " + peer.url("/busy") + " answered HTTP 503: overloaded, retry later");

  Metric slow = webMetric(peer.url("/slow"), "{$}");
  slow.provider.web->timeoutSeconds = 1;
  auto started = std::chrono::steady_clock::now();
  auto timedOut = provider->measure(slow, timeFromUnix(0));
  REQUIRE_FALSE(timedOut.ok());
  CHECK_THAT(timedOut.error(),
             Catch::StartsWith("GET " + peer.url("/slow") + ": no complete answer within 1000 ms"));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));

  Metric patch = webMetric(peer.url("/metrics"), "{$}");
  patch.provider.web->method = "PATCH";
  auto refused = provider->measure(patch, timeFromUnix(0));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error() == R"(provider.web.method "PATCH" is not supported: use GET, POST or PUT)");
}

TEST_CASE("web provider: a body that is not JSON is a string result (fake peer)", "[web][provider]") {
  HttpPeer peer(answer);
  auto r = makeProvider()->measure(webMetric(peer.url("/text"), "{$.ignored}"), timeFromUnix(0));
  REQUIRE(r.ok());
  REQUIRE(r->value.kind() == Value::Kind::kString);
  CHECK(r->value.asString() == "all good");
  CHECK(r->text == "all good");
}

TEST_CASE("web provider POSTs a jsonBody as application/json with the headers given (fake peer)",
          "[web][provider]") {
  HttpPeer peer(answer);
  Metric m = webMetric(peer.url("/echo"), "{$.threshold}");
  m.provider.web->method = "POST";
  m.provider.web->headers = {{"Authorization", "Bearer t0ken"}};
  m.provider.web->jsonBody = nlohmann::json{{"service", "checkout"}, {"threshold", 0.95}};
  auto r = makeProvider()->measure(m, timeFromUnix(0));
  REQUIRE(r.ok());
  CHECK(r->value.asNumber() == 0.95);  // the peer echoes the body back
  CHECK(r->metadata.at("method") == "POST");

  auto seen = peer.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].body == R"({"service":"checkout","threshold":0.95})");
  REQUIRE(seen[0].header("Content-Type") != nullptr);
  CHECK(*seen[0].header("Content-Type") == "application/json");
  CHECK(*seen[0].header("Authorization") == "Bearer t0ken");

  Metric put = webMetric(peer.url("/echo"), "{$}");
  put.provider.web->method = "PUT";
  put.provider.web->body = "plain text body";
  auto echoed = makeProvider()->measure(put, timeFromUnix(0));
  REQUIRE(echoed.ok());
  CHECK(echoed->value.asString() == "plain text body");
  CHECK(peer.requests().back().method == "PUT");

  Metric getWithBody = webMetric(peer.url("/echo"), "{$}");
  getWithBody.provider.web->body = "x";
  auto refused = makeProvider()->measure(getWithBody, timeFromUnix(0));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error() == "provider.web: a GET request has no body; use POST or PUT to send one");
}
