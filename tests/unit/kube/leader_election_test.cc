// Leader-election decisions with an injected clock (expiry judged from when this candidate last saw the
// record change), the Lease record's parsing, and the client's default rate-limit maths.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "kube/client.h"
#include "kube/leader_election.h"

using namespace sluice::kube;
using namespace std::chrono_literals;

namespace {

using FakeClock = sluice::ManualClock;

LeaseRecord held(const std::string& holder, int seconds = 15) {
  return {holder, seconds, "2026-11-28T03:00:00.000000Z", "2026-11-28T03:00:00.000000Z", 2};
}

}  // namespace

TEST_CASE("lease decisions follow client-go's tryAcquireOrRenew", "[kube][leader]") {
  FakeClock clock;
  const auto seen = clock.now();
  struct Row {
    const char* behaviour;
    LeaseRecord record;
    std::chrono::milliseconds elapsed;  // since the record was last seen to change
    LeaseDecision expected;
  };
  const Row rows[] = {
      {"our own lease is renewed", held("me"), 0ms, LeaseDecision::kRenew},
      {"our own lease is renewed even when long unseen", held("me"), 60s, LeaseDecision::kRenew},
      {"a free lease (empty holder) is taken", held(""), 0ms, LeaseDecision::kTakeOver},
      {"another holder's fresh lease is waited on", held("other"), 0ms, LeaseDecision::kWait},
      {"still waited on just before its duration ends", held("other"), 14999ms, LeaseDecision::kWait},
      {"taken once its duration has passed on our clock", held("other"), 15s, LeaseDecision::kTakeOver},
      {"the record's own duration counts, not ours", held("other", 5), 5s, LeaseDecision::kTakeOver},
      {"a record without a duration uses ours", held("other", 0), 14s, LeaseDecision::kWait},
  };
  for (const auto& row : rows) {
    INFO(row.behaviour);
    FakeClock c;
    c.advance(row.elapsed);
    CHECK(decideLease(row.record, "me", seen, c.now(), 15s) == row.expected);
  }
}

TEST_CASE("expiry is judged from when the record was seen, not from its renewTime", "[kube][leader]") {
  // A renewTime far in the past (another machine's clock) does not make a just-seen lease expired.
  LeaseRecord r = held("other");
  r.renewTime = "1999-01-01T00:00:00.000000Z";
  FakeClock clock;
  auto seen = clock.now();
  CHECK(decideLease(r, "me", seen, clock.now(), 15s) == LeaseDecision::kWait);
  clock.advance(16s);
  CHECK(decideLease(r, "me", seen, clock.now(), 15s) == LeaseDecision::kTakeOver);
}

TEST_CASE("a Lease object's spec is read field by field", "[kube][leader]") {
  nlohmann::json lease = {{"spec",
                           {{"holderIdentity", "pod-a"},
                            {"leaseDurationSeconds", 15},
                            {"acquireTime", "2026-11-28T03:00:00.000000Z"},
                            {"renewTime", "2026-11-28T03:00:10.000000Z"},
                            {"leaseTransitions", 4}}}};
  LeaseRecord r = leaseRecordFrom(lease);
  CHECK(r.holderIdentity == "pod-a");
  CHECK(r.leaseDurationSeconds == 15);
  CHECK(r.renewTime == "2026-11-28T03:00:10.000000Z");
  CHECK(r.leaseTransitions == 4);
  CHECK(leaseRecordFrom(nlohmann::json::object()) == LeaseRecord{});
  CHECK(leaseRecordFrom({{"spec", {{"holderIdentity", 7}}}}).holderIdentity.empty());
}

TEST_CASE("the client's default rate limit: a burst of 80, then 40 a second", "[kube][client]") {
  ClientOptions defaults;
  CHECK(defaults.qps == 40);
  CHECK(defaults.burst == 80);
  FakeClock clock;
  TokenBucket bucket(defaults.qps, defaults.burst, clock);
  for (int i = 0; i < 80; ++i) REQUIRE(bucket.reserve() == 0ms);
  CHECK(bucket.reserve() == 25ms);
  CHECK(bucket.reserve() == 50ms);
  clock.advance(1s);  // 40 tokens back, 2 already promised
  for (int i = 0; i < 38; ++i) REQUIRE(bucket.reserve() == 0ms);
  CHECK(bucket.reserve() == 25ms);
}
