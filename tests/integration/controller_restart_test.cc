// kubectl sluice restart end to end: spec.restartAt set by a merge patch on a Healthy Rollout, and the
// controller on the embedded API server replaces every pod through the Eviction API, never more than
// maxUnavailable down at once, then records status.restartedAt and is Healthy again.
#include <catch2/catch.hpp>
#include <map>
#include <optional>

#include "base/time.h"
#include "controller_env.h"
#include "engine/rollout_json.h"
#include "engine/steering.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

const kube::ResourceRef kPods{"", "v1", "pods", true, "Pod"};
const kube::ResourceRef kRestartRollouts{"sluice.dev", "v1alpha1", "rollouts", true, "Rollout"};

bool ready(const json& pod) {
  if (pod["metadata"].contains("deletionTimestamp")) return false;
  for (const auto& c : pod.value(json::json_pointer("/status/conditions"), json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

// The Rollout's pods now: name -> creationTimestamp, and how many are ready.
struct Pods {
  std::map<std::string, Time> created;
  int ready = 0;
};

Pods pods(ControllerEnv& env) {
  kube::ListOptions options;
  options.labelSelector = "app=web";
  auto list = env.client->list(kPods, "default", options);
  REQUIRE(list.ok());
  Pods out;
  for (const auto& pod : (*list)["items"]) {
    auto created = parseRfc3339(pod["metadata"].value("creationTimestamp", ""));
    REQUIRE(created.ok());
    out.created[pod["metadata"]["name"]] = *created;
    if (ready(pod)) ++out.ready;
  }
  return out;
}

}  // namespace

TEST_CASE("a restart replaces every pod of a Healthy Rollout within maxUnavailable", "[controller][e2e]") {
  struct Row {
    const char* behaviour;
    int inSeconds;  // kubectl sluice restart --in
    int maxUnavailable;
  };
  const Row rows[] = {
      {"at once, one pod at a time", 0, 1},
      {"in 3s, nothing before then, two pods at a time", 3, 2},
  };
  for (const auto& row : rows) {
    DYNAMIC_SECTION(row.behaviour) {
      ControllerEnv env(std::chrono::milliseconds(1000));
      env.startController();
      json rollout = webRollout("registry.example/web:v1", 4, json::array());
      rollout["spec"]["strategy"]["canary"]["maxUnavailable"] = row.maxUnavailable;
      env.cluster.ok("apply -f " + env.cluster.writeFile("web.json", rollout.dump()));
      REQUIRE(env.waitRollout("web", [](const json& r) { return phaseOf(r) == "Healthy"; }));
      Pods before = pods(env);
      for (int i = 0; i < 100 && before.ready < 4; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        before = pods(env);
      }
      REQUIRE(before.created.size() == 4);
      REQUIRE(before.ready == 4);
      // Timestamps are whole seconds: restart from a second later than every pod's creation.
      Time latest{};
      for (const auto& [name, created] : before.created) latest = std::max(latest, created);
      while (toSeconds(std::chrono::system_clock::now()) <= latest)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));

      // What `kubectl sluice restart web [--in 3s]` sends.
      const Time restartAt = toSeconds(std::chrono::system_clock::now()) + Duration{row.inSeconds};
      Diagnostics diags;
      auto parsed = engine::parseRollout(env.rollout("web"), SourceMap(), diags);
      REQUIRE(parsed);
      auto patch = engine::restartPatch(*parsed, restartAt);
      REQUIRE(patch.ok());
      REQUIRE(patch->status.is_null());
      REQUIRE(
          env.client->patch(kRestartRollouts, "default", "web", kube::PatchType::kMerge, patch->spec).ok());

      // Poll the pods (every 50 ms) until the restart is recorded and the Rollout is Healthy again.
      int mostUnready = 0;
      bool sawRestarting = false;
      std::optional<Time> firstChange;  // when a pod was first seen gone
      const std::string want = formatRfc3339(restartAt);
      REQUIRE(env.waitRollout("web", [&](const json& r) {
        const Pods now = pods(env);
        mostUnready = std::max(mostUnready, 4 - now.ready);
        if (!firstChange && now.created != before.created)
          firstChange = toSeconds(std::chrono::system_clock::now());
        sawRestarting =
            sawRestarting || r.value(json::json_pointer("/status/message"), "") == "rollout is restarting";
        return r.value(json::json_pointer("/status/restartedAt"), "") == want && phaseOf(r) == "Healthy";
      }));

      // As in Argo Rollouts, restartedAt is recorded once no pod older than restartAt is left; the last
      // replacement may still be starting then.
      Pods after;
      CHECK(waitUntil(
          [&] {
            after = pods(env);
            return after.ready == 4;
          },
          std::chrono::seconds(10)));
      REQUIRE(after.created.size() == 4);
      for (const auto& [name, created] : after.created) {
        INFO(name);
        CHECK_FALSE(before.created.count(name));  // every pod replaced
        CHECK(created >= restartAt);
      }
      CHECK(mostUnready == row.maxUnavailable);  // replaced as many at a time as allowed, no more
      REQUIRE(firstChange);
      CHECK(*firstChange >= restartAt);  // not before its time
      CHECK(sawRestarting);
      const json done = env.rollout("web");
      CHECK(done["spec"].value("restartAt", "") == want);

      // Restarted: nothing more happens, even after another look.
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      CHECK(pods(env).created == after.created);
    }
  }
}
