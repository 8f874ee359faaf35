// CRD schema validation against the documented behaviour of apiextensions-apiserver: structural
// schemas only, pruning of unknown fields, defaulting, and field errors worded as the real server's.
#include <catch2/catch.hpp>

#include "kube/apiserver/openapi_schema.h"

using namespace sluice::apiserver;
using nlohmann::json;

namespace {

const char* const kSchema = R"({
  "type": "object",
  "properties": {
    "spec": {
      "type": "object",
      "required": ["image"],
      "properties": {
        "image": {"type": "string", "minLength": 1, "maxLength": 20, "pattern": "^[a-z0-9.:/-]+$"},
        "replicas": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 100, "default": 1},
        "weight": {"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1},
        "mode": {"type": "string", "enum": ["canary", "blueGreen"], "default": "canary"},
        "paused": {"type": "boolean"},
        "maxSurge": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
        "note": {"type": "string", "nullable": true},
        "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 3}},
        "steps": {
          "type": "array", "maxItems": 2, "minItems": 1,
          "items": {"type": "object", "properties": {"setWeight": {"type": "integer"}, "pause": {"type": "object", "properties": {"duration": {"type": "string", "default": "0s"}}}}}
        },
        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"known": {"type": "integer"}}},
        "template": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object"}}}
      }
    },
    "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
  }
})";

CompiledSchema compiled() {
  auto s = compileSchema(json::parse(kSchema));
  REQUIRE(s.ok());
  return *s;
}

json object(const char* spec) {
  json o = json::parse(R"({"apiVersion":"sluice.dev/v1alpha1","kind":"Rollout","metadata":{"name":"web"}})");
  o["spec"] = json::parse(spec);
  return o;
}

std::vector<std::string> messages(const SchemaOutcome& out) {
  std::vector<std::string> m;
  for (const auto& e : out.errors) m.push_back(e.message());
  return m;
}

}  // namespace

TEST_CASE("schema violations are reported as the real server words them", "[kube][schema]") {
  const auto schema = compiled();
  const std::pair<const char*, const char*> rows[] = {
      {R"({"image":"a","replicas":"three"})",
       R"(spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string")"},
      {R"({"replicas":2})", "spec.image: Required value"},
      {R"({"image":"a","replicas":-1})",
       "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0"},
      {R"({"image":"a","replicas":101})",
       "spec.replicas: Invalid value: 101: spec.replicas in body should be less than or equal to 100"},
      {R"({"image":"a","weight":0})",
       "spec.weight: Invalid value: 0: spec.weight in body should be greater than 0"},
      {R"({"image":"a","mode":"linear"})",
       R"(spec.mode: Unsupported value: "linear": supported values: "canary", "blueGreen")"},
      {R"({"image":""})",
       R"(spec.image: Invalid value: "": spec.image in body should be at least 1 chars long)"},
      {R"({"image":"aaaaaaaaaaaaaaaaaaaaa"})", "spec.image: Too long: may not be more than 20 bytes"},
      {R"({"image":"UPPER"})",
       R"(spec.image: Invalid value: "UPPER": spec.image in body should match '^[a-z0-9.:/-]+$')"},
      {R"({"image":"a","paused":"yes"})",
       R"(spec.paused: Invalid value: "string": spec.paused in body must be of type boolean: "string")"},
      {R"({"image":"a","maxSurge":true})",
       R"(spec.maxSurge: Invalid value: "boolean": spec.maxSurge in body must be of type integer,string: "boolean")"},
      {R"({"image":"a","labels":{"team":"payments"}})",
       "spec.labels[team]: Too long: may not be more than 3 bytes"},
      {R"({"image":"a","steps":[{},{},{}]})", "spec.steps: Too many: 3: must have at most 2 items"},
      {R"({"image":"a","steps":[]})",
       "spec.steps: Invalid value: 0: spec.steps in body should have at least 1 items"},
      {R"({"image":"a","steps":[{"setWeight":"x"}]})",
       R"(spec.steps[0].setWeight: Invalid value: "string": spec.steps[0].setWeight in body must be of type integer: "string")"},
      {R"({"image":"a","replicas":3000000000})",
       "spec.replicas: Invalid value: 3000000000: spec.replicas in body should be less than or equal to 100"},
      {R"({"image":"a","extra":{"known":"x"}})",
       R"(spec.extra.known: Invalid value: "string": spec.extra.known in body must be of type integer: "string")"},
      {R"({"image":"a","template":{"spec":{}}})",
       "spec.template.apiVersion: Required value: must not be empty"},
  };
  for (const auto& [spec, expected] : rows) {
    INFO(spec);
    json o = object(spec);
    auto out = validateAndDefault(schema, o, FieldValidation::kStrict);
    CHECK_FALSE(out.ok());
    CHECK_THAT(messages(out), Catch::VectorContains(std::string(expected)));
  }
}

TEST_CASE("a valid object passes, with defaults applied", "[kube][schema]") {
  const auto schema = compiled();
  json o = object(
      R"({"image":"nginx:1.25","maxSurge":"25%","note":null,"steps":[{"setWeight":20},{"pause":{}}],"extra":{"anything":{"goes":1}},
          "template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{}}})");
  auto out = validateAndDefault(schema, o, FieldValidation::kStrict);
  INFO(json(messages(out)).dump());
  CHECK(out.ok());
  CHECK(o["spec"]["replicas"] == 1);
  CHECK(o["spec"]["mode"] == "canary");
  CHECK(o["spec"]["steps"][1]["pause"]["duration"] == "0s");
  CHECK(o["spec"]["note"].is_null());                       // nullable keeps null
  CHECK(o["spec"]["extra"]["anything"]["goes"] == 1);       // preserve-unknown-fields keeps it
  CHECK(o["spec"]["template"]["metadata"]["name"] == "x");  // embedded resources keep metadata
  CHECK(o["metadata"]["name"] == "web");

  json intSurge = object(R"({"image":"a","maxSurge":3})");
  CHECK(validateAndDefault(schema, intSurge, FieldValidation::kStrict).ok());
}

TEST_CASE("null in a non-nullable field is dropped, and its default applies", "[kube][schema]") {
  const auto schema = compiled();
  json o = object(R"({"image":"a","replicas":null,"paused":null})");
  auto out = validateAndDefault(schema, o, FieldValidation::kStrict);
  CHECK(out.ok());
  CHECK(o["spec"]["replicas"] == 1);
  CHECK_FALSE(o["spec"].contains("paused"));
}

TEST_CASE("unknown fields are pruned, and refused or warned about per fieldValidation", "[kube][schema]") {
  const auto schema = compiled();
  const char* spec = R"({"image":"a","foo":1,"steps":[{"setWeight":1,"bar":2}]})";
  {
    json o = object(spec);
    auto out = validateAndDefault(schema, o, FieldValidation::kStrict);
    CHECK_FALSE(out.ok());
    CHECK(out.errors.empty());
    CHECK(out.strictError ==
          R"(strict decoding error: unknown field "spec.foo", unknown field "spec.steps[0].bar")");
  }
  {
    json o = object(spec);
    auto out = validateAndDefault(schema, o, FieldValidation::kWarn);
    CHECK(out.ok());
    CHECK(out.warnings ==
          std::vector<std::string>{R"(unknown field "spec.foo")", R"(unknown field "spec.steps[0].bar")"});
    CHECK_FALSE(o["spec"].contains("foo"));
    CHECK_FALSE(o["spec"]["steps"][0].contains("bar"));
  }
  {
    json o = object(spec);
    auto out = validateAndDefault(schema, o, FieldValidation::kIgnore);
    CHECK(out.ok());
    CHECK(out.warnings.empty());
    CHECK(out.unknownFields.size() == 2);
    CHECK_FALSE(o["spec"].contains("foo"));
  }
  {
    // apiVersion, kind and metadata are always allowed at the root; anything else there is pruned.
    json o = object(R"({"image":"a"})");
    o["surprise"] = true;
    auto out = validateAndDefault(schema, o, FieldValidation::kStrict);
    CHECK(out.strictError == R"(strict decoding error: unknown field "surprise")");
    CHECK(o.contains("metadata"));
    CHECK(o.contains("kind"));
  }
}

TEST_CASE("only structural schemas compile", "[kube][schema]") {
  const std::pair<const char*, const char*> rows[] = {
      {R"({"type":"object","properties":{"spec":{"properties":{"a":{"type":"string"}}}}})",
       "openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object "
       "fields"},
      {R"({"type":"string"})", "must be object at the root"},
      {R"({"type":"object","properties":{"a":{"type":"list"}}})", R"(Unsupported value: "list")"},
      {R"({"type":"object","properties":{"a":{"type":"array"}}})",
       "openAPIV3Schema.properties[a].items: Required value"},
      {R"({"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"string"}},"additionalProperties":{"type":"string"}}}})",
       "additionalProperties and properties are mutual exclusive"},
      {R"({"type":"object","properties":{"a":{"$ref":"#/definitions/x"}}})", "$ref: Forbidden"},
      {R"({"type":"object","properties":{"a":{"type":"string","pattern":"("}}})",
       "must be a valid regular expression"},
      {R"({"type":"object","properties":{"a":{"type":"string","x-kubernetes-int-or-string":true}}})",
       "must be empty if x-kubernetes-int-or-string is true"},
      {R"({"type":"object","properties":{"a":{"type":"string","maxLength":-1}}})",
       "must be a non-negative integer"},
      {R"([1])", "must be a schema object"},
  };
  for (const auto& [schema, part] : rows) {
    INFO(schema);
    auto s = compileSchema(json::parse(schema));
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.error(), Catch::Contains(part));
  }
}

TEST_CASE("allOf, oneOf and not are checked without pruning", "[kube][schema]") {
  auto s = compileSchema(json::parse(R"({"type":"object","properties":{
      "a":{"type":"integer","allOf":[{"minimum":1}],"not":{"enum":[13]}},
      "b":{"type":"string","oneOf":[{"pattern":"^x"},{"pattern":"y$"}]}}})"));
  REQUIRE(s.ok());
  const std::pair<const char*, bool> rows[] = {
      {R"({"a":2,"b":"xa"})", true}, {R"({"a":0})", false},   {R"({"a":13})", false},
      {R"({"b":"xy"})", false},      {R"({"b":"ay"})", true}, {R"({"b":"ab"})", false},
  };
  for (const auto& [doc, valid] : rows) {
    INFO(doc);
    json o = json::parse(doc);
    CHECK(validateAndDefault(*s, o, FieldValidation::kStrict).ok() == valid);
  }
}

TEST_CASE("a CompiledSchema with nothing compiled reports an error instead of crashing", "[kube][schema]") {
  json o = json::object();
  auto out = validateAndDefault(CompiledSchema{}, o, FieldValidation::kStrict);
  CHECK_FALSE(out.ok());
}

TEST_CASE("patterns use Go's regexp syntax and match long strings in linear time", "[kube][schema]") {
  auto s = compileSchema(json::parse(
      R"({"type":"object","properties":{"a":{"type":"string","pattern":"^(a|b)*$"},"b":{"type":"string","pattern":"^\\p{Lu}\\w+$"}}})"));
  REQUIRE(s.ok());
  json huge = {{"a", std::string(200000, 'a')}};
  CHECK(validateAndDefault(*s, huge, FieldValidation::kStrict).ok());
  huge["a"] = std::string(200000, 'a') + "c";
  CHECK_FALSE(validateAndDefault(*s, huge, FieldValidation::kStrict).ok());
  json unicode = {{"b", "Zebra_1"}};
  CHECK(validateAndDefault(*s, unicode, FieldValidation::kStrict).ok());
  // A pattern Go rejects (backreferences) does not compile.
  auto backref = compileSchema(
      json::parse(R"({"type":"object","properties":{"a":{"type":"string","pattern":"(a)\\1"}}})"));
  REQUIRE_FALSE(backref.ok());
  CHECK_THAT(backref.error(), Catch::Contains("must be a valid regular expression"));
}
