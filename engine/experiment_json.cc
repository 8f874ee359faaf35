// Experiment JSON <-> typed model, read the way rollout_json.cc reads a Rollout (every problem collected
// with its path), sharing its readers for analysis args, run options and conditions.
#include "engine/experiment_json.h"

#include <set>

#include "base/json_fields.h"
#include "engine/canary.h"
#include "engine/rollout_json.h"
#include "engine/validate.h"

namespace sluice::engine {

namespace {

using nlohmann::json;
using namespace sluice::json_fields;

std::optional<analysis::Phase> readPhase(Reporter& r, const json& v, const std::string& path) {
  auto name = readString(r, v, path);
  if (!name) return std::nullopt;
  using analysis::Phase;
  for (Phase p : {Phase::Unset, Phase::Pending, Phase::Running, Phase::Successful, Phase::Failed,
                  Phase::Error, Phase::Inconclusive}) {
    if (*name == analysis::phaseName(p)) return p;
  }
  r.error(path, "is not a phase: \"" + *name + "\"");
  return std::nullopt;
}

void readTemplate(ObjectReader& o, ExperimentTemplate& t) {
  Reporter& r = o.reporter();
  o.read("name", t.name, readString);
  o.read("replicas", t.replicas, readInt);
  if (t.replicas < 0) r.error(o.path("replicas"), "must not be negative, got " + std::to_string(t.replicas));
  o.read("minReadySeconds", t.minReadySeconds, readInt);
  o.read("selector", t.selector, readRawObject);
  o.read("template", t.podTemplate, readRawObject);
  if (const json* v = o.get("service")) {
    readObject(r, *v, o.path("service"), [&](ObjectReader& s) {
      ExperimentService service;
      readExperimentService(s, service);
      t.service = service;
    });
  }
  o.warnUnknown();
}

void readAnalysisRef(ObjectReader& o, ExperimentAnalysis& a) {
  Reporter& r = o.reporter();
  o.readRequired("name", a.name);
  o.readRequired("templateName", a.templateName);
  o.read("clusterScope", a.clusterScope, readBool);
  o.read("requiredForCompletion", a.requiredForCompletion, readBool);
  if (const json* v = o.get("args")) {
    readAnalysisArgs(r, *v, o.path("args"), a.args);
    for (size_t i = 0; i < a.args.size(); ++i) {
      if (a.args[i].podTemplateHashValue) {
        r.error(indexPath(o.path("args"), i) + ".valueFrom.podTemplateHashValue",
                "is not valid in an Experiment (a Rollout's experiment step resolves it); use "
                "\"{{templates.<name>.podTemplateHash}}\" as the value");
      }
    }
  }
  o.warnUnknown();
}

void readSpec(ObjectReader& o, ExperimentSpec& spec) {
  Reporter& r = o.reporter();
  if (const json* v = o.get("templates")) {
    forEachObject(r, *v, o.path("templates"), [&](ObjectReader& item) {
      ExperimentTemplate t;
      readTemplate(item, t);
      spec.templates.push_back(std::move(t));
    });
  } else {
    r.error(o.path("templates"), "is required");
  }
  o.read("duration", spec.duration, readDuration);
  if (const json* v = o.get("analyses")) {
    forEachObject(r, *v, o.path("analyses"), [&](ObjectReader& item) {
      ExperimentAnalysis a;
      readAnalysisRef(item, a);
      spec.analyses.push_back(std::move(a));
    });
  }
  RolloutAnalysis options;
  readAnalysisRunOptions(o, options);
  spec.dryRun = std::move(options.dryRun);
  spec.measurementRetention = std::move(options.measurementRetention);
  spec.runLabels = std::move(options.runLabels);
  spec.runAnnotations = std::move(options.runAnnotations);
  o.read("progressDeadlineSeconds", spec.progressDeadlineSeconds, readInt);
  o.read("scaleDownDelaySeconds", spec.scaleDownDelaySeconds, readInt);
  o.read("terminate", spec.terminate, readBool);
  for (const auto& [field, value] : {std::pair{"progressDeadlineSeconds", spec.progressDeadlineSeconds},
                                     std::pair{"scaleDownDelaySeconds", spec.scaleDownDelaySeconds}}) {
    if (value < 0) r.error(o.path(field), "must not be negative, got " + std::to_string(value));
  }
}

// Argo's rules for an Experiment's templates and analyses.
void validate(const Experiment& ex, Reporter& r) {
  if (ex.spec.templates.empty()) r.error("spec.templates", "must have at least one template");
  std::set<std::string> names;
  for (size_t i = 0; i < ex.spec.templates.size(); ++i) {
    const ExperimentTemplate& t = ex.spec.templates[i];
    const std::string path = indexPath("spec.templates", i);
    if (t.name.empty()) {
      r.error(path + ".name", "is required: a template's name names its ReplicaSet");
    } else if (!names.insert(t.name).second) {
      r.error(path + ".name", "repeats the template name '" + t.name + "'");
    }
    const json matchLabels = t.selector.value("matchLabels", json::object());
    if (t.selector.empty() || (matchLabels.empty() && !t.selector.contains("matchExpressions"))) {
      r.error(path + ".selector", "is required and must not be empty");
    }
    checkPodTemplate(t.podTemplate, path + ".template",
                     [&r](const std::string& at, std::string message) { r.error(at, std::move(message)); });
    const json labels = t.podTemplate.value(json::json_pointer("/metadata/labels"), json::object());
    if (matchLabels.is_object()) {
      for (const auto& [key, value] : matchLabels.items()) {
        if (!labels.is_object() || !labels.contains(key) || labels[key] != value) {
          r.error(childPath(path + ".selector.matchLabels", key), "does not match the template's labels");
        }
      }
    }
  }
  std::set<std::string> analyses;
  for (size_t i = 0; i < ex.spec.analyses.size(); ++i) {
    const std::string& name = ex.spec.analyses[i].name;
    if (!name.empty() && !analyses.insert(name).second)
      r.error(indexPath("spec.analyses", i) + ".name", "repeats the analysis name '" + name + "'");
  }
}

void readStatus(ObjectReader& o, ExperimentStatus& s) {
  Reporter& r = o.reporter();
  o.read("phase", s.phase, readPhase);
  o.read("message", s.message, readString);
  o.read("availableAt", s.availableAt, readTime);
  if (const json* v = o.get("templateStatuses")) {
    forEachObject(r, *v, o.path("templateStatuses"), [&](ObjectReader& item) {
      TemplateStatus t;
      item.read("name", t.name, readString);
      item.read("replicas", t.replicas, readInt);
      item.read("updatedReplicas", t.updatedReplicas, readInt);
      item.read("readyReplicas", t.readyReplicas, readInt);
      item.read("availableReplicas", t.availableReplicas, readInt);
      item.read("collisionCount", t.collisionCount, readInt);
      item.read("status", t.status, readString);
      item.read("message", t.message, readString);
      item.read("lastTransitionTime", t.lastTransitionTime, readTime);
      item.read("serviceName", t.serviceName, readString);
      item.read("podTemplateHash", t.podTemplateHash, readString);
      s.templateStatuses.push_back(std::move(t));
    });
  }
  if (const json* v = o.get("analysisRuns")) {
    forEachObject(r, *v, o.path("analysisRuns"), [&](ObjectReader& item) {
      ExperimentAnalysisRunStatus a;
      item.read("name", a.name, readString);
      item.read("analysisRun", a.analysisRun, readString);
      item.read("phase", a.phase, readPhase);
      item.read("message", a.message, readString);
      s.analysisRuns.push_back(std::move(a));
    });
  }
  if (const json* v = o.get("conditions")) readConditions(r, *v, o.path("conditions"), s.conditions);
}

}  // namespace

std::optional<Experiment> parseExperiment(const nlohmann::json& object, const SourceMap& source,
                                          Diagnostics& diags) {
  Experiment ex;
  std::string kind;
  const bool ok = readInOrder(source, diags, [&](Reporter& r, Diagnostics& local) {
    readEnvelope(
        r, object, ex.apiVersion, kind, {kApiVersion, kArgoApiVersion}, {"Experiment"}, ex.metadata,
        [&](ObjectReader& so) { readSpec(so, ex.spec); },
        [&](ObjectReader& o) {
          if (const json* st = o.get("status"))
            readStatusObject(r, *st, "status", [&](ObjectReader& so) { readStatus(so, ex.status); });
        });
    if (!local.hasErrors()) validate(ex, r);
  });
  if (!ok) return std::nullopt;
  return ex;
}

nlohmann::json experimentToJson(const Experiment& ex) {
  json metadata = {{"name", ex.metadata.name}};
  putString(metadata, "namespace", ex.metadata.ns);
  if (!ex.metadata.labels.empty()) metadata["labels"] = ex.metadata.labels;
  if (!ex.metadata.annotations.empty()) metadata["annotations"] = ex.metadata.annotations;
  json templates = json::array();
  for (const auto& t : ex.spec.templates) {
    json item = {
        {"name", t.name}, {"replicas", t.replicas}, {"selector", t.selector}, {"template", t.podTemplate}};
    putInt(item, "minReadySeconds", t.minReadySeconds);
    if (t.service) {
      json service = json::object();
      putString(service, "name", t.service->name);
      if (t.service->ports.is_array() && !t.service->ports.empty()) service["ports"] = t.service->ports;
      item["service"] = std::move(service);
    }
    templates.push_back(std::move(item));
  }
  json spec = {{"templates", templates},
               {"progressDeadlineSeconds", ex.spec.progressDeadlineSeconds},
               {"scaleDownDelaySeconds", ex.spec.scaleDownDelaySeconds}};
  if (ex.spec.duration) spec["duration"] = formatDuration(*ex.spec.duration);
  if (!ex.spec.analyses.empty()) {
    json analyses = json::array();
    for (const auto& a : ex.spec.analyses) {
      json item = {{"name", a.name}, {"templateName", a.templateName}};
      putBool(item, "clusterScope", a.clusterScope);
      putBool(item, "requiredForCompletion", a.requiredForCompletion);
      json args = json::array();
      for (const auto& arg : a.args) {
        json j = {{"name", arg.name}};
        if (arg.value) j["value"] = *arg.value;
        if (arg.fieldRef) j["valueFrom"] = {{"fieldRef", {{"fieldPath", *arg.fieldRef}}}};
        args.push_back(std::move(j));
      }
      if (!args.empty()) item["args"] = std::move(args);
      analyses.push_back(std::move(item));
    }
    spec["analyses"] = std::move(analyses);
  }
  if (!ex.spec.dryRun.empty()) {
    json list = json::array();
    for (const auto& m : ex.spec.dryRun) list.push_back({{"metricName", m}});
    spec["dryRun"] = std::move(list);
  }
  if (!ex.spec.measurementRetention.empty()) {
    json list = json::array();
    for (const auto& m : ex.spec.measurementRetention)
      list.push_back({{"metricName", m.metricName}, {"limit", m.limit}});
    spec["measurementRetention"] = std::move(list);
  }
  if (!ex.spec.runLabels.empty() || !ex.spec.runAnnotations.empty()) {
    json meta = json::object();
    if (!ex.spec.runLabels.empty()) meta["labels"] = ex.spec.runLabels;
    if (!ex.spec.runAnnotations.empty()) meta["annotations"] = ex.spec.runAnnotations;
    spec["analysisRunMetadata"] = std::move(meta);
  }
  putBool(spec, "terminate", ex.spec.terminate);
  return {{"apiVersion", kApiVersion}, {"kind", "Experiment"}, {"metadata", metadata}, {"spec", spec}};
}

nlohmann::json experimentStatusToJson(const ExperimentStatus& s) {
  json j = json::object();
  putString(j, "phase", analysis::phaseName(s.phase));
  putString(j, "message", s.message);
  if (!s.templateStatuses.empty()) {
    json list = json::array();
    for (const auto& t : s.templateStatuses) {
      // The counts are always written, as Argo writes them.
      json item = {{"name", t.name},
                   {"replicas", t.replicas},
                   {"updatedReplicas", t.updatedReplicas},
                   {"readyReplicas", t.readyReplicas},
                   {"availableReplicas", t.availableReplicas}};
      if (t.collisionCount) item["collisionCount"] = *t.collisionCount;
      putString(item, "status", t.status);
      putString(item, "message", t.message);
      putTime(item, "lastTransitionTime", t.lastTransitionTime);
      putString(item, "serviceName", t.serviceName);
      putString(item, "podTemplateHash", t.podTemplateHash);
      list.push_back(std::move(item));
    }
    j["templateStatuses"] = std::move(list);
  }
  if (!s.analysisRuns.empty()) {
    json list = json::array();
    for (const auto& a : s.analysisRuns) {
      json item = {{"name", a.name}};
      putString(item, "analysisRun", a.analysisRun);
      putString(item, "phase", analysis::phaseName(a.phase));
      putString(item, "message", a.message);
      list.push_back(std::move(item));
    }
    j["analysisRuns"] = std::move(list);
  }
  putTime(j, "availableAt", s.availableAt);
  if (!s.conditions.empty()) j["conditions"] = conditionsToJson(s.conditions);
  return j;
}

Result<ExperimentStatus> experimentStatusFromJson(const nlohmann::json& status) {
  return readWithoutSource<ExperimentStatus>(status, "status", false,
                                             [](ObjectReader& o, ExperimentStatus& s) { readStatus(o, s); });
}

json serviceToJson(const CreateService& create, const std::string& ns) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", create.name}, {"namespace", ns}}},
      {"spec", {{"selector", {{kPodTemplateHashLabel, create.podTemplateHash}}}, {"ports", create.ports}}}};
}

}  // namespace sluice::engine
