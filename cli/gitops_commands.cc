// The GitOps verbs, as the flux CLI has them: `get sources git` / `get kustomizations` [-A] [-w],
// `reconcile`, `suspend` / `resume`, `build` / `diff` / `tree kustomization` and `events`. Reconciles are
// asked for with the reconcile.sluice.dev/requestedAt annotation, which the controller echoes in
// status.lastHandledReconcileAt once it has written that pass's outcome; build and diff run the
// controller's own build (gitops/kustomize_build.h) and apply (gitops/apply_set.h, as a dry run).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "base/clock.h"
#include "base/duration_millis.h"
#include "base/time.h"
#include "cli/commands.h"
#include "cli/gitops_view.h"
#include "cli/kube_access.h"
#include "cli/stop_signals.h"
#include "controller/kustomization_reconciler.h"
#include "gitops/apply_set.h"
#include "gitops/git_repository.h"
#include "gitops/kustomization.h"
#include "gitops/kustomize_build.h"
#include "kube/client.h"

namespace sluice::cli {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const kube::ResourceRef kGitRepositories{"sluice.dev", "v1alpha1", "gitrepositories", true, "GitRepository"};
const kube::ResourceRef kKustomizations{"sluice.dev", "v1alpha1", "kustomizations", true, "Kustomization"};
const kube::ResourceRef kEvents{"", "v1", "events", true, "Event"};

// The kinds whose Events `events` shows: the GitOps objects and the Rollouts they ship.
const std::set<std::string> kEventKinds = {"GitRepository", "Kustomization", "Receiver", "Rollout",
                                           "AnalysisRun"};

// One of the two GitOps kinds the verbs act on, with the words flux's messages use for it.
struct Kind {
  const kube::ResourceRef* resource;
  const char* name;  // "GitRepository"
  const char* noun;  // "source" / "kustomization", in suspend and resume messages
  std::function<GitOpsRow(const json&)> row;
};

const Kind& gitRepositoryKind() {
  static const Kind k{&kGitRepositories, "GitRepository", "source", gitRepositoryRow};
  return k;
}
const Kind& kustomizationKind() {
  static const Kind k{&kKustomizations, "Kustomization", "kustomization", kustomizationRow};
  return k;
}

// Progress as flux prints it, on stderr: ► doing, ✔ done, ◎ waiting, ✗ failed.
void say(const char* symbol, const std::string& text) { std::cerr << symbol << " " << text << "\n"; }

std::optional<KubeSession> open(const KubeFlags& flags) {
  auto session = connect(flags);
  if (!session) {
    say("✗", session.error());
    return std::nullopt;
  }
  return std::move(*session);
}

std::optional<json> fetch(KubeSession& s, const Kind& kind, const std::string& ns, const std::string& name) {
  auto got = s.client->get(*kind.resource, ns, name);
  if (!got) {
    say("✗", kubectlError(got.error()));
    return std::nullopt;
  }
  return std::move(*got);
}

// ---- get ------------------------------------------------------------------------------------------------

struct GetArgs {
  KubeFlags kube;
  std::string name;
  bool watch = false;
};

// Watches `resource` from `options` and hands each event to `handler` until SIGINT or SIGTERM (`signals`);
// the exit code: a watch that failed before it was interrupted says why.
int watchUntilInterrupted(StopSignals& signals, kube::Client& client, const kube::ResourceRef& resource,
                          const std::string& ns, const kube::WatchOptions& options,
                          const std::function<bool(const kube::WatchEvent&)>& handler) {
  kube::WatchStop stop;
  std::atomic<bool> signalled{false};
  std::thread stopper([&] {
    signals.wait();
    signalled = true;
    stop.stop();
  });
  auto watched = client.watch(resource, ns, options, handler, &stop);
  if (!signalled) signals.wake();
  stopper.join();
  if (!watched && !signalled) {
    say("✗", kubectlError(watched.error()));
    return kExitFailure;
  }
  return kExitOk;
}

// Prints the table, then with -w a row each time an object's row changes, until SIGINT or SIGTERM.
int runGet(const Kind& kind, const GetArgs& args) {
  if (args.kube.allNamespaces && !args.name.empty()) {
    say("✗", "a resource cannot be retrieved by name across all namespaces");
    return kExitInvalidInput;
  }
  // Taken synchronously before any thread starts (the watch's own included).
  std::optional<StopSignals> signals;
  if (args.watch) signals.emplace();
  auto session = open(args.kube);
  if (!session) return kExitFailure;
  kube::ListOptions options;
  if (!args.name.empty()) options.fieldSelector = "metadata.name=" + args.name;
  auto list = session->client->list(*kind.resource, session->ns, options);
  if (!list) {
    say("✗", kubectlError(list.error()));
    return kExitFailure;
  }
  std::vector<GitOpsRow> rows;
  std::map<std::string, std::string> printed;  // namespace/name: the row last printed
  for (const auto& item : (*list)["items"]) rows.push_back(kind.row(item));
  const bool all = args.kube.allNamespaces;
  if (rows.empty() && !args.watch) {
    say("✗", std::string("no ") + kind.name + " objects found" +
                 (all ? std::string() : " in " + session->ns + " namespace"));
    return kExitOk;
  }
  std::cout << renderGitOpsTable(rows, all) << std::flush;
  if (!args.watch) return kExitOk;
  for (const auto& r : rows) printed[r.ns + "/" + r.name] = renderGitOpsTable({r}, all, false);

  kube::WatchOptions watch;
  watch.resourceVersion = (*list)["metadata"].value("resourceVersion", "");
  watch.fieldSelector = options.fieldSelector;
  return watchUntilInterrupted(*signals, *session->client, *kind.resource, session->ns, watch,
                               [&](const kube::WatchEvent& event) {
                                 if (event.type != "ADDED" && event.type != "MODIFIED") return true;
                                 const GitOpsRow row = kind.row(event.object);
                                 std::string line = renderGitOpsTable({row}, all, false);
                                 std::string& last = printed[row.ns + "/" + row.name];
                                 if (line != last) {
                                   std::cout << line << std::flush;
                                   last = std::move(line);
                                 }
                                 return true;
                               });
}

// ---- reconcile, suspend, resume -------------------------------------------------------------------------

struct ObjectArgs {
  KubeFlags kube;
  std::string name;
  std::string timeout = "5m";
};

Result<std::chrono::milliseconds> timeoutOf(const ObjectArgs& args) {
  auto t = parseDurationMillis(args.timeout);
  if (!t) return Error{"--timeout: " + t.error()};
  return *t;
}

std::string nowRequested() { return formatRfc3339Micro(realClock().wallNow()); }

// Polls the object until the controller has handled `requestedAt` (see reconcileState) or `timeout`.
// Prints the outcome; returns the exit status: 0 only when Ready is True.
int waitHandled(KubeSession& s, const Kind& kind, const std::string& ns, const std::string& name,
                const std::string& requestedAt, std::chrono::milliseconds timeout) {
  say("◎", std::string("waiting for ") + kind.name + " reconciliation");
  const auto deadline = realClock().now() + timeout;
  for (;;) {
    auto obj = fetch(s, kind, ns, name);
    if (!obj) return kExitFailure;
    const ReconcileState state = reconcileState(*obj, requestedAt);
    if (state.handled) {
      if (!state.ready) {
        say("✗", state.message.empty() ? std::string(kind.name) + " is not ready" : state.message);
        return kExitFailure;
      }
      say("✔", std::string(kind.name) + " reconciliation completed");
      if (!state.revision.empty()) {
        std::string line = &kind == &gitRepositoryKind() ? "fetched" : "applied";
        line += " revision ";
        line += state.revision;
        say("✔", line);
      }
      return kExitOk;
    }
    if (realClock().now() >= deadline) {
      std::string line = "timed out waiting for ";
      line += kind.name;
      line += " ";
      line += ns;
      line += "/";
      line += name;
      line += " to be reconciled (the controller has not handled the request)";
      say("✗", line);
      return kExitFailure;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

// Annotates the object (one merge patch, with `spec` when given) and waits for the reconcile it asks for.
int requestReconcile(KubeSession& s, const Kind& kind, const std::string& ns, const std::string& name,
                     std::chrono::milliseconds timeout, const json& spec = json()) {
  const std::string requestedAt = nowRequested();
  json patch = {{"metadata", {{"annotations", {{gitops::kRequestedAtAnnotation, requestedAt}}}}}};
  if (!spec.is_null()) patch["spec"] = spec;
  auto patched = s.client->patch(*kind.resource, ns, name, kube::PatchType::kMerge, patch);
  if (!patched) {
    say("✗", kubectlError(patched.error()));
    return kExitFailure;
  }
  say("✔", std::string(kind.name) + " annotated");
  return waitHandled(s, kind, ns, name, requestedAt, timeout);
}

int runReconcile(const Kind& kind, const ObjectArgs& args, bool withSource) {
  auto timeout = timeoutOf(args);
  if (!timeout) {
    say("✗", timeout.error());
    return kExitInvalidInput;
  }
  auto session = open(args.kube);
  if (!session) return kExitFailure;
  const std::string ns = session->ns;
  auto obj = fetch(*session, kind, ns, args.name);
  if (!obj) return kExitFailure;
  if (obj->value(json::json_pointer("/spec/suspend"), false)) {
    say("✗", "resource is suspended");
    return kExitFailure;
  }
  if (withSource) {
    const json ref = obj->value(json::json_pointer("/spec/sourceRef"), json::object());
    const std::string sourceKind = ref.value("kind", "");
    const std::string sourceNs = ref.value("namespace", ns);
    const std::string sourceName = ref.value("name", "");
    if (sourceKind != "GitRepository") {
      say("✗", "cannot reconcile source of kind '" + sourceKind + "': only GitRepository is supported");
      return kExitFailure;
    }
    say("►", "annotating GitRepository " + sourceName + " in " + sourceNs + " namespace");
    const int sourced = requestReconcile(*session, gitRepositoryKind(), sourceNs, sourceName, *timeout);
    if (sourced != kExitOk) return sourced;
  }
  say("►", std::string("annotating ") + kind.name + " " + args.name + " in " + ns + " namespace");
  return requestReconcile(*session, kind, ns, args.name, *timeout);
}

int runSuspend(const Kind& kind, const ObjectArgs& args) {
  auto session = open(args.kube);
  if (!session) return kExitFailure;
  say("►", std::string("suspending ") + kind.noun + " " + args.name + " in " + session->ns + " namespace");
  auto patched = session->client->patch(*kind.resource, session->ns, args.name, kube::PatchType::kMerge,
                                        {{"spec", {{"suspend", true}}}});
  if (!patched) {
    say("✗", kubectlError(patched.error()));
    return kExitFailure;
  }
  say("✔", std::string(kind.noun) + " suspended");
  return kExitOk;
}

// spec.suspend cleared and a reconcile asked for in the same patch, then waited for, as flux resume.
int runResume(const Kind& kind, const ObjectArgs& args) {
  auto timeout = timeoutOf(args);
  if (!timeout) {
    say("✗", timeout.error());
    return kExitInvalidInput;
  }
  auto session = open(args.kube);
  if (!session) return kExitFailure;
  say("►", std::string("resuming ") + kind.noun + " " + args.name + " in " + session->ns + " namespace");
  return requestReconcile(*session, kind, session->ns, args.name, *timeout, {{"suspend", false}});
}

// ---- build, diff, tree ------------------------------------------------------------------------------------

struct BuildArgs {
  KubeFlags kube;
  std::string name;
  std::string path;
  std::string kustomizeBinary;
};

struct Built {
  json kustomization;
  gitops::Kustomization parsed;
  std::vector<json> objects;
};

// The Kustomization from the cluster and the local directory built as the controller builds its
// artifact's spec.path (its overlay and postBuild variables included). nullopt after saying why.
std::optional<Built> buildLocal(KubeSession& s, const BuildArgs& args) {
  std::error_code ec;
  if (!fs::is_directory(args.path, ec)) {
    say("✗", "invalid resource path \"" + args.path + "\": not a directory");
    return std::nullopt;
  }
  auto obj = fetch(s, kustomizationKind(), s.ns, args.name);
  if (!obj) return std::nullopt;
  auto parsed = gitops::parseKustomization(*obj);
  if (!parsed) {
    say("✗", "Kustomization " + s.ns + "/" + args.name + ": " + parsed.error());
    return std::nullopt;
  }
  gitops::KustomizationSpec spec = parsed->spec;
  spec.path = "";  // --path is the local copy of spec.path
  std::map<std::string, std::string> vars;
  if (spec.hasPostBuild) {
    auto v = controller::postBuildVariables(*s.client, s.ns, spec);
    if (!v) {
      say("✗", v.error());
      return std::nullopt;
    }
    vars = std::move(*v);
  }
  const gitops::KustomizeBuilder builder(args.kustomizeBinary);
  auto objects =
      builder.build(fs::absolute(args.path), spec, vars,
                    std::chrono::duration_cast<std::chrono::milliseconds>(spec.effectiveTimeout()));
  if (!objects) {
    say("✗", objects.error());
    return std::nullopt;
  }
  return Built{std::move(*obj), std::move(*parsed), std::move(*objects)};
}

int runBuild(const BuildArgs& args) {
  auto session = open(args.kube);
  if (!session) return kExitFailure;
  auto built = buildLocal(*session, args);
  if (!built) return kExitFailure;
  // What the controller applies: in apply order, with the ownership labels.
  gitops::sortForApply(built->objects);
  for (auto& o : built->objects) gitops::setOwnerLabels(o, args.name, session->ns);
  std::cout << toYamlStream(built->objects);
  return kExitOk;
}

// flux diff's exit statuses.
constexpr int kDiffNone = 0;
constexpr int kDiffChanges = 1;
constexpr int kDiffError = 2;

int runDiff(const BuildArgs& args) {
  auto session = open(args.kube);
  if (!session) return kDiffError;
  auto built = buildLocal(*session, args);
  if (!built) return kDiffError;
  gitops::ApplySetOptions options;
  options.ownerName = args.name;
  options.ownerNamespace = session->ns;
  options.force = built->parsed.spec.force;
  auto preview = gitops::previewAll(*session->client, std::move(built->objects), options);
  if (!preview.ok()) {
    say("✗", preview.error);
    return kDiffError;
  }
  bool changed = false;
  std::vector<gitops::InventoryEntry> inventory;
  for (const auto& p : preview.objects) {
    inventory.push_back(gitops::inventoryEntry(p.key));
    if (p.live.is_null()) {
      std::cout << "► " << p.key.describe() << " created\n";
      changed = true;
      continue;
    }
    if (p.unchecked) continue;  // reconcile: disabled, left as it is
    const std::string diff = objectDiff(p.live, p.merged);
    if (diff.empty()) continue;
    std::cout << "► " << p.key.describe() << " drifted\n" << diff;
    changed = true;
  }
  if (built->parsed.spec.prune) {
    const json status = built->kustomization.value("status", json::object());
    for (const auto& e : gitops::staleEntries(gitops::readInventory(status), inventory)) {
      std::cout << "► " << inventoryObjectName(e.id) << " deleted\n";
      changed = true;
    }
  }
  if (!changed) say("✔", "no changes");
  return changed ? kDiffChanges : kDiffNone;
}

std::vector<std::string> entryIds(const json& kustomization) {
  std::vector<std::string> ids;
  for (const auto& e : gitops::readInventory(kustomization.value("status", json::object())))
    ids.push_back(e.id);
  return ids;
}

int runTree(const ObjectArgs& args) {
  auto session = open(args.kube);
  if (!session) return kExitFailure;
  auto root = fetch(*session, kustomizationKind(), session->ns, args.name);
  if (!root) return kExitFailure;
  const NestedInventory nested = [&](const std::string& ns,
                                     const std::string& name) -> std::optional<std::vector<std::string>> {
    auto k = session->client->get(kKustomizations, ns, name);
    if (!k) return std::nullopt;
    return entryIds(*k);
  };
  std::cout << renderInventoryTree(session->ns, args.name, entryIds(*root), nested);
  return kExitOk;
}

// ---- events ---------------------------------------------------------------------------------------------

// Prints the Events of the GitOps kinds (of one object with --for), oldest first; with -w then each Event
// recorded or counted again, as it happens, until SIGINT or SIGTERM.
int runEvents(const KubeFlags& kube, const std::string& forObject, bool watch) {
  std::string forKind, forName;
  if (!forObject.empty()) {
    const auto slash = forObject.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == forObject.size()) {
      say("✗", "--for: expected Kind/name, got \"" + forObject + "\"");
      return kExitInvalidInput;
    }
    forKind = forObject.substr(0, slash);
    forName = forObject.substr(slash + 1);
  }
  // Taken synchronously before any thread starts (the watch's own included).
  std::optional<StopSignals> signals;
  if (watch) signals.emplace();
  auto session = open(kube);
  if (!session) return kExitFailure;
  auto list = session->client->listAll(kEvents, session->ns);
  if (!list) {
    say("✗", kubectlError(list.error()));
    return kExitFailure;
  }
  auto sameKind = [](const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  };
  auto wanted = [&](const json& e) {
    const std::string kind = e.value(json::json_pointer("/involvedObject/kind"), std::string());
    const std::string name = e.value(json::json_pointer("/involvedObject/name"), std::string());
    if (!kEventKinds.count(kind)) return false;
    return forKind.empty() || (sameKind(kind, forKind) && name == forName);
  };
  std::vector<json> events;
  for (auto& e : (*list)["items"]) {
    if (wanted(e)) events.push_back(std::move(e));
  }
  if (events.empty()) {
    std::cerr << (kube.allNamespaces ? std::string("No events found.")
                                     : "No events found in " + session->ns + " namespace.")
              << "\n";
    if (!watch) return kExitOk;
  } else {
    std::cout << renderEvents(std::move(events), kube.allNamespaces, toSeconds(realClock().wallNow()))
              << std::flush;
  }
  if (!watch) return kExitOk;

  kube::WatchOptions options;
  options.resourceVersion = (*list)["metadata"].value("resourceVersion", "");
  return watchUntilInterrupted(
      *signals, *session->client, kEvents, session->ns, options, [&](const kube::WatchEvent& event) {
        // A repeat counted on an Event is a MODIFIED one: shown again, as `kubectl get events -w` does.
        if ((event.type != "ADDED" && event.type != "MODIFIED") || !wanted(event.object)) return true;
        // One row, without the table's heading (its columns are as wide as this row needs).
        const std::string table =
            renderEvents({event.object}, kube.allNamespaces, toSeconds(realClock().wallNow()));
        const auto heading = table.find('\n');
        std::cout << (heading == std::string::npos ? table : table.substr(heading + 1)) << std::flush;
        return true;
      });
}

// ---- registration ---------------------------------------------------------------------------------------

CLI::App* kustomizationVerb(CLI::App& parent, const std::string& help) {
  auto* cmd = parent.add_subcommand("kustomization", help);
  cmd->alias("ks");
  cmd->alias("kustomizations");
  return cmd;
}

// `VERB source git NAME`.
CLI::App* sourceGitVerb(CLI::App& parent, const std::string& help) {
  auto* source = parent.add_subcommand("source", "A GitOps source (git)");
  source->alias("sources");
  source->require_subcommand(1);
  auto* git = source->add_subcommand("git", help);
  git->alias("gitrepository");
  git->alias("gitrepositories");
  return git;
}

void addObjectVerbs(CLI::App& parent, int& exitCode, const std::string& kustomizationHelp,
                    const std::string& sourceHelp,
                    const std::function<int(const Kind&, const ObjectArgs&)>& run, bool withTimeout) {
  for (const Kind* kind : {&kustomizationKind(), &gitRepositoryKind()}) {
    auto args = std::make_shared<ObjectArgs>();
    CLI::App* cmd = kind == &kustomizationKind() ? kustomizationVerb(parent, kustomizationHelp)
                                                 : sourceGitVerb(parent, sourceHelp);
    cmd->add_option("NAME", args->name, std::string("The ") + kind->name)->required();
    if (withTimeout)
      cmd->add_option("--timeout", args->timeout, "How long to wait for the reconcile")
          ->capture_default_str();
    addKubeFlags(*cmd, args->kube);
    cmd->callback([&exitCode, args, kind, run] { exitCode = run(*kind, *args); });
  }
}

void addGetCommands(CLI::App& get, int& exitCode) {
  for (const Kind* kind : {&kustomizationKind(), &gitRepositoryKind()}) {
    auto args = std::make_shared<GetArgs>();
    CLI::App* cmd = nullptr;
    if (kind == &kustomizationKind()) {
      cmd = get.add_subcommand("kustomizations",
                               "List Kustomizations: NAME REVISION (last applied) SUSPENDED READY MESSAGE");
      cmd->alias("kustomization");
      cmd->alias("ks");
    } else {
      auto* sources = get.add_subcommand("sources", "List GitOps sources (get sources git)");
      sources->alias("source");
      sources->require_subcommand(1);
      cmd = sources->add_subcommand(
          "git", "List GitRepositories: NAME REVISION (of the artifact) SUSPENDED READY MESSAGE");
      cmd->alias("gitrepository");
      cmd->alias("gitrepositories");
    }
    cmd->add_option("NAME", args->name, "Only this one");
    cmd->add_flag("-w,--watch", args->watch,
                  "After the table, print a row each time one changes, until Ctrl-C");
    addKubeFlags(*cmd, args->kube, /*listing=*/true);
    cmd->callback([&exitCode, args, kind] { exitCode = runGet(*kind, *args); });
  }
}

void addBuildVerb(CLI::App& app, int& exitCode, const char* verb, const std::string& parentHelp,
                  const std::string& help, int (*run)(const BuildArgs&)) {
  auto* parent = app.add_subcommand(verb, parentHelp);
  parent->require_subcommand(1);
  auto args = std::make_shared<BuildArgs>();
  auto* cmd = kustomizationVerb(*parent, help);
  cmd->add_option("NAME", args->name, "The Kustomization (read from the cluster for its overlay)")
      ->required();
  cmd->add_option("--path", args->path, "The local directory holding what its spec.path holds in git")
      ->required();
  cmd->add_option("--kustomize-binary", args->kustomizeBinary,
                  "The kustomize to run (default: kustomize on PATH, else kubectl kustomize)");
  addKubeFlags(*cmd, args->kube);
  cmd->callback([&exitCode, args, run] { exitCode = run(*args); });
}

}  // namespace

void addGitOpsCommands(CLI::App& app, int& exitCode) {
  CLI::App* get = app.get_subcommand("get");
  get->description(
      "Show a Rollout (get rollout NAME [-w]), list Rollouts (get rollouts [-A]), show an AnalysisRun\n"
      "(get analysisrun NAME), or list git sources and Kustomizations (get sources git, get ks)");
  addGetCommands(*get, exitCode);

  auto* reconcile = app.add_subcommand(
      "reconcile", "Ask the controller to reconcile a Kustomization or a git source now, and wait for it");
  reconcile->require_subcommand(1);
  {
    auto args = std::make_shared<ObjectArgs>();
    auto withSource = std::make_shared<bool>(false);
    auto* cmd = kustomizationVerb(
        *reconcile,
        "Reconcile a Kustomization now; exit 0 once it is Ready at the revision it applied, 1 if not");
    cmd->add_option("NAME", args->name, "The Kustomization")->required();
    cmd->add_flag("--with-source", *withSource, "Fetch its source first (a new commit is picked up)");
    cmd->add_option("--timeout", args->timeout, "How long to wait for each reconcile")->capture_default_str();
    addKubeFlags(*cmd, args->kube);
    cmd->callback(
        [&exitCode, args, withSource] { exitCode = runReconcile(kustomizationKind(), *args, *withSource); });
    auto sourceArgs = std::make_shared<ObjectArgs>();
    auto* git = sourceGitVerb(*reconcile, "Fetch a GitRepository now; exit 0 once it is Ready, 1 if not");
    git->add_option("NAME", sourceArgs->name, "The GitRepository")->required();
    git->add_option("--timeout", sourceArgs->timeout, "How long to wait for the fetch")
        ->capture_default_str();
    addKubeFlags(*git, sourceArgs->kube);
    git->callback(
        [&exitCode, sourceArgs] { exitCode = runReconcile(gitRepositoryKind(), *sourceArgs, false); });
  }

  auto* suspend = app.add_subcommand("suspend", "Suspend a Kustomization or a git source (spec.suspend)");
  suspend->require_subcommand(1);
  addObjectVerbs(
      *suspend, exitCode, "Suspend a Kustomization: the controller leaves it, and what it applied, alone",
      "Suspend a GitRepository: no fetch until resumed",
      [](const Kind& k, const ObjectArgs& a) { return runSuspend(k, a); }, false);

  // `resume` is also the Rollout verb (`resume NAME`): the GitOps kinds are its subcommands.
  CLI::App* resume = app.get_subcommand("resume");
  resume->description(
      "Resume a paused rollout (clears spec.paused), or a suspended Kustomization or git source\n"
      "(resume kustomization|source git NAME)");
  if (CLI::Option* name = resume->get_option_no_throw("NAME")) name->required(false);
  addObjectVerbs(
      *resume, exitCode, "Resume a suspended Kustomization and wait for its reconcile",
      "Resume a suspended GitRepository and wait for its fetch",
      [](const Kind& k, const ObjectArgs& a) { return runResume(k, a); }, true);

  addBuildVerb(app, exitCode, "build", "Build a Kustomization locally",
               "Print the objects a Kustomization would apply from a local directory, as YAML", runBuild);
  addBuildVerb(app, exitCode, "diff", "Compare a local build with the cluster",
               "Server-side dry run of a local build against the cluster: ► created / drifted / deleted,\n"
               "Secret values masked; exit 0 no change, 1 changes, 2 error",
               runDiff);

  auto* tree = app.add_subcommand("tree", "Show what a Kustomization applied");
  tree->require_subcommand(1);
  {
    auto args = std::make_shared<ObjectArgs>();
    auto* cmd = kustomizationVerb(*tree, "Its inventory as a tree, nested Kustomizations expanded");
    cmd->add_option("NAME", args->name, "The Kustomization")->required();
    addKubeFlags(*cmd, args->kube);
    cmd->callback([&exitCode, args] { exitCode = runTree(*args); });
  }

  {
    auto kube = std::make_shared<KubeFlags>();
    auto forObject = std::make_shared<std::string>();
    auto* events = app.add_subcommand(
        "events", "The Events of the GitOps objects and Rollouts: LAST SEEN TYPE REASON OBJECT MESSAGE");
    auto watch = std::make_shared<bool>(false);
    events->add_option("--for", *forObject, "Only the events of this object (Kind/name)");
    events->add_flag("-w,--watch", *watch, "After the list, print each Event as it is recorded");
    addKubeFlags(*events, *kube, /*listing=*/true);
    events->callback(
        [&exitCode, kube, forObject, watch] { exitCode = runEvents(*kube, *forObject, *watch); });
  }
}

}  // namespace sluice::cli
