// The CustomResourceDefinitions in crds/ checked against the loaders, so the two cannot drift: every field
// a loader reads is in its kind's schema with a type the loader accepts, every field of the schema is read
// by the loader (the deliberate exceptions listed below with their reasons), and every example and test
// manifest the loaders accept passes the schema as the API server checks it, nothing pruned.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "analysis/model_json.h"
#include "base/json_fields.h"
#include "base/source.h"
#include "engine/experiment_json.h"
#include "engine/rollout_json.h"
#include "gitops/git_repository.h"
#include "gitops/kustomization.h"
#include "gitops/receiver.h"
#include "kube/apiserver/openapi_schema.h"

using nlohmann::json;
using namespace sluice;

namespace {

const std::filesystem::path kSourceDir = SLUICE_SOURCE_DIR;

// The CustomResourceDefinition of `kind` among crds/*.yaml.
json crdOf(const std::string& kind) {
  for (const auto& entry : std::filesystem::directory_iterator(kSourceDir / "crds")) {
    if (entry.path().extension() != ".yaml" || entry.path().filename() == "kustomization.yaml") continue;
    auto docs = loadYamlFile(entry.path().string());
    INFO(entry.path().string() << ": " << (docs ? "" : docs.error()));
    REQUIRE(docs.ok());
    for (const auto& d : *docs) {
      if (d.json.value("kind", "") == "CustomResourceDefinition" &&
          d.json["spec"]["names"].value("kind", "") == kind) {
        return d.json;
      }
    }
  }
  FAIL("no CustomResourceDefinition for " << kind << " in crds/");
  return {};
}

const json& schemaOf(const json& crd) { return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]; }

using Loader = std::function<bool(const json&, const SourceMap&, Diagnostics&)>;

struct Kind {
  std::string name;
  Loader load;  // true when the loader accepted the object
};

const std::vector<Kind>& kinds() {
  static const std::vector<Kind> all = {
      {"Rollout", [](const json& o, const SourceMap& s,
                     Diagnostics& d) { return engine::parseRollout(o, s, d).has_value(); }},
      {"AnalysisTemplate",
       [](const json& o, const SourceMap& s, Diagnostics& d) {
         return analysis::parseAnalysisTemplate(o, s, d).has_value();
       }},
      {"ClusterAnalysisTemplate",
       [](const json& o, const SourceMap& s, Diagnostics& d) {
         return analysis::parseAnalysisTemplate(o, s, d).has_value();
       }},
      {"AnalysisRun", [](const json& o, const SourceMap& s,
                         Diagnostics& d) { return analysis::parseAnalysisRun(o, s, d).has_value(); }},
      {"Experiment", [](const json& o, const SourceMap& s,
                        Diagnostics& d) { return engine::parseExperiment(o, s, d).has_value(); }},
      {"GitRepository", [](const json& o, const SourceMap& s,
                           Diagnostics& d) { return gitops::parseGitRepository(o, s, d).has_value(); }},
      {"Kustomization", [](const json& o, const SourceMap& s,
                           Diagnostics& d) { return gitops::readKustomization(o, s, d).has_value(); }},
      {"Receiver", [](const json& o, const SourceMap& s,
                      Diagnostics& d) { return gitops::parseReceiver(o, s, d).has_value(); }},
  };
  return all;
}

// "spec.steps[3].pause" -> "spec.steps[].pause": one path for every element of a list.
std::string normalized(const std::string& path) {
  static const std::regex index(R"(\[[0-9]+\])");
  return std::regex_replace(path, index, "[]");
}

std::string child(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string parentOf(const std::string& path) {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(0, dot);
}

// Every property path a schema declares ("spec.strategy.canary.steps[].setWeight"), below `metadata`
// excepted (the server's own ObjectMeta).
void collectSchemaPaths(const json& node, const std::string& path, std::set<std::string>& out) {
  if (node.contains("properties")) {
    for (const auto& [key, sub] : node["properties"].items()) {
      const std::string p = child(path, key);
      out.insert(p);
      if (p != "metadata") collectSchemaPaths(sub, p, out);
    }
  }
  if (node.contains("items")) collectSchemaPaths(node["items"], path + "[]", out);
}

// A value of the schema node's type for a field with no properties of its own.
json scalarFor(const json& node) {
  if (node.value("x-kubernetes-int-or-string", false)) return 1;
  const std::string type = node.value("type", "");
  if (type == "string") {
    if (node.contains("enum")) return node["enum"][0];
    if (node.value("format", "") == "date-time") return "2026-01-02T03:04:05Z";
    return "x";
  }
  if (type == "integer") return 1;
  if (type == "number") return 1.5;
  if (type == "boolean") return true;
  if (type == "array") return json::array();
  if (node.contains("additionalProperties")) return json{{"k", scalarFor(node["additionalProperties"])}};
  return json::object();
}

// The smallest value of `node`: its required properties, each at its smallest.
json minimal(const json& node) {
  if (!node.contains("properties")) return scalarFor(node);
  json out = json::object();
  for (const auto& key : node.value("required", json::array())) {
    out[key.get<std::string>()] = minimal(node["properties"][key.get<std::string>()]);
  }
  return out;
}

// One value of `node` per field below it: each holds that field (and the required fields on the way to
// it) and nothing else, so that fields a loader takes as alternatives (a step's kinds, stableIngress or
// stableIngresses) are each read on their own.
std::vector<json> variants(const json& node) {
  std::vector<json> out;
  if (node.contains("properties")) {
    const json base = minimal(node);
    for (const auto& [key, sub] : node["properties"].items()) {
      for (auto& v : variants(sub)) {
        json o = base;
        o[key] = std::move(v);
        out.push_back(std::move(o));
      }
    }
    if (out.empty()) out.push_back(base);
    return out;
  }
  if (node.contains("items")) {
    for (auto& v : variants(node["items"])) out.push_back(json::array({std::move(v)}));
    return out;
  }
  return {scalarFor(node)};
}

// What the loaders asked for while reading.
class Recorder : public json_fields::FieldObserver {
 public:
  void lookedUp(const std::string& objectPath, std::string_view key) override {
    const std::string parent = normalized(objectPath);
    opened.insert(parent);
    read.insert(child(parent, std::string(key)));
  }
  void wrongType(const std::string& path) override { wrongTypes.insert(normalized(path)); }

  std::set<std::string> opened;      // objects the loader read fields of
  std::set<std::string> read;        // fields it asked for, present or not
  std::set<std::string> wrongTypes;  // fields whose schema type the loader refused
};

// Fields on one side only, on purpose.
struct Exception {
  std::string kind;
  std::string path;
  std::string reason;
};

const std::string kRefused =
    "refused by the loader (not supported yet): left out of the schema, so the API server refuses it when "
    "it is applied instead of storing a Rollout the controller cannot run";

std::vector<Exception> loaderOnly() {
  std::vector<Exception> out;
  for (const char* kind : {"AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun"}) {
    const std::string provider = "spec.metrics[].provider";
    for (const char* name : {"datadog", "newRelic", "wavefront", "kayenta", "cloudWatch", "graphite",
                             "influxdb", "skywalking", "plugin"}) {
      out.push_back({kind, provider + "." + name, kRefused});
    }
    out.push_back({kind, provider + ".prometheus.authentication.sigv4", kRefused});
    out.push_back({kind, provider + ".prometheus.authentication.oauth2", kRefused});
    out.push_back({kind, provider + ".web.authentication", kRefused});
  }
  // Flux's fields the GitRepository loader refuses (sources it cannot verify, include or proxy).
  for (const char* field : {"verify", "include", "proxySecretRef", "recurseSubmodules"})
    out.push_back(
        {"GitRepository", std::string("spec.") + field,
         "refused by the loader (not supported yet): left out of the schema, so the API server refuses "
         "a GitRepository that asks for it"});
  // Flux's Kustomization fields not run yet: the loader refuses kubeConfig and decryption through a
  // service account and warns about the others; the schema leaves them out so that the API server does
  // not store what would not run.
  const std::string notRun = "a Flux field not run yet: left out of the schema";
  for (const char* field :
       {"spec.decryption.serviceAccountName", "spec.kubeConfig", "spec.ignoreMissingComponents",
        "spec.healthCheckExprs", "spec.ignore", "spec.buildMetadata"})
    out.push_back({"Kustomization", field, notRun});
  out.push_back(
      {"Receiver", "spec.resourceFilter",
       "refused by the loader (not supported yet): left out of the schema, so the API server refuses "
       "a Receiver that asks for it"});
  return out;
}

// Whether `path` of `kind` is listed in `exceptions`.
bool listed(const std::vector<Exception>& exceptions, const std::string& kind, const std::string& path) {
  for (const auto& e : exceptions) {
    if (e.kind == kind && e.path == path) return true;
  }
  return false;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += "\n  " + s;
  return out;
}

}  // namespace

TEST_CASE("each CRD's schema holds exactly the fields its loader reads, with types the loader accepts",
          "[crds]") {
  for (const Kind& kind : kinds()) {
    DYNAMIC_SECTION(kind.name) {
      const json crd = crdOf(kind.name);
      const json& schema = schemaOf(crd);
      auto compiled = sluice::apiserver::compileSchema(schema);
      INFO((compiled ? std::string() : compiled.error()));
      REQUIRE(compiled.ok());

      std::set<std::string> declared;
      collectSchemaPaths(schema, "", declared);

      // Read one object per schema field, each holding a value of the schema's type: the spec's fields,
      // then the status's beside the smallest spec.
      std::vector<json> objects;
      const json envelope = {{"apiVersion", "sluice.dev/v1alpha1"},
                             {"kind", kind.name},
                             {"metadata", {{"name", "x"}, {"namespace", "default"}}}};
      for (json& spec : variants(schema["properties"]["spec"])) {
        objects.push_back(envelope);
        objects.back()["spec"] = std::move(spec);
      }
      if (schema["properties"].contains("status")) {
        for (json& status : variants(schema["properties"]["status"])) {
          objects.push_back(envelope);
          objects.back()["spec"] = minimal(schema["properties"]["spec"]);
          objects.back()["status"] = std::move(status);
        }
      }
      Recorder recorder;
      for (const json& object : objects) {
        json_fields::ScopedFieldObserver observe(recorder);
        Diagnostics ignored;  // rules between fields are the loader's own tests' business
        kind.load(object, SourceMap(), ignored);
      }
      CHECK(objects.size() > 10);  // the Receiver, the smallest kind, makes 18

      {
        std::vector<std::string> badTypes(recorder.wrongTypes.begin(), recorder.wrongTypes.end());
        INFO("the schema's type is not one the loader reads, at:" << joined(badTypes));
        CHECK(badTypes.empty());
      }

      const auto exceptions = loaderOnly();
      std::vector<std::string> missing;
      for (const auto& path : recorder.read) {
        if (path.rfind("metadata.", 0) == 0) continue;  // ObjectMeta: the server checks it itself
        if (!declared.count(path) && !listed(exceptions, kind.name, path)) missing.push_back(path);
      }
      {
        INFO("the loader reads these fields, the CRD does not declare them:" << joined(missing));
        CHECK(missing.empty());
      }

      // A field is unread only where the loader opens its parent: below a field the loader keeps whole
      // (the pod template, a selector), the schema is the API server's business alone.
      std::vector<std::string> unread;
      for (const auto& path : declared) {
        if (recorder.opened.count(parentOf(path)) && !recorder.read.count(path)) unread.push_back(path);
      }
      {
        INFO("the CRD declares these fields, the loader never reads them:" << joined(unread));
        CHECK(unread.empty());
      }

      // An exception the loader no longer reads is stale: drop it.
      std::vector<std::string> stale;
      for (const auto& e : exceptions) {
        if (e.kind == kind.name && !recorder.read.count(e.path)) stale.push_back(e.path);
      }
      INFO("listed as read by the loader only, but not read:" << joined(stale));
      CHECK(stale.empty());
    }
  }
}

TEST_CASE("every example and test manifest the loaders accept passes its CRD's schema unchanged", "[crds]") {
  std::map<std::string, sluice::apiserver::CompiledSchema> schemas;
  for (const Kind& kind : kinds()) {
    auto compiled = sluice::apiserver::compileSchema(schemaOf(crdOf(kind.name)));
    REQUIRE(compiled.ok());
    schemas[kind.name] = *compiled;
  }
  std::vector<std::filesystem::path> files;
  for (const char* dir : {"examples", "tests/data/lint", "tests/data/analysis"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(kSourceDir / dir)) {
      if (entry.path().extension() == ".yaml") files.push_back(entry.path());
    }
  }
  int accepted = 0;
  for (const auto& file : files) {
    auto docs = loadYamlFile(file.string());
    if (!docs) continue;  // the malformed-YAML cases of the lint tests
    for (const auto& doc : *docs) {
      // kind may be anything in the lint cases (`kind: [Rollout]`): only a string names a kind.
      const auto kindField = doc.json.is_object() ? doc.json.find("kind") : doc.json.end();
      const std::string kindName =
          kindField != doc.json.end() && kindField->is_string() ? kindField->get<std::string>() : "";
      auto kind =
          std::find_if(kinds().begin(), kinds().end(), [&](const Kind& k) { return k.name == kindName; });
      if (kind == kinds().end()) continue;
      Diagnostics diags;
      if (!kind->load(doc.json, doc.source, diags)) continue;  // refused: nothing to apply
      ++accepted;
      // Fields the loader warns it does not know: the server may drop or refuse them too.
      std::set<std::string> warnedUnknown;
      for (const auto& d : diags.items()) {
        if (d.severity == Severity::Warning && d.message == "unknown field") warnedUnknown.insert(d.path);
      }
      json object = doc.json;
      auto outcome = sluice::apiserver::validateAndDefault(schemas[kindName], object,
                                                           sluice::apiserver::FieldValidation::kStrict);
      std::string errors;
      for (const auto& e : outcome.errors) errors += "\n  " + e.message();
      INFO(file.string() << " document " << doc.index << " (" << kindName << ")" << errors);
      CHECK(outcome.errors.empty());
      for (const auto& path : outcome.unknownFields) {
        INFO(file.string() << " document " << doc.index << ": the schema drops " << path
                           << ", which the loader reads");
        CHECK(warnedUnknown.count(path));
      }
    }
  }
  // The examples alone hold seven Rollouts and templates: a walk that found none is broken.
  CHECK(accepted >= 10);
}
