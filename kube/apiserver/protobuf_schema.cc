// The message tables. Field numbers are facts of the Kubernetes API (generated.proto); JSON names and
// presence (kKeepZero) follow the Go types' json tags. A table marked incomplete lists the fields this
// server decodes; the rest of that message is refused with a clear error.
#include "kube/apiserver/protobuf_schema.h"

#include <array>
#include <string>
#include <utility>

namespace sluice::apiserver::pb {

const FieldSchema* MessageSchema::field(std::uint32_t number) const {
  for (const auto& f : fields) {
    if (f.number == number) return &f;
  }
  return nullptr;
}

namespace {

using enum Kind;
constexpr std::uint8_t R = kRepeated;
constexpr std::uint8_t K = kKeepZero;
constexpr bool kPartial = false;

// Declared first so that tables can point at tables defined further down.
extern const MessageSchema kObjectMeta, kOwnerReference, kManagedFieldsEntry, kLabelSelector,
    kLabelSelectorRequirement, kCondition;
extern const MessageSchema kObjectReference, kLocalObjectReference, kConfigMap, kSecret, kNamespace,
    kNamespaceSpec, kNamespaceStatus, kNamespaceCondition, kServiceAccount, kService, kServiceSpec,
    kServicePort, kSessionAffinityConfig, kClientIPConfig, kServiceStatus, kLoadBalancerStatus,
    kLoadBalancerIngress, kPortStatus, kEvent, kEventSource, kEventSeries, kPod, kPodStatus, kPodTemplateSpec,
    kPodSpec, kContainer, kContainerPort, kEnvVar, kResourceRequirements, kResourceClaim, kVolumeMount,
    kVolume, kVolumeSource, kHostPathVolumeSource, kEmptyDirVolumeSource, kSecretVolumeSource,
    kConfigMapVolumeSource, kKeyToPath, kPersistentVolumeClaimVolumeSource, kPodSecurityContext,
    kSecurityContext, kCapabilities, kSeccompProfile;
extern const MessageSchema kDeployment, kDeploymentSpec, kDeploymentStrategy, kRollingUpdateDeployment,
    kDeploymentStatus, kDeploymentCondition;
extern const MessageSchema kJob, kJobSpec, kJobStatus, kJobCondition;
extern const MessageSchema kRole, kClusterRole, kPolicyRule, kAggregationRule, kRoleBinding, kSubject,
    kRoleRef;
extern const MessageSchema kIngress, kIngressSpec, kIngressBackend, kTypedLocalObjectReference,
    kIngressServiceBackend, kServiceBackendPort, kIngressTLS, kIngressRule, kIngressRuleValue,
    kHTTPIngressRuleValue, kHTTPIngressPath, kIngressStatus, kIngressLoadBalancerStatus,
    kIngressLoadBalancerIngress, kIngressPortStatus;
extern const MessageSchema kLease, kLeaseSpec;

// --- meta/v1 (k8s.io/apimachinery/pkg/apis/meta/v1) ---

const MessageSchema kObjectMeta{"ObjectMeta",
                                true,
                                {
                                    {1, "name", kString},
                                    {2, "generateName", kString},
                                    {3, "namespace", kString},
                                    {4, "selfLink", kString},
                                    {5, "uid", kString},
                                    {6, "resourceVersion", kString},
                                    {7, "generation", kInt64},
                                    {8, "creationTimestamp", kTime},
                                    {9, "deletionTimestamp", kTime},
                                    {10, "deletionGracePeriodSeconds", kInt64, K},
                                    {11, "labels", kStringMap},
                                    {12, "annotations", kStringMap},
                                    {13, "ownerReferences", kMessage, R, &kOwnerReference},
                                    {14, "finalizers", kString, R},
                                    {17, "managedFields", kMessage, R, &kManagedFieldsEntry},
                                }};

const MessageSchema kOwnerReference{"OwnerReference",
                                    true,
                                    {
                                        {1, "kind", kString, K},
                                        {3, "name", kString, K},
                                        {4, "uid", kString, K},
                                        {5, "apiVersion", kString, K},
                                        {6, "controller", kBool, K},
                                        {7, "blockOwnerDeletion", kBool, K},
                                    }};

const MessageSchema kManagedFieldsEntry{"ManagedFieldsEntry",
                                        true,
                                        {
                                            {1, "manager", kString},
                                            {2, "operation", kString},
                                            {3, "apiVersion", kString},
                                            {4, "time", kTime},
                                            {6, "fieldsType", kString},
                                            {7, "fieldsV1", kRawExtension},
                                            {8, "subresource", kString},
                                        }};

const MessageSchema kLabelSelector{"LabelSelector",
                                   true,
                                   {
                                       {1, "matchLabels", kStringMap},
                                       {2, "matchExpressions", kMessage, R, &kLabelSelectorRequirement},
                                   }};

const MessageSchema kLabelSelectorRequirement{"LabelSelectorRequirement",
                                              true,
                                              {
                                                  {1, "key", kString, K},
                                                  {2, "operator", kString, K},
                                                  {3, "values", kString, R},
                                              }};

const MessageSchema kCondition{"Condition",
                               true,
                               {
                                   {1, "type", kString, K},
                                   {2, "status", kString, K},
                                   {3, "observedGeneration", kInt64},
                                   {4, "lastTransitionTime", kTime},
                                   {5, "reason", kString, K},
                                   {6, "message", kString, K},
                               }};

// --- core/v1 (k8s.io/api/core/v1) ---

const MessageSchema kObjectReference{"ObjectReference",
                                     true,
                                     {
                                         {1, "kind", kString},
                                         {2, "namespace", kString},
                                         {3, "name", kString},
                                         {4, "uid", kString},
                                         {5, "apiVersion", kString},
                                         {6, "resourceVersion", kString},
                                         {7, "fieldPath", kString},
                                     }};

const MessageSchema kLocalObjectReference{"LocalObjectReference", true, {{1, "name", kString}}};

const MessageSchema kConfigMap{"ConfigMap",
                               true,
                               {
                                   {1, "metadata", kMessage, 0, &kObjectMeta},
                                   {2, "data", kStringMap},
                                   {3, "binaryData", kBytesMap},
                                   {4, "immutable", kBool, K},
                               }};

const MessageSchema kSecret{"Secret",
                            true,
                            {
                                {1, "metadata", kMessage, 0, &kObjectMeta},
                                {2, "data", kBytesMap},
                                {3, "type", kString},
                                {4, "stringData", kStringMap},
                                {5, "immutable", kBool, K},
                            }};

const MessageSchema kNamespace{"Namespace",
                               true,
                               {
                                   {1, "metadata", kMessage, 0, &kObjectMeta},
                                   {2, "spec", kMessage, 0, &kNamespaceSpec},
                                   {3, "status", kMessage, 0, &kNamespaceStatus},
                               }};

const MessageSchema kNamespaceSpec{"NamespaceSpec", true, {{1, "finalizers", kString, R}}};

const MessageSchema kNamespaceStatus{"NamespaceStatus",
                                     true,
                                     {
                                         {1, "phase", kString},
                                         {2, "conditions", kMessage, R, &kNamespaceCondition},
                                     }};

const MessageSchema kNamespaceCondition{"NamespaceCondition",
                                        true,
                                        {
                                            {1, "type", kString, K},
                                            {2, "status", kString, K},
                                            {4, "lastTransitionTime", kTime},
                                            {5, "reason", kString},
                                            {6, "message", kString},
                                        }};

const MessageSchema kServiceAccount{"ServiceAccount",
                                    true,
                                    {
                                        {1, "metadata", kMessage, 0, &kObjectMeta},
                                        {2, "secrets", kMessage, R, &kObjectReference},
                                        {3, "imagePullSecrets", kMessage, R, &kLocalObjectReference},
                                        {4, "automountServiceAccountToken", kBool, K},
                                    }};

const MessageSchema kService{"Service",
                             true,
                             {
                                 {1, "metadata", kMessage, 0, &kObjectMeta},
                                 {2, "spec", kMessage, 0, &kServiceSpec},
                                 {3, "status", kMessage, 0, &kServiceStatus},
                             }};

const MessageSchema kServiceSpec{"ServiceSpec",
                                 true,
                                 {
                                     {1, "ports", kMessage, R, &kServicePort},
                                     {2, "selector", kStringMap},
                                     {3, "clusterIP", kString},
                                     {4, "type", kString},
                                     {5, "externalIPs", kString, R},
                                     {7, "sessionAffinity", kString},
                                     {8, "loadBalancerIP", kString},
                                     {9, "loadBalancerSourceRanges", kString, R},
                                     {10, "externalName", kString},
                                     {11, "externalTrafficPolicy", kString},
                                     {12, "healthCheckNodePort", kInt32},
                                     {13, "publishNotReadyAddresses", kBool},
                                     {14, "sessionAffinityConfig", kMessage, 0, &kSessionAffinityConfig},
                                     {17, "ipFamilyPolicy", kString, K},
                                     {18, "clusterIPs", kString, R},
                                     {19, "ipFamilies", kString, R},
                                     {20, "allocateLoadBalancerNodePorts", kBool, K},
                                     {21, "loadBalancerClass", kString, K},
                                     {22, "internalTrafficPolicy", kString, K},
                                     {23, "trafficDistribution", kString, K},
                                 }};

const MessageSchema kServicePort{"ServicePort",
                                 true,
                                 {
                                     {1, "name", kString},
                                     {2, "protocol", kString},
                                     {3, "port", kInt32, K},
                                     {4, "targetPort", kIntOrString},
                                     {5, "nodePort", kInt32},
                                     {6, "appProtocol", kString, K},
                                 }};

const MessageSchema kSessionAffinityConfig{
    "SessionAffinityConfig", true, {{1, "clientIP", kMessage, 0, &kClientIPConfig}}};

const MessageSchema kClientIPConfig{"ClientIPConfig", true, {{1, "timeoutSeconds", kInt32, K}}};

const MessageSchema kServiceStatus{"ServiceStatus",
                                   true,
                                   {
                                       {1, "loadBalancer", kMessage, 0, &kLoadBalancerStatus},
                                       {2, "conditions", kMessage, R, &kCondition},
                                   }};

const MessageSchema kLoadBalancerStatus{
    "LoadBalancerStatus", true, {{1, "ingress", kMessage, R, &kLoadBalancerIngress}}};

const MessageSchema kLoadBalancerIngress{"LoadBalancerIngress",
                                         true,
                                         {
                                             {1, "ip", kString},
                                             {2, "hostname", kString},
                                             {3, "ipMode", kString, K},
                                             {4, "ports", kMessage, R, &kPortStatus},
                                         }};

const MessageSchema kPortStatus{"PortStatus",
                                true,
                                {
                                    {1, "port", kInt32, K},
                                    {2, "protocol", kString, K},
                                    {3, "error", kString, K},
                                }};

const MessageSchema kEvent{"Event",
                           true,
                           {
                               {1, "metadata", kMessage, 0, &kObjectMeta},
                               {2, "involvedObject", kMessage, 0, &kObjectReference},
                               {3, "reason", kString},
                               {4, "message", kString},
                               {5, "source", kMessage, 0, &kEventSource},
                               {6, "firstTimestamp", kTime},
                               {7, "lastTimestamp", kTime},
                               {8, "count", kInt32},
                               {9, "type", kString},
                               {10, "eventTime", kMicroTime},
                               {11, "series", kMessage, 0, &kEventSeries},
                               {12, "action", kString},
                               {13, "related", kMessage, 0, &kObjectReference},
                               {14, "reportingComponent", kString, K},
                               {15, "reportingInstance", kString, K},
                           }};

const MessageSchema kEventSource{"EventSource",
                                 true,
                                 {
                                     {1, "component", kString},
                                     {2, "host", kString},
                                 }};

const MessageSchema kEventSeries{"EventSeries",
                                 true,
                                 {
                                     {1, "count", kInt32},
                                     {2, "lastObservedTime", kMicroTime},
                                 }};

const MessageSchema kPod{"Pod",
                         true,
                         {
                             {1, "metadata", kMessage, 0, &kObjectMeta},
                             {2, "spec", kMessage, 0, &kPodSpec},
                             {3, "status", kMessage, 0, &kPodStatus},
                         }};

// The scalar part of a pod's status; clients do not create pods with container statuses.
const MessageSchema kPodStatus{"PodStatus",
                               kPartial,
                               {
                                   {1, "phase", kString},
                                   {3, "message", kString},
                                   {4, "reason", kString},
                                   {5, "hostIP", kString},
                                   {6, "podIP", kString},
                                   {7, "startTime", kTime},
                                   {9, "qosClass", kString},
                                   {11, "nominatedNodeName", kString},
                               }};

const MessageSchema kPodTemplateSpec{"PodTemplateSpec",
                                     true,
                                     {
                                         {1, "metadata", kMessage, 0, &kObjectMeta},
                                         {2, "spec", kMessage, 0, &kPodSpec},
                                     }};

const MessageSchema kPodSpec{"PodSpec",
                             kPartial,
                             {
                                 {1, "volumes", kMessage, R, &kVolume},
                                 {2, "containers", kMessage, R, &kContainer},
                                 {3, "restartPolicy", kString},
                                 {4, "terminationGracePeriodSeconds", kInt64, K},
                                 {5, "activeDeadlineSeconds", kInt64, K},
                                 {6, "dnsPolicy", kString},
                                 {7, "nodeSelector", kStringMap},
                                 {8, "serviceAccountName", kString},
                                 {9, "serviceAccount", kString},
                                 {10, "nodeName", kString},
                                 {11, "hostNetwork", kBool},
                                 {12, "hostPID", kBool},
                                 {13, "hostIPC", kBool},
                                 {14, "securityContext", kMessage, 0, &kPodSecurityContext},
                                 {15, "imagePullSecrets", kMessage, R, &kLocalObjectReference},
                                 {16, "hostname", kString},
                                 {17, "subdomain", kString},
                                 {18, "affinity", kUnsupported},
                                 {19, "schedulerName", kString},
                                 {20, "initContainers", kMessage, R, &kContainer},
                                 {21, "automountServiceAccountToken", kBool, K},
                                 {22, "tolerations", kUnsupported},
                                 {23, "hostAliases", kUnsupported},
                                 {24, "priorityClassName", kString},
                                 {25, "priority", kInt32, K},
                                 {26, "dnsConfig", kUnsupported},
                                 {27, "shareProcessNamespace", kBool, K},
                                 {28, "readinessGates", kUnsupported},
                                 {29, "runtimeClassName", kString, K},
                                 {30, "enableServiceLinks", kBool, K},
                                 {31, "preemptionPolicy", kString, K},
                                 {32, "overhead", kQuantityMap},
                                 {33, "topologySpreadConstraints", kUnsupported},
                                 {34, "ephemeralContainers", kUnsupported},
                                 {35, "setHostnameAsFQDN", kBool, K},
                                 {36, "os", kUnsupported},
                                 {37, "hostUsers", kBool, K},
                                 {38, "schedulingGates", kUnsupported},
                                 {39, "resourceClaims", kUnsupported},
                                 {40, "resources", kMessage, 0, &kResourceRequirements},
                             }};

const MessageSchema kContainer{"Container",
                               kPartial,
                               {
                                   {1, "name", kString, K},
                                   {2, "image", kString},
                                   {3, "command", kString, R},
                                   {4, "args", kString, R},
                                   {5, "workingDir", kString},
                                   {6, "ports", kMessage, R, &kContainerPort},
                                   {7, "env", kMessage, R, &kEnvVar},
                                   {8, "resources", kMessage, 0, &kResourceRequirements},
                                   {9, "volumeMounts", kMessage, R, &kVolumeMount},
                                   {10, "livenessProbe", kUnsupported},
                                   {11, "readinessProbe", kUnsupported},
                                   {12, "lifecycle", kUnsupported},
                                   {13, "terminationMessagePath", kString},
                                   {14, "imagePullPolicy", kString},
                                   {15, "securityContext", kMessage, 0, &kSecurityContext},
                                   {16, "stdin", kBool},
                                   {17, "stdinOnce", kBool},
                                   {18, "tty", kBool},
                                   {19, "envFrom", kUnsupported},
                                   {20, "terminationMessagePolicy", kString},
                                   {21, "volumeDevices", kUnsupported},
                                   {22, "startupProbe", kUnsupported},
                                   {23, "resizePolicy", kUnsupported},
                                   {24, "restartPolicy", kString, K},
                               }};

const MessageSchema kContainerPort{"ContainerPort",
                                   true,
                                   {
                                       {1, "name", kString},
                                       {2, "hostPort", kInt32},
                                       {3, "containerPort", kInt32, K},
                                       {4, "protocol", kString},
                                       {5, "hostIP", kString},
                                   }};

// valueFrom (3) is not decoded.
const MessageSchema kEnvVar{"EnvVar",
                            kPartial,
                            {
                                {1, "name", kString, K},
                                {2, "value", kString},
                            }};

const MessageSchema kResourceRequirements{"ResourceRequirements",
                                          true,
                                          {
                                              {1, "limits", kQuantityMap},
                                              {2, "requests", kQuantityMap},
                                              {3, "claims", kMessage, R, &kResourceClaim},
                                          }};

const MessageSchema kResourceClaim{"ResourceClaim",
                                   true,
                                   {
                                       {1, "name", kString, K},
                                       {2, "request", kString},
                                   }};

const MessageSchema kVolumeMount{"VolumeMount",
                                 true,
                                 {
                                     {1, "name", kString, K},
                                     {2, "readOnly", kBool},
                                     {3, "mountPath", kString, K},
                                     {4, "subPath", kString},
                                     {5, "mountPropagation", kString, K},
                                     {6, "subPathExpr", kString},
                                     {7, "recursiveReadOnly", kString, K},
                                 }};

const MessageSchema kVolume{"Volume",
                            true,
                            {
                                {1, "name", kString, K},
                                {2, "volumeSource", kInline, 0, &kVolumeSource},
                            }};

// The common volume sources; the cloud and network ones are refused.
const MessageSchema kVolumeSource{
    "VolumeSource",
    kPartial,
    {
        {1, "hostPath", kMessage, 0, &kHostPathVolumeSource},
        {2, "emptyDir", kMessage, 0, &kEmptyDirVolumeSource},
        {6, "secret", kMessage, 0, &kSecretVolumeSource},
        {10, "persistentVolumeClaim", kMessage, 0, &kPersistentVolumeClaimVolumeSource},
        {19, "configMap", kMessage, 0, &kConfigMapVolumeSource},
    }};

const MessageSchema kHostPathVolumeSource{"HostPathVolumeSource",
                                          true,
                                          {
                                              {1, "path", kString, K},
                                              {2, "type", kString, K},
                                          }};

const MessageSchema kEmptyDirVolumeSource{"EmptyDirVolumeSource",
                                          true,
                                          {
                                              {1, "medium", kString},
                                              {2, "sizeLimit", kQuantity},
                                          }};

const MessageSchema kSecretVolumeSource{"SecretVolumeSource",
                                        true,
                                        {
                                            {1, "secretName", kString},
                                            {2, "items", kMessage, R, &kKeyToPath},
                                            {3, "defaultMode", kInt32, K},
                                            {4, "optional", kBool, K},
                                        }};

const MessageSchema kConfigMapVolumeSource{
    "ConfigMapVolumeSource",
    true,
    {
        {1, "localObjectReference", kInline, 0, &kLocalObjectReference},
        {2, "items", kMessage, R, &kKeyToPath},
        {3, "defaultMode", kInt32, K},
        {4, "optional", kBool, K},
    }};

const MessageSchema kKeyToPath{"KeyToPath",
                               true,
                               {
                                   {1, "key", kString, K},
                                   {2, "path", kString, K},
                                   {3, "mode", kInt32, K},
                               }};

const MessageSchema kPersistentVolumeClaimVolumeSource{"PersistentVolumeClaimVolumeSource",
                                                       true,
                                                       {
                                                           {1, "claimName", kString, K},
                                                           {2, "readOnly", kBool},
                                                       }};

// seLinuxOptions, sysctls, windowsOptions, appArmorProfile and the policies added later are refused.
const MessageSchema kPodSecurityContext{"PodSecurityContext",
                                        kPartial,
                                        {
                                            {2, "runAsUser", kInt64, K},
                                            {3, "runAsNonRoot", kBool, K},
                                            {4, "supplementalGroups", kInt64, R},
                                            {5, "fsGroup", kInt64, K},
                                            {6, "runAsGroup", kInt64, K},
                                            {9, "fsGroupChangePolicy", kString, K},
                                            {10, "seccompProfile", kMessage, 0, &kSeccompProfile},
                                        }};

const MessageSchema kSecurityContext{"SecurityContext",
                                     kPartial,
                                     {
                                         {1, "capabilities", kMessage, 0, &kCapabilities},
                                         {2, "privileged", kBool, K},
                                         {5, "runAsUser", kInt64, K},
                                         {6, "runAsNonRoot", kBool, K},
                                         {7, "readOnlyRootFilesystem", kBool, K},
                                         {8, "allowPrivilegeEscalation", kBool, K},
                                         {9, "runAsGroup", kInt64, K},
                                         {10, "procMount", kString, K},
                                         {11, "seccompProfile", kMessage, 0, &kSeccompProfile},
                                     }};

const MessageSchema kCapabilities{"Capabilities",
                                  true,
                                  {
                                      {1, "add", kString, R},
                                      {2, "drop", kString, R},
                                  }};

const MessageSchema kSeccompProfile{"SeccompProfile",
                                    true,
                                    {
                                        {1, "type", kString, K},
                                        {2, "localhostProfile", kString, K},
                                    }};

// --- apps/v1 ---

const MessageSchema kDeployment{"Deployment",
                                true,
                                {
                                    {1, "metadata", kMessage, 0, &kObjectMeta},
                                    {2, "spec", kMessage, 0, &kDeploymentSpec},
                                    {3, "status", kMessage, 0, &kDeploymentStatus},
                                }};

const MessageSchema kDeploymentSpec{"DeploymentSpec",
                                    true,
                                    {
                                        {1, "replicas", kInt32, K},
                                        {2, "selector", kMessage, 0, &kLabelSelector},
                                        {3, "template", kMessage, 0, &kPodTemplateSpec},
                                        {4, "strategy", kMessage, 0, &kDeploymentStrategy},
                                        {5, "minReadySeconds", kInt32},
                                        {6, "revisionHistoryLimit", kInt32, K},
                                        {7, "paused", kBool},
                                        {9, "progressDeadlineSeconds", kInt32, K},
                                    }};

const MessageSchema kDeploymentStrategy{"DeploymentStrategy",
                                        true,
                                        {
                                            {1, "type", kString},
                                            {2, "rollingUpdate", kMessage, 0, &kRollingUpdateDeployment},
                                        }};

const MessageSchema kRollingUpdateDeployment{"RollingUpdateDeployment",
                                             true,
                                             {
                                                 {1, "maxUnavailable", kIntOrString},
                                                 {2, "maxSurge", kIntOrString},
                                             }};

const MessageSchema kDeploymentStatus{"DeploymentStatus",
                                      true,
                                      {
                                          {1, "observedGeneration", kInt64},
                                          {2, "replicas", kInt32},
                                          {3, "updatedReplicas", kInt32},
                                          {4, "availableReplicas", kInt32},
                                          {5, "unavailableReplicas", kInt32},
                                          {6, "conditions", kMessage, R, &kDeploymentCondition},
                                          {7, "readyReplicas", kInt32},
                                          {8, "collisionCount", kInt32, K},
                                          {9, "terminatingReplicas", kInt32, K},
                                      }};

const MessageSchema kDeploymentCondition{"DeploymentCondition",
                                         true,
                                         {
                                             {1, "type", kString, K},
                                             {2, "status", kString, K},
                                             {4, "reason", kString},
                                             {5, "message", kString},
                                             {6, "lastUpdateTime", kTime},
                                             {7, "lastTransitionTime", kTime},
                                         }};

// --- batch/v1 ---

const MessageSchema kJob{"Job",
                         true,
                         {
                             {1, "metadata", kMessage, 0, &kObjectMeta},
                             {2, "spec", kMessage, 0, &kJobSpec},
                             {3, "status", kMessage, 0, &kJobStatus},
                         }};

const MessageSchema kJobSpec{"JobSpec",
                             true,
                             {
                                 {1, "parallelism", kInt32, K},
                                 {2, "completions", kInt32, K},
                                 {3, "activeDeadlineSeconds", kInt64, K},
                                 {4, "selector", kMessage, 0, &kLabelSelector},
                                 {5, "manualSelector", kBool, K},
                                 {6, "template", kMessage, 0, &kPodTemplateSpec},
                                 {7, "backoffLimit", kInt32, K},
                                 {8, "ttlSecondsAfterFinished", kInt32, K},
                                 {9, "completionMode", kString, K},
                                 {10, "suspend", kBool, K},
                                 {11, "podFailurePolicy", kUnsupported},
                                 {12, "backoffLimitPerIndex", kInt32, K},
                                 {13, "maxFailedIndexes", kInt32, K},
                                 {14, "podReplacementPolicy", kString, K},
                                 {15, "managedBy", kString, K},
                                 {16, "successPolicy", kUnsupported},
                             }};

// uncountedTerminatedPods (8) is not decoded.
const MessageSchema kJobStatus{"JobStatus",
                               kPartial,
                               {
                                   {1, "conditions", kMessage, R, &kJobCondition},
                                   {2, "startTime", kTime},
                                   {3, "completionTime", kTime},
                                   {4, "active", kInt32},
                                   {5, "succeeded", kInt32},
                                   {6, "failed", kInt32},
                                   {7, "completedIndexes", kString},
                                   {9, "ready", kInt32, K},
                                   {10, "failedIndexes", kString, K},
                                   {11, "terminating", kInt32, K},
                               }};

const MessageSchema kJobCondition{"JobCondition",
                                  true,
                                  {
                                      {1, "type", kString, K},
                                      {2, "status", kString, K},
                                      {3, "lastProbeTime", kTime},
                                      {4, "lastTransitionTime", kTime},
                                      {5, "reason", kString},
                                      {6, "message", kString},
                                  }};

// --- rbac.authorization.k8s.io/v1 ---

const MessageSchema kPolicyRule{"PolicyRule",
                                true,
                                {
                                    {1, "verbs", kString, R},
                                    {2, "apiGroups", kString, R},
                                    {3, "resources", kString, R},
                                    {4, "resourceNames", kString, R},
                                    {5, "nonResourceURLs", kString, R},
                                }};

const MessageSchema kRole{"Role",
                          true,
                          {
                              {1, "metadata", kMessage, 0, &kObjectMeta},
                              {2, "rules", kMessage, R, &kPolicyRule},
                          }};

const MessageSchema kClusterRole{"ClusterRole",
                                 true,
                                 {
                                     {1, "metadata", kMessage, 0, &kObjectMeta},
                                     {2, "rules", kMessage, R, &kPolicyRule},
                                     {3, "aggregationRule", kMessage, 0, &kAggregationRule},
                                 }};

const MessageSchema kAggregationRule{
    "AggregationRule", true, {{1, "clusterRoleSelectors", kMessage, R, &kLabelSelector}}};

// RoleBinding and ClusterRoleBinding share their fields.
const MessageSchema kRoleBinding{"RoleBinding",
                                 true,
                                 {
                                     {1, "metadata", kMessage, 0, &kObjectMeta},
                                     {2, "subjects", kMessage, R, &kSubject},
                                     {3, "roleRef", kMessage, 0, &kRoleRef},
                                 }};

const MessageSchema kSubject{"Subject",
                             true,
                             {
                                 {1, "kind", kString, K},
                                 {2, "apiGroup", kString},
                                 {3, "name", kString, K},
                                 {4, "namespace", kString},
                             }};

const MessageSchema kRoleRef{"RoleRef",
                             true,
                             {
                                 {1, "apiGroup", kString, K},
                                 {2, "kind", kString, K},
                                 {3, "name", kString, K},
                             }};

// --- networking.k8s.io/v1 ---

const MessageSchema kIngress{"Ingress",
                             true,
                             {
                                 {1, "metadata", kMessage, 0, &kObjectMeta},
                                 {2, "spec", kMessage, 0, &kIngressSpec},
                                 {3, "status", kMessage, 0, &kIngressStatus},
                             }};

const MessageSchema kIngressSpec{"IngressSpec",
                                 true,
                                 {
                                     {1, "defaultBackend", kMessage, 0, &kIngressBackend},
                                     {2, "tls", kMessage, R, &kIngressTLS},
                                     {3, "rules", kMessage, R, &kIngressRule},
                                     {4, "ingressClassName", kString, K},
                                 }};

const MessageSchema kIngressBackend{"IngressBackend",
                                    true,
                                    {
                                        {3, "resource", kMessage, 0, &kTypedLocalObjectReference},
                                        {4, "service", kMessage, 0, &kIngressServiceBackend},
                                    }};

const MessageSchema kTypedLocalObjectReference{"TypedLocalObjectReference",
                                               true,
                                               {
                                                   {1, "apiGroup", kString, K},
                                                   {2, "kind", kString, K},
                                                   {3, "name", kString, K},
                                               }};

const MessageSchema kIngressServiceBackend{"IngressServiceBackend",
                                           true,
                                           {
                                               {1, "name", kString, K},
                                               {2, "port", kMessage, 0, &kServiceBackendPort},
                                           }};

const MessageSchema kServiceBackendPort{"ServiceBackendPort",
                                        true,
                                        {
                                            {1, "name", kString},
                                            {2, "number", kInt32},
                                        }};

const MessageSchema kIngressTLS{"IngressTLS",
                                true,
                                {
                                    {1, "hosts", kString, R},
                                    {2, "secretName", kString},
                                }};

const MessageSchema kIngressRule{"IngressRule",
                                 true,
                                 {
                                     {1, "host", kString},
                                     {2, "ingressRuleValue", kInline, 0, &kIngressRuleValue},
                                 }};

const MessageSchema kIngressRuleValue{
    "IngressRuleValue", true, {{1, "http", kMessage, 0, &kHTTPIngressRuleValue}}};

const MessageSchema kHTTPIngressRuleValue{
    "HTTPIngressRuleValue", true, {{1, "paths", kMessage, R, &kHTTPIngressPath}}};

const MessageSchema kHTTPIngressPath{"HTTPIngressPath",
                                     true,
                                     {
                                         {1, "path", kString},
                                         {2, "backend", kMessage, 0, &kIngressBackend},
                                         {3, "pathType", kString, K},
                                     }};

const MessageSchema kIngressStatus{
    "IngressStatus", true, {{1, "loadBalancer", kMessage, 0, &kIngressLoadBalancerStatus}}};

const MessageSchema kIngressLoadBalancerStatus{
    "IngressLoadBalancerStatus", true, {{1, "ingress", kMessage, R, &kIngressLoadBalancerIngress}}};

const MessageSchema kIngressLoadBalancerIngress{"IngressLoadBalancerIngress",
                                                true,
                                                {
                                                    {1, "ip", kString},
                                                    {2, "hostname", kString},
                                                    {4, "ports", kMessage, R, &kIngressPortStatus},
                                                }};

const MessageSchema kIngressPortStatus{"IngressPortStatus",
                                       true,
                                       {
                                           {1, "port", kInt32, K},
                                           {2, "protocol", kString, K},
                                           {3, "error", kString, K},
                                       }};

// --- coordination.k8s.io/v1 ---

const MessageSchema kLease{"Lease",
                           true,
                           {
                               {1, "metadata", kMessage, 0, &kObjectMeta},
                               {2, "spec", kMessage, 0, &kLeaseSpec},
                           }};

const MessageSchema kLeaseSpec{"LeaseSpec",
                               true,
                               {
                                   {1, "holderIdentity", kString, K},
                                   {2, "leaseDurationSeconds", kInt32, K},
                                   {3, "acquireTime", kMicroTime},
                                   {4, "renewTime", kMicroTime},
                                   {5, "leaseTransitions", kInt32, K},
                                   {6, "strategy", kString, K},
                                   {7, "preferredHolder", kString, K},
                               }};

struct ObjectEntry {
  std::string_view apiVersion;
  std::string_view kind;
  const MessageSchema* schema;
};

const std::array kObjects{
    ObjectEntry{"v1", "ConfigMap", &kConfigMap},
    ObjectEntry{"v1", "Secret", &kSecret},
    ObjectEntry{"v1", "Namespace", &kNamespace},
    ObjectEntry{"v1", "ServiceAccount", &kServiceAccount},
    ObjectEntry{"v1", "Service", &kService},
    ObjectEntry{"v1", "Event", &kEvent},
    ObjectEntry{"v1", "Pod", &kPod},
    ObjectEntry{"apps/v1", "Deployment", &kDeployment},
    ObjectEntry{"batch/v1", "Job", &kJob},
    ObjectEntry{"rbac.authorization.k8s.io/v1", "Role", &kRole},
    ObjectEntry{"rbac.authorization.k8s.io/v1", "ClusterRole", &kClusterRole},
    ObjectEntry{"rbac.authorization.k8s.io/v1", "RoleBinding", &kRoleBinding},
    ObjectEntry{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &kRoleBinding},
    ObjectEntry{"networking.k8s.io/v1", "Ingress", &kIngress},
    ObjectEntry{"coordination.k8s.io/v1", "Lease", &kLease},
};

}  // namespace

const MessageSchema* findObjectSchema(std::string_view apiVersion, std::string_view kind) {
  for (const auto& o : kObjects) {
    if (o.apiVersion == apiVersion && o.kind == kind) return o.schema;
  }
  return nullptr;
}

}  // namespace sluice::apiserver::pb
