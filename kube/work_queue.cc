// The work queue and its rate limiters.
#include "kube/work_queue.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace sluice::kube {

Millis ExponentialBackoff::when(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  const int exp = failures_[key]++;
  // base * 2^exp, computed in double so that large exponents saturate instead of overflowing.
  const double ms = static_cast<double>(base_.count()) * std::pow(2.0, exp);
  if (ms >= static_cast<double>(max_.count())) return max_;
  return Millis(static_cast<int64_t>(ms));
}

void ExponentialBackoff::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int ExponentialBackoff::numRequeues(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

TokenBucket::TokenBucket(double qps, int burst, const Clock& clock)
    : qps_(qps), burst_(burst), clock_(clock), tokens_(burst), last_(clock.now()) {}

Millis TokenBucket::reserve() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = clock_.now();
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0 || qps_ <= 0) return Millis(0);
  return Millis(static_cast<int64_t>(std::ceil(-tokens_ / qps_ * 1000.0)));
}

WorkQueue::WorkQueue(const Clock& clock, WorkQueueOptions options)
    : clock_(clock),
      observer_(options.observer),
      backoff_(options.baseBackoff, options.maxBackoff),
      bucket_(options.qps, options.burst, clock) {}

void WorkQueue::addLocked(const std::string& key) {
  if (shuttingDown_ || dirty_.count(key)) return;
  dirty_.insert(key);
  if (observer_) observer_->added();
  if (processing_.count(key)) return;  // queued again by done()
  pushLocked(key);
}

void WorkQueue::pushLocked(const std::string& key) {
  queue_.push_back(key);
  if (observer_) {
    queuedAt_.emplace(key, clock_.now());
    observer_->depthChanged(queue_.size());
  }
  cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  addLocked(key);
}

void WorkQueue::addAfter(const std::string& key, Millis delay) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shuttingDown_) return;
  if (delay <= Millis(0)) {
    addLocked(key);
    return;
  }
  const auto at = clock_.now() + delay;
  auto existing = waitingAt_.find(key);
  if (existing != waitingAt_.end()) {
    if (existing->second <= at) return;
    auto range = waiting_.equal_range(existing->second);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == key) {
        waiting_.erase(it);
        break;
      }
    }
  }
  waiting_.emplace(at, key);
  waitingAt_[key] = at;
  cv_.notify_all();  // a blocked get() may need to wait for less time now
}

void WorkQueue::addRateLimited(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (observer_ && !shuttingDown_) observer_->retried();
  }
  const Millis delay = std::max(backoff_.when(key), bucket_.reserve());
  addAfter(key, delay);
}

void WorkQueue::forget(const std::string& key) { backoff_.forget(key); }

int WorkQueue::numRequeues(const std::string& key) const { return backoff_.numRequeues(key); }

void WorkQueue::promoteReadyLocked(Clock::TimePoint now) {
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    std::string key = std::move(waiting_.begin()->second);
    waiting_.erase(waiting_.begin());
    waitingAt_.erase(key);
    addLocked(key);
  }
}

std::optional<std::string> WorkQueue::popLocked() {
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  if (observer_) {
    if (auto it = queuedAt_.find(key); it != queuedAt_.end()) {
      observer_->taken(clock_.now() - it->second);
      queuedAt_.erase(it);
    }
    takenAt_[key] = clock_.now();
    observer_->depthChanged(queue_.size());
  }
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (!shuttingDown_) promoteReadyLocked(clock_.now());
    if (!queue_.empty()) return popLocked();
    if (shuttingDown_) return std::nullopt;
    if (waiting_.empty()) {
      cv_.wait(lock);
    } else {
      // Sleep until the earliest delayed key is due (by the injected clock's reckoning), or a change.
      const auto wait = waiting_.begin()->first - clock_.now();
      cv_.wait_for(lock, std::max<std::chrono::steady_clock::duration>(wait, Millis(1)));
    }
  }
}

std::optional<std::string> WorkQueue::tryGet() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!shuttingDown_) promoteReadyLocked(clock_.now());
  return popLocked();
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (observer_) {
    if (auto it = takenAt_.find(key); it != takenAt_.end()) {
      observer_->finished(clock_.now() - it->second);
      takenAt_.erase(it);
    }
  }
  processing_.erase(key);
  if (dirty_.count(key)) pushLocked(key);
  if (processing_.empty()) cv_.notify_all();  // shutDownWithDrain waits for this
}

void WorkQueue::shutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shuttingDown_ = true;
  waiting_.clear();
  waitingAt_.clear();
  cv_.notify_all();
}

void WorkQueue::shutDownWithDrain() {
  std::unique_lock<std::mutex> lock(mu_);
  shuttingDown_ = true;
  waiting_.clear();
  waitingAt_.clear();
  cv_.notify_all();
  cv_.wait(lock, [this] { return processing_.empty(); });
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shuttingDown_;
}

size_t WorkQueue::len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace sluice::kube
