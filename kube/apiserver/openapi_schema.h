// Validation of custom resources against a CustomResourceDefinition version's openAPIV3Schema, as the
// real API server does it: unknown fields pruned (or refused with fieldValidation=Strict), defaults
// applied, then every value checked, with errors worded as the server's field errors.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"
#include "kube/field_error.h"

namespace sluice::apiserver {

using kube::FieldError;

struct SchemaNode;  // one compiled node; defined in openapi_schema.cc

// A structural schema compiled once (patterns compiled, keywords checked) and then shared: validation
// only reads it, so one CompiledSchema may be used by several threads at once. Cheap to copy.
class CompiledSchema {
 public:
  CompiledSchema() = default;
  explicit CompiledSchema(std::shared_ptr<const SchemaNode> root) : root_(std::move(root)) {}
  const SchemaNode* root() const { return root_.get(); }

 private:
  std::shared_ptr<const SchemaNode> root_;
};

// Compiles a CRD version's `schema.openAPIV3Schema`. Errors, one message naming the schema path
// (`openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object
// fields`), for a schema that is not structural: a node without a type (unless it is
// x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields), an unknown type, an array
// without items, properties together with additionalProperties, a root that is not an object, a
// pattern RE2 (Go's regexp syntax, as the real server uses) cannot compile, or a forbidden keyword ($ref,
// definitions, dependencies, patternProperties, additionalItems, id, $schema). Pure, thread-safe.
Result<CompiledSchema> compileSchema(const nlohmann::json& openAPIV3Schema);

// The `fieldValidation` query parameter of create, update and patch.
enum class FieldValidation { kIgnore, kWarn, kStrict };

struct SchemaOutcome {
  // Schema violations: the server answers 422 Invalid, listing these.
  std::vector<FieldError> errors;
  // Paths of the fields the schema does not declare (pruned from the object in every mode):
  // "spec.foo", "spec.items[1].bar".
  std::vector<std::string> unknownFields;
  // With FieldValidation::kStrict and unknown fields: the 400 BadRequest message,
  // `strict decoding error: unknown field "spec.foo", unknown field "spec.bar"`. Empty otherwise.
  std::string strictError;
  // With FieldValidation::kWarn: one `unknown field "spec.foo"` per unknown field, for Warning headers.
  std::vector<std::string> warnings;

  bool ok() const { return errors.empty() && strictError.empty(); }
};

// Prunes, defaults and validates `object` (a whole custom resource) in place, in the real server's
// order: unknown fields pruned (apiVersion, kind and metadata are always allowed at the root and in
// x-kubernetes-embedded-resource objects; x-kubernetes-preserve-unknown-fields keeps them), null
// dropped from non-nullable fields, `default`s applied, then types, required, enum, bounds, lengths,
// patterns (Go/RE2 syntax, matched in linear time), item counts, int32/int64 formats and
// allOf/anyOf/oneOf/not checked. Never throws; the object is left pruned and defaulted even when errors are
// reported. Pure; thread-safe for distinct objects.
SchemaOutcome validateAndDefault(const CompiledSchema& schema, nlohmann::json& object, FieldValidation mode);

}  // namespace sluice::apiserver
