// The client acting as another user: the Impersonate-User / Impersonate-Group / Impersonate-Uid headers
// it sends (seen by a scripted loopback peer), a derived client sharing its parent's rate limit and
// request observer, kubeconfig's `as` / `as-groups`, and the embedded API server (standing in for
// kube-apiserver's RBAC) authorizing the impersonated requests.
#include <atomic>
#include <catch2/catch.hpp>
#include <cctype>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "kube/client.h"
#include "tests/integration/kube_client_env.h"
#include "tests/support/http_peer.h"

using nlohmann::json;
using sluice::kube::Client;
using sluice::kube::ClientConfig;
using sluice::kube::Impersonation;
using sluice::testing::HttpPeer;
using sluice::testing::kConfigMaps;
using sluice::testing::KubeServer;
using sluice::testing::PeerReply;
using sluice::testing::PeerRequest;

namespace {

std::vector<std::string> impersonationHeaders(const PeerRequest& r, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : r.headers) {
    std::string lower = k;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string want = name;
    for (auto& c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == want) out.push_back(v);
  }
  return out;
}

}  // namespace

TEST_CASE("kube client fake server: an impersonating client sends Impersonate-User and -Group headers",
          "[kube-client][impersonation]") {
  HttpPeer peer([](const PeerRequest&) {
    PeerReply r;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"team-a"}})";
    return r;
  });
  ClientConfig config;
  config.server = peer.url();
  std::atomic<int> observed{0};
  sluice::kube::ClientOptions options;
  options.onRequest = [&observed](const sluice::kube::RequestRecord&) { ++observed; };
  auto created = Client::create(config, options);
  REQUIRE(created.ok());
  auto& base = **created;
  auto tenant = base.impersonating(
      Impersonation{"system:serviceaccount:team-a:deployer", {"auditors", "system:authenticated"}, "uid-1"});
  CHECK(tenant->config().impersonate.user == "system:serviceaccount:team-a:deployer");
  CHECK(base.config().impersonate.empty());

  REQUIRE(tenant->get(kConfigMaps, "team-a", "a").ok());
  REQUIRE(tenant->patch(kConfigMaps, "team-a", "a", sluice::kube::PatchType::kMerge, json::object()).ok());
  REQUIRE(base.get(kConfigMaps, "team-a", "a").ok());
  // Destroyed first, the parent still works; a derived client outlives nothing it needs.
  tenant.reset();
  REQUIRE(base.get(kConfigMaps, "team-a", "a").ok());

  auto requests = peer.requests();
  REQUIRE(requests.size() == 4);
  for (int i : {0, 1}) {
    INFO("request " << i << ": " << requests[i].method);
    CHECK(impersonationHeaders(requests[i], "Impersonate-User") ==
          std::vector<std::string>{"system:serviceaccount:team-a:deployer"});
    CHECK(impersonationHeaders(requests[i], "Impersonate-Group") ==
          std::vector<std::string>{"auditors", "system:authenticated"});
    CHECK(impersonationHeaders(requests[i], "Impersonate-Uid") == std::vector<std::string>{"uid-1"});
  }
  for (int i : {2, 3}) {
    CHECK(impersonationHeaders(requests[i], "Impersonate-User").empty());
    CHECK(impersonationHeaders(requests[i], "Impersonate-Group").empty());
  }
  // The derived client's requests went through the parent's observer.
  CHECK(observed == 4);
}

TEST_CASE("kube client: kubeconfig as and as-groups impersonate on every request",
          "[kube-client][impersonation]") {
  KubeServer server;
  auto admin = server.client();
  REQUIRE(
      admin->create(kConfigMaps, "default", {{"metadata", {{"name", "settings"}}}, {"data", {{"k", "v"}}}})
          .ok());
  // A kubeconfig of the same cluster whose user acts as alice in group readers.
  const auto path = server.dir() / "as-kubeconfig";
  std::string text;
  {
    std::ifstream in(server.server().kubeconfigPath());
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto users = text.find("token:");
  REQUIRE(users != std::string::npos);
  const auto indent = text.rfind('\n', users);
  const std::string pad = text.substr(indent + 1, users - indent - 1);
  text.insert(users, "as: alice\n" + pad + "as-groups: [readers]\n" + pad);
  {
    std::ofstream out(path);
    out << text;
  }
  sluice::kube::KubeconfigOptions o;
  o.kubeconfigFlag = path.string();
  auto config = sluice::kube::loadClientConfig(o);
  INFO((config ? text : config.error()));
  REQUIRE(config.ok());
  CHECK(config->impersonate.user == "alice");
  CHECK(config->impersonate.groups == std::vector<std::string>{"readers"});
  auto alice = Client::create(*config);
  REQUIRE(alice.ok());

  auto denied = (*alice)->get(kConfigMaps, "default", "settings");
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.error().isForbidden());
  CHECK(
      denied.error().message ==
      "configmaps \"settings\" is forbidden: User \"alice\" cannot get resource \"configmaps\" in API group "
      "\"\" in the namespace \"default\"");

  const sluice::kube::ResourceRef roles{"rbac.authorization.k8s.io", "v1", "roles", true, "Role"};
  const sluice::kube::ResourceRef bindings{"rbac.authorization.k8s.io", "v1", "rolebindings", true,
                                           "RoleBinding"};
  REQUIRE(admin
              ->create(roles, "default", json::parse(R"({"metadata":{"name":"cm-reader"},
                         "rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]})"))
              .ok());
  REQUIRE(admin
              ->create(bindings, "default", json::parse(R"({"metadata":{"name":"readers"},
                         "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"cm-reader"},
                         "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"readers"}]})"))
              .ok());
  auto allowed = (*alice)->get(kConfigMaps, "default", "settings");
  INFO((allowed ? std::string() : allowed.error().describe()));
  CHECK(allowed.ok());
  // The same client without the impersonation: the admin token's own access.
  auto asItself = (*alice)->impersonating({});
  CHECK(asItself->list(kConfigMaps, "default").ok());
  CHECK_FALSE((*alice)->list(kConfigMaps, "default").ok());
}
