// Kubernetes protobuf request bodies to JSON, on bodies built here field by field: the JSON must be the
// object a JSON client would send (zero values left out unless Go keeps them), and bad bodies must be
// clear 400s and 415s.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "kube/apiserver/handler.h"
#include "kube/apiserver/request_body.h"
#include "kube/apiserver/store.h"
#include "kube/json_depth.h"
#include "tests/support/process.h"

using nlohmann::json;
using sluice::apiserver::decodeObjectBody;
using sluice::apiserver::decodeProtobufObject;

namespace {

// A minimal protobuf writer for building test bodies.
std::string varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string vfield(std::uint32_t n, std::uint64_t v) { return varint(n << 3) + varint(v); }
std::string lfield(std::uint32_t n, const std::string& bytes) {
  return varint((n << 3) | 2) + varint(bytes.size()) + bytes;
}
std::string entry(const std::string& k, const std::string& v) { return lfield(1, k) + lfield(2, v); }

// "k8s\0" + runtime.Unknown{typeMeta{apiVersion, kind}, raw}.
std::string envelope(const std::string& apiVersion, const std::string& kind, const std::string& raw) {
  return std::string("k8s\0", 4) + lfield(1, lfield(1, apiVersion) + lfield(2, kind)) + lfield(2, raw);
}

// ObjectMeta as gogo protobuf writes it: every string, even empty, and an empty creationTimestamp.
std::string meta(const std::string& name, const std::string& labels = "") {
  return lfield(1, name) + lfield(2, "") + lfield(3, "") + lfield(4, "") + lfield(5, "") + lfield(6, "") +
         vfield(7, 0) + lfield(8, "") + labels;
}

json decode(const std::string& body) {
  auto r = decodeProtobufObject(body);
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("a ConfigMap decodes to the JSON a JSON client sends", "[apiserver][protobuf]") {
  std::string cm = lfield(1, meta("cfg", lfield(11, entry("app", "web")))) + lfield(2, entry("a", "b")) +
                   lfield(2, entry("empty", "")) + lfield(3, entry("bin", std::string("\x00\xff", 2)));
  CHECK(decode(envelope("v1", "ConfigMap", cm)) == json::parse(R"({
    "apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "cfg", "creationTimestamp": null, "labels": {"app": "web"}},
    "data": {"a": "b", "empty": ""},
    "binaryData": {"bin": "AP8="}})"));
}

TEST_CASE("pointer and non-omitempty fields keep their zero values, omitempty ones drop them",
          "[apiserver][protobuf]") {
  // replicas (a pointer) 0, containerPort (no omitempty) 0, minReadySeconds (omitempty) 0, paused false.
  std::string container =
      lfield(1, "c") + lfield(2, "") + lfield(6, vfield(3, 0) + lfield(4, "")) + lfield(8, "");
  std::string podSpec = lfield(2, container) + lfield(3, "");
  std::string spec = vfield(1, 0) + lfield(2, lfield(1, entry("app", "d"))) +
                     lfield(3, lfield(1, meta("")) + lfield(2, podSpec)) + lfield(4, "") + vfield(5, 0) +
                     vfield(7, 0);
  std::string status = vfield(1, 0) + vfield(2, 0);
  CHECK(decode(envelope("apps/v1", "Deployment",
                        lfield(1, meta("d")) + lfield(2, spec) + lfield(3, status))) == json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "d", "creationTimestamp": null},
    "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "d"}},
             "template": {"metadata": {"creationTimestamp": null},
                          "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 0}], "resources": {}}]}},
             "strategy": {}},
    "status": {}})"));
}

TEST_CASE("IntOrString, Quantity, negative int32 and packed repeated scalars", "[apiserver][protobuf]") {
  std::string ports =
      lfield(1, lfield(1, "http") + vfield(3, 80) + lfield(4, vfield(1, 0) + vfield(2, 8080))) +
      lfield(1, vfield(3, 443) + lfield(4, vfield(1, 1) + lfield(3, "https")));
  auto svc = decode(envelope("v1", "Service", lfield(1, meta("s")) + lfield(2, ports)));
  CHECK(svc["spec"]["ports"] == json::parse(R"([{"name":"http","port":80,"targetPort":8080},
                                                {"port":443,"targetPort":"https"}])"));

  // healthCheckNodePort -1 travels as a ten-byte varint.
  auto neg = decode(envelope("v1", "Service", lfield(2, vfield(12, static_cast<std::uint64_t>(-1)))));
  CHECK(neg["spec"]["healthCheckNodePort"] == -1);

  std::string limits =
      lfield(1, entry("cpu", lfield(1, "500m"))) + lfield(2, entry("memory", lfield(1, "64Mi")));
  std::string pod = lfield(2, lfield(2, lfield(1, "c") + lfield(8, limits)) +
                                  lfield(14, lfield(4, varint(1) + varint(2) + varint(1000))));
  auto p = decode(envelope("v1", "Pod", pod));
  CHECK(p["spec"]["containers"][0]["resources"] ==
        json::parse(R"({"limits":{"cpu":"500m"},"requests":{"memory":"64Mi"}})"));
  CHECK(p["spec"]["securityContext"]["supplementalGroups"] == json::array({1, 2, 1000}));
}

TEST_CASE("Time keeps seconds, MicroTime microseconds, and the zero time is null", "[apiserver][protobuf]") {
  // 2026-11-28T05:00:00Z = 1795842000.
  std::string at = vfield(1, 1795842000) + vfield(2, 123456789);
  std::string spec = lfield(1, "me") + vfield(2, 15) + lfield(3, at) + lfield(4, "") + vfield(5, 0);
  CHECK(decode(envelope("coordination.k8s.io/v1", "Lease", lfield(2, spec)))["spec"] == json::parse(R"({
    "holderIdentity": "me", "leaseDurationSeconds": 15, "acquireTime": "2026-11-28T05:00:00.123456Z",
    "renewTime": null, "leaseTransitions": 0})"));
  std::string ev = lfield(1, meta("e")) + lfield(2, lfield(1, "Pod") + lfield(3, "p")) + lfield(6, at) +
                   lfield(10, "") + lfield(14, "") + lfield(15, "");
  auto e = decode(envelope("v1", "Event", ev));
  CHECK(e["firstTimestamp"] == "2026-11-28T05:00:00Z");
  CHECK(e["eventTime"].is_null());
  CHECK(e["reportingComponent"] == "");
  CHECK(e["involvedObject"] == json::parse(R"({"kind":"Pod","name":"p"})"));
}

TEST_CASE("an Ingress rule's value is inlined, as in JSON", "[apiserver][protobuf]") {
  std::string backend = lfield(4, lfield(1, "web") + lfield(2, vfield(2, 80)));
  std::string path = lfield(1, "/") + lfield(2, backend) + lfield(3, "Prefix");
  std::string rule = lfield(1, "example.com") + lfield(2, lfield(1, lfield(1, path)));
  auto ing =
      decode(envelope("networking.k8s.io/v1", "Ingress", lfield(2, lfield(3, rule) + lfield(4, "nginx"))));
  CHECK(ing["spec"] ==
        json::parse(R"({"ingressClassName":"nginx","rules":[{"host":"example.com","http":{"paths":[
    {"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":80}}}}]}}]})"));
}

TEST_CASE("unknown fields: dropped in complete messages, refused where this server decodes part",
          "[apiserver][protobuf]") {
  auto dropped = decode(envelope("v1", "ConfigMap", lfield(1, meta("c")) + lfield(99, "x") + vfield(98, 7)));
  CHECK(dropped ==
        json::parse(
            R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","creationTimestamp":null}})"));

  auto partial =
      decodeProtobufObject(envelope("v1", "Pod", lfield(2, lfield(2, lfield(1, "c") + lfield(99, "")))));
  REQUIRE_FALSE(partial.ok());
  CHECK(partial.error().code == 415);
  CHECK(partial.error().message ==
        "field 99 of Container (at spec.containers[0]) is not supported in protobuf request bodies by this "
        "server; "
        "send the object as JSON");

  auto unsupported = decodeProtobufObject(envelope("v1", "Pod", lfield(2, lfield(18, ""))));
  REQUIRE_FALSE(unsupported.ok());
  CHECK(unsupported.error().code == 415);
  CHECK(unsupported.error().message ==
        "the field spec.affinity is not supported in protobuf request bodies by this server; send the object "
        "as "
        "JSON");
}

TEST_CASE("bad protobuf bodies are clear errors", "[apiserver][protobuf]") {
  struct Row {
    const char* name;
    std::string body;
    int code;
    const char* message;
  };
  const Row rows[] = {
      {"no magic prefix", "{\"kind\":\"ConfigMap\"}", 400,
       "the protobuf request body is invalid: it does not start with the Kubernetes protobuf prefix "
       "\"k8s\\x00\""},
      {"a kind without a schema", envelope("v1", "PersistentVolume", ""), 415,
       "the kind PersistentVolume (apiVersion v1) is not supported in protobuf request bodies by this "
       "server; send "
       "the object as JSON"},
      {"no kind", envelope("v1", "", ""), 400, "Object 'Kind' is missing in the protobuf request body"},
      {"compressed", std::string("k8s\0", 4) + lfield(1, lfield(2, "ConfigMap")) + lfield(3, "gzip"), 415,
       "the content encoding \"gzip\" is not supported in protobuf request bodies by this server; send the "
       "object "
       "as JSON"},
      {"envelope cut short", std::string("k8s\0", 4) + "\x0a\x10", 400,
       "the protobuf request body is invalid: field 1 at byte 1 claims 16 bytes but only 0 remain in the "
       "runtime.Unknown envelope"},
      {"nested length past the end of its parent",
       envelope("v1", "ConfigMap", lfield(1, std::string("\x0a\x09", 2) + "abc")), 400,
       "the protobuf request body is invalid: field 1 at byte 1 claims 9 bytes but only 3 remain in "
       "metadata"},
      {"wrong wire type for a string", envelope("v1", "ConfigMap", lfield(1, vfield(1, 5))), 400,
       "the protobuf request body is invalid: field metadata.name (number 1) has wire type varint, expected "
       "length-delimited"},
      {"wrong wire type for an int", envelope("apps/v1", "Deployment", lfield(2, lfield(1, "3"))), 400,
       "the protobuf request body is invalid: field spec.replicas (number 1) has wire type length-delimited, "
       "expected varint"},
      {"invalid UTF-8 in a string", envelope("v1", "ConfigMap", lfield(1, lfield(1, "\xc3("))), 400,
       "the protobuf request body is invalid: field metadata.name is not valid UTF-8"},
      {"a time past year 9999", envelope("v1", "ConfigMap", lfield(1, lfield(8, vfield(1, 253402300800)))),
       400,
       "the protobuf request body is invalid: metadata.creationTimestamp is outside the years 0000-9999 "
       "(253402300800 s)"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto r = decodeProtobufObject(row.body);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == row.code);
    CHECK(r.error().message == row.message);
  }
}

TEST_CASE("request bodies are decoded by their media type", "[apiserver][protobuf]") {
  std::string cm = envelope("v1", "ConfigMap", lfield(1, lfield(1, "c")));
  auto pb = decodeObjectBody("application/vnd.kubernetes.protobuf; charset=utf-8", cm);
  REQUIRE(pb.ok());
  CHECK((*pb)["metadata"]["name"] == "c");
  auto js = decodeObjectBody("application/json", R"({"kind":"ConfigMap"})");
  REQUIRE(js.ok());
  CHECK((*js)["kind"] == "ConfigMap");
  auto none = decodeObjectBody("", R"({"kind":"ConfigMap"})");
  CHECK(none.ok());
  auto yaml = decodeObjectBody("text/plain", "kind: ConfigMap");
  REQUIRE_FALSE(yaml.ok());
  CHECK(yaml.error().code == 415);
  CHECK(yaml.error().message ==
        "the body of the request was in an unknown format - accepted media types include: application/json, "
        "application/yaml, application/vnd.kubernetes.protobuf");
  auto notObject = decodeObjectBody("application/json", "[1]");
  REQUIRE_FALSE(notObject.ok());
  CHECK(notObject.error().code == 400);
}

TEST_CASE("protobuf bodies are held to the same nesting limit as JSON ones",
          "[apiserver][protobuf][limits]") {
  // metadata.managedFields[0].fieldsV1 carries raw JSON inside the message: the only place a protobuf
  // body can nest without bound.
  auto withFields = [](const std::string& raw) {
    return envelope("v1", "ConfigMap", lfield(1, lfield(1, "c") + lfield(17, lfield(7, lfield(1, raw)))));
  };
  const std::size_t limit = sluice::kube::kMaxJsonNestingDepth;
  auto nestedJson = [](std::size_t n) { return std::string(n, '[') + std::string(n, ']'); };
  auto hostile = decodeObjectBody("application/vnd.kubernetes.protobuf", withFields(nestedJson(80000)));
  REQUIRE_FALSE(hostile.ok());
  CHECK(hostile.error().code == 400);
  CHECK_THAT(hostile.error().message,
             Catch::Contains("metadata.managedFields[0].fieldsV1 holds JSON that invalid "
                             "character '[' exceeded max depth (1000 levels)"));
  // Within the raw JSON's own limit, but too deep once under metadata.managedFields[0].fieldsV1.
  auto stacked = decodeObjectBody("application/vnd.kubernetes.protobuf", withFields(nestedJson(limit - 1)));
  REQUIRE_FALSE(stacked.ok());
  CHECK(stacked.error().code == 400);
  CHECK_THAT(stacked.error().message, Catch::Contains("the object nests deeper than 1000 levels"));
  auto fits = decodeObjectBody("application/vnd.kubernetes.protobuf", withFields(nestedJson(limit - 4)));
  REQUIRE(fits.ok());
  CHECK((*fits)["metadata"]["managedFields"][0]["fieldsV1"].is_array());
}

TEST_CASE("the handler creates from a protobuf body and answers a kind it cannot decode with a 415 Status",
          "[apiserver][protobuf]") {
  sluice::testing::TempDir dir;
  auto store = sluice::apiserver::Store::open(dir / "state.db");
  REQUIRE(store.ok());
  auto registry = sluice::apiserver::Registry::open(**store);
  REQUIRE(registry.ok());
  sluice::apiserver::Handler handler(**registry, "t0ken", "https://127.0.0.1:1");
  auto post = [&](const std::string& body) {
    sluice::apiserver::HttpRequest req{.method = "POST",
                                       .target = "/api/v1/namespaces/default/configmaps",
                                       .contentType = std::string(sluice::apiserver::kProtobufMediaType),
                                       .authorization = "Bearer t0ken",
                                       .accept = "",
                                       .body = body,
                                       .impersonateUser = "",
                                       .impersonateGroups = {}};
    auto handled = handler.handle(req);
    return std::make_pair(handled.response.status, json::parse(handled.response.body));
  };

  auto [created, cm] = post(envelope("v1", "ConfigMap", lfield(1, meta("pb")) + lfield(2, entry("k", "v"))));
  CHECK(created == 201);
  CHECK(cm["data"] == json({{"k", "v"}}));
  CHECK(cm["metadata"]["namespace"] == "default");
  CHECK(cm["metadata"]["creationTimestamp"].is_string());

  auto [refused, status] = post(envelope("v1", "PersistentVolume", lfield(1, meta("pv"))));
  CHECK(refused == 415);
  CHECK(status["kind"] == "Status");
  CHECK(status["reason"] == "UnsupportedMediaType");
  CHECK(status["message"].get<std::string>().find("PersistentVolume") != std::string::npos);

  // The kind must match the resource, as for JSON bodies.
  auto [mismatch, why] = post(envelope("v1", "Secret", lfield(1, meta("s"))));
  CHECK(mismatch == 400);
  CHECK(why["reason"] == "BadRequest");
}
