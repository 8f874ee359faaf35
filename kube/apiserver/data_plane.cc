// The simulated data plane's traffic model and its /metrics (see data_plane.h): watch-fed copies of the
// Services and pods, counters integrated over time, served through prometheus-cpp's text serializer.
#include "kube/apiserver/data_plane.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <vector>

#include "kube/apiserver/json_fields.h"
#include "kube/apiserver/registry.h"
#include "kube/apiserver/workloads.h"
#include "net/http_server.h"

namespace sluice::apiserver {

using nlohmann::json;

namespace {

constexpr const char* kPodTemplateHashLabel = "sluice.dev/pod-template-hash";

using json_fields::field;
using json_fields::str;

// What the model needs of a pod.
struct PodState {
  std::map<std::string, std::string> labels;
  std::string templateHash;
  double errorRate = 0;
  bool ready = false;
};

// What the model needs of a Service.
struct ServiceState {
  std::map<std::string, std::string> selector;  // empty: selects no pod
  double requestsPerSecond = 0;
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

PodState podState(const json& pod) {
  PodState state;
  state.labels = stringMap(field(field(pod, "metadata"), "labels"));
  auto hash = state.labels.find(kPodTemplateHashLabel);
  if (hash != state.labels.end()) state.templateHash = hash->second;
  // A bad annotation counts as none here; the kubelet stand-in reports it on the pod (workloads.cc).
  state.errorRate = podBehaviour(pod, std::chrono::milliseconds(0)).errorRate;
  state.ready = podReady(pod);
  return state;
}

bool selects(const std::map<std::string, std::string>& selector,
             const std::map<std::string, std::string>& labels) {
  if (selector.empty()) return false;
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

// A Service's rate: its annotation when it is a number >= 0, else the default (and a log line once per
// Service and value).
double requestsPerSecond(const json& service, double byDefault, std::set<std::string>& warned) {
  const std::string text =
      str(field(field(service, "metadata"), "annotations"), kRequestsPerSecondAnnotation);
  if (text.empty()) return byDefault;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() && *end == '\0' && v >= 0 && v < 1e12) return v;
  const json& meta = field(service, "metadata");
  const std::string who = str(meta, "namespace") + "/" + str(meta, "name");
  if (warned.insert(who + "=" + text).second)
    std::cerr << "apiserver: data plane: service " << who << ": annotation " << kRequestsPerSecondAnnotation
              << ": \"" << text << "\" is not a number of requests a second >= 0; using " << byDefault
              << "\n";
  return byDefault;
}

}  // namespace

struct DataPlane::Impl {
  const Clock& clock;
  DataPlaneOptions options;

  // Keyed by (namespace, name).
  using Key = std::pair<std::string, std::string>;
  // A series: namespace, service, pod, pod_template_hash, code.
  using Series = std::tuple<std::string, std::string, std::string, std::string, std::string>;

  // Guards services, pods, counters, counted and warned; the watches' sinks and scrapes take it.
  mutable std::mutex mu;
  std::map<Key, ServiceState> services;
  std::map<Key, PodState> pods;
  mutable std::map<Series, double> counters;
  mutable Clock::TimePoint counted;  // the counters hold the traffic up to this instant
  std::set<std::string> warned;

  // Declared last, so that they stop first, before the state their callbacks use goes.
  std::vector<std::unique_ptr<RegistryWatch>> watches;
  std::unique_ptr<net::HttpServer> server;

  Impl(const Clock& c, const DataPlaneOptions& o) : clock(c), options(o), counted(c.now()) {}

  // Adds the traffic from `counted` to now, as the Services and pods stood over that time.
  void advance() const {
    const auto now = clock.now();
    const double dt = std::chrono::duration<double>(now - counted).count();
    counted = now;
    if (dt <= 0) return;
    for (const auto& [svcKey, svc] : services) {
      if (svc.requestsPerSecond <= 0) continue;
      std::vector<std::map<Key, PodState>::const_iterator> serving;
      for (auto it = pods.lower_bound({svcKey.first, ""});
           it != pods.end() && it->first.first == svcKey.first; ++it) {
        if (it->second.ready && selects(svc.selector, it->second.labels)) serving.push_back(it);
      }
      if (serving.empty()) continue;
      const double each = svc.requestsPerSecond * dt / static_cast<double>(serving.size());
      for (const auto& it : serving) {
        const PodState& pod = it->second;
        const double errors = each * pod.errorRate;
        counters[{svcKey.first, svcKey.second, it->first.second, pod.templateHash, "200"}] += each - errors;
        counters[{svcKey.first, svcKey.second, it->first.second, pod.templateHash, "500"}] += errors;
      }
    }
  }

  // Drops the series of a pod (service empty) or of a Service (pod empty) in namespace `ns`.
  void forget(const std::string& ns, const std::string& service, const std::string& pod) {
    for (auto it = counters.begin(); it != counters.end();) {
      const auto& [sns, ssvc, spod, hash, code] = it->first;
      const bool match = sns == ns && (service.empty() || ssvc == service) && (pod.empty() || spod == pod);
      it = match ? counters.erase(it) : std::next(it);
    }
  }

  // A Service's or a pod's change: the traffic until now is counted as things stood, then it applies.
  void onEvent(bool isPod, const WatchEvent& e) {
    if (e.type != "ADDED" && e.type != "MODIFIED" && e.type != "DELETED") return;
    const json& meta = field(e.object, "metadata");
    Key key{str(meta, "namespace"), str(meta, "name")};
    std::lock_guard lock(mu);
    advance();
    if (e.type == "DELETED") {
      if (isPod) {
        pods.erase(key);
        forget(key.first, "", key.second);
      } else {
        services.erase(key);
        forget(key.first, key.second, "");
      }
    } else if (isPod) {
      pods[key] = podState(e.object);
    } else {
      services[key] = {stringMap(field(field(e.object, "spec"), "selector")),
                       requestsPerSecond(e.object, options.requestsPerSecond, warned)};
    }
  }

  std::string scrape() const {
    prometheus::MetricFamily family;
    family.name = "http_requests_total";
    family.help = "Requests the embedded cluster's simulated data plane sent to each pod of a Service";
    family.type = prometheus::MetricType::Counter;
    {
      std::lock_guard lock(mu);
      advance();
      for (const auto& [series, value] : counters) {
        const auto& [ns, service, pod, hash, code] = series;
        prometheus::ClientMetric m;
        m.label = {{"namespace", ns},
                   {"service", service},
                   {"pod", pod},
                   {"pod_template_hash", hash},
                   {"code", code}};
        m.counter.value = value;
        family.metric.push_back(std::move(m));
      }
    }
    return prometheus::TextSerializer().Serialize({family});
  }
};

DataPlane::DataPlane(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DataPlane::~DataPlane() {
  impl_->server.reset();
  impl_->watches.clear();
}

Result<std::unique_ptr<DataPlane>> DataPlane::start(Registry& registry, const Clock& clock,
                                                    const DataPlaneOptions& options) {
  auto impl = std::make_unique<Impl>(clock, options);
  auto podType = registry.find("", "v1", "pods");
  auto serviceType = registry.find("", "v1", "services");
  if (!podType || !serviceType) return Error{"the data plane: pods and services are not served"};
  Impl* self = impl.get();
  auto pods = registry.watch(*podType, "", {}, [self](const WatchEvent& e) { self->onEvent(true, e); });
  if (!pods) return Error{"the data plane: watching pods: " + pods.error().message};
  impl->watches.push_back(std::move(pods).value());
  auto services =
      registry.watch(*serviceType, "", {}, [self](const WatchEvent& e) { self->onEvent(false, e); });
  if (!services) return Error{"the data plane: watching services: " + services.error().message};
  impl->watches.push_back(std::move(services).value());
  if (options.port) {
    auto server =
        net::HttpServer::start("--data-plane-port", "127.0.0.1:" + std::to_string(*options.port),
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
