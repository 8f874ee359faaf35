// spec.restartAt: which pods reconcileCanary restarts, in what order and how many at once, when it waits,
// and when it records status.restartedAt (Argo Rollouts' pod restarter, docs/design.md).
#include <catch2/catch.hpp>
#include <functional>
#include <vector>

#include "base/pod_template_hash.h"
#include "engine/canary.h"
#include "tests/unit/engine/test_world.h"

using namespace sluice;
using namespace sluice::engine;
using namespace sluice::engine::testing;

namespace {

// A ReplicaSet as observed while a restart is due: `pods` pods, all available unless said otherwise,
// `before` of them created before restartAt.
ReplicaSetView replicaSet(const std::string& hash, int64_t revision, int pods, int before, int available = -1,
                          int deleting = 0) {
  ReplicaSetView rs;
  rs.name = "web-" + hash;
  rs.podTemplateHash = hash;
  rs.revision = revision;
  rs.specReplicas = rs.replicas = pods;
  rs.readyReplicas = rs.availableReplicas = available < 0 ? pods : available;
  rs.restartPods = RestartPodCounts{before, deleting, rs.availableReplicas};
  return rs;
}

// A Healthy Rollout of `replicas` with maxUnavailable `maxUnavailable`, restarted at t0().
struct Fixture {
  Rollout rollout;
  std::string hash;
  Fixture(int replicas, IntOrPercent maxUnavailable, IntOrPercent maxSurge = IntOrPercent{25, true}) {
    rollout = RolloutBuilder().replicas(replicas).build();
    rollout.spec.canary.maxUnavailable = maxUnavailable;
    rollout.spec.canary.maxSurge = maxSurge;
    rollout.spec.restartAt = t0();
    hash = podTemplateHash(rollout.spec.podTemplate);
    rollout.status.stableRS = rollout.status.currentPodHash = hash;
    rollout.status.currentStepHash = stepsHash(rollout.spec.canary.steps);
    rollout.status.observedGeneration = "1";
  }
  // Mid-canary: the stable is `stable`, the template is the new revision.
  void midCanary(const std::string& stable) {
    rollout.spec.canary.steps.push_back({SetWeightStep{30}});
    rollout.spec.canary.steps.push_back({PauseStep{}});
    rollout.status.currentStepHash = stepsHash(rollout.spec.canary.steps);
    rollout.status.currentStepIndex = 1;
    rollout.status.stableRS = stable;
    rollout.status.pauseConditions.push_back({kPauseReasonCanaryPauseStep, t0() - Duration{60}});
    rollout.status.controllerPause = true;
  }
};

struct Restart {
  std::string replicaSet;
  int count;
  bool operator==(const Restart&) const = default;
};

std::vector<Restart> restarts(const Decision& d) {
  std::vector<Restart> out;
  for (const auto& a : d.actions) {
    if (const auto* r = std::get_if<RestartPods>(&a)) out.push_back({r->replicaSet, r->count});
  }
  return out;
}

std::string describe(const std::vector<Restart>& list) {
  std::string out;
  for (const auto& r : list) out += r.replicaSet + " x" + std::to_string(r.count) + "; ";
  return out.empty() ? "(none)" : out;
}

}  // namespace

TEST_CASE("a due restart evicts stable, then canary, then older pods within maxUnavailable",
          "[engine][restart]") {
  struct Row {
    const char* behaviour;
    std::function<void(Fixture&, Observed&)> setUp;
    std::vector<Restart> expected;
  };
  const Row rows[] = {
      {"one pod at a time with maxUnavailable 1",
       [](Fixture& f, Observed& o) { o.replicaSets = {replicaSet(f.hash, 1, 4, 4)}; },
       {{"web-", 1}}},
      {"maxUnavailable 3 restarts three at once",
       [](Fixture& f, Observed& o) {
         f.rollout.spec.canary.maxUnavailable = IntOrPercent{3, false};
         o.replicaSets = {replicaSet(f.hash, 1, 4, 4)};
       },
       {{"web-", 3}}},
      {"maxUnavailable 0 still restarts one at a time",
       [](Fixture& f, Observed& o) {
         f.rollout.spec.canary.maxUnavailable = IntOrPercent{0, false};
         f.rollout.spec.canary.maxSurge = IntOrPercent{1, false};
         o.replicaSets = {replicaSet(f.hash, 1, 4, 4)};
       },
       {{"web-", 1}}},
      {"a pod already unavailable uses up the budget",
       [](Fixture& f, Observed& o) { o.replicaSets = {replicaSet(f.hash, 1, 4, 3, /*available=*/3)}; },
       {}},
      {"a pod being deleted is not evicted again, and counts as unavailable",
       [](Fixture& f, Observed& o) {
         f.rollout.spec.canary.maxUnavailable = IntOrPercent{2, false};
         o.replicaSets = {replicaSet(f.hash, 1, 4, 2, /*available=*/3, /*deleting=*/1)};
       },
       {{"web-", 1}}},
      {"only the pods created before restartAt are counted",
       [](Fixture& f, Observed& o) {
         f.rollout.spec.canary.maxUnavailable = IntOrPercent{4, false};
         o.replicaSets = {replicaSet(f.hash, 1, 4, 2)};
       },
       {{"web-", 2}}},
      {"stable first, then the canary, within one budget",
       [](Fixture& f, Observed& o) {
         f.rollout.spec.replicas = 10;
         f.rollout.spec.canary.maxUnavailable = IntOrPercent{3, false};
         f.midCanary("stable1");
         o.replicaSets = {replicaSet(f.hash, 2, 3, 3), replicaSet("stable1", 1, 7, 2)};
       },
       {{"web-stable1", 2}, {"web-", 1}}},
      {"older ReplicaSets last, the oldest revision first",
       [](Fixture& f, Observed& o) {
         f.rollout.spec.replicas = 10;
         f.rollout.spec.canary.maxUnavailable = IntOrPercent{5, false};
         f.midCanary("stable1");
         o.replicaSets = {replicaSet("old3", 3, 1, 1), replicaSet(f.hash, 4, 3, 1),
                          replicaSet("stable1", 2, 5, 0), replicaSet("old1", 1, 1, 1)};
       },
       {{"web-", 1}, {"web-old1", 1}, {"web-old3", 1}}},
      {"surplus replicas (an uneven canary split) count against the budget",
       [](Fixture& f, Observed& o) {
         f.rollout.spec.replicas = 4;
         f.rollout.spec.canary.maxUnavailable = IntOrPercent{1, false};
         f.midCanary("stable1");
         // 5 pods for 4 replicas: only 5 - (5 - 1) = 1 may go.
         o.replicaSets = {replicaSet(f.hash, 2, 2, 2), replicaSet("stable1", 1, 3, 3)};
       },
       {{"web-stable1", 1}}},
  };
  for (const auto& row : rows) {
    DYNAMIC_SECTION(row.behaviour) {
      Fixture f(4, IntOrPercent{1, false});
      Observed observed;
      row.setUp(f, observed);
      std::vector<Restart> expected = row.expected;
      for (auto& r : expected) {
        if (r.replicaSet == "web-") r.replicaSet += f.hash;
      }
      const Decision d = reconcileCanary(f.rollout, observed, t0() + Duration{5});
      INFO(describe(restarts(d)));
      CHECK(restarts(d) == expected);
      for (const auto& a : d.actions) {
        if (const auto* r = std::get_if<RestartPods>(&a)) CHECK(r->restartAt == t0());
      }
      CHECK_FALSE(d.status.restartedAt);  // pods created before restartAt remain
      CHECK(d.status.phase == (f.rollout.status.pauseConditions.empty() ? "Progressing" : "Paused"));
      REQUIRE(d.requeueAfter);
      CHECK(*d.requeueAfter <= Duration{30});
    }
  }
}

TEST_CASE("a restart waits for its time, ends with restartedAt, and is done only once", "[engine][restart]") {
  Fixture f(4, IntOrPercent{1, false});
  const Time at = t0();

  SECTION("restartAt ahead: nothing is counted or evicted; the engine looks again at restartAt") {
    const Time now = at - Duration{90};
    CHECK_FALSE(restartToObserve(f.rollout, now));
    Observed observed;
    observed.replicaSets = {replicaSet(f.hash, 1, 4, 0)};
    observed.replicaSets[0].restartPods.reset();
    const Decision d = reconcileCanary(f.rollout, observed, now);
    CHECK(restarts(d).empty());
    CHECK_FALSE(d.status.restartedAt);
    CHECK(d.status.phase == "Progressing");  // as Argo Rollouts shows a scheduled restart
    CHECK(d.status.message == "rollout is restarting");
    REQUIRE(d.requeueAfter);
    CHECK(*d.requeueAfter == Duration{90});
  }
  SECTION("restartAt reached: the world is asked to count pods from restartAt") {
    CHECK(restartToObserve(f.rollout, at) == at);
    CHECK(restartToObserve(f.rollout, at + Duration{600}) == at);
  }
  SECTION("no pod created before restartAt is left: restartedAt = restartAt, Healthy again") {
    Observed observed;
    observed.replicaSets = {replicaSet(f.hash, 1, 4, 0)};
    const Decision d = reconcileCanary(f.rollout, observed, at + Duration{40});
    CHECK(restarts(d).empty());
    CHECK(d.status.restartedAt == at);
    CHECK(d.status.phase == "Healthy");
    bool announced = false;
    for (const auto& a : d.actions) {
      if (const auto* e = std::get_if<EmitEvent>(&a))
        announced = announced || e->reason == "RolloutRestarted";
    }
    CHECK(announced);
  }
  SECTION("restartAt at or before status.restartedAt is done already") {
    for (const Time restartedAt : {at, at + Duration{3600}}) {
      f.rollout.status.restartedAt = restartedAt;
      CHECK_FALSE(restartToObserve(f.rollout, at + Duration{5}));
      Observed observed;
      observed.replicaSets = {replicaSet(f.hash, 1, 4, 4)};  // even if pods were counted
      const Decision d = reconcileCanary(f.rollout, observed, at + Duration{5});
      CHECK(restarts(d).empty());
      CHECK(d.status.restartedAt == restartedAt);
      CHECK(d.status.phase == "Healthy");
    }
  }
  SECTION("a world that did not count the pods gets no decision on a guess") {
    Observed observed;
    observed.replicaSets = {replicaSet(f.hash, 1, 4, 4)};
    observed.replicaSets[0].restartPods.reset();
    const Decision d = reconcileCanary(f.rollout, observed, at + Duration{5});
    CHECK(restarts(d).empty());
    CHECK_FALSE(d.status.restartedAt);
  }
  SECTION("a new pod template cancels the restart, as Argo Rollouts does") {
    f.rollout.spec.podTemplate["spec"]["containers"][0]["image"] = "web:2";
    Observed observed;
    observed.replicaSets = {replicaSet(f.hash, 1, 4, 4)};
    const Decision d = reconcileCanary(f.rollout, observed, at + Duration{5});
    CHECK(restarts(d).empty());
    CHECK(d.status.restartedAt == at);
    CHECK(d.status.message != "rollout is restarting");
  }
}

TEST_CASE("restarting a Rollout pass after pass replaces every pod, never more than maxUnavailable down",
          "[engine][restart]") {
  // A small world: pods are counted by age; an evicted pod is replaced by a new one that becomes
  // available two passes later.
  Fixture f(5, IntOrPercent{2, false});
  struct Pods {
    int old = 5, starting = 0, fresh = 0;
    std::vector<int> pending;  // passes left for each starting pod
  } pods;
  int worstUnavailable = 0;
  Time now = t0();
  for (int pass = 0; pass < 40; ++pass) {  // more than enough: later passes change nothing
    Observed observed;
    ReplicaSetView rs = replicaSet(f.hash, 1, 5, pods.old, pods.old + pods.fresh);
    observed.replicaSets = {rs};
    const Decision d = reconcileCanary(f.rollout, observed, now);
    for (const auto& r : restarts(d)) {
      REQUIRE(r.count <= pods.old);
      pods.old -= r.count;
      for (int i = 0; i < r.count; ++i) pods.pending.push_back(2);
    }
    worstUnavailable = std::max(worstUnavailable, static_cast<int>(pods.pending.size()));
    f.rollout.status = d.status;
    for (auto& left : pods.pending) --left;
    pods.fresh += static_cast<int>(std::erase(pods.pending, 0));
    now += Duration{1};
  }
  CHECK(pods.old == 0);
  CHECK(pods.fresh == 5);
  CHECK(worstUnavailable == 2);
  CHECK(f.rollout.status.restartedAt == t0());
  CHECK(f.rollout.status.phase == "Healthy");
}
