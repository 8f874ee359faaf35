// Argo Rollouts' validation rules, checked on the typed model after parsing. Rules that need to see the
// raw JSON (at most one of setWeight, pause, experiment and analysis per step, stableIngress vs
// stableIngresses, one strategy) live in the parser, because the model cannot express the broken shape.
#include "engine/validate.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "base/quantity.h"

namespace sluice::engine {

namespace {

using nlohmann::json;

constexpr const char* kCanary = "spec.strategy.canary";

std::string canaryPath(std::string_view field) { return childPath(kCanary, field); }

// Whether a container of `podTemplate` declares a port.
bool declaresPorts(const json& podTemplate) {
  const json containers = podTemplate.value(json::json_pointer("/spec/containers"), json::array());
  for (const auto& c : containers.is_array() ? containers : json::array()) {
    const json ports = c.is_object() ? c.value("ports", json::array()) : json();
    if (ports.is_array() && !ports.empty()) return true;
  }
  return false;
}

void checkResources(const json& container, const std::string& path, const PodTemplateError& error) {
  const auto resources = container.find("resources");
  if (resources == container.end() || !resources->is_object()) return;
  std::map<std::string, std::pair<double, std::string>> limits;  // resource -> (value, as written)
  for (const char* kind : {"limits", "requests"}) {
    const auto amounts = resources->find(kind);
    if (amounts == resources->end() || !amounts->is_object()) continue;
    for (const auto& [resource, amount] : amounts->items()) {
      const std::string at = childPath(childPath(path + ".resources", kind), resource);
      const std::optional<double> value = quantityValue(amount);
      if (!value) {
        error(at, "Invalid value: " + amount.dump() +
                      ": quantities must match the regular expression "
                      "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
      } else if (*value < 0) {
        error(at, "Invalid value: " + amount.dump() + ": must be greater than or equal to 0");
      } else if (std::string_view(kind) == "limits") {
        limits[resource] = {*value, amount.is_string() ? amount.get<std::string>() : amount.dump()};
      } else if (auto limit = limits.find(resource); limit != limits.end() && *value > limit->second.first) {
        error(at, "Invalid value: " + amount.dump() + ": must be less than or equal to " + resource +
                      " limit of " + limit->second.second);
      }
    }
  }
}

}  // namespace

void checkPodTemplate(const json& t, const std::string& at, const PodTemplateError& error) {
  if (t.empty()) {
    error(at, "is required");
    return;
  }
  const json* podSpec = t.contains("spec") ? &t.at("spec") : nullptr;
  const json* containers = podSpec && podSpec->is_object() && podSpec->contains("containers")
                               ? &podSpec->at("containers")
                               : nullptr;
  if (!containers || !containers->is_array() || containers->empty()) {
    error(at + ".spec.containers", "must list at least one container");
  }
  if (!podSpec || !podSpec->is_object()) return;
  // As Kubernetes validates a pod template: names unique across containers and init containers, every
  // resource amount a quantity >= 0, no request above its limit, no ephemeral containers on create.
  std::set<std::string> names;
  for (const char* list : {"initContainers", "containers"}) {
    const auto it = podSpec->find(list);
    if (it == podSpec->end() || !it->is_array()) continue;
    const std::string listPath = childPath(at + ".spec", list);
    for (size_t i = 0; i < it->size(); ++i) {
      const json& c = (*it)[i];
      if (!c.is_object()) continue;
      const std::string path = indexPath(listPath, i);
      const auto name = c.find("name");
      if (name == c.end() || !name->is_string() || name->get<std::string>().empty()) {
        error(path + ".name", "Required value");
      } else if (!names.insert(name->get<std::string>()).second) {
        error(path + ".name", "Duplicate value: \"" + name->get<std::string>() + "\"");
      }
      checkResources(c, path, error);
    }
  }
  if (podSpec->contains("ephemeralContainers"))
    error(at + ".spec.ephemeralContainers", "Forbidden: cannot be set on create");
}

namespace {

class RuleChecker {
 public:
  RuleChecker(const Rollout& rollout, const SourceMap& source, Diagnostics& diags)
      : spec_(rollout.spec), canary_(rollout.spec.canary), source_(source), diags_(diags) {}

  void run() {
    checkSpec();
    if (spec_.workloadRef) {
      // The template (and perhaps the selector) come from the workload: checked once it is read
      // (validateResolvedTemplate).
      if (!spec_.podTemplate.empty())
        error("spec.template", "must not be set with spec.workloadRef: the pod template is the workload's");
    } else {
      checkTemplateAndSelector();
    }
    checkCanaryServices();
    checkPingPong();
    checkSurge();
    checkTrafficRouting();
    checkScaleDownFields();
    for (size_t i = 0; i < canary_.steps.size(); ++i) {
      checkStep(canary_.steps[i], indexPath(canaryPath("steps"), i));
      if (const auto* w = stepAction<SetWeightStep>(canary_.steps[i])) setWeightSoFar_ = w->weight;
    }
    checkBackgroundAnalysis();
    if (spec_.blueGreen) {
      checkBlueGreen(*spec_.blueGreen);
      checkPodMetadata(spec_.blueGreen->activeMetadata, "spec.strategy.blueGreen.activeMetadata");
      checkPodMetadata(spec_.blueGreen->previewMetadata, "spec.strategy.blueGreen.previewMetadata");
    } else {
      checkPodMetadata(canary_.canaryMetadata, canaryPath("canaryMetadata"));
      checkPodMetadata(canary_.stableMetadata, canaryPath("stableMetadata"));
    }
  }

  void checkTemplateAndSelector() {
    checkSelector();
    checkTemplate();
  }

 private:
  void error(const std::string& path, std::string message) {
    diags_.add(source_.diagnostic(Severity::Error, path, std::move(message)));
  }
  void warning(const std::string& path, std::string message) {
    diags_.add(source_.diagnostic(Severity::Warning, path, std::move(message)));
  }

  bool routed() const { return canary_.trafficRouting.has_value(); }

  void checkSpec() {
    if (spec_.replicas < 0)
      error("spec.replicas", "must not be negative, got " + std::to_string(spec_.replicas));
    if (spec_.revisionHistoryLimit < 0) {
      error("spec.revisionHistoryLimit",
            "must not be negative, got " + std::to_string(spec_.revisionHistoryLimit));
    }
    for (const auto& [field, limit] :
         {std::pair{"spec.analysis.successfulRunHistoryLimit", spec_.successfulRunHistoryLimit},
          std::pair{"spec.analysis.unsuccessfulRunHistoryLimit", spec_.unsuccessfulRunHistoryLimit}}) {
      if (limit < 0) error(field, "must not be negative, got " + std::to_string(limit));
    }
    if (spec_.minReadySeconds < 0) {
      error("spec.minReadySeconds", "must not be negative, got " + std::to_string(spec_.minReadySeconds));
    }
    if (spec_.progressDeadlineSeconds <= spec_.minReadySeconds) {
      error("spec.progressDeadlineSeconds", "must be greater than minReadySeconds (" +
                                                std::to_string(spec_.minReadySeconds) + "), got " +
                                                std::to_string(spec_.progressDeadlineSeconds));
    }
    if (spec_.rollbackWindowRevisions && *spec_.rollbackWindowRevisions < 0) {
      error("spec.rollbackWindow.revisions",
            "must not be negative, got " + std::to_string(*spec_.rollbackWindowRevisions));
    }
  }

  // The label selector must select the pods the template makes, or the Rollout would never see them.
  void checkSelector() {
    const json& selector = spec_.selector;
    const json* matchLabels = selector.contains("matchLabels") ? &selector.at("matchLabels") : nullptr;
    const json* expressions =
        selector.contains("matchExpressions") ? &selector.at("matchExpressions") : nullptr;
    const bool noLabels = !matchLabels || !matchLabels->is_object() || matchLabels->empty();
    const bool noExpressions = !expressions || !expressions->is_array() || expressions->empty();
    if (noLabels && noExpressions) {
      error("spec.selector", "is required and must not be empty");
      return;
    }
    const json* labels = nullptr;
    const json& t = spec_.podTemplate;
    if (t.contains("metadata") && t.at("metadata").is_object() && t.at("metadata").contains("labels")) {
      labels = &t.at("metadata").at("labels");
    }
    auto label = [&](const std::string& key) -> std::optional<std::string> {
      if (!labels || !labels->is_object() || !labels->contains(key) || !labels->at(key).is_string())
        return std::nullopt;
      return labels->at(key).get<std::string>();
    };
    bool matches = true;
    if (!noLabels) {
      for (const auto& [key, value] : matchLabels->items()) {
        if (!value.is_string()) {
          error(childPath("spec.selector.matchLabels", key), "must be a string");
          return;
        }
        if (label(key) != value.get<std::string>()) matches = false;
      }
    }
    if (!noExpressions) {
      for (size_t i = 0; i < expressions->size(); ++i) {
        auto result =
            expressionMatches(expressions->at(i), label, indexPath("spec.selector.matchExpressions", i));
        if (!result) return;
        matches = matches && *result;
      }
    }
    if (!matches) error("spec.selector", "does not match the labels in spec.template.metadata.labels");
  }

  template <typename Label>
  std::optional<bool> expressionMatches(const json& expr, Label label, const std::string& path) {
    if (!expr.is_object() || !expr.contains("key") || !expr.at("key").is_string() ||
        !expr.contains("operator") || !expr.at("operator").is_string()) {
      error(path, "must have a key and an operator");
      return std::nullopt;
    }
    const std::string key = expr.at("key");
    const std::string op = expr.at("operator");
    std::vector<std::string> values;
    if (expr.contains("values") && expr.at("values").is_array()) {
      for (const auto& v : expr.at("values")) {
        if (v.is_string()) values.push_back(v);
      }
    }
    const auto actual = label(key);
    const bool in = actual && std::find(values.begin(), values.end(), *actual) != values.end();
    if (op == "In") return in;
    if (op == "NotIn") return !in;
    if (op == "Exists") return actual.has_value();
    if (op == "DoesNotExist") return !actual.has_value();
    error(childPath(path, "operator"), "must be In, NotIn, Exists or DoesNotExist, got \"" + op + "\"");
    return std::nullopt;
  }

  void checkTemplate() {
    checkPodTemplate(
        spec_.podTemplate, "spec.template",
        [this](const std::string& path, std::string message) { error(path, std::move(message)); });
  }

  void checkCanaryServices() {
    // Istio subset-level routing (a DestinationRule) splits by subset, not by Service: Argo requires
    // neither Service there.
    const bool bySubset =
        routed() && canary_.trafficRouting->istio && canary_.trafficRouting->istio->destinationRule;
    // With pingPong the ping and pong Services take the canary and stable roles (Argo requires neither).
    if (routed() && !bySubset && !canary_.pingPong) {
      if (canary_.canaryService.empty())
        error(canaryPath("canaryService"), "is required with trafficRouting");
      if (canary_.stableService.empty())
        error(canaryPath("stableService"), "is required with trafficRouting");
    }
    if (!canary_.canaryService.empty() && canary_.canaryService == canary_.stableService) {
      error(canaryPath("stableService"),
            "must differ from canaryService (both are \"" + canary_.stableService + "\")");
    }
  }

  // pingPong: two different Services, routed by ALB through its rootService or by Istio (as Argo Rollouts
  // requires).
  void checkPingPong() {
    if (!canary_.pingPong) return;
    const std::string path = canaryPath("pingPong");
    const PingPongServices& pp = *canary_.pingPong;
    if (!pp.pingService.empty() && pp.pingService == pp.pongService) {
      error(childPath(path, "pongService"),
            "must differ from pingService (both are \"" + pp.pongService + "\")");
    }
    if (!routed() || !(canary_.trafficRouting->alb || canary_.trafficRouting->istio)) {
      error(
          path,
          "needs trafficRouting.alb or trafficRouting.istio: the ping and pong Services swap roles behind an "
          "ALB Ingress or an Istio VirtualService");
    } else if (canary_.trafficRouting->alb && canary_.trafficRouting->alb->rootService.empty()) {
      error(canaryPath("trafficRouting") + ".alb.rootService", "is required with pingPong");
    }
  }

  void checkAlb(const AlbTrafficRouting& alb, const std::string& path) {
    if (alb.ingresses.empty()) error(path, "needs ingress or ingresses");
    for (size_t i = 0; i < alb.ingresses.size(); ++i) {
      if (alb.ingresses[i].empty()) error(indexPath(path + ".ingresses", i), "must not be empty");
    }
    if (alb.servicePort <= 0 || alb.servicePort > 65535)
      error(childPath(path, "servicePort"),
            "must be a port, 1 to 65535, got " + std::to_string(alb.servicePort));
    // The range AWS takes for a target group's stickiness duration.
    if (alb.stickinessConfig && alb.stickinessConfig->enabled &&
        (alb.stickinessConfig->durationSeconds < 1 || alb.stickinessConfig->durationSeconds > 604800)) {
      error(childPath(path, "stickinessConfig") + ".durationSeconds",
            "must be between 1 and 604800 seconds (7 days), got " +
                std::to_string(alb.stickinessConfig->durationSeconds));
    }
  }

  void checkSurge() {
    if (canary_.maxSurge.value == 0 && canary_.maxUnavailable.value == 0) {
      error(canaryPath("maxUnavailable"), "maxSurge and maxUnavailable cannot both be 0");
    }
  }

  void checkTrafficRouting() {
    if (!routed()) return;
    const TrafficRouting& tr = *canary_.trafficRouting;
    const std::string path = canaryPath("trafficRouting");
    if (!tr.nginx && !tr.istio && !tr.smi && !tr.traefik && !tr.ambassador && !tr.apisix && !tr.alb &&
        !tr.appMesh && tr.plugins.empty()) {
      error(path,
            "must name a traffic router (nginx, istio, smi, traefik, ambassador, apisix, alb, appMesh or "
            "plugins)");
    }
    if (tr.alb) checkAlb(*tr.alb, childPath(path, "alb"));
    for (const auto& [plugin, config] : tr.plugins) {
      if (plugin == kGatewayApiRouterPlugin) continue;
      error(
          childPath(childPath(path, "plugins"), plugin),
          "the router plugin \"" + plugin +
              "\" is a Go binary Argo Rollouts loads; Sluice loads no plugins: its built-in routers are "
              "nginx, istio, smi, traefik, ambassador, apisix, alb, appMesh and the Gateway API (plugins[\"" +
              kGatewayApiRouterPlugin + "\"])");
    }
    if (tr.maxTrafficWeight) {
      const std::string mtw = childPath(path, "maxTrafficWeight");
      if (*tr.maxTrafficWeight <= 0) {
        error(mtw, "must be greater than 0, got " + std::to_string(*tr.maxTrafficWeight));
      }
      if (tr.smi || tr.traefik || tr.ambassador || tr.apisix || tr.alb || tr.appMesh)
        error(mtw, "is supported only with nginx, istio or plugins");
    }
    if (tr.nginx) {
      const auto& ingresses = tr.nginx->stableIngresses;
      if (ingresses.empty()) error(childPath(path, "nginx"), "needs stableIngress or stableIngresses");
      for (size_t i = 0; i < ingresses.size(); ++i) {
        if (ingresses[i].empty()) error(indexPath(path + ".nginx.stableIngresses", i), "must not be empty");
      }
    }
    if (tr.ambassador) {
      const auto& mappings = tr.ambassador->mappings;
      if (mappings.empty())
        error(childPath(path, "ambassador") + ".mappings", "must name at least one Mapping");
      for (size_t i = 0; i < mappings.size(); ++i) {
        if (mappings[i].empty()) error(indexPath(path + ".ambassador.mappings", i), "must not be empty");
      }
    }
    if (tr.istio) {
      const auto& services = tr.istio->virtualServices;
      if (services.empty()) error(childPath(path, "istio"), "needs virtualService or virtualServices");
      // The model folds virtualService into the list, so a one-entry list is reported at the single form.
      for (size_t i = 0; i < services.size(); ++i) {
        if (!services[i].name.empty()) continue;
        const std::string item = services.size() == 1 ? path + ".istio.virtualService"
                                                      : indexPath(path + ".istio.virtualServices", i);
        error(childPath(item, "name"), "is required");
      }
    }
    for (size_t i = 0; i < tr.managedRoutes.size(); ++i) {
      const auto earlier = tr.managedRoutes.begin() + static_cast<std::ptrdiff_t>(i);
      if (std::find(tr.managedRoutes.begin(), earlier, tr.managedRoutes[i]) != earlier) {
        error(indexPath(childPath(path, "managedRoutes"), i) + ".name",
              "duplicate managed route \"" + tr.managedRoutes[i] + "\"");
      }
    }
  }

  void checkScaleDownFields() {
    if (canary_.dynamicStableScale) {
      if (!routed()) error(canaryPath("dynamicStableScale"), "needs trafficRouting");
      if (canary_.scaleDownDelaySeconds) {
        error(canaryPath("dynamicStableScale"), "cannot be combined with scaleDownDelaySeconds");
      }
    }
    struct Field {
      const char* name;
      const std::optional<int>& value;
      int min;
    };
    for (const Field& f : {Field{"scaleDownDelaySeconds", canary_.scaleDownDelaySeconds, 0},
                           Field{"abortScaleDownDelaySeconds", canary_.abortScaleDownDelaySeconds, 0},
                           Field{"scaleDownDelayRevisionLimit", canary_.scaleDownDelayRevisionLimit, 0},
                           Field{"minPodsPerReplicaSet", canary_.minPodsPerReplicaSet, 1}}) {
      if (!f.value) continue;
      if (!routed()) error(canaryPath(f.name), "is allowed only with trafficRouting");
      if (*f.value < f.min) {
        error(canaryPath(f.name),
              "must be at least " + std::to_string(f.min) + ", got " + std::to_string(*f.value));
      }
    }
  }

  bool managed(const std::string& name) const {
    if (!routed()) return false;
    const auto& routes = canary_.trafficRouting->managedRoutes;
    return std::find(routes.begin(), routes.end(), name) != routes.end();
  }

  // setHeaderRoute and setMirrorRoute need a router that can add routes, and a name the router manages.
  void checkManagedRouteStep(const std::string& kind, const std::string& name, const std::string& path) {
    if (!routed()) {
      error(path, "needs trafficRouting");
      return;
    }
    const TrafficRouting& tr = *canary_.trafficRouting;
    // APISIX adds header routes (as their own ApisixRoutes) and ALB (as its own actions and conditions),
    // not mirror routes.
    const bool headerRoute = (tr.apisix || tr.alb) && kind == "setHeaderRoute";
    if (!tr.istio && tr.plugins.empty() && !headerRoute) {
      const char* router = tr.nginx        ? "nginx"
                           : tr.smi        ? "smi"
                           : tr.traefik    ? "traefik"
                           : tr.ambassador ? "ambassador"
                           : tr.alb        ? "alb"
                           : tr.appMesh    ? "appMesh"
                                           : "apisix";
      error(path, "needs the istio router or a plugin; " + kind + " is not supported by " + router);
    }
    if (name.empty()) {
      error(childPath(path, "name"), "is required");
    } else if (!managed(name)) {
      error(childPath(path, "name"), "\"" + name + "\" must be listed in trafficRouting.managedRoutes");
    }
  }

  void checkAnalysis(const RolloutAnalysis& a, const std::string& path) {
    if (a.templates.empty()) {
      error(childPath(path, "templates"), "must list at least one template");
      return;
    }
    for (size_t i = 0; i < a.templates.size(); ++i) {
      if (a.templates[i].templateName.empty()) {
        error(indexPath(childPath(path, "templates"), i) + ".templateName", "is required");
      }
    }
  }

  // Argo's rules for an experiment step. A template's weight is taken from the stable's share, beside the
  // canary's weight of the last setWeight: with a router that can split among more than two Services.
  void checkExperimentStep(const ExperimentStep& e, const std::string& path) {
    if (e.templates.empty()) error(childPath(path, "templates"), "must list at least one template");
    std::set<std::string> names;
    const int max = routed() ? canary_.trafficRouting->maxWeight() : 100;
    int total = setWeightSoFar_;
    for (size_t i = 0; i < e.templates.size(); ++i) {
      const auto& t = e.templates[i];
      const std::string at = indexPath(childPath(path, "templates"), i);
      if (!t.name.empty() && !names.insert(t.name).second)
        error(childPath(at, "name"), "repeats the template name '" + t.name + "'");
      if (!t.weight) continue;
      if (!routed()) {
        error(childPath(at, "weight"), "needs trafficRouting: the weight is a share of the routed traffic");
      } else if (const TrafficRouting& tr = *canary_.trafficRouting;
                 tr.nginx || tr.traefik || tr.ambassador || tr.apisix || tr.appMesh || !tr.plugins.empty()) {
        error(childPath(at, "weight"),
              "is only supported with the smi, alb and istio routers, which split traffic among more than "
              "two Services");
      } else if (*t.weight < 0 || *t.weight > max) {
        error(childPath(at, "weight"),
              "must be between 0 and " + std::to_string(max) + ", got " + std::to_string(*t.weight));
      } else if ((!t.service || t.service->ports.empty()) && !spec_.workloadRef &&
                 !declaresPorts(spec_.podTemplate)) {
        error(childPath(at, "weight"),
              "needs a Service to route through, made on the containers' ports: the pod template declares "
              "none (add containers[].ports or the template's service.ports)");
      }
      total += *t.weight;
    }
    if (routed() && total > max) {
      error(childPath(path, "templates"), "the templates' weights and the canary's " +
                                              std::to_string(setWeightSoFar_) + " add up to " +
                                              std::to_string(total) + ", more than " + std::to_string(max));
    }
    std::set<std::string> analyses;
    for (size_t i = 0; i < e.analyses.size(); ++i) {
      const std::string& name = e.analyses[i].name;
      if (!name.empty() && !analyses.insert(name).second)
        error(indexPath(childPath(path, "analyses"), i) + ".name",
              "repeats the analysis name '" + name + "'");
    }
  }

  void checkStep(const CanaryStep& step, const std::string& path) {
    checkStepAction(step.action, path);
    for (const auto& other : step.alongside) checkStepAction(other, path);
  }

  void checkStepAction(const StepAction& action, const std::string& path) {
    if (const auto* w = std::get_if<SetWeightStep>(&action)) {
      const int max = routed() ? canary_.trafficRouting->maxWeight() : 100;
      if (w->weight < 0 || w->weight > max) {
        error(childPath(path, "setWeight"),
              "must be between 0 and " + std::to_string(max) + ", got " + std::to_string(w->weight));
      }
    } else if (const auto* a = std::get_if<AnalysisStep>(&action)) {
      checkAnalysis(a->analysis, childPath(path, "analysis"));
    } else if (const auto* s = std::get_if<SetCanaryScaleStep>(&action)) {
      const std::string p = childPath(path, "setCanaryScale");
      if (!routed()) error(p, "needs trafficRouting");
      const int set = s->replicas.has_value() + s->weight.has_value() + s->matchTrafficWeight;
      if (set != 1) error(p, "must set exactly one of replicas, weight or matchTrafficWeight");
      if (s->weight && (*s->weight < 0 || *s->weight > 100)) {
        error(childPath(p, "weight"), "must be between 0 and 100, got " + std::to_string(*s->weight));
      }
      if (s->replicas && *s->replicas < 0) {
        error(childPath(p, "replicas"), "must not be negative, got " + std::to_string(*s->replicas));
      }
    } else if (const auto* h = std::get_if<SetHeaderRouteStep>(&action)) {
      checkManagedRouteStep("setHeaderRoute", h->name, childPath(path, "setHeaderRoute"));
      // An ALB http-header condition lists the values a header must have: exact matches only.
      for (size_t i = 0; routed() && canary_.trafficRouting->alb && i < h->match.size(); ++i) {
        if (h->match[i].matchType != "exact") {
          error(indexPath(childPath(path, "setHeaderRoute") + ".match", i) + ".headerValue",
                "alb matches header values exactly: " + h->match[i].matchType + " is not supported");
        }
      }
    } else if (const auto* e = std::get_if<ExperimentStep>(&action)) {
      checkExperimentStep(*e, childPath(path, "experiment"));
    } else if (const auto* m = std::get_if<SetMirrorRouteStep>(&action)) {
      const std::string p = childPath(path, "setMirrorRoute");
      checkManagedRouteStep("setMirrorRoute", m->name, p);
      if (m->percentage < 0 || m->percentage > 100) {
        error(childPath(p, "percentage"), "must be between 0 and 100, got " + std::to_string(m->percentage));
      }
    }
  }

  void checkBackgroundAnalysis() {
    if (!canary_.analysis) return;
    const std::string path = canaryPath("analysis");
    checkAnalysis(*canary_.analysis, path);
    const int start = canary_.analysis->startingStep;
    const int last = static_cast<int>(canary_.steps.size()) - 1;
    if (start < 0 || (!canary_.steps.empty() && start > last)) {
      error(childPath(path, "startingStep"), "must be within the steps (0.." +
                                                 std::to_string(std::max(last, 0)) + "), got " +
                                                 std::to_string(start));
    }
  }

  // Ephemeral labels change on running pods: one the selector (or the pod-template hash) matches on
  // would take the pods out of their ReplicaSet.
  void checkPodMetadata(const std::optional<PodMetadata>& m, const std::string& path) {
    if (!m) return;
    const json matchLabels =
        spec_.selector.is_object() ? spec_.selector.value("matchLabels", json::object()) : json::object();
    std::set<std::string> selected{kPodTemplateHashLabel};
    if (matchLabels.is_object()) {
      for (const auto& [key, value] : matchLabels.items()) selected.insert(key);
    }
    const json expressions =
        spec_.selector.is_object() ? spec_.selector.value("matchExpressions", json::array()) : json::array();
    for (const auto& e : expressions.is_array() ? expressions : json::array()) {
      if (e.is_object() && e.contains("key") && e.at("key").is_string()) selected.insert(e.at("key"));
    }
    for (const auto& [key, value] : m->labels) {
      if (selected.contains(key)) {
        error(childPath(childPath(path, "labels"), key),
              "must not set a label the Rollout's selector or the pod-template hash uses");
      }
    }
  }

  void checkBlueGreen(const BlueGreenStrategy& b) {
    const std::string path = "spec.strategy.blueGreen";
    if (b.activeService.empty()) error(childPath(path, "activeService"), "is required");
    if (!b.activeService.empty() && b.activeService == b.previewService) {
      error(childPath(path, "previewService"),
            "must differ from activeService (both are \"" + b.activeService + "\")");
    }
    if (b.previewReplicaCount && *b.previewReplicaCount < 1) {
      error(childPath(path, "previewReplicaCount"),
            "must be at least 1, got " + std::to_string(*b.previewReplicaCount));
    }
    struct Field {
      const char* name;
      std::optional<int> value;
    };
    for (const Field& f : {Field{"autoPromotionSeconds", b.autoPromotionSeconds},
                           Field{"scaleDownDelaySeconds", b.scaleDownDelaySeconds},
                           Field{"scaleDownDelayRevisionLimit", b.scaleDownDelayRevisionLimit},
                           Field{"abortScaleDownDelaySeconds", b.abortScaleDownDelaySeconds}}) {
      if (f.value && *f.value < 0)
        error(childPath(path, f.name), "must not be negative, got " + std::to_string(*f.value));
    }
    if (!b.autoPromotionEnabled && b.autoPromotionSeconds > 0) {
      warning(childPath(path, "autoPromotionSeconds"),
              "is ignored with autoPromotionEnabled: false (the rollout waits for a promote); remove one of "
              "them");
    }
    if (b.prePromotionAnalysis)
      checkAnalysis(*b.prePromotionAnalysis, childPath(path, "prePromotionAnalysis"));
    if (b.postPromotionAnalysis)
      checkAnalysis(*b.postPromotionAnalysis, childPath(path, "postPromotionAnalysis"));
  }

  const RolloutSpec& spec_;
  const CanaryStrategy& canary_;
  const SourceMap& source_;
  Diagnostics& diags_;
  int setWeightSoFar_ = 0;  // the canary's weight of the last setWeight before the step being checked
};

}  // namespace

void validateRollout(const Rollout& rollout, const SourceMap& source, Diagnostics& diags) {
  RuleChecker(rollout, source, diags).run();
}

void validateResolvedTemplate(const Rollout& rollout, Diagnostics& diags) {
  RuleChecker(rollout, SourceMap(), diags).checkTemplateAndSelector();
}

}  // namespace sluice::engine
