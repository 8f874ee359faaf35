// The simulation loop: reconcile until settled, then jump to the next instant something happens.
#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "analysis/merge.h"
#include "analysis/model_json.h"
#include "analysis/run_driver.h"
#include "base/input_limits.h"
#include "engine/canary.h"
#include "engine/rollout_json.h"
#include "engine/steering.h"
#include "shell/analysis_run_builder.h"
#include "shell/reconcile.h"
#include "shell/rollout_document.h"
#include "sim/local_prometheus.h"
#include "sim/scenario_provider.h"
#include "sim/traffic.h"
#include "sim/world.h"

namespace sluice::sim {

namespace {

using nlohmann::json;

constexpr const char* kContainersPath = "/spec/template/spec/containers";

// Every analysis template name a Rollout refers to, with the field path of the reference.
struct TemplateUse {
  std::string name;
  bool clusterScope = false;
  std::string path;
  std::string usedBy;  // "step 3 (analysis: x)" or "background analysis"
};

// One analysis of a Rollout (a step's or the background one) and the templates it uses.
struct AnalysisUse {
  const engine::RolloutAnalysis* analysis = nullptr;
  std::shared_ptr<const engine::RolloutAnalysis> owned;  // what `analysis` points at when built here
  std::string path;                                      // spec.strategy.canary.steps[2].analysis
  std::vector<TemplateUse> templates;
};

std::vector<AnalysisUse> analysisUses(const engine::Rollout& rollout) {
  std::vector<AnalysisUse> uses;
  auto add = [&](const engine::RolloutAnalysis& analysis, const std::string& path,
                 const std::string& usedBy) {
    AnalysisUse use{&analysis, nullptr, path, {}};
    for (size_t j = 0; j < analysis.templates.size(); ++j) {
      use.templates.push_back({analysis.templates[j].templateName, analysis.templates[j].clusterScope,
                               indexPath(path + ".templates", j) + ".templateName", usedBy});
    }
    uses.push_back(std::move(use));
  };
  const auto& canary = rollout.spec.canary;
  for (size_t i = 0; i < canary.steps.size(); ++i) {
    const auto* step = std::get_if<engine::AnalysisStep>(&canary.steps[i].action);
    if (!step) continue;
    add(step->analysis, indexPath("spec.strategy.canary.steps", i) + ".analysis",
        "step " + std::to_string(i) + " (" + engine::describeStep(canary.steps[i]) + ")");
  }
  if (canary.analysis) add(*canary.analysis, "spec.strategy.canary.analysis", "background analysis");
  // An experiment step's analyses run in its Experiment, each from one template, as the engine builds them.
  for (size_t i = 0; i < canary.steps.size(); ++i) {
    const auto* step = std::get_if<engine::ExperimentStep>(&canary.steps[i].action);
    if (!step) continue;
    for (size_t j = 0; j < step->analyses.size(); ++j) {
      const auto& a = step->analyses[j];
      auto analysis = std::make_shared<engine::RolloutAnalysis>();
      analysis->templates.push_back({a.templateName, a.clusterScope});
      analysis->args = a.args;
      const std::string path =
          indexPath(indexPath("spec.strategy.canary.steps", i) + ".experiment.analyses", j);
      AnalysisUse use{analysis.get(), analysis, path, {}};
      use.templates.push_back(
          {a.templateName, a.clusterScope, path + ".templateName",
           "step " + std::to_string(i) + " (" + engine::describeStep(canary.steps[i]) + ")"});
      uses.push_back(std::move(use));
    }
  }
  if (const auto& blueGreen = rollout.spec.blueGreen) {
    if (blueGreen->prePromotionAnalysis) {
      add(*blueGreen->prePromotionAnalysis, "spec.strategy.blueGreen.prePromotionAnalysis",
          "the pre-promotion analysis");
    }
    if (blueGreen->postPromotionAnalysis) {
      add(*blueGreen->postPromotionAnalysis, "spec.strategy.blueGreen.postPromotionAnalysis",
          "the post-promotion analysis");
    }
  }
  return uses;
}

const analysis::AnalysisTemplate* findTemplate(const std::vector<analysis::AnalysisTemplate>& templates,
                                               const std::string& name, bool clusterScope) {
  for (const auto& t : templates) {
    if (t.metadata.name == name && t.clusterScoped() == clusterScope) return &t;
  }
  return nullptr;
}

std::vector<analysis::AnalysisTemplate> templatesOf(const std::vector<TemplateInput>& inputs) {
  std::vector<analysis::AnalysisTemplate> out;
  out.reserve(inputs.size());
  for (const auto& t : inputs) out.push_back(t.analysisTemplate);
  return out;
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

// The Rollout as the simulation starts it: no status, and a generation.
json initialObject(json object) {
  object.erase("status");
  if (!object["metadata"]["generation"].is_number_integer()) object["metadata"]["generation"] = 1;
  return object;
}

}  // namespace

namespace {

// Finds the Deployment a Rollout's workloadRef names among those loaded, and checks the Rollout with its
// template.
void attachWorkload(RolloutInput& input, const std::vector<json>& deployments, Diagnostics& diags) {
  if (!input.rollout.spec.workloadRef) return;
  const engine::WorkloadRef& ref = *input.rollout.spec.workloadRef;
  for (const auto& d : deployments) {
    const json meta = d.value("metadata", json::object());
    if (!meta.is_object() || meta.value("name", "") != ref.name ||
        meta.value("namespace", "") != input.rollout.metadata.ns)
      continue;
    auto resolved = engine::resolveWorkload(input.rollout, engine::workloadViewOf(d));
    if (!resolved) {
      diags.add(input.source.diagnostic(Severity::Error, "spec.workloadRef", resolved.error()));
      return;
    }
    input.workload = initialObject(d);
    return;
  }
  diags.add(input.source.diagnostic(
      Severity::Error, "spec.workloadRef.name",
      "Deployment \"" + ref.name +
          "\" is not in the input files: give its manifest too (the simulation reads " +
          "the pod template from it)"));
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

void checkScenarioAgainstRollouts(const std::vector<RolloutInput>& rollouts, const Scenario& shared,
                                  Diagnostics& diags, const std::vector<TemplateInput>& templates,
                                  bool realPrometheus) {
  const std::vector<analysis::AnalysisTemplate> given = templatesOf(templates);
  std::vector<std::string> used;
  std::map<std::string, std::vector<std::string>> usedBy;  // by Rollout name
  for (const auto& section : shared.sections) {
    const bool known = std::any_of(rollouts.begin(), rollouts.end(), [&](const RolloutInput& input) {
      return input.rollout.metadata.name == section.rolloutName;
    });
    if (!known) {
      diags.add(shared.source.diagnostic(Severity::Error, section.path,
                                         "no Rollout named \"" + section.rolloutName + "\" was given"));
    }
  }
  for (const auto& input : rollouts) {
    const Scenario& scenario = shared.forRollout(input.rollout.metadata.name);
    const std::string rolloutName = "Rollout \"" + input.rollout.metadata.name + "\"";
    for (const auto& use : analysisUses(input.rollout)) {
      size_t defined = 0;
      size_t scripted = 0;
      bool usable = true;
      for (const auto& t : use.templates) {
        used.push_back(t.name);
        usedBy[input.rollout.metadata.name].push_back(t.name);
        const bool isDefined = findTemplate(given, t.name, t.clusterScope) != nullptr;
        const bool isScripted = scenario.analysisRuns.count(t.name) > 0;
        defined += isDefined;
        scripted += isScripted;
        const std::string kind = t.clusterScope ? "ClusterAnalysisTemplate" : "AnalysisTemplate";
        if (isDefined && isScripted) {
          usable = false;
          diags.add(scenario.source.diagnostic(
              Severity::Error, scenario.analysisRuns.at(t.name).path,
              "analysis template \"" + t.name + "\" is given as an " + kind +
                  " and also scripted here: remove one (a given template runs on spec.metrics)"));
        } else if (!isDefined && !isScripted) {
          usable = false;
          std::string message =
              "analysis template \"" + t.name + "\", used by " + t.usedBy + " of " + rolloutName;
          message += ", has no outcome in the scenario (spec.analysisRuns." + t.name;
          message += ": {phase: Successful, after: 5m}) and no " + kind + " named \"" + t.name;
          message += "\" was given (add its file after the Rollout's)";
          diags.add(input.source.diagnostic(Severity::Error, t.path, std::move(message)));
        }
      }
      if (!usable || defined == 0) continue;
      if (scripted > 0) {
        diags.add(input.source.diagnostic(
            Severity::Error, use.path,
            "this analysis of " + rolloutName +
                " mixes templates that are given with templates scripted in spec.analysisRuns: a run is "
                "either simulated from its templates or scripted, so give or script them all"));
        continue;
      }
      auto spec = analysis::mergeTemplates(
          *use.analysis,
          [&](const std::string& name, bool clusterScope) { return findTemplate(given, name, clusterScope); },
          shell::argSources(input.object, "stable-hash", "latest-hash"));
      if (!spec) {
        diags.add(input.source.diagnostic(Severity::Error, use.path, spec.error()));
        continue;
      }
      for (const auto& metric : spec->metrics) {
        if (scenario.metrics.count(metric.name)) continue;
        if ((realPrometheus || scenario.traffic) && metric.provider.prometheus) continue;
        diags.add(input.source.diagnostic(
            Severity::Error, use.path,
            "metric \"" + metric.name + "\" of this analysis has no values in the scenario (spec.metrics." +
                metric.name +
                (metric.provider.job ? std::string(": {job: {after: 1m}}")
                                     : std::string(": [{at: 0s, value: 0.99}]")) +
                ")" +
                (metric.provider.prometheus ? std::string(" and no --prometheus was given")
                                            : std::string())));
      }
    }
    for (const auto& action : scenario.actions) {
      if (action.kind != PersonAction::Kind::Update ||
          hasContainer(input.workload ? *input.workload : input.object, action.container))
        continue;
      diags.add(scenario.source.diagnostic(
          Severity::Error, action.path + ".update" + (action.container.empty() ? "" : ".container"),
          "Rollout \"" + input.rollout.metadata.name + "\" has no container" +
              (action.container.empty() ? "" : " named \"" + action.container + "\"") + " to update"));
    }
  }
  // An outcome given once for all is used if any Rollout uses it; one in a Rollout's section, if it does.
  const auto unused = [&](const Scenario& scenario, const std::vector<std::string>& users) {
    for (const auto& [name, outcome] : scenario.analysisRuns) {
      if (!scenario.path.empty() && outcome.path.rfind(scenario.path + ".", 0) != 0) continue;
      if (std::find(users.begin(), users.end(), name) != users.end()) continue;
      diags.add(
          shared.source.diagnostic(Severity::Error, outcome.path,
                                   "analysis template \"" + name + "\" is not used by " +
                                       (scenario.path.empty() ? std::string("any Rollout")
                                                              : "Rollout \"" + scenario.rolloutName + "\"")));
    }
  };
  unused(shared, used);
  for (const auto& section : shared.sections) unused(section, usedBy[section.rolloutName]);
}

std::optional<SimInput> loadSimInput(const std::vector<std::string>& rolloutFiles,
                                     const std::optional<std::string>& scenarioFile, Diagnostics& diags,
                                     bool realPrometheus) {
  const size_t errorsBefore = diags.errorCount();
  SimInput input;
  std::vector<json> deployments;
  for (const auto& file : rolloutFiles) {
    auto text = readFile(file, limits::kMaxFileBytes);
    if (!text) {
      diags.add(Diagnostic{Severity::Error, "", 0, 0, "", text.error()});
      continue;
    }
    // A YAML error is located (file:line:col: error: ...), as every other problem with the input.
    auto docs = parseYamlStream(*text, file);
    if (!docs) {
      diags.add(docs.error());
      continue;
    }
    for (auto& doc : *docs) {
      if (!doc.json.is_object()) continue;
      const json kind = doc.json.value("kind", json());
      if (kind == analysis::kAnalysisTemplateKind || kind == analysis::kClusterAnalysisTemplateKind) {
        auto parsed = analysis::parseAnalysisTemplate(doc.json, doc.source, diags);
        if (!parsed) continue;
        for (const auto& other : input.templates) {
          const auto& t = other.analysisTemplate;
          if (t.metadata.name != parsed->metadata.name || t.kind != parsed->kind) continue;
          diags.add(doc.source.diagnostic(Severity::Error, "metadata.name",
                                          parsed->kind + " \"" + parsed->metadata.name +
                                              "\" is given twice (also in " + other.source.file() + ")"));
        }
        input.templates.push_back(TemplateInput{std::move(*parsed), doc.source});
        continue;
      }
      if (kind == "Deployment" && doc.json.value("apiVersion", json()) == "apps/v1") {
        deployments.push_back(std::move(doc.json));
        continue;
      }
      if (kind != "Rollout") {
        input.objects.push_back(std::move(doc.json));
        continue;
      }
      auto rollout = engine::parseRollout(doc.json, doc.source, diags);
      if (rollout)
        input.rollouts.push_back(
            RolloutInput{std::move(doc.json), doc.source, std::move(*rollout), std::nullopt});
    }
  }
  for (auto& rollout : input.rollouts) attachWorkload(rollout, deployments, diags);
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
  checkScenarioAgainstRollouts(input.rollouts, input.scenario, diags, input.templates, realPrometheus);
  if (diags.errorCount() > errorsBefore) return std::nullopt;
  return input;
}

namespace {

// Measures through whichever provider the simulation settles on once it has started (the traffic's, with
// spec.traffic); the world is built before that provider can be.
class ForwardingProvider final : public analysis::Provider {
 public:
  analysis::Provider* target = nullptr;
  Result<analysis::ProviderResult> measure(const analysis::Metric& metric, Time at) override {
    return target->measure(metric, at);
  }
  Result<analysis::ProviderResult> resume(const analysis::Metric& metric,
                                          const analysis::Measurement& inFlight, Time at) override {
    return target->resume(metric, inFlight, at);
  }
  Status terminate(const analysis::Metric& metric, const analysis::Measurement& inFlight, Time at) override {
    return target->terminate(metric, inFlight, at);
  }
};

// How long before the update the stable revision is deployed.
Duration stableLead(const Scenario& scenario) { return Duration{3600} + 2 * scenario.readiness; }

// One simulation in progress.
class Simulation {
 public:
  Simulation(const RolloutInput& input, const Scenario& scenario, const SimOptions& options)
      : scenario_(scenario),
        options_(options),
        doc_(initialObject(input.object)),
        scenarioMetrics_(scenario.metrics, kEpoch),
        rollout_(input.rollout),
        world_(scenario.readiness, scenario.analysisRuns, options.templates, &metrics_) {
    metrics_.target = options.metrics ? options.metrics : &scenarioMetrics_;
    std::vector<json> secrets;
    for (const auto& object : options.clusterObjects) {
      if (object.value("kind", "") == "Secret" && object.value("apiVersion", "") == "v1")
        secrets.push_back(object);
    }
    world_.setSecrets(std::move(secrets));
    result_.rolloutName = input.rollout.metadata.name;
    for (const auto& step : input.rollout.spec.canary.steps)
      result_.steps.push_back(engine::describeStep(step));
    result_.trafficRouted = input.rollout.spec.canary.trafficRouting.has_value();
    if (const auto& blueGreen = input.rollout.spec.blueGreen) {
      result_.blueGreen = true;
      activeService_ = blueGreen->activeService;
      previewService_ = blueGreen->previewService;
    }
    result_.duration = scenario.duration;
    if (input.workload) world_.setWorkload(*input.workload);
  }

  Result<SimResult> run() {
    const SimOptions& options = options_;
    if (scenario_.traffic) {
      if (Status s = startTraffic(); !s) return Error{s.error()};
    }
    if (!options.initial) {
      if (Status s = deployStable(); !s) return Error{s.error()};
    }
    recording_ = true;
    if (!options.initial) {
      const std::string stable = firstImage(templateHolder());
      templateHolder()["spec"]["template"] = newTemplate_;
      templateChanged();
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

  // The object whose spec.template is the Rollout's pod template: the Rollout, or the Deployment its
  // workloadRef names (an update then changes the Deployment, as `kubectl set image deployment` would).
  json& templateHolder() {
    json* workload = world_.workloadObject();
    return workload ? *workload : doc_.mutableObject();
  }
  // After templateHolder()'s spec changed: a new generation, as the API server gives it.
  void templateChanged() {
    if (json* workload = world_.workloadObject()) {
      json& generation = (*workload)["metadata"]["generation"];
      generation = generation.is_number_integer() ? generation.get<int64_t>() + 1 : int64_t{1};
    } else {
      doc_.specChanged();
    }
  }

  // Deploys the stable revision at negative virtual time, so the update starts from a fully promoted
  // Rollout as a controller would have left it.
  Status deployStable() {
    newImage_ = firstImage(templateHolder());
    newTemplate_ = templateHolder()["spec"]["template"];
    if (options_.stableTemplate)
      templateHolder()["spec"]["template"] = *options_.stableTemplate;
    else
      setImage(templateHolder(), "", stableImageFor(newImage_, scenario_.stableImage));
    const Duration lead = stableLead(scenario_);
    if (Status s = loop(kEpoch - lead, kEpoch, /*untilHealthy=*/true); !s) return s;
    if (status_.phase != "Healthy") {
      return Error{"the stable revision did not become Healthy within " + formatDuration(lead) +
                   " of simulated time (phase " + status_.phase + ": " + status_.message + ")"};
    }
    return Status::Ok();
  }

  // spec.traffic: a real Prometheus, the data plane counting from the stable revision's deploy on, and
  // prometheus metrics measured on the two.
  Status startTraffic() {
    if (!options_.prometheusProvider)
      return Error{"spec.traffic needs the Prometheus provider to measure on the simulated data plane"};
    LocalPrometheusOptions po;
    po.binary = options_.prometheusBinary;
    auto prometheus = LocalPrometheus::start(po);
    if (!prometheus) return Error{"spec.traffic: " + prometheus.error()};
    prometheus_ = std::move(prometheus).value();
    const Time start = options_.initial ? kEpoch : kEpoch - stableLead(scenario_);
    auto dataPlane = SimDataPlane::create(rollout_, options_.clusterObjects, *scenario_.traffic, start);
    if (!dataPlane) return Error{dataPlane.error()};
    dataPlane_ = std::move(dataPlane).value();
    trafficMetrics_ = std::make_unique<TrafficMetricsProvider>(
        *dataPlane_, *prometheus_, *options_.prometheusProvider, *metrics_.target);
    metrics_.target = trafficMetrics_.get();
    return Status::Ok();
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
      if (dataPlane_) dataPlane_->advanceTo(now);
      world_.advanceRuns(now);
      auto settled = settle(now);
      if (!settled) return Error{settled.error()};
      // The Experiments of experiment steps, settled as the controller's Experiment reconciler settles them;
      // a phase they reach wakes the Rollout, as their watch events wake it on a cluster.
      for (int round = 0; round < 8; ++round) {
        auto experiments = world_.settleExperiments(now);
        if (!experiments) return Error{experiments.error()};
        if (!*experiments) break;
        settled = settle(now);
        if (!settled) return Error{settled.error()};
      }
      if (dataPlane_) {
        if (Status s = dataPlane_->refresh(world_, now); !s) return s;
      }
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

  // Reconciles at `now` until a reconcile changes nothing: the shell the controller runs, recording the
  // timeline after every pass.
  Result<Settled> settle(Time now) {
    auto settled = shell::settle(doc_, world_, now, [this](const engine::Decision& decision, Time at) {
      status_ = decision.status;
      const auto& events = world_.events();
      for (; eventsSeen_ < events.size(); ++eventsSeen_)
        record(at, events[eventsSeen_].reason, events[eventsSeen_].message);
      record(at, "", "");
    });
    if (!settled) {
      const auto& error = settled.error();
      if (error.kind == shell::ReconcileError::Kind::NotSettled)
        return Error{"the engine did not settle at t=" + formatDuration(now - kEpoch) + ": " + error.message};
      return Error{"the Rollout as written back no longer parses (an engine bug):\n" + error.message};
    }
    return Settled{settled->requeueAfter};
  }

  void applyPersonAction(const PersonAction& action, Time now) {
    const std::string name = describeAction(action);
    if (action.kind == PersonAction::Kind::Update) {
      if (setImage(templateHolder(), action.container, action.image)) {
        templateChanged();
        record(now, name, "new revision " + action.image, /*byPerson=*/true);
      } else {
        record(now, name, "no change: the image is already " + action.image, /*byPerson=*/true);
      }
      return;
    }
    auto current = doc_.rollout();
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
      case PersonAction::Kind::Restart:
        patch = engine::restartPatch(rollout, now + action.in);
        break;
      case PersonAction::Kind::Update:
        break;
    }
    if (!patch) {
      record(now, name, "refused: " + patch.error(), /*byPerson=*/true);
      return;
    }
    if (!patch->spec.is_null()) doc_.mergePatch(patch->spec);
    if (!patch->status.is_null()) doc_.mergePatch(patch->status);
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
    if (result_.blueGreen) {
      // What each Service selects in the world (not what the status says), and the pods behind it.
      const auto& selectors = world_.serviceSelectors();
      const auto selected = [&](const std::string& service) -> std::optional<std::string> {
        const auto it = selectors.find(service);
        if (service.empty() || it == selectors.end() || it->second.empty()) return std::nullopt;
        return it->second;
      };
      row.active = selected(activeService_);
      row.preview = selected(previewService_);
      if (row.active) row.activeReplicas = count(*row.active, now);
      if (row.preview) row.previewReplicas = count(*row.preview, now);
      return row;
    }
    row.stable = count(status_.stableRS, now);
    if (updating) row.canary = count(status_.currentPodHash, now);
    if (result_.trafficRouted) {
      if (const auto& traffic = world_.traffic()) {
        row.canaryWeight = traffic->canaryWeight;
        row.stableWeight = traffic->stableWeight;
      }
    } else {
      // Without a router, in-mesh traffic follows the pods: the canary's share of ready pods (a Service's
      // endpoints), whether or not they are available yet (minReadySeconds).
      int total = 0, canary = 0;
      for (const auto& rs : world_.replicaSets()) {
        if (!rs.experiment.empty())
          continue;  // an experiment step's pods are the Experiment's, not the split
        const int ready = rs.readyAt(now);
        total += ready;
        if (updating && rs.podTemplateHash == status_.currentPodHash) canary += ready;
      }
      row.canaryWeight = total ? static_cast<int>(std::lround(100.0 * canary / total)) : 0;
      row.stableWeight = 100 - row.canaryWeight;
    }
    return row;
  }

  static bool sameVisible(const TimelineRow& a, const TimelineRow& b) {
    return a.step == b.step && a.canaryWeight == b.canaryWeight && a.stableWeight == b.stableWeight &&
           a.canary == b.canary && a.stable == b.stable && a.phase == b.phase && a.active == b.active &&
           a.preview == b.preview && a.activeReplicas == b.activeReplicas &&
           a.previewReplicas == b.previewReplicas;
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
      rec.type = run.type;
      rec.startedAt = run.createdAt - kEpoch;
      if (state.endedAt) rec.endedAt = *state.endedAt - kEpoch;
      rec.phase = analysis::phaseName(state.phase);
      rec.message = state.message;
      rec.scripted = run.driver == nullptr && run.startError.empty();
      if (run.driver) {
        for (const auto& taken : run.driver->history()) {
          const analysis::Measurement& m = taken.measurement;
          rec.measurements.push_back(MeasurementRecord{taken.metric, m.startedAt.value_or(kEpoch) - kEpoch,
                                                       analysis::phaseName(m.phase), m.value, m.message});
        }
      }
      result_.analysisRuns.push_back(std::move(rec));
    }
  }

  const Scenario& scenario_;
  const SimOptions& options_;
  shell::RolloutDocument doc_;  // the Rollout as stored: spec, metadata and the status last written
  ScenarioProvider scenarioMetrics_;
  ForwardingProvider metrics_;
  engine::Rollout rollout_;
  std::unique_ptr<LocalPrometheus> prometheus_;
  std::unique_ptr<SimDataPlane> dataPlane_;
  std::unique_ptr<TrafficMetricsProvider> trafficMetrics_;
  SimulatedWorld world_;
  size_t eventsSeen_ = 0;  // events already recorded in the timeline
  engine::RolloutStatus status_;
  SimResult result_;
  std::string activeService_, previewService_;  // a blue-green Rollout's
  std::string newImage_;
  json newTemplate_;  // the Rollout's spec.template, applied as the update at t=0
  size_t nextAction_ = 0;
  bool recording_ = false;
  bool lastAbort_ = false;
  Time ended_ = kEpoch;
};

}  // namespace

Result<SimResult> simulate(const RolloutInput& input, const Scenario& scenario, const SimOptions& options) {
  Simulation simulation(input, scenario, options);
  return simulation.run();
}

}  // namespace sluice::sim
