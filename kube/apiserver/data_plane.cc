// The simulated data plane's counting and its /metrics (see data_plane.h): watch-fed copies of the Services,
// pods and routing objects, the streams routed afresh on every change (traffic_routes.h), counters and
// histograms integrated over time, served through prometheus-cpp's text serializer.
#include "kube/apiserver/data_plane.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "base/pod_behaviour.h"
#include "kube/apiserver/json_fields.h"
#include "kube/apiserver/registry.h"
#include "kube/apiserver/traffic_routes.h"
#include "net/http_server.h"

namespace sluice::apiserver {

using json_fields::field;
using json_fields::str;
using nlohmann::json;

namespace {

constexpr const char* kPodTemplateHashLabel = "sluice.dev/pod-template-hash";

// The families, in the order they are served.
enum Family { kPodRequests, kNginxRequests, kNginxDuration, kIstioRequests, kIstioDuration, kFamilies };

struct FamilyInfo {
  const char* name;
  const char* help;
  prometheus::MetricType type;
  std::vector<double> bounds;  // histograms' bucket upper bounds
  double unit;                 // a second in the histogram's unit
};

// ingress-nginx's and Istio's default buckets.
const FamilyInfo kFamilyInfo[kFamilies] = {
    {"http_requests_total",
     "Requests the embedded cluster's simulated data plane sent to each pod",
     prometheus::MetricType::Counter,
     {},
     1},
    {"nginx_ingress_controller_requests",
     "The simulated ingress-nginx's requests, as ingress-nginx counts them",
     prometheus::MetricType::Counter,
     {},
     1},
    {"nginx_ingress_controller_request_duration_seconds",
     "The simulated ingress-nginx's request durations",
     prometheus::MetricType::Histogram,
     {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
     1},
    {"istio_requests_total",
     "The simulated Istio mesh's requests, as Istio's proxies count them",
     prometheus::MetricType::Counter,
     {},
     1},
    {"istio_request_duration_milliseconds",
     "The simulated Istio mesh's request durations",
     prometheus::MetricType::Histogram,
     {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
      3600000},
     1000},
};

using Labels = std::vector<std::pair<std::string, std::string>>;

// Whose going takes a series with it: a pod, a Service (-1) or a routing object (its RouteKind).
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

// What counting needs of a pod beyond routing.
struct PodAnswers {
  std::string templateHash;
  double errorRate = 0;
  std::chrono::milliseconds latency = kDefaultLatency;
  std::map<std::string, std::string> labels;
  std::string workload;
};

std::map<std::string, std::string> stringMap(const json& obj) {
  std::map<std::string, std::string> out;
  if (!obj.is_object()) return out;
  for (const auto& [k, v] : obj.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

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

}  // namespace

struct DataPlane::Impl {
  const Clock& clock;
  DataPlaneOptions options;

  // Guards everything below but the watch and the server; the watch's sink and scrapes take it.
  mutable std::mutex mu;
  RoutingState state;
  std::map<ObjectKey, PodAnswers> answers;
  std::vector<Flow> flows;  // routed afresh on every change
  mutable std::map<std::pair<Family, Labels>, Accumulated> series;
  mutable Clock::TimePoint counted;  // the series hold the traffic up to this instant
  std::set<std::string> warned;

  // Declared last, so that they stop first, before the state their callbacks use goes.
  std::unique_ptr<RegistryWatch> watch;
  std::unique_ptr<net::HttpServer> server;

  Impl(const Clock& c, const DataPlaneOptions& o) : clock(c), options(o), counted(c.now()) {}

  void add(Family family, Labels labels, const Owner& owner, const ObjectKey& pod, double requests,
           std::chrono::milliseconds latency) const {
    Accumulated& a = series[{family, std::move(labels)}];
    a.owner = owner;
    a.pod = pod;  // the front's series sum over pods: they stay when one goes
    a.count += requests;
    const FamilyInfo& info = kFamilyInfo[family];
    if (info.type != prometheus::MetricType::Histogram) return;
    // Durations spread evenly over [latency/2, 3*latency/2]: the share at or under a bound is linear in it.
    const double mean = std::chrono::duration<double>(latency).count() * info.unit;
    a.buckets.resize(info.bounds.size());
    for (size_t i = 0; i < info.bounds.size(); ++i) {
      const double share = mean <= 0 ? 1.0 : std::clamp((info.bounds[i] - mean / 2) / mean, 0.0, 1.0);
      a.buckets[i] += requests * share;
    }
    a.sum += requests * mean;
  }

  // Counts `requests` answered with `code` in `latency` for one flow.
  void count(const Flow& flow, const PodAnswers* pod, const std::string& code, double requests,
             std::chrono::milliseconds latency) const {
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
    } else if (flow.front == Front::kIstio) {
      const std::string workload = pod ? pod->workload : "unknown";
      const std::map<std::string, std::string> none;
      const auto& podLabels = pod ? pod->labels : none;
      for (const char* reporter : {"source", "destination"}) {
        // A mirrored copy is seen by the destination only; an answer the front gives itself by the source.
        if (flow.mirrored && std::string(reporter) == "source") continue;
        if (!pod && std::string(reporter) == "destination") continue;
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
             labelOr(podLabels,
                     {"service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"},
                     "latest")},
            {"request_protocol", "http"},
            {"response_code", code},
            {"connection_security_policy",
             std::string(reporter) == "destination" ? "mutual_tls" : "unknown"}};
        labels.insert(labels.end(), flow.labels.begin(), flow.labels.end());
        std::sort(labels.begin(), labels.end());
        const Owner owner{static_cast<int>(RouteKind::kVirtualService), flow.owner};
        add(kIstioRequests, labels, owner, {}, requests, latency);
        add(kIstioDuration, labels, owner, {}, requests, latency);
      }
    }
  }

  // Adds the traffic from `counted` to now, as things stood over that time.
  void advance() const {
    const auto now = clock.now();
    const double dt = std::chrono::duration<double>(now - counted).count();
    counted = now;
    if (dt <= 0) return;
    for (const auto& flow : flows) {
      const double requests = flow.requestsPerSecond * dt;
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

  void forget(const std::function<bool(const Accumulated&)>& gone) {
    for (auto it = series.begin(); it != series.end();)
      it = gone(it->second) ? series.erase(it) : std::next(it);
  }

  // A change: the traffic until now is counted as things stood, then it applies and the streams are
  // routed afresh.
  void onEvent(const ResourceType& type, const WatchEvent& e) {
    if (e.type != "ADDED" && e.type != "MODIFIED" && e.type != "DELETED") return;
    int kind = -3;  // -2: a pod, -1: a Service, else a RouteKind
    if (type.group.empty() && type.resource == "pods") kind = -2;
    if (type.group.empty() && type.resource == "services") kind = -1;
    for (size_t i = 0; i < std::size(kRouteResources); ++i) {
      if (type.group == kRouteResources[i].first && type.resource == kRouteResources[i].second)
        kind = static_cast<int>(i);
    }
    if (kind == -3) return;
    const json& meta = field(e.object, "metadata");
    ObjectKey key{str(meta, "namespace"), str(meta, "name")};
    const bool deleted = e.type == "DELETED";
    std::lock_guard lock(mu);
    advance();
    if (kind == -2) {
      if (deleted) {
        state.pods.erase(key);
        answers.erase(key);
        forget([&](const Accumulated& a) { return a.pod == key; });
      } else {
        auto labels = stringMap(field(meta, "labels"));
        // A bad annotation counts as none here; the kubelet stand-in reports it on the pod (workloads.cc).
        const PodBehaviour behaviour = podBehaviour(e.object, std::chrono::milliseconds(0));
        auto hash = labels.find(kPodTemplateHashLabel);
        PodAnswers& a = answers[key];
        a.templateHash = hash == labels.end() ? "" : hash->second;
        a.errorRate = behaviour.errorRate;
        a.latency = behaviour.latency;
        a.workload = workloadOf(e.object, labels);
        a.labels = labels;
        state.pods[key] = RoutedPod{std::move(labels), a.workload, podReady(e.object)};
      }
    } else {
      auto& objects = kind == -1 ? state.services : state.routes[static_cast<RouteKind>(kind)];
      if (deleted) {
        objects.erase(key);
        const Owner owner{kind, key};
        forget([&](const Accumulated& a) { return a.owner == owner; });
      } else {
        objects[key] = e.object;
      }
    }
    std::vector<std::string> problems;
    flows = routeTraffic(state, options.requestsPerSecond, problems);
    for (const auto& p : problems) {
      if (warned.insert(p).second) std::cerr << "apiserver: data plane: " << p << "\n";
    }
  }

  std::string scrape() const {
    std::vector<prometheus::MetricFamily> families(kFamilies);
    for (int f = 0; f < kFamilies; ++f) {
      families[f].name = kFamilyInfo[f].name;
      families[f].help = kFamilyInfo[f].help;
      families[f].type = kFamilyInfo[f].type;
    }
    {
      std::lock_guard lock(mu);
      advance();
      for (const auto& [id, a] : series) {
        const FamilyInfo& info = kFamilyInfo[id.first];
        prometheus::ClientMetric m;
        for (const auto& [name, value] : id.second) m.label.push_back({name, value});
        if (info.type == prometheus::MetricType::Histogram) {
          m.histogram.sample_count = static_cast<std::uint64_t>(a.count);
          m.histogram.sample_sum = a.sum;
          // prometheus-cpp's histograms count whole requests: the exact counts, rounded down.
          for (size_t i = 0; i < info.bounds.size(); ++i)
            m.histogram.bucket.push_back({static_cast<std::uint64_t>(a.buckets[i]), info.bounds[i]});
          m.histogram.bucket.push_back({m.histogram.sample_count, std::numeric_limits<double>::infinity()});
        } else {
          m.counter.value = a.count;
        }
        families[id.first].metric.push_back(std::move(m));
      }
    }
    // The pod family is always served; a data plane's only once it has counted something.
    std::erase_if(families, [](const prometheus::MetricFamily& f) {
      return f.metric.empty() && f.name != kFamilyInfo[kPodRequests].name;
    });
    return prometheus::TextSerializer().Serialize(families);
  }
};

DataPlane::DataPlane(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DataPlane::~DataPlane() {
  impl_->server.reset();
  impl_->watch.reset();
}

Result<std::unique_ptr<DataPlane>> DataPlane::start(Registry& registry, const Clock& clock,
                                                    const DataPlaneOptions& options) {
  auto impl = std::make_unique<Impl>(clock, options);
  Impl* self = impl.get();
  auto watch =
      registry.watchAll([self](const ResourceType& type, const WatchEvent& e) { self->onEvent(type, e); });
  if (!watch) return Error{"the data plane: watching the cluster: " + watch.error().message};
  impl->watch = std::move(watch).value();
  if (options.metricsAddress) {
    auto server =
        net::HttpServer::start("--traffic-metrics-addr", *options.metricsAddress,
                               [self](const std::string& target) -> net::HttpAnswer {
                                 if (target != "/metrics")
                                   return {404, "text/plain; charset=utf-8", "not found: " + target + "\n"};
                                 return {200, "text/plain; version=0.0.4; charset=utf-8", self->scrape()};
                               });
    if (!server) return Error{server.error()};
    impl->server = std::move(server).value();
  }
  return std::unique_ptr<DataPlane>(new DataPlane(std::move(impl)));
}

std::string DataPlane::scrape() const { return impl_->scrape(); }

int DataPlane::port() const { return impl_->server ? impl_->server->port() : 0; }

}  // namespace sluice::apiserver
