// The controller work queue, with client-go's semantics: keys de-duplicated, never handed to two workers
// at once, re-queued when added while being processed, delayed adds, and rate-limited re-adds (per-key
// exponential backoff and an overall token bucket). Time comes from an injected clock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "base/clock.h"

namespace sluice::kube {

using sluice::Clock;
using sluice::realClock;

using Millis = std::chrono::milliseconds;

// Per-key exponential backoff: base * 2^(failures so far), capped (client-go's
// ItemExponentialFailureRateLimiter; defaults 5 ms and 1000 s). Thread-safe.
class ExponentialBackoff {
 public:
  explicit ExponentialBackoff(Millis base = Millis(5), Millis max = Millis(1000 * 1000))
      : base_(base), max_(max) {}
  // The delay for this failure of `key`, and counts it.
  Millis when(const std::string& key);
  // Clears `key`'s failure count (after a success).
  void forget(const std::string& key);
  // How many failures of `key` are counted.
  int numRequeues(const std::string& key) const;

 private:
  Millis base_, max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> failures_;
};

// A token bucket shared by all keys (golang.org/x/time/rate reservations, as client-go uses them): it
// starts full with `burst` tokens and refills at `qps`; every reservation takes a token, and the returned
// delay is how long until that token exists. Thread-safe.
class TokenBucket {
 public:
  TokenBucket(double qps, int burst, const Clock& clock);
  // Reserves a token now; returns how long the caller must wait before using it (zero if available).
  Millis reserve();

 private:
  double qps_;
  double burst_;
  const Clock& clock_;
  std::mutex mu_;
  double tokens_;
  Clock::TimePoint last_;
};

// Told what a WorkQueue does, for its metrics (client-go's workqueue MetricsProvider). Called under the
// queue's lock: implementations must be quick and must not call back into the queue.
class WorkQueueObserver {
 public:
  virtual ~WorkQueueObserver() = default;
  // A key was queued (not counted when it was queued already).
  virtual void added() = 0;
  // The number of keys queued and ready changed to `depth`.
  virtual void depthChanged(size_t depth) = 0;
  // A worker took a key that had waited `waited` in the queue (from ready to handed out).
  virtual void taken(std::chrono::steady_clock::duration waited) = 0;
  // A worker called done() on a key it had held for `worked` (client-go's work duration).
  virtual void finished(std::chrono::steady_clock::duration worked) = 0;
  // A key was re-added with rate limiting: a retry after a failed reconcile.
  virtual void retried() = 0;
};

struct WorkQueueOptions {
  WorkQueueObserver* observer = nullptr;  // must outlive the queue; nullptr: none
  Millis baseBackoff{5};
  Millis maxBackoff{1000 * 1000};
  double qps = 10;  // the overall bucket: client-go's DefaultControllerRateLimiter
  int burst = 100;
};

// The queue. Workers loop on get() ... done(key). All methods are thread-safe.
class WorkQueue {
 public:
  explicit WorkQueue(const Clock& clock = realClock(), WorkQueueOptions options = {});
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` unless it is already queued; if a worker is processing it, it is queued again when that
  // worker calls done(). Ignored after shutDown().
  void add(const std::string& key);
  // Queues `key` once `delay` has passed (at once when delay <= 0). A key already waiting keeps the
  // earlier of the two times.
  void addAfter(const std::string& key, Millis delay);
  // addAfter(key, max(per-key backoff, token bucket delay)): the re-add after a failed reconcile.
  void addRateLimited(const std::string& key);
  // Clears the key's backoff (after a successful reconcile). Does not remove it from the queue.
  void forget(const std::string& key);
  // How many rate-limited re-adds of `key` are counted since the last forget().
  int numRequeues(const std::string& key) const;

  // Blocks until a key is ready and hands it to the caller, who owns it until done(key). Returns nullopt
  // once the queue is shut down and has nothing queued.
  std::optional<std::string> get();
  // As get(), without blocking: nullopt when nothing is ready now (per the injected clock).
  std::optional<std::string> tryGet();
  // Marks `key` processed; if it was added meanwhile, it is queued again.
  void done(const std::string& key);

  // Stops accepting keys; get() drains what is queued, then returns nullopt. Delayed keys are dropped.
  void shutDown();
  // As shutDown(), then blocks until every key handed out has been done().
  void shutDownWithDrain();
  bool shuttingDown() const;

  // Keys queued and ready (not counting those being processed or waiting for a delay).
  size_t len() const;

 private:
  // Moves delayed keys whose time has come into the queue. Requires mu_.
  void promoteReadyLocked(Clock::TimePoint now);
  void addLocked(const std::string& key);
  // Appends `key` to the ready queue and wakes a worker. Requires mu_.
  void pushLocked(const std::string& key);
  std::optional<std::string> popLocked();

  const Clock& clock_;
  WorkQueueObserver* observer_;
  ExponentialBackoff backoff_;
  TokenBucket bucket_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // queued or to be re-queued
  std::unordered_set<std::string> processing_;  // handed to a worker
  std::multimap<Clock::TimePoint, std::string> waiting_;
  std::unordered_map<std::string, Clock::TimePoint> waitingAt_;
  std::unordered_map<std::string, Clock::TimePoint> queuedAt_;  // with an observer: when it became ready
  std::unordered_map<std::string, Clock::TimePoint> takenAt_;   // with an observer: when handed out
  bool shuttingDown_ = false;
};

}  // namespace sluice::kube
