// The simulated data plane's counting (see series.h): each flow's requests split by the pod's error rate,
// counted per pod and under its front's names, durations spread evenly over [latency/2, 3*latency/2].
#include "dataplane/series.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>

#include "base/json_lookup.h"
#include "base/pod_behaviour.h"

namespace sluice::dataplane {

using json_lookup::field;
using json_lookup::str;
using json_lookup::stringMap;
using nlohmann::json;

namespace {

constexpr const char* kPodTemplateHashLabel = "sluice.dev/pod-template-hash";

const FamilyInfo kFamilyInfo[kFamilyCount] = {
    {"http_requests_total",
     "Requests the embedded cluster's simulated data plane sent to each pod",
     false,
     {},
     1},
    {"nginx_ingress_controller_requests",
     "The simulated ingress-nginx's requests, as ingress-nginx counts them",
     false,
     {},
     1},
    {"nginx_ingress_controller_request_duration_seconds",
     "The simulated ingress-nginx's request durations",
     true,
     {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
     1},
    {"istio_requests_total",
     "The simulated Istio mesh's requests, as Istio's proxies count them",
     false,
     {},
     1},
    {"istio_request_duration_milliseconds",
     "The simulated Istio mesh's request durations",
     true,
     {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
      3600000},
     1000},
    {"traefik_service_requests_total",
     "The simulated Traefik's requests per service, as Traefik counts them",
     false,
     {},
     1},
    {"traefik_service_request_duration_seconds",
     "The simulated Traefik's request durations per service",
     true,
     {0.1, 0.3, 1.2, 5},
     1},
};

bool podReady(const json& pod) {
  if (field(pod, "metadata").contains("deletionTimestamp")) return false;
  const json& conds = field(field(pod, "status"), "conditions");
  if (!conds.is_array()) return false;
  for (const auto& c : conds) {
    if (str(c, "type") == "Ready") return str(c, "status") == "True";
  }
  return false;
}

// The pod's workload as Istio names it: its controller's name without a trailing "-<pod-template-hash>"
// (a ReplicaSet of a Deployment or a Rollout), else the pod's own name.
std::string workloadOf(const json& pod, const std::map<std::string, std::string>& labels) {
  const json& owners = field(field(pod, "metadata"), "ownerReferences");
  if (owners.is_array()) {
    for (const auto& o : owners) {
      if (!field(o, "controller").is_boolean() || !field(o, "controller").get<bool>()) continue;
      std::string name = str(o, "name");
      for (const char* hashLabel : {kPodTemplateHashLabel, "pod-template-hash"}) {
        auto hash = labels.find(hashLabel);
        if (hash == labels.end()) continue;
        const std::string suffix = "-" + hash->second;
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
          return name.substr(0, name.size() - suffix.size());
      }
      return name;
    }
  }
  return str(field(pod, "metadata"), "name");
}

std::string labelOr(const std::map<std::string, std::string>& labels, std::initializer_list<const char*> keys,
                    const std::string& fallback) {
  for (const char* k : keys) {
    auto it = labels.find(k);
    if (it != labels.end() && !it->second.empty()) return it->second;
  }
  return fallback;
}

// "0.25" as Prometheus writes a bucket bound; "+Inf" for infinity.
std::string bound(double le) {
  if (std::isinf(le)) return "+Inf";
  std::string text = nlohmann::json(le).dump();
  if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);
  return text;
}

}  // namespace

const FamilyInfo& familyInfo(Family family) { return kFamilyInfo[family]; }

std::pair<RoutedPod, PodAnswers> podOf(const json& pod) {
  auto labels = stringMap(field(field(pod, "metadata"), "labels"));
  // A bad annotation counts as none here; the kubelet stand-in reports it on the pod.
  const PodBehaviour behaviour = podBehaviour(pod, std::chrono::milliseconds(0));
  PodAnswers answers;
  auto hash = labels.find(kPodTemplateHashLabel);
  answers.templateHash = hash == labels.end() ? "" : hash->second;
  answers.errorRate = behaviour.errorRate;
  answers.latency = behaviour.latency;
  answers.workload = workloadOf(pod, labels);
  answers.labels = labels;
  return {RoutedPod{std::move(labels), answers.workload, podReady(pod)}, std::move(answers)};
}

void Counters::add(Family family, Labels labels, const Owner& owner, const ObjectKey& pod, double requests,
                   std::chrono::milliseconds latency) {
  Accumulated& a = series_[{family, std::move(labels)}];
  a.owner = owner;
  a.pod = pod;  // the front's series sum over pods: they stay when one goes
  a.count += requests;
  const FamilyInfo& info = kFamilyInfo[family];
  if (!info.histogram) return;
  // Durations spread evenly over [latency/2, 3*latency/2]: the share at or under a bound is linear in it.
  const double mean = std::chrono::duration<double>(latency).count() * info.unit;
  a.buckets.resize(info.bounds.size());
  for (size_t i = 0; i < info.bounds.size(); ++i) {
    const double share = mean <= 0 ? 1.0 : std::clamp((info.bounds[i] - mean / 2) / mean, 0.0, 1.0);
    a.buckets[i] += requests * share;
  }
  a.sum += requests * mean;
}

void Counters::count(const Flow& flow, const PodAnswers* pod, const std::string& code, double requests,
                     std::chrono::milliseconds latency) {
  const ObjectKey podKey = pod ? ObjectKey{flow.namespace_, flow.pod} : ObjectKey{};
  if (pod) {
    add(kPodRequests,
        {{"namespace", flow.namespace_},
         {"service", flow.service},
         {"pod", flow.pod},
         {"pod_template_hash", pod->templateHash},
         {"code", code}},
        Owner{-1, {flow.namespace_, flow.service}}, podKey, requests, latency);
  }
  if (flow.front == Front::kNginx) {
    Labels labels = {{"controller_class", "k8s.io/ingress-nginx"},
                     {"controller_namespace", "ingress-nginx"},
                     {"controller_pod", "ingress-nginx-controller"},
                     {"namespace", flow.owner.first},
                     {"method", "GET"},
                     {"status", code}};
    labels.insert(labels.end(), flow.labels.begin(), flow.labels.end());
    std::sort(labels.begin(), labels.end());
    const Owner owner{static_cast<int>(RouteKind::kIngress), flow.owner};
    add(kNginxRequests, labels, owner, {}, requests, latency);
    add(kNginxDuration, labels, owner, {}, requests, latency);
  } else if (flow.front == Front::kTraefik) {
    Labels labels = {{"code", code}, {"method", "GET"}, {"protocol", "http"}};
    labels.insert(labels.end(), flow.labels.begin(), flow.labels.end());
    std::sort(labels.begin(), labels.end());
    const Owner owner{static_cast<int>(RouteKind::kTraefikService), flow.owner};
    add(kTraefikRequests, labels, owner, {}, requests, latency);
    add(kTraefikDuration, labels, owner, {}, requests, latency);
  } else if (flow.front == Front::kIstio) {
    const std::string workload = pod ? pod->workload : "unknown";
    const std::map<std::string, std::string> none;
    const auto& podLabels = pod ? pod->labels : none;
    for (const std::string reporter : {"source", "destination"}) {
      // A mirrored copy is seen by the destination only; an answer the front gives itself by the source.
      if (flow.mirrored && reporter == "source") continue;
      if (!pod && reporter == "destination") continue;
      Labels labels = {
          {"reporter", reporter},
          {"source_workload", "istio-ingressgateway"},
          {"source_workload_namespace", "istio-system"},
          {"source_canonical_service", "istio-ingressgateway"},
          {"destination_workload", workload},
          {"destination_workload_namespace", pod ? flow.namespace_ : "unknown"},
          {"destination_version", labelOr(podLabels, {"version"}, "unknown")},
          {"destination_canonical_service",
           labelOr(podLabels, {"service.istio.io/canonical-name", "app.kubernetes.io/name", "app"},
                   workload)},
          {"destination_canonical_revision",
           labelOr(podLabels, {"service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"},
                   "latest")},
          {"request_protocol", "http"},
          {"response_code", code},
          {"connection_security_policy", reporter == "destination" ? "mutual_tls" : "unknown"}};
      labels.insert(labels.end(), flow.labels.begin(), flow.labels.end());
      std::sort(labels.begin(), labels.end());
      const Owner owner{static_cast<int>(RouteKind::kVirtualService), flow.owner};
      add(kIstioRequests, labels, owner, {}, requests, latency);
      add(kIstioDuration, labels, owner, {}, requests, latency);
    }
  }
}

void Counters::add(const std::vector<Flow>& flows, const std::map<ObjectKey, PodAnswers>& answers,
                   double seconds) {
  if (seconds <= 0) return;
  for (const auto& flow : flows) {
    const double requests = flow.requestsPerSecond * seconds;
    if (flow.pod.empty()) {
      count(flow, nullptr, std::to_string(flow.status), requests, std::chrono::milliseconds(0));
      continue;
    }
    auto pod = answers.find({flow.namespace_, flow.pod});
    if (pod == answers.end()) continue;
    const double errors = requests * pod->second.errorRate;
    count(flow, &pod->second, "200", requests - errors, pod->second.latency);
    count(flow, &pod->second, "500", errors, pod->second.latency);
  }
}

void Counters::forgetPod(const ObjectKey& pod) {
  std::erase_if(series_, [&](const auto& s) { return s.second.pod == pod; });
}

void Counters::forgetOwner(const Owner& owner) {
  std::erase_if(series_, [&](const auto& s) { return s.second.owner == owner; });
}

std::vector<Sample> samples(const Counters& counters) {
  std::vector<Sample> out;
  for (const auto& [id, a] : counters.series()) {
    const FamilyInfo& info = kFamilyInfo[id.first];
    if (!info.histogram) {
      out.push_back({info.name, id.second, a.count});
      continue;
    }
    const std::string name = info.name;
    const double whole = std::floor(a.count);
    for (size_t i = 0; i <= info.bounds.size(); ++i) {
      Labels labels = id.second;
      const bool inf = i == info.bounds.size();
      labels.emplace_back("le", bound(inf ? INFINITY : info.bounds[i]));
      out.push_back({name + "_bucket", std::move(labels), inf ? whole : std::floor(a.buckets[i])});
    }
    out.push_back({name + "_sum", id.second, a.sum});
    out.push_back({name + "_count", id.second, whole});
  }
  return out;
}

}  // namespace sluice::dataplane
