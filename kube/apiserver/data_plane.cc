// The simulated data plane's counting and its /metrics (see data_plane.h): watch-fed copies of the Services,
// pods and routing objects, the streams routed afresh on every change (dataplane/routes.h), counters and
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

#include "base/json_lookup.h"
#include "dataplane/routes.h"
#include "dataplane/series.h"
#include "kube/apiserver/registry.h"
#include "net/http_server.h"

namespace sluice::apiserver {

using json_lookup::field;
using json_lookup::str;
using nlohmann::json;

using dataplane::Counters;
using dataplane::Family;
using dataplane::familyInfo;
using dataplane::kRouteResources;
using dataplane::ObjectKey;
using dataplane::Owner;
using dataplane::PodAnswers;
using dataplane::RouteKind;

struct DataPlane::Impl {
  const Clock& clock;
  DataPlaneOptions options;

  // Guards everything below but the watch and the server; the watch's sink and scrapes take it.
  mutable std::mutex mu;
  dataplane::RoutingState state;
  std::map<ObjectKey, PodAnswers> answers;
  std::vector<dataplane::Flow> flows;  // routed afresh on every change
  mutable Counters counters;
  mutable Clock::TimePoint counted;  // the counters hold the traffic up to this instant
  std::set<std::string> warned;

  // Declared last, so that they stop first, before the state their callbacks use goes.
  std::unique_ptr<RegistryWatch> watch;
  std::unique_ptr<net::HttpServer> server;

  Impl(const Clock& c, const DataPlaneOptions& o) : clock(c), options(o), counted(c.now()) {}

  // Adds the traffic from `counted` to now, as things stood over that time.
  void advance() const {
    const auto now = clock.now();
    const double dt = std::chrono::duration<double>(now - counted).count();
    counted = now;
    counters.add(flows, answers, dt);
  }

  // A change: the traffic until now is counted as things stood, then it applies and the streams are
  // routed afresh.
  void onEvent(const ResourceType& type, const WatchEvent& e) {
    if (e.type != "ADDED" && e.type != "MODIFIED" && e.type != "DELETED") return;
    int kind = -3;  // -2: a pod, -1: a Service, else a RouteKind
    if (type.group.empty() && type.resource == "pods") kind = -2;
    if (type.group.empty() && type.resource == "services") kind = -1;
    for (const auto& served : kRouteResources) {
      if (type.group == served.group && type.resource == served.resource)
        kind = static_cast<int>(served.kind);
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
        counters.forgetPod(key);
      } else {
        auto [routed, answered] = dataplane::podOf(e.object);
        state.pods[key] = std::move(routed);
        answers[key] = std::move(answered);
      }
    } else {
      auto& objects = kind == -1 ? state.services : state.routes[static_cast<RouteKind>(kind)];
      if (deleted) {
        objects.erase(key);
        counters.forgetOwner(Owner{kind, key});
      } else {
        objects[key] = e.object;
      }
    }
    std::vector<std::string> problems;
    flows = dataplane::routeTraffic(state, options.requestsPerSecond, problems);
    for (const auto& p : problems) {
      if (warned.insert(p).second) std::cerr << "apiserver: data plane: " << p << "\n";
    }
  }

  std::string scrape() const {
    std::vector<prometheus::MetricFamily> families(dataplane::kFamilyCount);
    for (int f = 0; f < dataplane::kFamilyCount; ++f) {
      const auto& info = familyInfo(static_cast<Family>(f));
      families[f].name = info.name;
      families[f].help = info.help;
      families[f].type = info.histogram ? prometheus::MetricType::Histogram : prometheus::MetricType::Counter;
    }
    {
      std::lock_guard lock(mu);
      advance();
      for (const auto& [id, a] : counters.series()) {
        const auto& info = familyInfo(id.first);
        prometheus::ClientMetric m;
        for (const auto& [name, value] : id.second) m.label.push_back({name, value});
        if (info.histogram) {
          // prometheus-cpp's histograms count whole requests: the exact counts, rounded down.
          m.histogram.sample_count = static_cast<std::uint64_t>(a.count);
          m.histogram.sample_sum = a.sum;
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
    const std::string podFamily = familyInfo(dataplane::kPodRequests).name;
    std::erase_if(families,
                  [&](const prometheus::MetricFamily& f) { return f.metric.empty() && f.name != podFamily; });
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
