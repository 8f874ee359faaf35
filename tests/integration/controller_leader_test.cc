// Two `sluice controller` processes with leader election: only the Lease holder works; when it is killed
// the standby takes over within the lease duration and carries the Rollout on. SIGTERM releases the Lease
// at once and exits 0.
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "controller_env.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

json rollout(const std::string& image) {
  return webRollout(image, 2, json::parse(R"([{"setWeight": 50}, {"pause": {"duration": "1s"}}])"));
}

bool healthyAt(ControllerEnv& env, const std::string& stableNot) {
  const json r = env.rollout("web");
  return r.value(json::json_pointer("/status/phase"), "") == "Healthy" &&
         r["status"].value("stableRS", "") != stableNot &&
         r["status"].value("observedGeneration", "") == std::to_string(r["metadata"].value("generation", 0));
}

}  // namespace

TEST_CASE("only the Lease holder works, a killed leader's standby takes over within the lease duration",
          "[controller][e2e][leader]") {
  ControllerEnv env(std::chrono::milliseconds(300));
  env.cluster.createNamespace("sluice-system");
  const std::string kubeconfig = env.cluster.server().kubeconfigPath().string();
  auto start = [&](const std::string& identity) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{
            SLUICE_BINARY, "controller", "--kubeconfig", kubeconfig, "--leader-election-lease-duration", "3s",
            "--leader-election-renew-deadline", "2s", "--leader-election-retry-period", "500ms",
            // two processes at once: free ports, not the defaults
            "--metrics-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0", "--webhook-addr", "127.0.0.1:0"},
        env.cluster.dir().path() / (identity + ".log"));
  };
  auto a = start("a");
  REQUIRE(waitUntil([&] { return a->log().find("became the leader") != std::string::npos; },
                    std::chrono::seconds(20)));
  auto b = start("b");
  REQUIRE(waitUntil([&] { return b->log().find("caches synced") != std::string::npos; },
                    std::chrono::seconds(20)));

  env.cluster.ok("apply -f " + env.cluster.writeFile("v1.json", rollout("web:v1").dump()));
  REQUIRE(env.waitRollout("web", [&](const json&) { return healthyAt(env, ""); }));
  // The standby never started a worker: every write so far was the leader's.
  INFO("standby log:\n" << b->log());
  CHECK(b->log().find("workers") == std::string::npos);
  const json lease = env.cluster.getJson("lease sluice-controller -n sluice-system");
  const std::string leader = lease["spec"].value("holderIdentity", "");

  a->kill(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  REQUIRE(waitUntil([&] { return b->log().find("became the leader") != std::string::npos; },
                    std::chrono::seconds(15)));
  const double takeover = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  INFO("takeover after " << takeover << " s");
  CHECK(takeover <= 3.0 + 1.5);  // the lease duration, plus a retry period and scheduling slack
  CHECK(env.cluster.getJson("lease sluice-controller -n sluice-system")["spec"].value("holderIdentity", "") !=
        leader);

  const std::string v1 = env.rollout("web")["status"].value("stableRS", "");
  env.cluster.ok("apply -f " + env.cluster.writeFile("v2.json", rollout("web:v2").dump()));
  CHECK(env.waitRollout("web", [&](const json&) { return healthyAt(env, v1); }));

  // SIGTERM: the Lease is released (no holder) and the process exits 0.
  b->kill(SIGTERM);
  REQUIRE(waitUntil([&] { return !b->running(); }, std::chrono::seconds(20)));
  CHECK(b->exitStatus() == 0);
  CHECK(env.cluster.getJson("lease sluice-controller -n sluice-system")["spec"]
            .value("holderIdentity", "")
            .empty());
}

TEST_CASE("SIGTERM stops a controller whose caches cannot sync at once, exit 0, not after the sync timeout",
          "[controller][signals]") {
  // A kubeconfig whose server nothing listens on: the informers retry their list for as long as they run.
  TempDir dir;
  const std::string kubeconfig = (dir / "kubeconfig").string();
  std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                               "clusters: [{name: k, cluster: {server: 'http://127.0.0.1:"
                            << freeLoopbackPort()
                            << "'}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
                               "users: [{name: u, user: {}}]\n";
  ChildProcess controller(
      {SLUICE_BINARY, "controller", "--kubeconfig", kubeconfig, "--leader-elect=false", "--metrics-addr",
       "127.0.0.1:0", "--health-addr", "127.0.0.1:0", "--webhook-addr", "127.0.0.1:0"},
      dir / "controller.log");
  REQUIRE(waitUntil([&] { return controller.log().find("serving /metrics") != std::string::npos; },
                    std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // into the sync
  const auto sent = std::chrono::steady_clock::now();
  controller.kill(SIGTERM);
  REQUIRE(waitUntil([&] { return !controller.running(); }, std::chrono::seconds(20)));
  INFO(controller.log());
  // Not the 60 s sync timeout, nor the list's retries (5, with 3.1 s of backoff between them): the stop
  // cancels the list in flight between two attempts.
  CHECK(std::chrono::steady_clock::now() - sent < std::chrono::seconds(3));
  CHECK(controller.exitStatus() == 0);
  CHECK(controller.log().find("stopped") != std::string::npos);
}
