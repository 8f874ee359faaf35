// The manual clock tests and simulations drive time with: both times move together, only when told, and
// it can be read from another thread while a test advances it.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "base/clock.h"

using namespace sluice;
using namespace std::chrono_literals;

TEST_CASE("a manual clock moves monotonic and wall time together, only when advanced", "[base][clock]") {
  ManualClock clock;
  const auto mono = clock.now();
  const auto wall = clock.wallNow();
  CHECK(clock.now() == mono);
  CHECK(clock.wallNow() == wall);
  clock.advance(1500ms);
  CHECK(clock.now() - mono == 1500ms);
  CHECK(clock.wallNow() - wall == 1500ms);
}

TEST_CASE("a manual clock advanced on one thread is seen on another", "[base][clock]") {
  ManualClock clock;
  const auto start = clock.now();
  std::atomic<bool> seen{false};
  std::thread reader([&] {
    while (clock.now() - start < 10s) std::this_thread::yield();
    seen = true;
  });
  clock.advance(10s);
  reader.join();
  CHECK(seen);
}

TEST_CASE("the real clock's two times both move forward", "[base][clock]") {
  const Clock& clock = realClock();
  const auto mono = clock.now();
  const auto wall = clock.wallNow();
  std::this_thread::sleep_for(2ms);
  CHECK(clock.now() > mono);
  CHECK(clock.wallNow() > wall);
}
