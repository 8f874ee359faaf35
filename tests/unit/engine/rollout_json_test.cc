// The Rollout loader: every field read, Argo's defaults, every kind of input error with its path and
// line, warnings for unknown fields, and the status wire format.
#include <catch2/catch.hpp>

#include "tests/unit/engine/rollout_test_manifests.h"

using namespace sluice;
using namespace sluice::engine;
using namespace sluice::testing;

namespace {

const char* kFullRollout = R"(apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
  namespace: shop
  uid: 0b1c
  resourceVersion: "42"
  generation: 7
  labels: {team: payments}
  annotations: {sluice.dev/revision: "3"}
  creationTimestamp: "2026-01-02T03:04:05Z"
spec:
  replicas: 5
  minReadySeconds: 10
  revisionHistoryLimit: 3
  paused: true
  progressDeadlineSeconds: 120
  progressDeadlineAbort: true
  restartAt: "2026-11-27T22:14:30Z"
  rollbackWindow: {revisions: 2}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: web:1, anything: [1, 2]}]
  strategy:
    canary:
      canaryService: web-canary
      stableService: web-stable
      maxSurge: 2
      maxUnavailable: "10"
      abortScaleDownDelaySeconds: 0
      scaleDownDelaySeconds: 45
      minPodsPerReplicaSet: 2
      trafficRouting:
        nginx:
          stableIngresses: [web-a, web-b]
          annotationPrefix: custom.nginx.org
          additionalIngressAnnotations: {canary-by-header: X-Canary}
          canaryIngressAnnotations: {custom.nginx.org/foo: bar}
        istio:
          virtualServices:
          - name: vs1
            routes: [primary]
            tlsRoutes: [{port: 443, sniHosts: [web.example]}]
            tcpRoutes: [{port: 9000}]
          - name: vs2
          destinationRule: {name: dr, canarySubsetName: canary, stableSubsetName: stable, additionalSubsetNames: [extra]}
        smi: {rootService: root, trafficSplitName: split}
        plugins:
          argoproj-labs/gatewayAPI: {httpRoute: web-route, namespace: shop}
        managedRoutes: [{name: header}, {name: mirror}]
      analysis:
        templates: [{templateName: bg, clusterScope: true}]
        args: [{name: svc, value: web}]
        startingStep: 1
      steps:
      - setWeight: 20
      - pause: {}
      - pause: {duration: 30}
      - pause: {duration: "1h30m"}
      - analysis:
          templates: [{templateName: success-rate}, {templateName: latency, clusterScope: true}]
          args:
          - {name: service, value: web-canary}
          - name: hash
            valueFrom: {podTemplateHashValue: Stable}
          - name: ns
            valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
          dryRun: [{metricName: latency}]
          measurementRetention: [{metricName: success, limit: 20}]
          analysisRunMetadata: {labels: {run: canary}, annotations: {note: x}}
      - setCanaryScale: {replicas: 3}
      - setCanaryScale: {weight: 40}
      - setCanaryScale: {matchTrafficWeight: true}
      - setHeaderRoute:
          name: header
          match:
          - {headerName: x-a, headerValue: {exact: "1"}}
          - {headerName: x-b, headerValue: {regex: "b.*"}}
          - {headerName: x-c, headerValue: {prefix: c}}
      - setMirrorRoute:
          name: mirror
          percentage: 25
          match: [{method: {exact: GET}, path: {prefix: /api}}]
      - setMirrorRoute: {name: mirror}
)";

}  // namespace

TEST_CASE("every spec field is read", "[engine][rollout_json]") {
  const Loaded loaded = loadRollout(kFullRollout);
  INFO(loaded.diags.format());
  // maxTrafficWeight is unset here on purpose: istio and smi are present too.
  REQUIRE(loaded.diags.empty());
  REQUIRE(loaded.rollout.has_value());
  const Rollout& r = *loaded.rollout;
  CHECK(r.apiVersion == kArgoApiVersion);
  CHECK(r.metadata.name == "web");
  CHECK(r.metadata.ns == "shop");
  CHECK(r.metadata.uid == "0b1c");
  CHECK(r.metadata.resourceVersion == "42");
  CHECK(r.metadata.generation == 7);
  CHECK(r.metadata.labels == std::map<std::string, std::string>{{"team", "payments"}});
  CHECK(r.metadata.annotations.at("sluice.dev/revision") == "3");

  const RolloutSpec& s = r.spec;
  CHECK(s.replicas == 5);
  CHECK(s.minReadySeconds == 10);
  CHECK(s.revisionHistoryLimit == 3);
  CHECK(s.paused);
  CHECK(s.progressDeadlineSeconds == 120);
  CHECK(s.progressDeadlineAbort);
  REQUIRE(s.restartAt.has_value());
  CHECK(formatRfc3339(*s.restartAt) == "2026-11-27T22:14:30Z");
  CHECK(s.rollbackWindowRevisions == 2);
  CHECK(s.selector == nlohmann::json::parse(R"({"matchLabels":{"app":"web"}})"));
  CHECK(s.podTemplate["spec"]["containers"][0]["anything"] == nlohmann::json::array({1, 2}));

  const CanaryStrategy& c = s.canary;
  CHECK(c.canaryService == "web-canary");
  CHECK(c.stableService == "web-stable");
  CHECK(c.maxSurge == IntOrPercent{2, false});
  CHECK(c.maxUnavailable == IntOrPercent{10, true});  // a bare numeric string is a percentage
  CHECK(c.abortScaleDownDelaySeconds == 0);
  CHECK(c.abortScaleDownDelay() == 0);
  CHECK(c.scaleDownDelay() == 45);
  CHECK(c.minPodsPerReplicaSet == 2);

  REQUIRE(c.trafficRouting.has_value());
  const TrafficRouting& tr = *c.trafficRouting;
  REQUIRE(tr.nginx.has_value());
  CHECK(tr.nginx->stableIngresses == std::vector<std::string>{"web-a", "web-b"});
  CHECK(tr.nginx->annotationPrefix == "custom.nginx.org");
  CHECK(tr.nginx->additionalIngressAnnotations.at("canary-by-header") == "X-Canary");
  CHECK(tr.nginx->canaryIngressAnnotations.at("custom.nginx.org/foo") == "bar");
  REQUIRE(tr.istio.has_value());
  REQUIRE(tr.istio->virtualServices.size() == 2);
  CHECK(tr.istio->virtualServices[0].name == "vs1");
  CHECK(tr.istio->virtualServices[0].routes == std::vector<std::string>{"primary"});
  CHECK(tr.istio->virtualServices[0].tlsRoutes[0]["port"] == 443);
  CHECK(tr.istio->virtualServices[0].tcpRoutes[0]["port"] == 9000);
  CHECK(tr.istio->virtualServices[1].name == "vs2");
  REQUIRE(tr.istio->destinationRule.has_value());
  CHECK(tr.istio->destinationRule->name == "dr");
  CHECK(tr.istio->destinationRule->canarySubsetName == "canary");
  CHECK(tr.istio->destinationRule->stableSubsetName == "stable");
  CHECK(tr.istio->destinationRule->additionalSubsetNames == std::vector<std::string>{"extra"});
  REQUIRE(tr.smi.has_value());
  CHECK(tr.smi->rootService == "root");
  CHECK(tr.smi->trafficSplitName == "split");
  CHECK(tr.plugins.at("argoproj-labs/gatewayAPI")["httpRoute"] == "web-route");
  CHECK(tr.managedRoutes == std::vector<std::string>{"header", "mirror"});
  CHECK_FALSE(tr.maxTrafficWeight.has_value());
  CHECK(tr.maxWeight() == 100);

  REQUIRE(c.analysis.has_value());
  CHECK(c.analysis->startingStep == 1);
  CHECK(c.analysis->templates[0].templateName == "bg");
  CHECK(c.analysis->templates[0].clusterScope);
  CHECK(c.analysis->args[0].value == "web");

  REQUIRE(c.steps.size() == 11);
  CHECK(std::get<SetWeightStep>(c.steps[0].action).weight == 20);
  CHECK_FALSE(std::get<PauseStep>(c.steps[1].action).duration.has_value());
  CHECK(std::get<PauseStep>(c.steps[2].action).duration == Duration{30});
  CHECK(std::get<PauseStep>(c.steps[3].action).duration == Duration{5400});

  const RolloutAnalysis& a = std::get<AnalysisStep>(c.steps[4].action).analysis;
  REQUIRE(a.templates.size() == 2);
  CHECK(a.templates[0].templateName == "success-rate");
  CHECK_FALSE(a.templates[0].clusterScope);
  CHECK(a.templates[1].clusterScope);
  REQUIRE(a.args.size() == 3);
  CHECK(a.args[0].name == "service");
  CHECK(a.args[0].value == "web-canary");
  CHECK(a.args[1].podTemplateHashValue == "Stable");
  CHECK_FALSE(a.args[1].value.has_value());
  CHECK(a.args[2].fieldRef == "metadata.namespace");
  CHECK(a.dryRun == std::vector<std::string>{"latency"});
  REQUIRE(a.measurementRetention.size() == 1);
  CHECK(a.measurementRetention[0].metricName == "success");
  CHECK(a.measurementRetention[0].limit == 20);
  CHECK(a.runLabels.at("run") == "canary");
  CHECK(a.runAnnotations.at("note") == "x");

  CHECK(std::get<SetCanaryScaleStep>(c.steps[5].action).replicas == 3);
  CHECK(std::get<SetCanaryScaleStep>(c.steps[6].action).weight == 40);
  CHECK(std::get<SetCanaryScaleStep>(c.steps[7].action).matchTrafficWeight);
  const auto& header = std::get<SetHeaderRouteStep>(c.steps[8].action);
  CHECK(header.name == "header");
  REQUIRE(header.match.size() == 3);
  CHECK((header.match[0].headerName == "x-a" && header.match[0].matchType == "exact" &&
         header.match[0].value == "1"));
  CHECK((header.match[1].matchType == "regex" && header.match[1].value == "b.*"));
  CHECK((header.match[2].matchType == "prefix" && header.match[2].value == "c"));
  const auto& mirror = std::get<SetMirrorRouteStep>(c.steps[9].action);
  CHECK(mirror.name == "mirror");
  CHECK(mirror.percentage == 25);
  CHECK(mirror.match[0]["path"]["prefix"] == "/api");
  CHECK(std::get<SetMirrorRouteStep>(c.steps[10].action).percentage == 100);  // default
  CHECK(std::get<SetMirrorRouteStep>(c.steps[10].action).match.empty());
}

TEST_CASE("a step with actions beside its pause keeps them all, the pause deciding",
          "[engine][rollout_json]") {
  const Loaded loaded = loadRollout(withCanary(
      "canaryService: c\nstableService: s\ntrafficRouting:\n  istio: {virtualService: {name: vs}}\n"
      "  managedRoutes: [{name: hr}]\nsteps:\n- setHeaderRoute: {name: hr, match: [{headerName: x, "
      "headerValue: "
      "{exact: y}}]}\n  pause: {}\n  setCanaryScale: {replicas: 2}"));
  INFO(loaded.diags.format());
  REQUIRE(loaded.rollout.has_value());
  CHECK(loaded.diags.empty());
  const CanaryStep& step = loaded.rollout->spec.canary.steps.at(0);
  CHECK(std::holds_alternative<PauseStep>(step.action));
  REQUIRE(step.alongside.size() == 2);
  CHECK(std::holds_alternative<SetCanaryScaleStep>(step.alongside[0]));
  CHECK(std::holds_alternative<SetHeaderRouteStep>(step.alongside[1]));
  CHECK(describeStep(step) == "pause + setCanaryScale: replicas 2 + setHeaderRoute: hr");
  REQUIRE(stepAction<SetCanaryScaleStep>(step) != nullptr);
  CHECK(stepAction<SetCanaryScaleStep>(step)->replicas == 2);
  CHECK(stepAction<SetWeightStep>(step) == nullptr);
}

TEST_CASE("a minimal Rollout gets Argo's defaults", "[engine][rollout_json]") {
  const Loaded loaded = loadRollout(withCanary("{}"));
  INFO(loaded.diags.format());
  REQUIRE(loaded.rollout.has_value());
  const Rollout& r = *loaded.rollout;
  CHECK(r.apiVersion == kApiVersion);
  CHECK(r.spec.replicas == 1);
  CHECK(r.spec.minReadySeconds == 0);
  CHECK(r.spec.revisionHistoryLimit == 10);
  CHECK(r.spec.progressDeadlineSeconds == 600);
  CHECK_FALSE(r.spec.paused);
  CHECK_FALSE(r.spec.progressDeadlineAbort);
  CHECK_FALSE(r.spec.restartAt.has_value());
  CHECK_FALSE(r.spec.rollbackWindowRevisions.has_value());
  const CanaryStrategy& c = r.spec.canary;
  CHECK(c.maxSurge == IntOrPercent{25, true});
  CHECK(c.maxUnavailable == IntOrPercent{25, true});
  CHECK(c.abortScaleDownDelay() == 30);
  CHECK(c.scaleDownDelay() == 30);
  CHECK_FALSE(c.minPodsPerReplicaSet.has_value());
  CHECK_FALSE(c.dynamicStableScale);
  CHECK_FALSE(c.trafficRouting.has_value());
  CHECK_FALSE(c.analysis.has_value());
  CHECK(c.steps.empty());
  CHECK(r.status.phase.empty());
  CHECK_FALSE(r.status.currentStepIndex.has_value());

  const Loaded nginx = loadRollout(
      withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  nginx: {stableIngress: web}"));
  REQUIRE(nginx.rollout.has_value());
  const auto& n = *nginx.rollout->spec.canary.trafficRouting->nginx;
  CHECK(n.stableIngresses == std::vector<std::string>{"web"});  // stableIngress folds into the list
  CHECK(n.annotationPrefix == "nginx.ingress.kubernetes.io");
  CHECK(nginx.rollout->spec.canary.trafficRouting->maxWeight() == 100);
}

TEST_CASE("a Rollout with a workloadRef has no template of its own, and may leave out its selector",
          "[engine][rollout_json]") {
  const std::string text =
      "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web}\n"
      "spec:\n  replicas: 3\n"
      "  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web-deploy, scaleDown: progressively}\n"
      "  strategy: {canary: {steps: [{setWeight: 20}]}}\n"
      "status: {workloadObservedGeneration: \"4\"}\n";
  const Loaded loaded = loadRollout(text);
  INFO(loaded.diags.format());
  REQUIRE(loaded.rollout.has_value());
  const auto& ref = loaded.rollout->spec.workloadRef;
  REQUIRE(ref.has_value());
  CHECK(ref->name == "web-deploy");
  CHECK(ref->scaleDown == engine::WorkloadScaleDown::Progressively);
  CHECK(loaded.rollout->spec.podTemplate.empty());
  CHECK(loaded.rollout->status.workloadObservedGeneration == "4");
  CHECK(engine::statusToJson(loaded.rollout->status)["workloadObservedGeneration"] == "4");

  for (const char* mode : {"never", "onsuccess"}) {
    const Loaded other = loadRollout(replaced(text, "progressively", mode));
    REQUIRE(other.rollout.has_value());
    CHECK(engine::workloadScaleDownName(other.rollout->spec.workloadRef->scaleDown) == std::string(mode));
  }
  const Loaded defaulted = loadRollout(replaced(text, ", scaleDown: progressively", ""));
  REQUIRE(defaulted.rollout.has_value());
  CHECK(defaulted.rollout->spec.workloadRef->scaleDown == engine::WorkloadScaleDown::Never);
}

TEST_CASE("both apiVersions are accepted, others are not", "[engine][rollout_json]") {
  for (const char* api : {"sluice.dev/v1alpha1", "argoproj.io/v1alpha1"}) {
    const Loaded loaded = loadRollout(replaced(withCanary("{}"), "sluice.dev/v1alpha1", api));
    REQUIRE(loaded.rollout.has_value());
    CHECK(loaded.rollout->apiVersion == api);
  }
  const Loaded other = loadRollout(replaced(withCanary("{}"), "sluice.dev/v1alpha1", "apps/v1"));
  CHECK_FALSE(other.rollout.has_value());
  CHECK(findDiagnostic(other.diags, "apiVersion",
                       "must be sluice.dev/v1alpha1 or argoproj.io/v1alpha1, got string \"apps/v1\""));
}

TEST_CASE("each input error is reported at its field and line", "[engine][rollout_json]") {
  const std::string base = withCanary("{}");
  const std::vector<DiagnosticCase> rows = {
      {"an integer field given a string", withSpec("replicas: abc"), "spec.replicas",
       "must be an integer, got string \"abc\"", 6},
      {"an integer field given a fraction", withSpec("replicas: 1.5"), "spec.replicas",
       "must be an integer, got number 1.5", 6},
      {"an integer field given a quoted number", withSpec("replicas: \"3\""), "spec.replicas",
       "must be an integer, got string \"3\"", 6},
      {"an integer beyond 32 bits", withSpec("replicas: 9999999999"), "spec.replicas", "out of range", 6},
      {"a bool field given a number", withSpec("paused: 3"), "spec.paused",
       "must be true or false, got number 3", 6},
      {"an object field given a list", withSpec("rollbackWindow: [a]"), "spec.rollbackWindow",
       "must be an object, got a list", 6},
      {"a list field given a string", withCanary("steps: setWeight"), "spec.strategy.canary.steps",
       "must be a list, got string \"setWeight\"", 15},
      {"a label value that is not a string",
       replaced(base, "  name: web\n", "  name: web\n  labels: {tier: 1}\n"), "metadata.labels.tier",
       "must be a string, got number 1", 5},
      {"an annotation value that is not a string",
       replaced(base, "  name: web\n", "  name: web\n  annotations: {sluice.dev/x: true}\n"),
       "metadata.annotations[\"sluice.dev/x\"]", "must be a string, got bool true", 5},
      {"the name is required", replaced(base, "  name: web\n", "  namespace: shop\n"), "metadata.name",
       "is required", 3},
      {"metadata is required", replaced(base, "metadata:\n  name: web\n", ""), "metadata", "is required", 1},
      {"kind must be Rollout", replaced(base, "kind: Rollout", "kind: Deployment"), "kind",
       "must be Rollout, got \"Deployment\"", 2},
      {"a strategy is required", replaced(base, "  strategy:\n    canary:\n      {}\n", ""), "spec.strategy",
       "is required", 5},
      {"an empty strategy names the choices", replaced(base, "    canary:\n      {}\n", "    {}\n"),
       "spec.strategy", "must set one of canary or blueGreen", 13},
      {"blue-green needs an active Service",
       replaced(base, "    canary:\n      {}\n", "    blueGreen: {previewService: a}\n"),
       "spec.strategy.blueGreen.activeService", "is required", 14},
      {"two strategies are rejected",
       replaced(base, "    canary:\n", "    blueGreen: {activeService: a}\n    canary:\n"), "spec.strategy",
       "must set only one of canary or blueGreen", 13},
      {"workloadRef names an apps/v1 Deployment only",
       withSpec("workloadRef: {apiVersion: apps/v1, kind: StatefulSet, name: web}"), "spec.workloadRef.kind",
       "supports workloadRef to an apps/v1 Deployment only, got apps/v1 StatefulSet", 6},
      {"workloadRef's scaleDown takes Argo's three values",
       withSpec("workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web, scaleDown: sometimes}"),
       "spec.workloadRef.scaleDown", "must be never, onsuccess or progressively, got \"sometimes\"", 6},
      {"workloadRef and template exclude each other",
       withSpec("workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web}"), "spec.template",
       "must not be set with spec.workloadRef", 9},
      {"workloadRef needs a name", withSpec("workloadRef: {apiVersion: apps/v1, kind: Deployment}"),
       "spec.workloadRef.name", "is required", 6},
      {"an unknown step kind lists the allowed ones", withCanary("steps:\n- setWieght: 10"),
       "spec.strategy.canary.steps[0].setWieght",
       "unknown step kind \"setWieght\"; allowed: setWeight, pause, analysis", 16},
      {"an experiment step needs its templates", withCanary("steps:\n- experiment: {duration: 5m}"),
       "spec.strategy.canary.steps[0].experiment.templates", "is required", 16},
      {"a plugin step is refused by name", withCanary("steps:\n- plugin: {name: x}"),
       "spec.strategy.canary.steps[0].plugin",
       "the step plugin \"x\" is a Go binary Argo Rollouts loads; Sluice loads no plugins: use an analysis "
       "step",
       16},
      {"a router plugin is refused by name",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  plugins: {example.com/mesh: {}}"),
       "spec.strategy.canary.trafficRouting.plugins[\"example.com/mesh\"]",
       "the router plugin \"example.com/mesh\" is a Go binary Argo Rollouts loads; Sluice loads no plugins: "
       "its "
       "built-in routers are nginx, istio, smi, traefik, ambassador, apisix, alb, appMesh and the Gateway "
       "API",
       18},
      {"setCanaryScale cannot stand beside an analysis it would decide before",
       withCanary("steps:\n- setCanaryScale: {replicas: 1}\n  analysis: {templates: [{templateName: t}]}"),
       "spec.strategy.canary.steps[0]", "a step cannot set setCanaryScale beside analysis", 16},
      {"a step sets at most one of setWeight, pause and analysis",
       withCanary("steps:\n- setWeight: 10\n  pause: {}"), "spec.strategy.canary.steps[0]",
       "at most one of setWeight, pause, experiment and analysis, got pause and setWeight", 16},
      {"an empty step names the step kinds", withCanary("steps:\n- {}"), "spec.strategy.canary.steps[0]",
       "a step must set one of setWeight, pause", 16},
      {"a step that is not an object", withCanary("steps:\n- 5"), "spec.strategy.canary.steps[0]",
       "must be an object with one step kind, got number 5", 16},
      {"setWeight given a string", withCanary("steps:\n- setWeight: \"abc\""),
       "spec.strategy.canary.steps[0].setWeight", "must be an integer, got string \"abc\"", 16},
      {"pause given a bare number", withCanary("steps:\n- pause: 30"), "spec.strategy.canary.steps[0].pause",
       "must be an object, got number 30", 16},
      {"a negative pause in seconds", withCanary("steps:\n- pause: {duration: -5}"),
       "spec.strategy.canary.steps[0].pause.duration", "must not be negative, got -5", 16},
      {"a negative pause as a string", withCanary("steps:\n- pause: {duration: \"-5m\"}"),
       "spec.strategy.canary.steps[0].pause.duration", "negative duration", 16},
      {"an unparseable pause", withCanary("steps:\n- pause: {duration: soon}"),
       "spec.strategy.canary.steps[0].pause.duration", "invalid duration \"soon\"", 16},
      {"a pause with a unit it does not know", withCanary("steps:\n- pause: {duration: 3d}"),
       "spec.strategy.canary.steps[0].pause.duration", "unknown unit \"d\"", 16},
      {"headerValue sets exactly one match type",
       withCanary(kIstio + "steps:\n- setHeaderRoute: {name: hr, match: [{headerName: a, headerValue: "
                           "{exact: x, prefix: y}}]}"),
       "spec.strategy.canary.steps[0].setHeaderRoute.match[0].headerValue",
       "exactly one of exact, regex or prefix", 21},
      {"headerValue is required",
       withCanary(kIstio + "steps:\n- setHeaderRoute: {name: hr, match: [{headerName: a}]}"),
       "spec.strategy.canary.steps[0].setHeaderRoute.match[0].headerValue", "is required", 21},
      {"a mirror match must be a list",
       withCanary(kIstio + "steps:\n- setMirrorRoute: {name: mr, match: {path: x}}"),
       "spec.strategy.canary.steps[0].setMirrorRoute.match", "must be a list, got an object", 21},
      {"maxSurge given a word", withCanary("maxSurge: lots"), "spec.strategy.canary.maxSurge",
       "must be an integer or a percentage like \"25%\", got string \"lots\"", 15},
      {"maxUnavailable negative", withCanary("maxUnavailable: -1"), "spec.strategy.canary.maxUnavailable",
       "must not be negative", 15},
      {"restartAt must be RFC 3339", withSpec("restartAt: yesterday"), "spec.restartAt",
       "invalid timestamp \"yesterday\"", 6},
      {"stableIngress and stableIngresses together",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  nginx:\n    stableIngress: a\n    "
                  "stableIngresses: [b]"),
       "spec.strategy.canary.trafficRouting.nginx.stableIngresses", "cannot be combined with stableIngress",
       20},
      {"virtualService and virtualServices together",
       withCanary(
           "canaryService: c\nstableService: s\ntrafficRouting:\n  istio:\n    virtualService: {name: a}\n"
           "    virtualServices: [{name: b}]"),
       "spec.strategy.canary.trafficRouting.istio.virtualServices", "cannot be combined with virtualService",
       20},
      {"traefik needs its TraefikService",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  traefik: {}"),
       "spec.strategy.canary.trafficRouting.traefik.weightedTraefikServiceName", "is required", 18},
      {"apisix needs its route",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  apisix: {}"),
       "spec.strategy.canary.trafficRouting.apisix.route", "is required", 18},
      {"an apisix route needs its name",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  apisix: {route: {rules: [a]}}"),
       "spec.strategy.canary.trafficRouting.apisix.route.name", "is required", 18},
      {"appMesh needs its VirtualNodes",
       withCanary(
           "canaryService: c\nstableService: s\ntrafficRouting:\n  appMesh: {virtualService: {name: vs}}"),
       "spec.strategy.canary.trafficRouting.appMesh.virtualNodeGroup", "is required", 18},
      {"alb takes ingress or ingresses, not both",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n"
                  "  alb: {ingress: x, ingresses: [y], servicePort: 80}"),
       "spec.strategy.canary.trafficRouting.alb.ingresses", "cannot be combined with ingress", 18},
      {"plugins must be a map",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  plugins: [x]"),
       "spec.strategy.canary.trafficRouting.plugins", "must be a map of plugin name to configuration", 18},
      {"a destinationRule needs its subsets",
       withCanary(
           "canaryService: c\nstableService: s\ntrafficRouting:\n  istio:\n    virtualService: {name: a}\n"
           "    destinationRule: {name: dr, stableSubsetName: s}"),
       "spec.strategy.canary.trafficRouting.istio.destinationRule.canarySubsetName", "is required", 20},
      {"podTemplateHashValue is Stable or Latest",
       withCanary("steps:\n- analysis: {templates: [{templateName: t}], args: [{name: h, valueFrom: "
                  "{podTemplateHashValue: Old}}]}"),
       "spec.strategy.canary.steps[0].analysis.args[0].valueFrom.podTemplateHashValue",
       "must be \"Stable\" or \"Latest\"", 16},
      {"an argument takes value or valueFrom, not both",
       withCanary("steps:\n- analysis: {templates: [{templateName: t}], args: [{name: h, value: x, "
                  "valueFrom: {podTemplateHashValue: Stable}}]}"),
       "spec.strategy.canary.steps[0].analysis.args[0].valueFrom", "cannot be combined with value", 16},
      {"an argument needs a name",
       withCanary("steps:\n- analysis: {templates: [{templateName: t}], args: [{value: x}]}"),
       "spec.strategy.canary.steps[0].analysis.args[0].name", "is required", 16},
      {"pingPong names both Services", withCanary("pingPong: {pingService: a}"),
       "spec.strategy.canary.pingPong.pongService", "is required", 15},
      {"a bad status is an error at its field", base + "status:\n  currentStepIndex: two\n",
       "status.currentStepIndex", "must be an integer, got string \"two\"", 17},
      {"a bad time in the status",
       base + "status:\n  conditions:\n  - {type: Paused, lastUpdateTime: noon}\n",
       "status.conditions[0].lastUpdateTime", "invalid timestamp", 18},
  };
  for (const auto& row : rows) checkDiagnosticCase(row);
}

TEST_CASE("unknown fields are warnings with their full path", "[engine][rollout_json]") {
  const std::string base = withCanary("{}");
  const std::vector<DiagnosticCase> rows = {
      {"at the top", base + "extra: 1\n", "extra", "unknown field", 16, Severity::Warning},
      {"in metadata", replaced(base, "  name: web\n", "  name: web\n  lables: {a: b}\n"), "metadata.lables",
       "unknown field", 5, Severity::Warning},
      {"in spec", withSpec("replicaz: 3"), "spec.replicaz", "unknown field", 6, Severity::Warning},
      {"in the canary", withCanary("stepz: []"), "spec.strategy.canary.stepz", "unknown field", 15,
       Severity::Warning},
      {"in a step", withCanary("steps:\n- setCanaryScale: {replicas: 1, replicaz: 2}"),
       "spec.strategy.canary.steps[0].setCanaryScale.replicaz", "unknown field", 16, Severity::Warning},
      {"in a pause", withCanary("steps:\n- pause: {duraton: 5}"),
       "spec.strategy.canary.steps[0].pause.duraton", "unknown field", 16, Severity::Warning},
      {"in a virtual service",
       withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  istio: {virtualService: {name: a, "
                  "hosts: [x]}}"),
       "spec.strategy.canary.trafficRouting.istio.virtualService.hosts", "unknown field", 18,
       Severity::Warning},
      {"scaleDownDelayRevisionLimit needs traffic routing, as Argo's validation says",
       withCanary("scaleDownDelayRevisionLimit: 2"), "spec.strategy.canary.scaleDownDelayRevisionLimit",
       "is allowed only with trafficRouting", 15, Severity::Error},
  };
  for (const auto& row : rows) checkDiagnosticCase(row);
}

TEST_CASE("the template, selector, plugins and mirror matches are kept as given, without warnings",
          "[engine][rollout_json]") {
  const std::string yaml = replaced(
      withCanary("canaryService: c\nstableService: s\ntrafficRouting:\n  plugins: {argoproj-labs/gatewayAPI: "
                 "{anything: [1]}}\n"
                 "  managedRoutes: [{name: m}]\nsteps:\n- setMirrorRoute: {name: m, match: [{whatever: 1}]}"),
      "containers: [{name: web, image: web:1}]", "containers: [{name: web, image: web:1, futureField: 1}]");
  const Loaded loaded = loadRollout(yaml);
  INFO(loaded.diags.format());
  CHECK(loaded.diags.empty());
  REQUIRE(loaded.rollout.has_value());
  CHECK(loaded.rollout->spec.podTemplate["spec"]["containers"][0]["futureField"] == 1);
}

TEST_CASE("every problem is collected, in source order", "[engine][rollout_json]") {
  const Loaded loaded =
      loadRollout(withCanary("oops: 1\nsteps:\n- setWeight: x\n- pause: {duration: -1}\n- jump: {}"));
  INFO(loaded.diags.format());
  REQUIRE(loaded.diags.items().size() == 4);
  CHECK(loaded.diags.errorCount() == 3);
  CHECK(loaded.diags.warningCount() == 1);
  for (size_t i = 1; i < loaded.diags.items().size(); ++i) {
    CHECK(loaded.diags.items()[i - 1].line <= loaded.diags.items()[i].line);
  }
}

TEST_CASE("every Rollout of a multi-document file loads on its own", "[engine][rollout_json]") {
  const std::string stream = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n" + withCanary("{}") +
                             "---\n" +
                             replaced(withCanary("steps:\n- setWeight: 500"), "name: web", "name: second");
  auto docs = parseYamlDocuments(stream, "multi.yaml");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 3);
  Diagnostics first;
  CHECK(parseRollout(docs->at(1).json, docs->at(1).source, first).has_value());
  CHECK(first.empty());
  Diagnostics second;
  CHECK_FALSE(parseRollout(docs->at(2).json, docs->at(2).source, second).has_value());
  REQUIRE(second.items().size() == 1);
  // Line numbers count from the start of the file, not of the document.
  CHECK(second.items()[0].line == 4 + 15 + 1 + 16);
  CHECK(second.items()[0].path == "spec.strategy.canary.steps[0].setWeight");
}

TEST_CASE("an object that is not a Rollout at all is reported, not thrown", "[engine][rollout_json]") {
  for (const auto& value :
       {nlohmann::json(5), nlohmann::json::array(), nlohmann::json(nullptr), nlohmann::json("x")}) {
    Diagnostics diags;
    CHECK_FALSE(parseRollout(value, SourceMap(), diags).has_value());
    CHECK(diags.hasErrors());
  }
  Diagnostics diags;
  CHECK_FALSE(parseRollout(nlohmann::json::object(), SourceMap(), diags).has_value());
  CHECK(findDiagnostic(diags, "apiVersion", "is required"));
  CHECK(findDiagnostic(diags, "kind", "is required"));
  CHECK(findDiagnostic(diags, "spec", "is required"));
}

// ---- status ----------------------------------------------------------------------------------------

namespace {

RolloutStatus fullStatus() {
  RolloutStatus s;
  s.abort = true;
  s.abortedAt = timeFromUnix(1'800'000'000);
  s.pauseConditions = {{kPauseReasonCanaryPauseStep, timeFromUnix(1'800'000'100)},
                       {kPauseReasonInconclusiveAnalysis, timeFromUnix(1'800'000'200)}};
  s.controllerPause = true;
  s.currentPodHash = "6d4f8c9b7";
  s.currentStepHash = "5c8d9f";
  s.currentStepIndex = 3;
  s.replicas = 5;
  s.updatedReplicas = 2;
  s.readyReplicas = 4;
  s.availableReplicas = 3;
  s.selector = "app=web";
  s.collisionCount = 2;
  s.observedGeneration = "7";
  s.conditions = {{"Progressing", "True", "ReplicaSetUpdated", "updated", timeFromUnix(1'800'000'300),
                   timeFromUnix(1'800'000'250)},
                  {"Paused", "False", "", "", timeFromUnix(1'800'000'400), timeFromUnix(1'800'000'400)}};
  s.stableRS = "7f9c";
  s.restartedAt = timeFromUnix(1'800'000'500);
  s.promoteFull = true;
  s.phase = "Paused";
  s.message = "CanaryPauseStep";
  s.canary.currentStepAnalysisRunStatus = AnalysisRunStatusRef{"web-6d4f-3", "Running", "measuring"};
  s.canary.currentBackgroundAnalysisRunStatus = AnalysisRunStatusRef{"web-bg", "Successful", ""};
  s.canary.weights = TrafficWeights{{20, "web-canary", "6d4f8c9b7"},
                                    {70, "web-stable", "7f9c"},
                                    {{10, "web-2-0-canary", "6d4f8c9b7"}},
                                    false};
  return s;
}

void checkSameRef(const std::optional<AnalysisRunStatusRef>& a,
                  const std::optional<AnalysisRunStatusRef>& b) {
  REQUIRE(a.has_value() == b.has_value());
  if (!a) return;
  CHECK(a->name == b->name);
  CHECK(a->status == b->status);
  CHECK(a->message == b->message);
}

void checkSameDestination(const WeightDestination& a, const WeightDestination& b) {
  CHECK(a.weight == b.weight);
  CHECK(a.serviceName == b.serviceName);
  CHECK(a.podTemplateHash == b.podTemplateHash);
}

void checkSameStatus(const RolloutStatus& a, const RolloutStatus& b) {
  CHECK(a.abort == b.abort);
  CHECK(a.abortedAt == b.abortedAt);
  REQUIRE(a.pauseConditions.size() == b.pauseConditions.size());
  for (size_t i = 0; i < a.pauseConditions.size(); ++i) {
    CHECK(a.pauseConditions[i].reason == b.pauseConditions[i].reason);
    CHECK(a.pauseConditions[i].startTime == b.pauseConditions[i].startTime);
  }
  CHECK(a.controllerPause == b.controllerPause);
  CHECK(a.currentPodHash == b.currentPodHash);
  CHECK(a.currentStepHash == b.currentStepHash);
  CHECK(a.currentStepIndex == b.currentStepIndex);
  CHECK(a.replicas == b.replicas);
  CHECK(a.updatedReplicas == b.updatedReplicas);
  CHECK(a.readyReplicas == b.readyReplicas);
  CHECK(a.availableReplicas == b.availableReplicas);
  CHECK(a.selector == b.selector);
  CHECK(a.collisionCount == b.collisionCount);
  CHECK(a.observedGeneration == b.observedGeneration);
  REQUIRE(a.conditions.size() == b.conditions.size());
  for (size_t i = 0; i < a.conditions.size(); ++i) {
    CHECK(a.conditions[i].type == b.conditions[i].type);
    CHECK(a.conditions[i].status == b.conditions[i].status);
    CHECK(a.conditions[i].reason == b.conditions[i].reason);
    CHECK(a.conditions[i].message == b.conditions[i].message);
    CHECK(a.conditions[i].lastUpdateTime == b.conditions[i].lastUpdateTime);
    CHECK(a.conditions[i].lastTransitionTime == b.conditions[i].lastTransitionTime);
  }
  CHECK(a.stableRS == b.stableRS);
  CHECK(a.restartedAt == b.restartedAt);
  CHECK(a.promoteFull == b.promoteFull);
  CHECK(a.phase == b.phase);
  CHECK(a.message == b.message);
  checkSameRef(a.canary.currentStepAnalysisRunStatus, b.canary.currentStepAnalysisRunStatus);
  checkSameRef(a.canary.currentBackgroundAnalysisRunStatus, b.canary.currentBackgroundAnalysisRunStatus);
  REQUIRE(a.canary.weights.has_value() == b.canary.weights.has_value());
  if (a.canary.weights) {
    checkSameDestination(a.canary.weights->canary, b.canary.weights->canary);
    checkSameDestination(a.canary.weights->stable, b.canary.weights->stable);
    CHECK(a.canary.weights->verified == b.canary.weights->verified);
  }
}

}  // namespace

TEST_CASE("a fully populated status survives the round trip exactly", "[engine][rollout_json][status]") {
  const RolloutStatus original = fullStatus();
  const nlohmann::json wire = statusToJson(original);
  auto back = statusFromJson(wire);
  REQUIRE(back.ok());
  checkSameStatus(original, *back);
  CHECK(statusToJson(*back) == wire);
}

TEST_CASE("status is written in Argo's wire shape", "[engine][rollout_json][status]") {
  const nlohmann::json j = statusToJson(fullStatus());
  CHECK(j["observedGeneration"] == "7");
  CHECK(j["observedGeneration"].is_string());
  CHECK(j["abortedAt"] == "2027-01-15T08:00:00Z");
  CHECK(j["pauseConditions"][0] ==
        nlohmann::json{{"reason", "CanaryPauseStep"}, {"startTime", "2027-01-15T08:01:40Z"}});
  CHECK(j["conditions"][0]["type"] == "Progressing");
  CHECK(j["conditions"][0]["lastTransitionTime"] == "2027-01-15T08:04:10Z");
  CHECK(j["currentStepIndex"] == 3);
  CHECK(j["canary"]["currentStepAnalysisRunStatus"]["name"] == "web-6d4f-3");
  CHECK(j["canary"]["weights"]["canary"] ==
        nlohmann::json{{"weight", 20}, {"serviceName", "web-canary"}, {"podTemplateHash", "6d4f8c9b7"}});
  CHECK(j["canary"]["weights"]["additional"] ==
        nlohmann::json::array(
            {{{"weight", 10}, {"serviceName", "web-2-0-canary"}, {"podTemplateHash", "6d4f8c9b7"}}}));
  CHECK(j["canary"]["weights"]["verified"] == false);
}

TEST_CASE("zero values are left out of the status", "[engine][rollout_json][status]") {
  CHECK(statusToJson(RolloutStatus{}) == nlohmann::json::object());
  RolloutStatus atFirstStep;
  atFirstStep.currentStepIndex = 0;  // step 0 is a real position, unlike "no step"
  CHECK(statusToJson(atFirstStep) == nlohmann::json{{"currentStepIndex", 0}});
  RolloutStatus routed;
  routed.canary.weights = TrafficWeights{};
  CHECK(statusToJson(routed) == nlohmann::json::parse(R"({"canary":{"weights":{"canary":{},"stable":{}}}})"));
  auto back = statusFromJson(statusToJson(routed));
  REQUIRE(back.ok());
  REQUIRE(back->canary.weights.has_value());
  CHECK(back->canary.weights->verified);
}

TEST_CASE("statusFromJson reads what Argo writes and names a bad field", "[engine][rollout_json][status]") {
  auto fromArgo = statusFromJson(nlohmann::json::parse(
      R"({"observedGeneration": "12", "currentStepIndex": 1, "HPAReplicas": 3, "phase": "Progressing",
          "canary": {"weights": {"canary": {"weight": 10}}, "stablePingPong": "ping"}})"));
  REQUIRE(fromArgo.ok());
  CHECK(fromArgo->observedGeneration == "12");
  CHECK(fromArgo->currentStepIndex == 1);
  CHECK(fromArgo->canary.weights->canary.weight == 10);

  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"replicas": "three"})", "status.replicas: must be an integer, got string \"three\""},
      {R"({"abortedAt": "soon"})", "status.abortedAt: invalid timestamp \"soon\""},
      {R"({"pauseConditions": {}})", "status.pauseConditions: must be a list"},
      {R"({"canary": {"weights": {"stable": {"weight": true}}}})",
       "status.canary.weights.stable.weight: must be an integer"},
      {R"([1])", "status: must be an object"},
  };
  for (const auto& [json, message] : bad) {
    INFO(json);
    auto result = statusFromJson(nlohmann::json::parse(json));
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error(), Catch::Contains(message));
  }
}

TEST_CASE("a Rollout's status is read with its spec", "[engine][rollout_json][status]") {
  const Loaded loaded =
      loadRollout(withCanary("{}") +
                  "status:\n  currentStepIndex: 2\n  observedGeneration: \"4\"\n  phase: Paused\n"
                  "  pauseConditions: [{reason: CanaryPauseStep, startTime: \"2026-01-01T00:00:00Z\"}]\n");
  INFO(loaded.diags.format());
  REQUIRE(loaded.rollout.has_value());
  CHECK(loaded.rollout->status.currentStepIndex == 2);
  CHECK(loaded.rollout->status.observedGeneration == "4");
  CHECK(loaded.rollout->status.pausedFor(kPauseReasonCanaryPauseStep));
}
