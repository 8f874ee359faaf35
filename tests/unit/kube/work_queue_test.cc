// The work queue against client-go's documented semantics (workqueue and DefaultControllerRateLimiter):
// backoff maths and delays on a fake clock, de-duplication and exclusivity with real threads.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "kube/work_queue.h"

using namespace sluice::kube;
using namespace std::chrono_literals;

using FakeClock = sluice::ManualClock;

TEST_CASE("per-key backoff doubles from 5 ms and stops at 1000 s", "[kube][workqueue]") {
  ExponentialBackoff backoff;
  const int64_t expected[] = {5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560};
  for (int64_t ms : expected) CHECK(backoff.when("a").count() == ms);
  CHECK(backoff.numRequeues("a") == 10);
  CHECK(backoff.when("b").count() == 5);  // keys are independent
  for (int i = 0; i < 7; ++i) (void)backoff.when("a");
  CHECK(backoff.when("a").count() == 655360);       // 5 ms * 2^17
  CHECK(backoff.when("a") == Millis(1000 * 1000));  // capped from the 19th failure on
  for (int i = 0; i < 100; ++i) CHECK(backoff.when("a") == Millis(1000 * 1000));  // no overflow
  backoff.forget("a");
  CHECK(backoff.numRequeues("a") == 0);
  CHECK(backoff.when("a").count() == 5);
}

TEST_CASE("the overall token bucket allows a burst of 100, then 10 a second", "[kube][workqueue]") {
  FakeClock clock;
  TokenBucket bucket(10, 100, clock);
  for (int i = 0; i < 100; ++i) REQUIRE(bucket.reserve() == Millis(0));
  CHECK(bucket.reserve() == Millis(100));
  CHECK(bucket.reserve() == Millis(200));
  clock.advance(1s);  // 10 tokens back, 2 of them already promised
  for (int i = 0; i < 8; ++i) REQUIRE(bucket.reserve() == Millis(0));
  CHECK(bucket.reserve() == Millis(100));
  clock.advance(std::chrono::hours(1));  // refills to the burst, never beyond
  for (int i = 0; i < 100; ++i) REQUIRE(bucket.reserve() == Millis(0));
  CHECK(bucket.reserve() == Millis(100));
}

TEST_CASE("keys are de-duplicated and re-queued when added while processed", "[kube][workqueue]") {
  FakeClock clock;
  WorkQueue q(clock);
  q.add("a");
  q.add("b");
  q.add("a");
  CHECK(q.len() == 2);
  auto first = q.tryGet();
  REQUIRE(first == std::optional<std::string>("a"));
  q.add("a");  // dirty while processing: not handed to a second worker
  CHECK(q.len() == 1);
  CHECK(q.tryGet() == std::optional<std::string>("b"));
  CHECK_FALSE(q.tryGet().has_value());
  q.add("a");  // still only once
  q.done("a");
  CHECK(q.len() == 1);
  CHECK(q.tryGet() == std::optional<std::string>("a"));
  q.done("a");
  q.done("b");
  CHECK_FALSE(q.tryGet().has_value());
}

TEST_CASE("delayed adds wait for the clock, and the earlier time wins", "[kube][workqueue]") {
  FakeClock clock;
  WorkQueue q(clock);
  q.addAfter("a", 50ms);
  q.addAfter("b", 0ms);  // no delay: queued at once
  CHECK(q.tryGet() == std::optional<std::string>("b"));
  CHECK_FALSE(q.tryGet().has_value());
  clock.advance(49ms);
  CHECK_FALSE(q.tryGet().has_value());
  q.addAfter("a", 100ms);  // later than the pending 50 ms: ignored
  clock.advance(1ms);
  CHECK(q.tryGet() == std::optional<std::string>("a"));
  q.done("a");
  q.addAfter("c", 100ms);
  q.addAfter("c", 10ms);  // earlier: replaces
  clock.advance(10ms);
  CHECK(q.tryGet() == std::optional<std::string>("c"));
  clock.advance(1h);
  CHECK_FALSE(q.tryGet().has_value());  // and the 100 ms entry is gone
}

TEST_CASE("rate-limited re-adds back off per key until forgotten", "[kube][workqueue]") {
  FakeClock clock;
  WorkQueue q(clock);
  for (int64_t expectedMs : {5, 10, 20, 40}) {
    q.addRateLimited("a");
    clock.advance(Millis(expectedMs - 1));
    CHECK_FALSE(q.tryGet().has_value());
    clock.advance(1ms);
    REQUIRE(q.tryGet() == std::optional<std::string>("a"));
    q.done("a");
  }
  CHECK(q.numRequeues("a") == 4);
  q.forget("a");
  CHECK(q.numRequeues("a") == 0);
  q.addRateLimited("a");
  clock.advance(5ms);
  CHECK(q.tryGet() == std::optional<std::string>("a"));
}

TEST_CASE("the shared bucket delays re-adds once 100 keys have used the burst", "[kube][workqueue]") {
  FakeClock clock;
  WorkQueue q(clock);
  for (int i = 0; i < 101; ++i) q.addRateLimited("key-" + std::to_string(i));
  clock.advance(5ms);
  int ready = 0;
  while (auto k = q.tryGet()) {
    ++ready;
    q.done(*k);
  }
  CHECK(ready == 100);
  clock.advance(94ms);
  CHECK_FALSE(q.tryGet().has_value());
  clock.advance(1ms);  // the 101st token exists 100 ms after the burst
  CHECK(q.tryGet() == std::optional<std::string>("key-100"));
}

TEST_CASE("shut down: queued keys drain, new ones are refused, blocked workers return", "[kube][workqueue]") {
  WorkQueue q;
  q.add("a");
  q.add("b");
  q.addAfter("later", 1h);
  std::atomic<bool> returned{false};
  WorkQueue idle;
  std::thread blocked([&] {
    auto k = idle.get();
    returned = !k.has_value();
  });
  q.shutDown();
  idle.shutDown();
  blocked.join();
  CHECK(returned);
  q.add("c");
  CHECK(q.get() == std::optional<std::string>("a"));
  CHECK(q.get() == std::optional<std::string>("b"));
  CHECK_FALSE(q.get().has_value());
  CHECK(q.shuttingDown());
}

TEST_CASE("shutDownWithDrain waits for keys in hand to be done", "[kube][workqueue]") {
  WorkQueue q;
  q.add("a");
  auto k = q.get();
  REQUIRE(k.has_value());
  std::atomic<bool> drained{false};
  std::thread closer([&] {
    q.shutDownWithDrain();
    drained = true;
  });
  // The closer cannot finish while "a" is in hand; give it time to reach its wait.
  for (int i = 0; i < 50 && !q.shuttingDown(); ++i) std::this_thread::sleep_for(1ms);
  REQUIRE(q.shuttingDown());
  CHECK_FALSE(drained);
  q.done(*k);
  closer.join();
  CHECK(drained);
}

TEST_CASE("with real threads no key is ever held by two workers, and every add is processed",
          "[kube][workqueue]") {
  WorkQueue q;
  constexpr int kKeys = 20;
  constexpr int kAddsPerProducer = 2000;
  std::mutex mu;
  std::map<std::string, int> holders;    // workers holding each key right now
  std::map<std::string, int> addsAfter;  // adds since the key's processing last started
  std::atomic<int> overlaps{0};
  std::atomic<int> processed{0};

  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.get()) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (++holders[*key] > 1) ++overlaps;
          addsAfter[*key] = 0;
        }
        std::this_thread::yield();
        {
          std::lock_guard<std::mutex> lock(mu);
          --holders[*key];
        }
        ++processed;
        q.done(*key);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kAddsPerProducer; ++i) {
        const std::string key = "k" + std::to_string((i * 7 + p) % kKeys);
        {
          std::lock_guard<std::mutex> lock(mu);
          ++addsAfter[key];
        }
        q.add(key);
      }
    });
  }
  for (auto& t : producers) t.join();
  // Every key added after its last processing began must be processed once more: wait until none is owed.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  bool settled = false;
  while (std::chrono::steady_clock::now() < deadline && !settled) {
    std::this_thread::sleep_for(1ms);
    std::lock_guard<std::mutex> lock(mu);
    settled = q.len() == 0 &&
              std::all_of(addsAfter.begin(), addsAfter.end(), [](const auto& kv) { return kv.second == 0; });
  }
  q.shutDownWithDrain();
  for (auto& t : workers) t.join();
  CHECK(settled);
  CHECK(overlaps == 0);
  CHECK(processed > 0);
  CHECK(processed <= 2 * kAddsPerProducer);  // de-duplicated: never more runs than adds
}

namespace {

// Records what the queue reports, as the controller's metrics see it.
struct RecordingObserver final : WorkQueueObserver {
  int adds = 0;
  std::vector<size_t> depths;
  std::vector<std::chrono::steady_clock::duration> waits;
  std::vector<std::chrono::steady_clock::duration> worked;
  int retries = 0;
  void added() override { ++adds; }
  void depthChanged(size_t depth) override { depths.push_back(depth); }
  void taken(std::chrono::steady_clock::duration waited) override { waits.push_back(waited); }
  void finished(std::chrono::steady_clock::duration d) override { worked.push_back(d); }
  void retried() override { ++retries; }
};

WorkQueueOptions observedBy(RecordingObserver& observer) {
  WorkQueueOptions options;
  options.observer = &observer;
  return options;
}

}  // namespace

TEST_CASE("the queue reports adds, depth and the time a key waited, as client-go's workqueue metrics",
          "[kube][workqueue][metrics]") {
  FakeClock clock;
  RecordingObserver observer;
  WorkQueue q(clock, observedBy(observer));
  q.add("a");
  q.add("a");  // already queued: not an add
  q.add("b");
  CHECK(observer.adds == 2);
  CHECK(observer.depths == std::vector<size_t>{1, 2});
  clock.advance(250ms);
  REQUIRE(q.tryGet() == "a");
  CHECK(observer.depths.back() == 1);
  REQUIRE(observer.waits.size() == 1);
  CHECK(observer.waits[0] == 250ms);
  // Added while being processed: counted now, queued (and timed) from done() on.
  q.add("a");
  CHECK(observer.adds == 3);
  clock.advance(100ms);
  q.done("a");
  CHECK(observer.depths.back() == 2);
  clock.advance(50ms);
  REQUIRE(q.tryGet() == "b");
  REQUIRE(q.tryGet() == "a");
  CHECK(observer.waits == std::vector<std::chrono::steady_clock::duration>{250ms, 400ms, 50ms});
  CHECK(observer.depths.back() == 0);
  // A delayed key waits in the queue only from the moment it is due.
  q.addAfter("c", 1s);
  CHECK(observer.adds == 3);
  clock.advance(1s);
  REQUIRE(q.tryGet() == "c");
  CHECK(observer.adds == 4);
  CHECK(observer.waits.back() == 0ms);
}

TEST_CASE("the queue reports how long a worker held a key and each rate-limited retry",
          "[kube][workqueue][metrics]") {
  FakeClock clock;
  RecordingObserver observer;
  WorkQueue q(clock, observedBy(observer));
  q.add("a");
  REQUIRE(q.tryGet() == "a");
  clock.advance(120ms);
  q.addRateLimited("a");  // the reconcile failed: retried with backoff
  q.done("a");
  CHECK(observer.worked == std::vector<std::chrono::steady_clock::duration>{120ms});
  CHECK(observer.retries == 1);
  q.shutDown();
  q.addRateLimited("a");  // after shutdown nothing is queued, and nothing counted
  CHECK(observer.retries == 1);
}
