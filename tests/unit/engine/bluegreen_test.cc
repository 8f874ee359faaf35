// The blue-green state machine, driven end to end through the fake world: each case is one of Argo
// Rollouts' documented blue-green rules (reference §1.3, §2.5, §2.8), named after it.
#include <catch2/catch.hpp>

#include "analysis/model.h"
#include "engine/bluegreen.h"
#include "engine/rollout_json.h"
#include "engine/steering.h"
#include "tests/unit/engine/rollout_test_manifests.h"
#include "tests/unit/engine/test_world.h"

using namespace sluice;
using namespace sluice::engine;
using namespace sluice::engine::testing;

namespace {

constexpr const char* kActive = "web-active";
constexpr const char* kPreview = "web-preview";

struct BlueGreenOptions {
  int replicas = 3;
  std::optional<int> previewReplicaCount = std::nullopt;
  bool autoPromotionEnabled = true;
  int autoPromotionSeconds = 0;
  std::optional<std::string> pre = std::nullopt;   // prePromotionAnalysis template
  std::optional<std::string> post = std::nullopt;  // postPromotionAnalysis template
  std::optional<int> scaleDownDelaySeconds = std::nullopt;
  std::optional<int> scaleDownDelayRevisionLimit = std::nullopt;
  std::optional<int> abortScaleDownDelaySeconds = std::nullopt;
};

Rollout bgRollout(const BlueGreenOptions& o) {
  Rollout r = RolloutBuilder().replicas(o.replicas).build();
  BlueGreenStrategy bg;
  bg.activeService = kActive;
  bg.previewService = kPreview;
  bg.previewReplicaCount = o.previewReplicaCount;
  bg.autoPromotionEnabled = o.autoPromotionEnabled;
  bg.autoPromotionSeconds = o.autoPromotionSeconds;
  auto analysisOf = [](const std::optional<std::string>& name) -> std::optional<RolloutAnalysis> {
    if (!name) return std::nullopt;
    RolloutAnalysis a;
    a.templates.push_back({*name, false});
    return a;
  };
  bg.prePromotionAnalysis = analysisOf(o.pre);
  bg.postPromotionAnalysis = analysisOf(o.post);
  bg.scaleDownDelaySeconds = o.scaleDownDelaySeconds;
  bg.scaleDownDelayRevisionLimit = o.scaleDownDelayRevisionLimit;
  bg.abortScaleDownDelaySeconds = o.abortScaleDownDelaySeconds;
  r.spec.blueGreen = bg;
  return r;
}

// A world with the first revision deployed, both Services on it, and the record of actions cleared.
FakeWorld bgDeployed(const BlueGreenOptions& o) {
  FakeWorld w(bgRollout(o));
  w.settle();
  REQUIRE(w.rollout.status.phase == "Healthy");
  w.actions.clear();
  w.events.clear();
  return w;
}

std::string bgHash(const FakeWorld& w) { return podTemplateHash(w.rollout.spec.podTemplate); }

std::string selected(const FakeWorld& w, const std::string& service) {
  const auto it = w.observed.serviceSelectors.find(service);
  return it == w.observed.serviceSelectors.end() ? "" : it->second;
}

// Every hash the active Service was pointed at, in order.
std::vector<std::string> activeSwitches(const FakeWorld& w) {
  std::vector<std::string> out;
  for (const auto& a : w.actions) {
    if (const auto* s = std::get_if<SetServiceSelector>(&a); s && s->service == kActive)
      out.push_back(s->podTemplateHash);
  }
  return out;
}

// Settles until pods that became available in the fake world's last tick have been seen too.
void settleWithPods(FakeWorld& w) {
  for (int i = 0; i < 10 && w.settle() > 1; ++i) {
  }
}

// Fails the test whenever the active Service is pointed at a ReplicaSet without all its pods available:
// Argo's rule that the switch waits for a fully available new ReplicaSet.
void checkSwitchOnlyWhenFull(FakeWorld& w) {
  w.afterCall = [&w](const Rollout& before, const Decision& d) {
    for (const auto& a : d.actions) {
      const auto* s = std::get_if<SetServiceSelector>(&a);
      if (!s || s->service != kActive) continue;
      const ReplicaSetView* rs = w.rsByHash(s->podTemplateHash);
      REQUIRE(rs != nullptr);
      CHECK(rs->availableReplicas >= before.spec.replicas);
    }
  };
}

}  // namespace

TEST_CASE("blue-green initial deploy: one full ReplicaSet with both Services on it and Healthy",
          "[engine][bluegreen]") {
  FakeWorld w(bgRollout({}));
  w.readyAfterCalls = 2;
  settleWithPods(w);
  const std::string hash = bgHash(w);
  CHECK(w.rollout.status.stableRS == hash);
  CHECK(w.specReplicasOf(hash) == 3);
  CHECK(selected(w, kActive) == hash);
  CHECK(selected(w, kPreview) == hash);
  CHECK(w.rollout.status.blueGreen.activeSelector == hash);
  CHECK(w.rollout.status.blueGreen.previewSelector == hash);
  CHECK(w.rollout.status.phase == "Healthy");
  CHECK(activeSwitches(w).size() == 1);  // one write, once the pods are all available
}

TEST_CASE("blue-green with auto-promotion switches the active Service once the new ReplicaSet is full",
          "[engine][bluegreen]") {
  FakeWorld w = bgDeployed({});
  const std::string stable = bgHash(w);
  w.readyAfterCalls = 3;
  checkSwitchOnlyWhenFull(w);
  w.newImage("web:2");
  const std::string next = bgHash(w);
  settleWithPods(w);
  CHECK(w.specReplicasOf(next) == 3);  // no previewReplicaCount: full size from the start
  CHECK(selected(w, kPreview) == next);
  CHECK(selected(w, kActive) == next);
  CHECK(activeSwitches(w) == std::vector<std::string>{next});  // one write for the switch
  CHECK(w.rollout.status.stableRS == next);
  CHECK(w.hasEvent("RolloutCompleted", "Completed blue-green update"));
  CHECK(w.rollout.status.phase == "Healthy");
  // The old ReplicaSet waits out scaleDownDelaySeconds (30 s by default), then goes.
  CHECK(w.specReplicasOf(stable) == 3);
  REQUIRE(w.rsByHash(stable)->scaleDownDeadline == w.now + Duration{30});
  w.runFor(Duration{29});
  CHECK(w.specReplicasOf(stable) == 3);
  w.runFor(Duration{2});
  CHECK(w.specReplicasOf(stable) == 0);
}

TEST_CASE("blue-green rules for the new ReplicaSet's size and the pause before the switch",
          "[engine][bluegreen]") {
  struct Row {
    const char* rule;
    BlueGreenOptions options;
    int previewSize;       // the new ReplicaSet's size before promotion
    bool pausesForPerson;  // a BlueGreenPause a person must promote
  };
  const Row rows[] = {
      {"autoPromotionEnabled with no delay neither pauses nor waits", {.replicas = 4}, 4, false},
      {"previewReplicaCount sizes the new ReplicaSet until promotion",
       {.replicas = 4, .previewReplicaCount = 1, .autoPromotionEnabled = false},
       1,
       true},
      {"autoPromotionEnabled false pauses with the new ReplicaSet at full size",
       {.replicas = 4, .autoPromotionEnabled = false},
       4,
       true},
  };
  for (const Row& row : rows) {
    SECTION(row.rule) {
      FakeWorld w = bgDeployed(row.options);
      const std::string stable = bgHash(w);
      checkSwitchOnlyWhenFull(w);
      w.newImage("web:2");
      const std::string next = bgHash(w);
      w.settle();
      if (!row.pausesForPerson) {
        CHECK(selected(w, kActive) == next);
        continue;
      }
      CHECK(w.specReplicasOf(next) == row.previewSize);
      CHECK(selected(w, kPreview) == next);  // the preview serves the new pods
      CHECK(selected(w, kActive) == stable);
      CHECK(w.rollout.status.pausedFor(kPauseReasonBlueGreenPause));
      CHECK(w.rollout.status.phase == "Paused");
      CHECK(w.rollout.status.message == "BlueGreenPause");
      w.runFor(Duration{3600});  // no time limit on a pause without auto-promotion
      CHECK(selected(w, kActive) == stable);
      w.steer(promotePatch(w.rollout));
      w.settle();
      CHECK(w.specReplicasOf(next) == 4);
      CHECK(selected(w, kActive) == next);
      CHECK(w.rollout.status.stableRS == next);
      CHECK_FALSE(w.rollout.status.blueGreen.scaleUpPreviewCheckPoint);
      CHECK(w.rollout.status.phase == "Healthy");
    }
  }
}

TEST_CASE("blue-green autoPromotionSeconds pauses that long and then switches without a person",
          "[engine][bluegreen]") {
  FakeWorld w = bgDeployed({.previewReplicaCount = 1, .autoPromotionSeconds = 120});
  const std::string stable = bgHash(w);
  w.newImage("web:2");
  const std::string next = bgHash(w);
  w.settle();
  REQUIRE(w.rollout.status.pausedFor(kPauseReasonBlueGreenPause));
  const Time paused = w.now;
  REQUIRE(w.last.requeueAfter == Duration{120});
  w.runFor(Duration{119});
  CHECK(selected(w, kActive) == stable);
  CHECK(w.specReplicasOf(next) == 1);
  w.runFor(Duration{1});
  CHECK(w.now == paused + Duration{120});
  CHECK(selected(w, kActive) == next);
  CHECK(w.specReplicasOf(next) == 3);
  CHECK(w.rollout.status.phase == "Healthy");
}

TEST_CASE("blue-green prePromotionAnalysis failure aborts and the active Service never moves",
          "[engine][bluegreen]") {
  FakeWorld w = bgDeployed({.previewReplicaCount = 1, .pre = "smoke"});
  const std::string stable = bgHash(w);
  w.runPhase = [](AnalysisRunType type, auto) {
    return type == AnalysisRunType::PrePromotion ? analysis::Phase::Failed : analysis::Phase::Successful;
  };
  w.newImage("web:2");
  const std::string next = bgHash(w);
  w.settle();
  const auto creates = [&] {
    std::vector<CreateAnalysisRun> out;
    for (const auto& a : w.actions) {
      if (const auto* c = std::get_if<CreateAnalysisRun>(&a)) out.push_back(*c);
    }
    return out;
  }();
  REQUIRE(creates.size() == 1);
  CHECK(creates[0].type == AnalysisRunType::PrePromotion);
  CHECK(creates[0].name == "web-" + next + "-2-pre");
  CHECK(w.rollout.status.abort);
  CHECK(w.rollout.status.phase == "Degraded");
  CHECK(w.condition("Progressing")->message ==
        "Rollout aborted update to revision 2: PrePromotion analysis phase failed");
  CHECK(activeSwitches(w).empty());
  CHECK(selected(w, kActive) == stable);
  CHECK(w.rollout.status.stableRS == stable);
  CHECK(w.rollout.status.blueGreen.prePromotionAnalysisRunStatus->status == "Failed");
  // The new ReplicaSet goes after abortScaleDownDelaySeconds (30 s by default).
  CHECK(w.specReplicasOf(next) == 1);
  w.runFor(Duration{30});
  CHECK(w.specReplicasOf(next) == 0);
  CHECK(w.specReplicasOf(stable) == 3);
}

TEST_CASE("blue-green prePromotionAnalysis must pass before the switch", "[engine][bluegreen]") {
  FakeWorld w = bgDeployed({.pre = "smoke"});
  w.runPhase = [](auto, auto) { return analysis::Phase::Running; };
  w.newImage("web:2");
  const std::string next = bgHash(w);
  w.settle();
  const std::string run = w.rollout.status.blueGreen.prePromotionAnalysisRunStatus->name;
  CHECK(selected(w, kPreview) == next);
  CHECK(selected(w, kActive) != next);
  CHECK(w.rollout.status.phase == "Progressing");
  w.run(run)->phase = analysis::Phase::Successful;
  w.settle();
  CHECK(selected(w, kActive) == next);
  CHECK(w.rollout.status.stableRS == next);
  CHECK(w.rollout.status.blueGreen.prePromotionAnalysisRunStatus->status == "Successful");
}

TEST_CASE("blue-green Inconclusive prePromotionAnalysis pauses until a person promotes",
          "[engine][bluegreen]") {
  FakeWorld w = bgDeployed({.pre = "smoke"});
  w.runPhase = [](auto, auto) { return analysis::Phase::Inconclusive; };
  w.newImage("web:2");
  const std::string next = bgHash(w);
  w.settle();
  CHECK(w.rollout.status.pausedFor(kPauseReasonInconclusiveAnalysis));
  CHECK(selected(w, kActive) != next);
  w.steer(promotePatch(w.rollout));
  w.settle();
  CHECK(selected(w, kActive) == next);
  CHECK(w.rollout.status.stableRS == next);
}

TEST_CASE("blue-green postPromotionAnalysis failure switches the active Service back and aborts",
          "[engine][bluegreen]") {
  FakeWorld w = bgDeployed({.post = "soak"});
  const std::string stable = bgHash(w);
  w.runPhase = [](auto, auto) { return analysis::Phase::Running; };
  w.newImage("web:2");
  const std::string next = bgHash(w);
  w.settle();
  // Switched, but not stable until the post-promotion analysis passes; the old pods stay up meanwhile.
  CHECK(selected(w, kActive) == next);
  CHECK(w.rollout.status.stableRS == stable);
  CHECK(w.rollout.status.phase == "Progressing");
  CHECK(w.rollout.status.message == "waiting for post-promotion verification to complete");
  const auto& post = w.rollout.status.blueGreen.postPromotionAnalysisRunStatus;
  REQUIRE(post);
  CHECK(post->name == "web-" + next + "-2-post");
  w.runFor(Duration{600});
  CHECK(w.specReplicasOf(stable) == 3);
  w.run(post->name)->phase = analysis::Phase::Failed;
  w.settle();
  CHECK(activeSwitches(w) == std::vector<std::string>{next, stable});  // one write each way
  CHECK(selected(w, kActive) == stable);
  CHECK(w.rollout.status.abort);
  CHECK(w.rollout.status.stableRS == stable);
  CHECK(w.rollout.status.phase == "Degraded");
  CHECK(w.condition("Progressing")->message ==
        "Rollout aborted update to revision 2: PostPromotion analysis phase failed");
}

TEST_CASE("blue-green becomes stable only once the postPromotionAnalysis passes", "[engine][bluegreen]") {
  FakeWorld w = bgDeployed({.post = "soak"});
  w.runPhase = [](auto, auto) { return analysis::Phase::Running; };
  w.newImage("web:2");
  const std::string next = bgHash(w);
  w.settle();
  REQUIRE(w.rollout.status.stableRS != next);
  w.run(w.rollout.status.blueGreen.postPromotionAnalysisRunStatus->name)->phase = analysis::Phase::Successful;
  w.settle();
  CHECK(w.rollout.status.stableRS == next);
  CHECK(w.rollout.status.phase == "Healthy");
}

TEST_CASE("blue-green promote --full skips the pause and the analysis", "[engine][bluegreen]") {
  FakeWorld w = bgDeployed({.previewReplicaCount = 1, .autoPromotionEnabled = false, .pre = "smoke"});
  w.runPhase = [](auto, auto) { return analysis::Phase::Running; };
  w.newImage("web:2");
  const std::string next = bgHash(w);
  w.settle();
  REQUIRE(w.rollout.status.pausedFor(kPauseReasonBlueGreenPause));
  const std::string run = w.rollout.status.blueGreen.prePromotionAnalysisRunStatus->name;
  w.steer(promoteFullPatch(w.rollout));
  w.settle();
  CHECK(w.run(run)->terminated);
  CHECK(w.specReplicasOf(next) == 3);
  CHECK(selected(w, kActive) == next);
  CHECK(w.rollout.status.stableRS == next);
  CHECK_FALSE(w.rollout.status.promoteFull);
  CHECK(w.hasEvent("RolloutCompleted", "Full promotion requested"));
}

TEST_CASE(
    "blue-green abort keeps the active Service on the stable pods and abortScaleDownDelaySeconds ends the "
    "new ones",
    "[engine][bluegreen]") {
  struct Row {
    const char* rule;
    std::optional<int> abortDelay;
    std::optional<int> replicasAfterAnHour;  // of the new ReplicaSet
  };
  const Row rows[] = {{"the new ReplicaSet goes after 30 s by default", std::nullopt, 0},
                      {"0 keeps the new ReplicaSet up for good", 0, 1},
                      {"a longer delay is waited out", 300, 0}};
  for (const Row& row : rows) {
    SECTION(row.rule) {
      FakeWorld w = bgDeployed({.previewReplicaCount = 1,
                                .autoPromotionEnabled = false,
                                .abortScaleDownDelaySeconds = row.abortDelay});
      const std::string stable = bgHash(w);
      w.newImage("web:2");
      const std::string next = bgHash(w);
      w.settle();
      w.steer(abortPatch(w.rollout));
      w.settle();
      CHECK(w.rollout.status.phase == "Degraded");
      CHECK(w.rollout.status.pauseConditions.empty());
      CHECK(selected(w, kActive) == stable);
      CHECK(selected(w, kPreview) == next);
      const int delay = row.abortDelay.value_or(30);
      if (delay > 0) {
        w.runFor(Duration{delay - 1});
        CHECK(w.specReplicasOf(next) == 1);
      }
      w.runFor(Duration{3600});
      CHECK(w.specReplicasOf(next) == row.replicasAfterAnHour);
      CHECK(w.specReplicasOf(stable) == 3);
    }
  }
}

TEST_CASE("blue-green retry after abort runs the update again with a new analysis", "[engine][bluegreen]") {
  FakeWorld w = bgDeployed({.previewReplicaCount = 1, .pre = "smoke"});
  int runs = 0;
  w.runPhase = [&runs](auto, auto) {
    return ++runs == 1 ? analysis::Phase::Failed : analysis::Phase::Successful;
  };
  w.newImage("web:2");
  const std::string next = bgHash(w);
  w.settle();
  REQUIRE(w.rollout.status.abort);
  w.runFor(Duration{60});
  REQUIRE(w.specReplicasOf(next) == 0);
  w.steer(retryPatch(w.rollout));
  w.settle();
  CHECK(runs == 2);
  CHECK_FALSE(w.rollout.status.abort);
  CHECK(selected(w, kActive) == next);
  CHECK(w.rollout.status.stableRS == next);
  CHECK(w.rollout.status.phase == "Healthy");
}

TEST_CASE("blue-green pause holds the switch and resume lets it happen", "[engine][bluegreen]") {
  FakeWorld w = bgDeployed({});
  const std::string stable = bgHash(w);
  w.steer(pausePatch(w.rollout));
  w.newImage("web:2");
  const std::string next = bgHash(w);
  w.runFor(Duration{600});
  CHECK(selected(w, kActive) == stable);
  CHECK(w.rollout.status.phase == "Paused");
  CHECK(w.rollout.status.message == "manually paused");
  w.steer(resumePatch(w.rollout));
  w.settle();
  CHECK(selected(w, kActive) == next);
  CHECK(w.rollout.status.phase == "Healthy");
}

TEST_CASE("blue-green scaleDownDelayRevisionLimit bounds the old ReplicaSets left running",
          "[engine][bluegreen]") {
  struct Row {
    const char* rule;
    std::optional<int> limit;
    std::vector<int> oldSizes;  // revisions 1 and 2 right after revision 3 is promoted
  };
  const Row rows[] = {{"without a limit every old revision waits out its delay", std::nullopt, {3, 3}},
                      {"a limit of 1 keeps only the newest old revision up", 1, {0, 3}},
                      {"a limit of 0 scales old revisions down at once", 0, {0, 0}}};
  for (const Row& row : rows) {
    SECTION(row.rule) {
      FakeWorld w = bgDeployed({.scaleDownDelaySeconds = 600, .scaleDownDelayRevisionLimit = row.limit});
      const std::string first = bgHash(w);
      w.newImage("web:2");
      const std::string second = bgHash(w);
      w.settle();
      w.newImage("web:3");
      w.settle();
      REQUIRE(w.rollout.status.stableRS == bgHash(w));
      CHECK(std::vector<int>{w.specReplicasOf(first), w.specReplicasOf(second)} == row.oldSizes);
    }
  }
}

TEST_CASE("blue-green new revision mid-update: the superseded preview goes at once", "[engine][bluegreen]") {
  FakeWorld w = bgDeployed({.autoPromotionEnabled = false, .pre = "smoke"});
  const std::string stable = bgHash(w);
  w.runPhase = [](auto, auto) { return analysis::Phase::Running; };
  w.newImage("web:2");
  const std::string second = bgHash(w);
  w.settle();
  const std::string run = w.rollout.status.blueGreen.prePromotionAnalysisRunStatus->name;
  w.newImage("web:3");
  const std::string third = bgHash(w);
  w.settle();
  CHECK(w.run(run)->terminated);
  CHECK(w.specReplicasOf(second) == 0);
  CHECK(w.specReplicasOf(stable) == 3);
  CHECK(selected(w, kPreview) == third);
  CHECK(selected(w, kActive) == stable);
  CHECK(w.rollout.status.pausedFor(kPauseReasonBlueGreenPause));
}

TEST_CASE("blue-green back to the stable template needs no promotion", "[engine][bluegreen]") {
  FakeWorld w = bgDeployed({.autoPromotionEnabled = false});
  const std::string stable = bgHash(w);
  w.newImage("web:2");
  const std::string next = bgHash(w);
  w.settle();
  REQUIRE(w.rollout.status.phase == "Paused");
  w.newImage("web:1");
  w.settle();
  CHECK(bgHash(w) == stable);
  CHECK(w.rollout.status.phase == "Healthy");
  CHECK(selected(w, kActive) == stable);
  CHECK(w.specReplicasOf(next) == 0);
}

TEST_CASE("blue-green promote on a Rollout that is not paused is refused", "[engine][bluegreen]") {
  FakeWorld w = bgDeployed({});
  auto patch = promotePatch(w.rollout);
  REQUIRE_FALSE(patch.ok());
  CHECK(patch.error() == "rollout web is not paused (it is fully promoted)");
}

// ---- the manifest --------------------------------------------------------------------------------

namespace {

// The base Rollout with a blueGreen strategy heading on line 14 (its body starts on line 15).
std::string blueGreenBase() {
  std::string base = sluice::testing::kBaseRollout;
  return base.replace(base.find("    canary:\n"), 12, "    blueGreen:\n");
}

std::string withBlueGreen(const std::string& body) {
  return blueGreenBase() + sluice::testing::indented(body, 6);
}

}  // namespace

TEST_CASE("blue-green manifest: Argo's fields are read with their defaults", "[engine][bluegreen][json]") {
  const auto loaded = sluice::testing::loadRollout(
      withBlueGreen("activeService: web\n"
                    "previewService: web-preview\n"
                    "previewReplicaCount: 1\n"
                    "autoPromotionEnabled: false\n"
                    "prePromotionAnalysis: {templates: [{templateName: smoke}],"
                    " args: [{name: svc, value: web-preview}]}\n"
                    "postPromotionAnalysis: {templates: [{templateName: soak}]}\n"
                    "scaleDownDelayRevisionLimit: 2\n"
                    "abortScaleDownDelaySeconds: 0\n"
                    "activeMetadata: {labels: {role: active}}\n"
                    "previewMetadata: {labels: {role: preview}}\n"
                    "antiAffinity: {preferredDuringSchedulingIgnoredDuring"
                    "Execution: {weight: 50}}\n"));
  INFO(loaded.diags.format());
  const auto& r = loaded.rollout;
  REQUIRE(r);
  REQUIRE(r->spec.blueGreen);
  const BlueGreenStrategy& bg = *r->spec.blueGreen;
  CHECK(bg.activeService == "web");
  CHECK(bg.previewService == "web-preview");
  CHECK(bg.previewReplicaCount == 1);
  CHECK_FALSE(bg.autoPromotionEnabled);
  CHECK(bg.autoPromotionSeconds == 0);
  REQUIRE(bg.prePromotionAnalysis);
  CHECK(bg.prePromotionAnalysis->templates[0].templateName == "smoke");
  CHECK(bg.prePromotionAnalysis->args[0].value == "web-preview");
  CHECK(bg.postPromotionAnalysis->templates[0].templateName == "soak");
  CHECK(bg.scaleDownDelay() == 30);
  CHECK(bg.scaleDownDelayRevisionLimit == 2);
  CHECK(bg.abortScaleDownDelay() == 0);
  CHECK(bg.activeMetadata->labels.at("role") == "active");
  CHECK(bg.previewMetadata->labels.at("role") == "preview");
  CHECK(bg.antiAffinity->preferredWeight == 50);
  CHECK(r->spec.isBlueGreen());
}

TEST_CASE("blue-green manifest errors name the field and the line", "[engine][bluegreen][json]") {
  using sluice::testing::DiagnosticCase;
  const std::vector<DiagnosticCase> rows = {
      {"activeService is required", withBlueGreen("previewService: p\n"),
       "spec.strategy.blueGreen.activeService", "is required", 14},
      {"active and preview must differ", withBlueGreen("activeService: web\npreviewService: web\n"),
       "spec.strategy.blueGreen.previewService", "must differ from activeService (both are \"web\")", 16},
      {"previewReplicaCount at least 1", withBlueGreen("activeService: a\npreviewReplicaCount: 0\n"),
       "spec.strategy.blueGreen.previewReplicaCount", "must be at least 1, got 0", 16},
      {"negative scaleDownDelaySeconds", withBlueGreen("activeService: a\nscaleDownDelaySeconds: -1\n"),
       "spec.strategy.blueGreen.scaleDownDelaySeconds", "must not be negative, got -1", 16},
      {"an analysis without templates",
       withBlueGreen("activeService: a\nprePromotionAnalysis: {args: [{name: x, value: y}]}\n"),
       "spec.strategy.blueGreen.prePromotionAnalysis.templates", "must list at least one template", 16},
      {"antiAffinity needs one of its kinds", withBlueGreen("activeService: a\nantiAffinity: {}\n"),
       "spec.strategy.blueGreen.antiAffinity", "must set exactly one of preferredDuringScheduling", 16},
      {"an unknown field is a warning", withBlueGreen("activeService: a\npreviewReplicas: 2\n"),
       "spec.strategy.blueGreen.previewReplicas", "unknown field", 16, Severity::Warning},
      {"both strategies", blueGreenBase() + "      activeService: a\n    canary: {}\n", "spec.strategy",
       "must set only one of canary or blueGreen", 13},
  };
  for (const auto& row : rows) {
    SECTION(row.behaviour) { sluice::testing::checkDiagnosticCase(row); }
  }
}

TEST_CASE("blue-green status round-trips in Argo's shape", "[engine][bluegreen][json]") {
  RolloutStatus s;
  s.blueGreen.activeSelector = "aaa";
  s.blueGreen.previewSelector = "bbb";
  s.blueGreen.scaleUpPreviewCheckPoint = true;
  s.blueGreen.prePromotionAnalysisRunStatus = AnalysisRunStatusRef{"web-bbb-2-pre", "Successful", ""};
  s.pauseConditions.push_back({kPauseReasonBlueGreenPause, t0()});
  const nlohmann::json j = statusToJson(s);
  CHECK(j["blueGreen"] == nlohmann::json::parse(R"({"activeSelector": "aaa", "previewSelector": "bbb",
      "scaleUpPreviewCheckPoint": true,
      "prePromotionAnalysisRunStatus": {"name": "web-bbb-2-pre", "status": "Successful"}})"));
  CHECK(j["pauseConditions"][0]["reason"] == "BlueGreenPause");
  auto back = statusFromJson(j);
  REQUIRE(back.ok());
  CHECK(back->blueGreen == s.blueGreen);
}

TEST_CASE("blue-green antiAffinity keeps the new pods off the stable pods' nodes", "[engine][bluegreen]") {
  struct Row {
    const char* rule;
    AntiAffinity affinity;
    const char* field;
  };
  const Row rows[] = {
      {"preferred, with its weight", AntiAffinity{40, false},
       "preferredDuringSchedulingIgnoredDuringExecution"},
      {"required", AntiAffinity{std::nullopt, true}, "requiredDuringSchedulingIgnoredDuringExecution"}};
  for (const Row& row : rows) {
    SECTION(row.rule) {
      FakeWorld w = bgDeployed({});
      const std::string stable = bgHash(w);
      w.rollout.spec.blueGreen->antiAffinity = row.affinity;
      w.newImage("web:2");
      w.call();
      const CreateReplicaSet* create = w.lastCreated();
      REQUIRE(create);
      const nlohmann::json& terms = create->podTemplate["spec"]["affinity"]["podAntiAffinity"][row.field];
      REQUIRE(terms.size() == 1);
      const nlohmann::json& term = row.affinity.required ? terms[0] : terms[0]["podAffinityTerm"];
      if (!row.affinity.required) CHECK(terms[0]["weight"] == 40);
      CHECK(term["topologyKey"] == "kubernetes.io/hostname");
      CHECK(term["labelSelector"]["matchExpressions"][0] ==
            nlohmann::json({{"key", kPodTemplateHashLabel}, {"operator", "In"}, {"values", {stable}}}));
      // The ReplicaSet keeps the Rollout's hash: the affinity is the ReplicaSet's, not the template's.
      CHECK(create->podTemplateHash == bgHash(w));
    }
  }
}

TEST_CASE("blue-green restart evicts the active pods one at a time by default", "[engine][bluegreen]") {
  FakeWorld w = bgDeployed({});
  const std::string hash = bgHash(w);
  w.rollout.spec.restartAt = w.now;
  ReplicaSetView* rs = w.rsByHash(hash);
  REQUIRE(rs);
  rs->restartPods = RestartPodCounts{3, 0, 3};
  w.call();
  std::vector<RestartPods> restarts;
  for (const auto& a : w.last.actions) {
    if (const auto* r = std::get_if<RestartPods>(&a)) restarts.push_back(*r);
  }
  REQUIRE(restarts.size() == 1);
  CHECK(restarts[0].replicaSet == "web-" + hash);
  CHECK(restarts[0].count == 1);
  CHECK(w.rollout.status.phase == "Progressing");
  rs->restartPods = RestartPodCounts{0, 0, 3};
  w.call();
  CHECK(w.rollout.status.restartedAt == w.rollout.spec.restartAt);
  CHECK(w.rollout.status.phase == "Healthy");
}

TEST_CASE("blue-green previewMetadata is on the new pods until they are stable, then activeMetadata",
          "[engine][bluegreen][ephemeral]") {
  BlueGreenOptions o;
  o.autoPromotionEnabled = false;
  FakeWorld w(bgRollout(o));
  const PodMetadata active{{{"role", "active"}}, {{"note", "serving"}}};
  const PodMetadata preview{{{"role", "preview"}}, {}};
  w.rollout.spec.blueGreen->activeMetadata = active;
  w.rollout.spec.blueGreen->previewMetadata = preview;
  w.settle();
  const std::string first = bgHash(w);
  // The first revision is stable at once: created with the active metadata, in its pod template too.
  CHECK(w.rsByHash(first)->podMetadata == active);
  const CreateReplicaSet* created = nullptr;
  for (const auto& a : w.actions) {
    if (const auto* c = std::get_if<CreateReplicaSet>(&a)) created = c;
  }
  REQUIRE(created);
  CHECK(created->podTemplate["metadata"]["labels"]["role"] == "active");
  CHECK(created->podTemplate["metadata"]["annotations"]["note"] == "serving");
  CHECK(created->podTemplateHash == first);  // the hash is the Rollout's template's, without them

  w.newImage("web:2");
  const std::string next = bgHash(w);
  settleWithPods(w);
  REQUIRE(w.rollout.status.pausedFor(kPauseReasonBlueGreenPause));
  CHECK(w.rsByHash(next)->podMetadata == preview);
  CHECK(w.rsByHash(first)->podMetadata == active);
  w.actions.clear();
  w.steer(promotePatch(w.rollout));
  settleWithPods(w);
  REQUIRE(w.rollout.status.stableRS == next);
  // Promoted: the new pods change role in place, from preview to active; the old ones keep theirs.
  CHECK(w.rsByHash(next)->podMetadata == active);
  CHECK(w.rsByHash(first)->podMetadata == active);
  int changes = 0;
  for (const auto& a : w.actions) {
    if (const auto* m = std::get_if<SetPodMetadata>(&a)) {
      ++changes;
      CHECK(m->replicaSet == "web-" + next);
      CHECK(m->from == preview);
      CHECK(m->to == active);
    }
  }
  CHECK(changes == 1);
}
