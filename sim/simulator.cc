// The simulation loop: reconcile until settled, then jump to the next instant something happens.
#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "engine/canary.h"
#include "engine/rollout_json.h"
#include "engine/steering.h"
#include "sim/world.h"

namespace sluice::sim {

namespace {

using nlohmann::json;

constexpr const char* kContainersPath = "/spec/template/spec/containers";

// Every analysis template name a Rollout refers to, with the field path of the reference.
struct TemplateUse {
  std::string name;
  std::string path;
  std::string usedBy;  // "step 3 (analysis: x)" or "background analysis"
};

std::vector<TemplateUse> templateUses(const engine::Rollout& rollout) {
  std::vector<TemplateUse> uses;
  const auto& canary = rollout.spec.canary;
  for (size_t i = 0; i < canary.steps.size(); ++i) {
    const auto* step = std::get_if<engine::AnalysisStep>(&canary.steps[i].action);
    if (!step) continue;
    const std::string stepPath = indexPath("spec.strategy.canary.steps", i);
    for (size_t j = 0; j < step->analysis.templates.size(); ++j) {
      uses.push_back({step->analysis.templates[j].templateName,
                      indexPath(stepPath + ".analysis.templates", j) + ".templateName",
                      "step " + std::to_string(i) + " (" + engine::describeStep(canary.steps[i]) + ")"});
    }
  }
  if (canary.analysis) {
    for (size_t j = 0; j < canary.analysis->templates.size(); ++j) {
      uses.push_back({canary.analysis->templates[j].templateName,
                      indexPath("spec.strategy.canary.analysis.templates", j) + ".templateName",
                      "background analysis"});
    }
  }
  return uses;
}

bool hasContainer(const json& object, const std::string& name) {
  const json containers = object.value(json::json_pointer(kContainersPath), json::array());
  if (!containers.is_array() || containers.empty()) return false;
  if (name.empty()) return true;
  return std::any_of(containers.begin(), containers.end(),
                     [&](const json& c) { return c.is_object() && c.value("name", "") == name; });
}

// Sets the image of the container named `container` (the first when empty). Returns whether the
// template changed.
bool setImage(json& object, const std::string& container, const std::string& image) {
  json* containers = &object[json::json_pointer(kContainersPath)];
  if (!containers->is_array()) return false;
  for (auto& c : *containers) {
    if (!c.is_object() || (!container.empty() && c.value("name", "") != container)) continue;
    if (c.value("image", "") == image) return false;
    c["image"] = image;
    return true;
  }
  return false;
}

std::string firstImage(const json& object) {
  const json containers = object.value(json::json_pointer(kContainersPath), json::array());
  if (!containers.is_array() || containers.empty() || !containers[0].is_object()) return "";
  return containers[0].value("image", "");
}

int64_t generationOf(const json& object) {
  const json g = object.value(json::json_pointer("/metadata/generation"), json());
  return g.is_number_integer() ? g.get<int64_t>() : 1;
}

}  // namespace

std::string stableImageFor(const std::string& image, const std::optional<std::string>& stableImage) {
  if (stableImage) return *stableImage;
  std::string repo = image.substr(0, image.find('@'));
  const size_t slash = repo.rfind('/');
  const size_t colon = repo.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) repo.resize(colon);
  return repo + ":previous";
}

void checkScenarioAgainstRollouts(const std::vector<RolloutInput>& rollouts, const Scenario& scenario,
                                  Diagnostics& diags) {
  std::vector<std::string> used;
  for (const auto& input : rollouts) {
    for (const auto& use : templateUses(input.rollout)) {
      used.push_back(use.name);
      if (scenario.analysisRuns.count(use.name)) continue;
      diags.add(input.source.diagnostic(Severity::Error, use.path,
                                        "analysis template \"" + use.name + "\", used by " + use.usedBy +
                                            " of Rollout \"" + input.rollout.metadata.name +
                                            "\", has no outcome in the scenario (spec.analysisRuns." +
                                            use.name + ": {phase: Successful, after: 5m})"));
    }
    for (const auto& action : scenario.actions) {
      if (action.kind != PersonAction::Kind::Update || hasContainer(input.object, action.container)) continue;
      diags.add(scenario.source.diagnostic(
          Severity::Error, action.path + ".update" + (action.container.empty() ? "" : ".container"),
          "Rollout \"" + input.rollout.metadata.name + "\" has no container" +
              (action.container.empty() ? "" : " named \"" + action.container + "\"") + " to update"));
    }
  }
  for (const auto& [name, outcome] : scenario.analysisRuns) {
    if (std::find(used.begin(), used.end(), name) != used.end()) continue;
    diags.add(scenario.source.diagnostic(Severity::Error, outcome.path,
                                         "analysis template \"" + name + "\" is not used by any Rollout"));
  }
}

std::optional<SimInput> loadSimInput(const std::vector<std::string>& rolloutFiles,
                                     const std::optional<std::string>& scenarioFile, Diagnostics& diags) {
  const size_t errorsBefore = diags.errorCount();
  SimInput input;
  for (const auto& file : rolloutFiles) {
    auto docs = loadYamlFile(file);
    if (!docs) {
      diags.add(Diagnostic{Severity::Error, "", 0, 0, "", docs.error()});
      continue;
    }
    for (auto& doc : *docs) {
      if (!doc.json.is_object() || doc.json.value("kind", json()) != "Rollout") continue;
      auto rollout = engine::parseRollout(doc.json, doc.source, diags);
      if (rollout)
        input.rollouts.push_back(RolloutInput{std::move(doc.json), doc.source, std::move(*rollout)});
    }
  }
  if (input.rollouts.empty() && diags.errorCount() == errorsBefore) {
    std::string names;
    for (const auto& f : rolloutFiles) names += (names.empty() ? "" : ", ") + f;
    diags.add(Diagnostic{Severity::Error, "", 0, 0, "", "no Rollout found in " + names});
  }
  if (scenarioFile) {
    auto scenario = loadScenarioFile(*scenarioFile, diags);
    if (scenario) input.scenario = std::move(*scenario);
  } else {
    input.scenario = defaultScenario();
  }
  if (diags.errorCount() > errorsBefore) return std::nullopt;
  checkScenarioAgainstRollouts(input.rollouts, input.scenario, diags);
  if (diags.errorCount() > errorsBefore) return std::nullopt;
  return input;
}

namespace {

// One simulation in progress.
class Simulation {
 public:
  Simulation(const RolloutInput& input, const Scenario& scenario)
      : scenario_(scenario), object_(input.object), world_(scenario.readiness, scenario.analysisRuns) {
    object_.erase("status");
    if (!object_["metadata"]["generation"].is_number_integer()) object_["metadata"]["generation"] = 1;
    result_.rolloutName = input.rollout.metadata.name;
    for (const auto& step : input.rollout.spec.canary.steps)
      result_.steps.push_back(engine::describeStep(step));
    result_.trafficRouted = input.rollout.spec.canary.trafficRouting.has_value();
    result_.duration = scenario.duration;
  }

  Result<SimResult> run(const SimOptions& options) {
    if (!options.initial) {
      if (Status s = deployStable(); !s) return Error{s.error()};
    }
    recording_ = true;
    if (!options.initial) {
      const std::string stable = firstImage(object_);
      setImage(object_, "", newImage_);
      bumpGeneration();
      record(kEpoch, "Update", "new revision " + newImage_ + " (stable " + stable + ")");
    }
    if (Status s = loop(kEpoch, kEpoch + scenario_.duration, /*untilHealthy=*/false); !s)
      return Error{s.error()};
    finish();
    return std::move(result_);
  }

 private:
  struct Settled {
    std::optional<Duration> requeueAfter;
  };

  // Deploys the stable revision at negative virtual time, so the update starts from a fully promoted
  // Rollout as a controller would have left it.
  Status deployStable() {
    newImage_ = firstImage(object_);
    setImage(object_, "", stableImageFor(newImage_, scenario_.stableImage));
    const Duration lead = Duration{3600} + 2 * scenario_.readiness;
    if (Status s = loop(kEpoch - lead, kEpoch, /*untilHealthy=*/true); !s) return s;
    if (status_.phase != "Healthy") {
      return Error{"the stable revision did not become Healthy within " + formatDuration(lead) +
                   " of simulated time (phase " + status_.phase + ": " + status_.message + ")"};
    }
    return Status::Ok();
  }

  // Every change to the spec goes with a new generation, as on the API server.
  void bumpGeneration() {
    object_["metadata"]["generation"] = generationOf(object_) + 1;
    rollout_.reset();
  }

  // Runs from `start` to at most `end`. With untilHealthy, stops as soon as the Rollout is Healthy
  // and the world is quiet; otherwise stops when the Rollout has come to rest (see atRest).
  Status loop(Time start, Time end, bool untilHealthy) {
    Time now = start;
    while (true) {
      while (nextAction_ < scenario_.actions.size() && !untilHealthy &&
             kEpoch + scenario_.actions[nextAction_].at <= now) {
        applyPersonAction(scenario_.actions[nextAction_++], now);
      }
      auto settled = settle(now);
      if (!settled) return Error{settled.error()};
      const auto requeue = settled->requeueAfter;
      const auto worldNext = world_.nextChange(now);
      if (untilHealthy && status_.phase == "Healthy" && !worldNext) break;
      if (!untilHealthy && atRest(requeue, worldNext)) break;
      std::optional<Time> next = worldNext;
      auto consider = [&](Time t) {
        if (!next || t < *next) next = t;
      };
      // A zero requeue of a settled state would spin; the engine promises never to ask for it.
      if (requeue) consider(now + std::max(*requeue, Duration{1}));
      if (!untilHealthy && nextAction_ < scenario_.actions.size()) {
        consider(kEpoch + scenario_.actions[nextAction_].at);
      }
      if (!next || *next > end) {
        now = std::max(now, end);
        break;
      }
      now = *next;
    }
    ended_ = now;
    return Status::Ok();
  }

  bool atRest(const std::optional<Duration>& requeue, const std::optional<Time>& worldNext) const {
    if (nextAction_ < scenario_.actions.size() || requeue || worldNext) return false;
    return status_.phase == "Healthy" || status_.phase == "Degraded" || status_.phase == "Paused";
  }

  // Reconciles at `now` until a reconcile changes nothing.
  Result<Settled> settle(Time now) {
    for (int i = 0; i < kMaxReconcilesPerInstant; ++i) {
      auto outcome = reconcileOnce(now);
      if (!outcome) return Error{outcome.error()};
      if (!outcome->first) return Settled{outcome->second};
    }
    return Error{"the engine did not settle at t=" + formatDuration(now - kEpoch) + ": " +
                 std::to_string(kMaxReconcilesPerInstant) +
                 " reconciles in a row each changed something (an engine bug; please report it)"};
  }

  // The Rollout as the engine reads it from object_. Spec and metadata are parsed again only after
  // they change (every spec change bumps the generation); the status is read back from its JSON after
  // every write, so each decision sees a status that round-tripped, as the controller's do.
  Result<const engine::Rollout*> current() {
    if (!rollout_) {
      Diagnostics diags;
      auto rollout = engine::parseRollout(object_, SourceMap(), diags);
      if (!rollout)
        return Error{"the Rollout as written back no longer parses (an engine bug):\n" + diags.format()};
      rollout_ = std::move(*rollout);
      statusStale_ = false;
    } else if (statusStale_) {
      // No conditional expression here: mixing a reference and a temporary would copy the whole status.
      static const json kNoStatus = json::object();
      const auto it = object_.find("status");
      auto status = engine::statusFromJson(it != object_.end() ? std::cref(*it) : std::cref(kNoStatus));
      if (!status)
        return Error{"the status as written back no longer parses (an engine bug): " + status.error()};
      rollout_->status = std::move(*status);
      statusStale_ = false;
    }
    return &*rollout_;
  }

  // One reconcile: returns whether anything changed, and the requeue the engine asked for.
  Result<std::pair<bool, std::optional<Duration>>> reconcileOnce(Time now) {
    auto rollout = current();
    if (!rollout) return Error{rollout.error()};
    const engine::Decision decision = engine::reconcileCanary(**rollout, world_.observed(now), now);
    const size_t eventsBefore = world_.events().size();
    bool changed = false;
    for (const auto& action : decision.actions) changed = world_.apply(action, now) || changed;
    // Diff before writing, as the controller does: an unchanged status is not serialised at all.
    if (decision.status != (*rollout)->status) {
      json status = engine::statusToJson(decision.status);
      const auto written = object_.find("status");
      if (written == object_.end() || *written != status) {
        object_["status"] = std::move(status);
        statusStale_ = true;
        changed = true;
      }
    }
    status_ = decision.status;
    const auto& events = world_.events();
    for (size_t i = eventsBefore; i < events.size(); ++i) record(now, events[i].reason, events[i].message);
    record(now, "", "");
    return std::make_pair(changed, decision.requeueAfter);
  }

  void applyPersonAction(const PersonAction& action, Time now) {
    const std::string name = describeAction(action);
    if (action.kind == PersonAction::Kind::Update) {
      if (setImage(object_, action.container, action.image)) {
        bumpGeneration();
        record(now, name, "new revision " + action.image, /*byPerson=*/true);
      } else {
        record(now, name, "no change: the image is already " + action.image, /*byPerson=*/true);
      }
      return;
    }
    auto current = this->current();
    if (!current) {
      record(now, name, "refused: " + current.error(), /*byPerson=*/true);
      return;
    }
    const engine::Rollout& rollout = **current;
    Result<engine::SteeringPatch> patch = Error{"unknown action"};
    switch (action.kind) {
      case PersonAction::Kind::Promote:
        patch = engine::promotePatch(rollout);
        break;
      case PersonAction::Kind::PromoteFull:
        patch = engine::promoteFullPatch(rollout);
        break;
      case PersonAction::Kind::Abort:
        patch = engine::abortPatch(rollout);
        break;
      case PersonAction::Kind::Retry:
        patch = engine::retryPatch(rollout);
        break;
      case PersonAction::Kind::Pause:
        patch = engine::pausePatch(rollout);
        break;
      case PersonAction::Kind::Resume:
        patch = engine::resumePatch(rollout);
        break;
      case PersonAction::Kind::Update:
        break;
    }
    if (!patch) {
      record(now, name, "refused: " + patch.error(), /*byPerson=*/true);
      return;
    }
    if (!patch->spec.is_null()) {
      const json before = object_["spec"];
      object_.merge_patch(patch->spec);
      if (object_["spec"] != before) bumpGeneration();
    }
    if (!patch->status.is_null()) {
      object_.merge_patch(patch->status);
      statusStale_ = true;
    }
    record(now, name, "by hand", /*byPerson=*/true);
  }

  ReplicaCount count(const std::string& hash, Time now) const {
    const SimReplicaSet* rs = hash.empty() ? nullptr : world_.replicaSet(hash);
    if (!rs) return {};
    return ReplicaCount{rs->readyAt(now), rs->specReplicas};
  }

  // The visible state now, as a timeline row without event.
  TimelineRow snapshot(Time now) const {
    TimelineRow row;
    row.t = now - kEpoch;
    row.step = status_.currentStepIndex;
    row.phase = status_.phase.empty() ? "Progressing" : status_.phase;
    row.message = status_.message;
    const bool updating = status_.currentPodHash != status_.stableRS;
    row.stable = count(status_.stableRS, now);
    if (updating) row.canary = count(status_.currentPodHash, now);
    if (result_.trafficRouted) {
      if (const auto& traffic = world_.traffic()) {
        row.canaryWeight = traffic->canaryWeight;
        row.stableWeight = traffic->stableWeight;
      }
    } else {
      // Without a router, in-mesh traffic follows the pods: the canary's share of available pods.
      int total = 0, canary = 0;
      for (const auto& rs : world_.replicaSets()) {
        const int available = rs.readyAt(now);
        total += available;
        if (updating && rs.podTemplateHash == status_.currentPodHash) canary += available;
      }
      row.canaryWeight = total ? static_cast<int>(std::lround(100.0 * canary / total)) : 0;
      row.stableWeight = 100 - row.canaryWeight;
    }
    return row;
  }

  static bool sameVisible(const TimelineRow& a, const TimelineRow& b) {
    return a.step == b.step && a.canaryWeight == b.canaryWeight && a.stableWeight == b.stableWeight &&
           a.canary == b.canary && a.stable == b.stable && a.phase == b.phase;
  }

  // Records a row for an event, or (with an empty event) if a visible value changed.
  void record(Time now, const std::string& event, const std::string& message, bool byPerson = false) {
    if (!recording_) return;
    TimelineRow row = snapshot(now);
    if (event.empty()) {
      if (!result_.timeline.empty() && sameVisible(result_.timeline.back(), row)) return;
    } else {
      row.event = event;
      row.message = message;
      row.byPerson = byPerson;
    }
    if (status_.abort && !lastAbort_) {
      const engine::Condition* progressing = status_.condition("Progressing");
      result_.aborts.push_back(AbortRecord{row.t, progressing && progressing->reason == "RolloutAborted"
                                                      ? progressing->message
                                                      : status_.message});
    }
    lastAbort_ = status_.abort;
    result_.timeline.push_back(std::move(row));
  }

  void finish() {
    result_.phase = status_.phase.empty() ? "Progressing" : status_.phase;
    result_.aborted = status_.abort;
    result_.endedAt = ended_ - kEpoch;
    result_.message = status_.message;
    for (const auto& run : world_.analysisRuns()) {
      if (run.createdAt < kEpoch) continue;
      const RunState state = world_.runState(run, ended_);
      AnalysisRunRecord rec;
      rec.name = run.name;
      rec.templates = run.templates;
      if (run.type == engine::AnalysisRunType::Step) rec.step = run.stepIndex;
      rec.startedAt = run.createdAt - kEpoch;
      if (state.endedAt) rec.endedAt = *state.endedAt - kEpoch;
      rec.phase = state.phase;
      rec.message = state.message;
      result_.analysisRuns.push_back(std::move(rec));
    }
  }

  const Scenario& scenario_;
  json object_;
  World world_;
  std::optional<engine::Rollout> rollout_;  // object_ parsed; reset when the spec changes
  bool statusStale_ = false;                // object_'s status was written since rollout_ read it
  engine::RolloutStatus status_;
  SimResult result_;
  std::string newImage_;
  size_t nextAction_ = 0;
  bool recording_ = false;
  bool lastAbort_ = false;
  Time ended_ = kEpoch;
};

}  // namespace

Result<SimResult> simulate(const RolloutInput& input, const Scenario& scenario, const SimOptions& options) {
  Simulation simulation(input, scenario);
  return simulation.run(options);
}

}  // namespace sluice::sim
