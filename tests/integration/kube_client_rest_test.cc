// The Sluice REST client against our embedded API server over HTTPS: CRUD, each error kind, pagination,
// selectors, patches, dry-run, discovery, and credentials (token, token file rotation, exec plugin,
// in-cluster files, refusal over plain http).
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "kube/apiserver/server.h"
#include "kube/client.h"
#include "tests/integration/kube_client_env.h"
#include "tests/support/process.h"

using nlohmann::json;
using sluice::kube::ApiErrorKind;
using sluice::kube::Client;
using sluice::kube::ClientConfig;
using sluice::kube::DeleteOptions;
using sluice::kube::ListOptions;
using sluice::kube::PatchType;
using sluice::kube::WriteOptions;
using sluice::testing::kConfigMaps;
using sluice::testing::kDeployments;
using sluice::testing::KubeServer;

namespace {

json labelledConfigMap(const std::string& name, const json& labels = json::object(),
                       const json& data = {{"k", "v"}}) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}},
          {"data", data}};
}

json restDeployment(const std::string& name) {
  json labels = {{"app", name}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"replicas", 1},
            {"selector", {{"matchLabels", labels}}},
            {"template",
             {{"metadata", {{"labels", labels}}},
              {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "nginx:1.25"}}})}}}}}}}};
}

std::unique_ptr<Client> mustClient(ClientConfig config) {
  auto c = Client::create(std::move(config));
  INFO((c ? std::string() : c.error()));
  REQUIRE(c.ok());
  return std::move(c).value();
}

void writeFile(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace

TEST_CASE("kube client: create, get, update, status, delete of real objects", "[kube-client]") {
  KubeServer server;
  auto client = mustClient(server.config());

  auto created = client->create(kConfigMaps, "", labelledConfigMap("crud", {{"tier", "web"}}));
  INFO((created ? std::string() : created.error().describe()));
  REQUIRE(created.ok());
  CHECK_FALSE((*created)["metadata"]["uid"].get<std::string>().empty());

  auto got = client->get(kConfigMaps, "default", "crud");
  REQUIRE(got.ok());
  CHECK((*got)["data"]["k"] == "v");

  json changed = *got;
  changed["data"]["k"] = "w";
  auto updated = client->update(kConfigMaps, changed);
  REQUIRE(updated.ok());
  CHECK((*updated)["data"]["k"] == "w");
  CHECK((*updated)["metadata"]["resourceVersion"] != (*got)["metadata"]["resourceVersion"]);

  // The status subresource writes status only; the main endpoint ignores it.
  auto dep = client->create(kDeployments, "default", restDeployment("web"));
  INFO((dep ? std::string() : dep.error().describe()));
  REQUIRE(dep.ok());
  json withStatus = *dep;
  withStatus["status"] = {{"observedGeneration", 7}};
  withStatus["spec"]["replicas"] = 5;
  auto st = client->updateStatus(kDeployments, withStatus);
  INFO((st ? std::string() : st.error().describe()));
  REQUIRE(st.ok());
  CHECK((*st)["status"]["observedGeneration"] == 7);
  CHECK((*st)["spec"]["replicas"] == 1);

  auto removed = client->remove(kConfigMaps, "default", "crud");
  REQUIRE(removed.ok());
  auto gone = client->get(kConfigMaps, "default", "crud");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().isNotFound());
}

TEST_CASE("kube client: each server error comes back typed with its Status", "[kube-client]") {
  KubeServer server;
  auto client = mustClient(server.config());

  auto missing = client->get(kConfigMaps, "default", "nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().isNotFound());
  CHECK(missing.error().code == 404);
  CHECK(missing.error().message == "configmaps \"nope\" not found");
  CHECK(missing.error().details["name"] == "nope");
  CHECK_FALSE(missing.error().isConflict());

  REQUIRE(client->create(kConfigMaps, "default", labelledConfigMap("dup")).ok());
  auto dup = client->create(kConfigMaps, "default", labelledConfigMap("dup"));
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().isAlreadyExists());
  CHECK_FALSE(dup.error().isConflict());

  auto first = client->get(kConfigMaps, "default", "dup");
  REQUIRE(first.ok());
  json a = *first;
  a["data"]["k"] = "a";
  REQUIRE(client->update(kConfigMaps, a).ok());
  json stale = *first;  // still carries the old resourceVersion
  stale["data"]["k"] = "b";
  auto conflict = client->update(kConfigMaps, stale);
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.error().isConflict());
  CHECK(conflict.error().code == 409);

  auto invalid = client->create(kConfigMaps, "default", labelledConfigMap("Bad_Name"));
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().isInvalid());
  CHECK(invalid.error().message.find("Bad_Name") != std::string::npos);

  ClientConfig wrong = server.config();
  wrong.token = "not-the-token";
  auto unauth = mustClient(wrong)->get(kConfigMaps, "default", "dup");
  REQUIRE_FALSE(unauth.ok());
  CHECK(unauth.error().isUnauthorized());
  CHECK_FALSE(unauth.error().isForbidden());

  // Nothing listens on a fresh free port: a transport failure, not a Status.
  ClientConfig nowhere = server.config();
  nowhere.server = "https://127.0.0.1:" + std::to_string(sluice::testing::freeLoopbackPort());
  auto unreachable = mustClient(nowhere)->list(kConfigMaps, "default");
  REQUIRE_FALSE(unreachable.ok());
  CHECK(unreachable.error().isTransport());
  CHECK_FALSE(unreachable.error().isNotFound());
}

TEST_CASE("kube client: pagination, listAll and selectors", "[kube-client]") {
  KubeServer server;
  auto client = mustClient(server.config());
  for (int i = 0; i < 7; ++i) {
    json labels = {{"parity", i % 2 == 0 ? "even" : "odd"}};
    REQUIRE(
        client->create(kConfigMaps, "default", labelledConfigMap("cm-" + std::to_string(i), labels)).ok());
  }
  ListOptions paged;
  paged.limit = 3;
  auto page1 = client->list(kConfigMaps, "default", paged);
  REQUIRE(page1.ok());
  CHECK((*page1)["items"].size() == 3);
  REQUIRE_FALSE((*page1)["metadata"].value("continue", "").empty());

  auto all = client->listAll(kConfigMaps, "default", paged);
  REQUIRE(all.ok());
  std::set<std::string> names;
  for (const auto& item : (*all)["items"]) names.insert(item["metadata"]["name"].get<std::string>());
  // kube-root-ca.crt may exist in the namespace; ours must all be there exactly once.
  for (int i = 0; i < 7; ++i) CHECK(names.count("cm-" + std::to_string(i)) == 1);
  CHECK((*all)["items"].size() == names.size());

  ListOptions even;
  even.labelSelector = "parity=even";
  auto evens = client->listAll(kConfigMaps, "default", even);
  REQUIRE(evens.ok());
  CHECK((*evens)["items"].size() == 4);

  ListOptions byName;
  byName.fieldSelector = "metadata.name=cm-5";
  auto one = client->list(kConfigMaps, "default", byName);
  REQUIRE(one.ok());
  REQUIRE((*one)["items"].size() == 1);
  CHECK((*one)["items"][0]["metadata"]["labels"]["parity"] == "odd");

  ListOptions bad;
  bad.labelSelector = "a in (";
  auto badSel = client->list(kConfigMaps, "default", bad);
  REQUIRE_FALSE(badSel.ok());
  CHECK(badSel.error().code == 400);
}

TEST_CASE("kube client: merge, JSON and strategic patches, dry-run writes nothing", "[kube-client]") {
  KubeServer server;
  auto client = mustClient(server.config());
  REQUIRE(
      client->create(kConfigMaps, "default", labelledConfigMap("p", json::object(), {{"a", "1"}, {"b", "2"}}))
          .ok());

  auto merged =
      client->patch(kConfigMaps, "default", "p", PatchType::kMerge, {{"data", {{"a", "x"}, {"b", nullptr}}}});
  REQUIRE(merged.ok());
  CHECK((*merged)["data"] == json({{"a", "x"}}));

  auto jp = client->patch(kConfigMaps, "default", "p", PatchType::kJson,
                          json::array({{{"op", "add"}, {"path", "/data/c"}, {"value", "3"}}}));
  REQUIRE(jp.ok());
  CHECK((*jp)["data"]["c"] == "3");

  auto failedTest = client->patch(kConfigMaps, "default", "p", PatchType::kJson,
                                  json::array({{{"op", "test"}, {"path", "/data/a"}, {"value", "nope"}}}));
  REQUIRE_FALSE(failedTest.ok());
  CHECK(failedTest.error().kind == ApiErrorKind::kStatus);

  REQUIRE(client->create(kDeployments, "default", restDeployment("sm")).ok());
  json containers = json::array({{{"name", "side"}, {"image", "busybox"}}});
  auto sm = client->patch(kDeployments, "default", "sm", PatchType::kStrategic,
                          {{"spec", {{"template", {{"spec", {{"containers", containers}}}}}}}});
  REQUIRE(sm.ok());
  // Strategic merge keys containers by name: the new one joins the old one.
  CHECK((*sm)["spec"]["template"]["spec"]["containers"].size() == 2);

  WriteOptions dry;
  dry.dryRun = true;
  auto dryCreate = client->create(kConfigMaps, "default", labelledConfigMap("dry"), dry);
  REQUIRE(dryCreate.ok());
  CHECK((*dryCreate)["metadata"]["name"] == "dry");
  CHECK(client->get(kConfigMaps, "default", "dry").error().isNotFound());

  auto dryPatch =
      client->patch(kConfigMaps, "default", "p", PatchType::kMerge, {{"data", {{"a", "dry"}}}}, dry);
  REQUIRE(dryPatch.ok());
  CHECK((*dryPatch)["data"]["a"] == "dry");
  CHECK((*client->get(kConfigMaps, "default", "p"))["data"]["a"] == "x");

  DeleteOptions dryDelete;
  dryDelete.dryRun = true;
  REQUIRE(client->remove(kConfigMaps, "default", "p", dryDelete).ok());
  CHECK(client->get(kConfigMaps, "default", "p").ok());

  DeleteOptions wrongUid;
  wrongUid.preconditionUid = "not-the-uid";
  auto pre = client->remove(kConfigMaps, "default", "p", wrongUid);
  REQUIRE_FALSE(pre.ok());
  CHECK(pre.error().isConflict());
  CHECK(client->get(kConfigMaps, "default", "p").ok());
}

TEST_CASE("kube client: discovery maps kinds to resources", "[kube-client]") {
  KubeServer server;
  auto client = mustClient(server.config());
  auto dep = client->resourceFor("apps/v1", "Deployment");
  REQUIRE(dep.ok());
  CHECK(dep->resource == "deployments");
  CHECK(dep->namespaced);
  auto ns = client->resourceFor("v1", "Namespace");
  REQUIRE(ns.ok());
  CHECK(ns->resource == "namespaces");
  CHECK_FALSE(ns->namespaced);
  auto none = client->resourceFor("v1", "Rollout");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message.find("Rollout") != std::string::npos);
}

TEST_CASE("kube client: credentials are never sent over plain http", "[kube-client]") {
  ClientConfig config;
  config.server = "http://127.0.0.1:1";
  config.token = "secret";
  auto c = Client::create(config);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().find("http://") != std::string::npos);
  config.token.clear();
  CHECK(Client::create(config).ok());
}

TEST_CASE("kube client: a rotated token file is read again", "[kube-client]") {
  KubeServer server;
  ClientConfig config = server.config();
  std::filesystem::path tokenFile = server.dir() / "token-file";
  writeFile(tokenFile, "stale-token\n");
  config.token.clear();
  config.tokenFile = tokenFile.string();
  auto client = mustClient(config);
  auto before = client->list(kConfigMaps, "default");
  REQUIRE_FALSE(before.ok());
  CHECK(before.error().isUnauthorized());
  writeFile(tokenFile, server.server().token() + "\n");
  auto after = client->list(kConfigMaps, "default");
  INFO((after ? std::string() : after.error().describe()));
  CHECK(after.ok());
}

TEST_CASE("kube client: exec plugin credential cached until it expires, re-run on 401", "[kube-client]") {
  KubeServer server;
  std::filesystem::path count = server.dir() / "runs";
  std::filesystem::path tokens = server.dir() / "tokens";  // one token per line, the next run takes the next
  std::filesystem::path script = server.dir() / "plugin.sh";
  writeFile(script,
            "#!/bin/sh\n"
            "echo \"$KUBERNETES_EXEC_INFO\" >> '" +
                count.string() +
                "'\n"
                "n=$(wc -l < '" +
                count.string() +
                "')\n"
                "tok=$(sed -n \"${n}p\" '" +
                tokens.string() +
                "')\n"
                "[ -z \"$tok\" ] && tok=$(tail -n 1 '" +
                tokens.string() +
                "')\n"
                "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
                "\"status\":{\"token\":\"%s\",\"expirationTimestamp\":\"%s\"}}' \"$tok\" \"$EXPIRY\"\n");
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  auto runs = [&] {
    std::ifstream in(count);
    return static_cast<int>(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
  };
  auto execConfig = [&](const std::string& expiry) {
    ClientConfig config = server.config();
    config.token.clear();
    sluice::kube::ExecConfig exec;
    exec.apiVersion = "client.authentication.k8s.io/v1";
    exec.command = script.string();
    exec.interactiveMode = "Never";
    exec.env = {{"EXPIRY", expiry}};
    config.exec = exec;
    return config;
  };

  SECTION("a credential that has not expired is reused") {
    writeFile(tokens, server.server().token() + "\n");
    auto client = mustClient(execConfig("2999-01-01T00:00:00Z"));
    for (int i = 0; i < 3; ++i) REQUIRE(client->list(kConfigMaps, "default").ok());
    CHECK(runs() == 1);
    std::ifstream in(count);
    std::string info;
    std::getline(in, info);
    json parsed = json::parse(info, nullptr, false);
    CHECK(parsed["apiVersion"] == "client.authentication.k8s.io/v1");
    CHECK(parsed["spec"]["interactive"] == false);
  }
  SECTION("an expired credential makes the plugin run again") {
    writeFile(tokens, server.server().token() + "\n");
    auto client = mustClient(execConfig("2001-01-01T00:00:00Z"));
    for (int i = 0; i < 3; ++i) REQUIRE(client->list(kConfigMaps, "default").ok());
    CHECK(runs() == 3);
  }
  SECTION("a rejected credential is replaced by a fresh run") {
    writeFile(tokens, "revoked\n" + server.server().token() + "\n");
    auto client = mustClient(execConfig("2999-01-01T00:00:00Z"));
    auto r = client->list(kConfigMaps, "default");
    INFO((r ? std::string() : r.error().describe()));
    REQUIRE(r.ok());
    CHECK(runs() == 2);
    REQUIRE(client->list(kConfigMaps, "default").ok());
    CHECK(runs() == 2);
  }
  SECTION("a failing plugin is a client error naming it") {
    writeFile(script, "#!/bin/sh\nexit 3\n");
    auto client = mustClient(execConfig("2999-01-01T00:00:00Z"));
    auto r = client->list(kConfigMaps, "default");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ApiErrorKind::kClient);
    CHECK(r.error().message.find("plugin.sh") != std::string::npos);
    CHECK(r.error().message.find("exited with status 3") != std::string::npos);
  }
}

TEST_CASE("kube client: in-cluster configuration from service account files", "[kube-client]") {
  KubeServer server;
  std::filesystem::path sa = server.dir() / "serviceaccount";
  std::filesystem::create_directories(sa);
  writeFile(sa / "token", server.server().token());
  writeFile(sa / "ca.crt", server.server().caPem());
  writeFile(sa / "namespace", "kube-system");
  sluice::kube::InClusterOptions options;
  options.serviceHost = "127.0.0.1";
  options.servicePort = std::to_string(server.server().port());
  options.serviceAccountDir = sa.string();
  auto config = sluice::kube::inClusterConfig(options);
  INFO((config ? std::string() : config.error()));
  REQUIRE(config.ok());
  CHECK(config->ns == "kube-system");
  auto client = mustClient(*config);
  // The namespace defaults to the service account's: the object lands in kube-system.
  json cm = labelledConfigMap("in-cluster");
  cm["metadata"].erase("namespace");
  auto created = client->create(kConfigMaps, "", cm);
  INFO((created ? std::string() : created.error().describe()));
  REQUIRE(created.ok());
  CHECK((*created)["metadata"]["namespace"] == "kube-system");
}
