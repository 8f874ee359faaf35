// Leader election on a coordination.k8s.io/v1 Lease, as client-go's: acquire or renew every retry
// period with optimistic concurrency (the Lease's resourceVersion), lose leadership when a renewal has
// not succeeded within the renew deadline, and judge another holder's lease expired on this candidate's
// own clock, from when it last saw the record change (client-go's observedTime), never from timestamps
// written by another machine.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "kube/client.h"
#include "kube/work_queue.h"

namespace sluice::kube {

// The fields of a Lease's spec that election reads and writes.
struct LeaseRecord {
  std::string holderIdentity;
  int leaseDurationSeconds = 0;
  std::string acquireTime;  // RFC 3339 with microseconds (metav1.MicroTime)
  std::string renewTime;
  int leaseTransitions = 0;

  bool operator==(const LeaseRecord&) const = default;
};

// The spec fields of a Lease object (absent fields stay empty/zero). Pure.
LeaseRecord leaseRecordFrom(const nlohmann::json& lease);

enum class LeaseDecision {
  kRenew,     // we hold it: write a new renewTime
  kTakeOver,  // free, or its holder let it expire: write our identity, acquireTime, transitions + 1
  kWait,      // another candidate holds it and its lease has not expired on our clock
};

// What a candidate does with the record it just read. `observedTime` is when this candidate last saw
// the record change (the caller updates it when `current` differs from what it saw before). A record
// with an empty holder is free. Pure.
LeaseDecision decideLease(const LeaseRecord& current, const std::string& identity,
                          Clock::TimePoint observedTime, Clock::TimePoint now,
                          std::chrono::milliseconds leaseDuration);

struct LeaderElectionConfig {
  std::string ns = "default";
  std::string name;      // the Lease's name
  std::string identity;  // this candidate, unique among candidates (e.g. hostname + pid)
  std::chrono::milliseconds leaseDuration{15000};
  std::chrono::milliseconds renewDeadline{10000};
  std::chrono::milliseconds retryPeriod{2000};
  // On stop() while leading, write the Lease free (empty holder) so that another candidate takes over at
  // once instead of after leaseDuration.
  bool releaseOnStop = true;
  // Annotations the holder writes on the Lease with each acquire and renewal (the controller publishes
  // its version there, for `sluice version`).
  std::map<std::string, std::string> holderAnnotations;
  std::function<void()> onStartedLeading;                        // on the elector's thread
  std::function<void()> onStoppedLeading;                        // once leadership is lost or released
  std::function<void(const std::string& identity)> onNewLeader;  // whenever the observed holder changes
};

class LeaderElector {
 public:
  // `client` must outlive the elector; `clock` drives expiry judgements and the renew deadline.
  LeaderElector(Client& client, LeaderElectionConfig config, const Clock& clock = realClock());
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;
  ~LeaderElector();

  // Campaigns until leader, then renews until stop() or until a renewal has failed for the whole renew
  // deadline. Returns when not leading any more (after onStoppedLeading, if it had started). Blocks.
  // Errors from the API are retried every retry period; an invalid config is the only error returned.
  Status run();
  // Asks run() to return (releasing the lease when configured). Thread-safe, idempotent.
  void stop();
  // Whether this candidate holds leadership now (by its own last successful write). Thread-safe.
  bool isLeader() const;
  // The holder this candidate last observed. Thread-safe.
  std::string observedLeader() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::kube
