// The simulated world one Rollout lives in: its ReplicaSets and their pods, its AnalysisRuns with
// scripted outcomes, Service selectors, the traffic weights in force, and the events emitted. The world
// carries out the engine's actions and shows itself to the engine as engine::Observed. Time is always
// passed in: the world changes only by actions and by the passing of virtual time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analysis/run_driver.h"
#include "base/result.h"
#include "base/time.h"
#include "engine/canary.h"
#include "sim/scenario.h"

namespace sluice::sim {

struct SimReplicaSet {
  std::string name;
  std::string podTemplateHash;
  int64_t revision = 0;
  int specReplicas = 0;
  std::vector<Time> podReadyAt;  // one entry per pod that exists, sorted: when it becomes ready
  std::optional<Time> scaleDownDeadline;

  int readyAt(Time now) const;  // pods ready (and available) at `now`
};

struct SimAnalysisRun {
  std::string name;
  engine::AnalysisRunType type = engine::AnalysisRunType::Step;
  std::optional<int> stepIndex;
  std::string podTemplateHash;
  std::vector<std::string> templates;
  Time createdAt;
  std::optional<Time> terminatedAt;
  // The real analysis engine running this run, when its templates were given; nullptr when the
  // scenario's analysisRuns script its outcome.
  std::shared_ptr<analysis::RunDriver> driver;
  std::optional<Time> nextCheck;  // when `driver` is next due
  std::string startError;         // why the run could not be built (it is then in Error at once)
};

// Builds the run driver for a run the engine creates: nullptr when its outcome is scripted, or an error
// (a template that cannot be merged) that puts the run in Error.
using RunFactory =
    std::function<Result<std::shared_ptr<analysis::RunDriver>>(const engine::CreateAnalysisRun& create)>;

// A run's phase at one instant, and since when it has had it (for terminal phases).
struct RunState {
  std::string phase;  // Running, Successful, Failed, Error, Inconclusive
  std::string message;
  std::optional<Time> endedAt;
};

struct WorldEvent {
  Time at;
  std::string type;  // Normal or Warning
  std::string reason;
  std::string message;
};

struct TrafficInForce {
  int canaryWeight = 0;
  int stableWeight = 100;
  std::string canaryHash;
  std::string stableHash;
  bool operator==(const TrafficInForce&) const = default;
};

class World {
 public:
  // `readiness`: how long after being asked for a pod becomes ready. `outcomes`: how the runs of each
  // scripted analysis template end. `runFactory` (optional) builds the real run of templates that were
  // given; runs it returns nullptr for follow `outcomes`.
  World(Duration readiness, std::map<std::string, AnalysisOutcome> outcomes, RunFactory runFactory = {});

  // Takes the measurements of every real run that is due at `now`. Returns whether a run's phase
  // changed (something the engine observes). Blocks for as long as the providers do.
  bool advanceRuns(Time now);

  // Carries out one action at `now`. Returns whether anything the engine can observe changed (events
  // change nothing observable; they are recorded in events()).
  bool apply(const engine::Action& action, Time now);

  // The world as the engine sees it at `now`.
  engine::Observed observed(Time now) const;

  // The earliest instant after `now` when the world changes by itself (a pod becomes ready, a run
  // reaches its outcome or is due for a measurement, a scale-down deadline passes), or nullopt if
  // nothing is pending.
  std::optional<Time> nextChange(Time now) const;

  // The phase of `run` at `now`: a real run's status as last advanced (Pending counts as Running), or
  // the scripted outcomes of its templates. A scripted run that needs a template with no outcome stays
  // Running.
  RunState runState(const SimAnalysisRun& run, Time now) const;

  const std::vector<SimReplicaSet>& replicaSets() const { return replicaSets_; }
  const SimReplicaSet* replicaSet(const std::string& podTemplateHash) const;
  const std::vector<SimAnalysisRun>& analysisRuns() const { return runs_; }
  const std::map<std::string, std::string>& serviceSelectors() const { return serviceSelectors_; }
  const std::set<std::string>& managedRoutes() const { return managedRoutes_; }
  // The weights last set; nullopt before any SetTrafficWeight (all traffic on the stable).
  const std::optional<TrafficInForce>& traffic() const { return traffic_; }
  const std::vector<WorldEvent>& events() const { return events_; }

 private:
  SimReplicaSet* findReplicaSet(const std::string& name);
  bool scale(SimReplicaSet& rs, int replicas, Time now);
  // Advances a real run at `now`; returns whether its phase changed.
  static bool advance(SimAnalysisRun& run, Time now);

  Duration readiness_;
  std::map<std::string, AnalysisOutcome> outcomes_;
  RunFactory runFactory_;
  std::vector<SimReplicaSet> replicaSets_;
  std::vector<SimAnalysisRun> runs_;
  std::map<std::string, std::string> serviceSelectors_;
  std::set<std::string> managedRoutes_;
  std::optional<TrafficInForce> traffic_;
  std::vector<WorldEvent> events_;
};

}  // namespace sluice::sim
