// Template merging, as Argo Rollouts builds a run from several (possibly nested) templates.
#include "analysis/merge.h"

#include <algorithm>
#include <map>
#include <set>

#include "analysis/validate.h"
#include "base/json_fields.h"

namespace sluice::analysis {

namespace {

std::string describeTemplate(const AnalysisTemplateRef& ref) {
  return std::string(ref.clusterScope ? kClusterAnalysisTemplateKind : kAnalysisTemplateKind) + " \"" +
         ref.templateName + "\"";
}

class TemplateFlattener {
 public:
  explicit TemplateFlattener(const TemplateLookup& lookup) : lookup_(lookup) {}

  Status add(const AnalysisTemplateRef& ref) {
    const std::string key = describeTemplate(ref);
    if (std::find(stack_.begin(), stack_.end(), key) != stack_.end()) {
      std::string cycle;
      for (auto it = std::find(stack_.begin(), stack_.end(), key); it != stack_.end(); ++it)
        cycle += *it + " -> ";
      return Error{"analysis templates form a cycle: " + cycle + key};
    }
    if (!visited_.insert(key).second) return {};  // a duplicate: taken once
    const AnalysisTemplate* t = lookup_ ? lookup_(ref.templateName, ref.clusterScope) : nullptr;
    if (!t) return Error{key + " not found"};
    stack_.push_back(key);
    for (const auto& m : t->spec.metrics) {
      auto [it, inserted] = metricOwner_.emplace(m.name, key);
      if (!inserted) {
        return Error{"metric \"" + m.name + "\" is defined by both " + it->second + " and " + key};
      }
      spec.metrics.push_back(m);
    }
    for (const auto& a : t->spec.args) {
      if (Status st = addArg(a, key); !st) return st;
    }
    for (const auto& d : t->spec.dryRun) addDryRun(d);
    for (const auto& r : t->spec.measurementRetention) addRetention(r);
    for (const auto& nested : t->spec.templates) {
      if (Status st = add(nested); !st) return st;
    }
    stack_.pop_back();
    return {};
  }

  void addDryRun(const std::string& name) {
    if (std::find(spec.dryRun.begin(), spec.dryRun.end(), name) == spec.dryRun.end())
      spec.dryRun.push_back(name);
  }
  void addRetention(const MeasurementRetention& r) {
    const bool seen =
        std::any_of(spec.measurementRetention.begin(), spec.measurementRetention.end(),
                    [&](const MeasurementRetention& e) { return e.metricName == r.metricName; });
    if (!seen) spec.measurementRetention.push_back(r);
  }

  AnalysisRunSpec spec;

 private:
  Status addArg(const Argument& a, const std::string& owner) {
    auto [it, inserted] = argOwner_.emplace(a.name, owner);
    if (inserted) {
      spec.args.push_back(a);
      return {};
    }
    Argument& existing = *std::find_if(spec.args.begin(), spec.args.end(),
                                       [&](const Argument& e) { return e.name == a.name; });
    const bool hasDefault = a.value || a.secretKeyRef || a.fieldRef;
    const bool existingHasDefault = existing.value || existing.secretKeyRef || existing.fieldRef;
    if (hasDefault && existingHasDefault && !(existing == a)) {
      return Error{"argument \"" + a.name + "\" has different defaults in " + it->second + " and " + owner};
    }
    if (hasDefault) existing = a;
    return {};
  }

  const TemplateLookup& lookup_;
  std::vector<std::string> stack_;
  std::set<std::string> visited_;
  std::map<std::string, std::string> metricOwner_;
  std::map<std::string, std::string> argOwner_;
};

Result<std::string> fieldRefValue(const ArgSources& sources, const std::string& argName,
                                  const std::string& path) {
  if (!sources.fieldRef)
    return Error{"argument \"" + argName + "\": fieldRef " + path + " cannot be resolved here"};
  auto v = sources.fieldRef(path);
  if (!v) return Error{"argument \"" + argName + "\": fieldRef " + path + ": " + v.error()};
  return v;
}

// The value a Rollout arg gives.
Result<std::string> rolloutArgValue(const engine::AnalysisArg& arg, const ArgSources& sources) {
  if (arg.value) return *arg.value;
  if (arg.podTemplateHashValue) {
    return *arg.podTemplateHashValue == "Stable" ? sources.stablePodHash : sources.latestPodHash;
  }
  if (arg.fieldRef) return fieldRefValue(sources, arg.name, *arg.fieldRef);
  return Error{"argument \"" + arg.name + "\" sets no value"};
}

}  // namespace

Result<AnalysisRunSpec> mergeTemplates(const engine::RolloutAnalysis& analysis, const TemplateLookup& lookup,
                                       const ArgSources& sources) {
  TemplateFlattener flat(lookup);
  // The Rollout's dryRun and retention entries come first, so they win over the templates' own.
  for (const auto& d : analysis.dryRun) flat.addDryRun(d);
  for (const auto& r : analysis.measurementRetention) flat.addRetention({r.metricName, r.limit});
  for (const auto& ref : analysis.templates) {
    if (Status st = flat.add(ref); !st) return Error{st.error()};
  }
  AnalysisRunSpec spec = std::move(flat.spec);
  for (const auto& given : analysis.args) {
    auto target = std::find_if(spec.args.begin(), spec.args.end(),
                               [&](const Argument& a) { return a.name == given.name; });
    if (target == spec.args.end()) continue;
    auto value = rolloutArgValue(given, sources);
    if (!value) return Error{value.error()};
    *target = Argument{given.name, *value, std::nullopt, std::nullopt};
  }
  for (auto& a : spec.args) {
    if (a.value || !a.fieldRef) continue;
    auto value = fieldRefValue(sources, a.name, *a.fieldRef);
    if (!value) return Error{value.error()};
    a = Argument{a.name, *value, std::nullopt, std::nullopt};
  }
  Diagnostics diags;
  validateRunSpec(spec, SourceMap(), diags);
  if (diags.hasErrors()) return Error{json_fields::joinErrors(diags)};
  return spec;
}

}  // namespace sluice::analysis
