// Argument templating: {{args.name}} placeholders substituted across a whole metric, and the masking of
// secret argument values in every message a run produces.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/model.h"
#include "base/result.h"

namespace sluice::analysis {

// Argument values by name, ready for substitution, and which of them are secret (they came from a
// secretKeyRef) and so must never appear in a message.
struct ResolvedArgs {
  std::map<std::string, std::string> values;
  std::vector<std::string> secrets;  // the secret values themselves
};

// Secret values the controller read for args with a secretKeyRef, by argument name.
using SecretValues = std::map<std::string, std::string>;

// The values of `args`' secretKeyRefs, by arg name, from `findSecret` (the Secret object of a name, or
// nullptr): its data (base64, as the API server stores it) or, in a file not yet applied, its stringData.
// A Secret or key missing is an error as the controller words it: arg "x": key "k" of Secret "s" not found.
Result<SecretValues> readSecretArgs(
    const std::vector<Argument>& args,
    const std::function<const nlohmann::json*(const std::string&)>& findSecret);

// Gives every arg its value: `value`, or for a secretKeyRef the entry of `secrets` under the arg's
// name. An arg with neither (a required arg nobody set, or a secret not read) is an error naming it:
// `argument "service" has no value`. fieldRef args are resolved before the run is created (merge.h);
// one left here is an error too.
Result<ResolvedArgs> resolveArgs(const std::vector<Argument>& args, const SecretValues& secrets);

// Replaces every {{args.NAME}} (spaces allowed inside the braces: {{ args.NAME }}) in `text`. A
// placeholder naming an arg that has no value is an error naming it. Text without "{{args." is returned
// unchanged.
Result<std::string> substituteArgs(std::string_view text, const ResolvedArgs& args);

// The names of the args `text` refers to ({{args.NAME}}), in order, repeats included.
std::vector<std::string> argReferences(std::string_view text);

// `metric` with every string field (conditions, interval, count, query, address, url, headers, body,
// jsonPath, ...) templated. Errors name the arg and are masked.
Result<Metric> resolveMetric(const Metric& metric, const ResolvedArgs& args);

// The secret values themselves, for maskSecrets.
std::vector<std::string> secretValues(const SecretValues& secrets);

// `message` with every occurrence of each secret value replaced by "*****". Empty secrets are skipped.
std::string maskSecrets(std::string message, const std::vector<std::string>& secrets);

}  // namespace sluice::analysis
