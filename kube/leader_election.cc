// Leader election: the pure lease decision and the acquire/renew loop writing the Lease.
#include "kube/leader_election.h"

#include <mutex>
#include <thread>

#include "base/time.h"

namespace sluice::kube {

using nlohmann::json;

namespace {

const ResourceRef kLeaseResource{"coordination.k8s.io", "v1", "leases", true, "Lease"};

json specFrom(const LeaseRecord& r) {
  json spec = {{"holderIdentity", r.holderIdentity},
               {"leaseDurationSeconds", r.leaseDurationSeconds},
               {"leaseTransitions", r.leaseTransitions}};
  if (!r.acquireTime.empty()) spec["acquireTime"] = r.acquireTime;
  if (!r.renewTime.empty()) spec["renewTime"] = r.renewTime;
  return spec;
}

}  // namespace

LeaseRecord leaseRecordFrom(const json& lease) {
  LeaseRecord r;
  if (!lease.is_object() || !lease.contains("spec") || !lease["spec"].is_object()) return r;
  const json& s = lease["spec"];
  auto str = [&](const char* f) { return s.contains(f) && s[f].is_string() ? s[f].get<std::string>() : ""; };
  auto num = [&](const char* f) { return s.contains(f) && s[f].is_number_integer() ? s[f].get<int>() : 0; };
  r.holderIdentity = str("holderIdentity");
  r.leaseDurationSeconds = num("leaseDurationSeconds");
  r.acquireTime = str("acquireTime");
  r.renewTime = str("renewTime");
  r.leaseTransitions = num("leaseTransitions");
  return r;
}

LeaseDecision decideLease(const LeaseRecord& current, const std::string& identity,
                          Clock::TimePoint observedTime, Clock::TimePoint now,
                          std::chrono::milliseconds leaseDuration) {
  if (current.holderIdentity == identity) return LeaseDecision::kRenew;
  if (current.holderIdentity.empty()) return LeaseDecision::kTakeOver;
  // The holder's own duration when it wrote one (client-go uses the record's), else ours.
  auto duration = current.leaseDurationSeconds > 0
                      ? std::chrono::milliseconds(current.leaseDurationSeconds * 1000)
                      : leaseDuration;
  return observedTime + duration > now ? LeaseDecision::kWait : LeaseDecision::kTakeOver;
}

struct LeaderElector::Impl {
  Client& client;
  LeaderElectionConfig config;
  const Clock& clock;

  mutable std::mutex mu;
  std::string observedHolder;
  std::optional<LeaseRecord> observedRecord;
  Clock::TimePoint observedTime{};
  std::atomic<bool> leading{false};
  std::atomic<bool> stopped{false};

  Impl(Client& c, LeaderElectionConfig cfg, const Clock& clk)
      : client(c), config(std::move(cfg)), clock(clk) {}

  void observe(const LeaseRecord& r) {
    std::string changedTo;
    {
      std::lock_guard lock(mu);
      if (!observedRecord || !(*observedRecord == r)) {
        observedRecord = r;
        observedTime = clock.now();
      }
      if (observedHolder != r.holderIdentity) {
        observedHolder = r.holderIdentity;
        changedTo = r.holderIdentity;
      }
    }
    if (!changedTo.empty() && config.onNewLeader) config.onNewLeader(changedTo);
  }

  int durationSeconds() const {
    return static_cast<int>(std::max<int64_t>(1, (config.leaseDuration.count() + 999) / 1000));
  }

  void annotate(json& lease) const {
    for (const auto& [key, value] : config.holderAnnotations) lease["metadata"]["annotations"][key] = value;
  }

  // One round of client-go's tryAcquireOrRenew: true when we hold the lease after it.
  bool tryAcquireOrRenew() {
    auto got = client.get(kLeaseResource, config.ns, config.name);
    std::string now = formatRfc3339Micro(clock.wallNow());
    if (!got) {
      if (!got.error().isNotFound()) return false;
      LeaseRecord mine{config.identity, durationSeconds(), now, now, 0};
      json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                    {"kind", "Lease"},
                    {"metadata", {{"name", config.name}, {"namespace", config.ns}}},
                    {"spec", specFrom(mine)}};
      annotate(lease);
      auto created = client.create(kLeaseResource, config.ns, lease);
      if (!created) return false;
      observe(mine);
      return true;
    }
    LeaseRecord current = leaseRecordFrom(*got);
    observe(current);
    Clock::TimePoint seen;
    {
      std::lock_guard lock(mu);
      seen = observedTime;
    }
    LeaseDecision d = decideLease(current, config.identity, seen, clock.now(), config.leaseDuration);
    if (d == LeaseDecision::kWait) return false;
    LeaseRecord mine = current;
    mine.holderIdentity = config.identity;
    mine.leaseDurationSeconds = durationSeconds();
    mine.renewTime = now;
    if (d == LeaseDecision::kTakeOver) {
      mine.acquireTime = now;
      mine.leaseTransitions = current.leaseTransitions + 1;
    }
    json updated = *got;  // keeps metadata.resourceVersion: a concurrent writer makes this a Conflict
    updated["spec"] = specFrom(mine);
    annotate(updated);
    auto put = client.update(kLeaseResource, updated);
    if (!put) return false;
    observe(mine);
    return true;
  }

  // Waits until `d` has passed on the clock, polling in small real steps (so that a test's clock,
  // advanced from another thread, is followed); false when stopped meanwhile.
  bool pause(std::chrono::milliseconds d) {
    auto until = clock.now() + d;
    while (clock.now() < until) {
      if (stopped) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return !stopped;
  }

  void release() {
    auto got = client.get(kLeaseResource, config.ns, config.name);
    if (!got) return;
    LeaseRecord current = leaseRecordFrom(*got);
    if (current.holderIdentity != config.identity) return;
    LeaseRecord freed = current;
    freed.holderIdentity.clear();
    freed.leaseDurationSeconds = 1;
    freed.renewTime = formatRfc3339Micro(clock.wallNow());
    json updated = *got;
    updated["spec"] = specFrom(freed);
    (void)client.update(kLeaseResource, updated);
  }
};

LeaderElector::LeaderElector(Client& client, LeaderElectionConfig config, const Clock& clock)
    : impl_(std::make_unique<Impl>(client, std::move(config), clock)) {}

LeaderElector::~LeaderElector() = default;

Status LeaderElector::run() {
  const auto& c = impl_->config;
  if (c.name.empty() || c.identity.empty())
    return Error{"leader election: lease name and identity are required"};
  if (!(c.leaseDuration > c.renewDeadline && c.renewDeadline > c.retryPeriod && c.retryPeriod.count() > 0)) {
    return Error{"leader election: need leaseDuration > renewDeadline > retryPeriod > 0"};
  }
  // Campaign.
  while (!impl_->tryAcquireOrRenew()) {
    if (!impl_->pause(c.retryPeriod)) return Status::Ok();
  }
  if (impl_->stopped) {
    if (c.releaseOnStop) impl_->release();
    return Status::Ok();
  }
  impl_->leading = true;
  if (c.onStartedLeading) c.onStartedLeading();
  // Renew; give up when no renewal succeeded within the renew deadline.
  auto lastRenew = impl_->clock.now();
  while (impl_->pause(c.retryPeriod)) {
    if (impl_->tryAcquireOrRenew()) {
      lastRenew = impl_->clock.now();
    } else if (impl_->clock.now() - lastRenew >= c.renewDeadline) {
      break;
    }
  }
  // Stop leading before the lease is released, so that no other candidate starts while this one still
  // acts as leader.
  impl_->leading = false;
  if (c.onStoppedLeading) c.onStoppedLeading();
  if (impl_->stopped && c.releaseOnStop) impl_->release();
  return Status::Ok();
}

void LeaderElector::stop() { impl_->stopped = true; }

bool LeaderElector::isLeader() const { return impl_->leading; }

std::string LeaderElector::observedLeader() const {
  std::lock_guard lock(impl_->mu);
  return impl_->observedHolder;
}

}  // namespace sluice::kube
