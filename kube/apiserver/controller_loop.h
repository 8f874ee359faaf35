// The frame the in-server controllers (garbage collector, namespace controller) share: a watch of every
// object feeding a work queue, and one worker thread that takes keys from it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "kube/apiserver/registry.h"
#include "kube/work_queue.h"

namespace sluice::apiserver {

class ControllerLoop {
 public:
  // Runs on the store's writing thread for every object, first the current ones: must be quick, and may
  // only queue keys.
  using Observe = std::function<void(const ResourceType&, const WatchEvent&)>;
  // Handles one key on the worker thread; false re-queues it with backoff, true clears its backoff.
  using Process = std::function<bool(const std::string& key)>;

  // Retries wait on `clock` (the registry's), which must outlive the loop.
  explicit ControllerLoop(const Clock& clock) : queue_(clock) {}
  ControllerLoop(const ControllerLoop&) = delete;
  ControllerLoop& operator=(const ControllerLoop&) = delete;
  // Stops the worker (it finishes the key in hand) and then the watch.
  ~ControllerLoop();

  // Watches `registry` (the current objects reach `observe` inside this call) and then starts the worker.
  // An error means the registry could not be watched; nothing runs then.
  std::optional<ApiError> start(Registry& registry, const Observe& observe, Process process);

  // As above, with `controller`'s observe(type, event) and process(key), which must outlive this loop.
  template <typename Controller>
  std::optional<ApiError> start(Registry& registry, Controller* controller) {
    return start(
        registry, [controller](const ResourceType& t, const WatchEvent& e) { controller->observe(t, e); },
        [controller](const std::string& key) { return controller->process(key); });
  }

  kube::WorkQueue& queue() { return queue_; }

 private:
  kube::WorkQueue queue_;
  std::unique_ptr<RegistryWatch> watch_;
  std::thread worker_;
};

}  // namespace sluice::apiserver
