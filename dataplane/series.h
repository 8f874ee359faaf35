// The simulated data plane's counting: the requests of the routed streams (routes.h) counted over time
// as the real data planes count them, under their names and labels (ingress-nginx's, Istio's, Traefik's, and
// a per-pod http_requests_total), with their latency histograms. Pure: the embedded cluster serves the
// series on /metrics, and the simulator writes them to a Prometheus at virtual instants.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/routes.h"

namespace sluice::dataplane {

// The families, in the order they are served.
enum Family {
  kPodRequests,
  kNginxRequests,
  kNginxDuration,
  kIstioRequests,
  kIstioDuration,
  kTraefikRequests,
  kTraefikDuration,
  kFamilyCount
};

struct FamilyInfo {
  const char* name;
  const char* help;
  bool histogram;
  std::vector<double>
      bounds;   // histograms' bucket upper bounds (ingress-nginx's, Istio's and Traefik's defaults)
  double unit;  // a second in the histogram's unit
};
const FamilyInfo& familyInfo(Family family);

using Labels = std::vector<std::pair<std::string, std::string>>;

// Whose going takes a series with it: a Service (-1) or a routing object (its RouteKind).
struct Owner {
  int kind = -1;
  ObjectKey key;
  auto operator<=>(const Owner&) const = default;
};

struct Accumulated {
  double count = 0;
  double sum = 0;               // histograms: in the family's unit
  std::vector<double> buckets;  // histograms: cumulative counts per bound
  Owner owner;
  ObjectKey pod;  // http_requests_total: the pod whose answers these are; empty otherwise
};

// How a pod answers, and what Istio's labels need of it.
struct PodAnswers {
  std::string templateHash;  // its sluice.dev/pod-template-hash label
  double errorRate = 0;
  std::chrono::milliseconds latency{20};
  std::map<std::string, std::string> labels;
  std::string workload;  // as RoutedPod::workload
};

// What the data plane needs of a pod object: its routing side and its answers (from its labels, owner and
// the cluster.sluice.dev/ annotations; a bad annotation counts as none).
std::pair<RoutedPod, PodAnswers> podOf(const nlohmann::json& pod);

class Counters {
 public:
  // Counts `seconds` of the streams `flows`, the pods answering as `answers` says (a flow to a pod
  // missing there is not counted).
  void add(const std::vector<Flow>& flows, const std::map<ObjectKey, PodAnswers>& answers, double seconds);
  // Drops the series of a pod that went, or of a Service (-1) or routing object (its RouteKind) that went.
  void forgetPod(const ObjectKey& pod);
  void forgetOwner(const Owner& owner);

  const std::map<std::pair<Family, Labels>, Accumulated>& series() const { return series_; }

 private:
  void count(const Flow& flow, const PodAnswers* pod, const std::string& code, double requests,
             std::chrono::milliseconds latency);
  void add(Family family, Labels labels, const Owner& owner, const ObjectKey& pod, double requests,
           std::chrono::milliseconds latency);

  std::map<std::pair<Family, Labels>, Accumulated> series_;
};

// One sample as Prometheus stores it: `name` (a histogram as its _bucket with `le`, _sum and _count),
// labels, value. Histogram counts are whole requests, rounded down, as the cluster's /metrics serves them.
struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};
std::vector<Sample> samples(const Counters& counters);

}  // namespace sluice::dataplane
