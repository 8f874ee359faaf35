// The webhook receiver's latency on the embedded cluster: from a signed GitHub push POSTed to a Receiver's
// path to the first write on its GitRepository (the requestedAt annotation, written before the POST is
// answered), and to the GitRepository's new artifact revision in status (the fetch of the new commit);
// medians of 20 deliveries (budget: under 1 s to the first write).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include "analysis/providers/providers.h"
#include "bench/bench_cluster.h"
#include "controller/git_repository_reconciler.h"
#include "controller/manager.h"
#include "controller/receiver_reconciler.h"
#include "kube/apiserver/server.h"
#include "net/http_client.h"
#include "tests/support/git_repo.h"

namespace {

using namespace sluice::bench;
namespace controller = sluice::controller;
namespace kube = sluice::kube;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kToken = "bench-hook-token";

std::string hmacSha256Hex(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &n);
  std::string out;
  char byte[3];
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", mac[i]);
    out += byte;
  }
  return out;
}

double medianMs(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void BM_WebhookToFirstWrite(benchmark::State& state) {
  ScratchDir dir;
  sluice::apiserver::ServerOptions so;
  so.dataDir = dir.path / "data";
  auto s = sluice::apiserver::ApiServer::start(so);
  if (!s) benchFail(s.error());
  auto server = std::move(s).value();
  auto client = clientFor(server->kubeconfigPath());
  applyCrds(dir, server->kubeconfigPath(), *client);
  if (!sluice::testing::waitUntil(
          [&] { return client->list(controller::receiversResource(), "default").ok(); },
          std::chrono::seconds(10)))
    benchFail("the Receiver CRD is not served");

  sluice::testing::GitRepo repo(dir.path / "repo");
  repo.commit({{"README.md", "0\n"}}, "0");
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "hook-token"}, {"namespace", "default"}}},
                 {"stringData", {{"token", kToken}}}};
  if (!client->create(controller::secretsResource(), "default", secret)) benchFail("secret");
  json gitRepo = {{"apiVersion", "sluice.dev/v1alpha1"},
                  {"kind", "GitRepository"},
                  {"metadata", {{"name", "apps"}, {"namespace", "default"}}},
                  {"spec", {{"url", repo.fileUrl()}, {"interval", "1h"}, {"ref", {{"branch", "main"}}}}}};
  if (!client->create(controller::gitRepositoriesResource(), "default", gitRepo)) benchFail("gitrepository");
  json receiver = {{"apiVersion", "sluice.dev/v1alpha1"},
                   {"kind", "Receiver"},
                   {"metadata", {{"name", "github"}, {"namespace", "default"}}},
                   {"spec",
                    {{"type", "github"},
                     {"events", {"push"}},
                     {"secretRef", {{"name", "hook-token"}}},
                     {"resources", json::array({{{"kind", "GitRepository"}, {"name", "apps"}}})}}}};
  if (!client->create(controller::receiversResource(), "default", receiver)) benchFail("receiver");

  kube::KubeconfigOptions o;
  o.kubeconfigFlag = server->kubeconfigPath().string();
  kube::ClientOptions co;
  co.userAgent = "sluice-controller";
  auto cc = kube::Client::create(*kube::loadClientConfig(o), co);
  if (!cc) benchFail(cc.error());
  auto provider = sluice::analysis::makeProvider();
  controller::ManagerOptions options;
  options.controllers = {"gitops"};
  options.leaderElect = false;
  options.storagePath = (dir.path / "storage").string();
  options.webhookAddr = "127.0.0.1:0";
  controller::Manager manager(**cc, *provider, options);
  if (auto started = manager.start(std::chrono::seconds(30)); !started) benchFail(started.error());

  auto field = [&](const kube::ResourceRef& ref, const std::string& name, const char* pointer) {
    auto got = client->get(ref, "default", name);
    return got ? got->value(json::json_pointer(pointer), std::string()) : std::string();
  };
  std::string path;
  if (!sluice::testing::waitUntil(
          [&] {
            return !(path = field(controller::receiversResource(), "github", "/status/webhookPath")).empty();
          },
          std::chrono::seconds(30)))
    benchFail("the Receiver got no webhook path");
  if (!sluice::testing::waitUntil(
          [&] {
            return !field(controller::gitRepositoriesResource(), "apps", "/status/artifact/revision").empty();
          },
          std::chrono::seconds(30)))
    benchFail("the GitRepository got no artifact");

  const std::string url = "http://127.0.0.1:" + std::to_string(manager.webhookPort()) + path;
  sluice::net::HttpClient http;
  std::vector<double> toAnnotation, toArtifact;
  for (auto _ : state) {
    for (int i = 1; i <= 20; ++i) {
      const std::string commit = repo.commit({{"README.md", std::to_string(i) + "\n"}}, std::to_string(i));
      const std::string body = R"({"ref": "refs/heads/main", "after": ")" + commit + R"("})";
      sluice::net::Request req;
      req.method = "POST";
      req.url = url;
      req.body = body;
      req.headers = {{"X-GitHub-Event", "push"},
                     {"X-Hub-Signature-256", "sha256=" + hmacSha256Hex(kToken, body)},
                     {"Content-Type", "application/json"}};
      const auto began = Clock::now();
      auto answer = http.send(req);
      const auto answered = Clock::now();
      if (!answer.ok() || answer.response().status != 200) benchFail("the delivery was not accepted");
      const std::string want = "main@sha1:" + commit;
      while (field(controller::gitRepositoriesResource(), "apps", "/status/artifact/revision") != want) {
        if (Clock::now() - began > std::chrono::seconds(30)) benchFail("the new commit was not fetched");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      const auto fetched = Clock::now();
      toAnnotation.push_back(std::chrono::duration<double, std::milli>(answered - began).count());
      toArtifact.push_back(std::chrono::duration<double, std::milli>(fetched - began).count());
    }
  }
  manager.stop();
  const double annotation = medianMs(toAnnotation), artifact = medianMs(toArtifact);
  state.counters["to_annotation_ms"] = annotation;
  state.counters["to_artifact_ms"] = artifact;
  std::cout << "webhook POST -> requestedAt annotation written: median " << annotation << " ms (max "
            << *std::max_element(toAnnotation.begin(), toAnnotation.end()) << " ms)\n"
            << "webhook POST -> new artifact revision in status: median " << artifact << " ms (max "
            << *std::max_element(toArtifact.begin(), toArtifact.end()) << " ms)\n"
            << "over " << toAnnotation.size() << " deliveries; budget: under 1000 ms to the first write\n";
}
BENCHMARK(BM_WebhookToFirstWrite)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
