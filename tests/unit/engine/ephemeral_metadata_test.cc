// Ephemeral metadata and antiAffinity on a canary (canaryMetadata, stableMetadata): Argo Rollouts'
// rules, the new ReplicaSet's pods carry the canary's labels and annotations until it is stable, the
// stable one's carry the stable's, and a change of role or of the spec is made in place.
#include <catch2/catch.hpp>

#include "engine/canary.h"
#include "engine/steering.h"
#include "tests/unit/engine/test_world.h"

using namespace sluice;
using namespace sluice::engine;
using namespace sluice::engine::testing;

namespace {

const PodMetadata kCanaryRole{{{"role", "canary"}, {"track", "new"}}, {{"shown", "canary"}}};
const PodMetadata kStableRole{{{"role", "stable"}}, {}};

std::string ephemeralHash(const FakeWorld& w) { return podTemplateHash(w.rollout.spec.podTemplate); }

std::vector<SetPodMetadata> metadataChanges(const FakeWorld& w) {
  std::vector<SetPodMetadata> out;
  for (const auto& a : w.actions) {
    if (const auto* m = std::get_if<SetPodMetadata>(&a)) out.push_back(*m);
  }
  return out;
}

FakeWorld ephemeralCanary() {
  Rollout r = RolloutBuilder().replicas(4).setWeight(50).pause().build();
  r.spec.canary.canaryMetadata = kCanaryRole;
  r.spec.canary.stableMetadata = kStableRole;
  FakeWorld w(r);
  w.settle();
  REQUIRE(w.rollout.status.phase == "Healthy");
  w.actions.clear();
  return w;
}

}  // namespace

TEST_CASE("canaryMetadata is on the canary pods until they are stable, then stableMetadata",
          "[engine][canary][ephemeral]") {
  FakeWorld w = ephemeralCanary();
  const std::string first = ephemeralHash(w);
  CHECK(w.rsByHash(first)->podMetadata == kStableRole);  // the first revision is stable at once

  w.newImage("web:2");
  const std::string next = ephemeralHash(w);
  w.settle();
  REQUIRE(w.rollout.status.pausedFor(kPauseReasonCanaryPauseStep));
  CHECK(w.rsByHash(next)->podMetadata == kCanaryRole);
  CHECK(w.rsByHash(first)->podMetadata == kStableRole);
  CHECK(metadataChanges(w).empty());  // created with its role's metadata: no second write

  w.steer(promotePatch(w.rollout));
  w.settle();
  REQUIRE(w.rollout.status.stableRS == next);
  const auto changes = metadataChanges(w);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].replicaSet == "web-" + next);
  CHECK(changes[0].from == kCanaryRole);  // track=new and the annotation go, role changes
  CHECK(changes[0].to == kStableRole);
  CHECK(w.rsByHash(next)->podMetadata == kStableRole);
}

TEST_CASE("a change of the ephemeral metadata in the spec is applied to the running ReplicaSets",
          "[engine][canary][ephemeral]") {
  FakeWorld w = ephemeralCanary();
  const std::string stable = ephemeralHash(w);
  SECTION("changed") {
    const PodMetadata renamed{{{"role", "primary"}}, {}};
    w.rollout.spec.canary.stableMetadata = renamed;
    w.settle();
    const auto changes = metadataChanges(w);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].from == kStableRole);
    CHECK(changes[0].to == renamed);
    CHECK(w.rsByHash(stable)->podMetadata == renamed);
  }
  SECTION("removed") {
    w.rollout.spec.canary.stableMetadata.reset();
    w.settle();
    const auto changes = metadataChanges(w);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].from == kStableRole);
    CHECK_FALSE(changes[0].to.has_value());
    CHECK_FALSE(w.rsByHash(stable)->podMetadata.has_value());
  }
  // Nothing changes once applied: no write on every reconcile.
  w.actions.clear();
  w.settle();
  CHECK(metadataChanges(w).empty());
}

TEST_CASE("canary antiAffinity keeps the canary pods off the stable pods' nodes",
          "[engine][canary][ephemeral]") {
  Rollout r = RolloutBuilder().replicas(2).setWeight(50).pause().build();
  r.spec.canary.antiAffinity = AntiAffinity{std::nullopt, true};
  FakeWorld w(r);
  w.settle();
  const std::string stable = ephemeralHash(w);
  for (const auto& a : w.actions) {  // the first revision has no stable pods to keep off
    if (const auto* c = std::get_if<CreateReplicaSet>(&a))
      CHECK_FALSE(c->podTemplate["spec"].contains("affinity"));
  }
  w.actions.clear();
  w.newImage("web:2");
  w.call();
  const CreateReplicaSet* create = w.lastCreated();
  REQUIRE(create);
  const nlohmann::json& terms = create->podTemplate["spec"]["affinity"]["podAntiAffinity"]
                                                   ["requiredDuringSchedulingIgnoredDuringExecution"];
  REQUIRE(terms.size() == 1);
  CHECK(terms[0]["labelSelector"]["matchExpressions"][0]["values"] == nlohmann::json::array({stable}));
}
