// The embedded cluster's simulated data plane on a registry driven by a manual clock: each Service's
// requests spread over its ready pods, errors as each pod's annotation says, counted over time.
#include <catch2/catch.hpp>
#include <regex>

#include "base/pod_behaviour.h"
#include "kube/apiserver/data_plane.h"
#include "kube/apiserver/registry.h"
#include "kube/apiserver/workloads.h"
#include "tests/support/process.h"

using nlohmann::json;
using namespace sluice::apiserver;
using sluice::PodBehaviour;
using sluice::podBehaviour;
using sluice::testing::TempDir;
using std::chrono::seconds;

namespace {

class DataPlaneFixture {
 public:
  DataPlaneFixture() {
    auto s = Store::open(dir_ / "state.db");
    REQUIRE(s.ok());
    store_ = std::move(s).value();
    auto r = Registry::open(*store_, clock);
    REQUIRE(r.ok());
    registry_ = std::move(r).value();
    pods_ = registry_->find("", "v1", "pods");
    services_ = registry_->find("", "v1", "services");
    DataPlaneOptions options;
    options.requestsPerSecond = 10;
    auto d = DataPlane::start(*registry_, clock, options);
    INFO((d ? std::string() : d.error()));
    REQUIRE(d.ok());
    dataPlane = std::move(d).value();
  }

  void service(const std::string& name, const json& selector, const json& annotations = json::object()) {
    json svc = {{"apiVersion", "v1"},
                {"kind", "Service"},
                {"metadata", {{"name", name}, {"annotations", annotations}}},
                {"spec", {{"selector", selector}, {"ports", json::array({{{"port", 80}}})}}}};
    auto r = registry_->create(*services_, "default", svc, {});
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.ok());
  }

  void ingress(const std::string& name, const std::string& backend, const json& annotations) {
    json ing = {
        {"apiVersion", "networking.k8s.io/v1"},
        {"kind", "Ingress"},
        {"metadata", {{"name", name}, {"annotations", annotations}}},
        {"spec",
         {{"rules",
           json::array(
               {{{"host", "web.example.com"},
                 {"http",
                  {{"paths", json::array({{{"path", "/"},
                                           {"pathType", "Prefix"},
                                           {"backend",
                                            {{"service",
                                              {{"name", backend}, {"port", {{"number", 80}}}}}}}}})}}}}})}}}};
    auto type = registry_->find("networking.k8s.io", "v1", "ingresses");
    REQUIRE(type);
    auto r = registry_->create(*type, "default", ing, {});
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.ok());
  }

  // A pod with these labels and annotations, Ready or not.
  void pod(const std::string& name, const json& labels, const json& annotations, bool ready) {
    json p = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"labels", labels}, {"annotations", annotations}}},
              {"spec", {{"containers", json::array({{{"name", "web"}, {"image", "web:1"}}})}}}};
    auto r = registry_->create(*pods_, "default", p, {});
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.ok());
    setReady(name, ready);
  }

  // What the kubelet stand-in writes when the pod's readiness changes.
  void setReady(const std::string& name, bool ready) {
    auto got = registry_->get(*pods_, "default", name);
    REQUIRE(got.ok());
    json p = *got;
    p["status"] = {{"phase", "Running"},
                   {"conditions", json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}})}};
    auto r = registry_->update(*pods_, "default", name, Subresource::kStatus, p, {});
    REQUIRE(r.ok());
  }

  void deletePod(const std::string& name) {
    DeleteOptions o;
    auto r = registry_->remove(*pods_, "default", name, o);
    REQUIRE(r.ok());
  }

  // http_requests_total of (service, pod, code) in the scrape; -1 when the series is absent.
  double requests(const std::string& service, const std::string& pod, const std::string& code) const {
    const std::string text = dataPlane->scrape();
    const std::regex line("http_requests_total\\{([^}]*)\\} ([0-9.e+-]+)");
    for (std::sregex_iterator it(text.begin(), text.end(), line), end; it != end; ++it) {
      const std::string labels = (*it)[1];
      if (labels.find("service=\"" + service + "\"") != std::string::npos &&
          labels.find("pod=\"" + pod + "\"") != std::string::npos &&
          labels.find("code=\"" + code + "\"") != std::string::npos)
        return std::stod((*it)[2]);
    }
    return -1;
  }

  sluice::ManualClock clock;

 private:
  TempDir dir_{"sluice-data-plane"};
  std::unique_ptr<Store> store_;
  std::unique_ptr<Registry> registry_;
  std::shared_ptr<const ResourceType> pods_, services_;

 public:
  // Last: it goes before the registry it watches.
  std::unique_ptr<DataPlane> dataPlane;
};

const json kWeb = {{"app", "web"}};

}  // namespace

TEST_CASE(
    "data plane: a Service's requests are spread over its ready pods, errors as each pod's annotation says",
    "[apiserver][data-plane]") {
  DataPlaneFixture f;
  f.service("web", kWeb);  // the default 10 requests a second
  f.pod("good", {{"app", "web"}, {"sluice.dev/pod-template-hash", "aaa"}}, json::object(), true);
  f.pod("bad", {{"app", "web"}, {"sluice.dev/pod-template-hash", "bbb"}},
        {{"cluster.sluice.dev/error-rate", "0.2"}}, true);
  f.pod("starting", kWeb, json::object(), false);
  f.pod("other-app", {{"app", "db"}}, json::object(), true);
  f.clock.advance(seconds(10));

  struct Row {
    const char* pod;
    const char* code;
    double expected;  // -1: no such series
  };
  const std::vector<Row> rows = {
      {"good", "200", 50}, {"good", "500", 0},      {"bad", "200", 40},
      {"bad", "500", 10},  {"starting", "200", -1}, {"other-app", "200", -1},
  };
  for (const auto& row : rows) {
    INFO(row.pod << " " << row.code << "\n" << f.dataPlane->scrape());
    CHECK(f.requests("web", row.pod, row.code) == Approx(row.expected));
  }
  // The revision label comes from the pod's template hash.
  CHECK_THAT(f.dataPlane->scrape(),
             Catch::Contains(R"(http_requests_total{namespace="default",service="web",)"
                             R"(pod="bad",pod_template_hash="bbb",code="500"})"));
}

TEST_CASE("data plane: counters follow time, readiness, deletion and the Service's rate annotation",
          "[apiserver][data-plane]") {
  DataPlaneFixture f;
  f.service("web", kWeb);
  f.service("slow", kWeb, {{"cluster.sluice.dev/requests-per-second", "2"}});
  f.pod("a", kWeb, json::object(), true);
  f.pod("b", kWeb, json::object(), false);

  f.clock.advance(seconds(5));  // a alone: 10/s
  CHECK(f.requests("web", "a", "200") == Approx(50));
  CHECK(f.requests("slow", "a", "200") == Approx(10));
  CHECK(f.requests("web", "b", "200") == -1);

  f.setReady("b", true);
  f.clock.advance(seconds(4));  // a and b: 5/s each
  CHECK(f.requests("web", "a", "200") == Approx(70));
  CHECK(f.requests("web", "b", "200") == Approx(20));
  CHECK(f.requests("slow", "b", "200") == Approx(4));

  f.setReady("a", false);
  f.clock.advance(seconds(2));  // b alone; a's counter stays where it was
  CHECK(f.requests("web", "a", "200") == Approx(70));
  CHECK(f.requests("web", "b", "200") == Approx(40));

  f.deletePod("b");
  f.clock.advance(seconds(3));  // nobody ready: no traffic counted, b's series gone
  CHECK(f.requests("web", "b", "200") == -1);
  CHECK(f.requests("web", "a", "200") == Approx(70));

  // Nothing moves while the clock stands still, however often it is scraped.
  const std::string once = f.dataPlane->scrape();
  CHECK(f.dataPlane->scrape() == once);
}

TEST_CASE("data plane: a bad error-rate annotation is reported on the pod and counts as no errors",
          "[apiserver][data-plane]") {
  struct Row {
    const char* value;
    double errorRate;
    bool problem;
  };
  const std::vector<Row> rows = {
      {"0", 0, false},   {"0.25", 0.25, false}, {"1", 1, false},   {"1.5", 0, true},
      {"-0.1", 0, true}, {"lots", 0, true},     {"0.5x", 0, true}, {"nan", 0, true},
  };
  for (const auto& row : rows) {
    INFO(row.value);
    json pod = {
        {"metadata", {{"name", "p"}, {"annotations", {{"cluster.sluice.dev/error-rate", row.value}}}}}};
    const PodBehaviour b = podBehaviour(pod, std::chrono::milliseconds(0));
    CHECK(b.errorRate == row.errorRate);
    if (row.problem) {
      // The kubelet stand-in records this as a Warning Event InvalidClusterAnnotation on the pod.
      CHECK_THAT(b.problem, Catch::Contains("cluster.sluice.dev/error-rate") &&
                                Catch::Contains(std::string("\"") + row.value + "\""));
    } else {
      CHECK(b.problem.empty());
    }
  }

  DataPlaneFixture f;
  f.service("web", kWeb);
  f.pod("p", kWeb, {{"cluster.sluice.dev/error-rate", "1.5"}}, true);
  f.clock.advance(seconds(1));
  CHECK(f.requests("web", "p", "200") == Approx(10));
  CHECK(f.requests("web", "p", "500") == Approx(0));
}

TEST_CASE("data plane: requests through ingress-nginx are counted under its names, durations as annotated",
          "[apiserver][data-plane]") {
  DataPlaneFixture f;
  f.service("web-stable", {{"app", "web"}, {"rev", "a"}});
  f.service("web-canary", {{"app", "web"}, {"rev", "b"}});
  f.pod("stable", {{"app", "web"}, {"rev", "a"}}, json::object(), true);
  f.pod("canary", {{"app", "web"}, {"rev", "b"}},
        {{"cluster.sluice.dev/error-rate", "0.2"}, {"cluster.sluice.dev/latency", "120ms"}}, true);
  f.ingress("web", "web-stable", json::object());
  f.ingress(
      "web-web-canary", "web-canary",
      {{"nginx.ingress.kubernetes.io/canary", "true"}, {"nginx.ingress.kubernetes.io/canary-weight", "25"}});
  f.clock.advance(seconds(10));  // 10 requests a second (the fixture's rate) for the host: 2.5 to the canary
  const std::string text = f.dataPlane->scrape();
  INFO(text);
  const std::string common =
      R"(canary="default-web-canary-80",controller_class="k8s.io/ingress-nginx",)"
      R"(controller_namespace="ingress-nginx",controller_pod="ingress-nginx-controller",host="web.example.com",)"
      R"(ingress="web",method="GET",namespace="default",path="/",service="web-stable",status=")";
  CHECK_THAT(text, Catch::Contains("nginx_ingress_controller_requests{" + common + "200\"} 20\n"));
  CHECK_THAT(text, Catch::Contains("nginx_ingress_controller_requests{" + common + "500\"} 5\n"));
  // The stable share: canary="" and the default latency (20ms: every answer within 25ms).
  CHECK_THAT(text, Catch::Contains(R"(nginx_ingress_controller_requests{canary="",)") &&
                       Catch::Contains(R"(status="200"} 75)"));
  // 120ms spread evenly over [60ms, 180ms]: a third by 100ms, all by 250ms; the sum is 20 x 0.12 s.
  CHECK_THAT(text, Catch::Contains("nginx_ingress_controller_request_duration_seconds_bucket{" + common +
                                   "200\",le=\"0.05\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("nginx_ingress_controller_request_duration_seconds_bucket{" + common +
                                   "200\",le=\"0.1\"} 6\n"));
  CHECK_THAT(text, Catch::Contains("nginx_ingress_controller_request_duration_seconds_bucket{" + common +
                                   "200\",le=\"0.25\"} 20\n"));
  CHECK_THAT(text, Catch::Contains("nginx_ingress_controller_request_duration_seconds_bucket{" + common +
                                   "200\",le=\"+Inf\"} 20\n"));
  CHECK_THAT(text, Catch::Contains("nginx_ingress_controller_request_duration_seconds_sum{" + common +
                                   "200\"} 2.4"));
  // Every answer is also counted at the pod.
  CHECK(f.requests("web-canary", "canary", "500") == Approx(5));
  CHECK(f.requests("web-stable", "stable", "200") == Approx(75));

  // The canary pod goes: its own series go, ingress-nginx's (a sum over pods) stay, and its share of
  // the requests is now answered 503 by the ingress itself.
  f.deletePod("canary");
  f.clock.advance(seconds(2));
  const std::string after = f.dataPlane->scrape();
  INFO(after);
  CHECK(f.requests("web-canary", "canary", "500") == -1);
  CHECK_THAT(after, Catch::Contains("nginx_ingress_controller_requests{" + common + "200\"} 20\n"));
  CHECK_THAT(after, Catch::Contains("nginx_ingress_controller_requests{" + common + "503\"} 5\n"));
}
