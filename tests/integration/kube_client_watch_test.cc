// Watch and informer of the Sluice client against our embedded API server: another client's writes seen
// in order, 410 Expired from a compacted revision, stop from another thread, and an informer's sync,
// handlers, indexes and recovery when the server restarts on the same directory.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "kube/client.h"
#include "kube/informer.h"
#include "tests/integration/kube_client_env.h"
#include "tests/support/process.h"

using nlohmann::json;
using sluice::kube::Informer;
using sluice::kube::InformerHandlers;
using sluice::kube::WatchEvent;
using sluice::kube::WatchOptions;
using sluice::kube::WatchStop;
using sluice::testing::kConfigMaps;
using sluice::testing::KubeServer;
using sluice::testing::waitUntil;

namespace {

json watchedConfigMap(const std::string& name, const std::string& ns = "default",
                      const json& labels = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
          {"data", {{"k", "v"}}}};
}

// Records handler calls as "ADD name", "UPDATE name old->new", "DELETE name".
struct Recorder {
  std::mutex mu;
  std::vector<std::string> log;
  void add(std::string s) {
    std::lock_guard lock(mu);
    log.push_back(std::move(s));
  }
  bool contains(const std::string& s) {
    std::lock_guard lock(mu);
    return std::find(log.begin(), log.end(), s) != log.end();
  }
  std::string dump() {
    std::lock_guard lock(mu);
    std::string out;
    for (const auto& l : log) out += l + "\n";
    return out;
  }
};

std::string nameOf(const json& o) { return o["metadata"]["name"].get<std::string>(); }

}  // namespace

TEST_CASE("kube client watch: another client's writes arrive in order", "[kube-client][watch]") {
  KubeServer server;
  auto watcher = server.client();
  auto writer = server.client();
  WatchStop stop;
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> seen;  // type, data.k
  std::vector<long> versions;
  // From the collection's current resourceVersion, taken before the writes start.
  auto before = watcher->list(kConfigMaps, "default");
  REQUIRE(before.ok());
  WatchOptions wo;
  wo.resourceVersion = (*before)["metadata"]["resourceVersion"];
  std::thread t([&] {
    auto r = watcher->watch(
        kConfigMaps, "default", wo,
        [&](const WatchEvent& e) {
          std::lock_guard lock(mu);
          seen.emplace_back(e.type, e.object["data"].value("k", ""));
          versions.push_back(std::stol(e.object["metadata"]["resourceVersion"].get<std::string>()));
          return true;
        },
        &stop);
    CHECK(r.ok());
  });
  REQUIRE(writer->create(kConfigMaps, "default", watchedConfigMap("w")).ok());
  REQUIRE(
      writer->patch(kConfigMaps, "default", "w", sluice::kube::PatchType::kMerge, {{"data", {{"k", "1"}}}})
          .ok());
  REQUIRE(
      writer->patch(kConfigMaps, "default", "w", sluice::kube::PatchType::kMerge, {{"data", {{"k", "2"}}}})
          .ok());
  REQUIRE(writer->remove(kConfigMaps, "default", "w").ok());
  bool all = waitUntil(
      [&] {
        std::lock_guard lock(mu);
        return seen.size() >= 4;
      },
      std::chrono::seconds(10));
  auto stopAsked = std::chrono::steady_clock::now();
  stop.stop();
  t.join();
  // Stopping a quiet stream from another thread takes about a second, not a server timeout.
  CHECK(std::chrono::steady_clock::now() - stopAsked < std::chrono::seconds(3));
  REQUIRE(all);
  std::vector<std::pair<std::string, std::string>> expected = {
      {"ADDED", "v"}, {"MODIFIED", "1"}, {"MODIFIED", "2"}, {"DELETED", "2"}};
  CHECK(seen == expected);
  CHECK(std::is_sorted(versions.begin(), versions.end()));
}

TEST_CASE("kube client watch: a compacted resourceVersion ends the watch with Expired",
          "[kube-client][watch]") {
  sluice::apiserver::ServerOptions options;
  options.retainRevisions = 5;
  KubeServer server(options);
  auto client = server.client();
  auto first = client->create(kConfigMaps, "default", watchedConfigMap("first"));
  REQUIRE(first.ok());
  std::string oldVersion = (*first)["metadata"]["resourceVersion"];
  for (int i = 0; i < 12; ++i)
    REQUIRE(client->create(kConfigMaps, "default", watchedConfigMap("n" + std::to_string(i))).ok());
  WatchOptions wo;
  wo.resourceVersion = oldVersion;
  int events = 0;
  auto r = client->watch(kConfigMaps, "default", wo, [&](const WatchEvent&) {
    ++events;
    return true;
  });
  REQUIRE_FALSE(r.ok());
  INFO(r.error().describe());
  CHECK(r.error().isExpired());
  CHECK(r.error().code == 410);
  CHECK(events == 0);
}

TEST_CASE("kube client informer: sync, handlers, indexes", "[kube-client][informer]") {
  KubeServer server;
  auto client = server.client();
  REQUIRE(client
              ->create(sluice::kube::ResourceRef{"", "v1", "namespaces", false, "Namespace"}, "",
                       {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "other"}}}})
              .ok());
  auto owner = client->create(kConfigMaps, "default", watchedConfigMap("owner"));
  REQUIRE(owner.ok());
  std::string ownerUid = (*owner)["metadata"]["uid"];
  json owned = watchedConfigMap("owned", "default", {{"app", "web"}});
  owned["metadata"]["ownerReferences"] =
      json::array({{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "owner"}, {"uid", ownerUid}}});
  REQUIRE(client->create(kConfigMaps, "default", owned).ok());
  REQUIRE(
      client->create(kConfigMaps, "other", watchedConfigMap("elsewhere", "other", {{"app", "web"}})).ok());

  Informer informer(*client, kConfigMaps);
  Recorder rec;
  informer.addHandlers({[&](const json& o) { rec.add("ADD " + nameOf(o)); },
                        [&](const json& o, const json& n) {
                          rec.add("UPDATE " + nameOf(n) + " " + o["data"].value("k", "") + "->" +
                                  n["data"].value("k", ""));
                        },
                        [&](const json& o) { rec.add("DELETE " + nameOf(o)); }});
  CHECK_FALSE(informer.hasSynced());
  informer.start();
  REQUIRE(informer.waitForSync(std::chrono::seconds(10)));
  CHECK(informer.get("default/owned").has_value());
  CHECK(informer.get("other/elsewhere").has_value());
  CHECK(rec.contains("ADD owned"));
  CHECK(informer.byLabel("app", "web").size() == 2);
  REQUIRE(informer.byOwner(ownerUid).size() == 1);
  CHECK(nameOf(informer.byOwner(ownerUid)[0]) == "owned");
  auto inOther = informer.byNamespace("other");
  REQUIRE(inOther.size() == 1);
  CHECK(nameOf(inOther[0]) == "elsewhere");

  auto writer = server.client();
  REQUIRE(writer->create(kConfigMaps, "default", watchedConfigMap("late")).ok());
  REQUIRE(writer
              ->patch(kConfigMaps, "default", "late", sluice::kube::PatchType::kMerge,
                      {{"metadata", {{"labels", {{"app", "web"}}}}}, {"data", {{"k", "2"}}}})
              .ok());
  REQUIRE(writer->remove(kConfigMaps, "other", "elsewhere").ok());
  bool seen = waitUntil([&] { return rec.contains("UPDATE late v->2") && rec.contains("DELETE elsewhere"); },
                        std::chrono::seconds(10));
  INFO(rec.dump());
  REQUIRE(seen);
  CHECK(rec.contains("ADD late"));
  CHECK_FALSE(informer.get("other/elsewhere").has_value());
  CHECK(informer.byNamespace("other").empty());
  // The label index follows updates: "late" gained app=web, "elsewhere" left with its namespace.
  std::set<std::string> web;
  for (const auto& o : informer.byLabel("app", "web")) web.insert(nameOf(o));
  CHECK(web == std::set<std::string>{"late", "owned"});
  informer.stop();
}

TEST_CASE("kube client informer: recovers when the server restarts, relisting after Expired",
          "[kube-client][informer]") {
  sluice::apiserver::ServerOptions options;
  options.retainRevisions = 5;
  KubeServer server(options);
  auto client = server.client();
  REQUIRE(client->create(kConfigMaps, "default", watchedConfigMap("doomed")).ok());
  REQUIRE(client->create(kConfigMaps, "default", watchedConfigMap("kept")).ok());

  Informer informer(*client, kConfigMaps, {"default", "", "", 500});
  Recorder rec;
  informer.addHandlers({[&](const json& o) { rec.add("ADD " + nameOf(o)); }, nullptr,
                        [&](const json& o) { rec.add("DELETE " + nameOf(o)); }});
  informer.start();
  REQUIRE(informer.waitForSync(std::chrono::seconds(10)));

  server.restart();
  // Writes right after the restart: enough to compact past the informer's resourceVersion, so a watch
  // resumed from it gets 410 and the informer must list again and diff (a delete for "doomed").
  auto writer = server.client();
  REQUIRE(writer->remove(kConfigMaps, "default", "doomed").ok());
  for (int i = 0; i < 12; ++i)
    REQUIRE(writer->create(kConfigMaps, "default", watchedConfigMap("new" + std::to_string(i))).ok());

  bool caughtUp =
      waitUntil([&] { return informer.get("default/new11").has_value() && rec.contains("DELETE doomed"); },
                std::chrono::seconds(20));
  INFO(rec.dump() + informer.lastError());
  REQUIRE(caughtUp);
  CHECK_FALSE(informer.get("default/doomed").has_value());
  CHECK(informer.get("default/kept").has_value());
  CHECK(informer.list().size() == 13);

  // And the resumed watch keeps delivering.
  REQUIRE(writer->create(kConfigMaps, "default", watchedConfigMap("after")).ok());
  CHECK(waitUntil([&] { return rec.contains("ADD after"); }, std::chrono::seconds(10)));
  informer.stop();
}

TEST_CASE("kube client informer: resync hands every cached object to onUpdate again",
          "[kube-client][informer]") {
  KubeServer server;
  auto client = server.client();
  for (const char* name : {"a", "b"})
    REQUIRE(client->create(kConfigMaps, "default", watchedConfigMap(name)).ok());

  sluice::kube::InformerOptions options;
  options.ns = "default";
  options.resyncPeriod = std::chrono::milliseconds(200);
  Informer informer(*client, kConfigMaps, options);
  std::mutex mu;
  std::map<std::string, int> resyncs;  // name -> updates with the same resourceVersion on both sides
  bool overlapped = false;             // two handler calls at once
  std::atomic<int> inHandler{0};
  informer.addHandlers({{},
                        [&](const json& o, const json& n) {
                          if (inHandler.fetch_add(1) != 0) overlapped = true;
                          if (o["metadata"]["resourceVersion"] == n["metadata"]["resourceVersion"]) {
                            std::lock_guard lock(mu);
                            ++resyncs[nameOf(n)];
                          }
                          inHandler.fetch_sub(1);
                        },
                        {}});
  informer.start();
  REQUIRE(informer.waitForSync(std::chrono::seconds(10)));
  auto count = [&](const std::string& name) {
    std::lock_guard lock(mu);
    return resyncs[name];
  };
  // Objects that never change come back, period after period; so does one created after the sync.
  REQUIRE(client->create(kConfigMaps, "default", watchedConfigMap("c")).ok());
  REQUIRE(waitUntil([&] { return count("a") >= 3 && count("b") >= 3 && count("c") >= 2; },
                    std::chrono::seconds(20)));
  // A deleted object is no longer resynced.
  REQUIRE(client->remove(kConfigMaps, "default", "b").ok());
  REQUIRE(waitUntil([&] { return !informer.get("default/b").has_value(); }, std::chrono::seconds(10)));
  int bAfterDelete = count("b");
  int aBefore = count("a");
  REQUIRE(waitUntil([&] { return count("a") >= aBefore + 2; }, std::chrono::seconds(20)));
  CHECK(count("b") <= bAfterDelete + 1);  // at most a resync that had already taken its snapshot
  informer.stop();
  CHECK_FALSE(overlapped);
}
