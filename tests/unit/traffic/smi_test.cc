// The SMI router: the TrafficSplit built and owned by the Rollout at each version Argo Rollouts writes
// (golden files under tests/golden/traffic/, rewritten with SLUICE_UPDATE_GOLDEN=1), created then patched,
// read back after the writes are applied (weights in any version's form), and the errors: a TrafficSplit the
// Rollout does not own, header and mirror routes.
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "tests/unit/traffic/router_fixtures.h"
#include "traffic/smi.h"

using namespace sluice;
using nlohmann::json;
using testing::Objects;

// A namespace of its own: the test files are compiled in batches (unity build).
namespace smi_router_test {

namespace {

// The Rollout "web" routed by `smi` (trafficRouting.smi), `extra` more fields of trafficRouting.
engine::Rollout rollout(const std::string& smi = "{}", const std::string& extra = "") {
  return testing::routedRollout(R"("smi": )" + smi + extra);
}

const engine::SetTrafficWeight kTen{10, 90, "canaryhash", "stablehash"};

// The backends as `version` writes them: v1alpha1's weights quantities (whole-number strings), the later
// versions' integers.
json backends(const std::string& version, int canary, int stable) {
  auto weight = [&version](int w) { return version == "v1alpha1" ? json(std::to_string(w)) : json(w); };
  return {{{"service", "web-canary"}, {"weight", weight(canary)}},
          {{"service", "web-stable"}, {"weight", weight(stable)}}};
}

}  // namespace

TEST_CASE(
    "the TrafficSplit splits the root Service between the canary and the stable Service, owned by the "
    "Rollout",
    "[traffic][smi]") {
  for (const std::string version : traffic::kTrafficSplitVersions) {
    const json split = traffic::desiredTrafficSplit(rollout(), kTen, version);
    testing::checkGolden("smi-traffic-split-" + version, split);
    CHECK(split["apiVersion"] == "split.smi-spec.io/" + version);
    CHECK(split["spec"]["backends"] == backends(version, 10, 90));
    CHECK(split["metadata"]["ownerReferences"][0]["uid"] == "uid-web");
    CHECK(split["metadata"]["ownerReferences"][0]["controller"] == true);
  }
  // Argo Rollouts' default, and so ours.
  CHECK(traffic::desiredTrafficSplit(rollout(), kTen)["apiVersion"] == "split.smi-spec.io/v1alpha1");

  struct Row {
    const char* name;
    std::string smi;
    std::string splitName;
    std::string rootService;
  };
  const std::vector<Row> rows = {
      {"defaults: the Rollout's name, the stable Service as root", "{}", "web", "web-stable"},
      {"as named", R"({"rootService": "web", "trafficSplitName": "web-split"})", "web-split", "web"},
  };
  for (const auto& row : rows) {
    SECTION(row.name) {
      const json built = traffic::desiredTrafficSplit(rollout(row.smi), {25, 75, "c", "s"}, "v1alpha2");
      CHECK(built["metadata"]["name"] == row.splitName);
      CHECK(built["spec"]["service"] == row.rootService);
      CHECK(built["spec"]["backends"] == json::parse(R"([{"service": "web-canary", "weight": 25},
                                                         {"service": "web-stable", "weight": 75}])"));
    }
  }
}

TEST_CASE(
    "setting a weight creates the TrafficSplit, which then reads back in force, a new weight is one "
    "patch that keeps others' annotations, at every version",
    "[traffic][smi]") {
  const std::string version = GENERATE(as<std::string>(), "v1alpha1", "v1alpha2", "v1alpha3");
  CAPTURE(version);
  traffic::SmiRouter router(rollout(), version);
  Objects objects;
  auto before = router.inForce(objects.lookup());
  REQUIRE(before.ok());
  CHECK_FALSE(before->has_value());  // no TrafficSplit yet: all on the stable

  auto created = router.setWeight(objects.lookup(), kTen);
  REQUIRE(created.ok());
  REQUIRE(created->size() == 1);
  CHECK((*created)[0].op == traffic::ObjectWrite::Op::Create);
  CHECK((*created)[0].kind == "TrafficSplit");
  CHECK((*created)[0].name == "web");
  CHECK((*created)[0].body["apiVersion"] == "split.smi-spec.io/" + version);
  objects.apply(*created);
  auto seen = router.inForce(objects.lookup());
  REQUIRE(seen.ok());
  REQUIRE(seen->has_value());
  CHECK(**seen == engine::TrafficInForce{10, 90, "canaryhash", "stablehash"});
  auto again = router.setWeight(objects.lookup(), kTen);
  REQUIRE(again.ok());
  CHECK(again->empty());

  // Another controller annotates the TrafficSplit; the next weight leaves its annotation alone.
  objects.at("TrafficSplit", "web")["metadata"]["annotations"]["other.controller/seen"] = "yes";
  for (const auto& weights : {engine::SetTrafficWeight{30, 70, "canaryhash", "stablehash"},
                              engine::SetTrafficWeight{100, 0, "canaryhash", "stablehash"},
                              engine::SetTrafficWeight{0, 100, "canaryhash", "canaryhash"}}) {
    auto patch = router.setWeight(objects.lookup(), weights);
    REQUIRE(patch.ok());
    REQUIRE(patch->size() == 1);
    CHECK((*patch)[0].op == traffic::ObjectWrite::Op::MergePatch);
    if (weights.canaryWeight == 30) testing::checkGolden("smi-weight-patch-" + version, (*patch)[0].body);
    CHECK((*patch)[0].body["spec"]["backends"] ==
          backends(version, weights.canaryWeight, weights.stableWeight));
    objects.apply(*patch);
    auto read = router.inForce(objects.lookup());
    REQUIRE(read.ok());
    REQUIRE(read->has_value());
    CHECK(**read == engine::splitOf(weights));
  }
  CHECK(objects.at("TrafficSplit", "web")["metadata"]["annotations"]["other.controller/seen"] == "yes");
}

TEST_CASE("a TrafficSplit someone changed is not in force, so the weight is written again",
          "[traffic][smi]") {
  traffic::SmiRouter router(rollout());
  struct Row {
    const char* name;
    std::function<void(json&)> edit;
  };
  const std::vector<Row> rows = {
      {"a backend added",
       [](json& s) {
         s["spec"]["backends"].push_back({{"service", "old"}, {"weight", 5}});
       }},
      {"the root Service changed", [](json& s) { s["spec"]["service"] = "other"; }},
      {"a fraction of a weight", [](json& s) { s["spec"]["backends"][0]["weight"] = "10500m"; }},
      {"a weight that is no quantity", [](json& s) { s["spec"]["backends"][0]["weight"] = "ten"; }},
      {"a negative weight", [](json& s) { s["spec"]["backends"][0]["weight"] = -10; }},
      {"the canary backend gone", [](json& s) { s["spec"]["backends"].erase(0); }},
      {"the hash annotations gone", [](json& s) { s["metadata"].erase("annotations"); }},
  };
  for (const auto& row : rows) {
    SECTION(row.name) {
      json split = traffic::desiredTrafficSplit(rollout(), kTen);
      row.edit(split);
      Objects objects = Objects().add(split);
      auto seen = router.inForce(objects.lookup());
      REQUIRE(seen.ok());
      CHECK_FALSE(seen->has_value());
      auto writes = router.setWeight(objects.lookup(), kTen);
      REQUIRE(writes.ok());
      REQUIRE(writes->size() == 1);
      objects.apply(*writes);
      REQUIRE(router.inForce(objects.lookup())->has_value());
    }
  }
}

TEST_CASE(
    "a weight of the same value in another version's form (30, \"30\", \"30000m\", \"3e1\") is in force "
    "and written again by no version",
    "[traffic][smi]") {
  struct Row {
    const char* name;
    json canary;
    json stable;
  };
  const std::vector<Row> rows = {
      {"integers (v1alpha2, v1alpha3)", 10, 90},
      {"whole-number quantities (v1alpha1, as Argo Rollouts writes them)", "10", "90"},
      {"milli quantities", "10000m", "90000m"},
      {"exponents and signs", "1e1", "+90"},
      {"quantities written as numbers", 10.0, 90.0},
  };
  for (const auto& row : rows) {
    for (const std::string version : traffic::kTrafficSplitVersions) {
      SECTION(row.name + (" read by a " + version + " router")) {
        json split = traffic::desiredTrafficSplit(rollout(), kTen, version);
        split["spec"]["backends"][0]["weight"] = row.canary;
        split["spec"]["backends"][1]["weight"] = row.stable;
        const Objects objects = Objects().add(split);
        traffic::SmiRouter router(rollout(), version);
        auto seen = router.inForce(objects.lookup());
        REQUIRE(seen.ok());
        REQUIRE(seen->has_value());
        CHECK(**seen == engine::TrafficInForce{10, 90, "canaryhash", "stablehash"});
        auto writes = router.setWeight(objects.lookup(), kTen);
        REQUIRE(writes.ok());
        CHECK(writes->empty());
        // Another weight is written in this version's form.
        auto patch = router.setWeight(objects.lookup(), {40, 60, "canaryhash", "stablehash"});
        REQUIRE(patch.ok());
        REQUIRE(patch->size() == 1);
        CHECK((*patch)[0].body["spec"]["backends"] == backends(version, 40, 60));
      }
    }
  }
}

TEST_CASE("a TrafficSplit of that name the Rollout does not control is not taken over", "[traffic][smi]") {
  traffic::SmiRouter router(rollout(R"({"trafficSplitName": "shared"})"));
  json foreign = traffic::desiredTrafficSplit(rollout(R"({"trafficSplitName": "shared"})"), kTen);
  foreign["metadata"]["ownerReferences"][0]["uid"] = "uid-other";
  Objects objects = Objects().add(foreign);
  const std::string error = "TrafficSplit `shared` exists and is not controlled by rollout web";
  testing::checkRefused(router, objects, error);
}

TEST_CASE("a TrafficSplit Argo Rollouts made for the Rollout of this name is taken over", "[traffic][smi]") {
  const engine::Rollout r = rollout(R"({"trafficSplitName": "shared"})");
  traffic::SmiRouter router(r);
  json argos = traffic::desiredTrafficSplit(r, kTen);
  argos["metadata"]["ownerReferences"] = testing::argoOwnerReferences("web");
  Objects objects = Objects().add(argos);
  // Not in force until it is the Rollout's: the same weights are written again, with the owner.
  auto seen = router.inForce(objects.lookup());
  REQUIRE(seen.ok());
  CHECK_FALSE(seen->has_value());
  auto writes = router.setWeight(objects.lookup(), kTen);
  REQUIRE(writes.ok());
  REQUIRE(writes->size() == 1);
  CHECK((*writes)[0].body["metadata"]["ownerReferences"] == json::array({traffic::ownerReference(r)}));
}

TEST_CASE("SMI has no header or mirror routes: those steps are errors, and there is nothing to remove",
          "[traffic][smi]") {
  traffic::SmiRouter router(rollout());
  const Objects objects;
  auto header = router.setHeaderRoute(objects.lookup(), {"header-beta", {{"X-Beta", "exact", "yes"}}});
  REQUIRE_FALSE(header.ok());
  CHECK(header.error() ==
        "setHeaderRoute 'header-beta' is not supported by smi: a TrafficSplit splits by weight only (use the "
        "istio router or the argoproj-labs/gatewayAPI plugin)");
  auto mirror = router.setMirrorRoute(objects.lookup(), {"mirror-all", 50, json::array()});
  REQUIRE_FALSE(mirror.ok());
  CHECK(mirror.error() ==
        "setMirrorRoute 'mirror-all' is not supported by smi: a TrafficSplit splits by weight only (use the "
        "istio router or the argoproj-labs/gatewayAPI plugin)");
  auto removed = router.removeManagedRoutes(objects.lookup());
  REQUIRE(removed.ok());
  CHECK(removed->empty());
}

TEST_CASE("makeRouter picks SMI alone, writing at the version of its options", "[traffic][smi]") {
  auto router = traffic::makeRouter(rollout());
  REQUIRE(router.ok());
  REQUIRE(*router != nullptr);
  CHECK((*router)->kinds() == std::vector<std::string>{"TrafficSplit"});
  const Objects none;
  for (const std::string version : traffic::kTrafficSplitVersions) {
    auto made = traffic::makeRouter(rollout(), traffic::RouterOptions{version});
    REQUIRE(made.ok());
    auto created = (*made)->setWeight(none.lookup(), kTen);
    REQUIRE(created.ok());
    REQUIRE(created->size() == 1);
    CHECK((*created)[0].body["apiVersion"] == "split.smi-spec.io/" + version);
  }
  auto byDefault = (*router)->setWeight(none.lookup(), kTen);
  REQUIRE(byDefault.ok());
  REQUIRE(byDefault->size() == 1);
  CHECK((*byDefault)[0].body["apiVersion"] == "split.smi-spec.io/v1alpha1");
  // With the Gateway API plugin beside it, both routers get the weights.
  auto both = traffic::makeRouter(
      rollout("{}", R"(, "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web"}})"));
  REQUIRE(both.ok());
  CHECK((*both)->kinds() == std::vector<std::string>{"TrafficSplit", "HTTPRoute"});
}

}  // namespace smi_router_test
