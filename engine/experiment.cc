// The Experiment state machine (see experiment.h): templates first, then analyses, then the phase from
// both, in the order Argo's experiment controller takes them, so its statuses read alike.
#include "engine/experiment.h"

#include <algorithm>

#include "base/pod_template_hash.h"
#include "engine/rollout_pass.h"

namespace sluice::engine {

namespace {

using analysis::Phase;

// Argo's order of template statuses, best to worst; an unknown one counts as the best, as in Argo.
int templateSeverity(const std::string& status) {
  static const char* const order[] = {kTemplateSuccessful, kTemplateRunning, kTemplateProgressing,
                                      kTemplateError, kTemplateFailed};
  for (int i = 0; i < 5; ++i) {
    if (status == order[i]) return i;
  }
  return 0;
}

bool runUnsuccessful(Phase phase) {
  return phase == Phase::Failed || phase == Phase::Error || phase == Phase::Inconclusive;
}

// Every requiredForCompletion analysis (there is at least one) has a Successful run.
bool requiredRunsSuccessful(const ExperimentSpec& spec, const ExperimentStatus& status) {
  if (!spec.hasRequiredAnalyses()) return false;
  return std::all_of(spec.analyses.begin(), spec.analyses.end(), [&](const ExperimentAnalysis& a) {
    if (!a.requiredForCompletion) return true;
    const ExperimentAnalysisRunStatus* run = status.analysisRun(a.name);
    return run && run->phase == Phase::Successful;
  });
}

bool passedDuration(const Experiment& ex, const ExperimentStatus& status, Time now) {
  return ex.spec.duration && status.availableAt && now >= *status.availableAt + *ex.spec.duration;
}

// Replaces every "{{key}}" of `vars` in `text`; other placeholders are left for the run's templating.
std::string fillPlaceholders(std::string text, const std::map<std::string, std::string>& vars) {
  for (const auto& [key, value] : vars) {
    const std::string placeholder = "{{" + key + "}}";
    for (size_t at = text.find(placeholder); at != std::string::npos;
         at = text.find(placeholder, at + value.size())) {
      text.replace(at, placeholder.size(), value);
    }
  }
  return text;
}

struct ExperimentPass {
  const Experiment& ex;
  const ExperimentObserved& observed;
  Time now;
  ExperimentStatus status;
  std::vector<Action> actions;
  std::optional<Duration> requeue;
  bool terminating = false;

  void requeueIn(Duration d) {
    d = std::max(d, Duration{1});
    if (!requeue || d < *requeue) requeue = d;
  }
  void event(const char* type, std::string reason, std::string message) {
    actions.push_back(EmitEvent{type, std::move(reason), std::move(message)});
  }
  const ReplicaSetView* replicaSet(const std::string& name) const {
    for (const auto& rs : observed.replicaSets) {
      if (rs.name == name) return &rs;
    }
    return nullptr;
  }
  const AnalysisRunView* run(const std::string& name) const {
    for (const auto& r : observed.analysisRuns) {
      if (r.name == name) return &r;
    }
    return nullptr;
  }
  void setTemplateStatus(TemplateStatus ts) {
    for (auto& t : status.templateStatuses) {
      if (t.name == ts.name) {
        t = std::move(ts);
        return;
      }
    }
    status.templateStatuses.push_back(std::move(ts));
  }
  void setRunStatus(ExperimentAnalysisRunStatus rs) {
    for (auto& r : status.analysisRuns) {
      if (r.name == rs.name) {
        r = std::move(rs);
        return;
      }
    }
    status.analysisRuns.push_back(std::move(rs));
  }
  // The size a template's ReplicaSet should have: none once the Experiment or the template is done.
  int desiredReplicas(const ExperimentTemplate& tmpl) const {
    if (analysis::phaseCompleted(ex.status.phase) || terminating) return 0;
    const TemplateStatus* ts = ex.status.templateStatus(tmpl.name);
    if (ts && ts->completed()) return 0;
    return tmpl.replicas;
  }
};

CreateReplicaSet templateReplicaSet(const Experiment& ex, const ExperimentTemplate& tmpl,
                                    const TemplateStatus& ts, int replicas) {
  CreateReplicaSet create;
  create.name = experimentReplicaSetName(ex, tmpl);
  create.podTemplate = tmpl.podTemplate;
  if (auto labels = create.podTemplate.find("metadata");
      labels != create.podTemplate.end() && labels->is_object() && labels->contains("labels")) {
    (*labels)["labels"].erase(kPodTemplateHashLabel);
  }
  create.podTemplateHash = podTemplateHash(create.podTemplate, ts.collisionCount.value_or(0));
  create.podTemplate["metadata"]["labels"][kPodTemplateHashLabel] = create.podTemplateHash;
  create.selector = tmpl.selector;
  create.selector["matchLabels"][kPodTemplateHashLabel] = create.podTemplateHash;
  create.replicas = replicas;
  create.minReadySeconds = tmpl.minReadySeconds;
  return create;
}

// spec.templates[].service (Argo's rule): a Service selecting the template's pods, on its `ports` or else
// the ports its containers declare, once its ReplicaSet exists and while it is to run; deleted once its pods
// are gone.
void reconcileTemplateService(ExperimentPass& p, const ExperimentTemplate& tmpl, const ReplicaSetView* rs,
                              int desired, TemplateStatus& ts) {
  if (!tmpl.service || !rs) return;
  if (desired == 0) {
    if (!ts.serviceName.empty() && rs->specReplicas == 0 && rs->availableReplicas == 0) {
      p.actions.push_back(DeleteService{ts.serviceName});
      ts.serviceName.clear();
      ts.podTemplateHash.clear();
    }
    return;
  }
  if (!ts.serviceName.empty()) return;
  // The ports the service gives, else those the template's containers declare.
  nlohmann::json ports = tmpl.service->ports.is_array() ? tmpl.service->ports : nlohmann::json::array();
  const nlohmann::json containers =
      tmpl.podTemplate.value(nlohmann::json::json_pointer("/spec/containers"), nlohmann::json::array());
  for (const auto& c : containers.is_array() && ports.empty() ? containers : nlohmann::json::array()) {
    const nlohmann::json declared =
        c.is_object() ? c.value("ports", nlohmann::json::array()) : nlohmann::json();
    for (const auto& port : declared.is_array() ? declared : nlohmann::json::array()) {
      if (!port.is_object() || !port.contains("containerPort")) continue;
      nlohmann::json servicePort = {{"protocol", port.value("protocol", "TCP")},
                                    {"port", port["containerPort"]},
                                    {"targetPort", port["containerPort"]}};
      if (port.contains("name")) servicePort["name"] = port["name"];
      ports.push_back(std::move(servicePort));
    }
  }
  if (ports.empty()) return;  // a Service with no port cannot be made (Argo makes none either)
  const std::string name = tmpl.service->name.empty() ? rs->name : tmpl.service->name;
  p.actions.push_back(CreateService{name, rs->podTemplateHash, std::move(ports)});
  ts.serviceName = name;
  ts.podTemplateHash = rs->podTemplateHash;
}

void reconcileTemplate(ExperimentPass& p, const ExperimentTemplate& tmpl) {
  const TemplateStatus* stored = p.ex.status.templateStatus(tmpl.name);
  TemplateStatus fresh;
  fresh.name = tmpl.name;
  const TemplateStatus prev = stored ? *stored : fresh;
  TemplateStatus ts = prev;
  const int desired = p.desiredReplicas(tmpl);
  const std::string rsName = experimentReplicaSetName(p.ex, tmpl);
  const ReplicaSetView* rs = p.replicaSet(rsName);
  if (!rs && p.observed.foreignReplicaSetNames.count(rsName) && !ts.completed()) {
    // Never adopted nor written: a person's, or another controller's. Argo bumps collisionCount here, which
    // changes the hash but not the name, so the create fails again and again.
    ts.status = kTemplateError;
    ts.message = "ReplicaSet \"" + rsName + "\" exists and is not controlled by Experiment \"" +
                 p.ex.metadata.name + "\"";
  } else if (!rs) {
    if (desired > 0) {
      p.actions.push_back(templateReplicaSet(p.ex, tmpl, ts, desired));
      p.event("Normal", "NewReplicaSetCreated",
              "Created ReplicaSet " + rsName + " with size " + std::to_string(desired));
      ts.lastTransitionTime = p.now;
    }
  } else if (desired == 0 && rs->specReplicas != 0) {
    // Scaled down scaleDownDelaySeconds after the template is done; the deadline on the ReplicaSet keeps
    // the clock across restarts. Meanwhile the template is moving (as Argo counts it), so its progress
    // deadline does not run out while it waits.
    ts.lastTransitionTime = p.now;
    const Duration delay{p.ex.spec.scaleDownDelaySeconds};
    if (delay > Duration{0} && !rs->scaleDownDeadline) {
      p.actions.push_back(ScaleReplicaSet{rs->name, rs->specReplicas, DeadlineChange::Set, p.now + delay});
      p.requeueIn(delay);
    } else if (delay > Duration{0} && p.now < *rs->scaleDownDeadline) {
      p.requeueIn(*rs->scaleDownDeadline - p.now);
    } else {
      p.actions.push_back(ScaleReplicaSet{rs->name, 0});
      p.event("Normal", "ScalingReplicaSet",
              "Scaled down ReplicaSet " + rs->name + " from " + std::to_string(rs->specReplicas) + " to 0");
    }
  } else if (desired != rs->specReplicas) {
    p.actions.push_back(ScaleReplicaSet{
        rs->name, desired, rs->scaleDownDeadline ? DeadlineChange::Clear : DeadlineChange::Keep});
    p.event("Normal", "ScalingReplicaSet",
            std::string("Scaled ") + (desired > rs->specReplicas ? "up" : "down") + " ReplicaSet " +
                rs->name + " from " + std::to_string(rs->specReplicas) + " to " + std::to_string(desired));
    ts.lastTransitionTime = p.now;
  }

  ts.replicas = rs ? rs->replicas : 0;
  ts.updatedReplicas = ts.replicas;
  ts.readyReplicas = rs ? rs->readyReplicas : 0;
  ts.availableReplicas = rs ? rs->availableReplicas : 0;
  if (ts.replicas != prev.replicas || ts.updatedReplicas != prev.updatedReplicas ||
      ts.readyReplicas != prev.readyReplicas || ts.availableReplicas != prev.availableReplicas) {
    ts.lastTransitionTime = p.now;
  }

  reconcileTemplateService(p, tmpl, rs, desired, ts);

  // A completed template stays as it ended.
  if (!ts.completed()) {
    if (desired == ts.availableReplicas) {
      ts.status =
          passedDuration(p.ex, p.ex.status, p.now) || p.terminating ? kTemplateSuccessful : kTemplateRunning;
    } else {
      const Duration deadline{p.ex.spec.progressDeadlineSeconds};
      const Time from = ts.lastTransitionTime.value_or(p.now);
      if (p.now > from + deadline) {
        ts.status = kTemplateFailed;
        ts.message = "Template '" + tmpl.name + "' exceeded its progressDeadlineSeconds (" +
                     std::to_string(p.ex.spec.progressDeadlineSeconds) + ")";
      } else if (p.terminating) {
        ts.status = kTemplateSuccessful;
      } else {
        ts.status = kTemplateProgressing;
        // Look again just after the deadline, in case nothing else moves.
        p.requeueIn(from + deadline - p.now + Duration{1});
      }
    }
  }
  if (ts.status != prev.status) {
    std::string message =
        "Template '" + tmpl.name + "' transitioned from " + prev.status + " -> " + ts.status;
    if (!ts.message.empty()) message += ": " + ts.message;
    const bool bad = ts.status == kTemplateFailed || ts.status == kTemplateError;
    p.event(bad ? "Warning" : "Normal", "Template" + ts.status, std::move(message));
  }
  p.setTemplateStatus(std::move(ts));
}

CreateAnalysisRun analysisRun(const ExperimentPass& p, const ExperimentAnalysis& a) {
  // What an arg's value may refer to: each template's ReplicaSet and hash, and the Experiment's times.
  std::map<std::string, std::string> vars;
  for (const auto& tmpl : p.ex.spec.templates) {
    if (const ReplicaSetView* rs = p.replicaSet(experimentReplicaSetName(p.ex, tmpl))) {
      vars["templates." + tmpl.name + ".podTemplateHash"] = rs->podTemplateHash;
      vars["templates." + tmpl.name + ".replicaset.name"] = rs->name;
    }
  }
  if (p.ex.status.availableAt) {
    vars["experiment.availableAt"] = formatRfc3339(*p.ex.status.availableAt);
    if (p.ex.spec.duration)
      vars["experiment.finishedAt"] = formatRfc3339(*p.ex.status.availableAt + *p.ex.spec.duration);
  }
  CreateAnalysisRun create;
  create.name = experimentRunName(p.ex, a);
  create.analysis.templates.push_back({a.templateName, a.clusterScope});
  for (AnalysisArg arg : a.args) {
    if (arg.value) arg.value = fillPlaceholders(*arg.value, vars);
    create.analysis.args.push_back(std::move(arg));
  }
  create.analysis.dryRun = p.ex.spec.dryRun;
  create.analysis.measurementRetention = p.ex.spec.measurementRetention;
  create.analysis.runLabels = p.ex.spec.runLabels;
  create.analysis.runAnnotations = p.ex.spec.runAnnotations;
  return create;
}

void reconcileAnalysis(ExperimentPass& p, const ExperimentAnalysis& a) {
  const ExperimentAnalysisRunStatus* stored = p.ex.status.analysisRun(a.name);
  ExperimentAnalysisRunStatus fresh;
  fresh.name = a.name;
  const ExperimentAnalysisRunStatus prev = stored ? *stored : fresh;
  ExperimentAnalysisRunStatus next = prev;
  if (!p.ex.status.availableAt) {
    // Runs start once every template is available.
  } else if (prev.analysisRun.empty()) {
    if (!p.terminating) {
      CreateAnalysisRun create = analysisRun(p, a);
      next.analysisRun = create.name;
      next.phase = Phase::Pending;
      p.actions.push_back(std::move(create));
    }
  } else if (!analysis::phaseCompleted(prev.phase)) {
    if (const AnalysisRunView* run = p.run(prev.analysisRun); !run) {
      next.phase = Phase::Error;
      next.message = "AnalysisRun " + prev.analysisRun + " not found";
    } else {
      if (p.terminating && !analysis::phaseCompleted(run->phase) && !run->terminated) {
        p.actions.push_back(TerminateAnalysisRun{run->name});
        p.event("Normal", "AnalysisRunTerminating", "Terminating " + a.name + " (" + run->name + ")");
      }
      // Followed while terminating too (Argo stops looking once it asked): the terminated run's own end
      // decides, so an Experiment waiting on it always settles.
      next.phase = run->phase == Phase::Unset ? Phase::Pending : run->phase;
      next.message = run->message;
    }
  }
  if (next.phase != prev.phase && next.phase != Phase::Unset) {
    std::string message = "AnalysisRun '" + a.name + "' transitioned from " +
                          analysis::phaseName(prev.phase) + " -> " + analysis::phaseName(next.phase);
    if (!next.message.empty()) message += ": " + next.message;
    p.event(runUnsuccessful(next.phase) ? "Warning" : "Normal",
            std::string("AnalysisRun") + analysis::phaseName(next.phase), std::move(message));
  }
  p.setRunStatus(std::move(next));
}

// The worst template status as an Experiment phase: Progressing reads as Pending.
std::pair<Phase, std::string> assessTemplates(const ExperimentPass& p) {
  std::string worst = kTemplateSuccessful;
  std::string message;
  for (const auto& tmpl : p.ex.spec.templates) {
    const TemplateStatus* ts = p.status.templateStatus(tmpl.name);
    const std::string status = ts ? ts->status : kTemplateProgressing;
    if (templateSeverity(status) > templateSeverity(worst)) {
      worst = status;
      message = ts ? ts->message : "";
    }
  }
  if (worst == kTemplateProgressing) return {Phase::Pending, message};
  if (worst == kTemplateFailed) return {Phase::Failed, message};
  if (worst == kTemplateError) return {Phase::Error, message};
  if (worst == kTemplateSuccessful) return {Phase::Successful, message};
  return {Phase::Running, message};
}

// The worst run phase (Successful with none); a run not yet started does not count, Pending reads as
// Running.
std::pair<Phase, std::string> assessRuns(const ExperimentPass& p) {
  Phase worst = Phase::Successful;
  std::string message;
  for (const auto& a : p.ex.spec.analyses) {
    const ExperimentAnalysisRunStatus* run = p.status.analysisRun(a.name);
    if (run && analysis::phaseSeverity(run->phase) > analysis::phaseSeverity(worst)) {
      worst = run->phase;
      message = run->message;
    }
  }
  if (worst == Phase::Successful && requiredRunsSuccessful(p.ex.spec, p.status))
    return {Phase::Successful, "Required AnalysisRuns completed"};
  if (worst == Phase::Pending) worst = Phase::Running;
  return {worst, message};
}

void calculatePhase(ExperimentPass& p) {
  ExperimentStatus& s = p.status;
  if (s.phase == Phase::Unset) {
    s.phase = Phase::Pending;
  } else if (s.phase == Phase::Pending || s.phase == Phase::Running) {
    auto [templates, templateMessage] = assessTemplates(p);
    auto [runs, runMessage] = assessRuns(p);
    if (templates == Phase::Running && !s.availableAt) s.availableAt = p.now;
    if (analysis::phaseCompleted(templates)) {
      // Templates that ran their course leave the verdict to the runs (when they finished, or when some
      // are required); a Failed or Error template is the verdict.
      const bool runsDecide = analysis::phaseCompleted(runs) || p.ex.spec.hasRequiredAnalyses();
      if (templates == Phase::Successful && runsDecide) {
        s.phase = runs;
        s.message = runMessage;
      } else {
        s.phase = templates;
        s.message = templateMessage;
      }
    } else if ((analysis::phaseCompleted(runs) && runs != Phase::Successful) ||
               requiredRunsSuccessful(p.ex.spec, s)) {
      s.phase = runs;
      s.message = runMessage;
    } else {
      s.phase = templates;
      s.message = templateMessage;
    }
  }
  const std::string quoted = "\"" + p.ex.metadata.name + "\"";
  if (analysis::phaseCompleted(s.phase)) {
    detail::setCondition(s.conditions, "Progressing", "False", "ExperimentCompleted",
                         "Experiment " + quoted + " has successfully ran and completed.", p.now);
  } else if (s.phase == Phase::Running) {
    detail::setCondition(s.conditions, "Progressing", "True", "NewReplicaSetAvailable",
                         "Experiment " + quoted + " is running.", p.now);
  } else {
    detail::setCondition(s.conditions, "Progressing", "True", "ReplicaSetUpdated",
                         "Experiment " + quoted + " is progressing.", p.now);
  }
}

}  // namespace

bool ExperimentSpec::hasRequiredAnalyses() const {
  return std::any_of(analyses.begin(), analyses.end(),
                     [](const ExperimentAnalysis& a) { return a.requiredForCompletion; });
}

bool TemplateStatus::completed() const {
  return status == kTemplateSuccessful || status == kTemplateFailed || status == kTemplateError;
}

const TemplateStatus* ExperimentStatus::templateStatus(const std::string& name) const {
  for (const auto& t : templateStatuses) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const ExperimentAnalysisRunStatus* ExperimentStatus::analysisRun(const std::string& name) const {
  for (const auto& r : analysisRuns) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::string experimentReplicaSetName(const Experiment& experiment, const ExperimentTemplate& tmpl) {
  return experiment.metadata.name + "-" + tmpl.name;
}

std::string experimentRunName(const Experiment& experiment, const ExperimentAnalysis& analysis) {
  return experiment.metadata.name + "-" + analysis.name;
}

bool experimentTerminating(const Experiment& experiment) {
  const ExperimentStatus& s = experiment.status;
  if (experiment.spec.terminate || analysis::phaseCompleted(s.phase)) return true;
  for (const auto& t : s.templateStatuses) {
    if (t.status == kTemplateFailed || t.status == kTemplateError) return true;
  }
  for (const auto& r : s.analysisRuns) {
    if (runUnsuccessful(r.phase)) return true;
  }
  return requiredRunsSuccessful(experiment.spec, s);
}

ExperimentDecision reconcileExperiment(const Experiment& experiment, const ExperimentObserved& observed,
                                       Time now) {
  ExperimentPass p{
      experiment, observed, now, experiment.status, {}, std::nullopt, experimentTerminating(experiment)};
  for (const auto& tmpl : experiment.spec.templates) reconcileTemplate(p, tmpl);
  for (const auto& a : experiment.spec.analyses) reconcileAnalysis(p, a);
  calculatePhase(p);
  // The end of the duration is a moment to look again at, until the Experiment winds down.
  if (!p.terminating && experiment.spec.duration && p.status.availableAt &&
      !analysis::phaseCompleted(p.status.phase) && !passedDuration(experiment, p.status, now)) {
    p.requeueIn(*p.status.availableAt + *experiment.spec.duration - now);
  }
  return ExperimentDecision{std::move(p.status), std::move(p.actions), p.requeue};
}

}  // namespace sluice::engine
