// Leader election and the event recorder against our embedded API server: two candidates on one Lease
// (at most one leader at any instant, a takeover after release), a takeover after the holder stopped
// renewing judged on the candidate's own (manual) clock, and repeated events counted on one Event.
#include <catch2/catch.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/clock.h"
#include "base/time.h"
#include "kube/event_recorder.h"
#include "kube/leader_election.h"
#include "tests/integration/kube_client_env.h"
#include "tests/support/process.h"

using nlohmann::json;
using sluice::kube::LeaderElectionConfig;
using sluice::kube::LeaderElector;
using sluice::testing::kEvents;
using sluice::testing::kLeases;
using sluice::testing::KubeServer;
using sluice::testing::waitUntil;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Who leads, as the callbacks say, checked on every change: never two at once.
struct LeaderLog {
  std::mutex mu;
  int leaders = 0;
  int maxLeaders = 0;
  std::string current;
  std::vector<std::string> log;
  SteadyClock::time_point lastStart;
  void started(const std::string& id) {
    std::lock_guard lock(mu);
    ++leaders;
    maxLeaders = std::max(maxLeaders, leaders);
    current = id;
    lastStart = SteadyClock::now();
    log.push_back("start " + id);
  }
  void stopped(const std::string& id) {
    std::lock_guard lock(mu);
    --leaders;
    if (current == id) current.clear();
    log.push_back("stop " + id);
  }
  std::string leader() {
    std::lock_guard lock(mu);
    return current;
  }
};

struct Candidate {
  std::unique_ptr<sluice::kube::Client> client;
  std::unique_ptr<LeaderElector> elector;
  std::thread thread;
  Candidate(KubeServer& server, LeaderLog& log, const std::string& id, bool release)
      : client(server.client()) {
    LeaderElectionConfig c;
    c.name = "sluice-test";
    c.identity = id;
    c.leaseDuration = std::chrono::milliseconds(3000);
    c.renewDeadline = std::chrono::milliseconds(2000);
    c.retryPeriod = std::chrono::milliseconds(250);
    c.releaseOnStop = release;
    c.onStartedLeading = [&log, id] { log.started(id); };
    c.onStoppedLeading = [&log, id] { log.stopped(id); };
    elector = std::make_unique<LeaderElector>(*client, c);
    thread = std::thread([this] { CHECK(elector->run().ok()); });
  }
  void stop() {
    elector->stop();
    if (thread.joinable()) thread.join();
  }
  ~Candidate() { stop(); }
};

}  // namespace

TEST_CASE("kube client leader election: one leader, takeover after release", "[kube-client][leader]") {
  KubeServer server;
  const bool release = true;
  LeaderLog log;
  Candidate a(server, log, "a", release);
  Candidate b(server, log, "b", release);
  REQUIRE(waitUntil([&] { return !log.leader().empty(); }, std::chrono::seconds(10)));
  std::string first = log.leader();
  Candidate& leader = first == "a" ? a : b;
  Candidate& other = first == "a" ? b : a;
  CHECK(leader.elector->isLeader());
  CHECK_FALSE(other.elector->isLeader());
  // The other sees who leads at its next retry.
  CHECK(waitUntil([&] { return other.elector->observedLeader() == first; }, std::chrono::seconds(2)));

  // The lease as stored names the leader.
  auto lease = server.client()->get(kLeases, "default", "sluice-test");
  REQUIRE(lease.ok());
  CHECK((*lease)["spec"]["holderIdentity"] == first);
  CHECK((*lease)["spec"]["leaseDurationSeconds"] == 3);
  int transitionsBefore = (*lease)["spec"]["leaseTransitions"];

  // The leader keeps the lease across many retry periods while the other waits.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(log.leader() == first);

  auto stoppedAt = SteadyClock::now();
  leader.stop();
  REQUIRE(waitUntil([&] { return log.leader() == (first == "a" ? "b" : "a"); }, std::chrono::seconds(10)));
  auto takeover = SteadyClock::now() - stoppedAt;
  // A released lease is free at once: taken within a few retry periods, not a lease duration.
  CHECK(takeover < std::chrono::milliseconds(1500));
  CHECK(log.maxLeaders == 1);
  auto after = server.client()->get(kLeases, "default", "sluice-test");
  REQUIRE(after.ok());
  CHECK((*after)["spec"]["leaseTransitions"].get<int>() == transitionsBefore + 1);
  other.stop();
  CHECK(log.maxLeaders == 1);
}

TEST_CASE(
    "kube client leader election: a lease its holder stopped renewing is taken once it expired on "
    "the candidate's clock",
    "[kube-client][leader]") {
  KubeServer server;
  auto client = server.client();
  // A holder that never renews, with a 3 s lease and a renewTime from another machine's clock.
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "sluice-test"}, {"namespace", "default"}}},
                {"spec",
                 {{"holderIdentity", "gone"},
                  {"leaseDurationSeconds", 3},
                  {"renewTime", "1999-01-01T00:00:00.000000Z"},
                  {"leaseTransitions", 4}}}};
  REQUIRE(client->create(kLeases, "default", lease).ok());

  sluice::ManualClock clock;
  LeaderLog log;
  LeaderElectionConfig c;
  c.name = "sluice-test";
  c.identity = "b";
  c.leaseDuration = std::chrono::milliseconds(3000);
  c.renewDeadline = std::chrono::milliseconds(2000);
  c.retryPeriod = std::chrono::milliseconds(250);
  c.onStartedLeading = [&log] { log.started("b"); };
  c.onStoppedLeading = [&log] { log.stopped("b"); };
  auto candidateClient = server.client();
  LeaderElector elector(*candidateClient, c, clock);
  std::thread thread([&] { CHECK(elector.run().ok()); });
  struct Joined {  // a failed REQUIRE must not leave the thread running
    LeaderElector& elector;
    std::thread& thread;
    ~Joined() {
      elector.stop();
      if (thread.joinable()) thread.join();
    }
  } joined{elector, thread};

  // The first attempt reads the record and starts the candidate's own count from there.
  REQUIRE(waitUntil([&] { return elector.observedLeader() == "gone"; }, std::chrono::seconds(10)));
  // Just short of the lease duration on the candidate's clock: however long it retries, it waits.
  clock.advance(std::chrono::milliseconds(2900));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK_FALSE(elector.isLeader());
  CHECK(log.leader().empty());
  // Past it, and past the retry it waits for (a retry period after its last try at 2.9 s): taken.
  clock.advance(std::chrono::milliseconds(300));
  REQUIRE(waitUntil([&] { return elector.isLeader(); }, std::chrono::seconds(10)));
  auto after = client->get(kLeases, "default", "sluice-test");
  REQUIRE(after.ok());
  CHECK((*after)["spec"]["holderIdentity"] == "b");
  CHECK((*after)["spec"]["leaseTransitions"] == 5);
  // The times it wrote are the candidate's wall clock, as metav1.MicroTime.
  CHECK((*after)["spec"]["renewTime"] == sluice::formatRfc3339Micro(clock.wallNow()));
  elector.stop();
  thread.join();
  CHECK(log.maxLeaders == 1);
}

TEST_CASE("kube client event recorder: repeats counted on one Event", "[kube-client][events]") {
  KubeServer server;
  auto client = server.client();
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "subject"}, {"namespace", "default"}}},
             {"data", {{"k", "v"}}}};
  auto created = client->create(sluice::testing::kConfigMaps, "default", cm);
  REQUIRE(created.ok());
  auto eventsAbout = [&](const std::string& name) {
    auto all = client->listAll(kEvents, "default");
    REQUIRE(all.ok());
    std::vector<json> out;
    for (const auto& e : (*all)["items"]) {
      if (e["involvedObject"]["name"] == name) out.push_back(e);
    }
    return out;
  };

  sluice::kube::EventRecorder recorder(*client, {"sluice-test", "host-1"});
  for (int i = 0; i < 3; ++i) REQUIRE(recorder.record(*created, "Normal", "Synced", "all good").ok());
  auto events = eventsAbout("subject");
  REQUIRE(events.size() == 1);
  CHECK(events[0]["count"] == 3);
  CHECK(events[0]["reason"] == "Synced");
  CHECK(events[0]["type"] == "Normal");
  CHECK(events[0]["source"]["component"] == "sluice-test");
  CHECK(events[0]["involvedObject"]["uid"] == (*created)["metadata"]["uid"]);
  CHECK(events[0]["involvedObject"]["kind"] == "ConfigMap");
  CHECK(events[0]["firstTimestamp"].is_string());
  CHECK(events[0]["lastTimestamp"] >= events[0]["firstTimestamp"]);

  // Another message or type is another Event.
  REQUIRE(recorder.record(*created, "Warning", "Synced", "all good").ok());
  REQUIRE(recorder.record(*created, "Normal", "Synced", "something else").ok());
  CHECK(eventsAbout("subject").size() == 3);

  // A remembered Event deleted meanwhile: the repeat creates a new one with count 1.
  REQUIRE(client->remove(kEvents, "default", events[0]["metadata"]["name"]).ok());
  auto again = recorder.record(*created, "Normal", "Synced", "all good");
  REQUIRE(again.ok());
  CHECK((*again)["count"] == 1);
  CHECK(eventsAbout("subject").size() == 3);
}

TEST_CASE("kube client event recorder: the correlation cache is bounded", "[kube-client][events]") {
  KubeServer server;
  auto client = server.client();
  json pod = {
      {"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "x"}, {"namespace", "default"}}}};
  sluice::kube::EventRecorder recorder(*client, {"sluice-test", ""}, 1);
  REQUIRE(recorder.record(pod, "Normal", "A", "m").ok());
  REQUIRE(recorder.record(pod, "Normal", "B", "m").ok());
  CHECK(recorder.cached() == 1);
  // "A" was evicted by "B": recording it again creates a second Event for A rather than counting.
  auto a = recorder.record(pod, "Normal", "A", "m");
  REQUIRE(a.ok());
  CHECK((*a)["count"] == 1);
  auto all = client->listAll(kEvents, "default");
  REQUIRE(all.ok());
  CHECK((*all)["items"].size() == 3);
}
