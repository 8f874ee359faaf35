// `get rollout NAME [-w]`, `get rollouts` / `list rollouts [-A]` and `get analysisrun NAME`: the plugin's
// read-only views. Each reads the few objects it shows with known resources (no discovery, so a cold run
// costs a handful of requests) and renders them with the pure views of rollout_view.h.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "base/clock.h"
#include "base/duration_millis.h"
#include "cli/analysis_run_view.h"
#include "cli/commands.h"
#include "cli/experiment_view.h"
#include "cli/kube_access.h"
#include "cli/rollout_view.h"
#include "cli/stop_signals.h"
#include "controller/resources.h"
#include "kube/apiserver/workloads.h"
#include "kube/client.h"
#include "kube/informer.h"

namespace sluice::cli {

namespace {

using nlohmann::json;

struct GetFlags {
  KubeFlags kube;
  std::string name;
  bool watch = false;
  bool noColor = false;
  std::string timeout = "0";
};

// How long `-w` waits for the first list of each watched resource before saying why it cannot show them.
constexpr std::chrono::seconds kSyncTimeout{10};

Time wallNow() { return toSeconds(realClock().wallNow()); }

bool useColor(const GetFlags& flags) { return !flags.noColor && isatty(STDOUT_FILENO) == 1; }

std::vector<json> itemsOf(json list) {
  std::vector<json> out;
  if (list.contains("items") && list["items"].is_array()) {
    for (auto& item : list["items"]) out.push_back(std::move(item));
  }
  return out;
}

// The label selector of the Rollout's pods (its spec.selector), which its ReplicaSets carry too; ""
// (the whole namespace, sorted out by owner afterwards) when it has none that can be written as a query.
std::string podSelector(const json& rollout) {
  const json::json_pointer p("/spec/selector");
  if (!rollout.contains(p)) return "";
  auto query = apiserver::labelSelectorQuery(rollout.at(p));
  return query ? *query : "";
}

// The AnalysisRuns and the Experiments of a Rollout.
std::string runSelector(const std::string& rolloutName) {
  return std::string(controller::kRolloutLabel) + "=" + rolloutName;
}

// The AnalysisRuns of every Experiment in the namespace (the view keeps those of the Rollout's).
const std::string kExperimentRunSelector = controller::kExperimentLabel;

struct RolloutObjects {
  json rollout;
  std::vector<json> replicaSets, pods, analysisRuns, experiments;
  std::vector<json> experimentRuns;
};

kube::ApiResult<RolloutObjects> fetchRollout(kube::Client& client, const std::string& ns,
                                             const std::string& name) {
  RolloutObjects o;
  auto rollout = client.get(controller::rolloutsResource(), ns, name);
  if (!rollout) return rollout.error();
  o.rollout = std::move(*rollout);
  kube::ListOptions byPods;
  byPods.labelSelector = podSelector(o.rollout);
  kube::ListOptions byRun;
  byRun.labelSelector = runSelector(name);
  kube::ListOptions byExperiment;
  byExperiment.labelSelector = kExperimentRunSelector;
  // An Experiment's ReplicaSets and pods are among the Rollout's: its templates copy the Rollout's.
  for (auto [resource, options, into] :
       {std::tuple{&controller::replicaSetsResource(), &byPods, &o.replicaSets},
        std::tuple{&controller::podsResource(), &byPods, &o.pods},
        std::tuple{&controller::analysisRunsResource(), &byRun, &o.analysisRuns},
        std::tuple{&controller::experimentsResource(), &byRun, &o.experiments}}) {
    auto list = client.list(*resource, ns, *options);
    if (!list) return list.error();
    *into = itemsOf(std::move(*list));
  }
  if (!o.experiments.empty()) {
    auto list = client.list(controller::analysisRunsResource(), ns, byExperiment);
    if (!list) return list.error();
    o.experimentRuns = itemsOf(std::move(*list));
  }
  return o;
}

std::string renderObjects(const RolloutObjects& o, bool color) {
  std::vector<json> runs = o.analysisRuns;
  runs.insert(runs.end(), o.experimentRuns.begin(), o.experimentRuns.end());
  return renderRolloutView(buildRolloutView(o.rollout, o.replicaSets, o.pods, runs, o.experiments, wallNow()),
                           color);
}

// Redraws the Rollout's view on every change of it, its ReplicaSets, their pods or its AnalysisRuns, as
// the watches (one informer, so one watching thread, each) report them, until SIGINT/SIGTERM or `timeout`
// (0: none). On a terminal each frame replaces the last; otherwise frames follow one another, a blank
// line apart. A frame equal to the last is not drawn again.
int watchRollout(kube::Client& client, const std::string& ns, const std::string& name, const json& rollout,
                 std::chrono::milliseconds timeout, bool color) {
  const bool tty = isatty(STDOUT_FILENO) == 1;
  // Taken synchronously on a thread of ours; blocked before any informer thread starts.
  const StopSignals signals;
  std::mutex mu;
  std::condition_variable changed;
  uint64_t version = 0;
  bool stopped = false;
  std::atomic<bool> signalled{false};
  std::thread stopper([&] {
    signals.wait();
    signalled = true;
    const std::lock_guard<std::mutex> lock(mu);
    stopped = true;
    changed.notify_all();
  });
  auto bump = [&] {
    const std::lock_guard<std::mutex> lock(mu);
    ++version;
    changed.notify_all();
  };
  kube::InformerHandlers handlers{[&](const json&) { bump(); }, [&](const json&, const json&) { bump(); },
                                  [&](const json&) { bump(); }};
  auto informer = [&](const kube::ResourceRef& resource, std::string labelSelector,
                      std::string fieldSelector) {
    kube::InformerOptions options;
    options.ns = ns;
    options.labelSelector = std::move(labelSelector);
    options.fieldSelector = std::move(fieldSelector);
    auto i = std::make_unique<kube::Informer>(client, resource, options);
    i->addHandlers(handlers);
    return i;
  };
  auto rollouts = informer(controller::rolloutsResource(), "", "metadata.name=" + name);
  auto replicaSets = informer(controller::replicaSetsResource(), podSelector(rollout), "");
  auto pods = informer(controller::podsResource(), podSelector(rollout), "");
  auto runs = informer(controller::analysisRunsResource(), runSelector(name), "");
  auto experiments = informer(controller::experimentsResource(), runSelector(name), "");
  auto experimentRuns = informer(controller::analysisRunsResource(), kExperimentRunSelector, "");
  const std::vector<std::pair<const char*, kube::Informer*>> all = {{"rollouts", rollouts.get()},
                                                                    {"replicasets", replicaSets.get()},
                                                                    {"pods", pods.get()},
                                                                    {"analysisruns", runs.get()},
                                                                    {"experiments", experiments.get()},
                                                                    {"analysisruns", experimentRuns.get()}};
  for (const auto& entry : all) entry.second->start();

  const auto deadline = realClock().now() + timeout;
  auto over = [&] { return stopped || (timeout.count() > 0 && realClock().now() >= deadline); };
  // A list that keeps failing (no permission to list pods, say) is said, not waited on in silence.
  const auto syncBy = realClock().now() + kSyncTimeout;
  int exitCode = kExitOk;
  for (auto [what, i] : all) {
    while (!i->waitForSync(std::chrono::milliseconds(200))) {
      const std::lock_guard<std::mutex> lock(mu);
      if (over()) break;
      if (realClock().now() >= syncBy) {
        std::cerr << "error: cannot watch " << what << ": " << i->lastError() << "\n";
        stopped = true;
        exitCode = kExitFailure;
        break;
      }
    }
  }
  const std::string key = ns + "/" + name;  // the informer's cache key
  std::string last;
  uint64_t seen = UINT64_MAX;  // the version drawn last; none yet
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu);
      auto ready = [&] { return stopped || version != seen; };
      if (timeout.count() > 0) {
        if (!changed.wait_until(lock, deadline, ready)) break;
      } else {
        changed.wait(lock, ready);
      }
      if (stopped) break;
      seen = version;  // events from here on draw again
    }
    std::string frame;
    if (auto current = rollouts->get(key)) {
      RolloutObjects o;
      o.rollout = std::move(*current);
      o.replicaSets = replicaSets->list();
      o.pods = pods->list();
      o.analysisRuns = runs->list();
      o.experiments = experiments->list();
      o.experimentRuns = experimentRuns->list();
      frame = renderObjects(o, color);
    } else {
      frame = "Error from server (NotFound): rollouts.sluice.dev \"" + name + "\" not found\n";
    }
    if (frame == last) continue;
    std::cout << (tty ? "\033[H\033[2J" : (last.empty() ? "" : "\n")) << frame << std::flush;
    last = std::move(frame);
  }
  for (const auto& entry : all) entry.second->stop();
  if (!signalled) signals.wake();
  stopper.join();
  return exitCode;
}

// The session, or nullopt after saying why there is none (exit 1, as kubectl for a bad kubeconfig).
std::optional<KubeSession> connectOrSay(const GetFlags& flags, int& exitCode) {
  auto session = connect(flags.kube);
  if (!session) {
    std::cerr << "error: " << session.error() << "\n";
    exitCode = kExitFailure;
    return std::nullopt;
  }
  return std::move(*session);
}

void showRollout(const GetFlags& flags, int& exitCode) {
  auto session = connectOrSay(flags, exitCode);
  if (!session) return;
  auto timeout = parseDurationMillis(flags.timeout);
  if (!timeout) {
    std::cerr << "error: --timeout: " << timeout.error() << "\n";
    exitCode = kExitInvalidInput;
    return;
  }
  kube::Client& client = *session->client;
  auto objects = fetchRollout(client, session->ns, flags.name);
  if (!objects) {
    std::cerr << kubectlError(objects.error()) << "\n";
    exitCode = kExitFailure;
    return;
  }
  if (!flags.watch) {
    std::cout << renderObjects(*objects, useColor(flags));
    exitCode = kExitOk;
    return;
  }
  exitCode = watchRollout(client, session->ns, flags.name, objects->rollout, *timeout, useColor(flags));
}

void listRollouts(const GetFlags& flags, int& exitCode) {
  auto session = connectOrSay(flags, exitCode);
  if (!session) return;
  // One LIST, all namespaces at once with -A.
  auto list = session->client->list(controller::rolloutsResource(), session->ns);
  if (!list) {
    std::cerr << kubectlError(list.error()) << "\n";
    exitCode = kExitFailure;
    return;
  }
  std::vector<RolloutRow> rows;
  for (const json& r : itemsOf(std::move(*list))) rows.push_back(rolloutRow(r));
  if (rows.empty()) {
    std::cerr << (flags.kube.allNamespaces ? std::string("No resources found")
                                           : "No resources found in " + session->ns + " namespace.")
              << "\n";
  } else {
    std::cout << renderRolloutTable(std::move(rows), flags.kube.allNamespaces);
  }
  exitCode = kExitOk;
}

void showAnalysisRun(const GetFlags& flags, int& exitCode) {
  auto session = connectOrSay(flags, exitCode);
  if (!session) return;
  auto run = session->client->get(controller::analysisRunsResource(), session->ns, flags.name);
  if (!run) {
    std::cerr << kubectlError(run.error()) << "\n";
    exitCode = kExitFailure;
    return;
  }
  std::cout << renderAnalysisRunView(buildAnalysisRunView(*run, wallNow()), useColor(flags));
  exitCode = kExitOk;
}

void showExperiment(const GetFlags& flags, int& exitCode) {
  auto session = connectOrSay(flags, exitCode);
  if (!session) return;
  auto ex = session->client->get(controller::experimentsResource(), session->ns, flags.name);
  if (!ex) {
    std::cerr << kubectlError(ex.error()) << "\n";
    exitCode = kExitFailure;
    return;
  }
  std::cout << renderExperimentView(buildExperimentView(*ex, wallNow()), useColor(flags));
  exitCode = kExitOk;
}

void addListRolloutsCommand(CLI::App& parent, int& exitCode, bool withName) {
  auto flags = std::make_shared<GetFlags>();
  // `get rollout NAME` and `list rollouts` read best; each takes the other's spelling too, and `ro`.
  auto* cmd = parent.add_subcommand(
      withName ? "rollout" : "rollouts",
      withName ? "Show a Rollout: its status, and a tree of its revisions, ReplicaSets, pods,\n"
                 "Experiments and AnalysisRuns (with NAME); without NAME, list the Rollouts as a table"
               : "List the Rollouts as a table");
  cmd->alias("ro");
  cmd->alias(withName ? "rollouts" : "rollout");
  if (withName) {
    cmd->add_option("NAME", flags->name, "The Rollout to show");
    cmd->add_flag("-w,--watch", flags->watch, "Redraw on every change until Ctrl-C or --timeout");
    cmd->add_flag("--no-color", flags->noColor, "No colours, even on a terminal");
    cmd->add_option("--timeout", flags->timeout, "With -w: stop after this long (30s, 5m; 0: never)")
        ->capture_default_str();
  }
  addKubeFlags(*cmd, flags->kube, /*listing=*/true);
  cmd->callback([flags, &exitCode] {
    if (flags->name.empty()) {
      if (flags->watch) {
        std::cerr << "error: -w needs a Rollout NAME\n";
        exitCode = kExitInvalidInput;
        return;
      }
      listRollouts(*flags, exitCode);
      return;
    }
    if (flags->kube.allNamespaces) {
      std::cerr << "error: a resource cannot be retrieved by name across all namespaces\n";
      exitCode = kExitInvalidInput;
      return;
    }
    showRollout(*flags, exitCode);
  });
}

}  // namespace

void addGetCommand(CLI::App& app, int& exitCode) {
  auto* get = app.add_subcommand(
      "get",
      "Show a Rollout (get rollout NAME [-w]), list Rollouts (get rollouts [-A]), or show an\n"
      "AnalysisRun with its measurements (get analysisrun NAME), or an Experiment (get experiment NAME)");
  get->require_subcommand(1);
  addListRolloutsCommand(*get, exitCode, /*withName=*/true);

  auto flags = std::make_shared<GetFlags>();
  auto* ar =
      get->add_subcommand("analysisrun", "Show an AnalysisRun: its phase, args, metrics and measurements");
  ar->alias("ar");
  ar->alias("analysisruns");
  ar->add_option("NAME", flags->name, "The AnalysisRun to show")->required();
  ar->add_flag("--no-color", flags->noColor, "No colours, even on a terminal");
  addKubeFlags(*ar, flags->kube);
  ar->callback([flags, &exitCode] { showAnalysisRun(*flags, exitCode); });

  auto exFlags = std::make_shared<GetFlags>();
  auto* ex = get->add_subcommand(
      "experiment", "Show an Experiment: its phase, its templates' ReplicaSets and its AnalysisRuns");
  ex->alias("exp");
  ex->alias("experiments");
  ex->add_option("NAME", exFlags->name, "The Experiment to show")->required();
  ex->add_flag("--no-color", exFlags->noColor, "No colours, even on a terminal");
  addKubeFlags(*ex, exFlags->kube);
  ex->callback([exFlags, &exitCode] { showExperiment(*exFlags, exitCode); });
}

void addListCommand(CLI::App& app, int& exitCode) {
  auto* list = app.add_subcommand("list", "List Rollouts (list rollouts [-A])");
  list->require_subcommand(1);
  addListRolloutsCommand(*list, exitCode, /*withName=*/false);
}

}  // namespace sluice::cli
