// The embedded Kubernetes API server: HTTPS on loopback (Boost.Beast over OpenSSL), bearer-token
// authentication, the registry over a SQLite store in the data directory. Start it in-process on port 0
// for tests, or through `sluice cluster`.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/result.h"

namespace sluice::apiserver {

struct ServerOptions {
  std::filesystem::path dataDir;  // state.db, ca.crt, server.crt/key, token, kubeconfig
  int port = 0;                   // 0: a free port chosen by the kernel
  std::string bindAddress = "127.0.0.1";
  int threads = 3;                      // request threads; watches do not hold one
  std::size_t maxBodyBytes = 3u << 20;  // larger request bodies get 413, as the real server's 3 MiB limit
  int64_t retainRevisions = 10000;      // history kept for watches and paginated lists (older: 410 Expired)
  std::chrono::seconds bookmarkInterval{60};  // BOOKMARK events on watches that allow them
  // The workload controllers: how long a new pod takes to become ready (its template's
  // cluster.sluice.dev/ready-after annotation overrides it).
  std::chrono::milliseconds podReadyAfter{2000};
  int maxPodsPerReplicaSet = 1000;  // the simulation's cap (workloads.h)
  // Off: Deployments, ReplicaSets and Pods stay exactly as clients write them.
  bool workloadControllers = true;
  // The simulated data plane (data_plane.h): its /metrics on this address ("HOST:PORT", ":PORT"; port 0:
  // a free one); nullopt: no data plane.
  std::optional<std::string> trafficMetricsAddress;
  // Per routed host and per Service no route leads to, unless annotated.
  double trafficRequestsPerSecond = 50;
  // The clock of timestamps, garbage collection and the workload controllers; nullptr: realClock().
  // Must outlive the server.
  const Clock* clock = nullptr;
};

class ApiServer {
 public:
  // Opens (or creates) the data directory, generates the TLS material and token on first start, writes
  // DIR/kubeconfig for the bound port and starts serving. Errors name the file or the address. Blocks
  // only until the listener is bound.
  static Result<std::unique_ptr<ApiServer>> start(const ServerOptions& options);
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;
  // Stops serving (closing open watches) and waits for the threads.
  ~ApiServer();

  int port() const;
  const std::string& token() const;
  std::filesystem::path kubeconfigPath() const;
  const std::string& caPem() const;
  // The data plane's /metrics port; 0 without a data plane.
  int trafficMetricsPort() const;
  // Blocks until stop() is called from another thread or a signal handler's thread.
  void wait();
  // Asks the server to stop; safe from any thread, idempotent.
  void stop();

 private:
  struct Impl;
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::apiserver
