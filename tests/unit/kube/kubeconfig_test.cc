// Kubeconfig and in-cluster configuration against client-go's documented loading rules (docs/design.md
// §B.2): merging KUBECONFIG, --context and --namespace, relative paths, *-data decoding, the checks
// client-go makes, and no credentials over plain http. Files live in a temporary directory per test.
#include <catch2/catch.hpp>

#include <fstream>

#include "kube/kubeconfig.h"
#include "tests/support/process.h"

using namespace sluice::kube;
using sluice::testing::TempDir;

namespace {

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// Command-line and environment values for one load; the ones not given stay empty.
KubeconfigOptions opts(std::string flag, std::string env = {}, std::string home = {},
                       std::string context = {}, std::string ns = {}) {
  KubeconfigOptions o;
  o.kubeconfigFlag = std::move(flag);
  o.kubeconfigEnv = std::move(env);
  o.home = std::move(home);
  o.context = std::move(context);
  o.ns = std::move(ns);
  return o;
}

// "hello" and "key" in base64.
constexpr const char* kHelloB64 = "aGVsbG8=";
constexpr const char* kKeyB64 = "a2V5";

const char* const kMain = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev
  cluster:
    server: https://dev.example:6443
    certificate-authority: certs/ca.crt
    tls-server-name: api.dev
- name: prod
  cluster:
    server: https://prod.example:6443
    certificate-authority-data: aGVsbG8=
users:
- name: alice
  user:
    client-certificate: certs/alice.crt
    client-key: /abs/alice.key
- name: bot
  user:
    token: 12345
    tokenFile: token.txt
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: [--cluster, prod]
      env: [{name: REGION, value: eu}]
      interactiveMode: Never
      provideClusterInfo: true
contexts:
- name: dev
  context: {cluster: dev, user: alice, namespace: team-a}
- name: prod
  context: {cluster: prod, user: plugin}
- name: bot
  context: {cluster: dev, user: bot}
)";

}  // namespace

TEST_CASE("a kubeconfig resolves its current context, relative paths and data fields", "[kube][kubeconfig]") {
  TempDir dir("kubeconfig");
  write(dir / "config", kMain);
  const std::string base = dir.path().string();

  auto dev = loadClientConfig(opts(base + "/config"));
  REQUIRE(dev.ok());
  CHECK(dev->contextName == "dev");
  CHECK(dev->server == "https://dev.example:6443");
  CHECK(dev->tlsServerName == "api.dev");
  CHECK(dev->caFile == base + "/certs/ca.crt");
  CHECK(dev->clientCertFile == base + "/certs/alice.crt");
  CHECK(dev->clientKeyFile == "/abs/alice.key");
  CHECK(dev->ns == "team-a");
  CHECK(dev->warnings.empty());

  auto prod = loadClientConfig(opts(base + "/config", "", "", "prod", "ops"));
  REQUIRE(prod.ok());
  CHECK(prod->caData == "hello");
  CHECK(prod->ns == "ops");
  REQUIRE(prod->exec.has_value());
  CHECK(prod->exec->command == base + "/bin/get-token");
  CHECK(prod->exec->args == std::vector<std::string>{"--cluster", "prod"});
  CHECK(prod->exec->env == std::vector<std::pair<std::string, std::string>>{{"REGION", "eu"}});
  CHECK(prod->exec->interactiveMode == "Never");
  CHECK(prod->exec->provideClusterInfo);

  auto bot = loadClientConfig(opts(base + "/config", "", "", "bot"));
  REQUIRE(bot.ok());
  CHECK(bot->token == "12345");  // a YAML number read as the string kubectl would take
  CHECK(bot->tokenFile == base + "/token.txt");
  CHECK(bot->ns == "default");
  // The token file wins while readable; the static token is the fallback.
  CHECK(currentBearerToken(*bot) == "12345");
  write(dir / "token.txt", "rotated-token\n");
  CHECK(currentBearerToken(*bot) == "rotated-token");
}

TEST_CASE("KUBECONFIG files merge with kubectl's rules", "[kube][kubeconfig]") {
  TempDir dir("kubeconfig-merge");
  write(dir / "a/config", R"(
clusters:
- name: shared
  cluster: {server: https://from-a:6443, certificate-authority: ca.crt}
users:
- name: u
  user: {token: from-a}
contexts:
- name: ctx
  context: {cluster: shared, user: u, namespace: a-ns}
)");
  write(dir / "b/config", R"(
current-context: ctx
clusters:
- name: shared
  cluster: {server: https://from-b:6443}
- name: only-b
  cluster: {server: https://only-b:6443, certificate-authority: ca.crt}
users:
- name: u
  user: {token: from-b}
contexts:
- name: ctx
  context: {cluster: only-b, user: u}
- name: b-ctx
  context: {cluster: only-b, user: u}
)");
  write(dir / "c/config", "current-context: b-ctx\n");
  const std::string a = (dir / "a/config").string(), b = (dir / "b/config").string(),
                    c = (dir / "c/config").string(), missing = (dir / "nope/config").string();

  struct Row {
    const char* name;
    std::string env;
    std::string context;
    std::string server, token, ns, caFile;
  };
  const Row rows[] = {
      {"the first file that defines a name wins entirely; current-context from the first that sets it",
       a + ":" + b, "", "https://from-a:6443", "from-a", "a-ns", (dir / "a/ca.crt").string()},
      {"file order decides", b + ":" + a, "", "https://only-b:6443", "from-b", "default",
       (dir / "b/ca.crt").string()},
      {"current-context from an earlier file", c + ":" + a + ":" + b, "", "https://only-b:6443", "from-a",
       "default", (dir / "b/ca.crt").string()},
      {"missing files and empty entries are skipped", missing + "::" + a + ":" + b, "", "https://from-a:6443",
       "from-a", "a-ns", (dir / "a/ca.crt").string()},
      {"--context picks a context defined in a later file", a + ":" + b, "b-ctx", "https://only-b:6443",
       "from-a", "default", (dir / "b/ca.crt").string()},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto cfg = loadClientConfig(opts("", row.env, "", row.context));
    REQUIRE(cfg.ok());
    CHECK(cfg->server == row.server);
    CHECK(cfg->token == row.token);
    CHECK(cfg->ns == row.ns);
    CHECK(cfg->caFile == row.caFile);
  }

  // --kubeconfig takes exactly one file, and a missing one is an error.
  auto only = loadClientConfig(opts(b, a));
  REQUIRE(only.ok());
  CHECK(only->token == "from-b");
  auto absent = loadClientConfig(opts(missing));
  REQUIRE_FALSE(absent.ok());
  CHECK_THAT(absent.error(), Catch::Contains(missing));
  // With neither, ~/.kube/config.
  write(dir / "home/.kube/config", R"(
current-context: h
clusters: [{name: h, cluster: {server: "home.example:443"}}]
contexts: [{name: h, context: {cluster: h}}]
)");
  auto home = loadClientConfig(opts("", "", (dir / "home").string()));
  REQUIRE(home.ok());
  CHECK(home->server == "https://home.example:443");  // no scheme: https, as kubectl assumes
  CHECK_FALSE(home->hasCredentials());
}

TEST_CASE("kubeconfig mistakes are errors naming the file and the entry", "[kube][kubeconfig]") {
  struct Row {
    const char* name;
    const char* yaml;
    const char* context;
    const char* messagePart;
  };
  const Row rows[] = {
      {"no configuration at all", "", "", "no configuration has been provided"},
      {"no current context",
       "clusters: [{name: c, cluster: {server: https://x}}]\ncontexts: [{name: x, context: {cluster: c}}]\n",
       "", "current-context is not set"},
      {"an unknown --context", "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n", "other",
       "context was not found for specified context: other"},
      {"a context naming a missing cluster",
       "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n", "",
       "names cluster \"c\", which is not defined"},
      {"a cluster without a server",
       "current-context: x\nclusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: "
       "c}}]\n",
       "", "no server found for cluster \"c\""},
      {"a CA with insecure-skip-tls-verify",
       "current-context: x\nclusters: [{name: c, cluster: {server: https://s, insecure-skip-tls-verify: "
       "true, "
       "certificate-authority-data: aGVsbG8=}}]\ncontexts: [{name: x, context: {cluster: c}}]\n",
       "", "specifying a root certificates file with the insecure flag is not allowed"},
      {"a context naming a missing user",
       "current-context: x\nclusters: [{name: c, cluster: {server: https://s}}]\ncontexts: [{name: x, "
       "context: "
       "{cluster: c, user: u}}]\n",
       "", "names user \"u\", which is not defined"},
      {"a certificate without a key",
       "current-context: x\nclusters: [{name: c, cluster: {server: https://s}}]\nusers: [{name: u, user: "
       "{client-certificate-data: aGVsbG8=}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n",
       "", "client-key-data or client-key must be specified for \"u\""},
      {"a token and basic auth",
       "current-context: x\nclusters: [{name: c, cluster: {server: https://s}}]\nusers: [{name: u, user: "
       "{token: t, "
       "username: a, password: b}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n",
       "", "more than one authentication method found for \"u\""},
      {"an exec v1 entry without interactiveMode",
       "current-context: x\nclusters: [{name: c, cluster: {server: https://s}}]\nusers: [{name: u, user: "
       "{exec: "
       "{apiVersion: client.authentication.k8s.io/v1, command: get-token}}}]\ncontexts: [{name: x, context: "
       "{cluster: c, user: u}}]\n",
       "", "interactiveMode must be specified for \"u\" to use exec authentication plugin"},
      {"an exec entry without a command",
       "current-context: x\nclusters: [{name: c, cluster: {server: https://s}}]\nusers: [{name: u, user: "
       "{exec: "
       "{apiVersion: client.authentication.k8s.io/v1beta1}}}]\ncontexts: [{name: x, context: {cluster: c, "
       "user: "
       "u}}]\n",
       "", "command must be specified"},
      {"impersonated groups without a user",
       "current-context: x\nclusters: [{name: c, cluster: {server: https://s}}]\nusers: [{name: u, user: "
       "{token: t, as-groups: [devs]}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n",
       "", "user \"u\": as-groups and as-uid need as"},
      {"as-groups that is not a list", "users: [{name: u, user: {as: alice, as-groups: devs}}]\n", "",
       "users[u].user.as-groups: must be a list"},
      {"bad base64", "users: [{name: u, user: {client-key-data: '!!!'}}]\n", "",
       "users[u].user.client-key-data: invalid base64"},
      {"an entry without a name", "clusters: [{cluster: {server: https://s}}]\n", "",
       "clusters[0].name: Required value"},
      {"a list that is not a list", "users: {u: {}}\n", "", "users: must be a list"},
      {"a document that is not a mapping", "- a\n- b\n", "", "not a kubeconfig"},
      {"malformed YAML", "clusters: [\n", "", "config"},
  };
  TempDir dir("kubeconfig-bad");
  int i = 0;
  for (const auto& row : rows) {
    INFO(row.name);
    const auto path = dir / ("config-" + std::to_string(i++));
    write(path, row.yaml);
    auto cfg = loadClientConfig(opts(path.string(), "", "", row.context));
    REQUIRE_FALSE(cfg.ok());
    CHECK_THAT(cfg.error(), Catch::Contains(row.messagePart));
  }
}

TEST_CASE("no credentials are used over plain http, as kubectl", "[kube][kubeconfig]") {
  TempDir dir("kubeconfig-http");
  write(dir / "config", std::string(R"(
current-context: x
clusters: [{name: c, cluster: {server: "http://127.0.0.1:8080"}}]
users: [{name: u, user: {token: secret, client-certificate-data: )") +
                            kHelloB64 + ", client-key-data: " + kKeyB64 + R"(}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)");
  auto cfg = loadClientConfig(opts((dir / "config").string()));
  REQUIRE(cfg.ok());
  CHECK_FALSE(cfg->hasCredentials());
  CHECK(cfg->token.empty());
  CHECK(cfg->clientKeyData.empty());
  REQUIRE(cfg->warnings.size() == 1);
  CHECK_THAT(cfg->warnings[0], Catch::Contains("plain http"));

  // The same user over https keeps them.
  write(dir / "tls", std::string(R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://127.0.0.1:8443"}}]
users: [{name: u, user: {token: secret, client-certificate-data: )") +
                         kHelloB64 + ", client-key-data: " + kKeyB64 + R"(}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)");
  auto tls = loadClientConfig(opts((dir / "tls").string()));
  REQUIRE(tls.ok());
  CHECK(tls->token == "secret");
  CHECK(tls->clientCertData == "hello");
  CHECK(tls->clientKeyData == "key");
}

TEST_CASE("in-cluster configuration from the service account directory", "[kube][kubeconfig]") {
  TempDir dir("incluster");
  write(dir / "sa/token", "eyJ-token\n");
  write(dir / "sa/ca.crt", "-----BEGIN CERTIFICATE-----\n");
  write(dir / "sa/namespace", "payments\n");
  InClusterOptions o;
  o.serviceHost = "10.0.0.1";
  o.servicePort = "443";
  o.serviceAccountDir = (dir / "sa").string();

  auto cfg = inClusterConfig(o);
  REQUIRE(cfg.ok());
  CHECK(cfg->server == "https://10.0.0.1:443");
  CHECK(cfg->token == "eyJ-token");
  CHECK(cfg->tokenFile == (dir / "sa/token").string());
  CHECK(cfg->caFile == (dir / "sa/ca.crt").string());
  CHECK(cfg->ns == "payments");

  o.podNamespace = "from-env";
  o.serviceHost = "fd00::1";
  auto v6 = inClusterConfig(o);
  REQUIRE(v6.ok());
  CHECK(v6->server == "https://[fd00::1]:443");
  CHECK(v6->ns == "from-env");

  std::filesystem::remove(dir / "sa/namespace");
  o.podNamespace.clear();
  auto fallback = inClusterConfig(o);
  REQUIRE(fallback.ok());
  CHECK(fallback->ns == "default");

  o.servicePort.clear();
  auto noEnv = inClusterConfig(o);
  REQUIRE_FALSE(noEnv.ok());
  CHECK_THAT(noEnv.error(),
             Catch::Contains("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"));

  o.servicePort = "443";
  std::filesystem::remove(dir / "sa/token");
  auto noToken = inClusterConfig(o);
  REQUIRE_FALSE(noToken.ok());
  CHECK_THAT(noToken.error(), Catch::Contains("sa/token"));
}

TEST_CASE("exec plugin output is checked as client-go checks it", "[kube][kubeconfig]") {
  constexpr const char* kV1 = "client.authentication.k8s.io/v1";
  auto token = parseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
          "status":{"token":"abc","expirationTimestamp":"2026-11-28T03:00:00Z"}})",
      kV1);
  REQUIRE(token.ok());
  CHECK(token->token == "abc");
  REQUIRE(token->expirationTimestamp.has_value());
  CHECK(sluice::formatRfc3339(*token->expirationTimestamp) == "2026-11-28T03:00:00Z");

  auto pair = parseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"-----BEGIN CERTIFICATE-----","clientKeyData":"-----BEGIN KEY-----"}})",
      kV1);
  REQUIRE(pair.ok());
  CHECK(pair->clientKeyData == "-----BEGIN KEY-----");
  CHECK_FALSE(pair->expirationTimestamp.has_value());

  const std::pair<const char*, const char*> bad[] = {
      {"not json", "decoding stdout"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"t"}})",
       "exec plugin is configured to use API version client.authentication.k8s.io/v1, plugin returned "
       "version "
       "client.authentication.k8s.io/v1beta1"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1"})", "exec plugin didn't return a status field"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1","status":{}})",
       "exec plugin didn't return a token or cert/key pair"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"c"}})",
       "exec plugin returned only certificate or key, not both"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t","expirationTimestamp":"soon"}})",
       "invalid expirationTimestamp"},
  };
  for (const auto& [out, part] : bad) {
    INFO(out);
    auto cred = parseExecCredential(out, kV1);
    REQUIRE_FALSE(cred.ok());
    CHECK_THAT(cred.error(), Catch::Contains(part));
  }
}

TEST_CASE("a kubeconfig user's as and as-groups and as-uid become the client's impersonation",
          "[kube][kubeconfig]") {
  TempDir dir("kubeconfig-as");
  write(dir / "config", R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://127.0.0.1:8443"}}]
users:
- name: u
  user:
    token: secret
    as: system:serviceaccount:team-a:deployer
    as-groups: [auditors, system:authenticated]
    as-uid: "1234"
- name: plain
  user: {token: secret}
contexts:
- {name: x, context: {cluster: c, user: u}}
- {name: y, context: {cluster: c, user: plain}}
)");
  auto cfg = loadClientConfig(opts((dir / "config").string()));
  REQUIRE(cfg.ok());
  CHECK(cfg->token == "secret");  // the credentials stay the user's own
  CHECK(cfg->impersonate.user == "system:serviceaccount:team-a:deployer");
  CHECK(cfg->impersonate.groups == std::vector<std::string>{"auditors", "system:authenticated"});
  CHECK(cfg->impersonate.uid == "1234");
  auto plain = loadClientConfig(opts((dir / "config").string(), "", "", "y"));
  REQUIRE(plain.ok());
  CHECK(plain->impersonate.empty());
}
