// An experiment step's weighted templates through the three routers that split among more than two
// Services (SMI, ALB, Istio by host and by subset): their Services between the canary's and the stable's in
// Argo Rollouts' order, read back as the engine set them, and gone once the weights are set without them.
#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/unit/traffic/router_fixtures.h"
#include "traffic/alb.h"
#include "traffic/istio.h"
#include "traffic/smi.h"

using namespace sluice;
using nlohmann::json;
using testing::Objects;

// A namespace of its own: the test files are compiled in batches (unity build).
namespace experiment_weights_test {

namespace {

// The canary at 20, the experiment's two templates at 10 and 15, the stable at the rest.
const engine::SetTrafficWeight kWithExperiment{
    20, 55, "c2", "s1", "", "", {{10, "web-2-1-baseline", "s1"}, {15, "web-2-1-canary", "c2"}}};
const engine::SetTrafficWeight kAfterExperiment{20, 80, "c2", "s1"};

// (service, weight) in the order the object lists them.
using Shares = std::vector<std::pair<std::string, int>>;

const Shares kArgoOrder = {
    {"web-canary", 20}, {"web-2-1-baseline", 10}, {"web-2-1-canary", 15}, {"web-stable", 55}};

json subsetSplitVirtualService() {
  return json::parse(R"({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"hosts": ["web"], "http": [{"name": "primary", "route": [
      {"destination": {"host": "web", "subset": "stable"}, "weight": 100},
      {"destination": {"host": "web", "subset": "canary"}, "weight": 0}]}]}})");
}

json subsetDestinationRule() {
  return json::parse(R"({"apiVersion": "networking.istio.io/v1beta1", "kind": "DestinationRule",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"host": "web", "subsets": [{"name": "canary"}, {"name": "stable"}]}})");
}

Shares sharesOfTrafficSplit(const Objects& objects) {
  Shares out;
  for (const auto& b : objects.byKey.at({"TrafficSplit", "web"})["spec"]["backends"])
    out.emplace_back(b["service"], std::stoi(b["weight"].get<std::string>()));
  return out;
}

Shares sharesOfIngress(const Objects& objects) {
  const json annotations = objects.byKey.at({"Ingress", "web"})["metadata"]["annotations"];
  const json action = json::parse(annotations.value("alb.ingress.kubernetes.io/actions.web-stable", "{}"));
  Shares out;
  for (const auto& tg : action["ForwardConfig"]["TargetGroups"]) {
    CHECK(tg["ServicePort"] == "80");
    out.emplace_back(tg["ServiceName"], tg["Weight"]);
  }
  return out;
}

// By host, or by subset where the destination names one.
Shares sharesOfVirtualService(const Objects& objects) {
  Shares out;
  for (const auto& d : objects.byKey.at({"VirtualService", "web"})["spec"]["http"][0]["route"]) {
    const json& to = d["destination"];
    const std::string name =
        to.contains("subset") ? "web-" + to["subset"].get<std::string>() : to["host"].get<std::string>();
    out.emplace_back(name, d["weight"]);
  }
  return out;
}

struct RouterCase {
  const char* name;
  std::string routing;  // trafficRouting's fields
  Objects objects;
  std::function<Shares(const Objects&)> shares;
  Shares withExperiment;  // in the object's order
};

}  // namespace

TEST_CASE("an experiment's weighted templates are routed between the canary and the stable, then removed",
          "[traffic][experiment]") {
  // Istio keeps its destinations where they are and appends the experiment's Services by host, as Argo's.
  const Shares istioOrder = {
      {"web-stable", 55}, {"web-canary", 20}, {"web-2-1-baseline", 10}, {"web-2-1-canary", 15}};
  const std::vector<RouterCase> cases = {
      {"smi", R"("smi": {})", Objects(), sharesOfTrafficSplit, kArgoOrder},
      {"alb", R"("alb": {"ingress": "web", "servicePort": 80})", Objects().add(testing::albActionIngress()),
       sharesOfIngress, kArgoOrder},
      {"istio by host", R"("istio": {"virtualService": {"name": "web", "routes": ["primary"]}})",
       Objects().add(testing::hostSplitVirtualService()), sharesOfVirtualService, istioOrder},
      {"istio by subset", R"("istio": {"virtualService": {"name": "web"},
          "destinationRule": {"name": "web", "canarySubsetName": "canary", "stableSubsetName": "stable"}})",
       Objects().add(subsetSplitVirtualService()).add(subsetDestinationRule()), sharesOfVirtualService,
       istioOrder}};
  for (const auto& c : cases) {
    SECTION(c.name) {
      const engine::Rollout rollout = testing::routedRollout(c.routing);
      auto router = traffic::makeRouter(rollout);
      REQUIRE(router.ok());
      Objects objects = c.objects;
      testing::setAndReadBack(**router, objects, kWithExperiment);
      CHECK(c.shares(objects) == c.withExperiment);
      auto seen = (*router)->inForce(objects.lookup());
      REQUIRE(seen.ok());
      REQUIRE(seen->has_value());
      CHECK((*seen)->additional ==
            std::vector<engine::WeightDestination>{{10, "web-2-1-baseline", ""}, {15, "web-2-1-canary", ""}});

      // The Experiment done: its Services have no share left, the stable has it back.
      CHECK(**seen != engine::splitOf(kAfterExperiment));
      testing::setAndReadBack(**router, objects, kAfterExperiment);
      const Shares after = c.shares(objects);
      CHECK(after.size() == 2);
      for (const auto& [service, weight] : after)
        CHECK(weight == (service == "web-canary" ? 20 : service == "web-stable" ? 80 : -1));
    }
  }
}

}  // namespace experiment_weights_test
