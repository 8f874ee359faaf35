// The shared watch-queue-worker frame of the in-server controllers.
#include "kube/apiserver/controller_loop.h"

namespace sluice::apiserver {

ControllerLoop::~ControllerLoop() {
  queue_.shutDown();
  if (worker_.joinable()) worker_.join();
  watch_.reset();
}

std::optional<ApiError> ControllerLoop::start(Registry& registry, const Observe& observe, Process process) {
  auto watch = registry.watchAll(observe);
  if (!watch) return watch.error();
  watch_ = std::move(watch).value();
  worker_ = std::thread([this, process = std::move(process)] {
    while (auto key = queue_.get()) {
      if (process(*key)) {
        queue_.forget(*key);
      } else {
        queue_.addRateLimited(*key);
      }
      queue_.done(*key);
    }
  });
  return std::nullopt;
}

}  // namespace sluice::apiserver
