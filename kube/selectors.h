// Kubernetes label selectors (`app=web,tier!=db,env in (a,b),!legacy`) and field selectors
// (`metadata.name=x,metadata.namespace!=y`): parsed once, then matched against objects. Pure.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sluice::kube {

struct LabelRequirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist, kGreaterThan, kLessThan };
  std::string key;
  Op op = Op::kExists;
  std::set<std::string> values;  // one value for =, ==, !=; the set for in/notin; the number for > and <
};

// A parsed label selector: all requirements must hold (comma means AND). Empty matches everything.
class LabelSelector {
 public:
  // Parses the query-string form. An error names the offending part, as the real server's 400 does.
  static Result<LabelSelector> parse(std::string_view text);
  bool empty() const { return requirements_.empty(); }
  // True when the labels satisfy every requirement. `k!=v` and `k notin (...)` match a missing key.
  bool matches(const std::map<std::string, std::string>& labels) const;
  // The same, reading `metadata.labels` of an object (a missing or malformed map is no labels).
  bool matchesObject(const nlohmann::json& object) const;
  const std::vector<LabelRequirement>& requirements() const { return requirements_; }

 private:
  std::vector<LabelRequirement> requirements_;
};

struct FieldRequirement {
  std::string field;  // e.g. "metadata.name"
  bool equals = true;  // false for !=
  std::string value;
};

// A parsed field selector. Only the fields named in `supported` are accepted at parse time; others are
// the real server's "field label not supported: <field>" error.
class FieldSelector {
 public:
  static Result<FieldSelector> parse(std::string_view text, const std::set<std::string>& supported = {
                                                                  "metadata.name", "metadata.namespace"});
  bool empty() const { return requirements_.empty(); }
  // True when every term holds. Fields are read by dotted path; a missing field reads as "".
  bool matchesObject(const nlohmann::json& object) const;
  const std::vector<FieldRequirement>& requirements() const { return requirements_; }

 private:
  std::vector<FieldRequirement> requirements_;
};

// The labels of an object (`metadata.labels`), string values only.
std::map<std::string, std::string> objectLabels(const nlohmann::json& object);

}  // namespace sluice::kube
