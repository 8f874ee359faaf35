// The cost of one router update: the CPU a router takes to read the live routing objects and build the
// writes that move a canary from 10% to 20% (pure: no API call is made; a controller then sends one PATCH),
// for each router over objects shaped as the routers' golden tests have them.
#include <benchmark/benchmark.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "base/diagnostics.h"
#include "base/source.h"
#include "engine/rollout_json.h"
#include "traffic/router.h"

namespace {

using nlohmann::json;
using namespace sluice;

[[noreturn]] void fail(const std::string& why) {
  std::cerr << "traffic_bench: " << why << "\n";
  std::abort();
}

engine::Rollout routed(const json& trafficRouting) {
  json r = json::parse(R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "Rollout",
    "metadata": {"name": "web", "namespace": "shop", "uid": "uid-web"},
    "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:2"}]}},
      "strategy": {"canary": {"canaryService": "web-canary", "stableService": "web-stable",
        "steps": [{"setWeight": 10}]}}}})");
  r["spec"]["strategy"]["canary"]["trafficRouting"] = trafficRouting;
  Diagnostics diags;
  auto parsed = engine::parseRollout(r, SourceMap(), diags);
  if (!parsed) fail(diags.format());
  return *parsed;
}

struct Case {
  json trafficRouting;
  std::vector<json> objects;  // live, with the canary at 10%
};

std::map<std::string, Case> cases() {
  std::map<std::string, Case> out;
  out["nginx"] = {json::parse(R"({"nginx": {"stableIngress": "web"}})"),
                  {json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                    "metadata": {"name": "web", "namespace": "shop"},
                    "spec": {"rules": [{"host": "web.example", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                      "backend": {"service": {"name": "web-stable", "port": {"number": 80}}}}]}}]}})")}};
  out["istio"] = {json::parse(R"({"istio": {"virtualService": {"name": "web", "routes": ["primary"]}}})"),
                  {json::parse(R"({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
                    "metadata": {"name": "web", "namespace": "shop"},
                    "spec": {"hosts": ["web.example"], "http": [{"name": "primary", "route": [
                      {"destination": {"host": "web-stable"}, "weight": 90},
                      {"destination": {"host": "web-canary"}, "weight": 10}]}]}})")}};
  out["smi"] = {json::parse(R"({"smi": {"trafficSplitName": "web"}})"), {}};
  out["gateway-api"] = {
      json::parse(R"({"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web", "namespace": "shop"}}})"),
      {json::parse(R"({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [
          {"name": "web-stable", "port": 80, "weight": 90}, {"name": "web-canary", "port": 80, "weight": 10}]}]}})")}};
  return out;
}

void BM_RouterSetWeight(benchmark::State& state, const std::string& name) {
  const Case c = cases().at(name);
  const engine::Rollout rollout = routed(c.trafficRouting);
  auto router = traffic::makeRouter(rollout);
  if (!router || !*router) fail(name + ": no router");
  std::map<std::pair<std::string, std::string>, json> live;
  for (const auto& o : c.objects) live[{o["kind"], o["metadata"]["name"]}] = o;
  const traffic::ObjectLookup get = [&](const std::string& kind,
                                        const std::string& n) -> std::optional<json> {
    auto it = live.find({kind, n});
    if (it == live.end()) return std::nullopt;
    return it->second;
  };
  const engine::SetTrafficWeight weights{20, 80, "canaryhash", "stablehash"};
  size_t writes = 0;
  for (auto _ : state) {
    auto w = (*router)->setWeight(get, weights);
    if (!w) fail(name + ": " + w.error());
    writes += w->size();
    benchmark::DoNotOptimize(w);
  }
  state.counters["writes_per_update"] = static_cast<double>(writes) / static_cast<double>(state.iterations());
}
BENCHMARK_CAPTURE(BM_RouterSetWeight, nginx, std::string("nginx"));
BENCHMARK_CAPTURE(BM_RouterSetWeight, istio, std::string("istio"));
BENCHMARK_CAPTURE(BM_RouterSetWeight, smi, std::string("smi"));
BENCHMARK_CAPTURE(BM_RouterSetWeight, gateway_api, std::string("gateway-api"));

}  // namespace

BENCHMARK_MAIN();
