// Rollout JSON <-> typed model. Reading collects every problem (wrong types, bad values, unknown fields)
// with its field path instead of stopping at the first, because a person fixing a manifest wants them all.
#include "engine/rollout_json.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <iterator>
#include <set>
#include <string_view>
#include <vector>

#include "base/input_limits.h"
#include "base/json_fields.h"
#include "engine/canary.h"
#include "engine/validate.h"

namespace sluice::engine {

namespace {

using nlohmann::json;
using namespace sluice::json_fields;

// An int, "N%", or a bare numeric string "N" which, as in Argo Rollouts, also means a percentage.
std::optional<IntOrPercent> readIntOrPercent(Reporter& r, const json& v, const std::string& path) {
  if (v.is_number()) {
    auto n = readNonNegative(r, v, path);
    if (!n) return std::nullopt;
    if (*n > INT_MAX) {
      r.error(path, "is out of range: " + std::to_string(*n));
      return std::nullopt;
    }
    return IntOrPercent{static_cast<int>(*n), false};
  }
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (!s.empty() && s.back() == '%') s.pop_back();
    bool digits = !s.empty() && s.size() <= 9;
    for (char c : s) digits = digits && c >= '0' && c <= '9';
    if (digits) return IntOrPercent{std::stoi(s), true};
  }
  r.wrongType(path, "an integer or a percentage like \"25%\"", v);
  return std::nullopt;
}

}  // namespace

// ---- metadata ------------------------------------------------------------------------------------

namespace {

// ---- analysis ------------------------------------------------------------------------------------

void readAnalysis(ObjectReader& o, RolloutAnalysis& a) {
  Reporter& r = o.reporter();
  if (const json* v = o.get("templates")) {
    forEachObject(r, *v, o.path("templates"), [&](ObjectReader& t) {
      AnalysisTemplateRef ref;
      t.read("templateName", ref.templateName, readString);
      t.read("clusterScope", ref.clusterScope, readBool);
      t.warnUnknown();
      a.templates.push_back(ref);
    });
  }
  if (const json* v = o.get("args")) readAnalysisArgs(r, *v, o.path("args"), a.args);
  readAnalysisRunOptions(o, a);
}

}  // namespace

void readAnalysisArgs(Reporter& r, const json& list, const std::string& path, std::vector<AnalysisArg>& out) {
  forEachObject(r, list, path, [&](ObjectReader& item) {
    AnalysisArg arg;
    item.readRequired("name", arg.name);
    item.read("value", arg.value, readString);
    if (const json* from = item.get("valueFrom")) {
      readObject(r, *from, item.path("valueFrom"), [&](ObjectReader& f) {
        f.read("podTemplateHashValue", arg.podTemplateHashValue, readString);
        if (arg.podTemplateHashValue && *arg.podTemplateHashValue != "Stable" &&
            *arg.podTemplateHashValue != "Latest") {
          r.error(f.path("podTemplateHashValue"),
                  "must be \"Stable\" or \"Latest\", got \"" + *arg.podTemplateHashValue + "\"");
        }
        if (const json* ref = f.get("fieldRef")) {
          readObject(r, *ref, f.path("fieldRef"), [&](ObjectReader& fr) {
            std::string fieldPath;
            fr.readRequired("fieldPath", fieldPath);
            arg.fieldRef = fieldPath;
          });
        }
        if (arg.podTemplateHashValue && arg.fieldRef) {
          r.error(f.path(), "must set only one of podTemplateHashValue or fieldRef");
        } else if (!arg.podTemplateHashValue && !arg.fieldRef) {
          r.error(f.path(), "must set one of podTemplateHashValue or fieldRef");
        }
      });
      if (arg.value) r.error(item.path("valueFrom"), "cannot be combined with value");
    }
    item.warnUnknown();
    out.push_back(arg);
  });
}

void readExperimentService(ObjectReader& o, ExperimentService& service) {
  o.read("name", service.name, readString);
  o.read("ports", service.ports, readRawList);
  for (size_t i = 0; service.ports.is_array() && i < service.ports.size(); ++i) {
    const json& port = service.ports[i];
    if (!port.is_object() || !port.contains("port"))
      o.reporter().error(indexPath(o.path("ports"), i) + ".port", "is required");
  }
}

void readAnalysisRunOptions(ObjectReader& o, RolloutAnalysis& a) {
  Reporter& r = o.reporter();
  if (const json* v = o.get("dryRun")) {
    forEachObject(r, *v, o.path("dryRun"), [&](ObjectReader& item) {
      std::string name;
      item.readRequired("metricName", name);
      item.warnUnknown();
      a.dryRun.push_back(name);
    });
  }
  if (const json* v = o.get("measurementRetention")) {
    forEachObject(r, *v, o.path("measurementRetention"), [&](ObjectReader& item) {
      MeasurementRetention m;
      item.readRequired("metricName", m.metricName);
      item.read("limit", m.limit, readInt);
      if (m.limit < 0) r.error(item.path("limit"), "must not be negative, got " + std::to_string(m.limit));
      item.warnUnknown();
      a.measurementRetention.push_back(m);
    });
  }
  if (const json* v = o.get("analysisRunMetadata")) {
    readObject(r, *v, o.path("analysisRunMetadata"), [&](ObjectReader& m) {
      m.read("labels", a.runLabels, readStringMap);
      m.read("annotations", a.runAnnotations, readStringMap);
    });
  }
}

namespace {

// ---- steps ---------------------------------------------------------------------------------------

constexpr const char* kStepKinds =
    "setWeight, pause, analysis, setCanaryScale, setHeaderRoute, setMirrorRoute, experiment (plugin is not "
    "supported)";

std::optional<ExperimentStep> readExperimentStep(Reporter& r, const json& v, const std::string& path) {
  ExperimentStep step;
  const bool ok = readObject(r, v, path, [&](ObjectReader& o) {
    o.read("duration", step.duration, readDuration);
    if (const json* list = o.get("templates")) {
      forEachObject(r, *list, o.path("templates"), [&](ObjectReader& t) {
        ExperimentStepTemplate tmpl;
        t.readRequired("name", tmpl.name);
        t.readRequired("specRef", tmpl.specRef);
        if (!tmpl.specRef.empty() && tmpl.specRef != "stable" && tmpl.specRef != "canary")
          r.error(t.path("specRef"), "must be \"stable\" or \"canary\", got \"" + tmpl.specRef + "\"");
        t.read("replicas", tmpl.replicas, readInt);
        if (tmpl.replicas && *tmpl.replicas < 0)
          r.error(t.path("replicas"), "must not be negative, got " + std::to_string(*tmpl.replicas));
        t.read("weight", tmpl.weight, readInt);
        if (const json* m = t.get("metadata")) {
          readObject(r, *m, t.path("metadata"), [&](ObjectReader& mo) {
            mo.read("labels", tmpl.metadata.labels, readStringMap);
            mo.read("annotations", tmpl.metadata.annotations, readStringMap);
          });
        }
        t.read("selector", tmpl.selector, readRawObject);
        if (const json* sv = t.get("service")) {
          readObject(r, *sv, t.path("service"), [&](ObjectReader& so) {
            ExperimentService service;
            readExperimentService(so, service);
            tmpl.service = service;
          });
        }
        t.warnUnknown();
        step.templates.push_back(std::move(tmpl));
      });
    } else {
      r.error(o.path("templates"), "is required");
    }
    if (const json* list = o.get("analyses")) {
      forEachObject(r, *list, o.path("analyses"), [&](ObjectReader& a) {
        ExperimentStepAnalysis analysis;
        a.readRequired("name", analysis.name);
        a.readRequired("templateName", analysis.templateName);
        a.read("clusterScope", analysis.clusterScope, readBool);
        a.read("requiredForCompletion", analysis.requiredForCompletion, readBool);
        if (const json* args = a.get("args")) readAnalysisArgs(r, *args, a.path("args"), analysis.args);
        a.warnUnknown();
        step.analyses.push_back(std::move(analysis));
      });
    }
    RolloutAnalysis options;
    readAnalysisRunOptions(o, options);
    step.dryRun = std::move(options.dryRun);
    step.runLabels = std::move(options.runLabels);
    step.runAnnotations = std::move(options.runAnnotations);
    step.measurementRetention = std::move(options.measurementRetention);
  });
  if (!ok) return std::nullopt;
  return step;
}

std::optional<StepAction> readStepAction(Reporter& r, const std::string& kind, const json& v,
                                         const std::string& path) {
  if (kind == "setWeight") {
    auto w = readInt(r, v, path);
    if (!w) return std::nullopt;
    return SetWeightStep{*w};
  }
  if (kind == "pause") {
    PauseStep pause;
    // `pause:` with nothing after it reads as null: the same indefinite pause as `pause: {}`.
    if (v.is_null()) return pause;
    bool durationOk = true;
    if (!readObject(r, v, path, [&](ObjectReader& o) {
          if (const json* d = o.get("duration")) {
            pause.duration = readDuration(r, *d, o.path("duration"));
            durationOk = pause.duration.has_value();
          }
        })) {
      return std::nullopt;
    }
    if (!durationOk) return std::nullopt;
    return pause;
  }
  if (kind == "analysis") {
    AnalysisStep step;
    if (!readObject(r, v, path, [&](ObjectReader& o) { readAnalysis(o, step.analysis); }))
      return std::nullopt;
    return step;
  }
  if (kind == "setCanaryScale") {
    SetCanaryScaleStep step;
    if (!readObject(r, v, path, [&](ObjectReader& o) {
          o.read("replicas", step.replicas, readInt);
          o.read("weight", step.weight, readInt);
          o.read("matchTrafficWeight", step.matchTrafficWeight, readBool);
        })) {
      return std::nullopt;
    }
    return step;
  }
  if (kind == "setHeaderRoute") {
    SetHeaderRouteStep step;
    if (!readObject(r, v, path, [&](ObjectReader& o) {
          o.read("name", step.name, readString);
          if (const json* m = o.get("match")) {
            forEachObject(r, *m, o.path("match"), [&](ObjectReader& item) {
              HeaderMatch match;
              item.readRequired("headerName", match.headerName);
              if (!item.has("headerValue")) {
                r.error(item.path("headerValue"), "is required");
              } else if (const json* hv = item.get("headerValue")) {
                readObject(r, *hv, item.path("headerValue"), [&](ObjectReader& value) {
                  int set = 0;
                  for (const char* type : {"exact", "regex", "prefix"}) {
                    if (!value.has(type)) continue;
                    ++set;
                    match.matchType = type;
                    value.read(type, match.value, readString);
                  }
                  value.ignore({"exact", "regex", "prefix"});
                  if (set != 1) r.error(value.path(), "must set exactly one of exact, regex or prefix");
                });
              }
              item.warnUnknown();
              step.match.push_back(match);
            });
          }
        })) {
      return std::nullopt;
    }
    return step;
  }
  if (kind == "experiment") {
    auto step = readExperimentStep(r, v, path);
    if (!step) return std::nullopt;
    return std::move(*step);
  }
  if (kind == "setMirrorRoute") {
    SetMirrorRouteStep step;
    if (!readObject(r, v, path, [&](ObjectReader& o) {
          o.read("name", step.name, readString);
          o.read("percentage", step.percentage, readInt);
          o.read("match", step.match, readRawList);
        })) {
      return std::nullopt;
    }
    return step;
  }
  return std::nullopt;
}

std::optional<CanaryStep> readStep(Reporter& r, const json& v, const std::string& path) {
  static const std::set<std::string, std::less<>> kSupported = {
      "setWeight", "pause", "analysis", "setCanaryScale", "setHeaderRoute", "setMirrorRoute", "experiment"};
  if (!v.is_object()) {
    r.wrongType(path, "an object with one step kind", v);
    return std::nullopt;
  }
  // Asked for by name (null counts: `pause:` alone is a pause), so that a FieldObserver sees every kind.
  ObjectReader o(r, v, path);
  std::vector<std::string> kinds;
  for (const auto& kind : kSupported) {
    if (o.contains(kind)) kinds.push_back(kind);
  }
  bool ok = true;
  for (const auto& [key, value] : v.items()) {
    if (kSupported.count(key)) continue;
    ok = false;
    if (key == "plugin") {
      const std::string name = value.is_object() && value.contains("name") && value.at("name").is_string()
                                   ? "\"" + value.at("name").get<std::string>() + "\" "
                                   : std::string();
      r.error(
          childPath(path, key),
          "the step plugin " + name +
              "is a Go binary Argo Rollouts loads; Sluice loads no plugins: use an analysis step (a web or "
              "prometheus metric) for a check, or a pause and kubectl sluice promote for a gate");
    } else {
      r.error(childPath(path, key), "unknown step kind \"" + key + "\"; allowed: " + kStepKinds);
    }
  }
  if (!ok) return std::nullopt;
  if (kinds.empty()) {
    r.error(path, std::string("a step must set one of ") + kStepKinds);
    return std::nullopt;
  }
  // Argo Rollouts' rule: at most one of the actions that take the step's time; setCanaryScale,
  // setHeaderRoute and setMirrorRoute may stand beside it.
  static const std::vector<std::string> kExclusive = {"setWeight", "pause", "experiment", "analysis"};
  std::string exclusive;
  int exclusiveCount = 0;
  for (const auto& k : kinds) {
    if (std::find(kExclusive.begin(), kExclusive.end(), k) == kExclusive.end()) continue;
    exclusive += (exclusive.empty() ? "" : " and ") + k;
    ++exclusiveCount;
  }
  if (exclusiveCount > 1) {
    r.error(path,
            "a step must set at most one of setWeight, pause, experiment and analysis, got " + exclusive);
    return std::nullopt;
  }
  // setCanaryScale decides a step before an analysis or an experiment does (Argo's precedence): the run
  // would be left without effect, so the two are refused together rather than the run silently dropped.
  const bool scale = std::find(kinds.begin(), kinds.end(), "setCanaryScale") != kinds.end();
  for (const char* run : {"analysis", "experiment"}) {
    if (!scale || std::find(kinds.begin(), kinds.end(), run) == kinds.end()) continue;
    r.error(path, std::string("a step cannot set setCanaryScale beside ") + run +
                      ": setCanaryScale would decide " + "the step before the " + run +
                      " does; give them a step each");
    return std::nullopt;
  }
  // The action that decides when the step is done comes first, in Argo's precedence.
  static const std::vector<std::string> kPrecedence = {
      "pause", "setCanaryScale", "setWeight", "experiment", "analysis", "setHeaderRoute", "setMirrorRoute"};
  std::vector<StepAction> actions;
  for (const auto& kind : kPrecedence) {
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) continue;
    auto action = readStepAction(r, kind, v.at(kind), childPath(path, kind));
    if (!action) return std::nullopt;
    actions.push_back(std::move(*action));
  }
  CanaryStep step{std::move(actions.front()), {}};
  step.alongside.assign(std::make_move_iterator(actions.begin() + 1), std::make_move_iterator(actions.end()));
  return step;
}

// ---- traffic routing -----------------------------------------------------------------------------

IstioVirtualService readVirtualService(ObjectReader& o) {
  IstioVirtualService vs;
  o.read("name", vs.name, readString);
  o.read("routes", vs.routes, readStringList);
  o.read("tlsRoutes", vs.tlsRoutes, readRawList);
  o.read("tcpRoutes", vs.tcpRoutes, readRawList);
  o.warnUnknown();
  return vs;
}

void readNginx(ObjectReader& o, NginxTrafficRouting& nginx) {
  std::string single;
  o.read("stableIngress", single, readString);
  o.read("stableIngresses", nginx.stableIngresses, readStringList);
  if (o.has("stableIngress") && o.has("stableIngresses")) {
    o.reporter().error(o.path("stableIngresses"), "cannot be combined with stableIngress; set one of them");
  } else if (!single.empty()) {
    nginx.stableIngresses = {single};
  }
  o.read("annotationPrefix", nginx.annotationPrefix, readString);
  o.read("additionalIngressAnnotations", nginx.additionalIngressAnnotations, readStringMap);
  o.read("canaryIngressAnnotations", nginx.canaryIngressAnnotations, readStringMap);
}

void readIstio(ObjectReader& o, IstioTrafficRouting& istio) {
  Reporter& r = o.reporter();
  if (const json* vs = o.get("virtualService")) {
    readObject(r, *vs, o.path("virtualService"),
               [&](ObjectReader& item) { istio.virtualServices.push_back(readVirtualService(item)); });
  }
  if (const json* list = o.get("virtualServices")) {
    if (o.has("virtualService")) {
      r.error(o.path("virtualServices"), "cannot be combined with virtualService; set one of them");
    } else {
      forEachObject(r, *list, o.path("virtualServices"),
                    [&](ObjectReader& item) { istio.virtualServices.push_back(readVirtualService(item)); });
    }
  }
  if (const json* dr = o.get("destinationRule")) {
    IstioDestinationRule rule;
    if (readObject(r, *dr, o.path("destinationRule"), [&](ObjectReader& d) {
          d.readRequired("name", rule.name);
          d.readRequired("canarySubsetName", rule.canarySubsetName);
          d.readRequired("stableSubsetName", rule.stableSubsetName);
          d.read("additionalSubsetNames", rule.additionalSubsetNames, readStringList);
        })) {
      istio.destinationRule = rule;
    }
  }
}

void readAlb(ObjectReader& o, AlbTrafficRouting& alb) {
  Reporter& r = o.reporter();
  std::string single;
  o.read("ingress", single, readString);
  o.read("ingresses", alb.ingresses, readStringList);
  if (o.has("ingress") && o.has("ingresses")) {
    r.error(o.path("ingresses"), "cannot be combined with ingress; set one of them");
  } else if (!single.empty()) {
    alb.ingresses = {single};
  }
  if (!o.has("servicePort")) r.error(o.path("servicePort"), "is required");
  o.read("servicePort", alb.servicePort, readInt);
  o.read("rootService", alb.rootService, readString);
  o.read("annotationPrefix", alb.annotationPrefix, readString);
  if (alb.annotationPrefix.empty()) alb.annotationPrefix = AlbTrafficRouting().annotationPrefix;
  if (const json* sc = o.get("stickinessConfig")) {
    AlbStickiness sticky;
    if (readObject(r, *sc, o.path("stickinessConfig"), [&](ObjectReader& so) {
          so.read("enabled", sticky.enabled, readBool);
          so.read("durationSeconds", sticky.durationSeconds, readInt64);
        })) {
      alb.stickinessConfig = sticky;
    }
  }
}

void readAppMesh(ObjectReader& o, AppMeshTrafficRouting& mesh) {
  Reporter& r = o.reporter();
  if (const json* vs = o.get("virtualService")) {
    readObject(r, *vs, o.path("virtualService"), [&](ObjectReader& vo) {
      vo.readRequired("name", mesh.virtualService);
      vo.read("routes", mesh.routes, readStringList);
    });
  } else {
    r.error(o.path("virtualService"), "is required");
  }
  if (const json* group = o.get("virtualNodeGroup")) {
    readObject(r, *group, o.path("virtualNodeGroup"), [&](ObjectReader& go) {
      for (auto [field, target] : {std::pair{"canaryVirtualNodeRef", &mesh.canaryVirtualNode},
                                   std::pair{"stableVirtualNodeRef", &mesh.stableVirtualNode}}) {
        if (const json* ref = go.get(field)) {
          auto* out = target;
          readObject(r, *ref, go.path(field), [&](ObjectReader& ro) { ro.readRequired("name", *out); });
        } else {
          r.error(go.path(field), "is required");
        }
      }
    });
  } else {
    r.error(o.path("virtualNodeGroup"), "is required");
  }
}

std::optional<TrafficRouting> readTrafficRouting(Reporter& r, const json& v, const std::string& path) {
  TrafficRouting tr;
  const bool isObject = readObject(r, v, path, [&](ObjectReader& o) {
    if (const json* n = o.get("nginx")) {
      NginxTrafficRouting nginx;
      if (readObject(r, *n, o.path("nginx"), [&](ObjectReader& no) { readNginx(no, nginx); }))
        tr.nginx = nginx;
    }
    if (const json* i = o.get("istio")) {
      IstioTrafficRouting istio;
      if (readObject(r, *i, o.path("istio"), [&](ObjectReader& io) { readIstio(io, istio); }))
        tr.istio = istio;
    }
    if (const json* s = o.get("smi")) {
      SmiTrafficRouting smi;
      if (readObject(r, *s, o.path("smi"), [&](ObjectReader& so) {
            so.read("rootService", smi.rootService, readString);
            so.read("trafficSplitName", smi.trafficSplitName, readString);
          })) {
        tr.smi = smi;
      }
    }
    if (const json* t = o.get("traefik")) {
      TraefikTrafficRouting traefik;
      if (readObject(r, *t, o.path("traefik"), [&](ObjectReader& to) {
            to.readRequired("weightedTraefikServiceName", traefik.weightedTraefikServiceName);
          })) {
        tr.traefik = traefik;
      }
    }
    if (const json* a = o.get("ambassador")) {
      AmbassadorTrafficRouting ambassador;
      if (readObject(r, *a, o.path("ambassador"),
                     [&](ObjectReader& ao) { ao.read("mappings", ambassador.mappings, readStringList); })) {
        tr.ambassador = ambassador;
      }
    }
    if (const json* a = o.get("apisix")) {
      ApisixTrafficRouting apisix;
      if (readObject(r, *a, o.path("apisix"), [&](ObjectReader& ao) {
            if (const json* route = ao.get("route")) {
              readObject(r, *route, ao.path("route"), [&](ObjectReader& ro) {
                ro.readRequired("name", apisix.routeName);
                ro.read("rules", apisix.rules, readStringList);
              });
            } else {
              r.error(ao.path("route"), "is required");
            }
          })) {
        tr.apisix = apisix;
      }
    }
    if (const json* m = o.get("appMesh")) {
      AppMeshTrafficRouting mesh;
      if (readObject(r, *m, o.path("appMesh"), [&](ObjectReader& mo) { readAppMesh(mo, mesh); }))
        tr.appMesh = mesh;
    }
    if (const json* a = o.get("alb")) {
      AlbTrafficRouting alb;
      if (readObject(r, *a, o.path("alb"), [&](ObjectReader& ao) { readAlb(ao, alb); })) tr.alb = alb;
    }
    if (const json* p = o.get("plugins")) {
      if (!p->is_object()) {
        r.wrongType(o.path("plugins"), "a map of plugin name to configuration", *p);
      } else {
        for (const auto& [name, config] : p->items()) tr.plugins[name] = config;
      }
    }
    if (const json* m = o.get("managedRoutes")) {
      forEachObject(r, *m, o.path("managedRoutes"), [&](ObjectReader& item) {
        std::string name;
        item.readRequired("name", name);
        item.warnUnknown();
        tr.managedRoutes.push_back(name);
      });
    }
    o.read("maxTrafficWeight", tr.maxTrafficWeight, readInt);
  });
  if (!isObject) return std::nullopt;
  return tr;
}

// ---- strategy and spec ---------------------------------------------------------------------------

void readPodMetadata(ObjectReader& o, std::optional<PodMetadata>& out) {
  PodMetadata m;
  o.read("labels", m.labels, readStringMap);
  o.read("annotations", m.annotations, readStringMap);
  out = std::move(m);
}

// A strategy's ephemeral metadata fields (canaryMetadata and stableMetadata, or previewMetadata and
// activeMetadata).
void readPodMetadataFields(
    ObjectReader& o, std::initializer_list<std::pair<const char*, std::optional<PodMetadata>*>> fields) {
  for (const auto& [field, target] : fields) {
    if (const json* m = o.get(field)) {
      auto* out = target;  // a structured binding cannot be captured by a lambda everywhere
      readObject(o.reporter(), *m, o.path(field), [&](ObjectReader& mo) { readPodMetadata(mo, *out); });
    }
  }
}

// antiAffinity: exactly one of preferredDuringSchedulingIgnoredDuringExecution {weight: 1..100} or
// requiredDuringSchedulingIgnoredDuringExecution {}.
void readAntiAffinity(ObjectReader& o, std::optional<AntiAffinity>& out) {
  Reporter& r = o.reporter();
  constexpr const char* kPreferred = "preferredDuringSchedulingIgnoredDuringExecution";
  constexpr const char* kRequired = "requiredDuringSchedulingIgnoredDuringExecution";
  AntiAffinity affinity;
  if (const json* p = o.get(kPreferred)) {
    readObject(r, *p, o.path(kPreferred), [&](ObjectReader& po) {
      if (!po.has("weight")) r.error(po.path("weight"), "is required");
      po.read("weight", affinity.preferredWeight, readInt);
      if (affinity.preferredWeight && (*affinity.preferredWeight < 1 || *affinity.preferredWeight > 100)) {
        r.error(po.path("weight"),
                "must be between 1 and 100, got " + std::to_string(*affinity.preferredWeight));
      }
    });
  }
  if (const json* q = o.get(kRequired))
    affinity.required = readObject(r, *q, o.path(kRequired), [](ObjectReader&) {});
  if (o.has(kPreferred) == o.has(kRequired)) {
    r.error(o.path(), std::string("must set exactly one of ") + kPreferred + " or " + kRequired);
    return;
  }
  out = affinity;
}

// replicaProgressThreshold: {type: Percent | Pods, value}, value at least 1 (and at most 100 for Percent).
void readReplicaProgressThreshold(ObjectReader& o, std::optional<ReplicaProgressThreshold>& out) {
  Reporter& r = o.reporter();
  ReplicaProgressThreshold threshold;
  std::string type;
  o.read("type", type, readString);
  bool ok = true;
  if (type == "Pods") {
    threshold.type = ReplicaProgressThreshold::Type::Pods;
  } else if (type != "Percent") {
    r.error(o.path("type"), type.empty() ? std::string("is required: Percent or Pods")
                                         : "must be Percent or Pods, got \"" + type + "\"");
    ok = false;
  }
  std::optional<int> value;
  o.read("value", value, readInt);
  if (!value) {
    if (!o.has("value")) r.error(o.path("value"), "is required");
    return;
  }
  const int max = threshold.type == ReplicaProgressThreshold::Type::Percent ? 100 : INT_MAX;
  if (*value < 1 || *value > max) {
    r.error(o.path("value"), (max == 100 ? "must be between 1 and 100, got " : "must be at least 1, got ") +
                                 std::to_string(*value));
    return;
  }
  threshold.value = *value;
  if (ok) out = threshold;
}

void readCanary(ObjectReader& o, CanaryStrategy& c) {
  Reporter& r = o.reporter();
  if (const json* steps = o.get("steps")) {
    if (!steps->is_array()) {
      r.wrongType(o.path("steps"), "a list", *steps);
    } else if (withinLimit(r, *steps, o.path("steps"), limits::kMaxSteps, "steps")) {
      for (size_t i = 0; i < steps->size(); ++i) {
        if (auto step = readStep(r, (*steps)[i], indexPath(o.path("steps"), i)))
          c.steps.push_back(std::move(*step));
      }
    }
  }
  o.read("canaryService", c.canaryService, readString);
  o.read("stableService", c.stableService, readString);
  o.read("trafficRouting", c.trafficRouting, readTrafficRouting);
  if (const json* a = o.get("analysis")) {
    BackgroundAnalysis analysis;
    if (readObject(r, *a, o.path("analysis"), [&](ObjectReader& ao) {
          readAnalysis(ao, analysis);
          ao.read("startingStep", analysis.startingStep, readInt);
        })) {
      c.analysis = analysis;
    }
  }
  o.read("maxSurge", c.maxSurge, readIntOrPercent);
  o.read("maxUnavailable", c.maxUnavailable, readIntOrPercent);
  o.read("dynamicStableScale", c.dynamicStableScale, readBool);
  o.read("abortScaleDownDelaySeconds", c.abortScaleDownDelaySeconds, readInt);
  o.read("scaleDownDelayRevisionLimit", c.scaleDownDelayRevisionLimit, readInt);
  o.read("scaleDownDelaySeconds", c.scaleDownDelaySeconds, readInt);
  o.read("minPodsPerReplicaSet", c.minPodsPerReplicaSet, readInt);
  if (const json* t = o.get("replicaProgressThreshold")) {
    readObject(r, *t, o.path("replicaProgressThreshold"),
               [&](ObjectReader& to) { readReplicaProgressThreshold(to, c.replicaProgressThreshold); });
  }
  if (const json* pp = o.get("pingPong")) {
    PingPongServices pingPong;
    if (readObject(r, *pp, o.path("pingPong"), [&](ObjectReader& po) {
          po.readRequired("pingService", pingPong.pingService);
          po.readRequired("pongService", pingPong.pongService);
        })) {
      c.pingPong = pingPong;
    }
  }
  readPodMetadataFields(o, {{"canaryMetadata", &c.canaryMetadata}, {"stableMetadata", &c.stableMetadata}});
  if (const json* a = o.get("antiAffinity"))
    readObject(o.reporter(), *a, o.path("antiAffinity"),
               [&](ObjectReader& ao) { readAntiAffinity(ao, c.antiAffinity); });
}

void readBlueGreen(ObjectReader& o, BlueGreenStrategy& b) {
  Reporter& r = o.reporter();
  o.read("activeService", b.activeService, readString);
  o.read("previewService", b.previewService, readString);
  o.read("previewReplicaCount", b.previewReplicaCount, readInt);
  o.read("autoPromotionEnabled", b.autoPromotionEnabled, readBool);
  o.read("autoPromotionSeconds", b.autoPromotionSeconds, readInt);
  for (auto [field, target] : {std::pair{"prePromotionAnalysis", &b.prePromotionAnalysis},
                               std::pair{"postPromotionAnalysis", &b.postPromotionAnalysis}}) {
    const json* a = o.get(field);
    if (!a) continue;
    RolloutAnalysis analysis;
    if (readObject(r, *a, o.path(field), [&](ObjectReader& ao) { readAnalysis(ao, analysis); }))
      *target = std::move(analysis);
  }
  o.read("scaleDownDelaySeconds", b.scaleDownDelaySeconds, readInt);
  o.read("scaleDownDelayRevisionLimit", b.scaleDownDelayRevisionLimit, readInt);
  o.read("abortScaleDownDelaySeconds", b.abortScaleDownDelaySeconds, readInt);
  readPodMetadataFields(o, {{"activeMetadata", &b.activeMetadata}, {"previewMetadata", &b.previewMetadata}});
  if (const json* a = o.get("antiAffinity"))
    readObject(r, *a, o.path("antiAffinity"),
               [&](ObjectReader& ao) { readAntiAffinity(ao, b.antiAffinity); });
  o.read("maxUnavailable", b.maxUnavailable, readIntOrPercent);
}

void readStrategy(ObjectReader& o, RolloutSpec& spec) {
  Reporter& r = o.reporter();
  const bool canary = o.has("canary");
  const bool blueGreen = o.has("blueGreen");
  if (canary && blueGreen) {
    r.error(o.path(), "must set only one of canary or blueGreen");
  } else if (!canary && !blueGreen) {
    r.error(o.path(), "must set one of canary or blueGreen");
  }
  if (const json* c = o.get("canary")) {
    readObject(r, *c, o.path("canary"), [&](ObjectReader& co) { readCanary(co, spec.canary); });
  }
  if (const json* b = o.get("blueGreen")) {
    BlueGreenStrategy strategy;
    if (readObject(r, *b, o.path("blueGreen"), [&](ObjectReader& bo) { readBlueGreen(bo, strategy); }))
      spec.blueGreen = std::move(strategy);
  }
}

void readWorkloadRef(ObjectReader& o, RolloutSpec& spec) {
  Reporter& r = o.reporter();
  WorkloadRef ref;
  o.readRequired("apiVersion", ref.apiVersion);
  o.readRequired("kind", ref.kind);
  o.readRequired("name", ref.name);
  // Argo supports Deployment, ReplicaSet and PodTemplate; a Deployment is the migration path its
  // documentation describes, and the only kind whose scaleDown means anything.
  if (!ref.kind.empty() && !(ref.kind == "Deployment" && ref.apiVersion == "apps/v1")) {
    r.error(o.path(ref.kind == "Deployment" ? "apiVersion" : "kind"),
            "sluice supports workloadRef to an apps/v1 Deployment only, got " + ref.apiVersion + " " +
                ref.kind + "; put the pod template in spec.template instead");
  }
  std::string scaleDown;
  o.read("scaleDown", scaleDown, readString);
  if (scaleDown == "onsuccess") {
    ref.scaleDown = WorkloadScaleDown::OnSuccess;
  } else if (scaleDown == "progressively") {
    ref.scaleDown = WorkloadScaleDown::Progressively;
  } else if (!scaleDown.empty() && scaleDown != "never") {
    r.error(o.path("scaleDown"), "must be never, onsuccess or progressively, got \"" + scaleDown + "\"");
  }
  spec.workloadRef = std::move(ref);
}

void readSpec(ObjectReader& o, RolloutSpec& spec) {
  Reporter& r = o.reporter();
  o.read("replicas", spec.replicas, readInt);
  o.read("selector", spec.selector, readRawObject);
  o.read("template", spec.podTemplate, readRawObject);
  o.read("minReadySeconds", spec.minReadySeconds, readInt);
  o.read("revisionHistoryLimit", spec.revisionHistoryLimit, readInt);
  o.read("paused", spec.paused, readBool);
  o.read("progressDeadlineSeconds", spec.progressDeadlineSeconds, readInt);
  o.read("progressDeadlineAbort", spec.progressDeadlineAbort, readBool);
  o.read("restartAt", spec.restartAt, readTime);
  if (const json* w = o.get("rollbackWindow")) {
    readObject(r, *w, o.path("rollbackWindow"),
               [&](ObjectReader& wo) { wo.read("revisions", spec.rollbackWindowRevisions, readInt); });
  }
  if (const json* w = o.get("workloadRef")) {
    readObject(r, *w, o.path("workloadRef"), [&](ObjectReader& wo) { readWorkloadRef(wo, spec); });
  }
  if (const json* a = o.get("analysis")) {
    readObject(r, *a, o.path("analysis"), [&](ObjectReader& ao) {
      ao.read("successfulRunHistoryLimit", spec.successfulRunHistoryLimit, readInt);
      ao.read("unsuccessfulRunHistoryLimit", spec.unsuccessfulRunHistoryLimit, readInt);
    });
  }
  if (const json* s = o.get("strategy")) {
    readObject(r, *s, o.path("strategy"), [&](ObjectReader& so) { readStrategy(so, spec); });
  } else {
    r.error(o.path("strategy"), "is required");
  }
}

// ---- status --------------------------------------------------------------------------------------

std::optional<std::string> readGenerationString(Reporter& r, const json& v, const std::string& path) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  r.wrongType(path, "a string", v);
  return std::nullopt;
}

std::optional<AnalysisRunStatusRef> readRunStatusRef(Reporter& r, const json& v, const std::string& path) {
  AnalysisRunStatusRef ref;
  bool isObject = false;
  readStatusObject(r, v, path, [&](ObjectReader& o) {
    isObject = true;
    o.read("name", ref.name, readString);
    o.read("status", ref.status, readString);
    o.read("message", ref.message, readString);
  });
  if (!isObject) return std::nullopt;
  return ref;
}

void readWeightFields(ObjectReader& o, WeightDestination& d) {
  o.read("weight", d.weight, readInt);
  o.read("serviceName", d.serviceName, readString);
  o.read("podTemplateHash", d.podTemplateHash, readString);
}

std::optional<WeightDestination> readWeightDestination(Reporter& r, const json& v, const std::string& path) {
  WeightDestination d;
  bool isObject = false;
  readStatusObject(r, v, path, [&](ObjectReader& o) {
    isObject = true;
    readWeightFields(o, d);
  });
  if (!isObject) return std::nullopt;
  return d;
}

void readCanaryStatus(ObjectReader& o, CanaryStatus& c) {
  o.read("currentStepAnalysisRunStatus", c.currentStepAnalysisRunStatus, readRunStatusRef);
  o.read("currentBackgroundAnalysisRunStatus", c.currentBackgroundAnalysisRunStatus, readRunStatusRef);
  o.read("currentExperiment", c.currentExperiment, readString);
  if (const json* w = o.get("weights")) {
    TrafficWeights weights;
    bool isObject = false;
    readStatusObject(o.reporter(), *w, o.path("weights"), [&](ObjectReader& wo) {
      isObject = true;
      wo.read("canary", weights.canary, readWeightDestination);
      wo.read("stable", weights.stable, readWeightDestination);
      if (const json* additional = wo.get("additional")) {
        forEachObject(wo.reporter(), *additional, wo.path("additional"), [&](ObjectReader& item) {
          weights.additional.emplace_back();
          readWeightFields(item, weights.additional.back());
        });
      }
      wo.read("verified", weights.verified, readBool);
    });
    if (isObject) c.weights = weights;
  }
  o.read("stablePingPong", c.stablePingPong, readString);
}

void readBlueGreenStatus(ObjectReader& o, BlueGreenStatus& b) {
  o.read("activeSelector", b.activeSelector, readString);
  o.read("previewSelector", b.previewSelector, readString);
  o.read("scaleUpPreviewCheckPoint", b.scaleUpPreviewCheckPoint, readBool);
  o.read("prePromotionAnalysisRunStatus", b.prePromotionAnalysisRunStatus, readRunStatusRef);
  o.read("postPromotionAnalysisRunStatus", b.postPromotionAnalysisRunStatus, readRunStatusRef);
}

void readStatus(ObjectReader& o, RolloutStatus& s) {
  Reporter& r = o.reporter();
  o.read("abort", s.abort, readBool);
  o.read("abortedAt", s.abortedAt, readTime);
  if (const json* p = o.get("pauseConditions")) {
    forEachObject(r, *p, o.path("pauseConditions"), [&](ObjectReader& item) {
      PauseCondition c;
      item.read("reason", c.reason, readString);
      item.read("startTime", c.startTime, readTime);
      s.pauseConditions.push_back(c);
    });
  }
  o.read("controllerPause", s.controllerPause, readBool);
  o.read("currentPodHash", s.currentPodHash, readString);
  o.read("currentStepHash", s.currentStepHash, readString);
  o.read("currentStepIndex", s.currentStepIndex, readInt);
  o.read("replicas", s.replicas, readInt);
  o.read("updatedReplicas", s.updatedReplicas, readInt);
  o.read("readyReplicas", s.readyReplicas, readInt);
  o.read("availableReplicas", s.availableReplicas, readInt);
  o.read("selector", s.selector, readString);
  o.read("collisionCount", s.collisionCount, readInt64);
  o.read("observedGeneration", s.observedGeneration, readGenerationString);
  o.read("workloadObservedGeneration", s.workloadObservedGeneration, readGenerationString);
  if (const json* c = o.get("conditions")) readConditions(r, *c, o.path("conditions"), s.conditions);
  o.read("stableRS", s.stableRS, readString);
  o.read("restartedAt", s.restartedAt, readTime);
  o.read("promoteFull", s.promoteFull, readBool);
  o.read("phase", s.phase, readString);
  o.read("message", s.message, readString);
  if (const json* c = o.get("canary")) {
    readStatusObject(r, *c, o.path("canary"), [&](ObjectReader& co) { readCanaryStatus(co, s.canary); });
  }
  if (const json* b = o.get("blueGreen")) {
    readStatusObject(r, *b, o.path("blueGreen"),
                     [&](ObjectReader& bo) { readBlueGreenStatus(bo, s.blueGreen); });
  }
}

// ---- writing status ------------------------------------------------------------------------------

json runStatusRefToJson(const AnalysisRunStatusRef& ref) {
  json j = json::object();
  putString(j, "name", ref.name);
  putString(j, "status", ref.status);
  putString(j, "message", ref.message);
  return j;
}

json weightDestinationToJson(const WeightDestination& d) {
  json j = json::object();
  putInt(j, "weight", d.weight);
  putString(j, "serviceName", d.serviceName);
  putString(j, "podTemplateHash", d.podTemplateHash);
  return j;
}

json canaryStatusToJson(const CanaryStatus& c) {
  json j = json::object();
  if (c.currentStepAnalysisRunStatus)
    j["currentStepAnalysisRunStatus"] = runStatusRefToJson(*c.currentStepAnalysisRunStatus);
  if (c.currentBackgroundAnalysisRunStatus) {
    j["currentBackgroundAnalysisRunStatus"] = runStatusRefToJson(*c.currentBackgroundAnalysisRunStatus);
  }
  if (c.weights) {
    json w = json::object();
    w["canary"] = weightDestinationToJson(c.weights->canary);
    w["stable"] = weightDestinationToJson(c.weights->stable);
    if (!c.weights->additional.empty()) {
      json& additional = w["additional"] = json::array();
      for (const auto& d : c.weights->additional) additional.push_back(weightDestinationToJson(d));
    }
    // Argo writes `verified` only when a router checks weights; absent means verified.
    if (!c.weights->verified) w["verified"] = false;
    j["weights"] = std::move(w);
  }
  putString(j, "stablePingPong", c.stablePingPong);
  putString(j, "currentExperiment", c.currentExperiment);
  return j;
}

json blueGreenStatusToJson(const BlueGreenStatus& b) {
  json j = json::object();
  putString(j, "activeSelector", b.activeSelector);
  putString(j, "previewSelector", b.previewSelector);
  putBool(j, "scaleUpPreviewCheckPoint", b.scaleUpPreviewCheckPoint);
  if (b.prePromotionAnalysisRunStatus)
    j["prePromotionAnalysisRunStatus"] = runStatusRefToJson(*b.prePromotionAnalysisRunStatus);
  if (b.postPromotionAnalysisRunStatus)
    j["postPromotionAnalysisRunStatus"] = runStatusRefToJson(*b.postPromotionAnalysisRunStatus);
  return j;
}

}  // namespace

void readConditions(Reporter& r, const nlohmann::json& list, const std::string& path,
                    std::vector<Condition>& out) {
  forEachObject(r, list, path, [&](ObjectReader& item) {
    Condition cond;
    item.read("type", cond.type, readString);
    item.read("status", cond.status, readString);
    item.read("reason", cond.reason, readString);
    item.read("message", cond.message, readString);
    item.read("lastUpdateTime", cond.lastUpdateTime, readTime);
    item.read("lastTransitionTime", cond.lastTransitionTime, readTime);
    out.push_back(cond);
  });
}

nlohmann::json conditionsToJson(const std::vector<Condition>& conditions) {
  json list = json::array();
  for (const auto& c : conditions) {
    json item = json::object();
    putString(item, "type", c.type);
    putString(item, "status", c.status);
    item["lastUpdateTime"] = formatRfc3339(c.lastUpdateTime);
    item["lastTransitionTime"] = formatRfc3339(c.lastTransitionTime);
    putString(item, "reason", c.reason);
    putString(item, "message", c.message);
    list.push_back(std::move(item));
  }
  return list;
}

nlohmann::json statusToJson(const RolloutStatus& s) {
  json j = json::object();
  putBool(j, "abort", s.abort);
  putTime(j, "abortedAt", s.abortedAt);
  if (!s.pauseConditions.empty()) {
    json list = json::array();
    for (const auto& p : s.pauseConditions) {
      json item = json::object();
      putString(item, "reason", p.reason);
      item["startTime"] = formatRfc3339(p.startTime);
      list.push_back(std::move(item));
    }
    j["pauseConditions"] = std::move(list);
  }
  putBool(j, "controllerPause", s.controllerPause);
  putString(j, "currentPodHash", s.currentPodHash);
  putString(j, "currentStepHash", s.currentStepHash);
  if (s.currentStepIndex) j["currentStepIndex"] = *s.currentStepIndex;
  putInt(j, "replicas", s.replicas);
  putInt(j, "updatedReplicas", s.updatedReplicas);
  putInt(j, "readyReplicas", s.readyReplicas);
  putInt(j, "availableReplicas", s.availableReplicas);
  putString(j, "selector", s.selector);
  putInt(j, "collisionCount", s.collisionCount);
  putString(j, "observedGeneration", s.observedGeneration);
  if (!s.conditions.empty()) j["conditions"] = conditionsToJson(s.conditions);
  putString(j, "stableRS", s.stableRS);
  putTime(j, "restartedAt", s.restartedAt);
  putBool(j, "promoteFull", s.promoteFull);
  putString(j, "phase", s.phase);
  putString(j, "message", s.message);
  json canary = canaryStatusToJson(s.canary);
  if (!canary.empty()) j["canary"] = std::move(canary);
  json blueGreen = blueGreenStatusToJson(s.blueGreen);
  if (!blueGreen.empty()) j["blueGreen"] = std::move(blueGreen);
  putString(j, "workloadObservedGeneration", s.workloadObservedGeneration);
  return j;
}

Result<RolloutStatus> statusFromJson(const nlohmann::json& status) {
  return readWithoutSource<RolloutStatus>(status, "status", false,
                                          [](ObjectReader& o, RolloutStatus& s) { readStatus(o, s); });
}

std::optional<Rollout> parseRollout(const nlohmann::json& object, const SourceMap& source,
                                    Diagnostics& diags) {
  Rollout rollout;
  std::string kind;
  const bool ok = readInOrder(source, diags, [&](Reporter& r, Diagnostics& local) {
    readEnvelope(
        r, object, rollout.apiVersion, kind, {kApiVersion, kArgoApiVersion}, {"Rollout"}, rollout.metadata,
        [&](ObjectReader& so) { readSpec(so, rollout.spec); },
        [&](ObjectReader& o) {
          if (const json* st = o.get("status"))
            readStatusObject(r, *st, "status", [&](ObjectReader& so) { readStatus(so, rollout.status); });
        });
    if (!local.hasErrors()) validateRollout(rollout, source, local);
  });
  if (!ok) return std::nullopt;
  rollout.spec.canary.stepsHashMemo = stepsHash(rollout.spec.canary.steps);
  return rollout;
}

std::string podMetadataToJson(const PodMetadata& metadata) {
  json j = json::object();
  if (!metadata.labels.empty()) j["labels"] = metadata.labels;
  if (!metadata.annotations.empty()) j["annotations"] = metadata.annotations;
  return j.dump();
}

std::optional<PodMetadata> podMetadataFromJson(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  PodMetadata m;
  for (auto [field, target] : {std::pair{"labels", &m.labels}, std::pair{"annotations", &m.annotations}}) {
    const auto it = j.find(field);
    if (it == j.end()) continue;
    if (!it->is_object()) return std::nullopt;
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string()) return std::nullopt;
      (*target)[key] = value.get<std::string>();
    }
  }
  return m;
}

}  // namespace sluice::engine
