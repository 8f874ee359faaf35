// net::HttpClient against the scripted loopback peer: what goes on the wire, and how each way an exchange
// can fail comes back as a Failure of the right kind with a message naming the URL.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "net/http_client.h"
#include "tests/support/http_peer.h"
#include "tests/support/process.h"

using sluice::net::FailureKind;
using sluice::net::HttpClient;
using sluice::net::Request;
using sluice::testing::HttpPeer;
using sluice::testing::PeerReply;
using sluice::testing::PeerRequest;
using namespace std::chrono_literals;

TEST_CASE("http client returns the status, headers and body of any status", "[net][http]") {
  HttpPeer peer([](const PeerRequest& r) {
    PeerReply reply;
    reply.status = r.path == "/missing" ? 404 : 200;
    reply.headers = {{"X-Answer", "42"}, {"Content-Type", "text/plain"}};
    reply.body = "hello from " + r.path;
    return reply;
  });
  HttpClient client;
  Request request;
  request.url = peer.url("/greeting");
  auto outcome = client.send(request);
  REQUIRE(outcome.ok());
  CHECK(outcome.response().status == 200);
  CHECK(outcome.response().body == "hello from /greeting");
  REQUIRE(outcome.response().header("x-answer") != nullptr);
  CHECK(*outcome.response().header("x-answer") == "42");
  CHECK(outcome.response().header("x-absent") == nullptr);

  request.url = peer.url("/missing");
  auto missing = client.send(request);
  REQUIRE(missing.ok());
  CHECK(missing.response().status == 404);
  CHECK(missing.response().body == "hello from /missing");
  // Both requests went over one kept-alive connection.
  auto seen = peer.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].connection == seen[1].connection);
  CHECK(peer.connectionsAccepted() == 1);
}

TEST_CASE("http client sends the method, query, headers and basic auth asked for", "[net][http]") {
  HttpPeer peer([](const PeerRequest&) { return PeerReply{}; });
  HttpClient client;
  Request request;
  request.url = peer.url("/api/v1/query?query=" + sluice::net::urlEncode("sum(rate(x{a=\"b c\"}[5m]))"));
  request.headers = {{"X-Scope-OrgID", "tenant-1"}, {"Authorization", "Bearer abc"}};
  REQUIRE(client.send(request).ok());
  request.url = peer.url("/other");
  request.headers = {};
  request.basicAuth = std::make_pair(std::string("ann"), std::string("s3cret"));
  REQUIRE(client.send(request).ok());

  auto seen = peer.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].method == "GET");
  CHECK(seen[0].path == "/api/v1/query");
  CHECK(seen[0].query == "query=sum%28rate%28x%7Ba%3D%22b%20c%22%7D%5B5m%5D%29%29");
  REQUIRE(seen[0].header("x-scope-orgid") != nullptr);
  CHECK(*seen[0].header("x-scope-orgid") == "tenant-1");
  CHECK(*seen[0].header("authorization") == "Bearer abc");
  REQUIRE(seen[1].header("authorization") != nullptr);
  CHECK(*seen[1].header("authorization") == "Basic YW5uOnMzY3JldA==");  // base64("ann:s3cret")
}

TEST_CASE("http client sends POST and PUT bodies", "[net][http]") {
  HttpPeer peer([](const PeerRequest& r) {
    PeerReply reply;
    reply.status = 201;
    reply.body = "got " + std::to_string(r.body.size()) + " bytes";
    return reply;
  });
  HttpClient client;
  Request request;
  request.method = "POST";
  request.url = peer.url("/submit");
  request.headers = {{"Content-Type", "application/json"}};
  request.body = R"({"ratio":0.99})";
  auto posted = client.send(request);
  REQUIRE(posted.ok());
  CHECK(posted.response().status == 201);
  CHECK(posted.response().body == "got 14 bytes");

  request.method = "PUT";
  request.body = std::string(200000, 'b');  // large enough that libcurl would otherwise wait for 100-continue
  auto put = client.send(request);
  REQUIRE(put.ok());
  CHECK(put.response().body == "got 200000 bytes");

  auto seen = peer.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].body == R"({"ratio":0.99})");
  CHECK(*seen[0].header("content-type") == "application/json");
  CHECK(seen[1].method == "PUT");
  CHECK(seen[1].body.size() == 200000);
}

TEST_CASE("http client gives up on a silent peer with a timeout failure", "[net][http]") {
  HttpPeer peer([](const PeerRequest&) {
    PeerReply reply;
    reply.neverAnswer = true;
    return reply;
  });
  HttpClient client;
  Request request;
  request.url = peer.url("/slow");
  request.timeout = 300ms;
  auto started = std::chrono::steady_clock::now();
  auto outcome = client.send(request);
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(outcome.ok());
  CHECK(outcome.failure().kind == FailureKind::kTimeout);
  CHECK_THAT(outcome.failure().message,
             Catch::StartsWith("GET " + peer.url("/slow") + ": no complete answer within 300 ms"));
  CHECK(took < 3s);
}

TEST_CASE("http client reports a closed port as unreachable", "[net][http]") {
  int port = sluice::testing::freeLoopbackPort();  // nothing listens there any more
  HttpClient client;
  Request request;
  request.url = "http://user:pw@127.0.0.1:" + std::to_string(port) + "/api";
  auto outcome = client.send(request);
  REQUIRE_FALSE(outcome.ok());
  CHECK(outcome.failure().kind == FailureKind::kUnreachable);
  std::string shown = "http://127.0.0.1:" + std::to_string(port) + "/api";
  CHECK_THAT(outcome.failure().message, Catch::StartsWith("GET " + shown + ": could not connect"));
  CHECK_THAT(outcome.failure().message, !Catch::Contains("pw"));  // credentials never shown
}

TEST_CASE("http client refuses a body over the limit", "[net][http]") {
  HttpPeer peer([](const PeerRequest& r) {
    PeerReply reply;
    if (r.path == "/chunked") {
      reply.chunks = {std::string(3000, 'a'), std::string(3000, 'b')};  // no length announced
    } else {
      reply.fillerBytes = 5000;
    }
    return reply;
  });
  HttpClient client;
  Request request;
  request.maxResponseBytes = 4096;
  for (const char* path : {"/sized", "/chunked"}) {
    request.url = peer.url(path);
    auto outcome = client.send(request);
    INFO(path);
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.failure().kind == FailureKind::kTooLarge);
    CHECK(outcome.failure().message ==
          "GET " + peer.url(path) + ": the response is larger than the limit of 4096 bytes");
  }
  request.maxResponseBytes = 6000;
  request.url = peer.url("/chunked");
  auto fits = client.send(request);
  REQUIRE(fits.ok());
  CHECK(fits.response().body.size() == 6000);
}

TEST_CASE("http client streams chunks as they arrive and stops when asked", "[net][http][stream]") {
  HttpPeer peer([](const PeerRequest& r) {
    PeerReply reply;
    reply.chunks = {"line 1\n", "line 2\n", "line 3\n"};
    reply.chunkDelay = 50ms;
    reply.holdStreamOpen = r.path == "/watch";  // a watch never ends by itself
    return reply;
  });
  HttpClient client;
  Request request;
  request.timeout = 0ms;

  request.url = peer.url("/finite");
  std::string all;
  int pieces = 0;
  auto finite = client.stream(request, [&](std::string_view data) {
    all += data;
    ++pieces;
    return true;
  });
  REQUIRE(finite.ok());
  CHECK(finite.response().status == 200);
  CHECK(all == "line 1\nline 2\nline 3\n");
  CHECK(pieces == 3);  // the chunks came 50 ms apart, each delivered on its own
  CHECK(finite.response().body.empty());

  request.url = peer.url("/watch");
  std::string seen;
  auto stopped = client.stream(request, [&](std::string_view data) {
    seen += data;
    return seen.find("line 2") == std::string::npos;  // stop after the second line
  });
  REQUIRE(stopped.ok());
  CHECK(stopped.response().status == 200);
  CHECK(seen == "line 1\nline 2\n");
}

TEST_CASE("http client ends a quiet stream at once when cancelled from another thread",
          "[net][http][stream]") {
  HttpPeer peer([](const PeerRequest&) {
    PeerReply reply;
    reply.chunks = {"line 1\n"};
    reply.holdStreamOpen = true;  // then silence: only a cancel can end the exchange
    return reply;
  });
  HttpClient client;
  Request request;
  request.url = peer.url("/watch");
  // Without a working cancel the exchange would end by this timeout, as a failure.
  request.timeout = 30s;
  sluice::net::Cancellation cancel;
  std::atomic<bool> gotFirst{false};
  bool firstCameInTime = false;  // Catch2's assertions are not for other threads: checked after join
  std::thread canceller([&] {
    firstCameInTime = sluice::testing::waitUntil([&] { return gotFirst.load(); }, 10s);
    cancel.cancel();
  });
  std::string seen;
  auto outcome = client.stream(
      request,
      [&](std::string_view data) {
        seen += data;
        gotFirst = true;
        return true;
      },
      &cancel);
  canceller.join();
  CHECK(firstCameInTime);
  REQUIRE(outcome.ok());  // cancelled, not timed out
  CHECK(outcome.response().status == 200);
  CHECK(seen == "line 1\n");
  CHECK(cancel.cancelled());
  CHECK(peer.connectionsAccepted() == 1);

  // A cancelled handle stays cancelled: a stream that uses it ends before sending anything.
  auto again = client.stream(
      request, [&](std::string_view) { return true; }, &cancel);
  REQUIRE(again.ok());
  CHECK(peer.requests().size() == 1);
}

TEST_CASE("urlEncode keeps unreserved characters only", "[net][http]") {
  CHECK(sluice::net::urlEncode("aZ09-_.~") == "aZ09-_.~");
  CHECK(sluice::net::urlEncode("a b+c/d?e=f&g") == "a%20b%2Bc%2Fd%3Fe%3Df%26g");
  CHECK(sluice::net::urlEncode("é") == "%C3%A9");
  CHECK(sluice::net::urlEncode("").empty());
}
