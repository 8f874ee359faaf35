// Time as an injected dependency: monotonic time for deadlines, backoff and lease expiry, wall time for
// the timestamps written into objects. Everything outside the engine that needs the time takes a Clock,
// so that tests drive it with ManualClock instead of sleeping; realClock() is the only reader of the
// system's clocks.
#pragma once

#include <chrono>
#include <mutex>

namespace sluice {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;  // monotonic
  using WallTime = std::chrono::system_clock::time_point;   // calendar time, may jump
  virtual ~Clock() = default;
  // Monotonic time: never goes back; only differences mean anything. Thread-safe.
  virtual TimePoint now() const = 0;
  // Wall-clock time, for timestamps others read (creationTimestamp, Lease renewTime). Thread-safe.
  virtual WallTime wallNow() const = 0;
};

// std::chrono::steady_clock and system_clock. Thread-safe; lives for the whole program.
const Clock& realClock();

// A clock that moves only when told to: both times advance together. Thread-safe, so a test can advance
// it while the code under test reads it on another thread.
class ManualClock final : public Clock {
 public:
  // Starts an hour into monotonic time (so that "an hour ago" exists) and at `wall`.
  explicit ManualClock(WallTime wall = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1})
      : mono_(std::chrono::hours(1)), wall_(wall) {}
  TimePoint now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return mono_;
  }
  WallTime wallNow() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return wall_;
  }
  void advance(std::chrono::nanoseconds d) {
    std::lock_guard<std::mutex> lock(mu_);
    mono_ += d;
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  }

 private:
  mutable std::mutex mu_;
  TimePoint mono_;
  WallTime wall_;
};

}  // namespace sluice
