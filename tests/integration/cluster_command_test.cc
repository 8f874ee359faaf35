// `sluice cluster` as a user runs it: the binary prints how to point kubectl at it, kubectl works with
// that kubeconfig, SIGTERM stops it cleanly, and a restart on the same directory keeps the objects.
#include <signal.h>

#include <catch2/catch.hpp>

#include "tests/integration/kubectl_env.h"
#include "tests/support/process.h"

using sluice::testing::ChildProcess;
using sluice::testing::runCommand;
using sluice::testing::shellQuote;
using sluice::testing::TempDir;
using sluice::testing::waitUntil;

TEST_CASE("sluice cluster serves kubectl and resumes on the same directory",
          "[integration][kubectl][cluster]") {
  sluice::testing::requireKubectl();
  TempDir dir("sluice-cluster");
  const std::string data = (dir / "data").string();
  const std::string kubectl = "KUBECONFIG=" + shellQuote(data + "/kubeconfig") +
                              " KUBECACHEDIR=" + shellQuote((dir / "cache").string()) + " kubectl ";
  for (int run = 0; run < 2; ++run) {
    ChildProcess server({SLUICE_BINARY, "cluster", "--data-dir", data, "--port", "0"},
                        dir / ("server" + std::to_string(run) + ".log"));
    bool ready = waitUntil([&] { return server.log().find("export KUBECONFIG=") != std::string::npos; },
                           std::chrono::seconds(20));
    INFO(server.log());
    REQUIRE(ready);
    CHECK_THAT(server.log(), Catch::Contains("export KUBECONFIG=" + data + "/kubeconfig"));
    if (run == 0) {
      std::ofstream(dir / "cm.json")
          << R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kept"},"data":{"a":"1"}})";
      auto created = runCommand(kubectl + "create -f " + shellQuote((dir / "cm.json").string()) + " 2>&1");
      INFO(created.output);
      REQUIRE(created.exitCode == 0);
    }
    auto got = runCommand(kubectl + "get configmap kept -o jsonpath='{.data.a}' 2>&1");
    INFO(got.output);
    CHECK(got.exitCode == 0);
    CHECK(got.output == "1");
    server.kill(SIGTERM);
    REQUIRE(waitUntil([&] { return !server.running(); }, std::chrono::seconds(10)));
    CHECK(WIFEXITED(server.exitStatus()));
    CHECK(WEXITSTATUS(server.exitStatus()) == 0);
  }
}

TEST_CASE("a second sluice cluster on a directory in use refuses to start and changes nothing",
          "[integration][cluster]") {
  TempDir dir("sluice-cluster-lock");
  const std::string data = (dir / "data").string();
  ChildProcess first({SLUICE_BINARY, "cluster", "--data-dir", data, "--port", "0"}, dir / "first.log");
  REQUIRE(waitUntil([&] { return first.log().find("export KUBECONFIG=") != std::string::npos; },
                    std::chrono::seconds(20)));
  std::ifstream in(data + "/kubeconfig");
  const std::string kubeconfigBefore((std::istreambuf_iterator<char>(in)), {});

  ChildProcess second({SLUICE_BINARY, "cluster", "--data-dir", data, "--port", "0"}, dir / "second.log");
  REQUIRE(waitUntil([&] { return !second.running(); }, std::chrono::seconds(20)));
  INFO(second.log());
  CHECK(WIFEXITED(second.exitStatus()));
  CHECK(WEXITSTATUS(second.exitStatus()) != 0);
  CHECK_THAT(second.log(),
             Catch::Contains("the data directory " + data + " is in use by another sluice cluster (pid " +
                             std::to_string(first.pid()) + ")"));
  // The first one's kubeconfig (its port) is untouched, and it still serves.
  std::ifstream again(data + "/kubeconfig");
  CHECK(std::string((std::istreambuf_iterator<char>(again)), {}) == kubeconfigBefore);
  CHECK(first.running());

  // Once the first is gone, the directory is free again.
  first.kill(SIGTERM);
  REQUIRE(waitUntil([&] { return !first.running(); }, std::chrono::seconds(10)));
  ChildProcess third({SLUICE_BINARY, "cluster", "--data-dir", data, "--port", "0"}, dir / "third.log");
  bool ready = waitUntil([&] { return third.log().find("export KUBECONFIG=") != std::string::npos; },
                         std::chrono::seconds(20));
  INFO(third.log());
  CHECK(ready);
  third.kill(SIGTERM);
  REQUIRE(waitUntil([&] { return !third.running(); }, std::chrono::seconds(10)));
}
