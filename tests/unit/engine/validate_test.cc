// Argo Rollouts' validation rules: a row per rule, each with the field path, message and line it reports.
#include <catch2/catch.hpp>

#include "engine/validate.h"
#include "tests/unit/engine/rollout_test_manifests.h"

using namespace sluice;
using namespace sluice::testing;

TEST_CASE("each validation rule is reported at its field and line", "[engine][validate]") {
  const std::string steps = "steps:\n";  // with a 5-line router prelude, steps[0] is on line 21
  const std::vector<DiagnosticCase> rows = {
      {"a selector is required",
       replaced(kBaseRollout + "      {}\n", "  selector:\n    matchLabels: {app: web}\n",
                "  selector: {}\n"),
       "spec.selector", "is required", 6},
      {"the selector must match the template's labels",
       replaced(withCanary("{}"), "matchLabels: {app: web}", "matchLabels: {app: api}"), "spec.selector",
       "does not match", 6},
      {"a NotIn expression that excludes the template's labels does not match",
       replaced(withCanary("{}"), "matchLabels: {app: web}",
                "matchExpressions: [{key: app, operator: NotIn, values: [web]}]"),
       "spec.selector", "does not match", 6},
      {"an unknown selector operator is named",
       replaced(withCanary("{}"), "matchLabels: {app: web}",
                "matchExpressions: [{key: app, operator: Near}]"),
       "spec.selector.matchExpressions[0].operator", "must be In, NotIn, Exists or DoesNotExist", 7},
      {"the template needs a container",
       replaced(withCanary("{}"), "containers: [{name: web, image: web:1}]", "containers: []"),
       "spec.template.spec.containers", "at least one container", 12},
      {"container names are unique in the pod template",
       replaced(withCanary("{}"), "containers: [{name: web, image: web:1}]",
                "containers: [{name: web, image: web:1}, {name: web, image: web:2}]"),
       "spec.template.spec.containers[1].name", "Duplicate value: \"web\"", 12},
      {"a container needs a name",
       replaced(withCanary("{}"), "containers: [{name: web, image: web:1}]", "containers: [{image: web:1}]"),
       "spec.template.spec.containers[0].name", "Required value", 12},
      {"a resource amount must be a quantity",
       replaced(withCanary("{}"), "containers: [{name: web, image: web:1}]",
                "containers: [{name: web, image: web:1, resources: {requests: {memory: invalid}}}]"),
       "spec.template.spec.containers[0].resources.requests.memory",
       "Invalid value: \"invalid\": quantities must match the regular expression", 12},
      {"a resource amount must not be negative",
       replaced(withCanary("{}"), "containers: [{name: web, image: web:1}]",
                "containers: [{name: web, image: web:1, resources: {limits: {cpu: -1}}}]"),
       "spec.template.spec.containers[0].resources.limits.cpu", "must be greater than or equal to 0", 12},
      {"a request must not exceed its limit",
       replaced(
           withCanary("{}"), "containers: [{name: web, image: web:1}]",
           "containers: [{name: web, image: web:1, resources: {limits: {cpu: 500m}, requests: {cpu: '1'}}}]"),
       "spec.template.spec.containers[0].resources.requests.cpu",
       "Invalid value: \"1\": must be less than or equal to cpu limit of 500m", 12},
      {"a pod template cannot have ephemeral containers",
       replaced(
           withCanary("{}"), "containers: [{name: web, image: web:1}]",
           "containers: [{name: web, image: web:1}]\n      ephemeralContainers: [{name: debug, image: b:1}]"),
       "spec.template.spec.ephemeralContainers", "Forbidden: cannot be set on create", 13},
      {"replicas must not be negative", withSpec("replicas: -1"), "spec.replicas", "must not be negative", 6},
      {"revisionHistoryLimit must not be negative", withSpec("revisionHistoryLimit: -2"),
       "spec.revisionHistoryLimit", "must not be negative", 6},
      {"progressDeadlineSeconds must exceed minReadySeconds",
       withSpec("progressDeadlineSeconds: 10\nminReadySeconds: 10"), "spec.progressDeadlineSeconds",
       "must be greater than minReadySeconds (10)", 6},
      {"a run history limit must not be negative", withSpec("analysis: {unsuccessfulRunHistoryLimit: -1}"),
       "spec.analysis.unsuccessfulRunHistoryLimit", "must not be negative", 6},
      {"rollbackWindow.revisions must not be negative", withSpec("rollbackWindow: {revisions: -1}"),
       "spec.rollbackWindow.revisions", "must not be negative", 6},
      {"setWeight is at most 100", withCanary("steps:\n- setWeight: 120"),
       "spec.strategy.canary.steps[0].setWeight", "must be between 0 and 100, got 120", 16},
      {"setWeight is not negative", withCanary("steps:\n- setWeight: -1"),
       "spec.strategy.canary.steps[0].setWeight", "must be between 0 and 100", 16},
      {"setWeight is at most maxTrafficWeight",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  nginx: {stableIngress: i}\n"
                  "  maxTrafficWeight: 50\nsteps:\n- setWeight: 60"),
       "spec.strategy.canary.steps[0].setWeight", "must be between 0 and 50, got 60", 21},
      {"setCanaryScale needs trafficRouting", withCanary("steps:\n- setCanaryScale: {replicas: 1}"),
       "spec.strategy.canary.steps[0].setCanaryScale", "needs trafficRouting", 16},
      {"setCanaryScale sets exactly one of its fields",
       withCanary(kIstio + steps + "- setCanaryScale: {replicas: 1, weight: 20}"),
       "spec.strategy.canary.steps[0].setCanaryScale",
       "exactly one of replicas, weight or matchTrafficWeight", 21},
      {"setCanaryScale with nothing set is rejected",
       withCanary(kIstio + steps + "- setCanaryScale: {matchTrafficWeight: false}"),
       "spec.strategy.canary.steps[0].setCanaryScale", "exactly one of", 21},
      {"setCanaryScale weight is within 0..100",
       withCanary(kIstio + steps + "- setCanaryScale: {weight: 150}"),
       "spec.strategy.canary.steps[0].setCanaryScale.weight", "between 0 and 100, got 150", 21},
      {"setCanaryScale replicas is not negative",
       withCanary(kIstio + steps + "- setCanaryScale: {replicas: -3}"),
       "spec.strategy.canary.steps[0].setCanaryScale.replicas", "must not be negative", 21},
      {"trafficRouting needs canaryService",
       withCanary("stableService: s\ntrafficRouting:\n  istio: {virtualService: {name: vs}}"),
       "spec.strategy.canary.canaryService", "is required with trafficRouting", 14},
      {"trafficRouting needs stableService",
       withCanary("canaryService: c\ntrafficRouting:\n  istio: {virtualService: {name: vs}}"),
       "spec.strategy.canary.stableService", "is required with trafficRouting", 14},
      {"canary and stable Services must differ", withCanary("canaryService: web\nstableService: web"),
       "spec.strategy.canary.stableService", "must differ from canaryService", 16},
      {"maxSurge and maxUnavailable cannot both be 0", withCanary("maxSurge: 0\nmaxUnavailable: \"0%\""),
       "spec.strategy.canary.maxUnavailable", "cannot both be 0", 16},
      {"maxTrafficWeight must be positive",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  nginx: {stableIngress: i}\n  "
                  "maxTrafficWeight: 0"),
       "spec.strategy.canary.trafficRouting.maxTrafficWeight", "greater than 0", 19},
      {"maxTrafficWeight is for nginx, istio or plugins only",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  smi: {}\n  maxTrafficWeight: 1000"),
       "spec.strategy.canary.trafficRouting.maxTrafficWeight", "only with nginx, istio or plugins", 19},
      {"dynamicStableScale needs trafficRouting", withCanary("dynamicStableScale: true"),
       "spec.strategy.canary.dynamicStableScale", "needs trafficRouting", 15},
      {"dynamicStableScale excludes scaleDownDelaySeconds",
       withCanary(kIstio + "dynamicStableScale: true\nscaleDownDelaySeconds: 5"),
       "spec.strategy.canary.dynamicStableScale", "cannot be combined with scaleDownDelaySeconds", 20},
      {"scaleDownDelaySeconds needs trafficRouting", withCanary("scaleDownDelaySeconds: 10"),
       "spec.strategy.canary.scaleDownDelaySeconds", "only with trafficRouting", 15},
      {"abortScaleDownDelaySeconds needs trafficRouting", withCanary("abortScaleDownDelaySeconds: 10"),
       "spec.strategy.canary.abortScaleDownDelaySeconds", "only with trafficRouting", 15},
      {"minPodsPerReplicaSet needs trafficRouting", withCanary("minPodsPerReplicaSet: 2"),
       "spec.strategy.canary.minPodsPerReplicaSet", "only with trafficRouting", 15},
      {"scaleDownDelaySeconds is not negative", withCanary(kIstio + "scaleDownDelaySeconds: -1"),
       "spec.strategy.canary.scaleDownDelaySeconds", "at least 0", 20},
      {"abortScaleDownDelaySeconds is not negative", withCanary(kIstio + "abortScaleDownDelaySeconds: -1"),
       "spec.strategy.canary.abortScaleDownDelaySeconds", "at least 0", 20},
      {"minPodsPerReplicaSet is at least 1", withCanary(kIstio + "minPodsPerReplicaSet: 0"),
       "spec.strategy.canary.minPodsPerReplicaSet", "at least 1", 20},
      {"nginx needs a stable Ingress",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  nginx: {annotationPrefix: x}"),
       "spec.strategy.canary.trafficRouting.nginx", "needs stableIngress or stableIngresses", 18},
      {"istio needs a VirtualService",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  istio: {}"),
       "spec.strategy.canary.trafficRouting.istio", "needs virtualService or virtualServices", 18},
      {"an istio VirtualService needs a name",
       withCanary(
           "canaryService: c\nstableService: s\ntrafficRouting:\n  istio: {virtualService: {routes: [a]}}"),
       "spec.strategy.canary.trafficRouting.istio.virtualService.name", "is required", 18},
      {"trafficRouting needs a router",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  managedRoutes: [{name: a}]"),
       "spec.strategy.canary.trafficRouting", "must name a traffic router", 17},
      {"managed route names are unique",
       withCanary(
           "canaryService: c\nstableService: s\ntrafficRouting:\n  istio: {virtualService: {name: vs}}\n"
           "  managedRoutes: [{name: a}, {name: a}]"),
       "spec.strategy.canary.trafficRouting.managedRoutes[1].name", "duplicate managed route", 19},
      {"a header route must be a managed route",
       withCanary(kIstio + steps + "- setHeaderRoute: {name: other}"),
       "spec.strategy.canary.steps[0].setHeaderRoute.name", "must be listed in trafficRouting.managedRoutes",
       21},
      {"a header route needs a name", withCanary(kIstio + steps + "- setHeaderRoute: {match: []}"),
       "spec.strategy.canary.steps[0].setHeaderRoute.name", "is required", 21},
      {"nginx alone cannot set header routes", withCanary(kNginx + steps + "- setHeaderRoute: {name: hr}"),
       "spec.strategy.canary.steps[0].setHeaderRoute", "not supported by nginx", 21},
      {"a header route needs trafficRouting", withCanary("steps:\n- setHeaderRoute: {name: hr}"),
       "spec.strategy.canary.steps[0].setHeaderRoute", "needs trafficRouting", 16},
      {"smi cannot mirror", withCanary(kSmi + steps + "- setMirrorRoute: {name: mr}"),
       "spec.strategy.canary.steps[0].setMirrorRoute", "not supported by smi", 21},
      {"traefik cannot set header routes",
       withCanary(
           "canaryService: c\nstableService: s\ntrafficRouting:\n  traefik: {weightedTraefikServiceName: "
           "wrr}\n  managedRoutes: [{name: hr}, {name: mr}]\n" +
           steps + "- setHeaderRoute: {name: hr}"),
       "spec.strategy.canary.steps[0].setHeaderRoute", "not supported by traefik", 21},
      {"ambassador needs a Mapping",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  ambassador: {mappings: []}"),
       "spec.strategy.canary.trafficRouting.ambassador.mappings", "must name at least one Mapping", 18},
      {"ambassador cannot mirror",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  ambassador: {mappings: [m]}\n"
                  "  managedRoutes: [{name: hr}, {name: mr}]\n" +
                  steps + "- setMirrorRoute: {name: mr}"),
       "spec.strategy.canary.steps[0].setMirrorRoute", "not supported by ambassador", 21},
      {"apisix cannot mirror",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  apisix: {route: {name: r}}\n"
                  "  managedRoutes: [{name: hr}, {name: mr}]\n" +
                  steps + "- setMirrorRoute: {name: mr}"),
       "spec.strategy.canary.steps[0].setMirrorRoute", "not supported by apisix", 21},
      {"alb needs servicePort",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  alb: {ingress: i}"),
       "spec.strategy.canary.trafficRouting.alb.servicePort", "is required", 18},
      {"alb needs an Ingress",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  alb: {servicePort: 80}"),
       "spec.strategy.canary.trafficRouting.alb", "needs ingress or ingresses", 18},
      {"alb stickiness lasts as long as AWS allows",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  alb: {ingress: i, servicePort: 80, "
                  "stickinessConfig: {enabled: true, durationSeconds: 0}}"),
       "spec.strategy.canary.trafficRouting.alb.stickinessConfig.durationSeconds",
       "must be between 1 and 604800 seconds", 18},
      {"alb cannot mirror",
       withCanary(
           "canaryService: c\nstableService: s\ntrafficRouting:\n  alb: {ingress: i, servicePort: 80}\n"
           "  managedRoutes: [{name: hr}, {name: mr}]\n" +
           steps + "- setMirrorRoute: {name: mr}"),
       "spec.strategy.canary.steps[0].setMirrorRoute", "not supported by alb", 21},
      {"alb matches header values exactly",
       withCanary(
           "canaryService: c\nstableService: s\ntrafficRouting:\n  alb: {ingress: i, servicePort: 80}\n"
           "  managedRoutes: [{name: hr}, {name: mr}]\n" +
           steps + "- setHeaderRoute: {name: hr, match: [{headerName: x, headerValue: {prefix: a}}]}"),
       "spec.strategy.canary.steps[0].setHeaderRoute.match[0].headerValue",
       "alb matches header values exactly: prefix is not supported", 21},
      {"appMesh cannot set header routes",
       withCanary(
           "canaryService: c\nstableService: s\ntrafficRouting:\n"
           "  appMesh: {virtualService: {name: vs}, virtualNodeGroup: {canaryVirtualNodeRef: {name: c}, "
           "stableVirtualNodeRef: {name: s}}}\n  managedRoutes: [{name: hr}, {name: mr}]\n" +
           steps + "- setHeaderRoute: {name: hr}"),
       "spec.strategy.canary.steps[0].setHeaderRoute", "not supported by appMesh", 21},
      {"pingPong needs the alb router",
       withCanary("pingPong: {pingService: ping, pongService: pong}\ncanaryService: c\nstableService: s\n"
                  "trafficRouting:\n  nginx: {stableIngress: i}"),
       "spec.strategy.canary.pingPong", "needs trafficRouting.alb", 15},
      {"pingPong with alb needs a rootService",
       withCanary("pingPong: {pingService: ping, pongService: pong}\ntrafficRouting:\n"
                  "  alb: {ingress: i, servicePort: 80}"),
       "spec.strategy.canary.trafficRouting.alb.rootService", "is required with pingPong", 17},
      {"the ping and pong Services differ",
       withCanary("pingPong: {pingService: ping, pongService: ping}\ntrafficRouting:\n"
                  "  alb: {ingress: i, servicePort: 80, rootService: root}"),
       "spec.strategy.canary.pingPong.pongService", "must differ from pingService", 15},
      {"maxTrafficWeight is not traefik's",
       withCanary(
           "canaryService: c\nstableService: s\ntrafficRouting:\n  traefik: {weightedTraefikServiceName: "
           "wrr}\n  maxTrafficWeight: 1000"),
       "spec.strategy.canary.trafficRouting.maxTrafficWeight", "only with nginx, istio or plugins", 19},
      {"a mirror route must be a managed route",
       withCanary(kIstio + steps + "- setMirrorRoute: {name: nope}"),
       "spec.strategy.canary.steps[0].setMirrorRoute.name", "must be listed in trafficRouting.managedRoutes",
       21},
      {"mirror percentage is within 0..100",
       withCanary(kIstio + steps + "- setMirrorRoute: {name: mr, percentage: 150}"),
       "spec.strategy.canary.steps[0].setMirrorRoute.percentage", "between 0 and 100, got 150", 21},
      {"an analysis step needs a template", withCanary("steps:\n- analysis: {templates: []}"),
       "spec.strategy.canary.steps[0].analysis.templates", "at least one template", 16},
      {"an analysis template needs a templateName",
       withCanary("steps:\n- analysis: {templates: [{clusterScope: true}]}"),
       "spec.strategy.canary.steps[0].analysis.templates[0].templateName", "is required", 16},
      {"background analysis needs a template", withCanary("analysis: {args: [{name: a, value: b}]}"),
       "spec.strategy.canary.analysis.templates", "at least one template", 15},
      {"background startingStep is within the steps",
       withCanary("analysis: {templates: [{templateName: t}], startingStep: 2}\nsteps:\n- setWeight: 10\n- "
                  "pause: {}"),
       "spec.strategy.canary.analysis.startingStep", "must be within the steps (0..1), got 2", 15},
      {"background startingStep is not negative",
       withCanary("analysis: {templates: [{templateName: t}], startingStep: -1}"),
       "spec.strategy.canary.analysis.startingStep", "must be within the steps", 15},
  };
  for (const auto& row : rows) checkDiagnosticCase(row);
}

TEST_CASE("valid routed plans pass validation", "[engine][validate]") {
  const std::vector<std::pair<const char*, std::string>> rows = {
      {"istio with header and mirror routes",
       withCanary(
           kIstio +
           "steps:\n- setHeaderRoute: {name: hr, match: [{headerName: x, headerValue: {regex: a.*}}]}\n"
           "- setMirrorRoute: {name: mr, percentage: 0}\n- setCanaryScale: {matchTrafficWeight: true}")},
      {"a plugin router can set header routes",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  plugins: "
                  "{argoproj-labs/gatewayAPI: {httpRoute: r}}\n"
                  "  managedRoutes: [{name: hr}]\n  maxTrafficWeight: 1000\nsteps:\n- setWeight: 1000\n"
                  "- setHeaderRoute: {name: hr}")},
      {"apisix can set header routes",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  apisix: {route: {name: r}}\n"
                  "  managedRoutes: [{name: hr}]\nsteps:\n"
                  "- setHeaderRoute: {name: hr, match: [{headerName: trace, headerValue: {exact: debug}}]}")},
      {"alb with ping-pong Services and an exact header route",
       withCanary("pingPong: {pingService: ping, pongService: pong}\ntrafficRouting:\n"
                  "  alb: {ingresses: [i, j], servicePort: 80, rootService: root,\n"
                  "    stickinessConfig: {enabled: true, durationSeconds: 600}}\n"
                  "  managedRoutes: [{name: hr}]\nsteps:\n"
                  "- setHeaderRoute: {name: hr, match: [{headerName: x, headerValue: {exact: y}}]}")},
      {"an Exists expression selects labelled pods",
       replaced(withCanary("{}"), "matchLabels: {app: web}",
                "matchExpressions: [{key: app, operator: Exists}]")},
      {"background analysis may start at the last step",
       withCanary("analysis: {templates: [{templateName: t}], startingStep: 1}\nsteps:\n- setWeight: 10\n- "
                  "pause: {}")},
      {"basic canary with a 0 maxSurge and a positive maxUnavailable",
       withCanary("maxSurge: 0\nmaxUnavailable: 1")},
  };
  for (const auto& [behaviour, yaml] : rows) {
    INFO(behaviour);
    const Loaded loaded = loadRollout(yaml);
    INFO(loaded.diags.format());
    CHECK(loaded.diags.empty());
    CHECK(loaded.rollout.has_value());
  }
}

TEST_CASE("every broken rule is reported, not just the first", "[engine][validate]") {
  const Loaded loaded = loadRollout(replaced(
      withCanary("steps:\n- setWeight: 120\n- setCanaryScale: {replicas: 1}\ndynamicStableScale: true"),
      "containers: [{name: web, image: web:1}]", "containers: []"));
  INFO(loaded.diags.format());
  CHECK(loaded.diags.errorCount() == 4);
  CHECK_FALSE(loaded.rollout.has_value());
}

TEST_CASE("validateRollout works on a model built in code, without a source map", "[engine][validate]") {
  engine::Rollout r;
  r.spec.selector = {{"matchLabels", {{"app", "x"}}}};
  r.spec.podTemplate = {{"metadata", {{"labels", {{"app", "x"}}}}},
                        {"spec", {{"containers", {{{"name", "x"}}}}}}};
  Diagnostics diags;
  engine::validateRollout(r, SourceMap(), diags);
  CHECK(diags.empty());
  r.spec.canary.steps.push_back({engine::SetWeightStep{101}});
  engine::validateRollout(r, SourceMap(), diags);
  REQUIRE(diags.items().size() == 1);
  CHECK(diags.items()[0].format() ==
        "error: spec.strategy.canary.steps[0].setWeight: must be between 0 and 100, got 101");
}
