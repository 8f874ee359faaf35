// Records core v1 Events about objects, as client-go's recorder with its correlator: the first
// occurrence of (source, object, type, reason, message) creates an Event; a repeat patches that Event's
// count and lastTimestamp instead of creating a duplicate. The correlation cache is bounded (LRU).
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/clock.h"
#include "kube/client.h"

namespace sluice::kube {

struct EventSource {
  std::string component;  // "sluice-controller"
  std::string host;       // optional
};

class EventRecorder {
 public:
  // `client` must outlive the recorder. `cacheSize` bounds how many distinct events are remembered; a
  // repeat of one forgotten creates a new Event (as client-go's LRU does).
  // `clock` stamps the Events (and must outlive the recorder too).
  EventRecorder(Client& client, EventSource source, std::size_t cacheSize = 4096,
                const Clock& clock = realClock());
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;
  ~EventRecorder();

  // Records an event about `object` (any object with apiVersion, kind and metadata). `type` is "Normal"
  // or "Warning". Returns the Event as stored (count 1 when new, n on the n-th repeat). Blocks on one
  // API call (two when a remembered Event was deleted meanwhile); thread-safe (calls are serialised, so
  // concurrent repeats count exactly).
  ApiResult<nlohmann::json> record(const nlohmann::json& object, const std::string& type,
                                   const std::string& reason, const std::string& message);

  // How many distinct events are remembered now. Thread-safe.
  std::size_t cached() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::kube
