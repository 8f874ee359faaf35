// spec.traffic (see traffic.h): the simulated world's Services, weights and ready pods turned into the
// objects the embedded cluster's data plane reads, routed and counted by the same code (dataplane/).
#include "sim/traffic.h"

#include <cmath>

#include "base/pod_behaviour.h"
#include "engine/experiment_json.h"
#include "kube/patch.h"
#include "sim/simulator.h"
#include "sim/world.h"
#include "traffic/router.h"

namespace sluice::sim {

using nlohmann::json;

namespace {

// The routing kinds by the kind names their objects carry.
std::optional<dataplane::RouteKind> routeKindOf(const std::string& kind) {
  if (kind == "Ingress") return dataplane::RouteKind::kIngress;
  if (kind == "VirtualService") return dataplane::RouteKind::kVirtualService;
  if (kind == "DestinationRule") return dataplane::RouteKind::kDestinationRule;
  if (kind == "TrafficSplit") return dataplane::RouteKind::kTrafficSplit;
  if (kind == "HTTPRoute") return dataplane::RouteKind::kHttpRoute;
  if (kind == "TraefikService") return dataplane::RouteKind::kTraefikService;
  return std::nullopt;
}

std::string firstImage(const json& podTemplate) {
  const json containers = podTemplate.value(json::json_pointer("/spec/containers"), json::array());
  return containers.empty() ? std::string() : containers[0].value("image", "");
}

std::string formatRate(double v) { return json(v).dump(); }

}  // namespace

Result<std::unique_ptr<SimDataPlane>> SimDataPlane::create(const engine::Rollout& rollout,
                                                           const std::vector<json>& objects,
                                                           const TrafficSpec& spec, Time start) {
  std::unique_ptr<SimDataPlane> dp(new SimDataPlane());
  dp->rollout_ = rollout;
  dp->spec_ = spec;
  dp->namespace_ = rollout.metadata.ns.empty() ? "default" : rollout.metadata.ns;
  auto router = traffic::makeRouter(rollout);
  if (!router) return Error{"spec.traffic: " + router.error()};
  dp->router_ = std::move(router).value();
  // A router whose objects the data plane does not route by would leave every request on the Services.
  // ALB's Ingress carries the split in an annotation the data plane does not read; App Mesh's kinds are not
  // among those it routes by.
  const auto& routing = rollout.spec.canary.trafficRouting;
  if (routing && (routing->alb || routing->appMesh))
    return Error{std::string("spec.traffic: the simulated data plane does not route requests by ") +
                 (routing->alb ? "ALB actions" : "App Mesh VirtualRouters") +
                 " yet; simulate this Rollout without spec.traffic"};
  for (const auto& kind : dp->router_ ? dp->router_->kinds() : std::vector<std::string>()) {
    if (!routeKindOf(kind))
      return Error{"spec.traffic: the simulated data plane does not route requests by " + kind +
                   "s yet; simulate this Rollout without spec.traffic"};
  }
  for (json object : objects) {
    const std::string kind = object.value("kind", "");
    if (kind != "Service" && !routeKindOf(kind)) continue;
    json& meta = object["metadata"];
    if (!meta.is_object() || !meta.contains("name")) continue;
    const std::string ns = meta.value("namespace", dp->namespace_);
    if (ns != dp->namespace_) continue;
    meta["namespace"] = ns;
    dp->objects_[{kind, meta.value("name", "")}] = std::move(object);
  }
  dp->counted_ = start;
  const auto interval = spec.scrapeInterval.count();
  // Scrape instants fall on whole multiples of the interval from the epoch, as a Prometheus started
  // long before would take them.
  const auto since = (start - kEpoch).count();
  const auto k = since >= 0 ? (since + interval - 1) / interval : -((-since) / interval);
  dp->nextSample_ = kEpoch + Duration{k * interval};
  return dp;
}

SimDataPlane::~SimDataPlane() = default;

void SimDataPlane::advanceTo(Time now) {
  while (nextSample_ <= now) {
    counters_.add(flows_, answers_, std::chrono::duration<double>(nextSample_ - counted_).count());
    counted_ = nextSample_;
    for (auto& s : dataplane::samples(counters_)) {
      std::map<std::string, std::string> labels(s.labels.begin(), s.labels.end());
      labels["__name__"] = s.name;
      pending_[labels].push_back({nextSample_, s.value});
    }
    nextSample_ += spec_.scrapeInterval;
  }
  counters_.add(flows_, answers_, std::chrono::duration<double>(now - counted_).count());
  counted_ = std::max(counted_, now);
}

Status SimDataPlane::refresh(const SimulatedWorld& world, Time now) {
  // The Services the Experiments' templates made, as the controller would have made them.
  for (const auto& name : createdServices_) objects_.erase({"Service", name});
  createdServices_.clear();
  for (const auto& [name, create] : world.createdServices()) {
    if (!objects_.emplace(std::pair{std::string("Service"), name}, engine::serviceToJson(create, namespace_))
             .second)
      continue;
    createdServices_.insert(name);
  }
  // The Service selectors the controller would have written.
  for (const auto& [service, hash] : world.serviceSelectors()) {
    auto it = objects_.find({"Service", service});
    if (it == objects_.end()) continue;
    it->second["spec"]["selector"][engine::kPodTemplateHashLabel] = hash;
  }
  // The weights, through the real router, onto the routing objects.
  if (router_ && world.traffic() && world.traffic() != weightsApplied_) {
    const engine::TrafficInForce& in = *world.traffic();
    const traffic::ObjectLookup get = [this](const std::string& kind,
                                             const std::string& name) -> std::optional<json> {
      auto it = objects_.find({kind, name});
      if (it == objects_.end()) return std::nullopt;
      return it->second;
    };
    auto writes = router_->setWeight(get, traffic::settingOf(in));
    if (!writes)
      return Error{"spec.traffic: the router: " + writes.error() +
                   " (give its manifest among the input files)"};
    for (const auto& w : *writes) {
      if (w.op == traffic::ObjectWrite::Op::Delete) {
        objects_.erase({w.kind, w.name});
        continue;
      }
      json& object = objects_[{w.kind, w.name}];
      if (w.op == traffic::ObjectWrite::Op::Create) {
        object = w.body;
        continue;
      }
      auto patched = kube::applyMergePatch(object, w.body);
      if (!patched) return Error{"spec.traffic: patching " + w.kind + " " + w.name + ": " + patched.error()};
      object = std::move(*patched);
    }
    weightsApplied_ = in;
  }

  dataplane::RoutingState state;
  for (const auto& [key, object] : objects_) {
    const dataplane::ObjectKey at{namespace_, key.second};
    if (key.first == "Service") {
      state.services[at] = object;
    } else if (auto kind = routeKindOf(key.first)) {
      state.routes[*kind][at] = object;
    }
  }
  const auto before = std::move(answers_);
  answers_.clear();
  for (const auto& rs : world.replicaSets()) {
    const int ready = rs.readyAt(now);
    json podTemplate = rs.podTemplate;
    auto version = spec_.versions.find(firstImage(podTemplate));
    if (version != spec_.versions.end()) {
      json& notes = podTemplate["metadata"]["annotations"];
      if (version->second.errorRate) notes[kErrorRateAnnotation] = formatRate(*version->second.errorRate);
      if (version->second.latency)
        notes[kLatencyAnnotation] = std::to_string(version->second.latency->count()) + "ms";
    }
    for (int i = 0; i < ready; ++i) {
      json pod = {
          {"metadata",
           {{"name", rs.name + "-" + std::to_string(i)},
            {"namespace", namespace_},
            {"labels", podTemplate.value(json::json_pointer("/metadata/labels"), json::object())},
            {"annotations", podTemplate.value(json::json_pointer("/metadata/annotations"), json::object())},
            {"ownerReferences",
             json::array({{{"kind", "ReplicaSet"}, {"name", rs.name}, {"controller", true}}})}}},
          {"status", {{"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
      auto [routed, answered] = dataplane::podOf(pod);
      const dataplane::ObjectKey key{namespace_, pod["metadata"]["name"].get<std::string>()};
      state.pods[key] = std::move(routed);
      answers_[key] = std::move(answered);
    }
  }
  // A pod that is gone takes its series with it, as on the cluster (a pod no longer ready keeps them there,
  // but the simulation does not tell it from a pod deleted: its counters stand still either way).
  for (const auto& [key, answers] : before)
    if (!answers_.count(key)) counters_.forgetPod(key);
  std::vector<std::string> problems;
  flows_ = dataplane::routeTraffic(state, spec_.requestsPerSecond, problems);
  return Status::Ok();
}

std::vector<Series> SimDataPlane::takeSamples() {
  std::vector<Series> out;
  out.reserve(pending_.size());
  for (auto& [labels, samples] : pending_) out.push_back({labels, std::move(samples)});
  pending_.clear();
  return out;
}

Result<analysis::ProviderResult> TrafficMetricsProvider::measure(const analysis::Metric& metric, Time at) {
  if (!metric.provider.prometheus) return others_.measure(metric, at);
  dataPlane_.advanceTo(at);
  // Prometheus refuses a sample over an hour older than the newest it holds, even within one request:
  // the samples go in half-hour slices, oldest first.
  const std::vector<Series> all = dataPlane_.takeSamples();
  std::optional<Time> first;
  for (const auto& s : all)
    if (!s.samples.empty() && (!first || s.samples.front().at < *first)) first = s.samples.front().at;
  for (Time from = first.value_or(at); from <= at; from += std::chrono::minutes(30)) {
    const Time to = from + std::chrono::minutes(30);
    std::vector<Series> slice;
    for (const auto& s : all) {
      Series part{s.labels, {}};
      for (const auto& sample : s.samples)
        if (sample.at >= from && sample.at < to) part.samples.push_back(sample);
      if (!part.samples.empty()) slice.push_back(std::move(part));
    }
    if (slice.empty()) continue;
    if (Status pushed = prometheus_.push(slice); !pushed)
      return Error{"writing the simulated data plane's series to Prometheus: " + pushed.error()};
  }
  analysis::Metric local = metric;
  local.provider.prometheus->address = prometheus_.address();
  return real_.measure(local, at);
}

}  // namespace sluice::sim
