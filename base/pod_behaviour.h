// How the stand-in worlds run a pod, read from its annotations: the embedded cluster's kubelet stand-in and
// the simulator both honour them, so a pod template that says "never ready" is never ready in either, and
// `sluice sim` predicts what `sluice cluster` then does.
#pragma once

#include <chrono>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace sluice {

// Pod annotations that steer how one pod runs (set them in a pod template). The cluster.sluice.dev/
// prefix keeps them apart from the sluice.dev/ labels the Rollout controller writes.
inline constexpr const char* kReadyAfterAnnotation = "cluster.sluice.dev/ready-after";  // "500ms", "5s"
inline constexpr const char* kFailAnnotation = "cluster.sluice.dev/fail";               // "CrashLoopBackOff"
// The fraction of the requests the data plane sends the pod that it answers with errors: "0" to "1".
inline constexpr const char* kErrorRateAnnotation = "cluster.sluice.dev/error-rate";
// How long the pod takes to answer a request on average ("120ms", "1s"): the data plane spreads its
// answers' durations evenly from half to one and a half times this.
inline constexpr const char* kLatencyAnnotation = "cluster.sluice.dev/latency";
inline constexpr std::chrono::milliseconds kDefaultLatency{20};

// How one pod is to behave. A value that is not understood is ignored (the default applies) and described
// in `problem`, which the kubelet stand-in reports as a Warning Event on the pod.
struct PodBehaviour {
  std::chrono::milliseconds readyAfter{0};
  bool crashLoop = false;  // never ready
  double errorRate = 0;    // in [0, 1]
  std::chrono::milliseconds latency = kDefaultLatency;
  std::string problem;  // empty when every annotation was understood
};

// `pod`: a Pod or a pod template (anything with metadata.annotations).
PodBehaviour podBehaviour(const nlohmann::json& pod, std::chrono::milliseconds defaultReadyAfter);

}  // namespace sluice
