// Retries of the REST client against a fake API server (a scripted loopback HTTP peer; no credentials, so
// plain http is allowed): 429 is retried for every verb after its Retry-After, 5xx only for reads, and
// the final answer keeps its Status. The fake's Status bodies are shaped as docs/design.md §B.1.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "kube/client.h"
#include "tests/integration/kube_client_env.h"
#include "tests/support/http_peer.h"

using nlohmann::json;
using sluice::testing::HttpPeer;
using sluice::testing::kConfigMaps;
using sluice::testing::PeerReply;
using sluice::testing::PeerRequest;

namespace {

PeerReply reply(int code, const std::string& contentType, std::string body) {
  PeerReply r;
  r.status = code;
  r.headers = {{"Content-Type", contentType}};
  r.body = std::move(body);
  return r;
}

PeerReply status(int code, const std::string& reason, const std::string& message) {
  json body = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
               {"status", "Failure"}, {"message", message}, {"reason", reason},
               {"code", code}};
  return reply(code, "application/json", body.dump());
}

std::unique_ptr<sluice::kube::Client> clientFor(const HttpPeer& peer) {
  sluice::kube::ClientConfig config;
  config.server = peer.url();
  sluice::kube::ClientOptions options;
  options.maxRetries = 2;
  options.retryBase = std::chrono::milliseconds(10);
  auto c = sluice::kube::Client::create(config, options);
  REQUIRE(c.ok());
  return std::move(c).value();
}

const json kCm = {
    {"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "a"}, {"namespace", "default"}}}};

}  // namespace

TEST_CASE("kube client fake server: 429 is retried after Retry-After, also for writes",
          "[kube-client][retry]") {
  std::atomic<int> calls{0};
  HttpPeer peer([&](const PeerRequest&) {
    if (++calls == 1) {
      PeerReply r = status(429, "TooManyRequests", "slow down");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    return reply(201, "application/json", kCm.dump());
  });
  auto client = clientFor(peer);
  auto start = std::chrono::steady_clock::now();
  auto created = client->create(kConfigMaps, "default", kCm);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(created.ok());
  auto requests = peer.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[1].method == "POST");
  CHECK(requests[1].body == requests[0].body);
  CHECK(took >= std::chrono::milliseconds(900));  // waited the second the server asked for
}

TEST_CASE("kube client fake server: 5xx retried for reads only, the last Status kept",
          "[kube-client][retry]") {
  HttpPeer peer([&](const PeerRequest&) { return status(503, "ServiceUnavailable", "etcd is sulking"); });
  auto client = clientFor(peer);
  auto got = client->get(kConfigMaps, "default", "a");
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().code == 503);
  CHECK(got.error().message == "etcd is sulking");
  CHECK(peer.requests().size() == 3);  // the first attempt and maxRetries = 2

  auto created = client->create(kConfigMaps, "default", kCm);
  REQUIRE_FALSE(created.ok());
  CHECK(created.error().code == 503);
  CHECK(peer.requests().size() == 4);  // a POST is not repeated: it may have been applied

  auto deleted = client->remove(kConfigMaps, "default", "a");
  REQUIRE_FALSE(deleted.ok());
  CHECK(peer.requests().size() == 5);  // nor a delete without preconditions
  sluice::kube::DeleteOptions pre;
  pre.preconditionUid = "u-1";
  REQUIRE_FALSE(client->remove(kConfigMaps, "default", "a", pre).ok());
  CHECK(peer.requests().size() == 8);  // a preconditioned delete is safe to repeat
}

TEST_CASE("kube client fake server: a non-Status error body still gets a reason from its code",
          "[kube-client][retry]") {
  HttpPeer peer([&](const PeerRequest&) { return reply(404, "text/plain", "404 page not found"); });
  auto client = clientFor(peer);
  auto got = client->get(kConfigMaps, "default", "a");
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().isNotFound());
  CHECK(got.error().message == "404 page not found");
  CHECK(peer.requests().size() == 1);
}

TEST_CASE("kube client fake server: an eviction a PodDisruptionBudget refuses (429) is answered at once",
          "[kube-client][retry]") {
  HttpPeer peer([&](const PeerRequest&) {
    PeerReply r =
        status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.");
    r.headers.emplace_back("Retry-After", "10");
    return r;
  });
  auto client = clientFor(peer);
  const sluice::kube::ResourceRef pods{"", "v1", "pods", true, "Pod"};
  const json eviction = {{"apiVersion", "policy/v1"},
                         {"kind", "Eviction"},
                         {"metadata", {{"name", "web-1"}, {"namespace", "default"}}}};
  auto start = std::chrono::steady_clock::now();
  auto evicted = client->createSubresource(pods, "default", "web-1", "eviction", eviction);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(evicted.ok());
  CHECK(evicted.error().isTooManyRequests());
  auto requests = peer.requests();
  REQUIRE(requests.size() == 1);  // not retried: the caller asks again on a later reconcile
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].path == "/api/v1/namespaces/default/pods/web-1/eviction");
  CHECK(json::parse(requests[0].body) == eviction);
  CHECK(took < std::chrono::seconds(5));  // the server's Retry-After was not waited out
}
