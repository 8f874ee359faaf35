// The Receiver kind: its loader, the webhook path, and the checks a delivery must pass. The expected
// signatures are GitHub's documented example and HMACs computed apart from this code (Python's hmac).
#include "gitops/receiver.h"

#include <catch2/catch.hpp>
#include <cctype>
#include <map>

namespace sluice::gitops {
namespace {

using nlohmann::json;

const std::string kReceiverBody = R"({"ref":"refs/heads/main"})";

json receiverJson(const std::string& type) {
  return json::parse(R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "Receiver",
    "metadata": {"name": "hooks", "namespace": "apps"},
    "spec": {"type": ")" +
                     type + R"(", "events": ["push"], "secretRef": {"name": "hook-token"},
             "resources": [{"kind": "GitRepository", "name": "app"}]}})");
}

ReceiverSpec specOf(const std::string& type) {
  Diagnostics diags;
  auto r = parseReceiver(receiverJson(type), SourceMap(), diags);
  REQUIRE(r.has_value());
  return r->spec;
}

HeaderLookup receiverHeaders(std::map<std::string, std::string> h) {
  return [h = std::move(h)](const std::string& name) {
    for (const auto& [k, v] : h) {
      if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
            return std::tolower(a) == std::tolower(b);
          }))
        return v;
    }
    return std::string();
  };
}

}  // namespace

TEST_CASE("Receiver: the webhook path is /hook/ and the sha256 of token, name and namespace, as Flux's",
          "[unit][gitops][receiver]") {
  CHECK(webhookPath("tok3n", "hooks", "apps") ==
        "/hook/035c78022ac87207c46eb79995d3b41901da8d72c87c8ed197190208ed85de7f");
  CHECK(webhookPath("other", "hooks", "apps") != webhookPath("tok3n", "hooks", "apps"));
}

TEST_CASE("Receiver: HMAC signatures as GitHub and generic-hmac senders compute them",
          "[unit][gitops][receiver]") {
  struct Row {
    const char* name;
    std::string signature, key, body;
    bool matches;
  };
  const std::vector<Row> rows = {
      {"GitHub's documented example",
       "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
       "It's a Secret to Everybody", "Hello, World!", true},
      {"upper-case hex", "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17",
       "It's a Secret to Everybody", "Hello, World!", true},
      {"sha1", "sha1=c01ac00e3135ee47afc5ea83b7d820e3f76ce28f", "tok3n", kReceiverBody, true},
      {"sha256", "sha256=b7d1f6edf4df6a41f2b9169437b2203dc9db146f9dc132e03bee31ead31947c5", "tok3n",
       kReceiverBody, true},
      {"sha512",
       "sha512="
       "d0b5bb0b29983511e7dca394303bacfc6f4faea99ae8ed4c4c5bc75266253c9cb88248ef4a54ec27574ac0576c9eebd67bc1a"
       "21038607de897cb86c68ac0c7ec",
       "tok3n", kReceiverBody, true},
      {"another body", "sha256=b7d1f6edf4df6a41f2b9169437b2203dc9db146f9dc132e03bee31ead31947c5", "tok3n",
       R"({"ref":"refs/heads/evil"})", false},
      {"another key", "sha256=b7d1f6edf4df6a41f2b9169437b2203dc9db146f9dc132e03bee31ead31947c5", "token",
       kReceiverBody, false},
      {"a truncated signature", "sha256=b7d1f6edf4df6a41f2b9169437b2203d", "tok3n", kReceiverBody, false},
      {"the sha1 digest labelled sha256", "sha256=c01ac00e3135ee47afc5ea83b7d820e3f76ce28f", "tok3n",
       kReceiverBody, false},
      {"an unknown algorithm", "md5=b7d1f6edf4df6a41f2b9169437b2203d", "tok3n", kReceiverBody, false},
      {"no algorithm", "b7d1f6edf4df6a41f2b9169437b2203dc9db146f9dc132e03bee31ead31947c5", "tok3n",
       kReceiverBody, false},
      {"not hex", "sha256=zz", "tok3n", kReceiverBody, false},
      {"empty", "", "tok3n", kReceiverBody, false},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    CHECK(hmacSignatureMatches(row.signature, row.key, row.body) == row.matches);
  }
}

TEST_CASE("Receiver: a delivery is verified by its type's header, and only listed events reconcile",
          "[unit][gitops][receiver]") {
  const std::string good256 = "sha256=b7d1f6edf4df6a41f2b9169437b2203dc9db146f9dc132e03bee31ead31947c5";
  struct Row {
    const char* name;
    std::string type;
    std::map<std::string, std::string> headers;
    DeliveryVerdict::Kind want;
  };
  const std::vector<Row> rows = {
      {"github push, signed",
       "github",
       {{"X-Hub-Signature-256", good256}, {"X-GitHub-Event", "push"}},
       DeliveryVerdict::Kind::Reconcile},
      {"github header names in any case",
       "github",
       {{"x-hub-signature-256", good256}, {"x-github-event", "push"}},
       DeliveryVerdict::Kind::Reconcile},
      {"github ping, signed: answered, nothing done",
       "github",
       {{"X-Hub-Signature-256", good256}, {"X-GitHub-Event", "ping"}},
       DeliveryVerdict::Kind::Acknowledge},
      {"github release, not in spec.events",
       "github",
       {{"X-Hub-Signature-256", good256}, {"X-GitHub-Event", "release"}},
       DeliveryVerdict::Kind::NotAccepted},
      {"github without a signature",
       "github",
       {{"X-GitHub-Event", "push"}},
       DeliveryVerdict::Kind::Unauthorized},
      {"github ping without a signature",
       "github",
       {{"X-GitHub-Event", "ping"}},
       DeliveryVerdict::Kind::Unauthorized},
      {"github signed with another token",
       "github",
       {{"X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
        {"X-GitHub-Event", "push"}},
       DeliveryVerdict::Kind::Unauthorized},
      {"github's sha1 header when it is the only one",
       "github",
       {{"X-Hub-Signature", "sha1=c01ac00e3135ee47afc5ea83b7d820e3f76ce28f"}, {"X-GitHub-Event", "push"}},
       DeliveryVerdict::Kind::Reconcile},
      {"github: a sha1 digest in the sha256 header",
       "github",
       {{"X-Hub-Signature-256", "sha1=c01ac00e3135ee47afc5ea83b7d820e3f76ce28f"}, {"X-GitHub-Event", "push"}},
       DeliveryVerdict::Kind::Unauthorized},
      {"gitlab, the token",
       "gitlab",
       {{"X-Gitlab-Token", "tok3n"}, {"X-Gitlab-Event", "push"}},
       DeliveryVerdict::Kind::Reconcile},
      {"gitlab, another token",
       "gitlab",
       {{"X-Gitlab-Token", "tok3m"}, {"X-Gitlab-Event", "push"}},
       DeliveryVerdict::Kind::Unauthorized},
      {"gitlab, a prefix of the token",
       "gitlab",
       {{"X-Gitlab-Token", "tok"}, {"X-Gitlab-Event", "push"}},
       DeliveryVerdict::Kind::Unauthorized},
      {"gitlab, no token", "gitlab", {{"X-Gitlab-Event", "push"}}, DeliveryVerdict::Kind::Unauthorized},
      {"gitlab, an event not listed",
       "gitlab",
       {{"X-Gitlab-Token", "tok3n"}, {"X-Gitlab-Event", "Tag Push Hook"}},
       DeliveryVerdict::Kind::NotAccepted},
      {"generic: the path alone", "generic", {}, DeliveryVerdict::Kind::Reconcile},
      {"generic-hmac sha256", "generic-hmac", {{"X-Signature", good256}}, DeliveryVerdict::Kind::Reconcile},
      {"generic-hmac sha512",
       "generic-hmac",
       {{"X-Signature",
         "sha512="
         "d0b5bb0b29983511e7dca394303bacfc6f4faea99ae8ed4c4c5bc75266253c9cb88248ef4a54ec27574ac0576c9eebd67bc"
         "1a21038607de897cb86c68ac0c7ec"}},
       DeliveryVerdict::Kind::Reconcile},
      {"generic-hmac, no signature", "generic-hmac", {}, DeliveryVerdict::Kind::Unauthorized},
      {"generic-hmac, a wrong signature",
       "generic-hmac",
       {{"X-Signature", "sha256=0000000000000000000000000000000000000000000000000000000000000000"}},
       DeliveryVerdict::Kind::Unauthorized},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    const auto v = verifyDelivery(specOf(row.type), "tok3n", receiverHeaders(row.headers), kReceiverBody);
    CHECK(v.kind == row.want);
    CHECK(v.message.find("tok3n") == std::string::npos);
  }
}

TEST_CASE("Receiver: the loader reads Flux's manifests and names each bad field",
          "[unit][gitops][receiver]") {
  json flux = receiverJson("github");
  flux["apiVersion"] = "notification.toolkit.fluxcd.io/v1";
  flux["spec"]["interval"] = "1h";
  flux["spec"]["resources"].push_back({{"apiVersion", "sluice.dev/v1alpha1"},
                                       {"kind", "Kustomization"},
                                       {"name", "*"},
                                       {"namespace", "infra"},
                                       {"matchLabels", {{"team", "a"}}}});
  Diagnostics diags;
  auto r = parseReceiver(flux, SourceMap(), diags);
  REQUIRE(r.has_value());
  CHECK(r->spec.type == ReceiverType::GitHub);
  CHECK(r->spec.interval == std::chrono::hours(1));
  CHECK(r->spec.secretRefName == "hook-token");
  REQUIRE(r->spec.resources.size() == 2);
  CHECK(r->spec.resources[0].ns.empty());
  CHECK(r->spec.resources[1].ns == "infra");
  CHECK(r->spec.resources[1].matchLabels.at("team") == "a");

  struct Row {
    const char* name;
    const char* pointer;
    json value;
    const char* path;
  };
  const std::vector<Row> rows = {
      {"an unknown type", "/spec/type", "bitbucket", "spec.type"},
      {"a kind Sluice does not reconcile", "/spec/resources/0/kind", "HelmRelease", "spec.resources[0].kind"},
      {"no secretRef name", "/spec/secretRef", json::object(), "spec.secretRef.name"},
      {"a bad interval", "/spec/interval", "soon", "spec.interval"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    json bad = receiverJson("github");
    bad[json::json_pointer(row.pointer)] = row.value;
    Diagnostics d;
    CHECK_FALSE(parseReceiver(bad, SourceMap(), d).has_value());
    bool named = false;
    for (const auto& item : d.items())
      named = named || (item.severity == Severity::Error && item.path == row.path);
    CHECK(named);
  }
}

TEST_CASE("Receiver: the token is the Secret's token key, and its absence says what to do",
          "[unit][gitops][receiver]") {
  CHECK(tokenFromSecret(json{{"data", {{"token", "dG9rM24="}}}}).value() == "tok3n");
  CHECK(tokenFromSecret(json{{"stringData", {{"token", "tok3n"}}}}).value() == "tok3n");
  auto missing = tokenFromSecret(json{{"data", {{"password", "dG9rM24="}}}});
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error(), Catch::Contains("no key \"token\""));
  CHECK_FALSE(tokenFromSecret(json{{"data", {{"token", ""}}}}).ok());
}

}  // namespace sluice::gitops
