// The kubectl conformance suite, run through the Sluice client against the same embedded server: apply
// (created, configured, unchanged), create, replace, get and list with selectors, diff as a dry run,
// server-side apply refused, CRDs with custom resources, restart, patches, label and annotate, scale of a
// Deployment and of a custom resource, edit with a conflict, delete by name, by label and past a
// finalizer, a watch that sees another client's change, and waits for a Deployment's rollout and its
// Available condition over the workload controllers. Each asserts the stored objects.
#include <catch2/catch.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "kube/apply.h"
#include "kube/client.h"
#include "kube/readiness.h"
#include "tests/integration/kube_client_env.h"
#include "tests/support/process.h"

using nlohmann::json;
using sluice::kube::ApplyOutcome;
using sluice::kube::PatchType;
using sluice::kube::ResourceRef;
using sluice::testing::kConfigMaps;
using sluice::testing::kDeployments;
using sluice::testing::KubeServer;
using sluice::testing::waitUntil;

namespace {

const ResourceRef kNamespaces{"", "v1", "namespaces", false, "Namespace"};
const ResourceRef kServices{"", "v1", "services", true, "Service"};

json greetingConfigMap(const std::string& name, const std::string& greeting) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"labels", {{"app", "web"}}}}},
          {"data", {{"greeting", greeting}}}};
}

json webDeployment(const std::string& image, int replicas = 2) {
  return json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"replicas": )" +
                     std::to_string(replicas) +
                     R"(, "selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [
          {"name": "web", "image": ")" +
                     image + R"(", "ports": [{"containerPort": 8080}]},
          {"name": "sidecar", "image": "busybox:1"}]}}}})");
}

json crd(const std::string& plural, const std::string& kind, const json& subresources) {
  return {
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", plural + ".example.com"}}},
      {"spec",
       {{"group", "example.com"},
        {"scope", "Namespaced"},
        {"names", {{"plural", plural}, {"singular", kind == "Widget" ? "widget" : "pool"}, {"kind", kind}}},
        {"versions",
         json::array({{{"name", "v1"},
                       {"served", true},
                       {"storage", true},
                       {"subresources", subresources},
                       {"schema",
                        {{"openAPIV3Schema",
                          {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}})}}}};
}

std::string rvOf(const json& o) { return o["metadata"]["resourceVersion"].get<std::string>(); }

}  // namespace

TEST_CASE("client suite: apply creates, then configures, then leaves unchanged", "[kube-client][suite]") {
  KubeServer server;
  auto client = server.client();
  auto first = sluice::kube::apply(*client, greetingConfigMap("web-config", "hello"));
  REQUIRE(first.ok());
  CHECK(first->outcome == ApplyOutcome::kCreated);
  auto cm = client->get(kConfigMaps, "default", "web-config");
  REQUIRE(cm.ok());
  CHECK((*cm)["data"]["greeting"] == "hello");
  CHECK((*cm)["metadata"]["namespace"] == "default");
  CHECK((*cm)["metadata"]["annotations"].contains(sluice::kube::kLastAppliedAnnotation));
  const std::string rv1 = rvOf(*cm);

  auto second = sluice::kube::apply(*client, greetingConfigMap("web-config", "bonjour"));
  REQUIRE(second.ok());
  CHECK(second->outcome == ApplyOutcome::kConfigured);
  cm = client->get(kConfigMaps, "default", "web-config");
  CHECK((*cm)["data"]["greeting"] == "bonjour");
  const std::string rv2 = rvOf(*cm);
  CHECK(std::stoll(rv2) > std::stoll(rv1));

  auto third = sluice::kube::apply(*client, greetingConfigMap("web-config", "bonjour"));
  REQUIRE(third.ok());
  CHECK(third->outcome == ApplyOutcome::kUnchanged);
  CHECK(rvOf(*client->get(kConfigMaps, "default", "web-config")) == rv2);

  // A field another writer added survives an apply; one dropped from the manifest goes.
  REQUIRE(
      client->patch(kConfigMaps, "default", "web-config", PatchType::kMerge, {{"data", {{"extra", "kept"}}}})
          .ok());
  json dropped = greetingConfigMap("web-config", "bonjour");
  dropped["metadata"].erase("labels");
  REQUIRE(sluice::kube::apply(*client, dropped)->outcome == ApplyOutcome::kConfigured);
  cm = client->get(kConfigMaps, "default", "web-config");
  CHECK((*cm)["data"]["extra"] == "kept");
  CHECK_FALSE((*cm)["metadata"].value("labels", json::object()).contains("app"));

  // A Deployment: a new image in one container keeps the other container, bumps the generation, and an
  // unchanged manifest over server defaults is no change.
  REQUIRE(sluice::kube::apply(*client, webDeployment("nginx:1.25"))->outcome == ApplyOutcome::kCreated);
  auto d = client->get(kDeployments, "default", "web");
  CHECK((*d)["metadata"]["generation"] == 1);
  CHECK(sluice::kube::apply(*client, webDeployment("nginx:1.25"))->outcome == ApplyOutcome::kUnchanged);
  REQUIRE(sluice::kube::apply(*client, webDeployment("nginx:1.26"))->outcome == ApplyOutcome::kConfigured);
  d = client->get(kDeployments, "default", "web");
  CHECK((*d)["metadata"]["generation"] == 2);
  auto containers = (*d)["spec"]["template"]["spec"]["containers"];
  REQUIRE(containers.size() == 2);
  CHECK(containers[0]["image"] == "nginx:1.26");
  CHECK(containers[0]["ports"][0]["containerPort"] == 8080);
  CHECK(containers[1]["image"] == "busybox:1");
}

TEST_CASE("client suite: create, replace, get and list with selectors across namespaces",
          "[kube-client][suite]") {
  KubeServer server;
  auto client = server.client();
  REQUIRE(client
              ->create(kNamespaces, "",
                       {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "team-a"}}}})
              .ok());
  REQUIRE(client->create(kConfigMaps, "default", greetingConfigMap("web-config", "one")).ok());
  REQUIRE(client->create(kConfigMaps, "team-a", greetingConfigMap("web-config", "one")).ok());
  auto again = client->create(kConfigMaps, "default", greetingConfigMap("web-config", "one"));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().isAlreadyExists());
  CHECK_THAT(again.error().message, Catch::Contains("configmaps \"web-config\" already exists"));
  json other = greetingConfigMap("other", "x");
  other["metadata"].erase("labels");
  REQUIRE(client->create(kConfigMaps, "default", other).ok());

  sluice::kube::ListOptions byLabel;
  byLabel.labelSelector = "app=web";
  auto labelled = client->list(kConfigMaps, "default", byLabel);
  REQUIRE(labelled.ok());
  REQUIRE((*labelled)["items"].size() == 1);
  CHECK((*labelled)["items"][0]["metadata"]["name"] == "web-config");
  sluice::kube::ListOptions byField;
  byField.fieldSelector = "metadata.namespace=team-a";
  auto inTeam = client->list(kConfigMaps, "", byField);
  REQUIRE(inTeam.ok());
  REQUIRE((*inTeam)["items"].size() == 1);
  CHECK((*inTeam)["items"][0]["metadata"]["namespace"] == "team-a");
  sluice::kube::ListOptions notThis;
  notThis.fieldSelector = "metadata.name!=web-config";
  auto rest = client->list(kConfigMaps, "default", notThis);
  REQUIRE((*rest)["items"].size() == 1);
  CHECK((*rest)["items"][0]["metadata"]["name"] == "other");
  auto everywhere = client->list(kConfigMaps, "");
  CHECK((*everywhere)["items"].size() == 3);

  auto missing = client->get(kConfigMaps, "default", "nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().isNotFound());
  auto nsMissing = client->create(kConfigMaps, "no-such-ns", greetingConfigMap("x", "y"));
  REQUIRE_FALSE(nsMissing.ok());
  CHECK(nsMissing.error().isNotFound());
  CHECK_THAT(nsMissing.error().message, Catch::Contains("namespaces \"no-such-ns\" not found"));

  // Replace: a PUT of the whole object, here without a resourceVersion (as kubectl replace).
  json replaced = greetingConfigMap("web-config", "two");
  REQUIRE(client->update(kConfigMaps, replaced).ok());
  CHECK((*client->get(kConfigMaps, "default", "web-config"))["data"]["greeting"] == "two");
  CHECK((*client->get(kConfigMaps, "team-a", "web-config"))["data"]["greeting"] == "one");
}

TEST_CASE("client suite: diff as a dry run writes nothing, server-side apply is refused clearly",
          "[kube-client][suite]") {
  KubeServer server;
  auto client = server.client();
  REQUIRE(sluice::kube::apply(*client, greetingConfigMap("web-config", "before")).ok());
  const std::string rv = rvOf(*client->get(kConfigMaps, "default", "web-config"));
  sluice::kube::ApplyOptions dry;
  dry.dryRun = true;
  auto preview = sluice::kube::apply(*client, greetingConfigMap("web-config", "after"), dry);
  REQUIRE(preview.ok());
  CHECK(preview->outcome == ApplyOutcome::kConfigured);
  CHECK(preview->object["data"]["greeting"] == "after");  // what it would become
  auto cm = client->get(kConfigMaps, "default", "web-config");
  CHECK((*cm)["data"]["greeting"] == "before");
  CHECK(rvOf(*cm) == rv);
  auto dryCreate = sluice::kube::apply(*client, greetingConfigMap("dry", "x"), dry);
  REQUIRE(dryCreate.ok());
  CHECK(dryCreate->outcome == ApplyOutcome::kCreated);
  CHECK(client->get(kConfigMaps, "default", "dry").error().isNotFound());

  sluice::kube::WriteOptions ssa;
  ssa.fieldManager = "sluice";
  auto serverSide =
      client->patch(kConfigMaps, "default", "ssa", PatchType::kApply, greetingConfigMap("ssa", "x"), ssa);
  REQUIRE_FALSE(serverSide.ok());
  CHECK(serverSide.error().code == 415);
  CHECK(client->get(kConfigMaps, "default", "ssa").error().isNotFound());
}

TEST_CASE("client suite: a CRD and its custom resources, applied in one pass, and a restart",
          "[kube-client][suite]") {
  KubeServer server;
  auto client = server.client();
  // The order a kustomization renders: the CRD first, its resources right after, mapped through discovery
  // refreshed on the miss.
  std::vector<json> manifests = {
      crd("widgets", "Widget", {{"status", json::object()}}), webDeployment("nginx:1.25"),
      json::parse(R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                                   "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})"),
      json::parse(R"({"apiVersion": "example.com/v1", "kind": "Widget",
                                   "metadata": {"name": "w1"}, "spec": {"size": 3}})"),
      json::parse(R"({"apiVersion": "example.com/v1", "kind": "Widget",
                                   "metadata": {"name": "w2"}, "spec": {"size": 5}})")};
  for (const auto& m : manifests) {
    auto applied = sluice::kube::apply(*client, m);
    INFO(m.value("kind", "") << ": " << (applied ? std::string() : applied.error().describe()));
    REQUIRE(applied.ok());
    CHECK(applied->outcome == ApplyOutcome::kCreated);
  }
  auto widgets = client->resourceFor("example.com/v1", "Widget");
  REQUIRE(widgets.ok());
  auto listed = client->list(*widgets, "default");
  REQUIRE((*listed)["items"].size() == 2);
  CHECK((*listed)["items"][1]["spec"]["size"] == 5);
  CHECK((*client->get(kServices, "default", "web"))["spec"]["ports"][0]["port"] == 80);

  json w1 = manifests[3];
  w1["spec"]["size"] = 4;
  REQUIRE(sluice::kube::apply(*client, w1)->outcome == ApplyOutcome::kConfigured);
  auto got = client->get(*widgets, "default", "w1");
  CHECK((*got)["spec"]["size"] == 4);
  CHECK((*got)["metadata"]["generation"] == 2);

  const std::string uid = (*got)["metadata"]["uid"];
  server.restart();
  auto after = client->get(*widgets, "default", "w1");
  REQUIRE(after.ok());
  CHECK((*after)["metadata"]["uid"] == uid);
  CHECK(sluice::kube::apply(*client, w1)->outcome == ApplyOutcome::kUnchanged);
}

TEST_CASE("client suite: patches, label and annotate, scale, and edit with a conflict",
          "[kube-client][suite]") {
  KubeServer server;
  auto client = server.client();
  json p = greetingConfigMap("p", "x");
  p["data"] = {{"a", "1"}, {"b", "2"}};
  REQUIRE(client->create(kConfigMaps, "default", p).ok());
  REQUIRE(
      client->patch(kConfigMaps, "default", "p", PatchType::kMerge, {{"data", {{"a", "10"}, {"b", nullptr}}}})
          .ok());
  CHECK((*client->get(kConfigMaps, "default", "p"))["data"] == json({{"a", "10"}}));
  REQUIRE(client
              ->patch(kConfigMaps, "default", "p", PatchType::kJson,
                      json::array({{{"op", "add"}, {"path", "/data/c"}, {"value", "3"}}}))
              .ok());
  auto failedTest = client->patch(kConfigMaps, "default", "p", PatchType::kJson,
                                  json::array({{{"op", "test"}, {"path", "/data/a"}, {"value", "x"}}}));
  REQUIRE_FALSE(failedTest.ok());
  CHECK((*client->get(kConfigMaps, "default", "p"))["data"]["a"] == "10");

  // Label and annotate, as kubectl sends them: merge patches on metadata; a null removes the label.
  REQUIRE(client
              ->patch(kConfigMaps, "default", "p", PatchType::kMerge,
                      {{"metadata",
                        {{"labels", {{"tier", "backend"}}}, {"annotations", {{"note", "hello world"}}}}}})
              .ok());
  auto cm = client->get(kConfigMaps, "default", "p");
  CHECK((*cm)["metadata"]["labels"]["tier"] == "backend");
  CHECK((*cm)["metadata"]["annotations"]["note"] == "hello world");
  REQUIRE(client
              ->patch(kConfigMaps, "default", "p", PatchType::kMerge,
                      {{"metadata", {{"labels", {{"tier", nullptr}}}}}})
              .ok());
  CHECK_FALSE((*client->get(kConfigMaps, "default", "p"))["metadata"]["labels"].contains("tier"));

  // Strategic merge on a Deployment's containers: merged by name, the ports kept.
  REQUIRE(client->create(kDeployments, "default", webDeployment("nginx:1.25", 1)).ok());
  REQUIRE(
      client
          ->patch(
              kDeployments, "default", "web", PatchType::kStrategic,
              json::parse(
                  R"({"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}})"))
          .ok());
  auto d = client->get(kDeployments, "default", "web");
  CHECK((*d)["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27");
  CHECK((*d)["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 8080);
  CHECK((*d)["spec"]["template"]["spec"]["containers"].size() == 2);

  // Scale through the scale subresource: a Deployment, then a custom resource whose CRD declares one.
  auto scale = client->patch(kDeployments, "default", "web", PatchType::kMerge, {{"spec", {{"replicas", 3}}}},
                             {}, "scale");
  REQUIRE(scale.ok());
  CHECK((*scale)["kind"] == "Scale");
  CHECK((*client->get(kDeployments, "default", "web"))["spec"]["replicas"] == 3);
  REQUIRE(sluice::kube::apply(
              *client,
              crd("pools", "Pool",
                  {{"status", json::object()},
                   {"scale", {{"specReplicasPath", ".spec.size"}, {"statusReplicasPath", ".status.size"}}}}))
              .ok());
  auto pools = client->resourceFor("example.com/v1", "Pool");
  REQUIRE(pools.ok());
  REQUIRE(client
              ->create(*pools, "default",
                       {{"apiVersion", "example.com/v1"},
                        {"kind", "Pool"},
                        {"metadata", {{"name", "p"}}},
                        {"spec", {{"size", 1}}}})
              .ok());
  REQUIRE(client->patch(*pools, "default", "p", PatchType::kMerge, {{"spec", {{"replicas", 4}}}}, {}, "scale")
              .ok());
  CHECK((*client->get(*pools, "default", "p"))["spec"]["size"] == 4);

  // Edit: read, change, write back with the resourceVersion read; a write in between is a Conflict, and
  // the edit goes through once read again.
  auto edited = client->get(kConfigMaps, "default", "p");
  REQUIRE(
      client->patch(kConfigMaps, "default", "p", PatchType::kMerge, {{"data", {{"c", "from-someone-else"}}}})
          .ok());
  (*edited)["data"]["a"] = "edited";
  auto stale = client->update(kConfigMaps, *edited);
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().isConflict());
  edited = client->get(kConfigMaps, "default", "p");
  (*edited)["data"]["a"] = "edited";
  REQUIRE(client->update(kConfigMaps, *edited).ok());
  cm = client->get(kConfigMaps, "default", "p");
  CHECK((*cm)["data"]["a"] == "edited");
  CHECK((*cm)["data"]["c"] == "from-someone-else");
}

TEST_CASE("client suite: delete by name, by label, and past a finalizer a second client removes",
          "[kube-client][suite]") {
  KubeServer server;
  auto client = server.client();
  for (const char* name : {"a", "b", "c"})
    REQUIRE(client->create(kConfigMaps, "default", greetingConfigMap(name, "v")).ok());
  for (const char* name : {"b", "c"}) {
    REQUIRE(client
                ->patch(kConfigMaps, "default", name, PatchType::kMerge,
                        {{"metadata", {{"labels", {{"group", "old"}}}}}})
                .ok());
  }
  REQUIRE(client->remove(kConfigMaps, "default", "a").ok());
  CHECK(client->get(kConfigMaps, "default", "a").error().isNotFound());
  sluice::kube::ListOptions old;
  old.labelSelector = "group=old";
  auto doomed = client->list(kConfigMaps, "default", old);
  REQUIRE(doomed.ok());
  REQUIRE((*doomed)["items"].size() == 2);
  for (const auto& item : (*doomed)["items"]) {
    REQUIRE(client->remove(kConfigMaps, "default", item["metadata"]["name"]).ok());
  }
  CHECK((*client->list(kConfigMaps, "default", old))["items"].empty());

  json held = greetingConfigMap("held", "v");
  held["metadata"]["finalizers"] = json::array({"example.com/hold"});
  REQUIRE(client->create(kConfigMaps, "default", held).ok());
  auto answer = client->remove(kConfigMaps, "default", "held");
  REQUIRE(answer.ok());
  CHECK((*answer)["metadata"].contains("deletionTimestamp"));  // the object, held, not a Status
  auto still = client->get(kConfigMaps, "default", "held");
  REQUIRE(still.ok());
  auto addFinalizer =
      client->patch(kConfigMaps, "default", "held", PatchType::kMerge,
                    {{"metadata", {{"finalizers", json::array({"example.com/hold", "x.io/new"})}}}});
  REQUIRE_FALSE(addFinalizer.ok());
  CHECK(addFinalizer.error().isInvalid());
  auto second = server.client();
  REQUIRE(second
              ->patch(kConfigMaps, "default", "held", PatchType::kJson,
                      json::array({{{"op", "remove"}, {"path", "/metadata/finalizers"}}}))
              .ok());
  CHECK(client->get(kConfigMaps, "default", "held").error().isNotFound());
}

TEST_CASE("client suite: a watch sees the change another client makes", "[kube-client][suite]") {
  KubeServer server;
  auto client = server.client();
  REQUIRE(client->create(kConfigMaps, "default", greetingConfigMap("watched", "1")).ok());
  sluice::kube::WatchOptions wo;
  wo.resourceVersion = "0";  // ADDED for what exists, then changes, as kubectl get -w
  wo.fieldSelector = "metadata.name=watched";
  std::mutex mu;
  std::vector<std::string> seen;
  auto seenCount = [&] {
    std::lock_guard lock(mu);
    return seen.size();
  };
  sluice::kube::WatchStop stop;
  std::thread watcher([&] {
    (void)client->watch(
        kConfigMaps, "default", wo,
        [&](const sluice::kube::WatchEvent& e) {
          std::lock_guard lock(mu);
          seen.push_back(e.type + " " + e.object["data"].value("greeting", ""));
          return seen.size() < 2;
        },
        &stop);
  });
  auto other = server.client();
  // Written after the watch is open (the ADDED event says so), so the change cannot be in the initial list.
  bool opened = waitUntil([&] { return seenCount() > 0; }, std::chrono::seconds(10));
  if (opened) {
    REQUIRE(
        other->patch(kConfigMaps, "default", "watched", PatchType::kMerge, {{"data", {{"greeting", "2"}}}})
            .ok());
  }
  bool done = waitUntil([&] { return seenCount() >= 2; }, std::chrono::seconds(10));
  stop.stop();
  watcher.join();
  REQUIRE(opened);
  REQUIRE(done);
  CHECK(seen[0] == "ADDED 1");
  CHECK(seen[1] == "MODIFIED 2");
}

TEST_CASE("client suite: wait for a rollout and for Available, and a rollout that fails its deadline",
          "[kube-client][suite][workloads]") {
  sluice::apiserver::ServerOptions options;
  options.podReadyAfter = std::chrono::milliseconds(300);
  KubeServer server(options, true);
  auto client = server.client();
  using sluice::kube::Progress;
  using sluice::kube::Readiness;
  auto available = [](const json& d) {
    return sluice::kube::hasCondition(d, "Available") ? Readiness{Progress::kDone, "available"} : Readiness{};
  };

  REQUIRE(sluice::kube::apply(*client, webDeployment("nginx:1.25", 3))->outcome == ApplyOutcome::kCreated);
  auto rolled = sluice::kube::waitFor(*client, kDeployments, "default", "web",
                                      sluice::kube::deploymentRollout, std::chrono::seconds(60));
  INFO((rolled ? std::string() : rolled.error().describe()));
  REQUIRE(rolled.ok());
  CHECK((*rolled)["status"]["updatedReplicas"] == 3);
  CHECK((*rolled)["status"]["availableReplicas"] == 3);
  CHECK((*rolled)["status"]["readyReplicas"] == 3);
  REQUIRE(sluice::kube::waitFor(*client, kDeployments, "default", "web", available, std::chrono::seconds(60))
              .ok());

  // A new image rolls a second ReplicaSet; once done, the first has no replicas left.
  REQUIRE(sluice::kube::apply(*client, webDeployment("nginx:1.26", 3))->outcome == ApplyOutcome::kConfigured);
  rolled = sluice::kube::waitFor(*client, kDeployments, "default", "web", sluice::kube::deploymentRollout,
                                 std::chrono::seconds(60));
  INFO((rolled ? std::string() : rolled.error().describe()));
  REQUIRE(rolled.ok());
  CHECK((*rolled)["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2");
  const ResourceRef replicaSets{"apps", "v1", "replicasets", true, "ReplicaSet"};
  sluice::kube::ListOptions web;
  web.labelSelector = "app=web";
  auto sets = client->list(replicaSets, "default", web);
  REQUIRE(sets.ok());
  REQUIRE((*sets)["items"].size() == 2);
  int withReplicas = 0;
  for (const auto& rs : (*sets)["items"]) {
    if (rs["spec"]["replicas"] != 0) {
      ++withReplicas;
      CHECK(rs["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26");
    }
  }
  CHECK(withReplicas == 1);

  // Pods that never become ready: the wait ends with kubectl's progress deadline message.
  json broken = webDeployment("nginx:1.25", 1);
  broken["metadata"]["name"] = "broken";
  broken["spec"]["selector"]["matchLabels"]["app"] = "broken";
  broken["spec"]["template"]["metadata"]["labels"]["app"] = "broken";
  broken["spec"]["template"]["metadata"]["annotations"]["cluster.sluice.dev/fail"] = "CrashLoopBackOff";
  broken["spec"]["progressDeadlineSeconds"] = 2;
  REQUIRE(sluice::kube::apply(*client, broken).ok());
  auto failed = sluice::kube::waitFor(*client, kDeployments, "default", "broken",
                                      sluice::kube::deploymentRollout, std::chrono::seconds(60));
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().message == "deployment \"broken\" exceeded its progress deadline");
  auto stillUnavailable =
      sluice::kube::waitFor(*client, kDeployments, "default", "broken", available, std::chrono::seconds(2));
  REQUIRE_FALSE(stillUnavailable.ok());
  CHECK_THAT(stillUnavailable.error().message, Catch::Contains("timed out waiting for deployments/broken"));
}
