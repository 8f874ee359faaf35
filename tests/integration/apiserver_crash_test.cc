// The whole `sluice cluster` process killed mid-stream: client threads stream creates and updates of
// ConfigMaps carrying a sequence number, the server is SIGKILLed at a random moment, restarted on the same
// data directory, and every acknowledged write must be there, whole, under higher resourceVersions, with
// list and watch working. SLUICE_CRASH_ITERATIONS runs a longer loop than the default.
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "tests/integration/kube_client_env.h"
#include "tests/support/process.h"

using nlohmann::json;
using sluice::testing::ChildProcess;
using sluice::testing::kConfigMaps;
using sluice::testing::TempDir;
using sluice::testing::waitUntil;

namespace {

constexpr int kWriters = 4;
constexpr int kNamesPerWriter = 6;

// What the test knows of one ConfigMap across crashes. `acked` is the last sequence number the server
// acknowledged; `attempted` the highest one sent (a write in flight at the kill may or may not have
// landed, so the object may hold anything from `acked` to `attempted`).
struct Tracked {
  int64_t acked = -1;  // -1: never acknowledged (may not exist)
  int64_t attempted = -1;
  std::string resourceVersion;  // of the acknowledged write
};

// The payload is a function of name and sequence number, so a torn or mixed write is visible.
std::string payloadFor(const std::string& name, int64_t seq) {
  std::string unit = name + ":" + std::to_string(seq) + ";";
  std::string out;
  while (out.size() < 512) out += unit;
  return out;
}

json seqConfigMap(const std::string& name, int64_t seq, const std::string& resourceVersion) {
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"crash-test", "yes"}}}}},
             {"data", {{"seq", std::to_string(seq)}, {"payload", payloadFor(name, seq)}}}};
  if (!resourceVersion.empty()) cm["metadata"]["resourceVersion"] = resourceVersion;
  return cm;
}

int64_t rvOf(const json& obj) { return std::stoll(obj["metadata"]["resourceVersion"].get<std::string>()); }

struct ServerRun {
  std::unique_ptr<ChildProcess> process;
  sluice::kube::ClientConfig config;
};

ServerRun startCluster(const TempDir& dir, int run) {
  ServerRun r;
  const auto data = (dir / "data").string();
  r.process = std::make_unique<ChildProcess>(
      std::vector<std::string>{SLUICE_BINARY, "cluster", "--data-dir", data, "--port", "0"},
      dir / ("server" + std::to_string(run) + ".log"));
  bool ready = waitUntil([&] { return r.process->log().find("export KUBECONFIG=") != std::string::npos; },
                         std::chrono::seconds(30));
  INFO(r.process->log());
  REQUIRE(ready);
  sluice::kube::KubeconfigOptions o;
  o.kubeconfigFlag = data + "/kubeconfig";
  auto c = sluice::kube::loadClientConfig(o);
  INFO((c ? std::string() : c.error()));
  REQUIRE(c.ok());
  r.config = *c;
  return r;
}

sluice::kube::ClientOptions clientOptions() {
  sluice::kube::ClientOptions options;
  options.qps = 1e6;  // the server's speed is the limit here, not the client's politeness
  options.burst = 1000000;
  options.maxRetries = 0;  // a write that failed stays "in flight": the test decides what it may have done
  options.timeout = std::chrono::milliseconds(10000);
  return options;
}

std::unique_ptr<sluice::kube::Client> clientFor(const sluice::kube::ClientConfig& config) {
  auto c = sluice::kube::Client::create(config, clientOptions());
  INFO((c ? std::string() : c.error()));
  REQUIRE(c.ok());
  return std::move(c).value();
}

// Streams writes over this writer's names until the server goes away. Catch's macros are not thread-safe,
// so failures other than the server going away are returned as text.
// Each writer owns its names: the map is not resized while writers run, so no lock is needed.
std::string streamWrites(const sluice::kube::ClientConfig& config, int writer,
                         std::map<std::string, Tracked>& tracked, std::atomic<int64_t>& acks,
                         std::atomic<int64_t>& maxRv) {
  auto created = sluice::kube::Client::create(config, clientOptions());
  if (!created) return created.error();
  auto& client = **created;
  std::vector<std::pair<std::string, Tracked*>> own;
  for (int i = 0; i < kNamesPerWriter; ++i) {
    std::string name = "w" + std::to_string(writer) + "-" + std::to_string(i);
    own.emplace_back(name, &tracked.at(name));
  }
  std::mt19937 rng(std::random_device{}());
  for (;;) {
    const auto& [name, tp] = own[rng() % own.size()];
    Tracked& t = *tp;
    const int64_t seq = std::max(t.acked, t.attempted) + 1;
    t.attempted = seq;
    auto r = t.acked < 0 ? client.create(kConfigMaps, "default", seqConfigMap(name, seq, ""))
                         : client.update(kConfigMaps, seqConfigMap(name, seq, t.resourceVersion));
    if (!r) {
      if (r.error().isTransport() || r.error().code >= 500) return "";  // the server is gone: in flight
      return "writer " + std::to_string(writer) + ": " + r.error().describe();
    }
    const auto& data = (*r)["data"];
    if (data.value("seq", "") != std::to_string(seq)) return "the answer to " + name + " holds another write";
    t.acked = seq;
    t.resourceVersion = (*r)["metadata"]["resourceVersion"].get<std::string>();
    int64_t rv = rvOf(*r);
    int64_t seen = maxRv.load();
    while (rv > seen && !maxRv.compare_exchange_weak(seen, rv)) {
    }
    ++acks;
  }
  return "";
}

// After a restart: every tracked object holds an acknowledged-or-later write, whole; the tracking then
// follows what the server holds.
// Returns the list's resourceVersion.
int64_t checkRecovered(sluice::kube::Client& client, std::map<std::string, Tracked>& tracked,
                       int64_t maxRvSeen) {
  sluice::kube::ListOptions lo;
  lo.labelSelector = "crash-test=yes";
  auto listed = client.listAll(kConfigMaps, "default", lo);
  INFO((listed ? std::string() : listed.error().describe()));
  REQUIRE(listed.ok());
  const int64_t listRv = std::stoll((*listed)["metadata"]["resourceVersion"].get<std::string>());
  CHECK(listRv >= maxRvSeen);
  std::map<std::string, json> found;
  for (const auto& item : (*listed)["items"]) found[item["metadata"]["name"].get<std::string>()] = item;
  for (auto& [name, t] : tracked) {
    INFO(name << " acked " << t.acked << " attempted " << t.attempted);
    auto f = found.find(name);
    if (f == found.end()) {
      CHECK(t.acked < 0);  // only a create that was never acknowledged may be missing
      t.attempted = std::max(t.attempted, t.acked);
      continue;
    }
    const json& obj = f->second;
    REQUIRE(obj["metadata"].contains("uid"));
    REQUIRE(obj["metadata"].contains("creationTimestamp"));
    REQUIRE(obj["data"].is_object());
    REQUIRE(obj["data"].contains("seq"));
    const int64_t seq = std::stoll(obj["data"]["seq"].get<std::string>());
    CHECK(seq >= t.acked);
    CHECK(seq <= t.attempted);
    CHECK(obj["data"]["payload"] == payloadFor(name, seq));
    CHECK(rvOf(obj) <= listRv);
    if (seq == t.acked) CHECK(obj["metadata"]["resourceVersion"] == t.resourceVersion);
    t.acked = seq;
    t.attempted = seq;
    t.resourceVersion = obj["metadata"]["resourceVersion"].get<std::string>();
  }
  // Nothing the test did not write.
  for (const auto& [name, obj] : found) CHECK(tracked.count(name) == 1);
  return listRv;
}

// A watch from the list's revision sees a fresh write, whose resourceVersion is above every one seen.
void checkWriteAndWatch(sluice::kube::Client& client, const sluice::kube::ClientConfig& config,
                        std::map<std::string, Tracked>& tracked, int64_t maxRvSeen) {
  auto listed = client.list(kConfigMaps, "default");
  REQUIRE(listed.ok());
  const std::string from = (*listed)["metadata"]["resourceVersion"];
  auto watcher = clientFor(config);
  std::atomic<bool> sawWrite{false};
  sluice::kube::WatchStop stop;
  std::string probeName = "probe";
  std::thread watchThread([&] {
    sluice::kube::WatchOptions wo;
    wo.resourceVersion = from;
    wo.timeoutSeconds = 20;
    wo.reconnect = false;
    (void)watcher->watch(
        kConfigMaps, "default", wo,
        [&](const sluice::kube::WatchEvent& e) {
          if (e.object.contains("metadata") && e.object["metadata"].value("name", "") == probeName) {
            sawWrite = true;
            return false;
          }
          return true;
        },
        &stop);
  });
  Tracked& t = tracked[probeName];
  const int64_t seq = std::max(t.acked, t.attempted) + 1;
  t.attempted = seq;
  auto r = t.acked < 0 ? client.create(kConfigMaps, "default", seqConfigMap(probeName, seq, ""))
                       : client.update(kConfigMaps, seqConfigMap(probeName, seq, t.resourceVersion));
  INFO((r ? std::string() : r.error().describe()));
  REQUIRE(r.ok());
  t.acked = seq;
  t.resourceVersion = (*r)["metadata"]["resourceVersion"];
  CHECK(rvOf(*r) > maxRvSeen);
  bool delivered = waitUntil([&] { return sawWrite.load(); }, std::chrono::seconds(15));
  stop.stop();
  watchThread.join();
  CHECK(delivered);
}

}  // namespace

TEST_CASE("sluice cluster SIGKILLed mid-stream keeps every acknowledged write",
          "[integration][apiserver][crash]") {
  int iterations = 12;
  if (const char* env = std::getenv("SLUICE_CRASH_ITERATIONS")) iterations = std::max(1, std::atoi(env));
  TempDir dir("sluice-crash");
  std::map<std::string, Tracked> tracked;
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kNamesPerWriter; ++i) tracked["w" + std::to_string(w) + "-" + std::to_string(i)] = {};
  }
  tracked["probe"] = {};
  std::mt19937 rng(std::random_device{}());
  int64_t maxRvSeen = 0;
  int64_t totalAcks = 0;
  for (int run = 0; run <= iterations; ++run) {
    INFO("run " << run);
    auto server = startCluster(dir, run);
    auto client = clientFor(server.config);
    if (run > 0) {
      maxRvSeen = std::max(maxRvSeen, checkRecovered(*client, tracked, maxRvSeen));
      checkWriteAndWatch(*client, server.config, tracked, maxRvSeen);
      maxRvSeen = std::max<int64_t>(maxRvSeen, std::stoll(tracked["probe"].resourceVersion));
    }
    if (run == iterations) break;  // the last kill checked; no further stream

    std::atomic<int64_t> acks{0};
    std::atomic<int64_t> maxRv{maxRvSeen};
    std::vector<std::string> failures(kWriters);
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] { failures[w] = streamWrites(server.config, w, tracked, acks, maxRv); });
    }
    // A random moment once the stream is under way: after a few acknowledged writes, then 0-300 ms more.
    waitUntil([&] { return acks.load() >= 20; }, std::chrono::seconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));
    server.process->kill(SIGKILL);
    for (auto& t : writers) t.join();
    REQUIRE(waitUntil([&] { return !server.process->running(); }, std::chrono::seconds(10)));
    for (const auto& f : failures) CHECK(f.empty());
    CHECK(acks.load() >= 20);
    totalAcks += acks.load();
    maxRvSeen = std::max(maxRvSeen, maxRv.load());
  }
  WARN(iterations << " SIGKILLs, " << totalAcks << " acknowledged writes checked");
}
