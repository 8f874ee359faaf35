// The GitOps loop's figures on the embedded cluster: a `sluice controller --controllers gitops` process
// applying 1,000 Kustomizations of 5 objects each from cold (wall time until every one is Ready at the
// revision, the process's peak memory and CPU), then a no-drift interval over all of them (the writes it
// makes, which must be none, and its CPU); and one Kustomization of 1,000 objects.
// Budgets: 1,000 Kustomizations under 30 s and 64 MiB (Flux's own benchmark: 4 min 13 s, 223 MiB).
//
// Two layouts of the git repository: every Kustomization building one shared path with its own postBuild
// variables (an app template per tenant: one kustomize run serves them all), and every Kustomization its
// own directory (a monorepo of 1,000 apps: 1,000 kustomize runs, each a process).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "base/source.h"
#include "bench/bench_cluster.h"
#include "bench/process_stats.h"
#include "kube/client.h"
#include "net/http_client.h"
#include "tests/support/git_repo.h"
#include "tests/support/process.h"

namespace {

using nlohmann::json;
using sluice::bench::applyCrds;
using sluice::bench::benchFail;
using sluice::bench::clientFor;
using sluice::bench::cpuSeconds;
using sluice::bench::recordMemory;
using sluice::bench::ScratchDir;
using sluice::bench::startAndWait;
using Clock = std::chrono::steady_clock;
namespace kube = sluice::kube;

const kube::ResourceRef kKustomizations{"sluice.dev", "v1alpha1", "kustomizations", true, "Kustomization"};
const kube::ResourceRef kGitRepositories{"sluice.dev", "v1alpha1", "gitrepositories", true, "GitRepository"};
const kube::ResourceRef kConfigMaps{"", "v1", "configmaps", true, "ConfigMap"};

// The no-drift interval of every Kustomization.
constexpr int kIntervalSeconds = 30;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The five objects of app `name` in namespace `ns`; `${app}` and `${ns}` where the shared template
// leaves them to postBuild substitution.
std::string appObjects(const std::string& name, const std::string& ns) {
  return "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\ndata:\n  greeting: hello from " + name +
         "\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\nstringData:\n  token: not-a-secret\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: " +
         name + "\n  namespace: " + ns + "\nspec:\n  selector:\n    app: " + name +
         "\n  ports:\n  - port: 80\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name +
         "\n  namespace: " + ns +
         "\nspec:\n  replicas: 0\n  selector:\n    matchLabels:\n      app: " + name +
         "\n  template:\n    metadata:\n      labels:\n        app: " + name +
         "\n    spec:\n      containers:\n      - name: web\n        image: registry.example/web:v1\n";
}

std::string namespaceOf(int i) { return "bench-" + std::to_string(i / 100); }

json kustomization(const std::string& name, const std::string& path, const json& substitute) {
  json spec = {{"sourceRef", {{"kind", "GitRepository"}, {"name", "apps"}}},
               {"path", path},
               {"interval", std::to_string(kIntervalSeconds) + "s"},
               {"prune", true}};
  if (!substitute.empty()) spec["postBuild"] = {{"substitute", substitute}};
  return {{"apiVersion", "sluice.dev/v1alpha1"},
          {"kind", "Kustomization"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", spec}};
}

// Ready=True at a revision: the Kustomization applied it.
bool applied(const json& k) {
  if (!k.contains("status") || k["status"].value("lastAppliedRevision", "").empty()) return false;
  for (const auto& c : k["status"].value("conditions", json::array()))
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

// The latest state of every Kustomization, from a watch opened before they exist.
class LatestKustomizations {
 public:
  explicit LatestKustomizations(kube::Client& client)
      : thread_([this, &client] {
          kube::WatchOptions o;
          o.allowBookmarks = false;
          (void)client.watch(
              kKustomizations, "default", o,
              [&](const kube::WatchEvent& e) {
                std::lock_guard lock(mu_);
                byName_[e.object["metadata"].value("name", "")] = e.object;
                return !stop_.stopped();
              },
              &stop_);
        }) {}
  ~LatestKustomizations() {
    stop_.stop();
    thread_.join();
  }
  std::size_t count(const std::function<bool(const json&)>& done) {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& [name, k] : byName_) n += done(k) ? 1 : 0;
    return n;
  }
  std::string anyMessage() {
    std::lock_guard lock(mu_);
    for (const auto& [name, k] : byName_) {
      if (applied(k)) continue;
      for (const auto& c : k.value("status", json::object()).value("conditions", json::array()))
        if (c.value("type", "") == "Ready") return name + ": " + c.value("message", "");
      return name + ": no Ready condition";
    }
    return "";
  }

 private:
  std::mutex mu_;
  std::map<std::string, json> byName_;
  kube::WatchStop stop_;
  std::thread thread_;
};

// The store's revision: every write to the cluster moves it.
int64_t clusterRevision(kube::Client& client) {
  auto list = client.list(kConfigMaps, "default");
  if (!list) benchFail("list: " + list.error().describe());
  return std::stoll(list->value(json::json_pointer("/metadata/resourceVersion"), std::string("0")));
}

// Every object written since `revision` (any namespace), one line each on stderr, so that a no-drift
// interval that writes says what it wrote; the count.
int writesSince(kube::Client& client, int64_t revision) {
  const std::vector<kube::ResourceRef> kinds = {kConfigMaps,
                                                kKustomizations,
                                                kGitRepositories,
                                                {"", "v1", "events", true, "Event"},
                                                {"", "v1", "secrets", true, "Secret"},
                                                {"", "v1", "services", true, "Service"},
                                                {"", "v1", "serviceaccounts", true, "ServiceAccount"},
                                                {"", "v1", "namespaces", false, "Namespace"},
                                                {"", "v1", "pods", true, "Pod"},
                                                {"apps", "v1", "deployments", true, "Deployment"},
                                                {"apps", "v1", "replicasets", true, "ReplicaSet"},
                                                {"coordination.k8s.io", "v1", "leases", true, "Lease"}};
  int count = 0;
  for (const auto& kind : kinds) {
    auto list = client.listAll(kind, "");
    if (!list) benchFail("list " + kind.resource + ": " + list.error().describe());
    for (const auto& item : (*list)["items"]) {
      const json& meta = item["metadata"];
      if (std::stoll(meta.value("resourceVersion", std::string("0"))) <= revision) continue;
      ++count;
      std::cerr << "written in the interval: " << kind.kind << " " << meta.value("namespace", "") << "/"
                << meta.value("name", "");
      if (kind.resource == "events")
        std::cerr << " (" << item.value("reason", "") << ": " << item.value("message", "") << ")";
      std::cerr << "\n";
    }
  }
  return count;
}

// A counter's value in the controller's /metrics text, summed over the series whose labels hold `labels`.
double metric(const std::string& text, const std::string& name, const std::string& labels) {
  double sum = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name, 0) != 0 || line.find(labels) == std::string::npos) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

std::string scrape(int port) {
  sluice::net::HttpClient http;
  sluice::net::Request req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  auto out = http.send(req);
  if (!out.ok() || out.response().status != 200) benchFail("scraping the controller's /metrics");
  return out.response().body;
}

struct Setup {
  ScratchDir dir;
  std::unique_ptr<sluice::testing::ChildProcess> cluster;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<sluice::testing::ChildProcess> controller;
  int metricsPort = 0;

  Setup() {
    cluster = startAndWait({SLUICE_BINARY, "cluster", "--data-dir", (dir.path / "data").string(), "--port",
                            "0", "--pod-ready-after", "100ms"},
                           dir.path / "cluster.log", "export KUBECONFIG=");
    const auto kubeconfig = dir.path / "data" / "kubeconfig";
    client = clientFor(kubeconfig);
    applyCrds(dir, kubeconfig, *client);
    if (!sluice::testing::waitUntil([&] { return client->list(kKustomizations, "default").ok(); },
                                    std::chrono::seconds(10)))
      benchFail("the Kustomization CRD is not served");
    for (int n = 0; n < 10; ++n) {
      const json ns = {
          {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", namespaceOf(n * 100)}}}};
      if (!client->create({"", "v1", "namespaces", false, "Namespace"}, "", ns)) benchFail("namespace");
    }
    controller = startAndWait(
        {SLUICE_BINARY, "controller", "--controllers", "gitops", "--kubeconfig", kubeconfig.string(),
         "--leader-elect=false", "--metrics-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0", "--qps",
         "2000", "--burst", "4000", "--storage-path", (dir.path / "storage").string()},
        dir.path / "controller.log", "caches synced");
    std::smatch m;
    const std::string log = controller->log();
    if (!std::regex_search(log, m, std::regex("serving /metrics on port ([0-9]+)")))
      benchFail("no metrics port in:\n" + log);
    metricsPort = std::stoi(m[1]);
  }

  void createSource(const std::string& url) {
    const json repo = {{"apiVersion", "sluice.dev/v1alpha1"},
                       {"kind", "GitRepository"},
                       {"metadata", {{"name", "apps"}, {"namespace", "default"}}},
                       {"spec", {{"url", url}, {"interval", "10m"}, {"ref", {{"branch", "main"}}}}}};
    if (auto r = client->create(kGitRepositories, "default", repo); !r) benchFail(r.error().describe());
  }

  // Creates the Kustomizations from 8 threads.
  void createAll(const std::vector<json>& ks) {
    std::atomic<size_t> next{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 8; ++t) {
      writers.emplace_back([&] {
        for (size_t i = next++; i < ks.size(); i = next++) {
          if (auto r = client->create(kKustomizations, "default", ks[i]); !r)
            benchFail("create: " + r.error().describe());
        }
      });
    }
    for (auto& t : writers) t.join();
  }
};

// Waits until `n` Kustomizations are applied; the seconds it took since `since`.
double waitApplied(benchmark::State& state, LatestKustomizations& latest, std::size_t n,
                   Clock::time_point since, std::chrono::seconds timeout) {
  std::size_t done = 0;
  while ((done = latest.count(applied)) < n && Clock::now() - since < timeout)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  state.counters["applied"] = static_cast<double>(done);
  if (done < n)
    std::cerr << "only " << done << " of " << n << " applied; e.g. " << latest.anyMessage() << "\n";
  return secondsSince(since);
}

// 1,000 Kustomizations of 5 objects (range(0): 0 one shared path with variables, 1 a directory each).
void BM_Kustomizations(benchmark::State& state) {
  const int count = 1000;
  const bool ownPaths = state.range(0) != 0;
  for (auto _ : state) {
    Setup s;
    sluice::testing::GitRepo repo(s.dir.path / "repo");
    std::map<std::string, std::string> files;
    std::vector<json> ks;
    if (ownPaths) {
      for (int i = 0; i < count; ++i) {
        const std::string app = "app-" + std::to_string(i);
        files["apps/" + app + "/objects.yaml"] = appObjects(app, namespaceOf(i));
        ks.push_back(kustomization(app, "./apps/" + app, json::object()));
      }
    } else {
      files["apps/template/objects.yaml"] = appObjects("${app}", "${ns}");
      for (int i = 0; i < count; ++i) {
        const std::string app = "app-" + std::to_string(i);
        ks.push_back(kustomization(app, "./apps/template", {{"app", app}, {"ns", namespaceOf(i)}}));
      }
    }
    repo.commit(files, "1,000 apps");
    const pid_t pid = s.controller->pid();
    LatestKustomizations latest(*s.client);
    const auto started = Clock::now();
    s.createSource(repo.fileUrl());
    s.createAll(ks);
    state.counters["cold_s"] = waitApplied(state, latest, count, started, std::chrono::seconds(600));
    const double cpuCold = cpuSeconds(pid);
    state.counters["cold_cpu_s"] = cpuCold;
    recordMemory(state, pid, "cold");

    // A no-drift interval: every Kustomization reconciles once more, and nothing is written. It starts
    // once the cluster is still (the embedded cluster's Deployment controller makes the last ReplicaSets
    // a moment after their Deployments were applied: not the GitOps controller's writes).
    int64_t revision = clusterRevision(*s.client);
    for (int i = 0; i < 30; ++i) {
      std::this_thread::sleep_for(std::chrono::seconds(2));
      const int64_t now = clusterRevision(*s.client);
      if (now == revision) break;
      revision = now;
    }
    const double reconciles =
        metric(scrape(s.metricsPort), "workqueue_work_duration_seconds_count", "name=\"kustomizations\"");
    std::this_thread::sleep_for(std::chrono::seconds(kIntervalSeconds + 5));
    state.counters["interval_reconciles"] =
        metric(scrape(s.metricsPort), "workqueue_work_duration_seconds_count", "name=\"kustomizations\"") -
        reconciles;
    state.counters["interval_writes"] = static_cast<double>(clusterRevision(*s.client) - revision);
    state.counters["interval_objects_written"] = writesSince(*s.client, revision);
    state.counters["interval_cpu_s"] = cpuSeconds(pid) - cpuCold;
    recordMemory(state, pid, "interval");
    s.controller->stop();
    s.cluster->stop();
  }
}
BENCHMARK(BM_Kustomizations)
    ->ArgNames({"ownPaths"})
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);

// One Kustomization of 1,000 ConfigMaps.
void BM_OneKustomizationOfThousand(benchmark::State& state) {
  for (auto _ : state) {
    Setup s;
    sluice::testing::GitRepo repo(s.dir.path / "repo");
    std::string objects;
    for (int i = 0; i < 1000; ++i) {
      objects += "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-" + std::to_string(i) +
                 "\n  namespace: bench-0\ndata:\n  n: \"" + std::to_string(i) + "\"\n";
    }
    repo.commit({{"big/objects.yaml", objects}}, "1,000 objects");
    LatestKustomizations latest(*s.client);
    const auto started = Clock::now();
    s.createSource(repo.fileUrl());
    s.createAll({kustomization("big", "./big", json::object())});
    state.counters["cold_s"] = waitApplied(state, latest, 1, started, std::chrono::seconds(600));
    state.counters["cold_cpu_s"] = cpuSeconds(s.controller->pid());
    recordMemory(state, s.controller->pid(), "cold");
    s.controller->stop();
    s.cluster->stop();
  }
}
BENCHMARK(BM_OneKustomizationOfThousand)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
