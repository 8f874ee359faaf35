// The plugin's verbs that change a Rollout (promote, abort, retry, pause, resume, set image, undo) and
// `status`, which waits on one. Each steering verb sends exactly the patches of engine/steering.h, the
// ones the simulator applies, so that what `sluice sim` predicts for a promote is what a promote does.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "base/clock.h"
#include "base/diagnostics.h"
#include "base/duration_millis.h"
#include "base/source.h"
#include "base/time.h"
#include "cli/commands.h"
#include "cli/kube_access.h"
#include "controller/resources.h"
#include "engine/rollout.h"
#include "engine/rollout_json.h"
#include "engine/steering.h"
#include "kube/client.h"

namespace sluice::cli {

namespace {

using json = nlohmann::json;
using controller::rolloutsResource;

// What every verb on one Rollout takes: the connection flags and the Rollout's name.
struct RolloutVerb {
  KubeFlags kube;
  std::string name;
};

CLI::App* addRolloutVerb(CLI::App& parent, const std::string& verb, const std::string& help,
                         const std::shared_ptr<RolloutVerb>& args) {
  auto* cmd = parent.add_subcommand(verb, help);
  cmd->add_option("NAME", args->name, "The Rollout")->required();
  addKubeFlags(*cmd, args->kube);
  return cmd;
}

// Connects, or prints why not.
std::optional<KubeSession> open(const KubeFlags& flags) {
  auto session = connect(flags);
  if (!session) {
    std::cerr << "error: " << session.error() << "\n";
    return std::nullopt;
  }
  return std::move(*session);
}

// The Rollout as stored, or nullopt after printing kubectl's error.
std::optional<json> fetch(KubeSession& s, const std::string& name) {
  auto got = s.client->get(rolloutsResource(), s.ns, name);
  if (!got) {
    std::cerr << kubectlError(got.error()) << "\n";
    return std::nullopt;
  }
  return std::move(*got);
}

// The typed Rollout the steering patches are computed from, or nullopt after printing why it cannot be
// read (a spec the controller also refuses: the message is the same as its InvalidSpec condition's).
std::optional<engine::Rollout> typed(const json& object, const std::string& name) {
  Diagnostics diags;
  auto rollout = engine::parseRollout(object, SourceMap{}, diags);
  if (!rollout) {
    std::cerr << "error: rollout " << name << " is invalid:\n" << diags.format();
  }
  return rollout;
}

constexpr int kConflictAttempts = 5;

// Where a Rollout's pod template is kept: in the Rollout, or, with spec.workloadRef, in the Deployment it
// names. set image and undo change the template where it is kept, as Argo's plugin does.
struct TemplateHolder {
  const kube::ResourceRef* resource = nullptr;
  std::string name;
};

TemplateHolder templateHolderOf(const json& rollout, const std::string& name) {
  const json ref = rollout.value(json::json_pointer("/spec/workloadRef"), json());
  if (ref.is_object() && ref.value("kind", "") == "Deployment")
    return {&controller::deploymentsResource(), ref.value("name", "")};
  return {&rolloutsResource(), name};
}

// The object holding the Rollout's template as stored (the Rollout itself when it holds it), or nullopt
// after printing kubectl's error.
std::optional<json> fetchHolder(KubeSession& s, const TemplateHolder& holder, json rollout) {
  if (holder.resource == &rolloutsResource()) return rollout;
  auto got = s.client->get(*holder.resource, s.ns, holder.name);
  if (!got) {
    std::cerr << kubectlError(got.error()) << "\n";
    return std::nullopt;
  }
  return std::move(*got);
}

// Computes the verb's patches from the Rollout as stored and sends them, spec then status (the order the
// simulator applies them in). A status patch that moves the step index is relative to what was read, so
// it carries the resourceVersion: two people promoting at once skip one step, not two. On a conflict the
// Rollout is read again and the patches computed again.
using PatchMaker = std::function<Result<engine::SteeringPatch>(const engine::Rollout&)>;

int steer(const RolloutVerb& args, const PatchMaker& make, const std::string& done) {
  auto session = open(args.kube);
  if (!session) return kExitFailure;
  for (int attempt = 0; attempt < kConflictAttempts; ++attempt) {
    auto object = fetch(*session, args.name);
    if (!object) return kExitFailure;
    auto rollout = typed(*object, args.name);
    if (!rollout) return kExitFailure;
    auto patch = make(*rollout);
    if (!patch) {
      std::cerr << "error: " << patch.error() << "\n";
      return kExitFailure;
    }
    std::string resourceVersion = (*object)["metadata"].value("resourceVersion", "");
    if (!patch->spec.is_null()) {
      auto written = session->client->patch(rolloutsResource(), session->ns, args.name,
                                            kube::PatchType::kMerge, patch->spec);
      if (!written) {
        std::cerr << kubectlError(written.error()) << "\n";
        return kExitFailure;
      }
      resourceVersion = (*written)["metadata"].value("resourceVersion", "");
    }
    if (!patch->status.is_null()) {
      json body = patch->status;
      if (body["status"].contains("currentStepIndex")) body["metadata"]["resourceVersion"] = resourceVersion;
      auto written = session->client->patch(rolloutsResource(), session->ns, args.name,
                                            kube::PatchType::kMerge, body, {}, "status");
      if (!written && written.error().isConflict()) continue;
      if (!written) {
        std::cerr << kubectlError(written.error()) << "\n";
        return kExitFailure;
      }
    }
    std::cout << "rollout '" << args.name << "' " << done << "\n";
    return kExitOk;
  }
  std::cerr << "error: rollout " << args.name << " kept changing under the " << done << " patch; try again\n";
  return kExitFailure;
}

// ---- set image ----------------------------------------------------------------------------------------

// Sets the image of every container named `container` ("*": all) among the init, regular and ephemeral
// containers of the pod template. Returns whether any matched.
bool setImage(json& podSpec, const std::string& container, const std::string& image) {
  bool found = false;
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    if (!podSpec.contains(list) || !podSpec[list].is_array()) continue;
    for (auto& c : podSpec[list]) {
      if (container == "*" || c.value("name", "") == container) {
        c["image"] = image;
        found = true;
      }
    }
  }
  return found;
}

int runSetImage(const RolloutVerb& args, const std::vector<std::string>& pairs) {
  std::vector<std::pair<std::string, std::string>> images;
  for (const auto& p : pairs) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == p.size()) {
      std::cerr << "error: " << p << ": expected CONTAINER=IMAGE\n";
      return kExitInvalidInput;
    }
    images.emplace_back(p.substr(0, eq), p.substr(eq + 1));
  }
  auto session = open(args.kube);
  if (!session) return kExitFailure;
  for (int attempt = 0; attempt < kConflictAttempts; ++attempt) {
    auto rollout = fetch(*session, args.name);
    if (!rollout) return kExitFailure;
    const TemplateHolder holder = templateHolderOf(*rollout, args.name);
    auto object = fetchHolder(*session, holder, std::move(*rollout));
    if (!object) return kExitFailure;
    json& podSpec = (*object)["spec"]["template"]["spec"];
    for (const auto& [container, image] : images) {
      if (!setImage(podSpec, container, image)) {
        std::cerr << "error: unable to find container named \"" << container << "\"\n";
        return kExitFailure;
      }
    }
    // A full update with the resourceVersion read: a concurrent edit is never overwritten.
    auto written = session->client->update(*holder.resource, *object);
    if (!written && written.error().isConflict()) continue;
    if (!written) {
      std::cerr << kubectlError(written.error()) << "\n";
      return kExitFailure;
    }
    std::cout << "rollout \"" << args.name << "\" image updated\n";
    return kExitOk;
  }
  std::cerr << "error: rollout " << args.name << " kept changing; try again\n";
  return kExitFailure;
}

// ---- undo ---------------------------------------------------------------------------------------------

int64_t revisionOf(const json& replicaSet) {
  const auto& annotations = replicaSet["metadata"].value("annotations", json::object());
  auto it = annotations.find(controller::kRevisionAnnotation);
  if (it == annotations.end() || !it->is_string()) return 0;
  try {
    return std::stoll(it->get<std::string>());
  } catch (const std::exception&) {
    return 0;
  }
}

bool ownedBy(const json& object, const std::string& uid) {
  for (const auto& ref : object["metadata"].value("ownerReferences", json::array())) {
    if (ref.value("uid", "") == uid) return true;
  }
  return false;
}

// The pod template of a ReplicaSet as the Rollout held it: without the hash label the controller added.
json rolloutTemplateOf(const json& replicaSet) {
  json tpl = replicaSet["spec"]["template"];
  if (tpl.contains("metadata") && tpl["metadata"].contains("labels")) {
    tpl["metadata"]["labels"].erase(engine::kPodTemplateHashLabel);
  }
  return tpl;
}

int runUndo(const RolloutVerb& args, int64_t toRevision) {
  auto session = open(args.kube);
  if (!session) return kExitFailure;
  auto object = fetch(*session, args.name);
  if (!object) return kExitFailure;
  const std::string uid = (*object)["metadata"].value("uid", "");
  kube::ListOptions list;
  auto replicaSets = session->client->listAll(controller::replicaSetsResource(), session->ns, list);
  if (!replicaSets) {
    std::cerr << kubectlError(replicaSets.error()) << "\n";
    return kExitFailure;
  }
  const std::string currentHash = (*object)["status"].value("currentPodHash", "");
  int64_t current = 0;
  std::vector<const json*> owned;
  for (const auto& rs : (*replicaSets)["items"]) {
    if (!ownedBy(rs, uid)) continue;
    owned.push_back(&rs);
    const auto& labels = rs["metadata"].value("labels", json::object());
    if (labels.value(engine::kPodTemplateHashLabel, "") == currentHash) current = revisionOf(rs);
  }
  const json* target = nullptr;
  for (const json* rs : owned) {
    const int64_t revision = revisionOf(*rs);
    if (toRevision > 0
            ? revision == toRevision
            : (revision < current || current == 0) && (!target || revision > revisionOf(*target))) {
      if (toRevision == 0 && revision == current) continue;
      target = rs;
    }
  }
  if (!target) {
    if (toRevision > 0) {
      std::cerr << "error: unable to find specified revision " << toRevision << " in history\n";
    } else {
      std::cerr << "error: no rollout history found for rollout \"" << args.name << "\"\n";
    }
    return kExitFailure;
  }
  json tpl = rolloutTemplateOf(*target);
  const int64_t revision = revisionOf(*target);
  const TemplateHolder holder = templateHolderOf(*object, args.name);
  auto holderObject = fetchHolder(*session, holder, *object);
  if (!holderObject) return kExitFailure;
  if (tpl == (*holderObject)["spec"]["template"]) {
    std::cout << "rollout '" << args.name << "' skipped rollback (current template already matches revision "
              << revision << ")\n";
    return kExitOk;
  }
  // The resourceVersion test makes the replace conditional on the template's holder (the Rollout, or its
  // workloadRef's Deployment) not having changed since it was read: a template edited meanwhile is not
  // silently replaced.
  json patch = json::array({
      {{"op", "test"},
       {"path", "/metadata/resourceVersion"},
       {"value", (*holderObject)["metadata"]["resourceVersion"]}},
      {{"op", "replace"}, {"path", "/spec/template"}, {"value", tpl}},
  });
  auto written =
      session->client->patch(*holder.resource, session->ns, holder.name, kube::PatchType::kJson, patch);
  if (!written) {
    std::cerr << kubectlError(written.error()) << "\n";
    return kExitFailure;
  }
  std::cout << "rollout '" << args.name << "' rolled back to revision " << revision << "\n";
  return kExitOk;
}

// ---- status -------------------------------------------------------------------------------------------

struct PhaseView {
  std::string phase, message;
};

// The phase a person should see. The controller's status.phase, except while the controller has not yet
// observed the current generation (a spec just applied): then the stored phase describes the previous
// spec, and a CI job waiting for Healthy must not take it for the new one.
// With spec.workloadRef the same holds of the Deployment: `workloadGeneration` is its generation now, and
// a status written for an older one describes the previous template.
PhaseView phaseOf(const json& object, std::optional<int64_t> workloadGeneration = std::nullopt) {
  const auto& status = object.value("status", json::object());
  const std::string observed = status.value("observedGeneration", "");
  const int64_t generation = object.value("metadata", json::object()).value("generation", int64_t{0});
  if (observed != std::to_string(generation) ||
      (workloadGeneration &&
       status.value("workloadObservedGeneration", "") != std::to_string(*workloadGeneration))) {
    return {"Progressing", "waiting for rollout spec update to be observed"};
  }
  PhaseView view{status.value("phase", ""), status.value("message", "")};
  if (view.phase.empty()) view = {"Progressing", "waiting for the controller"};
  return view;
}

std::string line(const PhaseView& v) { return v.message.empty() ? v.phase : v.phase + " - " + v.message; }

// The exit statuses of `status` (documented in the README): CI scripts branch on them.
constexpr int kStatusHealthy = 0;
constexpr int kStatusDegraded = 1;
constexpr int kStatusTimeoutOrError = 2;

int runStatus(const RolloutVerb& args, bool watch, const std::string& timeoutText) {
  auto timeout = parseDurationMillis(timeoutText);
  if (!timeout) {
    std::cerr << "error: --timeout: " << timeout.error() << "\n";
    return kStatusTimeoutOrError;
  }
  auto session = open(args.kube);
  if (!session) return kStatusTimeoutOrError;
  auto object = fetch(*session, args.name);
  if (!object) return kStatusTimeoutOrError;
  // The generation of the Deployment a workloadRef names, read afresh each time the Rollout changes.
  auto workloadGeneration = [&](const json& rollout) -> std::optional<int64_t> {
    const TemplateHolder holder = templateHolderOf(rollout, args.name);
    if (holder.resource == &rolloutsResource()) return std::nullopt;
    auto got = session->client->get(*holder.resource, session->ns, holder.name);
    if (!got) return std::nullopt;
    return (*got)["metadata"].value("generation", int64_t{0});
  };
  PhaseView view = phaseOf(*object, workloadGeneration(*object));
  std::cout << line(view) << std::endl;
  auto verdict = [](const PhaseView& v) -> std::optional<int> {
    if (v.phase == "Healthy") return kStatusHealthy;
    if (v.phase == "Degraded") return kStatusDegraded;
    return std::nullopt;
  };
  if (auto v = verdict(view)) return *v;
  if (!watch) return kStatusHealthy;

  // Wait on the watch stream (no polling); a timer thread stops it at the deadline.
  kube::WatchStop stop;
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::thread timer;
  if (timeout->count() > 0) {
    timer = std::thread([&] {
      std::unique_lock lock(mu);
      if (!cv.wait_for(lock, *timeout, [&] { return finished; })) stop.stop();
    });
  }
  std::optional<int> result;
  std::string previous = line(view);
  kube::WatchOptions options;
  options.resourceVersion = (*object)["metadata"].value("resourceVersion", "");
  options.fieldSelector = "metadata.name=" + args.name;
  auto watched = session->client->watch(
      rolloutsResource(), session->ns, options,
      [&](const kube::WatchEvent& event) {
        if (event.type == "DELETED") {
          std::cerr << "error: rollout " << args.name << " was deleted\n";
          result = kStatusTimeoutOrError;
          return false;
        }
        if (event.type != "ADDED" && event.type != "MODIFIED") return true;
        PhaseView now = phaseOf(event.object, workloadGeneration(event.object));
        if (line(now) != previous) {
          previous = line(now);
          std::cout << previous << std::endl;
        }
        result = verdict(now);
        return !result;
      },
      &stop);
  {
    std::lock_guard lock(mu);
    finished = true;
  }
  cv.notify_all();
  if (timer.joinable()) timer.join();
  if (result) return *result;
  if (!watched) {
    std::cerr << kubectlError(watched.error()) << "\n";
    return kStatusTimeoutOrError;
  }
  std::cerr << "error: rollout " << args.name << " did not become Healthy within " << timeoutText << " ("
            << previous << ")\n";
  return kStatusTimeoutOrError;
}

}  // namespace

void addRolloutCommands(CLI::App& app, int& exitCode) {
  struct Steering {
    const char* verb;
    const char* help;
    Result<engine::SteeringPatch> (*make)(const engine::Rollout&);
    const char* done;
  };
  for (const auto& s : {
           Steering{"abort", "Abort a rollout: traffic and replicas go back to the stable version",
                    engine::abortPatch, "aborted"},
           Steering{"pause", "Pause a rollout where it stands (spec.paused)", engine::pausePatch, "paused"},
           Steering{"resume", "Resume a paused rollout (clears spec.paused)", engine::resumePatch, "resumed"},
       }) {
    auto args = std::make_shared<RolloutVerb>();
    auto* cmd = addRolloutVerb(app, s.verb, s.help, args);
    cmd->callback([&exitCode, args, s, cmd] {
      // `resume kustomization|source git NAME` ran a GitOps verb (gitops_commands.cc), not this one.
      if (!cmd->get_subcommands().empty()) return;
      if (args->name.empty()) {
        std::cerr << "error: NAME is required\n";
        exitCode = kExitInvalidInput;
        return;
      }
      exitCode = steer(*args, s.make, s.done);
    });
  }

  {
    auto args = std::make_shared<RolloutVerb>();
    auto full = std::make_shared<bool>(false);
    auto* cmd = addRolloutVerb(
        app, "promote", "Promote a rollout: end the pause it waits in, or skip the current step", args);
    cmd->add_flag("--full", *full, "Skip every remaining step and analysis: go to the new version at once");
    cmd->callback([&exitCode, args, full] {
      exitCode = *full ? steer(*args, engine::promoteFullPatch, "fully promoted")
                       : steer(*args, engine::promotePatch, "promoted");
    });
  }
  {
    auto args = std::make_shared<RolloutVerb>();
    auto in = std::make_shared<std::string>("0s");
    auto* cmd = addRolloutVerb(
        app, "restart", "Restart the rollout's pods (stable first, oldest first, within maxUnavailable)",
        args);
    cmd->add_option("--in", *in, "Restart after this long (10s, 2h; default: now)")->capture_default_str();
    cmd->callback([&exitCode, args, in] {
      auto delay = parseDuration(*in);
      if (!delay) {
        std::cerr << "error: --in: " << delay.error() << "\n";
        exitCode = kExitInvalidInput;
        return;
      }
      const Time at = toSeconds(realClock().wallNow()) + *delay;
      exitCode = steer(
          *args, [at](const engine::Rollout& r) { return engine::restartPatch(r, at); },
          delay->count() > 0 ? "restarts in " + formatDuration(*delay) : "restarts");
    });
  }
  {
    auto* retry = app.add_subcommand("retry", "Retry an aborted rollout");
    retry->require_subcommand(1);
    auto args = std::make_shared<RolloutVerb>();
    auto* cmd = addRolloutVerb(*retry, "rollout", "Retry an aborted rollout from its first step", args);
    cmd->callback([&exitCode, args] { exitCode = steer(*args, engine::retryPatch, "retried"); });
  }
  {
    auto* set = app.add_subcommand("set", "Change a rollout's pod template");
    set->require_subcommand(1);
    auto args = std::make_shared<RolloutVerb>();
    auto images = std::make_shared<std::vector<std::string>>();
    auto* cmd = addRolloutVerb(
        *set, "image", "Set container images (CONTAINER=IMAGE; '*' for every container): a new revision",
        args);
    cmd->add_option("CONTAINER=IMAGE", *images, "Container and image")->required();
    cmd->callback([&exitCode, args, images] { exitCode = runSetImage(*args, *images); });
  }
  {
    auto args = std::make_shared<RolloutVerb>();
    auto toRevision = std::make_shared<int64_t>(0);
    auto* cmd = addRolloutVerb(
        app, "undo", "Roll the pod template back to an earlier revision's (default: the previous one)", args);
    cmd->add_option("--to-revision", *toRevision, "The revision to go back to (0: the previous one)")
        ->check(CLI::NonNegativeNumber);
    cmd->callback([&exitCode, args, toRevision] { exitCode = runUndo(*args, *toRevision); });
  }
  {
    auto args = std::make_shared<RolloutVerb>();
    auto watch = std::make_shared<bool>(false);
    auto timeout = std::make_shared<std::string>("0");
    auto* cmd = addRolloutVerb(app, "status",
                               "Print a rollout's phase; with --watch wait until it is Healthy (exit 0) or "
                               "Degraded (exit 1); 2 on timeout or error",
                               args);
    cmd->add_flag("-w,--watch", *watch, "Wait until the rollout is Healthy or Degraded");
    cmd->add_option("-t,--timeout", *timeout, "Give up waiting after this long (0: never)")
        ->capture_default_str();
    cmd->callback([&exitCode, args, watch, timeout] { exitCode = runStatus(*args, *watch, *timeout); });
  }
  {
    auto* terminate =
        app.add_subcommand("terminate", "Terminate an AnalysisRun or an Experiment (spec.terminate)");
    terminate->require_subcommand(1);
    struct Kind {
      const char* name;
      const char* alias;
      const kube::ResourceRef& (*resource)();
      const char* help;
    };
    for (const auto& k : {Kind{"analysisrun", "ar", controller::analysisRunsResource,
                               "Stop an AnalysisRun's measurements: it ends with what it measured so far"},
                          Kind{"experiment", "exp", controller::experimentsResource,
                               "End an Experiment: its analyses stop and its ReplicaSets scale down"}}) {
      auto args = std::make_shared<RolloutVerb>();
      auto* cmd = terminate->add_subcommand(k.name, k.help);
      cmd->alias(k.alias);
      cmd->add_option("NAME", args->name, std::string("The ") + k.name)->required();
      addKubeFlags(*cmd, args->kube);
      cmd->callback([&exitCode, args, k] {
        auto session = open(args->kube);
        if (!session) {
          exitCode = kExitFailure;
          return;
        }
        const json patch = {{"spec", {{"terminate", true}}}};
        auto patched =
            session->client->patch(k.resource(), session->ns, args->name, kube::PatchType::kMerge, patch);
        if (!patched) {
          std::cerr << kubectlError(patched.error()) << "\n";
          exitCode = kExitFailure;
          return;
        }
        std::cout << k.name << " '" << args->name << "' terminated\n";
        exitCode = kExitOk;
      });
    }
  }
}

}  // namespace sluice::cli
