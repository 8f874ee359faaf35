// Moving over from Argo Rollouts on the cluster: ReplicaSets, pods and Services laid out exactly as Argo
// Rollouts leaves a Healthy Rollout (its hash label on the ReplicaSets, their selectors and pods and on the
// Services' selectors, its revision annotation, its Rollout as their controller), then the same Rollout
// applied as sluice.dev/v1alpha1: it adopts them with no pod restarted and no Service touched, and its
// next revision is Sluice's own, the Services moving to Sluice's key in one write.
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "controller_env.h"
#include "engine/rollout.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

const kube::ResourceRef kAdoptServices{"", "v1", "services", true, "Service"};
const kube::ResourceRef kAdoptPods{"", "v1", "pods", true, "Pod"};
constexpr const char* kArgoRolloutUid = "5d1e2a7c-0000-4000-8000-0000000a4600";

// A ReplicaSet as Argo Rollouts makes it for the Rollout "web": named web-<hash>, its hash label on its
// labels, selector and pod template, its revision annotation, Argo's Rollout as its controller.
json argoReplicaSet(const std::string& hash, int revision, const std::string& image, int replicas) {
  const json labels = {{"app", "web"}, {engine::kArgoPodTemplateHashLabel, hash}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "ReplicaSet"},
          {"metadata",
           {{"name", "web-" + hash},
            {"namespace", "default"},
            {"labels", labels},
            {"annotations", {{engine::kArgoRevisionAnnotation, std::to_string(revision)}}},
            {"ownerReferences", json::array({{{"apiVersion", "argoproj.io/v1alpha1"},
                                              {"kind", "Rollout"},
                                              {"name", "web"},
                                              {"uid", kArgoRolloutUid},
                                              {"controller", true},
                                              {"blockOwnerDeletion", true}}})}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", labels}}},
            {"template",
             {{"metadata", {{"labels", labels}}},
              {"spec", {{"containers", json::array({{{"name", "web"}, {"image", image}}})}}}}}}}};
}

json argoService(const std::string& name, const std::string& hash) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata",
           {{"name", name},
            {"namespace", "default"},
            {"annotations", {{"argo-rollouts.argoproj.io/managed-by-rollouts", "web"}}}}},
          {"spec",
           {{"selector", {{"app", "web"}, {engine::kArgoPodTemplateHashLabel, hash}}},
            {"ports", json::array({{{"port", 80}, {"targetPort", 8080}}})}}}};
}

// One Rollout as Argo Rollouts left it, on a fresh cluster: revision 1 (v0) scaled to 0, revision 2 (v1)
// with its 3 pods available, the Services on revision 2; `orphaned`: Argo's Rollout was deleted with
// --cascade=orphan, so the ReplicaSets have no owner.
struct ArgoLeftovers {
  ControllerEnv env{std::chrono::milliseconds(300)};
  std::vector<std::string> services;
  std::set<std::string> podUids;  // revision 2's pods

  static constexpr const char* kOld = "68b7f9c5d4";
  static constexpr const char* kCurrent = "5c9f8d7b64";

  explicit ArgoLeftovers(std::vector<std::string> serviceNames, bool orphaned = false)
      : services(std::move(serviceNames)) {
    for (const auto& name : services) env.cluster.apply(name + ".json", argoService(name, kCurrent));
    json old = argoReplicaSet(kOld, 1, "registry.example/web:v0", 0);
    json current = argoReplicaSet(kCurrent, 2, "registry.example/web:v1", 3);
    if (orphaned) {
      old["metadata"].erase("ownerReferences");
      current["metadata"].erase("ownerReferences");
    }
    env.cluster.apply("rs-old.json", old);
    env.cluster.apply("rs-current.json", current);
    REQUIRE(
        waitUntil([&] { return available(std::string("web-") + kCurrent) == 3; }, std::chrono::seconds(30)));
    podUids = pods(kCurrent);
    REQUIRE(podUids.size() == 3);
    env.startController();
  }

  json replicaSet(const std::string& name) {
    auto rs = env.client->get(kReplicaSets, "default", name);
    REQUIRE(rs.ok());
    return *rs;
  }
  int available(const std::string& name) {
    auto rs = env.client->get(kReplicaSets, "default", name);
    return rs.ok() ? rs->value(json::json_pointer("/status/availableReplicas"), 0) : -1;
  }
  std::set<std::string> pods(const std::string& argoHash) {
    kube::ListOptions options;
    options.labelSelector = std::string(engine::kArgoPodTemplateHashLabel) + "=" + argoHash;
    auto list = env.client->list(kAdoptPods, "default", options);
    REQUIRE(list.ok());
    std::set<std::string> uids;
    for (const auto& pod : (*list)["items"]) {
      if (!pod["metadata"].contains("deletionTimestamp")) uids.insert(pod["metadata"].value("uid", ""));
    }
    return uids;
  }
  json selector(const std::string& service) {
    auto svc = env.client->get(kAdoptServices, "default", service);
    REQUIRE(svc.ok());
    return svc->value(json::json_pointer("/spec/selector"), json::object());
  }
  std::vector<std::string> replicaSetNames() {
    auto list = env.client->list(kReplicaSets, "default", {});
    REQUIRE(list.ok());
    std::vector<std::string> names;
    for (const auto& rs : (*list)["items"]) names.push_back(rs["metadata"].value("name", ""));
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string status(const std::string& field) {
    return env.rollout("web").value(json::json_pointer("/status/" + field), std::string());
  }

  // Applies `rollout` (Argo's Rollout with apiVersion sluice.dev/v1alpha1) and checks the adoption.
  void moveOver(const json& rollout) {
    const auto before = replicaSetNames();
    std::map<std::string, json> selectors;
    for (const auto& s : services) selectors[s] = selector(s);
    env.cluster.apply("web.json", rollout);
    REQUIRE(env.waitRollout("web", [](const json& r) {
      return phaseOf(r) == "Healthy" && r["status"].value("stableRS", "") == kCurrent;
    }));
    CHECK(status("currentPodHash") == kCurrent);
    CHECK(replicaSetNames() == before);
    const std::string uid = env.rollout("web")["metadata"].value("uid", "");
    for (const char* hash : {kOld, kCurrent}) {
      const json rs = replicaSet(std::string("web-") + hash);
      const json owners = rs["metadata"]["ownerReferences"];
      REQUIRE(owners.size() == 1);
      CHECK(owners[0].value("uid", "") == uid);
      CHECK(owners[0].value("apiVersion", "") == "sluice.dev/v1alpha1");
      CHECK(owners[0].value("controller", false));
      CHECK(rs["spec"]["selector"]["matchLabels"] ==
            json({{"app", "web"}, {engine::kArgoPodTemplateHashLabel, hash}}));
      CHECK(rs["spec"]["template"]["metadata"]["labels"] ==
            json({{"app", "web"}, {engine::kArgoPodTemplateHashLabel, hash}}));
    }
    CHECK(replicaSet(std::string("web-") + kCurrent)["spec"].value("replicas", 0) == 3);
    CHECK(pods(kCurrent) == podUids);
    for (const auto& s : services) CHECK(selector(s) == selectors[s]);
  }

  // Updates the template to v2 and waits until it is stable; every selector of the Services seen on the
  // way selects by exactly one hash key, and at the end by Sluice's, on v2; `stableService` (if any) stays
  // on Argo's pods by Argo's key while the steps run. A canary goes through its pause step. Returns v2's
  // hash.
  std::string update(json rollout, const std::string& stableService = "") {
    rollout["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example/web:v2";
    env.cluster.apply("web.json", rollout);
    const json argoSelector = {{"app", "web"}, {engine::kArgoPodTemplateHashLabel, kCurrent}};
    bool bothOrNeither = false;
    bool stableMovedEarly = false;
    std::set<int> steps;
    REQUIRE(env.waitRollout(
        "web",
        [&](const json& r) {
          for (const auto& s : services) {
            const json sel = selector(s);
            if (sel.contains(engine::kPodTemplateHashLabel) ==
                sel.contains(engine::kArgoPodTemplateHashLabel))
              bothOrNeither = true;
          }
          const std::string stable = r["status"].value("stableRS", "");
          if (!stableService.empty()) {
            // The selector first, then the status: the move comes a pass after the steps are done.
            const json sel = selector(stableService);
            const json now = env.rollout("web");
            if (now["status"].value("currentPodHash", "") != kCurrent && stepOf(now) < 2 &&
                sel != argoSelector)
              stableMovedEarly = true;
          }
          if (r["status"].value("currentPodHash", "") != kCurrent) steps.insert(stepOf(r));
          return phaseOf(r) == "Healthy" && !stable.empty() && stable != kCurrent;
        },
        std::chrono::seconds(90)));
    CHECK_FALSE(bothOrNeither);
    CHECK_FALSE(stableMovedEarly);
    if (rollout["spec"]["strategy"].contains("canary")) CHECK(steps.count(1) == 1);
    const std::string v2 = status("stableRS");
    for (const auto& s : services)
      CHECK(selector(s) == json({{"app", "web"}, {engine::kPodTemplateHashLabel, v2}}));
    const json made = replicaSet("web-" + v2);
    CHECK(made["spec"]["selector"]["matchLabels"] ==
          json({{"app", "web"}, {engine::kPodTemplateHashLabel, v2}}));
    CHECK(made["metadata"]["annotations"].value(engine::kRevisionAnnotation, "") == "3");
    REQUIRE(waitUntil([&] { return pods(kCurrent).empty(); }, std::chrono::seconds(60)));
    return v2;
  }
};

json argoCanary() {
  return webRollout("registry.example/web:v1", 3,
                    json::parse(R"([{"setWeight": 50}, {"pause": {"duration": "1s"}}])"));
}

}  // namespace

TEST_CASE("a canary moved over from Argo Rollouts keeps its pods and its next revision runs the steps",
          "[controller][e2e][adopt]") {
  ArgoLeftovers argo({});
  const json rollout = argoCanary();
  argo.moveOver(rollout);
  argo.update(rollout);
}

TEST_CASE("a canary with canaryService and stableService moved over from Argo Rollouts keeps its Services",
          "[controller][e2e][adopt]") {
  ArgoLeftovers argo({"web-canary", "web-stable"});
  json rollout = argoCanary();
  rollout["spec"]["strategy"]["canary"]["canaryService"] = "web-canary";
  rollout["spec"]["strategy"]["canary"]["stableService"] = "web-stable";
  argo.moveOver(rollout);
  argo.update(rollout, "web-stable");
}

TEST_CASE("a blue-green Rollout moved over from Argo Rollouts keeps its active and preview Services",
          "[controller][e2e][adopt]") {
  ArgoLeftovers argo({"web-active", "web-preview"});
  json rollout = webRollout("registry.example/web:v1", 3, json::array());
  rollout["spec"]["strategy"] = {
      {"blueGreen",
       {{"activeService", "web-active"}, {"previewService", "web-preview"}, {"scaleDownDelaySeconds", 1}}}};
  argo.moveOver(rollout);
  argo.update(rollout);
}

TEST_CASE("ReplicaSets orphaned by Argo's Rollout are adopted and another Rollout's are left alone",
          "[controller][e2e][adopt]") {
  ArgoLeftovers argo({}, true);
  // Argo's ReplicaSet of the Rollout "api": another name, so not this Rollout's to adopt.
  json api = argoReplicaSet("7d4b6c9f85", 1, "registry.example/api:v1", 0);
  api["metadata"]["name"] = "api-7d4b6c9f85";
  api["metadata"]["ownerReferences"][0]["name"] = "api";
  for (const char* pointer :
       {"/metadata/labels", "/spec/selector/matchLabels", "/spec/template/metadata/labels"})
    api[json::json_pointer(pointer)]["app"] = "api";
  argo.env.cluster.apply("rs-api.json", api);
  argo.moveOver(argoCanary());
  const json owners = argo.replicaSet("api-7d4b6c9f85")["metadata"]["ownerReferences"];
  REQUIRE(owners.size() == 1);
  CHECK(owners[0].value("apiVersion", "") == "argoproj.io/v1alpha1");
  CHECK(owners[0].value("name", "") == "api");
  CHECK_FALSE(
      argo.replicaSet("api-7d4b6c9f85")["metadata"]["labels"].contains(engine::kPodTemplateHashLabel));
}
