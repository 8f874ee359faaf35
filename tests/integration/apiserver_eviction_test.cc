// The embedded API server's pods/eviction subresource through the Sluice client over HTTPS (kubectl has
// no eviction verb): an eviction deletes the pod and answers the real server's 201 Status, its
// ReplicaSet replaces the pod, and bad requests get the real server's errors.
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/time.h"
#include "tests/integration/kube_client_env.h"

using nlohmann::json;
using sluice::testing::KubeServer;

namespace {

const sluice::kube::ResourceRef kPods{"", "v1", "pods", true, "Pod"};
const sluice::kube::ResourceRef kReplicaSets{"apps", "v1", "replicasets", true, "ReplicaSet"};

json pod(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "nginx:1.25"}}})}}}};
}

json eviction(const std::string& name) {
  return {{"apiVersion", "policy/v1"},
          {"kind", "Eviction"},
          {"metadata", {{"name", name}, {"namespace", "default"}}}};
}

bool ready(const json& p) {
  for (const auto& c : p.value(json::json_pointer("/status/conditions"), json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

// The pods labelled app=web, polled every 50 ms until `done` holds or 20 s pass.
template <typename Pred>
json waitPods(sluice::kube::Client& client, Pred done) {
  sluice::kube::ListOptions options;
  options.labelSelector = "app=web";
  json items = json::array();
  for (int i = 0; i < 400; ++i) {
    auto list = client.list(kPods, "default", options);
    REQUIRE(list.ok());
    items = (*list)["items"];
    if (done(items)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return items;
}

}  // namespace

TEST_CASE("apiserver: an eviction deletes the pod with a 201 Success Status", "[apiserver][eviction]") {
  KubeServer server({}, /*workloadControllers=*/false);
  auto client = server.client();
  REQUIRE(client->create(kPods, "default", pod("lonely")).ok());

  SECTION("the pod is gone") {
    auto evicted = client->createSubresource(kPods, "default", "lonely", "eviction", eviction("lonely"));
    INFO((evicted ? evicted->dump() : evicted.error().describe()));
    REQUIRE(evicted.ok());
    CHECK(*evicted == json{{"kind", "Status"},
                           {"apiVersion", "v1"},
                           {"metadata", json::object()},
                           {"status", "Success"},
                           {"code", 201}});
    CHECK(client->get(kPods, "default", "lonely").error().isNotFound());
  }
  SECTION("dry run evicts nothing") {
    sluice::kube::WriteOptions dryRun;
    dryRun.dryRun = true;
    REQUIRE(
        client->createSubresource(kPods, "default", "lonely", "eviction", eviction("lonely"), dryRun).ok());
    CHECK(client->get(kPods, "default", "lonely").ok());
  }
  SECTION("errors as the real server answers them") {
    auto missing = client->createSubresource(kPods, "default", "ghost", "eviction", eviction("ghost"));
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().isNotFound());
    CHECK(missing.error().message == "pods \"ghost\" not found");

    auto mismatch = client->createSubresource(kPods, "default", "lonely", "eviction", eviction("other"));
    REQUIRE_FALSE(mismatch.ok());
    CHECK(mismatch.error().code == 400);
    CHECK(mismatch.error().message == "name in URL does not match name in Eviction object");

    json notEviction = eviction("lonely");
    notEviction["kind"] = "DeleteOptions";
    auto wrongKind = client->createSubresource(kPods, "default", "lonely", "eviction", notEviction);
    REQUIRE_FALSE(wrongKind.ok());
    CHECK(wrongKind.error().code == 400);
    CHECK(client->get(kPods, "default", "lonely").ok());  // nothing evicted by a bad request
  }
}

TEST_CASE("apiserver: an evicted pod of a ReplicaSet is replaced by a new one that becomes ready",
          "[apiserver][eviction]") {
  sluice::apiserver::ServerOptions options;
  options.podReadyAfter = std::chrono::milliseconds(300);
  KubeServer server(options, /*workloadControllers=*/true);
  auto client = server.client();
  const json labels = {{"app", "web"}};
  const json rs = {
      {"apiVersion", "apps/v1"},
      {"kind", "ReplicaSet"},
      {"metadata", {{"name", "web"}, {"namespace", "default"}}},
      {"spec",
       {{"replicas", 2},
        {"selector", {{"matchLabels", labels}}},
        {"template",
         {{"metadata", {{"labels", labels}}},
          {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "nginx:1.25"}}})}}}}}}}};
  REQUIRE(client->create(kReplicaSets, "default", rs).ok());
  json before = waitPods(
      *client, [](const json& items) { return items.size() == 2 && ready(items[0]) && ready(items[1]); });
  REQUIRE(before.size() == 2);
  // A replacement's creationTimestamp must be able to differ: timestamps are whole seconds.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));

  const std::string victim = before[0]["metadata"]["name"];
  const std::string survivor = before[1]["metadata"]["name"];
  const auto createdBefore = sluice::parseRfc3339(before[0]["metadata"].value("creationTimestamp", ""));
  REQUIRE(createdBefore.ok());
  REQUIRE(client->createSubresource(kPods, "default", victim, "eviction", eviction(victim)).ok());

  const json after = waitPods(*client, [&](const json& items) {
    if (items.size() != 2) return false;
    for (const auto& p : items) {
      if (p["metadata"]["name"] == victim || !ready(p)) return false;
    }
    return true;
  });
  REQUIRE(after.size() == 2);
  bool survived = false;
  for (const auto& p : after) {
    const std::string name = p["metadata"]["name"];
    CHECK(name != victim);
    CHECK(ready(p));
    if (name == survivor) {
      survived = true;
      continue;
    }
    const auto created = sluice::parseRfc3339(p["metadata"].value("creationTimestamp", ""));
    REQUIRE(created.ok());
    CHECK(*created > *createdBefore);
  }
  CHECK(survived);  // only the evicted pod was replaced
}
