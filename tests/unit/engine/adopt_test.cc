// Moving over from Argo Rollouts: a Rollout whose ReplicaSets Argo made (Argo's hash label, its revision
// annotation) adopts them as they are, restarting no pod and leaving the Services where they point, and
// runs its later revisions as Sluice's own.
#include <catch2/catch.hpp>

#include "engine/adopt.h"
#include "engine/bluegreen.h"
#include "tests/unit/engine/test_world.h"

using namespace sluice;
using namespace sluice::engine;
using namespace sluice::engine::testing;
using nlohmann::json;

namespace {

// A pod template as the API server stores it on a ReplicaSet Argo Rollouts made from RolloutBuilder's
// template of `image`: Argo's hash label, a null creationTimestamp and the API server's defaults.
json argoStoredTemplate(const std::string& image, const std::string& hash) {
  return {{"metadata",
           {{"creationTimestamp", nullptr}, {"labels", {{"app", "web"}, {kArgoPodTemplateHashLabel, hash}}}}},
          {"spec",
           {{"containers",
             {{{"name", "web"},
               {"image", image},
               {"resources", json::object()},
               {"terminationMessagePath", "/dev/termination-log"},
               {"terminationMessagePolicy", "File"},
               {"imagePullPolicy", "IfNotPresent"}}}},
            {"restartPolicy", "Always"},
            {"terminationGracePeriodSeconds", 30},
            {"dnsPolicy", "ClusterFirst"},
            {"securityContext", json::object()},
            {"schedulerName", "default-scheduler"}}}};
}

// A ReplicaSet Argo Rollouts made for the Rollout "web": `available` of its `replicas` pods available.
ReplicaSetView argoMadeReplicaSet(const std::string& hash, int64_t revision, const std::string& image,
                                  int replicas, int available) {
  ReplicaSetView rs;
  rs.name = "web-" + hash;
  rs.podTemplateHash = hash;
  rs.revision = revision;
  rs.specReplicas = rs.replicas = replicas;
  rs.readyReplicas = rs.availableReplicas = available;
  rs.hashLabel = kArgoPodTemplateHashLabel;
  rs.podTemplate = argoStoredTemplate(image, hash);
  return rs;
}

// How Argo Rollouts left one Rollout: its strategy on the Rollout, and the Services it names.
struct ArgoLayout {
  const char* name;
  std::function<void(Rollout&)> strategy;
  std::vector<std::string> services;
};

Rollout argoBlueGreen(Rollout r) {
  BlueGreenStrategy bg;
  bg.activeService = "web-active";
  bg.previewService = "web-preview";
  r.spec.blueGreen = bg;
  return r;
}

const std::vector<ArgoLayout>& argoLayouts() {
  static const std::vector<ArgoLayout> layouts = {
      {"canary without traffic routing", [](Rollout&) {}, {}},
      {"canary with canaryService and stableService",
       [](Rollout& r) {
         r.spec.canary.canaryService = "web-canary";
         r.spec.canary.stableService = "web-stable";
       },
       {"web-canary", "web-stable"}},
      {"blue-green with activeService and previewService",
       [](Rollout& r) { r = argoBlueGreen(r); },
       {"web-active", "web-preview"}},
  };
  return layouts;
}

// A world as Argo Rollouts leaves a Healthy Rollout: revision 2 (web:1, the Rollout's template) with all
// 4 pods, revision 1 (web:0) scaled to 0, the Services on revision 2 by Argo's key.
FakeWorld argoHealthyWorld(const ArgoLayout& layout) {
  Rollout r = RolloutBuilder().replicas(4).setWeight(50).build();
  layout.strategy(r);
  FakeWorld w(r);
  w.observed.adoptableReplicaSets = {argoMadeReplicaSet("argoold", 1, "web:0", 0, 0),
                                     argoMadeReplicaSet("argocur", 2, "web:1", 4, 4)};
  for (const auto& service : layout.services) w.observed.serviceSelectors[service] = "argocur";
  return w;
}

template <typename T>
int adoptActionCount(const FakeWorld& w) {
  return static_cast<int>(std::count_if(w.actions.begin(), w.actions.end(),
                                        [](const Action& a) { return std::holds_alternative<T>(a); }));
}

std::vector<SetServiceSelector> adoptSelectorWrites(const FakeWorld& w, const std::string& service) {
  std::vector<SetServiceSelector> out;
  for (const auto& a : w.actions) {
    if (const auto* s = std::get_if<SetServiceSelector>(&a); s && s->service == service) out.push_back(*s);
  }
  return out;
}

}  // namespace

TEST_CASE("Argo's ReplicaSets are adopted as they are: no new ReplicaSet and the Services kept", "[adopt]") {
  for (const ArgoLayout& layout : argoLayouts()) {
    SECTION(layout.name) {
      FakeWorld w = argoHealthyWorld(layout);
      w.call();
      // The first pass only adopts: both of Argo's revisions, nothing else decided on a partial view.
      CHECK(adoptActionCount<AdoptReplicaSet>(w) == 2);
      CHECK(adoptActionCount<ScaleReplicaSet>(w) == 0);
      CHECK(w.observed.adoptableReplicaSets.empty());
      CHECK(w.hasEvent("ReplicaSetAdopted", "web-argocur (revision 2)"));
      w.settle();
      INFO(summary(w.rollout.status));
      CHECK(w.rollout.status.stableRS == "argocur");
      CHECK(w.rollout.status.currentPodHash == "argocur");
      CHECK(w.rollout.status.phase == "Healthy");
      CHECK(adoptActionCount<CreateReplicaSet>(w) == 0);
      CHECK(adoptActionCount<SetServiceSelector>(w) == 0);
      CHECK(w.rs("web-argocur")->specReplicas == 4);
      for (const auto& service : layout.services) CHECK(w.observed.serviceSelectors[service] == "argocur");
      CHECK_FALSE(w.hasEvent("RolloutUpdated"));
    }
  }
}

TEST_CASE("after adoption a new template runs the steps and moves the Services to Sluice's key in one write",
          "[adopt]") {
  for (const ArgoLayout& layout : argoLayouts()) {
    SECTION(layout.name) {
      FakeWorld w = argoHealthyWorld(layout);
      w.settle();
      w.actions.clear();
      w.newImage("web:2");
      const std::string v3 = podTemplateHash(w.rollout.spec.podTemplate);
      w.runFor(Duration{120});  // past a blue-green's scaleDownDelaySeconds
      INFO(summary(w.rollout.status));
      CHECK(w.rollout.status.stableRS == v3);
      REQUIRE(adoptActionCount<CreateReplicaSet>(w) == 1);
      const auto& create =
          std::get<CreateReplicaSet>(*std::find_if(w.actions.begin(), w.actions.end(), [](const Action& a) {
            return std::holds_alternative<CreateReplicaSet>(a);
          }));
      CHECK(create.podTemplateHash == v3);
      CHECK(create.revision == 3);
      CHECK(create.podTemplate["metadata"]["labels"][kPodTemplateHashLabel] == v3);
      CHECK(w.rs("web-argocur")->specReplicas == 0);
      for (const auto& service : layout.services) {
        // Every write of the Service points it at Sluice's revision by Sluice's key (the world drops Argo's
        // key in that same write).
        const auto writes = adoptSelectorWrites(w, service);
        REQUIRE_FALSE(writes.empty());
        for (const auto& s : writes) {
          CHECK(s.podTemplateHash == v3);
          CHECK(s.hashLabel == kPodTemplateHashLabel);
        }
      }
    }
  }
}

TEST_CASE("the stable revision of an adopted Rollout is the one its Services select", "[adopt]") {
  // Argo was mid-update: revision 2 (the Rollout's template) has 1 pod, revision 1 the other 3.
  struct Case {
    const char* name;
    bool services;
  };
  for (const Case c :
       {Case{"selected by the stable Service", true}, Case{"without Services: the most available", false}}) {
    SECTION(c.name) {
      Rollout r = RolloutBuilder().replicas(4).setWeight(25).pause().build();
      if (c.services) {
        r.spec.canary.canaryService = "web-canary";
        r.spec.canary.stableService = "web-stable";
      }
      FakeWorld w(r);
      w.observed.adoptableReplicaSets = {argoMadeReplicaSet("argoone", 1, "web:0", 3, 3),
                                         argoMadeReplicaSet("argotwo", 2, "web:1", 1, 1)};
      if (c.services) {
        w.observed.serviceSelectors["web-stable"] = "argoone";
        w.observed.serviceSelectors["web-canary"] = "argotwo";
      }
      w.settle();
      INFO(summary(w.rollout.status));
      CHECK(w.rollout.status.stableRS == "argoone");
      CHECK(w.rollout.status.currentPodHash == "argotwo");
      CHECK(w.rollout.status.phase == "Paused");
      CHECK(w.rollout.status.currentStepIndex == 1);
      CHECK(adoptActionCount<CreateReplicaSet>(w) == 0);
      CHECK(w.rs("web-argoone")->specReplicas == 3);
      CHECK(w.rs("web-argotwo")->specReplicas == 1);
    }
  }
}

TEST_CASE("a Rollout whose router selects pods by Sluice's label adopts nothing", "[adopt]") {
  Rollout r = RolloutBuilder().replicas(2).services().build();
  TrafficRouting routing;
  routing.istio = IstioTrafficRouting{};
  routing.istio->virtualServices = {{"web", {"primary"}}};
  routing.istio->destinationRule = IstioDestinationRule{"web", "canary", "stable", {}};
  r.spec.canary.trafficRouting = routing;
  FakeWorld w(r);
  w.observed.adoptableReplicaSets = {argoMadeReplicaSet("argocur", 1, "web:1", 2, 2)};
  w.call();
  CHECK(adoptActionCount<AdoptReplicaSet>(w) == 0);
  CHECK(adoptActionCount<CreateReplicaSet>(w) == 1);
}

TEST_CASE(
    "a stored pod template is the Rollout's once hash labels empty values and API defaults are set aside",
    "[adopt]") {
  const json desired = RolloutBuilder().build().spec.podTemplate;
  struct Case {
    const char* name;
    std::function<void(json&)> change;
    bool same;
  };
  const std::vector<Case> cases = {
      {"as Argo's ReplicaSet stores it", [](json&) {}, true},
      {"with Sluice's hash label too", [](json& t) { t["metadata"]["labels"][kPodTemplateHashLabel] = "x"; },
       true},
      {"another image", [](json& t) { t["spec"]["containers"][0]["image"] = "web:9"; }, false},
      {"another label", [](json& t) { t["metadata"]["labels"]["tier"] = "front"; }, false},
      {"an annotation", [](json& t) { t["metadata"]["annotations"]["a"] = "b"; }, false},
      {"a field at a value no default gives", [](json& t) { t["spec"]["dnsPolicy"] = "None"; }, false},
      {"a field the Rollout does not set and no default fills",
       [](json& t) { t["spec"]["hostNetwork"] = true; }, false},
      {"a second container",
       [](json& t) {
         t["spec"]["containers"].push_back({{"name", "side"}, {"image", "s"}});
       },
       false},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      json live = argoStoredTemplate("web:1", "abc");
      c.change(live);
      CHECK(sameTemplate(live, desired) == c.same);
    }
  }
}

TEST_CASE(
    "a blue-green moved over mid-update switches its active Service to the adopted revision by Argo's key",
    "[adopt]") {
  // Argo had the new revision's pods up behind the preview Service, the active one still on the old pods.
  FakeWorld w(argoBlueGreen(RolloutBuilder().replicas(3).build()));
  w.observed.adoptableReplicaSets = {argoMadeReplicaSet("argoone", 1, "web:0", 3, 3),
                                     argoMadeReplicaSet("argotwo", 2, "web:1", 3, 3)};
  w.observed.serviceSelectors = {{"web-active", "argoone"}, {"web-preview", "argotwo"}};
  w.runFor(Duration{60});
  INFO(summary(w.rollout.status));
  CHECK(w.rollout.status.stableRS == "argotwo");
  CHECK(adoptActionCount<CreateReplicaSet>(w) == 0);
  const auto writes = adoptSelectorWrites(w, "web-active");
  REQUIRE(writes.size() == 1);
  CHECK(writes[0].podTemplateHash == "argotwo");
  CHECK(writes[0].hashLabel == kArgoPodTemplateHashLabel);
  CHECK(w.rs("web-argoone")->specReplicas == 0);
}

TEST_CASE("going back to Argo's template reuses the adopted ReplicaSet and selects it by Argo's key",
          "[adopt]") {
  FakeWorld w = argoHealthyWorld(argoLayouts()[1]);  // canaryService and stableService
  w.settle();
  w.newImage("web:2");
  w.settle();
  REQUIRE(w.rollout.status.stableRS != "argocur");
  w.actions.clear();
  w.newImage("web:1");
  w.settle();
  INFO(summary(w.rollout.status));
  CHECK(w.rollout.status.stableRS == "argocur");
  CHECK(w.rollout.status.currentPodHash == "argocur");
  CHECK(adoptActionCount<CreateReplicaSet>(w) == 0);
  CHECK(w.rs("web-argocur")->specReplicas == 4);
  for (const char* service : {"web-canary", "web-stable"}) {
    const auto writes = adoptSelectorWrites(w, service);
    REQUIRE_FALSE(writes.empty());
    CHECK(writes.back().podTemplateHash == "argocur");
    CHECK(writes.back().hashLabel == kArgoPodTemplateHashLabel);
  }
}
