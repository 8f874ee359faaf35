// Analysis kinds JSON <-> typed model. Like the Rollout loader, reading collects every problem with its
// field path rather than stopping at the first.
#include "analysis/model_json.h"

#include <algorithm>

#include "analysis/validate.h"
#include "base/input_limits.h"
#include "base/json_fields.h"
#include "engine/rollout_json.h"

namespace sluice::analysis {

namespace {

using nlohmann::json;
using namespace sluice::json_fields;

// Providers Argo Rollouts has and Sluice does not run yet: named, so the error says what to do.
constexpr const char* kUnsupportedProviders[] = {"datadog",    "newRelic", "wavefront", "kayenta",
                                                 "cloudWatch", "graphite", "influxdb",  "skywalking"};

std::optional<IntOrString> readIntOrString(Reporter& r, const json& v, const std::string& path) {
  if (v.is_string()) return IntOrString{std::nullopt, v.get<std::string>()};
  auto n = readInt(r, v, path);
  if (!n) return std::nullopt;
  return IntOrString{*n, ""};
}

// A duration kept as the string written, so it can hold {{args.x}} and round-trips unchanged; whether it
// parses is a validation rule.
std::optional<std::string> readDurationString(Reporter& r, const json& v, const std::string& path) {
  if (v.is_string()) return v.get<std::string>();
  r.wrongType(path, "a duration string like \"5m\"", v);
  return std::nullopt;
}

std::optional<std::vector<KeyValue>> readHeaders(Reporter& r, const json& v, const std::string& path) {
  std::vector<KeyValue> out;
  forEachObject(r, v, path, [&](ObjectReader& item) {
    KeyValue kv;
    item.readRequired("key", kv.key);
    item.read("value", kv.value, readString);
    item.warnUnknown();
    out.push_back(kv);
  });
  return out;
}

void readPrometheus(ObjectReader& o, PrometheusMetric& p) {
  Reporter& r = o.reporter();
  o.read("address", p.address, readString);
  o.readRequired("query", p.query);
  o.read("timeout", p.timeout, readNonNegative);
  o.read("insecure", p.insecure, readBool);
  o.read("headers", p.headers, readHeaders);
  if (const json* a = o.get("authentication")) {
    readObject(r, *a, o.path("authentication"), [&](ObjectReader& ao) {
      if (const json* b = ao.get("basicAuth")) {
        PrometheusBasicAuth auth;
        if (readObject(r, *b, ao.path("basicAuth"), [&](ObjectReader& bo) {
              bo.read("username", auth.username, readString);
              bo.read("password", auth.password, readString);
            })) {
          p.basicAuth = auth;
        }
      }
      for (const char* kind : {"sigv4", "oauth2"}) {
        ao.rejectUnsupported(kind, std::string(kind) +
                                       " authentication is not supported yet; use basicAuth or an "
                                       "Authorization header");
      }
    });
  }
  if (const json* q = o.get("rangeQuery")) {
    PrometheusRangeQuery range;
    if (readObject(r, *q, o.path("rangeQuery"), [&](ObjectReader& qo) {
          qo.readRequired("start", range.start);
          qo.readRequired("end", range.end);
          qo.readRequired("step", range.step);
        })) {
      p.rangeQuery = range;
    }
  }
}

void readWeb(ObjectReader& o, WebMetric& w) {
  Reporter& r = o.reporter();
  o.readRequired("url", w.url);
  o.read("method", w.method, readString);
  if (!w.method.empty() && w.method != "GET" && w.method != "POST" && w.method != "PUT") {
    r.error(o.path("method"), "must be GET, POST or PUT, got \"" + w.method + "\"");
  }
  o.read("headers", w.headers, readHeaders);
  o.read("body", w.body, readString);
  if (const json* b = o.get("jsonBody")) w.jsonBody = *b;
  if (!w.body.empty() && w.jsonBody)
    r.error(o.path("jsonBody"), "cannot be combined with body; set one of them");
  if ((w.method.empty() || w.method == "GET") && (!w.body.empty() || w.jsonBody)) {
    r.error(o.path(w.jsonBody ? "jsonBody" : "body"), "a GET request has no body; set method to POST or PUT");
  }
  o.read("timeoutSeconds", w.timeoutSeconds, readNonNegative);
  o.read("jsonPath", w.jsonPath, readString);
  o.read("insecure", w.insecure, readBool);
  o.rejectUnsupported("authentication", "web authentication (oauth2) is not supported yet; use a header");
}

// What Kubernetes would refuse in a Job, found before the run creates one: a spec without a pod template or
// containers, a restartPolicy other than Never or OnFailure, a deadline that is not a positive number of
// seconds. The rest of the JobSpec is the cluster's to check.
void checkJobSpec(Reporter& r, const json& spec, const std::string& path) {
  const std::string templatePath = childPath(path, "template");
  const json* tmpl = spec.contains("template") ? &spec["template"] : nullptr;
  if (!tmpl || tmpl->is_null()) {
    r.error(templatePath, "is required: the Job's pod template");
  } else if (!tmpl->is_object()) {
    r.wrongType(templatePath, "an object", *tmpl);
  } else {
    const std::string podPath = childPath(templatePath, "spec");
    const json pod = tmpl->value("spec", json());
    if (!pod.is_object()) {
      r.error(podPath, "is required: the pod spec with the containers to run");
    } else {
      const json containers = pod.value("containers", json());
      if (!containers.is_array() || containers.empty())
        r.error(childPath(podPath, "containers"), "must list at least one container");
      const json policy = pod.value("restartPolicy", json());
      if (!policy.is_string() || (policy != "Never" && policy != "OnFailure")) {
        r.error(childPath(podPath, "restartPolicy"),
                "must be Never or OnFailure in a Job's pod template" +
                    (policy.is_null() ? std::string(" (it defaults to Always)")
                                      : ", got " + describeValue(policy)));
      }
    }
  }
  const json deadline = spec.value("activeDeadlineSeconds", json());
  if (!deadline.is_null() && (!deadline.is_number_integer() || deadline.get<int64_t>() <= 0)) {
    r.error(childPath(path, "activeDeadlineSeconds"),
            "must be a positive whole number of seconds, got " + describeValue(deadline));
  }
}

void readJob(ObjectReader& o, JobMetric& j) {
  Reporter& r = o.reporter();
  if (const json* m = o.get("metadata")) {
    readObject(r, *m, o.path("metadata"), [&](ObjectReader& mo) {
      for (const char* key : {"labels", "annotations"}) {
        std::optional<std::map<std::string, std::string>> values;
        mo.read(key, values, readStringMap);
        if (values && !values->empty()) j.metadata[key] = *values;
      }
    });
  }
  if (const json* s = o.get("spec")) {
    if (s->is_object()) {
      j.spec = *s;
      checkJobSpec(r, *s, o.path("spec"));
    } else {
      r.wrongType(o.path("spec"), "an object (a batch/v1 JobSpec)", *s);
    }
  } else {
    r.error(o.path("spec"), "is required: the batch/v1 JobSpec of the Job each measurement runs");
  }
}

void readProvider(ObjectReader& o, MetricProvider& p) {
  Reporter& r = o.reporter();
  int set = 0;
  if (const json* v = o.get("prometheus")) {
    ++set;
    PrometheusMetric prom;
    if (readObject(r, *v, o.path("prometheus"), [&](ObjectReader& po) { readPrometheus(po, prom); })) {
      p.prometheus = prom;
    }
  }
  if (const json* v = o.get("web")) {
    ++set;
    WebMetric web;
    if (readObject(r, *v, o.path("web"), [&](ObjectReader& wo) { readWeb(wo, web); })) p.web = web;
  }
  if (const json* v = o.get("job")) {
    ++set;
    JobMetric job;
    if (readObject(r, *v, o.path("job"), [&](ObjectReader& jo) { readJob(jo, job); })) p.job = job;
  }
  for (const char* name : kUnsupportedProviders) {
    if (o.has(name)) ++set;
    o.rejectUnsupported(
        name, std::string("the ") + name + " provider is not supported yet; use prometheus, web or job");
  }
  if (const json* plugin = o.get("plugin")) {
    ++set;
    std::string names;
    if (plugin->is_object()) {
      for (const auto& [name, config] : plugin->items())
        names += (names.empty() ? "\"" : ", \"") + name + "\"";
    }
    r.error(o.path("plugin"),
            "the metric plugin " + (names.empty() ? std::string() : names + " ") +
                "is a Go binary Argo Rollouts loads; Sluice loads no plugins: query the "
                "metric with the prometheus provider, the web provider if it has an HTTP API, or the job "
                "provider to run it as a Job");
  }
  if (set == 0) r.error(o.path(), "must set one provider: prometheus, web or job");
  if (set > 1) r.error(o.path(), "must set exactly one provider, got " + std::to_string(set));
}

void readMetric(ObjectReader& o, Metric& m) {
  Reporter& r = o.reporter();
  o.readRequired("name", m.name);
  o.read("interval", m.interval, readDurationString);
  o.read("initialDelay", m.initialDelay, readDurationString);
  o.read("count", m.count, readIntOrString);
  o.read("successCondition", m.successCondition, readString);
  o.read("failureCondition", m.failureCondition, readString);
  o.read("failureLimit", m.failureLimit, readIntOrString);
  o.read("inconclusiveLimit", m.inconclusiveLimit, readIntOrString);
  o.read("consecutiveErrorLimit", m.consecutiveErrorLimit, readIntOrString);
  o.read("consecutiveSuccessLimit", m.consecutiveSuccessLimit, readIntOrString);
  if (const json* p = o.get("provider")) {
    readObject(r, *p, o.path("provider"), [&](ObjectReader& po) { readProvider(po, m.provider); });
  } else {
    r.error(o.path("provider"), "is required");
  }
}

void readArgs(ObjectReader& o, std::vector<Argument>& args) {
  Reporter& r = o.reporter();
  const json* v = o.get("args");
  if (!v || !withinLimit(r, *v, o.path("args"), limits::kMaxArgs, "args")) return;
  forEachObject(r, *v, o.path("args"), [&](ObjectReader& item) {
    Argument arg;
    item.readRequired("name", arg.name);
    item.read("value", arg.value, readString);
    if (const json* from = item.get("valueFrom")) {
      readObject(r, *from, item.path("valueFrom"), [&](ObjectReader& f) {
        if (const json* s = f.get("secretKeyRef")) {
          SecretKeyRef ref;
          if (readObject(r, *s, f.path("secretKeyRef"), [&](ObjectReader& so) {
                so.readRequired("name", ref.name);
                so.readRequired("key", ref.key);
              })) {
            arg.secretKeyRef = ref;
          }
        }
        if (const json* fr = f.get("fieldRef")) {
          readObject(r, *fr, f.path("fieldRef"), [&](ObjectReader& fo) {
            std::string fieldPath;
            fo.readRequired("fieldPath", fieldPath);
            arg.fieldRef = fieldPath;
          });
        }
        if (f.has("secretKeyRef") == f.has("fieldRef"))
          r.error(f.path(), "must set one of secretKeyRef or fieldRef");
      });
      if (arg.value) r.error(item.path("valueFrom"), "cannot be combined with value");
    }
    item.warnUnknown();
    args.push_back(arg);
  });
}

void readDryRunAndRetention(ObjectReader& o, std::vector<std::string>& dryRun,
                            std::vector<MeasurementRetention>& retention) {
  Reporter& r = o.reporter();
  if (const json* v = o.get("dryRun")) {
    forEachObject(r, *v, o.path("dryRun"), [&](ObjectReader& item) {
      std::string name;
      item.readRequired("metricName", name);
      item.warnUnknown();
      dryRun.push_back(name);
    });
  }
  if (const json* v = o.get("measurementRetention")) {
    forEachObject(r, *v, o.path("measurementRetention"), [&](ObjectReader& item) {
      MeasurementRetention m;
      item.readRequired("metricName", m.metricName);
      item.read("limit", m.limit, readNonNegative);
      item.warnUnknown();
      retention.push_back(m);
    });
  }
}

void readMetrics(ObjectReader& o, std::vector<Metric>& metrics) {
  if (const json* v = o.get("metrics")) {
    if (!withinLimit(o.reporter(), *v, o.path("metrics"), limits::kMaxMetrics, "metrics")) return;
    forEachObject(o.reporter(), *v, o.path("metrics"), [&](ObjectReader& item) {
      Metric m;
      readMetric(item, m);
      item.warnUnknown();
      metrics.push_back(std::move(m));
    });
  }
}

void readTemplateSpec(ObjectReader& o, AnalysisTemplateSpec& spec) {
  readMetrics(o, spec.metrics);
  readArgs(o, spec.args);
  readDryRunAndRetention(o, spec.dryRun, spec.measurementRetention);
  if (const json* v = o.get("templates")) {
    forEachObject(o.reporter(), *v, o.path("templates"), [&](ObjectReader& t) {
      AnalysisTemplateRef ref;
      t.readRequired("templateName", ref.templateName);
      t.read("clusterScope", ref.clusterScope, readBool);
      t.warnUnknown();
      spec.templates.push_back(ref);
    });
  }
  const json* metrics = o.get("metrics");
  const bool overLimit = metrics && metrics->is_array() && metrics->size() > limits::kMaxMetrics;
  if (spec.metrics.empty() && spec.templates.empty() && !overLimit) {
    o.reporter().error(o.path("metrics"), "must have at least one metric (or nested templates)");
  }
}

void readRunSpec(ObjectReader& o, AnalysisRunSpec& spec) {
  readMetrics(o, spec.metrics);
  readArgs(o, spec.args);
  readDryRunAndRetention(o, spec.dryRun, spec.measurementRetention);
  const json* metrics = o.get("metrics");
  const bool overLimit = metrics && metrics->is_array() && metrics->size() > limits::kMaxMetrics;
  if (spec.metrics.empty() && !overLimit)
    o.reporter().error(o.path("metrics"), "must have at least one metric");
  o.read("terminate", spec.terminate, readBool);
  o.read("ttlStrategy", spec.ttlStrategy, readRawObject);
}

// ---- status ---------------------------------------------------------------------------------------

std::optional<Phase> readPhase(Reporter& r, const json& v, const std::string& path) {
  auto s = readString(r, v, path);
  if (!s) return std::nullopt;
  return reportedAt(r, path, phaseFromName(*s));
}

std::optional<RunSummary> readSummary(Reporter& r, const json& v, const std::string& path) {
  return readStatusValue<RunSummary>(r, v, path, [](ObjectReader& o, RunSummary& s) {
    o.read("count", s.count, readInt);
    o.read("successful", s.successful, readInt);
    o.read("failed", s.failed, readInt);
    o.read("inconclusive", s.inconclusive, readInt);
    o.read("error", s.error, readInt);
  });
}

void readMetricResult(ObjectReader& o, MetricResult& m) {
  o.read("name", m.name, readString);
  o.read("phase", m.phase, readPhase);
  if (const json* v = o.get("measurements")) {
    forEachObject(o.reporter(), *v, o.path("measurements"), [&](ObjectReader& item) {
      Measurement meas;
      item.read("phase", meas.phase, readPhase);
      item.read("message", meas.message, readString);
      item.read("startedAt", meas.startedAt, readTime);
      item.read("finishedAt", meas.finishedAt, readTime);
      item.read("value", meas.value, readString);
      item.read("metadata", meas.metadata, readStringMap);
      item.read("resumeAt", meas.resumeAt, readTime);
      m.measurements.push_back(std::move(meas));
    });
  }
  o.read("message", m.message, readString);
  o.read("count", m.count, readInt);
  o.read("successful", m.successful, readInt);
  o.read("failed", m.failed, readInt);
  o.read("inconclusive", m.inconclusive, readInt);
  o.read("error", m.error, readInt);
  o.read("consecutiveError", m.consecutiveError, readInt);
  o.read("consecutiveSuccess", m.consecutiveSuccess, readInt);
  o.read("dryRun", m.dryRun, readBool);
  o.read("metadata", m.metadata, readStringMap);
}

void readRunStatus(ObjectReader& o, AnalysisRunStatus& s) {
  o.read("phase", s.phase, readPhase);
  o.read("message", s.message, readString);
  o.read("startedAt", s.startedAt, readTime);
  o.read("completedAt", s.completedAt, readTime);
  o.read("runSummary", s.runSummary, readSummary);
  o.read("dryRunSummary", s.dryRunSummary, readSummary);
  if (const json* v = o.get("metricResults")) {
    forEachObject(o.reporter(), *v, o.path("metricResults"), [&](ObjectReader& item) {
      MetricResult m;
      readMetricResult(item, m);
      s.metricResults.push_back(std::move(m));
    });
  }
}

// ---- writing --------------------------------------------------------------------------------------

json headersToJson(const std::vector<KeyValue>& headers) {
  json list = json::array();
  for (const auto& h : headers) list.push_back({{"key", h.key}, {"value", h.value}});
  return list;
}

json providerToJson(const MetricProvider& p) {
  json j = json::object();
  if (p.prometheus) {
    const PrometheusMetric& m = *p.prometheus;
    json o = json::object();
    putString(o, "address", m.address);
    putString(o, "query", m.query);
    if (m.timeout) o["timeout"] = *m.timeout;
    putBool(o, "insecure", m.insecure);
    if (!m.headers.empty()) o["headers"] = headersToJson(m.headers);
    if (m.basicAuth) {
      json b = json::object();
      putString(b, "username", m.basicAuth->username);
      putString(b, "password", m.basicAuth->password);
      o["authentication"] = {{"basicAuth", b}};
    }
    if (m.rangeQuery) {
      o["rangeQuery"] = {
          {"start", m.rangeQuery->start}, {"end", m.rangeQuery->end}, {"step", m.rangeQuery->step}};
    }
    j["prometheus"] = o;
  }
  if (p.web) {
    const WebMetric& m = *p.web;
    json o = json::object();
    putString(o, "url", m.url);
    putString(o, "method", m.method);
    if (!m.headers.empty()) o["headers"] = headersToJson(m.headers);
    putString(o, "body", m.body);
    if (m.jsonBody) o["jsonBody"] = *m.jsonBody;
    if (m.timeoutSeconds) o["timeoutSeconds"] = *m.timeoutSeconds;
    putString(o, "jsonPath", m.jsonPath);
    putBool(o, "insecure", m.insecure);
    j["web"] = o;
  }
  if (p.job) {
    json o = json::object();
    if (!p.job->metadata.empty()) o["metadata"] = p.job->metadata;
    o["spec"] = p.job->spec;
    j["job"] = o;
  }
  return j;
}

void putIntOrString(json& j, const char* key, const std::optional<IntOrString>& v) {
  if (!v) return;
  if (v->number) {
    j[key] = *v->number;
  } else {
    j[key] = v->text;
  }
}

json argsToJson(const std::vector<Argument>& args) {
  json list = json::array();
  for (const auto& a : args) {
    json item = {{"name", a.name}};
    if (a.value) item["value"] = *a.value;
    if (a.secretKeyRef)
      item["valueFrom"]["secretKeyRef"] = {{"name", a.secretKeyRef->name}, {"key", a.secretKeyRef->key}};
    if (a.fieldRef) item["valueFrom"]["fieldRef"] = {{"fieldPath", *a.fieldRef}};
    list.push_back(item);
  }
  return list;
}

json summaryToJson(const RunSummary& s) {
  json j = json::object();
  putInt(j, "count", s.count);
  putInt(j, "successful", s.successful);
  putInt(j, "failed", s.failed);
  putInt(j, "inconclusive", s.inconclusive);
  putInt(j, "error", s.error);
  return j;
}

void putPhase(json& j, Phase phase) { putString(j, "phase", phaseName(phase)); }

json metricResultToJson(const MetricResult& m) {
  json j = json::object();
  putString(j, "name", m.name);
  putPhase(j, m.phase);
  if (!m.measurements.empty()) {
    json list = json::array();
    for (const auto& meas : m.measurements) {
      json item = json::object();
      putPhase(item, meas.phase);
      putString(item, "message", meas.message);
      putTime(item, "startedAt", meas.startedAt);
      putTime(item, "finishedAt", meas.finishedAt);
      putString(item, "value", meas.value);
      if (!meas.metadata.empty()) item["metadata"] = meas.metadata;
      putTime(item, "resumeAt", meas.resumeAt);
      list.push_back(item);
    }
    j["measurements"] = list;
  }
  putString(j, "message", m.message);
  putInt(j, "count", m.count);
  putInt(j, "successful", m.successful);
  putInt(j, "failed", m.failed);
  putInt(j, "inconclusive", m.inconclusive);
  putInt(j, "error", m.error);
  putInt(j, "consecutiveError", m.consecutiveError);
  putInt(j, "consecutiveSuccess", m.consecutiveSuccess);
  putBool(j, "dryRun", m.dryRun);
  if (!m.metadata.empty()) j["metadata"] = m.metadata;
  return j;
}

// Reads with `fill` and no source positions; every problem joined into one error.

}  // namespace

json metricToJson(const Metric& m) {
  json j = json::object();
  putString(j, "name", m.name);
  putString(j, "interval", m.interval);
  putString(j, "initialDelay", m.initialDelay);
  putIntOrString(j, "count", m.count);
  putString(j, "successCondition", m.successCondition);
  putString(j, "failureCondition", m.failureCondition);
  putIntOrString(j, "failureLimit", m.failureLimit);
  putIntOrString(j, "inconclusiveLimit", m.inconclusiveLimit);
  putIntOrString(j, "consecutiveErrorLimit", m.consecutiveErrorLimit);
  putIntOrString(j, "consecutiveSuccessLimit", m.consecutiveSuccessLimit);
  j["provider"] = providerToJson(m.provider);
  return j;
}

Result<Metric> metricFromJson(const json& metric) {
  return readWithoutSource<Metric>(metric, "metric", true,
                                   [](ObjectReader& o, Metric& m) { readMetric(o, m); });
}

json runSpecToJson(const AnalysisRunSpec& spec) {
  json j = json::object();
  json metrics = json::array();
  for (const auto& m : spec.metrics) metrics.push_back(metricToJson(m));
  j["metrics"] = metrics;
  if (!spec.args.empty()) j["args"] = argsToJson(spec.args);
  putBool(j, "terminate", spec.terminate);
  if (!spec.dryRun.empty()) {
    json list = json::array();
    for (const auto& name : spec.dryRun) list.push_back({{"metricName", name}});
    j["dryRun"] = list;
  }
  if (!spec.measurementRetention.empty()) {
    json list = json::array();
    for (const auto& m : spec.measurementRetention)
      list.push_back({{"metricName", m.metricName}, {"limit", m.limit}});
    j["measurementRetention"] = list;
  }
  if (spec.ttlStrategy) j["ttlStrategy"] = *spec.ttlStrategy;
  return j;
}

Result<AnalysisRunSpec> runSpecFromJson(const json& spec) {
  return readWithoutSource<AnalysisRunSpec>(spec, "spec", true,
                                            [](ObjectReader& o, AnalysisRunSpec& s) { readRunSpec(o, s); });
}

json runStatusToJson(const AnalysisRunStatus& s) {
  json j = json::object();
  putPhase(j, s.phase);
  putString(j, "message", s.message);
  putTime(j, "startedAt", s.startedAt);
  putTime(j, "completedAt", s.completedAt);
  json summary = summaryToJson(s.runSummary);
  if (!summary.empty()) j["runSummary"] = summary;
  if (s.dryRunSummary) j["dryRunSummary"] = summaryToJson(*s.dryRunSummary);
  if (!s.metricResults.empty()) {
    json list = json::array();
    for (const auto& m : s.metricResults) list.push_back(metricResultToJson(m));
    j["metricResults"] = list;
  }
  return j;
}

Result<AnalysisRunStatus> runStatusFromJson(const json& status) {
  return readWithoutSource<AnalysisRunStatus>(
      status, "status", false, [](ObjectReader& o, AnalysisRunStatus& s) { readRunStatus(o, s); });
}

std::optional<AnalysisTemplate> parseAnalysisTemplate(const json& object, const SourceMap& source,
                                                      Diagnostics& diags) {
  AnalysisTemplate t;
  t.kind.clear();
  bool ok = readInOrder(source, diags, [&](Reporter& r, Diagnostics& local) {
    readEnvelope(
        r, object, t.apiVersion, t.kind, {engine::kApiVersion, engine::kArgoApiVersion},
        {kAnalysisTemplateKind, kClusterAnalysisTemplateKind}, t.metadata,
        [&](ObjectReader& o) { readTemplateSpec(o, t.spec); },
        [](ObjectReader&) {});  // templates have no status: a stray one is an unknown field
    if (!local.hasErrors()) {
      validateTemplateSpec(t.spec, source, local);
      validateConditionsAndArgs(t.spec.metrics, t.spec.args, t.spec.templates.empty(), source, local);
    }
  });
  if (!ok) return std::nullopt;
  return t;
}

std::optional<AnalysisRun> parseAnalysisRun(const json& object, const SourceMap& source, Diagnostics& diags) {
  AnalysisRun run;
  std::string kind;
  bool ok = readInOrder(source, diags, [&](Reporter& r, Diagnostics& local) {
    readEnvelope(
        r, object, run.apiVersion, kind, {engine::kApiVersion, engine::kArgoApiVersion}, {kAnalysisRunKind},
        run.metadata, [&](ObjectReader& o) { readRunSpec(o, run.spec); },
        [&](ObjectReader& o) {
          if (const json* st = o.get("status"))
            readStatusObject(r, *st, "status", [&](ObjectReader& so) { readRunStatus(so, run.status); });
        });
    if (!local.hasErrors()) {
      validateRunSpec(run.spec, source, local);
      validateConditionsAndArgs(run.spec.metrics, run.spec.args, true, source, local);
    }
  });
  if (!ok) return std::nullopt;
  return run;
}

}  // namespace sluice::analysis
