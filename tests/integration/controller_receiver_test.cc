// The Receivers' webhook end to end through the manager, as `sluice controller --webhook-addr` runs it:
// the Receiver reconciler derives the path from the token Secret, and real curl posts deliveries signed
// with the openssl CLI (apart from the controller's own HMAC code). A verified push makes the GitRepository
// fetch the new commit long before its one-hour interval; anything unverified is refused and changes
// nothing.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "controller_env.h"
#include "tests/support/git_repo.h"
#include "tests/support/process.h"

using namespace sluice;
using namespace sluice::testing;
using nlohmann::json;

namespace {

const char* const kHookToken = "s3cret-hook-token";
const char* const kRequestedAtKey = "reconcile.sluice.dev/requestedAt";

// A GitRepository `name` of `url` (branch main) that fetches by itself only every hour.
std::string hookedRepository(const std::string& name, const std::string& url, const std::string& labels) {
  return R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "GitRepository",
   "metadata": {"name": ")" +
         name + R"(", "namespace": "default", "labels": )" + labels + R"(},
   "spec": {"url": ")" +
         url + R"(", "interval": "1h", "ref": {"branch": "main"}}})";
}

std::string receiverObject(const std::string& name, const std::string& type, const std::string& resources,
                           const std::string& extra = "") {
  return R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "Receiver",
   "metadata": {"name": ")" +
         name + R"(", "namespace": "default"},
   "spec": {"type": ")" +
         type + R"(", "secretRef": {"name": "hook-token"}, "resources": )" + resources + extra + "}}";
}

struct HookEnv {
  TempDir dir;
  GitRepo repo{dir.path() / "repo"};
  ControllerEnv env;

  HookEnv() {
    repo.commit({{"README.md", "one\n"}}, "one");
    controller::ManagerOptions options;
    options.controllers = {"gitops"};
    options.storagePath = (dir.path() / "storage").string();
    options.webhookAddr = "127.0.0.1:0";
    env.startController(options);
    REQUIRE(env.manager->webhookPort() > 0);
  }

  void apply(const std::string& file, const std::string& body) {
    env.cluster.ok("apply -f " + env.cluster.writeFile(file, body));
  }

  json get(const std::string& what) { return env.cluster.getJson(what); }

  std::string revisionOf(const std::string& repoName) {
    return get("gitrepository " + repoName)
        .value(json::json_pointer("/status/artifact/revision"), std::string());
  }
  std::string requestedAt(const std::string& what) {
    return get(what)
        .value(json::json_pointer("/metadata/annotations"), json::object())
        .value(kRequestedAtKey, "");
  }

  // status.webhookPath once the Receiver is Ready.
  std::string readyPath(const std::string& receiver) {
    std::string path;
    const bool ready = waitUntil(
        [&] {
          const json r = get("receiver " + receiver);
          for (const auto& c : r.value(json::json_pointer("/status/conditions"), json::array())) {
            if (c.value("type", "") == "Ready" && c.value("status", "") == "True")
              path = r.value(json::json_pointer("/status/webhookPath"), std::string());
          }
          return !path.empty();
        },
        std::chrono::seconds(30));
    INFO(env.cluster.kubectl("get receiver " + receiver + " -o yaml").output);
    REQUIRE(ready);
    return path;
  }

  // Posts `body` to `path` with `headers` ("Name: value") through curl; the HTTP status.
  int post(const std::string& path, const std::string& body, const std::vector<std::string>& headers,
           const std::string& method = "POST") {
    const std::string file = env.cluster.writeFile("body-" + std::to_string(++posts), body);
    std::string cmd =
        "curl -s -o /dev/null -w '%{http_code}' -X " + method + " --data-binary @" + shellQuote(file);
    for (const auto& h : headers) cmd += " -H " + shellQuote(h);
    cmd += " " + shellQuote("http://127.0.0.1:" + std::to_string(env.manager->webhookPort()) + path);
    auto r = runCommand(cmd);
    INFO(cmd << "\n" << r.output);
    return std::atoi(r.output.c_str());
  }

  // "<algo>=<hex>" of `body` under `key`, by the openssl CLI.
  std::string sign(const std::string& algo, const std::string& key, const std::string& body) {
    const std::string file = env.cluster.writeFile("sign-" + std::to_string(++posts), body);
    auto r = runCommand("openssl dgst -" + algo + " -hmac " + shellQuote(key) + " -r " + shellQuote(file));
    REQUIRE(r.exitCode == 0);
    return algo + "=" + r.output.substr(0, r.output.find(' '));
  }

  int posts = 0;
};

}  // namespace

TEST_CASE(
    "Receiver: a GitHub push signed with the token fetches the new commit at once, and an unverified "
    "one gets 401 and changes nothing",
    "[controller][gitops][receiver]") {
  HookEnv h;
  h.env.cluster.ok(std::string("create secret generic hook-token --from-literal=token=") + kHookToken);
  h.apply("repo.json", hookedRepository("apps", h.repo.fileUrl(), "{}"));
  h.apply("receiver.json",
          receiverObject("github", "github", R"([{"kind": "GitRepository", "name": "apps"}])",
                         R"(, "events": ["push"])"));
  const std::string path = h.readyPath("github");
  CHECK(path.rfind("/hook/", 0) == 0);
  CHECK(path.size() == 6 + 64);
  const json receiver = h.get("receiver github");
  CHECK(receiver["status"]["conditions"][0]["reason"] == "Succeeded");
  CHECK(receiver["status"]["conditions"][0]["message"] == "Receiver initialized for path: " + path);

  REQUIRE(waitUntil([&] { return !h.revisionOf("apps").empty(); }, std::chrono::seconds(30)));
  const std::string first = h.revisionOf("apps");
  const std::string second = h.repo.commit({{"README.md", "two\n"}}, "two");
  REQUIRE(first != "main@sha1:" + second);

  const std::string body = R"({"ref": "refs/heads/main", "after": ")" + second + R"("})";
  const std::string good = h.sign("sha256", kHookToken, body);
  // Unverified, unknown, too large or not a POST: refused, and nothing is annotated.
  CHECK(h.post(path, body,
               {"X-GitHub-Event: push", "X-Hub-Signature-256: " + h.sign("sha256", "guess", body)}) == 401);
  CHECK(h.post(path, body, {"X-GitHub-Event: push"}) == 401);
  CHECK(h.post(path, body + " ", {"X-GitHub-Event: push", "X-Hub-Signature-256: " + good}) == 401);
  CHECK(h.post("/hook/" + std::string(64, '0'), body,
               {"X-GitHub-Event: push", "X-Hub-Signature-256: " + good}) == 404);
  CHECK(h.post("/metrics", body, {}) == 404);
  const std::string huge(2 << 20, 'x');
  CHECK(h.post(path, huge,
               {"X-GitHub-Event: push", "X-Hub-Signature-256: " + h.sign("sha256", kHookToken, huge)}) ==
        413);
  CHECK(h.post(path, "", {}, "GET") == 405);
  // Verified, but an event the Receiver does not list; and GitHub's ping, answered.
  CHECK(h.post(path, body, {"X-GitHub-Event: release", "X-Hub-Signature-256: " + good}) == 400);
  CHECK(h.post(path, body, {"X-GitHub-Event: ping", "X-Hub-Signature-256: " + good}) == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(h.requestedAt("gitrepository apps").empty());
  CHECK(h.revisionOf("apps") == first);

  // Signed with the token: the annotation is set and the new commit fetched, an hour before the interval.
  CHECK(h.post(path, body, {"X-GitHub-Event: push", "X-Hub-Signature-256: " + good}) == 200);
  CHECK_FALSE(h.requestedAt("gitrepository apps").empty());
  const bool fetched =
      waitUntil([&] { return h.revisionOf("apps") == "main@sha1:" + second; }, std::chrono::seconds(30));
  INFO(h.env.cluster.kubectl("get gitrepository apps -o yaml").output);
  CHECK(fetched);
  const std::string handled =
      h.get("gitrepository apps").value(json::json_pointer("/status/lastHandledReconcileAt"), std::string());
  CHECK(handled == h.requestedAt("gitrepository apps"));

  // A rotated token moves the path: the old one is no longer served.
  h.env.cluster.ok("delete secret hook-token");
  h.env.cluster.ok("create secret generic hook-token --from-literal=token=rotated");
  CHECK(h.post(path, body,
               {"X-GitHub-Event: push", "X-Hub-Signature-256: " + h.sign("sha256", "rotated", body)}) == 404);
}

TEST_CASE(
    "Receiver: a GitLab token and a generic-hmac signature each request a reconcile of the resources "
    "they select",
    "[controller][gitops][receiver]") {
  HookEnv h;
  h.env.cluster.ok(std::string("create secret generic hook-token --from-literal=token=") + kHookToken);
  h.apply("repos.json", hookedRepository("team-a", h.repo.fileUrl(), R"({"team": "a"})") + "\n" +
                            hookedRepository("team-b", h.repo.fileUrl(), R"({"team": "b"})"));
  h.apply("gitlab.json",
          receiverObject("gitlab", "gitlab",
                         R"([{"kind": "GitRepository", "name": "*", "matchLabels": {"team": "a"}}])"));
  h.apply("hmac.json",
          receiverObject("hmac", "generic-hmac", R"([{"kind": "GitRepository", "name": "team-b"}])"));
  const std::string gitlab = h.readyPath("gitlab");
  const std::string hmac = h.readyPath("hmac");
  CHECK(gitlab != hmac);  // one token, two Receivers: two paths

  const std::string body = R"({"object_kind": "push"})";
  CHECK(h.post(gitlab, body, {"X-Gitlab-Event: Push Hook", "X-Gitlab-Token: wrong"}) == 401);
  CHECK(h.post(gitlab, body, {"X-Gitlab-Event: Push Hook"}) == 401);
  CHECK(h.requestedAt("gitrepository team-a").empty());
  CHECK(h.post(gitlab, body, {"X-Gitlab-Event: Push Hook", std::string("X-Gitlab-Token: ") + kHookToken}) ==
        200);
  CHECK_FALSE(h.requestedAt("gitrepository team-a").empty());
  CHECK(h.requestedAt("gitrepository team-b").empty());  // not selected by matchLabels

  CHECK(h.post(hmac, body, {"X-Signature: " + h.sign("sha256", "guess", body)}) == 401);
  CHECK(h.requestedAt("gitrepository team-b").empty());
  for (const char* algo : {"sha1", "sha256", "sha512"}) {
    INFO(algo);
    const std::string before = h.requestedAt("gitrepository team-b");
    CHECK(h.post(hmac, body, {"X-Signature: " + h.sign(algo, kHookToken, body)}) == 200);
    const std::string after = h.requestedAt("gitrepository team-b");
    CHECK_FALSE(after.empty());
    CHECK(after != before);  // each delivery a new request
  }
}

TEST_CASE("Receiver: without its Secret it is not Ready, says what to create, and serves no path until then",
          "[controller][gitops][receiver]") {
  HookEnv h;
  h.apply("receiver.json",
          receiverObject("pending", "generic", R"([{"kind": "GitRepository", "name": "apps"}])",
                         R"(, "interval": "1s")"));
  json cond;
  REQUIRE(waitUntil(
      [&] {
        cond = h.get("receiver pending").value(json::json_pointer("/status/conditions/0"), json::object());
        return cond.value("reason", "") == "TokenNotFound";
      },
      std::chrono::seconds(30)));
  CHECK(cond["status"] == "False");
  CHECK_THAT(cond.value("message", ""), Catch::Contains("default/hook-token") && Catch::Contains("token"));
  CHECK(h.get("receiver pending").value(json::json_pointer("/status/webhookPath"), std::string()).empty());

  h.env.cluster.ok("create secret generic hook-token --from-literal=password=x");
  REQUIRE(waitUntil(
      [&] {
        cond = h.get("receiver pending").value(json::json_pointer("/status/conditions/0"), json::object());
        return cond.value("message", "").find("no key \"token\"") != std::string::npos;
      },
      std::chrono::seconds(30)));
  h.env.cluster.ok("delete secret hook-token");
  h.env.cluster.ok(std::string("create secret generic hook-token --from-literal=token=") + kHookToken);
  const std::string path = h.readyPath("pending");
  // The GitRepository it names does not exist: the delivery says so, and nothing is made.
  CHECK(h.post(path, "{}", {}) == 400);
  CHECK(h.env.cluster.kubectl("get gitrepository apps").exitCode != 0);
}
