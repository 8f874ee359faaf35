// The real clock: the one place that reads the system's clocks.
#include "base/clock.h"

namespace sluice {
namespace {

class RealClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
};

}  // namespace

const Clock& realClock() {
  static const RealClock clock;
  return clock;
}

}  // namespace sluice
