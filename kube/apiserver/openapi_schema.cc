// Structural schema compilation, pruning, defaulting and validation for custom resources, with the
// wording of apiextensions-apiserver's field errors.
#include "kube/apiserver/openapi_schema.h"

#include <re2/re2.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "kube/patch.h"

namespace sluice::apiserver {

using nlohmann::json;

struct SchemaNode {
  std::string type;  // object, array, string, integer, number, boolean; empty for int-or-string/preserve
  bool nullable = false;
  bool preserveUnknown = false;
  bool intOrString = false;
  bool embedded = false;
  std::map<std::string, std::shared_ptr<const SchemaNode>> properties;
  std::vector<std::string> required;
  std::shared_ptr<const SchemaNode> items;
  std::shared_ptr<const SchemaNode> additional;  // additionalProperties as a schema
  bool additionalAny = false;                    // additionalProperties: true
  std::optional<json> defaultValue;
  std::optional<json> enumValues;  // an array
  std::optional<double> minimum, maximum;
  bool exclusiveMinimum = false, exclusiveMaximum = false;
  std::optional<int64_t> minLength, maxLength, minItems, maxItems, minProperties, maxProperties;
  std::shared_ptr<const re2::RE2> pattern;  // Go regexp syntax, as the real server (RE2)
  std::string patternText;
  std::string format;
  std::vector<std::shared_ptr<const SchemaNode>> allOf, anyOf, oneOf;
  std::shared_ptr<const SchemaNode> notSchema;
};

namespace {

// Field paths as field.Path prints them: "spec.replicas", "spec.labels[key]", "spec.items[0]".
std::string dotted(const std::string& parent, const std::string& child) {
  if (parent.empty()) return child;
  std::string out;
  out.reserve(parent.size() + child.size() + 1);
  out.append(parent).append(".").append(child);
  return out;
}
std::string bracketed(const std::string& parent, const std::string& key) {
  std::string out;
  out.reserve(parent.size() + key.size() + 2);
  out.append(parent).append("[").append(key).append("]");
  return out;
}

// ---- Compilation. ----

struct CompileError {
  std::string message;
};

std::optional<int64_t> intKeyword(const json& s, const char* key, const std::string& path) {
  auto it = s.find(key);
  if (it == s.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() || it->get<int64_t>() < 0)
    throw CompileError{path + "." + key + ": Invalid value: " + it->dump() +
                       ": must be a non-negative integer"};
  return it->get<int64_t>();
}

std::optional<double> numberKeyword(const json& s, const char* key, const std::string& path) {
  auto it = s.find(key);
  if (it == s.end() || it->is_null()) return std::nullopt;
  if (!it->is_number())
    throw CompileError{path + "." + key + ": Invalid value: " + it->dump() + ": must be a number"};
  return it->get<double>();
}

bool boolKeyword(const json& s, const char* key, const std::string& path) {
  auto it = s.find(key);
  if (it == s.end() || it->is_null()) return false;
  if (!it->is_boolean())
    throw CompileError{path + "." + key + ": Invalid value: " + it->dump() + ": must be a boolean"};
  return it->get<bool>();
}

std::shared_ptr<const SchemaNode> compileNode(const json& s, const std::string& path, bool root,
                                              bool inJunctor);

std::vector<std::shared_ptr<const SchemaNode>> compileList(const json& s, const char* key,
                                                           const std::string& path) {
  std::vector<std::shared_ptr<const SchemaNode>> out;
  auto it = s.find(key);
  if (it == s.end() || it->is_null()) return out;
  if (!it->is_array()) throw CompileError{path + "." + key + ": Invalid value: must be a list of schemas"};
  for (size_t i = 0; i < it->size(); ++i)
    out.push_back(compileNode((*it)[i], path + "." + key + "[" + std::to_string(i) + "]", false, true));
  return out;
}

std::shared_ptr<const SchemaNode> compileNode(const json& s, const std::string& path, bool root,
                                              bool inJunctor) {
  if (!s.is_object()) throw CompileError{path + ": Invalid value: must be a schema object"};
  for (const char* forbidden :
       {"$ref", "definitions", "dependencies", "patternProperties", "additionalItems", "id", "$schema"}) {
    if (s.contains(forbidden))
      throw CompileError{path + "." + forbidden + ": Forbidden: " + forbidden + " is not supported"};
  }
  auto node = std::make_shared<SchemaNode>();
  if (auto t = s.find("type"); t != s.end() && !t->is_null()) {
    if (!t->is_string())
      throw CompileError{path + ".type: Invalid value: " + t->dump() + ": must be a string"};
    node->type = t->get<std::string>();
    static const std::set<std::string> kTypes = {"array", "boolean", "integer", "number", "object", "string"};
    if (!kTypes.count(node->type))
      throw CompileError{
          path + ".type: Unsupported value: \"" + node->type +
          "\": supported values: \"array\", \"boolean\", \"integer\", \"number\", \"object\", \"string\""};
  }
  node->nullable = boolKeyword(s, "nullable", path);
  node->preserveUnknown = boolKeyword(s, "x-kubernetes-preserve-unknown-fields", path);
  node->intOrString = boolKeyword(s, "x-kubernetes-int-or-string", path);
  node->embedded = boolKeyword(s, "x-kubernetes-embedded-resource", path);
  if (node->intOrString && !node->type.empty())
    throw CompileError{path + ".type: Invalid value: \"" + node->type +
                       "\": must be empty if x-kubernetes-int-or-string is true"};
  if (node->embedded && node->type != "object")
    throw CompileError{path + ".type: Invalid value: \"" + node->type +
                       "\": must be object if x-kubernetes-embedded-resource is true"};
  // Structural: every node outside allOf/anyOf/oneOf/not names its type.
  if (!inJunctor && node->type.empty() && !node->intOrString && !node->preserveUnknown)
    throw CompileError{path + ".type: Required value: must not be empty for specified object fields"};
  if (root && node->type != "object")
    throw CompileError{path + ".type: Invalid value: \"" + node->type + "\": must be object at the root"};

  if (auto p = s.find("properties"); p != s.end() && !p->is_null()) {
    if (!p->is_object()) throw CompileError{path + ".properties: Invalid value: must be an object"};
    for (const auto& [name, sub] : p->items())
      node->properties[name] = compileNode(sub, bracketed(path + ".properties", name), false, inJunctor);
  }
  if (auto a = s.find("additionalProperties"); a != s.end() && !a->is_null()) {
    if (!node->properties.empty())
      throw CompileError{
          path +
          ".additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"};
    if (a->is_boolean()) {
      node->additionalAny = a->get<bool>();
    } else {
      node->additional = compileNode(*a, path + ".additionalProperties", false, inJunctor);
    }
  }
  if (auto r = s.find("required"); r != s.end() && !r->is_null()) {
    if (!r->is_array()) throw CompileError{path + ".required: Invalid value: must be a list of strings"};
    for (const auto& name : *r) {
      if (!name.is_string()) throw CompileError{path + ".required: Invalid value: must be a list of strings"};
      node->required.push_back(name.get<std::string>());
    }
  }
  if (auto i = s.find("items"); i != s.end() && !i->is_null()) {
    if (i->is_array())
      throw CompileError{path + ".items: Forbidden: items must be a schema object and not an array"};
    node->items = compileNode(*i, path + ".items", false, inJunctor);
  }
  if (node->type == "array" && !node->items && !inJunctor)
    throw CompileError{path + ".items: Required value: must be specified"};
  if (auto d = s.find("default"); d != s.end()) node->defaultValue = *d;
  if (auto e = s.find("enum"); e != s.end() && !e->is_null()) {
    if (!e->is_array()) throw CompileError{path + ".enum: Invalid value: must be a list"};
    node->enumValues = *e;
  }
  node->minimum = numberKeyword(s, "minimum", path);
  node->maximum = numberKeyword(s, "maximum", path);
  node->exclusiveMinimum = boolKeyword(s, "exclusiveMinimum", path);
  node->exclusiveMaximum = boolKeyword(s, "exclusiveMaximum", path);
  node->minLength = intKeyword(s, "minLength", path);
  node->maxLength = intKeyword(s, "maxLength", path);
  node->minItems = intKeyword(s, "minItems", path);
  node->maxItems = intKeyword(s, "maxItems", path);
  node->minProperties = intKeyword(s, "minProperties", path);
  node->maxProperties = intKeyword(s, "maxProperties", path);
  if (auto f = s.find("format"); f != s.end() && f->is_string()) node->format = f->get<std::string>();
  if (auto p = s.find("pattern"); p != s.end() && !p->is_null()) {
    if (!p->is_string()) throw CompileError{path + ".pattern: Invalid value: must be a string"};
    node->patternText = p->get<std::string>();
    re2::RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const re2::RE2>(node->patternText, options);
    if (!re->ok())
      throw CompileError{path + ".pattern: Invalid value: \"" + node->patternText +
                         "\": must be a valid regular expression: " + re->error()};
    node->pattern = std::move(re);
  }
  node->allOf = compileList(s, "allOf", path);
  node->anyOf = compileList(s, "anyOf", path);
  node->oneOf = compileList(s, "oneOf", path);
  if (auto n = s.find("not"); n != s.end() && !n->is_null())
    node->notSchema = compileNode(*n, path + ".not", false, true);
  return node;
}

// ---- Validation. ----

std::string typeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    default:
      return "object";
  }
}

// A bad value as field.Error prints it: strings quoted, numbers and booleans bare.
std::string shown(const json& v) {
  if (v.is_string()) return json(v.get<std::string>()).dump();
  if (v.is_number() || v.is_boolean() || v.is_null()) return v.dump();
  return "\"" + typeName(v) + "\"";
}

std::string numberText(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
  std::ostringstream out;
  out << d;
  return out.str();
}

struct Validator {
  FieldValidation mode;
  SchemaOutcome* out;
  bool mutate = true;  // false inside allOf/anyOf/oneOf/not: check only

  void error(const std::string& field, const char* reason, std::string detail) {
    out->errors.push_back(FieldError{field, reason, std::move(detail)});
  }
  void invalid(const std::string& field, const json& value, const std::string& why) {
    error(field, "FieldValueInvalid", "Invalid value: " + shown(value) + ": " + why);
  }
  void typeInvalid(const std::string& field, const std::string& expected, const json& value) {
    error(field, "FieldValueTypeInvalid",
          "Invalid value: \"" + typeName(value) + "\": " + field + " in body must be of type " + expected +
              ": \"" + typeName(value) + "\"");
  }

  bool typeMatches(const SchemaNode& n, const json& v) {
    if (n.intOrString) return v.is_number_integer() || v.is_number_unsigned() || v.is_string();
    if (n.type.empty()) return true;
    if (n.type == "object") return v.is_object();
    if (n.type == "array") return v.is_array();
    if (n.type == "string") return v.is_string();
    if (n.type == "boolean") return v.is_boolean();
    if (n.type == "integer") return v.is_number_integer() || v.is_number_unsigned();
    if (n.type == "number") return v.is_number();
    return true;
  }

  // Drops unknown fields and nulls, applies defaults: the structural steps before validation.
  void pruneAndDefault(const SchemaNode& n, json& v, const std::string& path, bool root) {
    if (v.is_object() && (n.type == "object" || n.embedded)) {
      const bool metaAllowed = root || n.embedded;
      std::vector<std::string> drop;
      for (auto& [k, child] : v.items()) {
        const std::string childPath = dotted(path, k);
        if (metaAllowed && (k == "apiVersion" || k == "kind" || k == "metadata")) continue;
        auto p = n.properties.find(k);
        if (p != n.properties.end()) {
          if (child.is_null() && !p->second->nullable) {
            drop.push_back(k);
            continue;
          }
          pruneAndDefault(*p->second, child, childPath, false);
        } else if (n.additional) {
          pruneAndDefault(*n.additional, child, bracketed(path, k), false);
        } else if (!n.preserveUnknown && !n.additionalAny) {
          drop.push_back(k);
          out->unknownFields.push_back(childPath);
        }
      }
      for (const auto& k : drop) v.erase(k);
      for (const auto& [k, p] : n.properties) {
        if (!v.contains(k) && p->defaultValue) {
          json d = *p->defaultValue;
          pruneAndDefault(*p, d, dotted(path, k), false);
          v[k] = std::move(d);
        }
      }
    } else if (v.is_array() && n.items) {
      for (size_t i = 0; i < v.size(); ++i)
        pruneAndDefault(*n.items, v[i], path + "[" + std::to_string(i) + "]", false);
    }
  }

  // Checks a value; never changes it.
  void check(const SchemaNode& n, const json& v, const std::string& path, bool root) {
    if (v.is_null()) {
      if (n.nullable) return;
      if (!n.type.empty() || n.intOrString) {
        typeInvalid(path, n.intOrString ? "integer,string" : n.type, v);
        return;
      }
    }
    if (!typeMatches(n, v)) {
      typeInvalid(path, n.intOrString ? "integer,string" : n.type, v);
      return;
    }
    if (n.enumValues) {
      bool found = false;
      for (const auto& e : *n.enumValues) found = found || e == v;
      if (!found) {
        std::string supported;
        for (const auto& e : *n.enumValues) supported += (supported.empty() ? "" : ", ") + shown(e);
        error(path, "FieldValueNotSupported",
              "Unsupported value: " + shown(v) + ": supported values: " + supported);
      }
    }
    if (v.is_number()) checkNumber(n, v, path);
    if (v.is_string()) checkString(n, v, path);
    if (v.is_array()) {
      const auto size = static_cast<int64_t>(v.size());
      if (n.maxItems && size > *n.maxItems)
        error(path, "FieldValueTooMany",
              "Too many: " + std::to_string(size) + ": must have at most " + std::to_string(*n.maxItems) +
                  " items");
      if (n.minItems && size < *n.minItems)
        invalid(path, static_cast<int64_t>(size),
                path + " in body should have at least " + std::to_string(*n.minItems) + " items");
      if (n.items)
        for (size_t i = 0; i < v.size(); ++i)
          check(*n.items, v[i], path + "[" + std::to_string(i) + "]", false);
    }
    if (v.is_object()) {
      const auto size = static_cast<int64_t>(v.size());
      if (n.maxProperties && size > *n.maxProperties)
        error(path, "FieldValueTooMany",
              "Too many: " + std::to_string(size) + ": must have at most " +
                  std::to_string(*n.maxProperties) + " items");
      if (n.minProperties && size < *n.minProperties)
        invalid(path, static_cast<int64_t>(size),
                path + " in body should have at least " + std::to_string(*n.minProperties) + " properties");
      for (const auto& name : n.required) {
        if (!v.contains(name)) error(dotted(path, name), "FieldValueRequired", "Required value");
      }
      const bool metaAllowed = root || n.embedded;
      for (const auto& [k, child] : v.items()) {
        if (metaAllowed && (k == "apiVersion" || k == "kind" || k == "metadata")) continue;
        auto p = n.properties.find(k);
        if (p != n.properties.end())
          check(*p->second, child, dotted(path, k), false);
        else if (n.additional)
          check(*n.additional, child, bracketed(path, k), false);
      }
      if (n.embedded) {
        for (const char* key : {"apiVersion", "kind"}) {
          auto it = v.find(key);
          if (it == v.end() || !it->is_string() || it->get<std::string>().empty())
            error(path + "." + key, "FieldValueRequired", "Required value: must not be empty");
        }
      }
    }
    checkJunctors(n, v, path);
  }

  void checkNumber(const SchemaNode& n, const json& v, const std::string& path) {
    const double d = v.get<double>();
    if (n.minimum) {
      if (n.exclusiveMinimum ? d <= *n.minimum : d < *n.minimum)
        invalid(path, v,
                path + " in body should be greater than " + (n.exclusiveMinimum ? "" : "or equal to ") +
                    numberText(*n.minimum));
    }
    if (n.maximum) {
      if (n.exclusiveMaximum ? d >= *n.maximum : d > *n.maximum)
        invalid(path, v,
                path + " in body should be less than " + (n.exclusiveMaximum ? "" : "or equal to ") +
                    numberText(*n.maximum));
    }
    if (n.format == "int32" && (v.is_number_integer() || v.is_number_unsigned())) {
      const bool fits = v.is_number_unsigned()
                            ? v.get<uint64_t>() <= static_cast<uint64_t>(INT32_MAX)
                            : v.get<int64_t>() >= INT32_MIN && v.get<int64_t>() <= INT32_MAX;
      if (!fits) invalid(path, v, path + " in body must be of type int32: " + shown(v));
    }
    if (n.format == "int64" && v.is_number_unsigned() &&
        v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      invalid(path, v, path + " in body must be of type int64: " + shown(v));
  }

  void checkString(const SchemaNode& n, const json& v, const std::string& path) {
    const auto& s = v.get_ref<const std::string&>();
    // Lengths count characters (runes), not bytes, as kube-openapi does.
    int64_t runes = 0;
    for (unsigned char c : s) runes += (c & 0xC0) != 0x80;
    if (n.maxLength && runes > *n.maxLength)
      error(path, "FieldValueTooLong",
            "Too long: may not be more than " + std::to_string(*n.maxLength) + " bytes");
    if (n.minLength && runes < *n.minLength)
      invalid(path, v, path + " in body should be at least " + std::to_string(*n.minLength) + " chars long");
    if (n.pattern && !re2::RE2::PartialMatch(s, *n.pattern))
      invalid(path, v, path + " in body should match '" + n.patternText + "'");
  }

  // Errors a sub-schema reports against v, without touching the outcome.
  std::vector<FieldError> probe(const SchemaNode& n, const json& v, const std::string& path) {
    SchemaOutcome scratch;
    Validator sub{mode, &scratch, false};
    sub.check(n, v, path, false);
    return scratch.errors;
  }

  void checkJunctors(const SchemaNode& n, const json& v, const std::string& path) {
    for (const auto& s : n.allOf) check(*s, v, path, false);
    if (!n.anyOf.empty()) {
      bool any = false;
      for (const auto& s : n.anyOf) any = any || probe(*s, v, path).empty();
      if (!any) invalid(path, v, path + " in body must match at least one schema in anyOf");
    }
    if (!n.oneOf.empty()) {
      int matches = 0;
      for (const auto& s : n.oneOf) matches += probe(*s, v, path).empty() ? 1 : 0;
      if (matches != 1) invalid(path, v, path + " in body must match exactly one schema in oneOf");
    }
    if (n.notSchema && probe(*n.notSchema, v, path).empty())
      invalid(path, v, path + " in body must not validate the schema (not)");
  }
};

}  // namespace

Result<CompiledSchema> compileSchema(const json& openAPIV3Schema) {
  if (kube::nestedDeeperThan(openAPIV3Schema, kube::kMaxJsonNestingDepth))
    return Error{"openAPIV3Schema: nests deeper than " + std::to_string(kube::kMaxJsonNestingDepth) +
                 " levels"};
  try {
    return CompiledSchema(compileNode(openAPIV3Schema, "openAPIV3Schema", true, false));
  } catch (const CompileError& e) {
    return Error{e.message};
  } catch (const json::exception& e) {
    return Error{std::string("openAPIV3Schema: ") + e.what()};
  }
}

SchemaOutcome validateAndDefault(const CompiledSchema& schema, json& object, FieldValidation mode) {
  SchemaOutcome out;
  if (!schema.root()) {
    out.errors.push_back(FieldError{"<root>", "InternalError", "Internal error: no schema"});
    return out;
  }
  if (kube::nestedDeeperThan(object, kube::kMaxJsonNestingDepth)) {
    out.errors.push_back(FieldError{"<root>", "FieldValueInvalid",
                                    "Invalid value: \"object\": nests deeper than " +
                                        std::to_string(kube::kMaxJsonNestingDepth) + " levels"});
    return out;
  }
  Validator v{mode, &out};
  try {
    v.pruneAndDefault(*schema.root(), object, "", true);
    v.check(*schema.root(), object, "", true);
  } catch (const json::exception& e) {
    out.errors.push_back(FieldError{"<root>", "InternalError", std::string("Internal error: ") + e.what()});
  }
  if (!out.unknownFields.empty()) {
    if (mode == FieldValidation::kStrict) {
      out.strictError = "strict decoding error: ";
      for (size_t i = 0; i < out.unknownFields.size(); ++i)
        out.strictError += (i ? ", " : "") + std::string("unknown field \"") + out.unknownFields[i] + "\"";
    } else if (mode == FieldValidation::kWarn) {
      for (const auto& f : out.unknownFields) out.warnings.push_back("unknown field \"" + f + "\"");
    }
  }
  return out;
}

}  // namespace sluice::apiserver
