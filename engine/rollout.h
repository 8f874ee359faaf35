// The Rollout model: typed spec and status, field-compatible with Argo Rollouts. The domain works on
// these structs; JSON appears only in rollout_json.cc (both directions) and in the pod template, which
// the engine carries but never interprets beyond hashing it.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/int_or_percent.h"
#include "base/object_meta.h"
#include "base/time.h"

namespace sluice::engine {

// The API group Sluice serves, and the one it accepts unchanged from Argo Rollouts.
inline constexpr const char* kApiVersion = "sluice.dev/v1alpha1";
inline constexpr const char* kArgoApiVersion = "argoproj.io/v1alpha1";

// The one traffic router plugin of Argo Rollouts that Sluice has built in (traffic/gateway_api.h).
inline constexpr const char* kGatewayApiRouterPlugin = "argoproj-labs/gatewayAPI";

// Labels and annotations Sluice writes.
inline constexpr const char* kPodTemplateHashLabel = "sluice.dev/pod-template-hash";
inline constexpr const char* kRevisionAnnotation = "sluice.dev/revision";
inline constexpr const char* kScaleDownDeadlineAnnotation = "sluice.dev/scale-down-deadline";
// On a ReplicaSet: the ephemeral metadata (PodMetadata, as JSON) its pod template and pods carry now, so the
// keys of a role it leaves can be removed.
inline constexpr const char* kEphemeralMetadataAnnotation = "sluice.dev/ephemeral-metadata";

// The ones Argo Rollouts writes on its ReplicaSets (the hash label on their pods and in their selectors
// and its Services' selectors too), read when a Rollout moved over from it adopts what it left.
inline constexpr const char* kArgoPodTemplateHashLabel = "rollouts-pod-template-hash";
inline constexpr const char* kArgoRevisionAnnotation = "rollout.argoproj.io/revision";
inline constexpr const char* kArgoScaleDownDeadlineAnnotation = "scale-down-deadline";

// An int or a percentage, as maxSurge and maxUnavailable take ("25%" or 2).
using sluice::IntOrPercent;

// The metadata a Rollout and the analysis kinds keep (base/object_meta.h).
using sluice::ObjectMeta;

// ---- analysis references, as a Rollout makes them -------------------------------------------------

struct AnalysisTemplateRef {
  std::string templateName;
  bool clusterScope = false;
};

struct AnalysisArg {
  std::string name;
  std::optional<std::string> value;
  std::optional<std::string> podTemplateHashValue;  // "Stable" or "Latest"
  std::optional<std::string> fieldRef;              // valueFrom.fieldRef.fieldPath
};

struct MeasurementRetention {
  std::string metricName;
  int limit = 0;
};

struct RolloutAnalysis {
  std::vector<AnalysisTemplateRef> templates;
  std::vector<AnalysisArg> args;
  std::vector<std::string> dryRun;  // metric names (dryRun[].metricName)
  std::vector<MeasurementRetention> measurementRetention;
  std::map<std::string, std::string> runLabels;       // analysisRunMetadata.labels
  std::map<std::string, std::string> runAnnotations;  // analysisRunMetadata.annotations
};

struct BackgroundAnalysis : RolloutAnalysis {
  int startingStep = 0;
};

// Ephemeral metadata: labels and annotations the pods of a ReplicaSet carry only while it has a role
// (canaryMetadata and stableMetadata; previewMetadata and activeMetadata). They are merged into the
// ReplicaSet's pod template (never into the pod-template hash) and changed on its pods in place when the
// role changes, so no pod restarts.
struct PodMetadata {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  bool operator==(const PodMetadata&) const = default;
};

// ---- canary steps ----------------------------------------------------------------------------------

struct SetWeightStep {
  int weight = 0;
};

struct PauseStep {
  std::optional<Duration> duration;  // nullopt: pause until a person promotes
};

struct AnalysisStep {
  RolloutAnalysis analysis;
};

struct SetCanaryScaleStep {
  std::optional<int> replicas;
  std::optional<int> weight;
  bool matchTrafficWeight = false;
};

struct HeaderMatch {
  std::string headerName;
  std::string matchType;  // exact, regex or prefix
  std::string value;
};

struct SetHeaderRouteStep {
  std::string name;
  std::vector<HeaderMatch> match;  // empty: remove the route
};

struct SetMirrorRouteStep {
  std::string name;
  int percentage = 100;
  nlohmann::json match = nlohmann::json::array();  // [{method, path, headers}], kept as given
};

// spec.templates[].service of an Experiment (and of an experiment step's template): a Service selecting the
// template's pods by their pod-template hash, named `name` or after the template's ReplicaSet, while the
// template runs.
struct ExperimentService {
  std::string name;
  // Its ports (Kubernetes ServicePorts, as given); empty: the ports the template's containers declare.
  nlohmann::json ports = nlohmann::json::array();
};

// One template of an experiment step: a ReplicaSet of the stable or the canary pod template.
struct ExperimentStepTemplate {
  std::string name;
  std::string specRef;  // "stable" or "canary"
  std::optional<int> replicas;
  std::optional<int>
      weight;  // the share of traffic to the template's Service (made for it), taken from the stable
  PodMetadata metadata;     // added to the pod template's labels (and the selector) and annotations
  nlohmann::json selector;  // null: the ReplicaSet's
  std::optional<ExperimentService> service;
};

// One analysis of an experiment step; its args may take podTemplateHashValue (resolved when the
// Experiment is created).
struct ExperimentStepAnalysis {
  std::string name;
  std::string templateName;
  bool clusterScope = false;
  std::vector<AnalysisArg> args;
  bool requiredForCompletion = false;
};

// experiment: an Experiment (engine/experiment.h) the Rollout creates and owns; the step is done when it is
// Successful, aborts the update when it is Failed or Error, pauses when Inconclusive.
struct ExperimentStep {
  std::optional<Duration> duration;
  std::vector<ExperimentStepTemplate> templates;
  std::vector<ExperimentStepAnalysis> analyses;
  std::vector<std::string> dryRun;  // metric names
  std::vector<MeasurementRetention> measurementRetention;
  std::map<std::string, std::string> runLabels;       // analysisRunMetadata.labels
  std::map<std::string, std::string> runAnnotations;  // analysisRunMetadata.annotations
};

using StepAction = std::variant<SetWeightStep, PauseStep, AnalysisStep, SetCanaryScaleStep,
                                SetHeaderRouteStep, SetMirrorRouteStep, ExperimentStep>;

struct CanaryStep {
  // The action that decides when the step is done. A step may set one of setWeight, pause, experiment and
  // analysis and, beside it, setCanaryScale, setHeaderRoute and setMirrorRoute (Argo Rollouts' rule); the
  // action is then the first of pause, setCanaryScale, setWeight, experiment, analysis, setHeaderRoute and
  // setMirrorRoute it sets (Argo's precedence), and the others are carried out with it.
  StepAction action;
  std::vector<StepAction> alongside{};
};

// The step's action of type T, whether it decides the step or stands beside the one that does; nullptr
// when the step sets none.
template <typename T>
const T* stepAction(const CanaryStep& step) {
  if (const T* found = std::get_if<T>(&step.action)) return found;
  for (const auto& other : step.alongside) {
    if (const T* found = std::get_if<T>(&other)) return found;
  }
  return nullptr;
}

// "setWeight: 20", "pause: 5m", "pause", "analysis: success-rate", ... for events and tables.
std::string describeStep(const CanaryStep& step);

// ---- traffic routing -------------------------------------------------------------------------------

struct NginxTrafficRouting {
  std::vector<std::string> stableIngresses;  // stableIngress is normalised into a one-entry list
  std::string annotationPrefix = "nginx.ingress.kubernetes.io";
  std::map<std::string, std::string> additionalIngressAnnotations;
  std::map<std::string, std::string> canaryIngressAnnotations;
};

struct IstioVirtualService {
  std::string name;
  std::vector<std::string> routes;
  nlohmann::json tlsRoutes = nlohmann::json::array();
  nlohmann::json tcpRoutes = nlohmann::json::array();
};

struct IstioDestinationRule {
  std::string name;
  std::string canarySubsetName;
  std::string stableSubsetName;
  std::vector<std::string> additionalSubsetNames;
};

struct IstioTrafficRouting {
  std::vector<IstioVirtualService> virtualServices;  // virtualService is normalised into a one-entry list
  std::optional<IstioDestinationRule> destinationRule;
};

struct SmiTrafficRouting {
  std::string rootService;       // defaults to stableService
  std::string trafficSplitName;  // defaults to the Rollout's name
};

// Traefik: the user's TraefikService whose spec.weighted.services carry the canary and stable Services.
struct TraefikTrafficRouting {
  std::string weightedTraefikServiceName;
};

// Ambassador: the user's Mappings, each of which gets a canary Mapping `<mapping>-canary`.
struct AmbassadorTrafficRouting {
  std::vector<std::string> mappings;
};

// Apache APISIX: the user's ApisixRoute (route.name) and the HTTP rules in it that carry the weights.
struct ApisixTrafficRouting {
  std::string routeName;
  std::vector<std::string> rules;  // default: the rule named as the route
};

// AWS Load Balancer Controller: on each of the user's Ingresses, the forward action annotation
// `<annotationPrefix>/actions.<rootService>` splits the traffic between the canary and stable Services'
// target groups at servicePort.
struct AlbStickiness {
  bool enabled = false;
  int64_t durationSeconds = 0;
};

struct AlbTrafficRouting {
  std::vector<std::string> ingresses;  // ingress is normalised into a one-entry list
  int servicePort = 0;
  std::string rootService;  // defaults to stableService
  std::string annotationPrefix = "alb.ingress.kubernetes.io";
  std::optional<AlbStickiness> stickinessConfig;
};

// AWS App Mesh: the routes of the VirtualRouter behind the user's VirtualService (appmesh.k8s.aws/v1beta2)
// weight the canary and stable VirtualNodes, whose podSelectors select the revisions.
struct AppMeshTrafficRouting {
  std::string virtualService;
  std::vector<std::string> routes;  // empty: every route of the VirtualRouter
  std::string canaryVirtualNode;
  std::string stableVirtualNode;
};

struct TrafficRouting {
  std::optional<NginxTrafficRouting> nginx;
  std::optional<IstioTrafficRouting> istio;
  std::optional<SmiTrafficRouting> smi;
  std::optional<TraefikTrafficRouting> traefik;
  std::optional<AmbassadorTrafficRouting> ambassador;
  std::optional<ApisixTrafficRouting> apisix;
  std::optional<AlbTrafficRouting> alb;
  std::optional<AppMeshTrafficRouting> appMesh;
  std::map<std::string, nlohmann::json> plugins;  // e.g. "argoproj-labs/gatewayAPI"
  std::vector<std::string> managedRoutes;
  std::optional<int> maxTrafficWeight;

  int maxWeight() const { return maxTrafficWeight.value_or(100); }
};

// ---- strategy and spec -----------------------------------------------------------------------------

// antiAffinity: the pods of the new revision avoid the nodes of the old one, preferred (with a weight,
// 1..100) or required.
struct AntiAffinity {
  std::optional<int> preferredWeight;
  bool required = false;
};

// replicaProgressThreshold: how much of the canary's desired size must be available for a setWeight or
// setCanaryScale step to be done, and of spec.replicas for promotion. Unset: all of it.
struct ReplicaProgressThreshold {
  enum class Type { Percent, Pods };
  Type type = Type::Percent;
  int value = 100;

  // The available pods that meet it for a ReplicaSet meant to have `desired` pods: a Percent threshold
  // of `desired` (rounded up), or a Pods count (at most `desired`).
  int availableNeeded(int desired) const;
};

// canary.pingPong: two Services that take the canary and the stable roles in turn. The one the new revision
// was rolled out behind becomes the stable one at promotion, so no Service's selector moves under traffic
// (status.canary.stablePingPong says which one is stable).
struct PingPongServices {
  std::string pingService;
  std::string pongService;
};

struct CanaryStrategy {
  std::vector<CanaryStep> steps;
  std::string canaryService;
  std::string stableService;
  std::optional<PingPongServices> pingPong;
  std::optional<TrafficRouting> trafficRouting;
  std::optional<BackgroundAnalysis> analysis;
  IntOrPercent maxSurge{25, true};
  IntOrPercent maxUnavailable{25, true};
  bool dynamicStableScale = false;
  std::optional<int> abortScaleDownDelaySeconds;   // default 30; 0 means never scale down
  std::optional<int> scaleDownDelayRevisionLimit;  // unset: every old stable waits out its delay
  std::optional<int> scaleDownDelaySeconds;        // default 30
  std::optional<int> minPodsPerReplicaSet;
  std::optional<PodMetadata> canaryMetadata;
  std::optional<PodMetadata> stableMetadata;
  std::optional<AntiAffinity> antiAffinity;
  std::optional<ReplicaProgressThreshold> replicaProgressThreshold;
  // stepsHash(steps), set by parseRollout so that a reconcile need not serialise the steps again. Empty
  // (a Rollout built in code) means the engine computes it; whoever edits `steps` after parsing clears it.
  std::string stepsHashMemo;

  int abortScaleDownDelay() const { return abortScaleDownDelaySeconds.value_or(30); }
  int scaleDownDelay() const { return scaleDownDelaySeconds.value_or(30); }
  // Whether `available` pods of a ReplicaSet meant to have `desired` are enough (replicaProgressThreshold).
  bool progressMet(int available, int desired) const {
    return available >=
           (replicaProgressThreshold ? replicaProgressThreshold->availableNeeded(desired) : desired);
  }
};

// spec.strategy.blueGreen: the new revision runs beside the old one behind the preview Service, and the
// active Service switches to it in one write once it is fully available (and promoted).
struct BlueGreenStrategy {
  std::string activeService;
  std::string previewService;
  std::optional<int> previewReplicaCount;  // the new ReplicaSet's size until promotion; unset: full size
  bool autoPromotionEnabled = true;
  int autoPromotionSeconds = 0;  // with auto-promotion: the pause before the switch lasts this long
  std::optional<RolloutAnalysis> prePromotionAnalysis;
  std::optional<RolloutAnalysis> postPromotionAnalysis;
  std::optional<int> scaleDownDelaySeconds;  // default 30
  std::optional<int> scaleDownDelayRevisionLimit;
  std::optional<int> abortScaleDownDelaySeconds;  // default 30; 0 means never scale down
  // How many pods a restart (spec.restartAt) may take down at once; unset: one at a time.
  std::optional<IntOrPercent> maxUnavailable;
  std::optional<PodMetadata> activeMetadata;
  std::optional<PodMetadata> previewMetadata;
  std::optional<AntiAffinity> antiAffinity;

  int restartMaxUnavailable(int replicas) const {
    return maxUnavailable ? maxUnavailable->resolve(replicas, false) : 1;
  }
  int scaleDownDelay() const { return scaleDownDelaySeconds.value_or(30); }
  int abortScaleDownDelay() const { return abortScaleDownDelaySeconds.value_or(30); }
  // Whether the switch waits on a BlueGreenPause: always without auto-promotion, and for
  // autoPromotionSeconds with it.
  bool pausesBeforeSwitch() const { return !autoPromotionEnabled || autoPromotionSeconds > 0; }
};

// spec.workloadRef: the pod template (and, when spec.selector is not set, the selector) comes from an
// existing workload instead of spec.template, as Argo's migration path from a Deployment has it.
enum class WorkloadScaleDown {
  Never,          // the Deployment is left as it is
  OnSuccess,      // scaled to 0 once the Rollout is Healthy
  Progressively,  // scaled down as the Rollout's first revision becomes available, back up if it fails
};

struct WorkloadRef {
  std::string apiVersion = "apps/v1";
  std::string kind = "Deployment";
  std::string name;
  WorkloadScaleDown scaleDown = WorkloadScaleDown::Never;
};

// "never", "onsuccess", "progressively": as written in the manifest.
const char* workloadScaleDownName(WorkloadScaleDown mode);

struct RolloutSpec {
  int replicas = 1;
  nlohmann::json selector = nlohmann::json::object();     // a LabelSelector, kept as given
  nlohmann::json podTemplate = nlohmann::json::object();  // spec.template, kept as given
  // With a workloadRef, podTemplate (and an empty selector) are filled from the workload before each
  // decision (engine/workload.h); the stored Rollout has no spec.template.
  std::optional<WorkloadRef> workloadRef;
  int minReadySeconds = 0;
  int revisionHistoryLimit = 10;
  bool paused = false;
  int progressDeadlineSeconds = 600;
  bool progressDeadlineAbort = false;
  std::optional<Time> restartAt;
  std::optional<int> rollbackWindowRevisions;
  // spec.analysis: how many of the Rollout's finished AnalysisRuns are kept (older ones are deleted):
  // Successful ones, and unsuccessful ones (Failed, Error, Inconclusive).
  int successfulRunHistoryLimit = 5;
  int unsuccessfulRunHistoryLimit = 5;
  // Exactly one strategy: a blue-green Rollout has `blueGreen` set and `canary` at its defaults.
  CanaryStrategy canary;
  std::optional<BlueGreenStrategy> blueGreen;

  bool isBlueGreen() const { return blueGreen.has_value(); }
  // The strategy's ephemeral metadata: of the revision being rolled out (canaryMetadata, previewMetadata)
  // and of the stable one (stableMetadata, activeMetadata).
  const std::optional<PodMetadata>& newPodMetadata() const {
    return blueGreen ? blueGreen->previewMetadata : canary.canaryMetadata;
  }
  const std::optional<PodMetadata>& stablePodMetadata() const {
    return blueGreen ? blueGreen->activeMetadata : canary.stableMetadata;
  }
  const std::optional<AntiAffinity>& antiAffinity() const {
    return blueGreen ? blueGreen->antiAffinity : canary.antiAffinity;
  }
};

// ---- status ----------------------------------------------------------------------------------------

// Pause reasons, as Argo's code names them.
inline constexpr const char* kPauseReasonCanaryPauseStep = "CanaryPauseStep";
inline constexpr const char* kPauseReasonInconclusiveAnalysis = "InconclusiveAnalysisRun";
inline constexpr const char* kPauseReasonBlueGreenPause = "BlueGreenPause";
inline constexpr const char* kPauseReasonInconclusiveExperiment = "InconclusiveExperiment";

struct PauseCondition {
  std::string reason;
  Time startTime;

  bool operator==(const PauseCondition&) const = default;
};

struct Condition {
  std::string type;    // Available, Progressing, Paused, Healthy, Completed, InvalidSpec, ReplicaFailure
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
  Time lastUpdateTime;
  Time lastTransitionTime;

  bool operator==(const Condition&) const = default;
};

struct AnalysisRunStatusRef {
  std::string name;
  std::string status;  // the run's phase
  std::string message;

  bool operator==(const AnalysisRunStatusRef&) const = default;
};

struct WeightDestination {
  int weight = 0;
  std::string serviceName;
  std::string podTemplateHash;

  bool operator==(const WeightDestination&) const = default;
};

struct TrafficWeights {
  WeightDestination canary;
  WeightDestination stable;
  // The experiment step's templates' Services with a weight, by service name: the stable's weight is what
  // the canary and these leave of maxTrafficWeight.
  std::vector<WeightDestination> additional = {};
  bool verified = true;

  bool operator==(const TrafficWeights&) const = default;
};

struct CanaryStatus {
  std::optional<AnalysisRunStatusRef> currentStepAnalysisRunStatus;
  std::optional<AnalysisRunStatusRef> currentBackgroundAnalysisRunStatus;
  std::optional<TrafficWeights> weights;  // only with traffic routing
  // With canary.pingPong: "ping" or "pong", the Service that selects the stable revision; empty before the
  // first one is stable (the pong Service then has the stable role, as Argo Rollouts reads it).
  std::string stablePingPong;
  std::string currentExperiment;  // the experiment step's Experiment, while it runs

  bool operator==(const CanaryStatus&) const = default;
};

struct BlueGreenStatus {
  std::string activeSelector;   // the pod-template hash the active Service selects
  std::string previewSelector;  // the pod-template hash the preview Service selects
  // The pause before the switch is over (promoted by a person, or autoPromotionSeconds passed): the new
  // ReplicaSet grows from previewReplicaCount to full size. False again once the active Service switched.
  bool scaleUpPreviewCheckPoint = false;
  std::optional<AnalysisRunStatusRef> prePromotionAnalysisRunStatus;
  std::optional<AnalysisRunStatusRef> postPromotionAnalysisRunStatus;

  bool operator==(const BlueGreenStatus&) const = default;
};

struct RolloutStatus {
  bool abort = false;
  std::optional<Time> abortedAt;
  std::vector<PauseCondition> pauseConditions;
  bool controllerPause = false;
  std::string currentPodHash;
  std::string currentStepHash;
  std::optional<int> currentStepIndex;
  int replicas = 0;
  int updatedReplicas = 0;
  int readyReplicas = 0;
  int availableReplicas = 0;
  std::string selector;
  int64_t collisionCount = 0;
  std::string observedGeneration;  // a string, as Argo writes it
  std::vector<Condition> conditions;
  std::string stableRS;
  std::optional<Time> restartedAt;
  bool promoteFull = false;
  std::string phase;  // Progressing, Paused, Healthy, Degraded
  std::string message;
  CanaryStatus canary;
  BlueGreenStatus blueGreen;
  std::string workloadObservedGeneration;  // the workloadRef's metadata.generation last decided on

  const Condition* condition(const std::string& type) const;
  bool pausedFor(const std::string& reason) const;

  // Field-by-field: a shell compares the next status with the last written one and writes only a change.
  bool operator==(const RolloutStatus&) const = default;
};

struct Rollout {
  std::string apiVersion = kApiVersion;
  ObjectMeta metadata;
  RolloutSpec spec;
  RolloutStatus status;
};

// The Services in the canary and the stable roles for `status`: canaryService and stableService, or with
// canary.pingPong the ping and pong Services as status.canary.stablePingPong says.
const std::string& canaryRoleService(const CanaryStrategy& canary, const RolloutStatus& status);
const std::string& stableRoleService(const CanaryStrategy& canary, const RolloutStatus& status);

// Whether spec.restartAt asks for a restart not yet done: it is set and later than status.restartedAt
// (a restartAt at or before restartedAt is done already). True also while restartAt is still ahead,
// as Argo Rollouts' phase counts it.
bool restartPending(const RolloutSpec& spec, const RolloutStatus& status);

}  // namespace sluice::engine
